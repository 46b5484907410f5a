"""The job graph — the only place stages are wired. Read it top to bottom to see the whole job.

    manifest ─► ReadClips ─► ApplyPolicy ─► PseudonymizeIds ─► RedactTranscript ─► DecodeAudio
                 (validate)   (opt-out, deletion,                  (Presidio,            │
    manifest ─► ReadClipKeys ─┤ retention, wake word,              spoken forms)         ▼
                 (ids only)   sampling, escalation)                               DisguiseVoice
                                                                                         │
             <output>/escalation/*.parquet ◄─ escalated ─┬─ SplitEscalated ◄─ MuteSpokenPii
             <output>/reviewer/*.parquet   ◄─ reviewed ──┘
    failures of every stage ─► Flatten ─► WriteQuarantine ─► <output>/quarantine/*.jsonl
    dropped by policy: counted per reason (policy/dropped_<reason>), written nowhere

The manifest is read twice: the keys-only read feeds the policy's side inputs (repeated clip
ids, listed accounts), so the full clips, raw transcripts included, do not wait, materialised,
for side inputs computed from themselves. (The FnApiRunner still buffers the audio-less clip
records once, at the Flatten that rejoins deduplicated clips; Dataflow fuses through a Flatten.)
Order matters: policy runs before any audio is read, so dropped clips cost nothing;
pseudonyms come next because the voice, review-id and sampling keys are per pseudonym epoch;
text before audio because muting spoken PII needs the entity spans the text stage finds.
"""

from __future__ import annotations

import posixpath
from typing import NamedTuple

import apache_beam as beam

from pipeline.config import JobConfig
from pipeline.keys import KeySource
from pipeline.records import RunMeta
from transforms.decode_audio import DecodeAudio
from transforms.identifiers import PseudonymizeIds
from transforms.manifest import ReadClipKeys, ReadClips
from transforms.mute_audio import MuteSpokenPii
from transforms.policy import DELETION, OPT_OUT, ApplyPolicy
from transforms.quarantine import WriteQuarantine
from transforms.transcript import RedactTranscript
from transforms.voice import DisguiseVoice
from transforms.write_shards import WriteReviewerShards


class OutputPaths(NamedTuple):
    """Where each output of a run goes, under one output directory."""

    root: str
    reviewer_prefix: str
    escalation_prefix: str
    quarantine_prefix: str
    report: str
    log: str


def output_paths(output_dir: str) -> OutputPaths:
    root = output_dir.rstrip("/")
    return OutputPaths(
        root=root,
        reviewer_prefix=posixpath.join(root, "reviewer", "part"),
        escalation_prefix=posixpath.join(root, "escalation", "part"),
        quarantine_prefix=posixpath.join(root, "quarantine", "part"),
        report=posixpath.join(root, "run_report.json"),
        log=posixpath.join(root, "logs", "launcher.log"),
    )


def policy_lists(config: JobConfig) -> dict[str, tuple[str, ...]]:
    """Opt-out and deletion list paths, resolved against the config file's directory."""
    return {
        OPT_OUT: tuple(config.resolve_uri(p) for p in config.policy.opt_out_lists),
        DELETION: tuple(config.resolve_uri(p) for p in config.policy.deletion_lists),
    }


def build(p: beam.Pipeline, manifest: str, output_dir: str, config: JobConfig, key: KeySource, meta: RunMeta):
    """Add the whole anonymization job to pipeline ``p``."""
    paths = output_paths(output_dir)
    retention = config.policy.retention_days
    months = config.identifiers.epoch_months

    read = p | "ReadClips" >> ReadClips(manifest)
    keys = p | "ReadClipKeys" >> ReadClipKeys(manifest)  # ids only, for the policy's side inputs
    policy = read.main | "ApplyPolicy" >> ApplyPolicy(
        config.policy, policy_lists(config), meta.as_of, key, months, keys=keys
    )
    ids = policy.main | "PseudonymizeIds" >> PseudonymizeIds(config.identifiers, key, retention)
    text = ids.main | "RedactTranscript" >> RedactTranscript(config.transcript, config, key_source=key)
    audio = text.main | "DecodeAudio" >> DecodeAudio(config.audio)
    voice = audio.main | "DisguiseVoice" >> DisguiseVoice(config.voice, key)
    muted = voice.main | "MuteSpokenPii" >> MuteSpokenPii(config.mute)

    reviewed, escalated = muted.main | "SplitEscalated" >> beam.Partition(lambda clip, _: int(clip.escalate), 2)
    fmt = config.audio.output_format
    shards = reviewed | "WriteReviewerShards" >> WriteReviewerShards(
        paths.reviewer_prefix, meta, key, fmt, config.output
    )
    restricted = escalated | "WriteEscalationShards" >> WriteReviewerShards(
        paths.escalation_prefix, meta, key, fmt, config.output, stage="encode_escalation"
    )

    failures = (
        read.failures,
        policy.failures,
        ids.failures,
        text.failures,
        audio.failures,
        voice.failures,
        muted.failures,
        shards.failures,
        restricted.failures,
    ) | "AllFailures" >> beam.Flatten()
    failures | "WriteQuarantine" >> WriteQuarantine(paths.quarantine_prefix, meta.run_id)
    return paths
