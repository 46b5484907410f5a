"""Watermark stage: ``MarkAudio``.

In:  clips after voice disguise and muting (``samples`` at 16 kHz, ``escalate`` set by the policy).
Out: the same clips with a keyed, inaudible mark in ``samples`` that says which run, which output
     (reviewer or escalation) and which reviewer batch they belong to, and that batch in
     ``review_batch`` (a reviewer column). Every clip of a batch carries the same mark: it names no
     speaker, pseudonym or clip (:mod:`transforms.watermark`).
Fails (quarantine, stage ``watermark``): ``no_audio`` — no decoded samples. Nothing leaves
     unmarked.

The mark is defined at 16 kHz. A job configured for another rate (``audio.sample_rate``) has
its clips marked all the same: the mark is made on a 16 kHz copy, and only the change it makes
(marked minus unmarked) is brought back to the clip's rate and added, so what lies above 8 kHz
is untouched and the decoder, which reads any file at 16 kHz, finds the same mark.

The key is the watermark key (:mod:`transforms.watermark.keys`), read once per worker in
``setup()``; the per-batch gain tables are built once per worker and reused for every clip.
"""

from __future__ import annotations

import apache_beam as beam
import numpy as np
import soxr
from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass

from transforms.core.failures import ClipError
from transforms.core.records import Clip, RunMeta
from transforms.core.stage import ClipStageFn, StageOutputs, apply_stage
from transforms.watermark import MAX_BATCHES, Marker, Payload, WatermarkKey, batch_of, run_tag
from transforms.watermark.mark import RATE, STRENGTH

_STRICT = ConfigDict(extra="forbid")


@dataclass(config=_STRICT, frozen=True)
class WatermarkConfig:
    """The reviewer-clip watermark. ``batches``: how many reviewer batches a run's clips are dealt
    into (the unit a reviewer is given); ``key_file``: the watermark key (a hex key file, any Beam
    filesystem; or the VOICEANON_WATERMARK_KEY environment variable) — see transforms/watermark/keys.py."""

    batches: int = Field(16, ge=1, le=MAX_BATCHES)  # reviewer batches per run (column review_batch)
    # Hex watermark key file, kept as long as the audit trail; "" = VOICEANON_WATERMARK_KEY, else
    # derived from a single job key, else a throw-away key (the clips then cannot be traced).
    key_file: str = ""
    strength: float = Field(STRENGTH, ge=0.05, le=0.5)  # the mark's level relative to the speech


def mark_clip(clip: Clip, key: bytes, run_id: str, batches: int, markers: dict, strength: float = STRENGTH) -> Clip:
    """The clip with its batch's mark; ``markers`` caches one :class:`Marker` per (output, batch)."""
    if clip.samples is None or not clip.sample_rate:
        raise ClipError("no_audio", "clip has no decoded audio")
    batch = batch_of(key, run_id, clip.clip_id, batches)
    slot = (bool(clip.escalate), batch)
    marker = markers.get(slot)
    if marker is None:
        marker = markers[slot] = Marker(key, Payload(run_tag(key, run_id), bool(clip.escalate), batch), strength)
    return clip._replace(samples=embed_at_rate(marker, clip.samples, clip.sample_rate), review_batch=batch)


def embed_at_rate(marker: Marker, samples: np.ndarray, rate: int) -> np.ndarray:
    """``samples`` at ``rate`` with the mark: directly at 16 kHz; at any other rate, the mark's
    change to a 16 kHz copy, resampled back to ``rate`` and added."""
    if rate == RATE:
        return marker.embed(samples)
    x = np.asarray(samples, dtype=np.float32)
    low = soxr.resample(x, rate, RATE, quality="HQ").astype(np.float32)
    delta = soxr.resample(marker.embed(low) - low, RATE, rate, quality="HQ").astype(np.float32)
    out = x.copy()
    n = min(len(out), len(delta))
    out[:n] += delta[:n]
    return out


class _MarkAudioFn(ClipStageFn):
    stage = "watermark"

    def __init__(self, config: WatermarkConfig, key: WatermarkKey, run_id: str):
        super().__init__()
        self._config = config
        self._key_source = key
        self._run_id = run_id

    def setup(self):
        self._key = self._key_source.load()
        self._markers: dict = {}

    def handle(self, clip: Clip) -> Clip:
        marked = mark_clip(clip, self._key, self._run_id, self._config.batches, self._markers, self._config.strength)
        self.counters.count(f"batch_{marked.review_batch}")
        return marked


class MarkAudio(beam.PTransform):
    """Embed the run's keyed watermark, with each clip's reviewer batch, in every clip's audio."""

    def __init__(self, config: WatermarkConfig, key: WatermarkKey, meta: RunMeta):
        super().__init__()
        self._fn = _MarkAudioFn(config, key, meta.run_id)

    def expand(self, clips) -> StageOutputs:
        return apply_stage(clips, "Mark", self._fn)
