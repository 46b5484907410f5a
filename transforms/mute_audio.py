"""Spoken-PII muting stage: ``MuteSpokenPii``.

In:  clips after voice disguise, with ``samples``, ``words`` (ASR word timings, may be empty),
     ``transcript`` and ``pii_spans`` (character offsets of detected PII in the ORIGINAL
     transcript, from the transcript stage).
Out: the same clips with every PII word's time interval (plus padding, merged, clipped to the
     clip) replaced by a tone or silence, and those intervals in ``muted_intervals`` (seconds).
Fails (quarantine, stage ``mute``) — privacy fails closed:
     - a PII span that no timed word covers (the words do not match the transcript);
     - PII found but the clip has no word timings, unless ``on_missing_timings: keep``;
     - no decoded samples.
     A clip without PII passes unchanged with no muted intervals.

Muting runs after voice disguise so the tone is not itself disguised and the disguise's
analysis never sees the splice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

import apache_beam as beam
import numpy as np
from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass

from transforms.core.failures import ClipError
from transforms.core.records import Clip, Span, Word
from transforms.core.stage import ClipStageFn, StageOutputs, apply_stage

_STRICT = ConfigDict(extra="forbid")


@dataclass(config=_STRICT, frozen=True)
class MuteConfig:
    """Muting of spoken PII in the audio."""

    padding_s: float = Field(0.08, ge=0.0, le=1.0)
    fill: Literal["tone", "silence"] = "tone"
    tone_hz: float = Field(1000.0, ge=100.0, le=4000.0)
    tone_dbfs: float = Field(-26.0, ge=-60.0, le=-6.0)
    ramp_ms: float = Field(5.0, ge=0.0, le=50.0)
    on_missing_timings: Literal["quarantine", "keep"] = "quarantine"


class MuteError(ClipError, ValueError):
    """PII cannot be located in the audio; the message carries no transcript text."""

    def __init__(self, message: str, code: str = "pii_not_locatable"):
        super().__init__(code, message)


def align_words(transcript: str, words: Sequence[Word]) -> list[tuple[int, int] | None]:
    """Character range of each timed word in ``transcript`` (in order), or None if not found.

    Case-insensitive whole-word match, searched left to right from the end of the previous match, so repeated
    words ("five five five") map to successive occurrences.
    """
    text = transcript.lower()
    cursor = 0
    ranges: list[tuple[int, int] | None] = []
    for word in words:
        token = word.word.strip().lower()
        found = re.compile(r"(?<!\w)" + re.escape(token) + r"(?!\w)").search(text, cursor) if token else None
        if found is None:
            ranges.append(None)
            continue
        ranges.append(found.span())
        cursor = found.end()
    return ranges


def merge_intervals(intervals: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """Sorted, overlapping or touching intervals merged."""
    merged: list[list[float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((a, b) for a, b in merged)


def pii_intervals(
    transcript: str, words: Sequence[Word], pii_spans: Sequence[Span], padding_s: float, duration_s: float
) -> tuple[tuple[float, float], ...]:
    """Time intervals (s) of the words that overlap PII spans, padded, merged, within the clip.

    Raises MuteError when a PII span is covered by no aligned word.
    """
    if not pii_spans:
        return ()
    ranges = align_words(transcript, words)
    intervals = []
    for span in pii_spans:
        hits = [
            w for w, r in zip(words, ranges, strict=True) if r is not None and r[0] < span.end and span.start < r[1]
        ]
        if not hits:
            raise MuteError(f"a {span.entity_type} span is not covered by any timed word")
        for w in hits:
            start = max(0.0, w.start_s - padding_s)
            end = min(duration_s, w.end_s + padding_s)
            if end > start:
                intervals.append((round(start, 3), round(end, 3)))
    return merge_intervals(intervals)


def mute(
    samples: np.ndarray,
    rate: int,
    intervals: Sequence[tuple[float, float]],
    fill: str = "tone",
    tone_hz: float = 1000.0,
    tone_dbfs: float = -26.0,
    ramp_ms: float = 5.0,
) -> np.ndarray:
    """Replace each interval by a tone (with short fades) or silence; nothing of the original stays."""
    out = np.array(samples, dtype=np.float32, copy=True)
    for start_s, end_s in intervals:
        a = max(0, int(np.floor(start_s * rate)))
        b = min(len(out), int(np.ceil(end_s * rate)))
        if b <= a:
            continue
        if fill == "silence":
            out[a:b] = 0.0
            continue
        n = b - a
        tone = 10.0 ** (tone_dbfs / 20.0) * np.sin(2.0 * np.pi * tone_hz * np.arange(n) / rate)
        ramp = min(int(ramp_ms * rate / 1000.0), n // 2)
        if ramp > 0:
            fade = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
            tone[:ramp] *= fade
            tone[n - ramp :] *= fade[::-1]
        out[a:b] = tone.astype(np.float32)
    return out


def mute_clip_audio(clip: Clip, config: MuteConfig) -> tuple[np.ndarray, tuple[tuple[float, float], ...]]:
    """(muted samples, intervals) for one clip, applying the fail-closed rules above."""
    if clip.samples is None or not clip.sample_rate:
        raise MuteError("clip has no decoded audio", "no_audio")
    if not clip.pii_spans:
        return clip.samples, ()
    if not clip.words:
        if config.on_missing_timings == "keep":
            return clip.samples, ()
        raise MuteError("PII found but the clip has no word timings to mute it", "pii_without_timings")
    duration = len(clip.samples) / clip.sample_rate
    intervals = pii_intervals(clip.transcript, clip.words, clip.pii_spans, config.padding_s, duration)
    muted = mute(
        clip.samples, clip.sample_rate, intervals, config.fill, config.tone_hz, config.tone_dbfs, config.ramp_ms
    )
    return muted, intervals


class _MuteSpokenPiiFn(ClipStageFn):
    stage = "mute"

    def __init__(self, config: MuteConfig):
        super().__init__()
        self._config = config

    def handle(self, clip: Clip) -> Clip:
        if clip.pii_spans and not clip.words:
            self.counters.count("pii_without_timings")
        samples, intervals = mute_clip_audio(clip, self._config)
        if intervals:
            self.counters.count("clips_muted")
            self.counters.count("intervals_muted", len(intervals))
        return clip._replace(samples=samples, muted_intervals=intervals)


class MuteSpokenPii(beam.PTransform):
    """Replace the audio of words the transcript stage found to be PII by a tone or silence."""

    def __init__(self, config: MuteConfig | None = None):
        super().__init__()
        self._fn = _MuteSpokenPiiFn(config if config is not None else MuteConfig())

    def expand(self, clips) -> StageOutputs:
        return apply_stage(clips, "Mute", self._fn)
