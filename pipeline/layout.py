"""Where a run's outputs live under ``--output``: the one place these names are spelled.

The job writes them (``pipeline.graph``, ``pipeline.run``), the report counts them
(``pipeline.report``) and the spot-check and ``inspect`` read them (``pipeline.spotcheck``).
"""

from __future__ import annotations

import posixpath
from typing import NamedTuple

REVIEWER_DIR = "reviewer"  # anonymised clips for general review
ESCALATION_DIR = "escalation"  # restricted: clips matching the escalation lexicon
QUARANTINE_DIR = "quarantine"  # failure records, no clip data
LOGS_DIR = "logs"
REPORT_FILE = "run_report.json"
LAUNCHER_LOG = "launcher.log"
SHARD_STEM = "part"
SIGNOFF_FILE = "signoff.json"  # the last sign-off of the run, beside REPORT_FILE
SIGNOFF_FINDINGS_DIR = "signoff"  # under ESCALATION_DIR (restricted): sign-off findings that name a clip
AUDIT_FILE = "audit.jsonl"  # append-only audit trail of the output root (object stores: the prefix audit/)


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
        reviewer_prefix=posixpath.join(root, REVIEWER_DIR, SHARD_STEM),
        escalation_prefix=posixpath.join(root, ESCALATION_DIR, SHARD_STEM),
        quarantine_prefix=posixpath.join(root, QUARANTINE_DIR, SHARD_STEM),
        report=posixpath.join(root, REPORT_FILE),
        log=posixpath.join(root, LOGS_DIR, LAUNCHER_LOG),
    )
