"""Reading a finished run for the spot-check — reviewer-side outputs only.

In:  a run's output directory: ``reviewer/part-*.parquet`` (the rows reviewers get),
     ``run_report.json``, and — counted, never read for content — ``quarantine/`` (only each
     record's ``stage`` field) and ``escalation/`` (row counts from Parquet footers or line counts;
     escalated clips are restricted and are never sampled, decoded or embedded).
Out: :class:`RunIndex` (every reviewer row's light columns, no audio) and, for the sampled rows,
     :class:`ClipRow` records with their audio bytes.
Fails: :class:`SpotCheckError` when there are no reviewer shards or a shard lacks a column of
     the reviewer schema. A missing or unreadable ``run_report.json`` is not an error: every field
     taken from it is shown as "not recorded".

The manifest and the raw clips are never opened: this module only ever builds paths under the
output directory, from the fixed directory names below.
"""

from __future__ import annotations

import json
import posixpath
from collections import Counter
from typing import Any, NamedTuple

from pipeline.layout import ESCALATION_DIR, QUARANTINE_DIR, REPORT_FILE, REVIEWER_DIR, SHARD_STEM
from pipeline.parquet_io import num_rows, open_parquet

NOT_RECORDED = "not recorded"

# Columns read for every row (cheap); the audio column is read only for the sampled rows.
INDEX_COLUMNS = ("review_id", "locale", "duration_s", "entities", "run_id", "config_hash", "pseudonym_epoch")
# Shown once per run, not per clip.
SAME_FOR_EVERY_ROW = ("run_id", "config_hash", "pipeline_version")
CLIP_COLUMNS = (
    "review_id",
    "speaker_pseudonym",
    "pseudonym_epoch",
    "audio",
    "audio_mime",
    "sample_rate",
    "duration_s",
    "transcript",
    "entities",
    "muted_intervals",
    "recorded_date",
    "locale",
)


class SpotCheckError(RuntimeError):
    """The run cannot be spot-checked; the message says why."""


class ClipRow(NamedTuple):
    """One sampled reviewer row, as reviewers get it."""

    review_id: str
    speaker_pseudonym: str
    pseudonym_epoch: str
    audio: bytes
    audio_mime: str
    sample_rate: int
    duration_s: float
    transcript: str
    entities: list[dict]  # {type, start, end}: offsets into the redacted transcript
    muted_intervals: list[dict]  # {start_s, end_s}
    recorded_date: Any
    locale: str
    extra: dict  # any further non-binary column (e.g. flags, expires_at), shown as-is


class RunIndex(NamedTuple):
    """Everything about a run except audio: shard row counts, light columns, side-output counts."""

    root: str
    report: dict | None  # run_report.json, or None when absent/unreadable
    report_problem: str | None
    shards: list[tuple[str, int]]  # (file name, rows)
    review_ids: list[str]
    locales: list[str]
    durations: list[float]
    entity_types: list[list[str]]  # per row, the types of its entities
    run_ids: Counter
    config_hashes: Counter
    epochs: Counter
    quarantine_by_stage: Counter | None  # None when there is no quarantine directory
    escalated_rows: int | None  # None when there is no escalation directory

    @property
    def strata(self) -> list[tuple[str, bool]]:
        """The stratum of every row: (locale, whether any entity was redacted)."""
        return [(loc, bool(types)) for loc, types in zip(self.locales, self.entity_types, strict=True)]


def filesystems():
    from apache_beam.io.filesystems import FileSystems

    return FileSystems


def match_files(root: str, directory: str, pattern: str = SHARD_STEM + "*") -> list[str]:
    found = filesystems().match([posixpath.join(root, directory, pattern)])[0].metadata_list
    return sorted(m.path for m in found)


def read_report(root: str) -> tuple[dict | None, str | None]:
    """``(report, problem)``: the run report, or None and why it could not be read."""
    path = posixpath.join(root, REPORT_FILE)
    fs = filesystems()
    if not fs.exists(path):
        return None, f"{REPORT_FILE} not found"
    try:
        with fs.open(path) as handle:
            report = json.loads(handle.read().decode("utf-8"))
    except (OSError, ValueError) as exc:
        return None, f"{REPORT_FILE} unreadable ({type(exc).__name__})"
    if not isinstance(report, dict):
        return None, f"{REPORT_FILE} is not a JSON object"
    return report, None


def count_quarantine(root: str) -> Counter | None:
    files = match_files(root, QUARANTINE_DIR)
    if not files:
        return None
    by_stage: Counter = Counter()
    for path in files:
        with filesystems().open(path) as handle:
            for line in handle.read().decode("utf-8", errors="replace").splitlines():
                if not line.strip():
                    continue
                try:
                    stage = json.loads(line).get("stage")
                except (ValueError, AttributeError):
                    stage = None
                # Only the stage is kept: clip ids and messages stay in the quarantine files.
                by_stage[stage if isinstance(stage, str) else "(unreadable record)"] += 1
    return by_stage


def count_escalated(root: str) -> int | None:
    """Rows under escalation/, counted from Parquet footers or lines — no row is ever read."""
    files = match_files(root, ESCALATION_DIR, "*")
    if not files:
        return None
    rows = 0
    for path in files:
        if path.endswith(".parquet"):
            rows += num_rows(path)
            continue
        with filesystems().open(path) as handle:
            rows += sum(1 for line in handle.read().splitlines() if line.strip())
    return rows


def reviewer_files(root: str) -> list[str]:
    files = [p for p in match_files(root, REVIEWER_DIR) if p.endswith(".parquet")]
    if not files:
        raise SpotCheckError(f"no reviewer shards under {posixpath.join(root, REVIEWER_DIR)}")
    return files


def _check_columns(path: str, schema, wanted) -> None:
    missing = [c for c in wanted if c not in schema.names]
    if missing:
        raise SpotCheckError(f"{posixpath.basename(path)} lacks reviewer column(s) {', '.join(missing)}")


def read_index(root: str) -> RunIndex:
    """Index every reviewer row (no audio), and count the side outputs."""
    root = root.rstrip("/")
    report, problem = read_report(root)
    shards, ids, locales, durations, types = [], [], [], [], []
    run_ids, hashes, epochs = Counter(), Counter(), Counter()
    for path in reviewer_files(root):
        with open_parquet(path) as parquet:
            _check_columns(path, parquet.schema_arrow, CLIP_COLUMNS)
            table = parquet.read(columns=list(INDEX_COLUMNS), use_threads=False)
        shards.append((posixpath.basename(path), table.num_rows))
        ids += table.column("review_id").to_pylist()
        locales += table.column("locale").to_pylist()
        durations += table.column("duration_s").to_pylist()
        types += [[e["type"] for e in (row or [])] for row in table.column("entities").to_pylist()]
        run_ids.update(table.column("run_id").to_pylist())
        hashes.update(table.column("config_hash").to_pylist())
        epochs.update(table.column("pseudonym_epoch").to_pylist())
    return RunIndex(
        root=root,
        report=report,
        report_problem=problem,
        shards=shards,
        review_ids=ids,
        locales=locales,
        durations=durations,
        entity_types=types,
        run_ids=run_ids,
        config_hashes=hashes,
        epochs=epochs,
        quarantine_by_stage=count_quarantine(root),
        escalated_rows=count_escalated(root),
    )


def read_clips(root: str, review_ids: list[str]) -> list[ClipRow]:
    """The sampled rows with their audio, in the order of ``review_ids``; streams shard batches."""
    import pyarrow as pa
    import pyarrow.compute as pc

    wanted = set(review_ids)
    found: dict[str, ClipRow] = {}
    for path in reviewer_files(root.rstrip("/")):
        with open_parquet(path) as parquet:
            schema = parquet.schema_arrow
            extra = [
                f.name
                for f in schema
                if f.name not in CLIP_COLUMNS
                and f.name not in SAME_FOR_EVERY_ROW
                and not (pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type))
            ]
            for batch in parquet.iter_batches(batch_size=256, columns=list(CLIP_COLUMNS) + extra, use_threads=False):
                mask = pc.is_in(batch.column("review_id"), value_set=_string_array(wanted))
                for row in batch.filter(mask).to_pylist():
                    found[row["review_id"]] = ClipRow(
                        **{c: row[c] for c in CLIP_COLUMNS}, extra={c: row[c] for c in extra}
                    )
        if len(found) == len(wanted):
            break
    missing = wanted - found.keys()
    if missing:
        raise SpotCheckError(f"{len(missing)} sampled review ids vanished while reading the shards")
    return [found[r] for r in review_ids]


def _string_array(values):
    import pyarrow as pa

    return pa.array(sorted(values), type=pa.string())
