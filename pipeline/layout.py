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
STAGING_DIR = "_staging"  # <root>/_staging/<run_id>/ holds a run until it is published
LOCK_FILE = "_LOCK"  # names the run that is writing into <root>
SUCCESS_FILE = "_SUCCESS"  # names the run whose files are published under <root>; written last


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


class OutputLocationError(ValueError):
    """``--output`` cannot hold this run's outputs; the message says why."""


def _normalised(path: str) -> tuple[str, str]:
    """(scheme, path) with '..', '.', repeated and trailing slashes resolved; local paths absolute
    with symbolic links followed, so two spellings of one folder compare equal."""
    import os

    if "://" in path:
        scheme, rest = path.split("://", 1)
        return scheme.lower(), posixpath.normpath("/" + rest)
    return "", os.path.realpath(path)


def check_output_location(input_manifest: str, output_dir: str) -> None:
    """Refuse an ``--output`` that is an existing file (or lies inside one), or a folder that is the
    manifest's own folder or holds it: a run's output tree is what reviewers are given and what the
    leak check scans, so the raw manifest (and its audio) must not lie inside it, and the outputs
    must not mix with the raw files. A folder *inside* the manifest's folder (``in/out``) is fine:
    nothing raw lies under it. Raises OutputLocationError (a ValueError)."""
    import os

    out_scheme, out = _normalised(output_dir)
    in_scheme, manifest = _normalised(input_manifest)
    folder = posixpath.dirname(manifest) if in_scheme else os.path.dirname(manifest)
    if out_scheme == in_scheme and (out == folder or folder.startswith(out.rstrip("/") + "/")):
        raise OutputLocationError(
            f"--output {output_dir!r} is, or holds, the folder of the input manifest; "
            "write the outputs to a folder of their own (a new subfolder is fine)"
        )
    if out_scheme:
        from apache_beam.io.filesystems import FileSystems

        try:
            matched = FileSystems.match([output_dir.rstrip("/")])[0].metadata_list
        except Exception:  # noqa: BLE001 - nothing there (or not listable): not a file
            matched = []
        if any(m.path.rstrip("/") == output_dir.rstrip("/") for m in matched):
            raise OutputLocationError(f"--output {output_dir!r} is a file; name a folder")
        return
    ancestor = out
    while not os.path.exists(ancestor) and os.path.dirname(ancestor) != ancestor:
        ancestor = os.path.dirname(ancestor)
    if not os.path.isdir(ancestor):
        where = "is a file" if ancestor == out else "lies inside a file"
        raise OutputLocationError(f"--output {output_dir!r} {where}; name a folder")
