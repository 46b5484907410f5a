"""Terminal summary of a run's outputs, for ``python -m pipeline inspect``.

In:  a run's output directory.
Out: text: the run report's headline, the reviewer schema (and whether it is the contract schema
     ``transforms.core.schema.REVIEWER_SCHEMA``), rows per reviewer shard (from Parquet footers), the
     first few rows with long text shortened and binary columns replaced by their size and MIME
     type (no audio bytes are printed), quarantine counts by stage and escalation row counts
     (escalated rows are restricted: counted, never printed).
Fails: :class:`~pipeline.spotcheck.source.SpotCheckError` when there are no reviewer shards.
"""

from __future__ import annotations

import json
import posixpath

from pipeline.layout import REVIEWER_DIR
from pipeline.parquet_io import iter_batches, open_parquet
from pipeline.spotcheck import source

MAX_TEXT = 100


def _short(value) -> str:
    if isinstance(value, list | dict):
        text = json.dumps(value, default=str, ensure_ascii=False)
    else:
        text = str(value)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."


def schema_lines(schema) -> list[str]:
    """One line per column: name, type, nullability, and how it differs from the contract."""
    from transforms.core.schema import REVIEWER_SCHEMA

    lines = []
    for field in schema:
        note = ""
        if field.name not in REVIEWER_SCHEMA.names:
            note = "  <- not in REVIEWER_SCHEMA"
        elif not REVIEWER_SCHEMA.field(field.name).type.equals(field.type):
            note = f"  <- REVIEWER_SCHEMA has {REVIEWER_SCHEMA.field(field.name).type}"
        lines.append(f"  {field.name:<18} {str(field.type):<50} {'nullable' if field.nullable else 'not null'}{note}")
    for name in REVIEWER_SCHEMA.names:
        if name not in schema.names:
            lines.append(f"  {name:<18} MISSING (in REVIEWER_SCHEMA)")
    return lines


def row_lines(table) -> list[str]:
    """The rows of ``table``, one ``column: value`` per line; binary columns as their byte size."""
    import pyarrow as pa

    lines = []
    mimes = table.column("audio_mime").to_pylist() if "audio_mime" in table.column_names else [None] * table.num_rows
    for number, row in enumerate(table.to_pylist()):
        lines.append(f"  row {number + 1}:")
        for name in table.column_names:
            value = row[name]
            if pa.types.is_binary(table.schema.field(name).type) or isinstance(value, bytes):
                size = len(value) if value is not None else 0
                shown = f"<{size} bytes{' ' + mimes[number] if mimes[number] else ''}>"
            else:
                shown = _short(value)
            lines.append(f"    {name:<18} {shown}")
    return lines


def summarize(root: str, rows: int = 3) -> str:
    """The whole terminal summary of the run under ``root``."""
    root = root.rstrip("/")
    out = [f"run output: {root}"]
    report, problem = source.read_report(root)
    if report is None:
        out.append(f"run report: {problem}")
    else:
        out.append(
            "run report: "
            + "  ".join(
                f"{k} {report.get(k, source.NOT_RECORDED)}" for k in ("run_id", "config_hash", "pipeline_version")
            )
        )
        outcomes = report.get("outcomes")
        if isinstance(outcomes, dict):
            out.append("outcomes: " + ", ".join(f"{k}={v}" for k, v in outcomes.items()))
        leak = report.get("leak_check")
        out.append("leak check: " + (_short(leak) if leak is not None else source.NOT_RECORDED))

    files = source.reviewer_files(root)
    schemas, counts = [], []
    for path in files:
        with open_parquet(path) as parquet:
            schemas.append(parquet.schema_arrow)
            counts.append((posixpath.basename(path), parquet.metadata.num_rows, parquet.metadata.num_row_groups))
    out.append("")
    out.append(f"reviewer schema ({posixpath.join(root, REVIEWER_DIR)}/):")
    out += schema_lines(schemas[0])
    differing = [name for (name, _, _), schema in zip(counts, schemas, strict=True) if not schema.equals(schemas[0])]
    if differing:
        out.append(f"  WARNING: schema differs in {', '.join(differing)}")
    out.append("")
    out.append("reviewer shards:")
    for name, n, groups in counts:
        out.append(f"  {name:<40} {n:>8} rows  {groups:>4} row groups")
    out.append(f"  {'total':<40} {sum(n for _, n, _ in counts):>8} rows")

    if rows > 0:
        first = next((path for path, (_, n, _) in zip(files, counts, strict=True) if n), None)
        if first is not None:
            batch = next(iter_batches(first, rows))
            import pyarrow as pa

            out.append("")
            out.append(f"first {batch.num_rows} row(s) of {posixpath.basename(first)}:")
            out += row_lines(pa.Table.from_batches([batch]))

    out.append("")
    quarantine = source.count_quarantine(root)
    if quarantine is None:
        out.append("quarantine: no files")
    else:
        total = sum(quarantine.values())
        by_stage = ", ".join(f"{k}={v}" for k, v in sorted(quarantine.items())) or "none"
        out.append(f"quarantine: {total} record(s) ({by_stage})")
    escalated = source.count_escalated(root)
    out.append(
        "escalation: " + ("no files" if escalated is None else f"{escalated} row(s) (restricted: counted, not shown)")
    )
    return "\n".join(out)
