"""Trace a leaked recording back to its run and reviewer batch, from the audio alone.

In:  audio files (anything ffmpeg reads: Ogg/Opus voice notes, MP3, AAC/M4A, WAV, FLAC, video
     containers), the watermark key, and optionally the audit trail (run ids and times).
Out: per file a :class:`TraceResult` — found or not, the run id(s) whose tag the mark carries (from
     the audit trail), the output (reviewer / escalation), the batch, the sync score and the
     false-alarm probability — and one ``trace`` record for the audit trail (file SHA-256s and
     results; never audio, a file name or a path).
Fails: :class:`transforms.core.failures.ClipError` (``audio_unreadable``, ``audio_empty``,
     ``audio_too_long``, ``audio_timeout``…) for a file that cannot be decoded.

A file is *found* when some 3 s window decodes a payload whose CRC-24 matches and whose
false-alarm probability (:func:`transforms.watermark.false_alarm`, counting every window of the
file) is at most 1e-6. The run tag is a 23-bit keyed hash of the run id, so the trail is what turns
it into a run; a tag no run of the trail has is reported as such (a run of another trail, or a
trail that lost a record).
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from transforms import audio_io
from transforms.watermark import MAX_FALSE_ALARM, detect, false_alarm, layout, run_tag
from transforms.watermark.mark import RATE

MAX_DURATION_S = 3600.0
DECODE_TIMEOUT_S = 300.0


class TraceResult(NamedTuple):
    """What one file's audio says."""

    sha256: str
    found: bool
    score: float  # sync score of the window reported
    false_alarm: float  # probability that a file without this key's mark reads this well
    windows: int
    run_tag: int | None = None
    output: str | None = None  # "reviewer" | "escalation"
    batch: int | None = None
    runs: tuple[dict, ...] = ()  # audit-trail run records whose tag matches
    at_s: float | None = None  # where in the file the window starts

    def audit_entry(self) -> dict:
        run_id = self.runs[0]["run_id"] if len(self.runs) == 1 else None
        return {
            "sha256": self.sha256,
            "found": self.found,
            "run_id": run_id,
            "output": self.output,
            "batch": self.batch,
            "score": round(self.score, 3),
            "false_alarm": float(f"{self.false_alarm:.3g}"),
        }


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def trace_samples(samples, key: bytes, runs: list[dict], sha256: str = "", lay=None) -> TraceResult:
    """Trace decoded 16 kHz mono samples; ``runs`` are the audit trail's run records."""
    detections = detect(samples, key, lay or layout(key))
    n = len(detections)
    valid = [d for d in detections if d.crc_ok]
    best = max(valid or detections, key=lambda d: d.score)
    fa = false_alarm(best.score, n) if best.crc_ok else 1.0
    if not best.crc_ok or fa > MAX_FALSE_ALARM:
        return TraceResult(sha256, False, best.score, fa, n)
    tag = best.payload.run_tag
    matches = tuple(r for r in runs if r.get("kind") == "run" and run_tag(key, str(r.get("run_id"))) == tag)
    output = "escalation" if best.payload.escalation else "reviewer"
    return TraceResult(sha256, True, best.score, fa, n, tag, output, best.payload.batch, matches, best.start_s)


def trace_file(path: str, key: bytes, runs: list[dict], lay=None) -> TraceResult:
    """Decode ``path`` with ffmpeg / libsndfile at 16 kHz mono and trace it."""
    samples = audio_io.load(path, RATE, MAX_DURATION_S, timeout_s=DECODE_TIMEOUT_S)
    return trace_samples(samples, key, runs, file_sha256(path), lay)
