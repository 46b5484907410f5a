"""Typed records passed between stages.

A :class:`Clip` enters after validation with the raw manifest fields and is filled in stage by
stage with ``_replace``; only :func:`transforms.write_shards.to_reviewer_row` turns it into the
reviewer-side dict, and that function names every column it writes, so a raw field cannot slip
through. A :class:`Failure` is what every stage emits instead of a clip it could not handle.
"""

from __future__ import annotations

import datetime
from typing import NamedTuple

import numpy as np


class Word(NamedTuple):
    """One ASR word with its timing in the clip."""

    word: str
    start_s: float
    end_s: float


class Span(NamedTuple):
    """A detected entity: type and character offsets [start, end)."""

    entity_type: str
    start: int
    end: int


class Clip(NamedTuple):
    """One clip on its way through the job. Raw fields never leave the job."""

    clip_id: str
    audio_uri: str
    transcript: str
    account_id: str
    recorded_at: datetime.datetime
    first_name: str = ""
    device_serial: str = ""
    locale: str = ""
    wake_word_detected: bool | None = None
    words: tuple[Word, ...] = ()
    # Filled by the policy stage.
    flags: tuple[str, ...] = ()
    escalate: bool = False
    # Filled by the transcript stage.
    redacted_transcript: str | None = None
    entities: tuple[Span, ...] = ()  # offsets in redacted_transcript
    pii_spans: tuple[Span, ...] = ()  # offsets in the original transcript (internal only)
    # Filled by the audio stages.
    samples: np.ndarray | None = None  # mono float32 in [-1, 1]
    sample_rate: int = 0
    muted_intervals: tuple[tuple[float, float], ...] = ()
    # Filled by the identifier stage.
    speaker_pseudonym: str | None = None
    pseudonym_epoch: str = ""
    pseudonym_expires: datetime.date | None = None  # date by which the epoch's key is destroyed
    # Filled by the watermark stage: the reviewer batch whose mark the audio carries.
    review_batch: int | None = None
    # Set by the manifest stage: where its row was read (file and byte offset, CSV record number,
    # or Parquet row group and row). Tells apart the copies of a repeated clip_id, so the policy
    # stage keeps exactly one without gathering them (transforms.core.dedupe). Never written.
    source_row: str = ""

    def sensitive_values(self) -> tuple[str, ...]:
        """Raw values that must never appear in an output or a message."""
        return tuple(v for v in (self.account_id, self.first_name, self.device_serial, self.audio_uri) if v)


class Failure(NamedTuple):
    """A clip that a stage could not handle. Carries no audio and no transcript text."""

    clip_id: str
    stage: str
    error_type: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return self._asdict()


class RunMeta(NamedTuple):
    """Run-level facts stamped on every reviewer row."""

    run_id: str
    config_hash: str
    pipeline_version: str
    as_of: datetime.datetime | None = None  # "now" for retention decisions
