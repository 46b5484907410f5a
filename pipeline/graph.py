"""The job graph — the only place stages are wired. Read it top to bottom to see the whole job.

    manifest ─► ReadClips ─► ApplyPolicy ─► PseudonymizeIds ─► RedactTranscript ─► DecodeAudio
                 (validate)   (opt-out, deletion,                  (Presidio,            │
    manifest ─► ReadClipKeys ─┤ retention, wake word,              spoken forms)         ▼
                 (ids only)   sampling, escalation)                               DisguiseVoice
                                                                                         │
                                                                                  MuteSpokenPii
                                                                                         │
             <output>/escalation/*.parquet ◄─ escalated ─┬─ SplitEscalated ◄─── MarkAudio
             <output>/reviewer/*.parquet   ◄─ reviewed ──┘
    failures of every stage ─► Flatten ─► WriteQuarantine ─► <output>/quarantine/*.jsonl
    dropped by policy: counted per reason (policy/dropped_<reason>), written nowhere

The manifest is read three times: the keys-only reads feed the policy's side inputs (the
survivor of each repeated clip id, listed accounts), so the full clips, raw transcripts included,
do not wait, materialised, for side inputs computed from themselves; the third read gives only the
rows of repeated ids (found from 8-byte hashes of the ids), which are the only rows ranked. Each
row is read with its position, and the policy keeps the survivor of a repeated id as it streams past: no shuffle and no Flatten on
the clip path, so clips stream from the read to the shard writers on every runner.
Order matters: policy runs before any audio is read, so dropped clips cost nothing;
pseudonyms come next because the voice, review-id and sampling keys are per pseudonym epoch;
text before audio because muting spoken PII needs the entity spans the text stage finds; the
watermark goes in last, after disguise and muting, so the audio reviewers get is what carries it.
"""

from __future__ import annotations

from typing import NamedTuple

import apache_beam as beam

from pipeline.config import JobConfig
from pipeline.layout import OutputPaths, output_paths
from transforms.core.keys import KeySource
from transforms.core.records import RunMeta
from transforms.decode_audio import DecodeAudio
from transforms.identifiers import PseudonymizeIds
from transforms.manifest import ReadClipKeys, ReadClips
from transforms.mute_audio import MuteSpokenPii
from transforms.policy import DELETION, OPT_OUT, ApplyPolicy
from transforms.quarantine import WriteQuarantine
from transforms.transcript import RedactTranscript, read_presidio_files
from transforms.voice import DisguiseVoice
from transforms.watermark import WatermarkKey, resolve_watermark_key
from transforms.watermark_audio import MarkAudio
from transforms.write_shards import WriteReviewerShards


class JobOutputs(NamedTuple):
    """What the job writes: file names of the reviewer, escalation and quarantine shards."""

    reviewer: beam.PCollection
    escalation: beam.PCollection
    quarantine: beam.PCollection


def policy_lists(config: JobConfig) -> dict[str, tuple[str, ...]]:
    """Opt-out and deletion list paths, resolved against the config file's directory."""
    return {
        OPT_OUT: tuple(config.resolve_uri(p) for p in config.policy.opt_out_lists),
        DELETION: tuple(config.resolve_uri(p) for p in config.policy.deletion_lists),
    }


class AnonymizeClips(beam.PTransform):
    """The whole anonymization job: a manifest in, reviewer/escalation shards and quarantine out.

    Applied to a pipeline's root (``p | AnonymizeClips(...)``). Everything a worker needs is read
    here, at construction on the launcher: the opt-out/deletion list paths and the Presidio YAML.
    """

    def __init__(
        self,
        manifest: str,
        paths: OutputPaths,
        config: JobConfig,
        key: KeySource,
        meta: RunMeta,
        watermark_key: WatermarkKey | None = None,
    ):
        super().__init__()
        self._watermark_key = watermark_key or watermark_key_for(config, key)
        self._manifest = manifest
        self._paths = paths
        self._config = config
        self._key = key
        self._meta = meta
        self._lists = policy_lists(config)
        self._presidio = read_presidio_files(config.transcript, config.base_dir)

    def expand(self, pbegin) -> JobOutputs:
        c, key, meta, paths = self._config, self._key, self._meta, self._paths
        months, retention = c.identifiers.epoch_months, c.policy.retention_days

        read = pbegin | "ReadClips" >> ReadClips(self._manifest)
        keys = pbegin | "ReadClipKeys" >> ReadClipKeys(self._manifest)  # for the policy's side inputs
        # Only the rows of repeated clip ids are ranked (a third read, filtered by the ids' hashes),
        # so no runner's shuffle holds a record per clip (the DirectRunner's is in the launcher).
        ranks = pbegin | "ReadRepeatedKeys" >> ReadClipKeys(self._manifest, ranked=True, repeated_in=keys)
        policy = read.main | "ApplyPolicy" >> ApplyPolicy(
            c.policy, self._lists, meta.as_of, key, months, keys=keys, ranks=ranks
        )
        ids = policy.main | "PseudonymizeIds" >> PseudonymizeIds(c.identifiers, key, retention)
        text = ids.main | "RedactTranscript" >> RedactTranscript(c.transcript, self._presidio, key_source=key)
        audio = text.main | "DecodeAudio" >> DecodeAudio(c.audio)
        voice = audio.main | "DisguiseVoice" >> DisguiseVoice(c.voice, key)
        muted = voice.main | "MuteSpokenPii" >> MuteSpokenPii(c.mute)
        marked = muted.main | "MarkAudio" >> MarkAudio(c.watermark, self._watermark_key, meta)

        reviewed, escalated = marked.main | "SplitEscalated" >> beam.Partition(lambda clip, _: int(clip.escalate), 2)
        fmt = c.audio.output_format
        shards = reviewed | "WriteReviewerShards" >> WriteReviewerShards(
            paths.reviewer_prefix, meta, key, fmt, c.output
        )
        restricted = escalated | "WriteEscalationShards" >> WriteReviewerShards(
            paths.escalation_prefix, meta, key, fmt, c.output, stage="encode_escalation"
        )

        failures = (
            read.failures,
            policy.failures,
            ids.failures,
            text.failures,
            audio.failures,
            voice.failures,
            muted.failures,
            marked.failures,
            shards.failures,
            restricted.failures,
        ) | "AllFailures" >> beam.Flatten()
        quarantined = failures | "WriteQuarantine" >> WriteQuarantine(paths.quarantine_prefix, meta.run_id)
        return JobOutputs(shards.written, restricted.written, quarantined)


def watermark_key_for(config: JobConfig, key: KeySource) -> WatermarkKey:
    """The run's watermark key: ``watermark.key_file``, the environment, or the job key's fallback."""
    key_file = config.resolve_uri(config.watermark.key_file) if config.watermark.key_file else ""
    return resolve_watermark_key(key_file, key)


def build(
    p: beam.Pipeline,
    manifest: str,
    output_dir: str,
    config: JobConfig,
    key: KeySource,
    meta: RunMeta,
    watermark_key: WatermarkKey | None = None,
):
    """Add the whole anonymization job to pipeline ``p``; returns where its outputs go."""
    paths = output_paths(output_dir)
    p | "AnonymizeClips" >> AnonymizeClips(manifest, paths, config, key, meta, watermark_key)
    return paths
