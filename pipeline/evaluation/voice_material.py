"""What the voice evaluation's attacker enrols on, is tried on and trains on.

In:  a speech folder with ``manifest.jsonl`` (``path`` relative to the folder, ``speaker``; other
     fields ignored), a choice of speakers (a set of :mod:`pipeline.evaluation.voice_speakers`,
     ``first:N`` or ``all``).
Out: :class:`Item` lists — enrolment and trial speech of the test speakers, training pieces of the
     attacker's speakers — as mono float32 at 16 kHz.
Fails: ``ValueError`` when fewer than two speakers have both enrolment and trial speech, or a
     speaker choice names no speaker of the folder.

Enrolment / trial split (``split``):
- ``halves`` (one utterance per speaker, as in the development folder): enrol on the first half of
  the utterance, try the second half (both ≥ ``min_part_s``): long material for both, unlike 4 s
  segments.
- ``utterances`` (folders with several utterances per speaker): enrol on the first
  ``enrol_utterances`` utterances (the speaker model is the mean of their embeddings), each other
  utterance is one trial.
- ``auto``: ``utterances`` when some speaker has more than ``enrol_utterances`` utterances, else
  ``halves``.
Attacker training pieces: the first two consecutive 4 s pieces of every utterance of the attacker's
speakers (anonymised under two attacker keys: four samples per speaker for the LDA).
"""

from __future__ import annotations

import json
import os
from typing import NamedTuple

import numpy as np

RATE = 16000


class Item(NamedTuple):
    """One piece of speech the evaluation anonymises and embeds."""

    speaker: str
    role: str  # "enrol", "trial" or "train"
    name: str  # utterance id and part, unique within a role
    samples: np.ndarray


def read_manifest(folder: str) -> list[dict]:
    """Rows of ``folder/manifest.jsonl`` that name a path and a speaker."""
    path = os.path.join(folder, "manifest.jsonl")
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                if "path" in row and "speaker" in row:
                    rows.append(row)
    return rows


def cut_segments(samples: np.ndarray, rate: int, segments: int, segment_s: float) -> list[np.ndarray]:
    """Up to ``segments`` consecutive non-overlapping pieces of ``segment_s`` seconds.

    A remainder of at least half a segment becomes a last, shorter piece.
    """
    step = int(segment_s * rate)
    pieces = []
    for i in range(segments):
        piece = samples[i * step : (i + 1) * step]
        if len(piece) >= step // 2:
            pieces.append(piece)
    return pieces


def split_halves(samples: np.ndarray, rate: int, min_part_s: float) -> tuple[np.ndarray, np.ndarray] | None:
    """(first half, second half) of an utterance, or None when a half would be under ``min_part_s``."""
    half = len(samples) // 2
    if half < int(min_part_s * rate):
        return None
    return samples[:half], samples[half:]


def choose_speakers(rows: list[dict], choice: str, exclude: frozenset[str] = frozenset()) -> list[str]:
    """Speakers of ``rows`` (manifest order) named by ``choice``, without ``exclude``.

    ``choice``: a set of :mod:`pipeline.evaluation.voice_speakers` (``test``, ``tune``,
    ``attacker``, ``bank``), ``all``, or ``first:N`` (the first N speakers not excluded).
    """
    from pipeline.evaluation import voice_speakers

    in_order = [s for s in dict.fromkeys(str(r["speaker"]) for r in rows) if s not in exclude]
    if choice == "all":
        chosen = in_order
    elif choice.startswith("first:"):
        chosen = in_order[: int(choice.removeprefix("first:"))]
    elif choice in voice_speakers.SETS:
        wanted = set(voice_speakers.SETS[choice])
        chosen = [s for s in in_order if s in wanted]
    else:
        raise ValueError(f"unknown speaker choice {choice!r}: use {sorted(voice_speakers.SETS)}, all or first:N")
    if not chosen:
        raise ValueError(f"speaker choice {choice!r} names no speaker of this folder")
    return chosen


def load_audio(folder: str, row: dict) -> np.ndarray:
    """One manifest row's audio, mono float32 at 16 kHz."""
    import soundfile as sf
    import soxr

    audio, rate = sf.read(os.path.join(folder, row["path"]), dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)
    if rate != RATE:
        audio = soxr.resample(audio, rate, RATE).astype(np.float32)
    return audio


def resolve_split(rows: list[dict], speakers: list[str], split: str, enrol_utterances: int) -> str:
    """``halves`` or ``utterances`` (``auto`` decided by the utterance counts of ``speakers``)."""
    if split != "auto":
        return split
    wanted = set(speakers)
    counts: dict[str, int] = {}
    for r in rows:
        if str(r["speaker"]) in wanted:
            counts[str(r["speaker"])] = counts.get(str(r["speaker"]), 0) + 1
    return "utterances" if max(counts.values(), default=0) > enrol_utterances else "halves"


def enrolment_and_trials(
    folder: str,
    speakers: list[str],
    split: str = "auto",
    enrol_utterances: int = 3,
    min_part_s: float = 3.0,
    rows: list[dict] | None = None,
) -> tuple[list[Item], list[Item], str]:
    """(enrolment items, trial items, the split used) for ``speakers``; speakers without both are left out."""
    rows = rows if rows is not None else read_manifest(folder)
    split = resolve_split(rows, speakers, split, enrol_utterances)
    by_speaker: dict[str, list[dict]] = {s: [] for s in speakers}
    for r in rows:
        if str(r["speaker"]) in by_speaker:
            by_speaker[str(r["speaker"])].append(r)
    enrol: list[Item] = []
    trials: list[Item] = []
    for speaker, utterances in by_speaker.items():
        if split == "halves":
            parts = split_halves(load_audio(folder, utterances[0]), RATE, min_part_s)
            if parts is None:
                continue
            name = str(utterances[0].get("utt_id", utterances[0]["path"]))
            enrol.append(Item(speaker, "enrol", f"{name}/1", parts[0]))
            trials.append(Item(speaker, "trial", f"{name}/2", parts[1]))
        elif split == "utterances":
            if len(utterances) <= enrol_utterances:
                continue
            for i, row in enumerate(utterances):
                name = str(row.get("utt_id", row["path"]))
                role = "enrol" if i < enrol_utterances else "trial"
                (enrol if role == "enrol" else trials).append(Item(speaker, role, name, load_audio(folder, row)))
        else:
            raise ValueError(f"unknown split {split!r}: use auto, halves or utterances")
    if len({i.speaker for i in trials}) < 2:
        raise ValueError(f"need at least 2 speakers with enrolment and trial speech ({split}), found fewer")
    return enrol, trials, split


def training_pieces(
    folder: str, speakers: list[str], piece_s: float = 4.0, max_pieces: int = 2, rows: list[dict] | None = None
) -> list[Item]:
    """The attacker's training material: the first ``max_pieces`` pieces of each utterance of
    ``speakers`` (× the attacker's keys, several samples per speaker for the LDA)."""
    rows = rows if rows is not None else read_manifest(folder)
    wanted = set(speakers)
    out: list[Item] = []
    for r in rows:
        speaker = str(r["speaker"])
        if speaker not in wanted:
            continue
        name = str(r.get("utt_id", r["path"]))
        for i, piece in enumerate(cut_segments(load_audio(folder, r), RATE, max_pieces, piece_s)):
            out.append(Item(speaker, "train", f"{name}/{i}", piece))
    return out
