"""Spoken-PII muting stage: ``MuteSpokenPii``.

In:  clips after voice disguise, with ``samples``, ``words`` (ASR word timings, may be empty),
     ``transcript`` and ``pii_spans`` (character offsets of detected PII in the ORIGINAL
     transcript, from the transcript stage).
Out: the same clips with each PII span's time interval — from the start of its first timed word to
     the end of its last, plus padding, merged, clipped to the clip — replaced by a tone or
     silence, and those intervals in ``muted_intervals`` (seconds). Untimed words inside a span
     are muted with it.
Fails (quarantine, stage ``mute``) — privacy fails closed:
     - ``pii_not_locatable``: a PII span not covered end to end — its first or its last word is not
       aligned to a timed word inside the audio (the words do not match the transcript, or their
       timings lie past the end of the audio);
     - ``pii_without_timings``: PII found but the clip has no word timings, unless
       ``on_missing_timings: keep``;
     - ``no_audio``: no decoded samples.
     A clip without PII passes unchanged with no muted intervals.

A timed word counts only when it lies inside the audio: it starts before the end and ends at most
``END_TOLERANCE_S`` after it (ASR frame rounding and resampling shift the last word's end by a few
milliseconds; a word that ends later was timed against other audio, and muting "up to the end"
would cover only part of it). Words are aligned on folded text (:mod:`transforms.core.text`), so
a zero-width character in the transcript does not hide a word.

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
from transforms.core.text import fold

_STRICT = ConfigDict(extra="forbid")
END_TOLERANCE_S = 0.1  # a timed word may end this far past the end of the audio and still count
_WORD = re.compile(r"\w+")


@dataclass(config=_STRICT, frozen=True)
class MuteConfig:
    """Muting of spoken PII in the audio."""

    padding_s: float = Field(0.08, ge=0.0, le=1.0)  # seconds added before and after each PII word
    fill: Literal["tone", "silence"] = "tone"  # what replaces a PII word in the audio
    tone_hz: float = Field(1000.0, ge=100.0, le=4000.0)  # frequency of the fill tone
    tone_dbfs: float = Field(-26.0, ge=-60.0, le=-6.0)  # level of the fill tone
    ramp_ms: float = Field(5.0, ge=0.0, le=50.0)  # fade at each edge of a muted interval (no clicks)
    # PII found in a transcript whose clip has no word timings: quarantine the clip (fail closed) or
    # keep it with the PII still audible.
    on_missing_timings: Literal["quarantine", "keep"] = "quarantine"


class MuteError(ClipError, ValueError):
    """PII cannot be located in the audio; the message carries no transcript text."""

    def __init__(self, message: str, code: str = "pii_not_locatable"):
        super().__init__(code, message)


def align_words(transcript: str, words: Sequence[Word]) -> list[tuple[int, int] | None]:
    """Character range of each timed word in ``transcript`` (in order), or None if not found.

    Case-insensitive whole-word match on folded text (invisible characters, compatibility forms and
    homoglyphs in mixed-script words do not matter), searched left to right from the end of the
    previous match, so repeated words ("five five five") map to successive occurrences. Ranges are
    in ``transcript``'s own offsets.
    """
    folded = fold(transcript)
    cursor = 0
    ranges: list[tuple[int, int] | None] = []
    for word in words:
        token = fold(word.word).text.strip()
        pattern = re.compile(r"(?<!\w)" + re.escape(token) + r"(?!\w)", re.IGNORECASE) if token else None
        found = pattern.search(folded.text, cursor) if pattern else None
        if found is None:
            ranges.append(None)
            continue
        ranges.append(folded.to_original(*found.span()))
        cursor = found.end()
    return ranges


def inside_audio(word: Word, duration_s: float) -> bool:
    """A timed word inside the audio: it starts before the end and ends at most END_TOLERANCE_S after it."""
    return 0.0 <= word.start_s < duration_s and word.end_s <= duration_s + END_TOLERANCE_S


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
    """Time interval (s) of each PII span — its first timed word's start to its last timed word's end —
    padded, merged, within the clip.

    Raises MuteError when a span's first or last word is not aligned to a timed word inside the audio
    (then part of the span could be spoken outside every muted interval).
    """
    if not pii_spans:
        return ()
    timed = [
        (r, w) for w, r in zip(words, align_words(transcript, words), strict=True) if r and inside_audio(w, duration_s)
    ]
    intervals = []
    for span in pii_spans:
        hits = [w for r, w in timed if r[0] < span.end and span.start < r[1]]
        if not hits:
            raise MuteError(f"a {span.entity_type} span is not covered by any timed word inside the audio")
        if not _covered_end_to_end(transcript, span, [r for r, _ in timed]):
            raise MuteError(f"a {span.entity_type} span is not covered end to end by timed words inside the audio")
        start = max(0.0, min(w.start_s for w in hits) - padding_s)
        end = min(duration_s, max(w.end_s for w in hits) + padding_s)
        if end > start:
            intervals.append((round(start, 3), round(end, 3)))
    return merge_intervals(intervals)


def _covered_end_to_end(transcript: str, span: Span, ranges: Sequence[tuple[int, int]]) -> bool:
    """The span's first and last words (letters or digits) each overlap an aligned, timed word."""
    words = [(m.start() + span.start, m.end() + span.start) for m in _WORD.finditer(transcript[span.start : span.end])]
    if not words:
        return True  # nothing speakable in the span; the hits above cover it
    return all(any(a < r[1] and r[0] < b for r in ranges) for a, b in (words[0], words[-1]))


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
