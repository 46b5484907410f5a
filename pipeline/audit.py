"""The audit trail: one append-only record per run, per sign-off and per trace, for auditors.

In:  a finished run's report (``run_report.json`` as a dict) with the manifest's fingerprint, the
     key source kind and the pseudonym epochs used; or a sign-off result (``signoff.json``); or the
     results of tracing leaked files (:func:`trace_record`).
Out: records appended to the audit trail — by default ``DIR/audit.jsonl`` beside the run's
     outputs (:func:`default_audit_path`), or any configured path on any Beam filesystem — and
     read back in order (:func:`read`).
Fails: :class:`AuditError` for a record that is not of a known shape (a field we do not know, a
     value that is not the type or pattern it must be: the guard against a raw identifier,
     transcript text or key slipping in) or a trail that cannot be written.

What a record holds, and never holds. A run record: time, run id, config hash, pipeline version,
``manifest_sha256`` (the manifest's bytes, streamed), the key source *kind* (``file``, ``env``,
``ephemeral``) and epoch ids (``YYYY-MM``) — never a key, a key file path or key-derived material —
counts per outcome, the reconciliation and the leak check's pass/fail and counts (not its
findings). A sign-off record: time, run id, config hash, checker name, sample seed and size, claim,
verdict counts per kind, the bound and the result. A trace record (``python -m pipeline trace``):
time, who traced, and per traced file its SHA-256, found or not, run id, output, batch, sync score
and false-alarm probability — never the audio, a file name or a path. No record names a clip (not even by review id),
holds a transcript, a note or a raw identifier: fields are copied from a fixed list, and every
string field is checked against the pattern it must match.

How "append-only" is kept:

- **Local files**: the file is opened with ``O_APPEND``, an exclusive ``flock`` is held while the
  line is written, and the line is ``fsync``-ed before the lock is released; a line left without
  its newline by a crash is closed before the next one. Nothing ever rewrites the file.
- **Object stores** (``gs://``, ``s3://``, any ``scheme://`` Beam filesystem), which cannot append:
  the trail ``P.jsonl`` is the prefix ``P/``, and each record is its own object
  ``P/<UTC time to the microsecond>-<kind>-<random>.json``, created once and never overwritten.
  :func:`read` lists the prefix and returns the records ordered by object name, i.e. by the time
  they were written (the writer's clock). Make the prefix immutable with the store's own controls
  (a bucket retention policy or object lock) where an auditor needs more than convention.

A line that does not parse is returned as ``{"kind": "unreadable", "line": n}`` so a damaged trail
shows up in ``python -m pipeline audit`` instead of disappearing from it.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import posixpath
import re
import secrets
from collections.abc import Iterable
from typing import Any

from pipeline.layout import AUDIT_FILE

RUN, SIGNOFF, TRACE = "run", "signoff", "trace"
KEY_KINDS = ("file", "env", "ephemeral")
READ_CHUNK = 1 << 20


class AuditError(RuntimeError):
    """A record of the wrong shape, or a trail that cannot be written; the message holds no value."""


def default_audit_path(output_root: str) -> str:
    """``<output root>/audit.jsonl`` (on object stores: the prefix ``<output root>/audit/``)."""
    return posixpath.join(output_root.rstrip("/"), AUDIT_FILE)


def is_remote(path: str) -> bool:
    return "://" in path


def records_prefix(audit_path: str) -> str:
    """Where an object store keeps the trail's records: ``P.jsonl`` -> ``P/``."""
    stem = audit_path[: -len(".jsonl")] if audit_path.endswith(".jsonl") else audit_path
    return stem.rstrip("/") + "/"


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")


def manifest_fingerprint(path: str) -> str:
    """``sha256:<hex>`` of the manifest's bytes, read in 1 MiB chunks (any Beam filesystem)."""
    from apache_beam.io.filesystems import FileSystems

    digest = hashlib.sha256()
    with FileSystems.open(path, compression_type="uncompressed") as handle:
        while chunk := handle.read(READ_CHUNK):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def output_epochs(output_root: str) -> list[str]:
    """The pseudonym epochs of a run's reviewer and escalation rows (one column, read from each shard)."""
    from apache_beam.io.filesystems import FileSystems

    from pipeline.layout import ESCALATION_DIR, REVIEWER_DIR, SHARD_STEM
    from pipeline.parquet_io import open_parquet

    epochs: set[str] = set()
    for directory in (REVIEWER_DIR, ESCALATION_DIR):
        pattern = posixpath.join(output_root.rstrip("/"), directory, SHARD_STEM + "*.parquet")
        for meta in FileSystems.match([pattern])[0].metadata_list:
            with open_parquet(meta.path) as parquet:
                if "pseudonym_epoch" in parquet.schema_arrow.names:
                    column = parquet.read(columns=["pseudonym_epoch"], use_threads=False).column(0)
                    epochs.update(e for e in column.to_pylist() if e)
    return sorted(epochs)


# ---- record shapes -------------------------------------------------------------------------

_PATTERNS = {
    "time": r"\d{4}-\d{2}-\d{2}T[\d:.]+(\+00:00|Z)",
    "run_id": r"[A-Za-z0-9._:-]{1,80}",
    "config_hash": r"[0-9a-f]{8,64}",
    "pipeline_version": r"[A-Za-z0-9.+_-]{1,40}",
    "manifest_sha256": r"sha256:[0-9a-f]{64}",
    "verdict_sha256": r"sha256:[0-9a-f]{64}",
    "file_sha256": r"sha256:[0-9a-f]{64}",
    "epoch": r"\d{4}-\d{2}",
    "name": r"[a-z][a-z0-9_]{0,63}",  # outcome, stage, reason and verdict kind names
    "mode": r"claim|fixed",
}
_CHECKER = re.compile(r"[^\x00-\x1f\x7f]{1,100}")
_REASON = re.compile(r"[A-Za-z0-9 .,;:()%<>=/_'-]{0,300}")


def _match(pattern: str, value: Any, field: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(_PATTERNS[pattern], value):
        raise AuditError(f"audit field {field!r} is not a {pattern} value")
    return value


def _count(value: Any, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise AuditError(f"audit field {field!r} is not a count")
    return value


def _counts(value: Any, field: str) -> dict[str, int]:
    if not isinstance(value, dict):
        raise AuditError(f"audit field {field!r} is not a table of counts")
    return {_match("name", k, field): _count(v, f"{field}.{k}") for k, v in sorted(value.items())}


def _rate(value: Any, field: str, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
        raise AuditError(f"audit field {field!r} is not a rate")
    return float(value)


def _flag(value: Any, field: str, optional: bool = False) -> bool | None:
    if value is None and optional:
        return None
    if not isinstance(value, bool):
        raise AuditError(f"audit field {field!r} is not true/false")
    return value


def run_record(
    report: dict, *, manifest_fingerprint: str, key_kind: str, epochs: Iterable[str], time: str | None = None
) -> dict[str, Any]:
    """The audit record of one run, from its run report (fields copied from a fixed list)."""
    if key_kind not in KEY_KINDS:
        raise AuditError(f"key source kind must be one of {', '.join(KEY_KINDS)}")
    leak = report.get("leak_check")
    leak_summary = None
    if isinstance(leak, dict):
        leak_summary = {
            "passed": _flag(leak.get("passed"), "leak_check.passed"),
            "leaks": _count(leak.get("leaks", 0), "leak_check.leaks"),
            "files_scanned": _count(leak.get("files_scanned", 0), "leak_check.files_scanned"),
        }
    record = {
        "kind": RUN,
        "time": time or report.get("finished_at") or now_iso(),
        "run_id": report.get("run_id"),
        "config_hash": report.get("config_hash"),
        "pipeline_version": report.get("pipeline_version"),
        "manifest_sha256": manifest_fingerprint,
        "key_source": key_kind,
        "epochs": sorted(set(epochs)),
        "outcomes": report.get("outcomes") or {},
        "policy_dropped_by_reason": report.get("policy_dropped_by_reason") or {},
        "quarantined_by_stage": report.get("quarantined_by_stage") or {},
        "reconciled": report.get("reconciled"),
        "leak_check": leak_summary,
        "published": report.get("published"),
    }
    if isinstance(report.get("watermark"), dict):  # which watermark key (kind only) and how many batches
        record["watermark"] = {"key": report["watermark"].get("key"), "batches": report["watermark"].get("batches")}
    return check_record(record)


def signoff_record(signoff: dict, *, time: str | None = None) -> dict[str, Any]:
    """The audit record of one sign-off, from its ``signoff.json`` (no clip, no note)."""
    claim = signoff.get("claim") or {}
    sample = signoff.get("sample") or {}
    bound = signoff.get("bound") or {}
    record = {
        "kind": SIGNOFF,
        "time": time or signoff.get("signed_at") or now_iso(),
        "run_id": signoff.get("run_id"),
        "config_hash": signoff.get("config_hash"),
        "checker": signoff.get("checker"),
        "verdict_sha256": signoff.get("verdict_sha256"),
        "seed": sample.get("seed"),
        "mode": sample.get("mode"),
        "population": sample.get("population"),
        "sampled": sample.get("drawn"),
        "checked": signoff.get("checked"),
        "max_leak_rate": claim.get("max_leak_rate"),
        "confidence": claim.get("confidence"),
        "verdicts": signoff.get("verdicts") or {},
        "upper_leak_rate": bound.get("upper_leak_rate"),
        "run_leak_check_passed": signoff.get("run_leak_check_passed"),
        "supported": signoff.get("supported"),
        "reason": signoff.get("reason", ""),
    }
    return check_record(record)


def trace_record(tracer: str, results: list[dict], *, time: str | None = None) -> dict[str, Any]:
    """The audit record of one ``pipeline trace``: who traced, and per file its SHA-256 and what the
    mark said (found or not, run id, output, batch, sync score, false-alarm probability) — never
    the audio, a file name or a path."""
    record = {
        "kind": TRACE,
        "time": time or now_iso(),
        "tracer": tracer,
        "files": len(results),
        "found": sum(1 for r in results if r.get("found")),
        "results": [
            {k: r.get(k) for k in ("sha256", "found", "run_id", "output", "batch", "score", "false_alarm")}
            for r in results
        ],
    }
    return check_record(record)


def check_record(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` if every field is one we know, of the type and pattern it must have."""
    kind = record.get("kind")
    fields = {RUN: _RUN_FIELDS, SIGNOFF: _SIGNOFF_FIELDS, TRACE: _TRACE_FIELDS}.get(kind)
    if fields is None:
        raise AuditError("audit record kind must be 'run', 'signoff' or 'trace'")
    unknown = set(record) - set(fields) - {"kind"}
    if unknown:
        raise AuditError(f"unknown audit field(s): {', '.join(sorted(unknown))}")
    for field, check in fields.items():
        check(record.get(field), field)
    return record


def _optional(check):
    return lambda value, field: None if value is None else check(value, field)


def _epochs(value, field):
    if not isinstance(value, list):
        raise AuditError(f"audit field {field!r} is not a list")
    return [_match("epoch", e, field) for e in value]


def _leak_summary(value, field):
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"passed", "leaks", "files_scanned"}:
        raise AuditError(f"audit field {field!r} is not a leak-check summary")
    _flag(value["passed"], field)
    _count(value["leaks"], field)
    _count(value["files_scanned"], field)
    return value


def _watermark(value, field):
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"key", "batches"}:
        raise AuditError(f"audit field {field!r} is not a watermark summary")
    if value["key"] not in ("file", "env", "derived", "ephemeral"):
        raise AuditError(f"audit field {field!r} is not a watermark key kind")
    _count(value["batches"], field)
    return value


def _key_kind(value, field):
    if value not in KEY_KINDS:
        raise AuditError(f"audit field {field!r} is not a key source kind")
    return value


def _checker(value, field):
    if not isinstance(value, str) or not _CHECKER.fullmatch(value):
        raise AuditError(f"audit field {field!r} is not a checker name")
    return value


def _reason(value, field):
    if not isinstance(value, str) or not _REASON.fullmatch(value):
        raise AuditError(f"audit field {field!r} is not a plain reason")
    return value


_RUN_FIELDS = {
    "time": lambda v, f: _match("time", v, f),
    "run_id": lambda v, f: _match("run_id", v, f),
    "config_hash": lambda v, f: _match("config_hash", v, f),
    "pipeline_version": lambda v, f: _match("pipeline_version", v, f),
    "manifest_sha256": lambda v, f: _match("manifest_sha256", v, f),
    "key_source": lambda v, f: _key_kind(v, f),
    "epochs": _epochs,
    "outcomes": _counts,
    "policy_dropped_by_reason": _counts,
    "quarantined_by_stage": _counts,
    "reconciled": lambda v, f: _flag(v, f, optional=True),
    "leak_check": _leak_summary,
    "published": lambda v, f: _flag(v, f, optional=True),
    "watermark": lambda v, f: _watermark(v, f),
}


def _trace_results(value, field):
    if not isinstance(value, list):
        raise AuditError(f"audit field {field!r} is not a list")
    for item in value:
        if not isinstance(item, dict):
            raise AuditError(f"audit field {field!r} holds a non-record")
        _match("file_sha256", item.get("sha256"), f"{field}.sha256")
        _flag(item.get("found"), f"{field}.found")
        if item.get("run_id") is not None:
            _match("run_id", item["run_id"], f"{field}.run_id")
        if item.get("output") not in (None, "reviewer", "escalation"):
            raise AuditError(f"audit field {field}.output is not reviewer/escalation")
        if item.get("batch") is not None:
            _count(item["batch"], f"{field}.batch")
        for name in ("score", "false_alarm"):
            v = item.get(name)
            if v is not None and (not isinstance(v, int | float) or isinstance(v, bool)):
                raise AuditError(f"audit field {field}.{name} is not a number")
        if set(item) - {"sha256", "found", "run_id", "output", "batch", "score", "false_alarm"}:
            raise AuditError(f"unknown field in {field!r}")
    return value


_TRACE_FIELDS = {
    "time": lambda v, f: _match("time", v, f),
    "tracer": _checker,
    "files": _count,
    "found": _count,
    "results": _trace_results,
}
_SIGNOFF_FIELDS = {
    "time": lambda v, f: _match("time", v, f),
    "run_id": lambda v, f: _match("run_id", v, f),
    "config_hash": lambda v, f: _match("config_hash", v, f),
    "checker": _checker,
    "verdict_sha256": lambda v, f: _match("verdict_sha256", v, f),
    "seed": _count,
    "mode": lambda v, f: _match("mode", v, f),
    "population": _count,
    "sampled": _count,
    "checked": _count,
    "max_leak_rate": lambda v, f: _rate(v, f, optional=True),
    "confidence": _rate,
    "verdicts": _counts,
    "upper_leak_rate": lambda v, f: _rate(v, f, optional=True),
    "run_leak_check_passed": lambda v, f: _flag(v, f, optional=True),
    "supported": _flag,
    "reason": _reason,
}


# ---- writing and reading -------------------------------------------------------------------


def _line(record: dict[str, Any]) -> bytes:
    return (json.dumps(check_record(record), sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n").encode(
        "utf-8"
    )


def append(audit_path: str, record: dict[str, Any]) -> str:
    """Append ``record`` to the trail; returns where it was written (the file, or the object)."""
    data = _line(record)
    if is_remote(audit_path):
        return _append_object(audit_path, record["kind"], data)
    _append_local(audit_path, data)
    return audit_path


def _append_local(path: str, data: bytes) -> None:
    import fcntl

    directory = os.path.dirname(os.path.abspath(path))
    created_dir = not os.path.isdir(directory)
    os.makedirs(directory, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # close a line a crash left unfinished; it reads back as unreadable
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
            os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    if created_dir:
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _append_object(audit_path: str, kind: str, data: bytes) -> str:
    from apache_beam.io.filesystems import FileSystems

    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    for _ in range(5):
        path = f"{records_prefix(audit_path)}{stamp}-{kind}-{secrets.token_hex(4)}.json"
        if not FileSystems.exists(path):
            break
    else:
        raise AuditError("could not find an unused audit object name")
    with FileSystems.create(path, mime_type="application/json") as handle:
        handle.write(data)
    return path


def _parse(text: str, number: int) -> dict[str, Any]:
    try:
        record = json.loads(text)
    except ValueError:
        return {"kind": "unreadable", "line": number}
    return record if isinstance(record, dict) else {"kind": "unreadable", "line": number}


def read(audit_path: str) -> list[dict[str, Any]]:
    """Every record of the trail, oldest first; [] when there is none yet."""
    from apache_beam.io.filesystems import FileSystems

    if is_remote(audit_path):
        pattern = records_prefix(audit_path) + "*.json"
        paths = sorted((m.path for m in FileSystems.match([pattern])[0].metadata_list), key=posixpath.basename)
        records = []
        for number, path in enumerate(paths, start=1):
            with FileSystems.open(path, compression_type="uncompressed") as handle:
                records.append(_parse(handle.read().decode("utf-8", errors="replace"), number))
        return records
    if not os.path.exists(audit_path):
        return []
    with open(audit_path, encoding="utf-8", errors="replace") as handle:
        return [_parse(line, number) for number, line in enumerate(handle, start=1) if line.strip()]


def record_run(
    report: dict,
    *,
    manifest: str,
    output_root: str,
    key_kind: str,
    shards_dir: str | None = None,
    audit_path: str | None = None,
) -> dict[str, Any]:
    """Append a finished run's record: what the launcher calls once the report has its leak check.

    Args:
        report: the run report as written (``run_report.json``), leak check included.
        manifest: the manifest the run read (fingerprinted: SHA-256 of its bytes).
        output_root: the run's ``--output``; the trail defaults to :func:`default_audit_path` of it.
        key_kind: ``KeySource.kind`` (``file``, ``env`` or ``ephemeral``); never the key or its path.
        shards_dir: where the run's shards are now, to read their pseudonym epochs (default
            ``output_root``; a run that was not published: its staging directory).
        audit_path: a configured trail instead of the default.

    Returns the record appended."""
    record = run_record(
        report,
        manifest_fingerprint=manifest_fingerprint(manifest),
        key_kind=key_kind,
        epochs=output_epochs(shards_dir or output_root),
    )
    append(audit_path or default_audit_path(output_root), record)
    return record
