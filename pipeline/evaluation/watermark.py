"""Watermark evaluation on real speech: robustness per attack, the null distribution (which sets
the detector's false-alarm figures), quality of marked against unmarked audio, and CPU costs.

In:  the development speech folder (``../shared/data/speech``: LibriSpeech train-clean-100, one
     utterance per speaker, 16 kHz FLAC) and its speaker partition
     (:mod:`pipeline.evaluation.voice_speakers`): figures are reported on the 40 TEST speakers;
     the null distribution is measured on the other 211 speakers (it sets a threshold, so it is
     not measured on the speakers the figures are reported on).
Out: plain dicts (the command writes them as JSON and a Markdown table).
Fails: ``FileNotFoundError`` when the speech folder is missing; :class:`AttackError` from ffmpeg.

Robustness protocol: each test utterance is marked whole with its own random payload (run tag,
output, batch), the attack is applied to the whole marked utterance, then a random 3 s excerpt at
an unknown offset is taken (``concatenation``: the excerpt between 1-4 s of two other speakers);
the decoder sees only that excerpt. *Recovered* means the file is found (CRC-24 and false-alarm
probability ≤ 1e-6) and all 32 payload bits equal the embedded ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import soundfile as sf

from pipeline.evaluation import watermark_attacks as wa
from transforms.watermark import MAX_FALSE_ALARM, Marker, Payload, false_alarm, layout
from transforms.watermark.code import MAX_BATCHES, TAG_BITS
from transforms.watermark.mark import RATE, STRENGTH, detect, null_scores, one_blas_thread, window_diffs, windows
from transforms.watermark.null_model import summarise

EXCERPT_S = 3.0


def load_speech(
    speech_dir: str, speakers: Sequence[str] | None = None, exclude: Sequence[str] = ()
) -> list[tuple[str, np.ndarray]]:
    """(speaker, 16 kHz samples) for the manifest's utterances of ``speakers`` (all but ``exclude``)."""
    with open(os.path.join(speech_dir, "manifest.jsonl"), encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    chosen = [r for r in rows if (speakers is None or r["speaker"] in speakers) and r["speaker"] not in exclude]
    out = []
    for row in chosen:
        samples, rate = sf.read(os.path.join(speech_dir, row["path"]), dtype="float32")
        if rate != RATE:
            raise ValueError(f"{row['path']} is not at {RATE} Hz")
        out.append((row["speaker"], samples))
    return out


def disguised(speech: Sequence[tuple[str, np.ndarray]], method: str) -> list[np.ndarray]:
    """Each utterance in its speaker's pseudo-voice under a fixed public evaluation key (the job
    marks disguised audio; the mark then rides on the disguise's output level and spectrum)."""
    from transforms import disguise as voice

    params = voice.build_params(method, {})
    key = hashlib.sha256(b"evaluate-watermark\x1fdisguise").digest()
    return [voice.disguise(x, RATE, method, params, voice.voice_rng(key, spk, "eval", None)) for spk, x in speech]


def random_payload(rng: np.random.Generator) -> Payload:
    return Payload(int(rng.integers(1 << TAG_BITS)), bool(rng.integers(2)), int(rng.integers(MAX_BATCHES)))


def recovered(samples: np.ndarray, key: bytes, lay, payload: Payload) -> bool:
    """Found (CRC and false alarm ≤ 1e-6 over the file's windows) with every payload bit right."""
    dets = detect(samples, key, lay)
    for d in dets:
        if d.crc_ok and d.payload == payload and false_alarm(d.score, len(dets)) <= MAX_FALSE_ALARM:
            return True
    return False


def attack_names() -> list[str]:
    """Every attack :func:`robustness` knows, in its order."""
    return [*wa.attacks(()), "concatenation"]


def robustness(
    test: Sequence[np.ndarray],
    others: Sequence[np.ndarray],
    key: bytes,
    rng: np.random.Generator,
    excerpts: int = 5,
    names: Sequence[str] | None = None,
    mark: Mapping[str, Any] | None = None,
) -> dict[str, dict]:
    """Per attack: excerpts tried, recovered, share. ``mark``: :class:`Marker` options (strength, floor_db)
    of a candidate design; none: the shipped mark."""
    lay = layout(key)
    attacks = wa.attacks(others)
    names = list(names or attack_names())
    tally = {n: [0, 0] for n in names}
    for samples in test:
        payload = random_payload(rng)
        marked = Marker(key, payload, **(mark or {})).embed(samples)
        for name in names:
            attacked = marked if name == "concatenation" else attacks[name](marked, rng)
            for _ in range(excerpts):
                piece, _ = wa.excerpt(attacked, rng, EXCERPT_S)
                if name == "concatenation":
                    piece = wa.concatenate(piece, others, rng)
                tally[name][0] += 1
                tally[name][1] += recovered(piece, key, lay, payload)
    return {n: {"excerpts": t, "recovered": r, "share": r / t} for n, (t, r) in tally.items()}


def null_distribution(
    clips: Sequence[np.ndarray],
    rng: np.random.Generator,
    keys_unmarked: int,
    keys_wrong: int,
    hop_s: float = 1.0,
    mark: Mapping[str, Any] | None = None,
) -> tuple[dict, np.ndarray]:
    """Sync scores and CRC passes on 3 s windows without the detecting key's mark: unmarked speech
    under ``keys_unmarked`` random keys, and speech marked under one key read under ``keys_wrong``
    other keys. Windows every ``hop_s`` seconds."""
    size, hop = int(EXCERPT_S * RATE), int(hop_s * RATE)
    unmarked_layouts = [layout(rng.bytes(32)) for _ in range(keys_unmarked)]
    wrong_layouts = [layout(rng.bytes(32)) for _ in range(keys_wrong)]
    mark_key = rng.bytes(32)
    scores, passes = {"unmarked": [], "wrong_key": []}, {"unmarked": 0, "wrong_key": 0}
    with one_blas_thread():
        for samples in clips:
            marked = Marker(mark_key, random_payload(rng), **(mark or {})).embed(samples)
            for source, audio, lays in (("unmarked", samples, unmarked_layouts), ("wrong_key", marked, wrong_layouts)):
                for a in range(0, max(1, len(audio) - size + 1), hop):
                    diffs = window_diffs(audio[a : a + size])
                    for lay in lays:
                        score, crc_ok = null_scores(diffs, lay)
                        scores[source].append(score)
                        passes[source] += crc_ok
    every = np.array(scores["unmarked"] + scores["wrong_key"])
    sources = {s: {"windows": len(v), "crc_passes": passes[s]} for s, v in scores.items()}
    return summarise(every, passes["unmarked"] + passes["wrong_key"], sources), every


def segmental_snr(clean: np.ndarray, marked: np.ndarray, frame: int = 320) -> float:
    """Segmental SNR (dB) over 20 ms frames whose clean level is within 40 dB of the loudest, each
    frame's SNR clamped to [-10, 35] dB (the usual convention)."""
    n = min(len(clean), len(marked)) // frame * frame
    c, e = clean[:n].reshape(-1, frame), (marked[:n] - clean[:n]).reshape(-1, frame)
    pc, pe = np.sum(c**2, axis=1), np.sum(e**2, axis=1) + 1e-20
    speech = pc > pc.max() * 1e-4
    return float(np.mean(np.clip(10 * np.log10(pc[speech] / pe[speech] + 1e-20), -10, 35)))


def quality(
    test: Sequence[np.ndarray], key: bytes, rng: np.random.Generator, mark: Mapping[str, Any] | None = None
) -> dict:
    """Segmental SNR, and PESQ (wide band) and STOI where those packages are installed."""
    seg, pesq_scores, stoi_scores = [], [], []
    try:
        from pesq import pesq
    except ImportError:
        pesq = None
    try:
        from pystoi import stoi
    except ImportError:
        stoi = None
    for samples in test:
        marked = Marker(key, random_payload(rng), **(mark or {})).embed(samples)
        seg.append(segmental_snr(samples, marked))
        if pesq is not None:
            pesq_scores.append(pesq(RATE, samples, marked, "wb"))
        if stoi is not None:
            stoi_scores.append(stoi(samples, marked, RATE, extended=False))
    out = {"clips": len(test), "segmental_snr_db": _summary(seg)}
    out["pesq_wb"] = _summary(pesq_scores) if pesq_scores else "pesq not installed"
    out["stoi"] = _summary(stoi_scores) if stoi_scores else "pystoi not installed"
    return out


def _summary(values) -> dict:
    v = np.asarray(values, dtype=np.float64)
    return {"mean": round(float(v.mean()), 3), "min": round(float(v.min()), 3), "max": round(float(v.max()), 3)}


def costs(
    test: Sequence[np.ndarray],
    key: bytes,
    rng: np.random.Generator,
    repeats: int = 20,
    mark: Mapping[str, Any] | None = None,
) -> dict:
    """CPU time (process time) to embed into, and decode from, 3 s clips."""
    size = int(EXCERPT_S * RATE)
    clips = [s[:size] for s in test if len(s) >= size]
    marker = Marker(key, random_payload(rng), **(mark or {}))
    lay = layout(key)
    marker.embed(clips[0])
    start = time.process_time()
    for _ in range(repeats):
        for c in clips:
            marker.embed(c)
    embed_ms = (time.process_time() - start) / (repeats * len(clips)) * 1000
    marked = [marker.embed(c) for c in clips]
    start = time.process_time()
    for c in marked:
        detect(c, key, lay)
    decode_ms = (time.process_time() - start) / len(marked) * 1000
    return {"clips": len(clips), "embed_cpu_ms_per_3s": round(embed_ms, 3), "decode_cpu_ms_per_3s": round(decode_ms, 2)}


def wer_paired(
    speech: Sequence[tuple[str, np.ndarray]],
    rng: np.random.Generator,
    method: str = "pseudo_voice",
    draws: int = 2,
    bootstrap: int = 2000,
    mark: Mapping[str, Any] | None = None,
) -> dict:
    """Whisper's word error with and without the mark on the *same* audio, paired per utterance.

    Each test utterance is heard whole: as it is, and in ``draws`` pseudo-voices of ``method``
    (independent public evaluation keys, one voice per speaker and draw, as the job draws them),
    each version unmarked and marked (a fresh mark key and payload per version). The reference is
    Whisper on the original utterance (as in ``evaluate-voice``), so the undisguised unmarked version
    scores 0 by construction. Reported per condition: corpus WER unmarked and marked, their
    difference in points, and a 95 % interval of the difference from a paired bootstrap over
    utterances (the utterance is the unit: its marked and unmarked versions share voice and words).
    Needs the evaluation extras (faster-whisper; :class:`pipeline.evaluation.voice.Models`)."""
    from pipeline.evaluation import voice_metrics as vm
    from pipeline.evaluation.voice import Models
    from transforms import disguise as voice

    models = Models(threads=1)
    originals = [x for _, x in speech]
    refs = [vm.normalise_words(t) for t in models.transcribe(originals)]
    words = np.array([len(r) for r in refs], dtype=np.float64)
    versions = {"undisguised": [originals]}
    if method:
        params = voice.build_params(method, {})
        versions[method] = []
        for draw in range(draws):
            key = hashlib.sha256(f"evaluate-watermark\x1fwer\x1f{method}\x1f{draw}".encode()).digest()
            versions[method].append(
                [voice.disguise(x, RATE, method, params, voice.voice_rng(key, spk, "eval", None)) for spk, x in speech]
            )
    out = {
        "utterances": len(speech),
        "reference_words": int(words.sum()),
        "strength": (mark or {}).get("strength", STRENGTH),
        "floor_db": (mark or {}).get("floor_db"),
    }
    for name, sets in versions.items():
        plain_err, marked_err = [], []
        for audio in sets:
            marked = [Marker(rng.bytes(32), random_payload(rng), **(mark or {})).embed(a) for a in audio]
            for collected, batch in ((plain_err, audio), (marked_err, marked)):
                heard = models.transcribe(batch)
                collected.append([vm.word_errors(r, vm.normalise_words(h)) for r, h in zip(refs, heard, strict=True)])
        plain = np.sum(plain_err, axis=0)  # errors per utterance, summed over draws
        marked_ = np.sum(marked_err, axis=0)
        total = words.sum() * len(sets)
        diff = (marked_ - plain) / total
        boot_idx = rng.integers(0, len(words), size=(bootstrap, len(words)))
        boot = (marked_[boot_idx] - plain[boot_idx]).sum(axis=1) / (words[boot_idx].sum(axis=1) * len(sets))
        out[name] = {
            "draws": len(sets),
            "wer_unmarked": round(100 * plain.sum() / total, 2),
            "wer_marked": round(100 * marked_.sum() / total, 2),
            "change_points": round(100 * diff.sum(), 2),
            "change_95ci_points": [round(100 * float(q), 2) for q in np.quantile(boot, [0.025, 0.975])],
            "utterances_worse_better_same": [
                int(np.sum(marked_ > plain)),
                int(np.sum(marked_ < plain)),
                int(np.sum(marked_ == plain)),
            ],
            # each draw's own change (points): how much of the spread is the draw (voice and mark key)
            "change_points_per_draw": [
                round(100 * float((np.sum(m) - np.sum(p)) / words.sum()), 2)
                for p, m in zip(plain_err, marked_err, strict=True)
            ],
            # errors per utterance (summed over draws) and its reference words, to re-analyse the run
            "errors_unmarked": plain.astype(int).tolist(),
            "errors_marked": marked_.astype(int).tolist(),
            "reference_words_per_utterance": words.astype(int).tolist(),
        }
    return out


def windows_for(seconds: float) -> int:
    """How many analysis windows a file of ``seconds`` has (for false-alarm figures)."""
    return len(windows(int(seconds * RATE)))
