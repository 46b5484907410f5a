"""Leak verification: scan everything a run wrote for the raw identifiers of its input.

In:  the manifest (for the raw ``account_id``, ``device_serial`` and ``first_name`` values) and
     the output directory (every file under it: reviewer and escalation shards, quarantine,
     report, logs), plus any extra files such as captured worker logs.
Out: a list of :class:`Leak` records — which kind of value, from which manifest row, in which
     file and column. A leak record never contains the leaked value itself.

All values are searched at once with an Aho-Corasick automaton (``pyahocorasick``), so a
manifest of millions of rows costs one pass over each output. Parquet files are read back
(their pages are compressed, so a raw byte scan alone would miss text); every text column is
searched, and binary columns (audio) and raw file bytes are searched for the long identifiers.
A first name is searched as a whole word, case-insensitively, in text only: inside compressed
audio bytes a short name matches by chance. A first name that is also an allow-listed term
(a customer called "Alexa" and the wake word "alexa") cannot be told apart from the term in a
transcript; such names are not searched, and how many were skipped is reported.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import ahocorasick

from pipeline.parquet_io import iter_batches

MIN_ID_CHARS = 6
CHUNK_BYTES = 8 << 20
PARQUET_BATCH_ROWS = 256


class Leak(NamedTuple):
    kind: str  # account_id | device_serial | first_name
    row: int  # manifest row number (1-based)
    path: str
    where: str  # column name, "bytes" or "text"

    def describe(self) -> str:
        return f"{self.kind} of manifest row {self.row} found in {self.path} ({self.where})"


class Needles(NamedTuple):
    """Two automata over lower-cased values: long ids (any context) and first names (whole words)."""

    ids: ahocorasick.Automaton | None
    names: ahocorasick.Automaton | None
    count: int
    rows: int = 0
    skipped_names: int = 0


def _automaton(entries: dict[str, list[tuple[str, int]]]) -> ahocorasick.Automaton | None:
    if not entries:
        return None
    automaton = ahocorasick.Automaton()
    for value, owners in entries.items():
        automaton.add_word(value, (len(value), tuple(owners)))
    automaton.make_automaton()
    return automaton


def needles_from_rows(rows: Iterable[dict], allowed_terms: Iterable[str] = ()) -> Needles:
    """Search automata for every raw identifier in manifest rows (missing/short values skipped;
    first names equal to an allow-listed term are skipped and counted)."""
    ids: dict[str, list[tuple[str, int]]] = {}
    names: dict[str, list[tuple[str, int]]] = {}
    allowed = {term.strip().lower() for term in allowed_terms}
    count = skipped = number = 0
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            continue
        for kind in ("account_id", "device_serial"):
            value = row.get(kind)
            if isinstance(value, str) and len(value.strip()) >= MIN_ID_CHARS:
                ids.setdefault(value.strip().lower(), []).append((kind, number))
                count += 1
        name = row.get("first_name")
        if isinstance(name, str) and name.strip():
            if name.strip().lower() in allowed:
                skipped += 1
                continue
            names.setdefault(name.strip().lower(), []).append(("first_name", number))
            count += 1
    return Needles(_automaton(ids), _automaton(names), count, number, skipped)


def read_manifest_rows(path: str) -> Iterator[dict]:
    """Manifest rows as dicts, read and counted exactly as the job reads them, through the job's
    own reader (``transforms.manifest.iter_manifest_rows``: JSONL, CSV with multi-line cells,
    Parquet, compressed text, a leading BOM); a row the job quarantines as unreadable is ``{}``
    (JSON) or its cells under the header names (CSV). Any Beam filesystem.

    Streamed: one line, CSV record or Parquet batch in memory at a time."""
    from transforms.manifest import iter_manifest_rows

    def parquet_rows(parquet_path: str) -> Iterator[dict]:
        for batch in iter_batches(parquet_path, 1024):
            yield from batch.to_pylist()

    yield from iter_manifest_rows(path, parquet_rows)


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def scan_text(text: str, needles: Needles, path: str, where: str) -> set[Leak]:
    """Ids anywhere, first names as whole words."""
    lowered = text.lower()
    leaks: set[Leak] = set()
    if needles.ids is not None:
        for _, (_, owners) in needles.ids.iter(lowered):
            leaks.update(Leak(kind, row, path, where) for kind, row in owners)
    if needles.names is not None:
        for end, (length, owners) in needles.names.iter(lowered):
            start = end - length + 1
            before = lowered[start - 1] if start > 0 else " "
            after = lowered[end + 1] if end + 1 < len(lowered) else " "
            if not _is_word_char(before) and not _is_word_char(after):
                leaks.update(Leak(kind, row, path, where) for kind, row in owners)
    return leaks


def scan_bytes(data: bytes, needles: Needles, path: str, where: str) -> set[Leak]:
    """Ids only (latin-1 maps bytes 1:1 to characters, so byte offsets are kept)."""
    if needles.ids is None:
        return set()
    lowered = data.decode("latin-1").lower()
    return {Leak(kind, row, path, where) for _, (_, owners) in needles.ids.iter(lowered) for kind, row in owners}


def _scan_byte_stream(handle, needles: Needles, path: str) -> set[Leak]:
    """Ids in a file's raw bytes, read in chunks that overlap by the longest id (memory stays flat)."""
    if needles.ids is None:
        return set()
    overlap = needles.ids.get_stats()["longest_word"] - 1
    leaks: set[Leak] = set()
    tail = b""
    while chunk := handle.read(CHUNK_BYTES):
        data = tail + chunk
        leaks |= scan_bytes(data, needles, path, "bytes")
        tail = data[-overlap:] if overlap > 0 else b""
    return leaks


def _scan_parquet(needles: Needles, path: str) -> set[Leak]:
    import pyarrow as pa

    leaks: set[Leak] = set()
    for batch in iter_batches(path, PARQUET_BATCH_ROWS):
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
                for value in column.to_pylist():
                    leaks |= scan_bytes(value or b"", needles, path, name)
            else:
                text = "\n".join(json.dumps(v, default=str, ensure_ascii=False) for v in column.to_pylist())
                leaks |= scan_text(text, needles, path, name)
    return leaks


def scan_file(path: str, needles: Needles) -> list[Leak]:
    """Every leak of any needle in one file (any Beam filesystem). Parquet shards are streamed
    (raw bytes in chunks, then batch by batch); other outputs (quarantine, report, logs) are
    read whole."""
    from apache_beam.io.filesystems import FileSystems

    if path.endswith(".parquet"):
        with FileSystems.open(path) as handle:
            leaks = _scan_byte_stream(handle, needles, path)
        return sorted(leaks | _scan_parquet(needles, path))
    with FileSystems.open(path) as handle:
        data = handle.read()
    leaks = scan_bytes(data, needles, path, "bytes")
    leaks |= scan_text(data.decode("utf-8", errors="replace"), needles, path, "text")
    return sorted(leaks)


def list_files(output_dir: str) -> list[str]:
    """Every file under ``output_dir`` (local walk, or a recursive match on remote filesystems)."""
    if "://" not in output_dir:
        return sorted(os.path.join(root, name) for root, _, names in os.walk(output_dir) for name in names)
    from apache_beam.io.filesystems import FileSystems

    return sorted(m.path for m in FileSystems.match([output_dir.rstrip("/") + "/**"])[0].metadata_list)


class ScanResult(NamedTuple):
    files: int
    leaks: list[Leak]


def scan_outputs(output_dir: str, needles: Needles, extra_files: Iterable[str] = ()) -> list[Leak]:
    """Scan every file under ``output_dir`` and any extra files (e.g. captured logs)."""
    return verify_run(output_dir, needles, extra_files).leaks


def verify_run(output_dir: str, needles: Needles, extra_files: Iterable[str] = ()) -> ScanResult:
    paths = list_files(output_dir) + list(extra_files)
    leaks: list[Leak] = []
    for path in paths:
        leaks += scan_file(path, needles)
    return ScanResult(len(paths), leaks)
