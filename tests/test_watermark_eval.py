"""The watermark evaluation's bookkeeping (``pipeline/evaluation/watermark.py``), without Whisper."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

from pipeline.evaluation import voice as voice_eval
from pipeline.evaluation import watermark as ev
from tests.conftest import SAMPLES
from transforms import audio_io
from transforms.watermark.mark import RATE

WORDS = "the quick brown fox jumps over the lazy dog again".split()


class _FakeAsr:
    """Stands in for Whisper: every word right on audio it heard first (the originals), and on any
    other audio a keyed share of the words dropped, so marked and unmarked versions differ."""

    def __init__(self, threads: int = 1):
        self.originals: set[bytes] = set()

    def transcribe(self, audio):
        texts = []
        for a in audio:
            digest = np.asarray(a, dtype=np.float32).tobytes()
            if not self.originals or digest in self.originals:
                self.originals.add(digest)
                texts.append(" ".join(WORDS))
                continue
            seed = int.from_bytes(hashlib.sha256(digest).digest()[:8], "big")
            drop = np.random.default_rng(seed).random(len(WORDS)) < 0.3
            texts.append(" ".join(w for w, d in zip(WORDS, drop, strict=True) if not d))
        return texts


@pytest.fixture()
def clips():
    x = audio_io.load(os.path.join(SAMPLES, "audio", "clip-0001.wav"), RATE, 600)
    return [("s1", x[: 3 * RATE]), ("s2", x[2 * RATE : 5 * RATE]), ("s3", x[-3 * RATE :])]


def test_when_wer_is_paired_over_draws_then_each_draw_and_utterance_adds_up_to_the_change(monkeypatch, clips):
    monkeypatch.setattr(voice_eval, "Models", _FakeAsr)
    out = ev.wer_paired(clips, np.random.default_rng(3), method="pseudo_voice", draws=2, bootstrap=200)
    r = out["pseudo_voice"]
    words = np.array(r["reference_words_per_utterance"])
    assert r["draws"] == 2 and len(r["change_points_per_draw"]) == 2 and words.sum() == out["reference_words"]
    total = words.sum() * r["draws"]
    marked, unmarked = np.array(r["errors_marked"]), np.array(r["errors_unmarked"])
    assert r["wer_marked"] == pytest.approx(100 * marked.sum() / total, abs=0.01)
    assert r["change_points"] == pytest.approx(100 * (marked - unmarked).sum() / total, abs=0.01)
    # every draw hears the same words, so the change is the mean of the draws' changes
    assert r["change_points"] == pytest.approx(np.mean(r["change_points_per_draw"]), abs=0.02)
    low, high = r["change_95ci_points"]
    assert low <= r["change_points"] <= high
    assert sum(r["utterances_worse_better_same"]) == len(clips)


def test_when_a_candidate_strength_is_given_then_the_robustness_run_marks_with_it(clips):
    test = [x for _, x in clips[:1]]
    one_excerpt = dict(excerpts=1, names=["none"])
    shipped = ev.robustness(test, test, b"k" * 32, np.random.default_rng(5), **one_excerpt)
    unmarked = ev.robustness(test, test, b"k" * 32, np.random.default_rng(5), mark={"strength": 0.0}, **one_excerpt)
    assert shipped["none"]["recovered"] == 1 and unmarked["none"]["recovered"] == 0


def test_when_an_attack_is_unknown_then_the_command_names_the_known_ones_before_any_work(tmp_path):
    import subprocess
    import sys

    (tmp_path / "manifest.jsonl").write_text("")
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "evaluate-watermark", "--speech-dir", str(tmp_path), "--attack", "mp3"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "unknown attack(s) mp3" in done.stderr and "mp3_64k" in done.stderr
