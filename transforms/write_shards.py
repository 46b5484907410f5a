"""Output stage: ``WriteReviewerShards``.

In:  fully processed clips (disguised ``samples``, ``redacted_transcript``, ``speaker_pseudonym``).
Out: Parquet shards under a prefix (``<output>/reviewer/`` or the restricted
     ``<output>/escalation/``) written by Beam's Parquet sink against the one explicit
     ``transforms.core.schema.REVIEWER_SCHEMA``; the composite also returns encode failures.
Fails: a clip that cannot be encoded is quarantined (stage ``encode``/``encode_escalation``).

:func:`to_reviewer_row` names every column it writes; raw identifiers, the original transcript,
the audio URI and the original audio have no column to go to.
"""

from __future__ import annotations

from typing import NamedTuple

import apache_beam as beam

from transforms import audio_io
from transforms.core.keys import derive_key, keyed_hex
from transforms.core.records import Clip, RunMeta
from transforms.core.schema import REVIEWER_SCHEMA
from transforms.core.stage import ClipStageFn, apply_stage


def review_id(key: bytes, clip_id: str) -> str:
    """Per-row id: keyed hash of the clip id — random-looking to reviewers, stable across reruns
    with the same key, so a rerun rewrites the same rows instead of adding new ones."""
    return "rev_" + keyed_hex(key, clip_id, 32)


def to_reviewer_row(clip: Clip, meta: RunMeta, review_key: bytes, audio_format: str) -> dict:
    """The reviewer-side row of a clip: the only place a Clip becomes output."""
    audio, mime = audio_io.encode(clip.samples, clip.sample_rate, audio_format)
    return {
        "review_id": review_id(review_key, clip.clip_id),
        "speaker_pseudonym": clip.speaker_pseudonym,
        "pseudonym_epoch": clip.pseudonym_epoch,
        "expires_at": clip.pseudonym_expires,
        "audio": audio,
        "audio_mime": mime,
        "sample_rate": clip.sample_rate,
        "duration_s": round(len(clip.samples) / clip.sample_rate, 4),
        "transcript": clip.redacted_transcript,
        "entities": [{"type": s.entity_type, "start": s.start, "end": s.end} for s in clip.entities],
        "muted_intervals": [{"start_s": a, "end_s": b} for a, b in clip.muted_intervals],
        "recorded_date": clip.recorded_at.date(),
        "locale": clip.locale,
        "flags": list(clip.flags),
        "run_id": meta.run_id,
        "config_hash": meta.config_hash,
        "pipeline_version": meta.pipeline_version,
        "review_batch": clip.review_batch,
    }


class _ToRowFn(ClipStageFn):
    def __init__(self, meta: RunMeta, key_source, audio_format: str, stage: str):
        self.stage = stage  # before super().__init__, which names the counters after it
        super().__init__()
        self._meta = meta
        self._key_source = key_source
        self._format = audio_format

    def setup(self):
        self._keyring = self._key_source.keyring()

    def handle(self, clip: Clip) -> dict:
        key = derive_key(self._keyring.key_for(clip.pseudonym_epoch), "review_id")
        return to_reviewer_row(clip, self._meta, key, self._format)


class ShardOutputs(NamedTuple):
    written: beam.PCollection
    failures: beam.PCollection


class WriteReviewerShards(beam.PTransform):
    """Encode audio, build reviewer rows and write them as Parquet shards."""

    def __init__(self, path_prefix: str, meta: RunMeta, key_source, audio_format: str, output_config, stage="encode"):
        super().__init__()
        self._prefix = path_prefix
        self._fn = _ToRowFn(meta, key_source, audio_format, stage)
        self._output = output_config

    def expand(self, clips) -> ShardOutputs:
        rows = apply_stage(clips, "ToRow", self._fn)
        written = rows.main | "WriteParquet" >> beam.io.WriteToParquet(
            self._prefix,
            REVIEWER_SCHEMA,
            codec=self._output.parquet_codec,
            row_group_buffer_size=int(self._output.row_group_mb * 1024 * 1024),
            record_batch_size=self._output.record_batch_rows,
            num_shards=self._output.num_shards,
            file_name_suffix=".parquet",
        )
        return ShardOutputs(written, rows.failures)
