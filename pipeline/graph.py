"""The job graph — the only place stages are wired. Read it top to bottom to see the whole job.

    manifest ─► ReadClips ─► RedactTranscript ─► DecodeAudio ─► DisguiseVoice ─► PseudonymizeIds
                                                                                      │
                                                     <output>/reviewer/*.parquet ◄─ WriteReviewerShards
    failures of every stage ─► Flatten ─► WriteQuarantine ─► <output>/quarantine/*.jsonl

Text work comes before audio work: it is cheap, its failures spare the costly audio stages, and
later stages (muting spoken PII) need the entity spans it finds.
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
from transforms.manifest import ReadClips
from transforms.quarantine import WriteQuarantine
from transforms.transcript import RedactTranscript
from transforms.voice import DisguiseVoice
from transforms.write_shards import WriteReviewerShards

REVIEWER_DIR = "reviewer"
QUARANTINE_DIR = "quarantine"


class OutputPaths(NamedTuple):
    """Where each output of a run goes, under one output directory."""

    root: str
    reviewer_prefix: str
    quarantine_prefix: str
    report: str


def output_paths(output_dir: str) -> OutputPaths:
    root = output_dir.rstrip("/")
    return OutputPaths(
        root=root,
        reviewer_prefix=posixpath.join(root, REVIEWER_DIR, "part"),
        quarantine_prefix=posixpath.join(root, QUARANTINE_DIR, "part"),
        report=posixpath.join(root, "run_report.json"),
    )


def build(p: beam.Pipeline, manifest: str, output_dir: str, config: JobConfig, key: KeySource, meta: RunMeta):
    """Add the whole anonymization job to pipeline ``p``."""
    paths = output_paths(output_dir)

    read = p | "ReadClips" >> ReadClips(manifest)
    text = read.main | "RedactTranscript" >> RedactTranscript(config.transcript, config)
    audio = text.main | "DecodeAudio" >> DecodeAudio(config.audio)
    voice = audio.main | "DisguiseVoice" >> DisguiseVoice(config.voice, key)
    ids = voice.main | "PseudonymizeIds" >> PseudonymizeIds(config.identifiers, key)
    shards = ids.main | "WriteReviewerShards" >> WriteReviewerShards(
        paths.reviewer_prefix, meta, key, config.audio.output_format, config.output
    )

    failures = (
        read.failures,
        text.failures,
        audio.failures,
        voice.failures,
        ids.failures,
        shards.failures,
    ) | "AllFailures" >> beam.Flatten()
    failures | "WriteQuarantine" >> WriteQuarantine(paths.quarantine_prefix, meta.run_id)
    return paths
