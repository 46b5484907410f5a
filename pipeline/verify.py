"""Leak verification: scan what a run wrote for the raw identifiers of its input.

In:  the manifest (for the raw ``account_id``, ``device_serial`` and ``first_name`` values) and
     the output directory (every file under it), plus any extra files such as captured logs.
Out: a list of :class:`Leak` records — which kind of value, from which manifest row, in which
     file and column. A leak record never contains the leaked value itself.

Parquet files are read back (their pages are compressed, so a raw byte scan alone would miss
text); every text column is searched, binary columns (audio) and the raw file bytes are searched
for the long identifiers. A first name is searched as a whole word (case-insensitive) in text;
it is not searched inside compressed audio bytes, where a short name matches by chance.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from typing import NamedTuple

MIN_ID_CHARS = 6


class Leak(NamedTuple):
    kind: str  # account_id | device_serial | first_name
    row: int  # manifest row number (1-based)
    path: str
    where: str  # column name or "bytes"/"text"

    def describe(self) -> str:
        return f"{self.kind} of manifest row {self.row} found in {self.path} ({self.where})"


class Needle(NamedTuple):
    kind: str
    row: int
    text_pattern: re.Pattern
    raw: bytes | None  # searched in binary content; None for first names


def needles_from_rows(rows: Iterable[dict]) -> list[Needle]:
    """Search patterns for every raw identifier in manifest rows (missing/short values skipped)."""
    needles = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            continue
        for kind in ("account_id", "device_serial"):
            value = row.get(kind)
            if isinstance(value, str) and len(value.strip()) >= MIN_ID_CHARS:
                value = value.strip()
                needles.append(Needle(kind, number, re.compile(re.escape(value), re.IGNORECASE), value.encode()))
        name = row.get("first_name")
        if isinstance(name, str) and name.strip():
            pattern = re.compile(r"(?<!\w)" + re.escape(name.strip()) + r"(?!\w)", re.IGNORECASE)
            needles.append(Needle("first_name", number, pattern, None))
    return needles


def read_manifest_rows(path: str) -> list[dict]:
    """Manifest rows as dicts (JSONL, CSV or Parquet); unparseable lines become {}."""
    import csv

    lower = path.lower()
    if lower.endswith(".parquet"):
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    with open(path, encoding="utf-8", errors="replace") as handle:
        if lower.endswith(".csv"):
            return list(csv.DictReader(handle))
        rows = []
        for line in handle:
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except ValueError:
                rows.append({})
        return rows


def _scan_text(text: str, needles: list[Needle], path: str, where: str) -> list[Leak]:
    return [Leak(n.kind, n.row, path, where) for n in needles if n.text_pattern.search(text)]


def _scan_bytes(data: bytes, needles: list[Needle], path: str, where: str) -> list[Leak]:
    lowered = data.lower()
    return [Leak(n.kind, n.row, path, where) for n in needles if n.raw is not None and n.raw.lower() in lowered]


def _scan_parquet(path: str, needles: list[Needle]) -> list[Leak]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    leaks = []
    table = pq.read_table(path)
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
            for value in column.to_pylist():
                leaks += _scan_bytes(value or b"", needles, path, name)
        else:
            text = "\n".join(json.dumps(v, default=str, ensure_ascii=False) for v in column.to_pylist())
            leaks += _scan_text(text, needles, path, name)
    return leaks


def scan_file(path: str, needles: list[Needle]) -> list[Leak]:
    """Every leak of any needle in one file."""
    with open(path, "rb") as handle:
        data = handle.read()
    leaks = _scan_bytes(data, needles, path, "bytes")
    if path.endswith(".parquet"):
        leaks += _scan_parquet(path, needles)
    else:
        leaks += _scan_text(data.decode("utf-8", errors="replace"), needles, path, "text")
    return sorted(set(leaks))


def scan_outputs(output_dir: str, needles: list[Needle], extra_files: Iterable[str] = ()) -> list[Leak]:
    """Scan every file under ``output_dir`` and any extra files (e.g. captured logs)."""
    paths = [os.path.join(root, name) for root, _, names in os.walk(output_dir) for name in names]
    leaks = []
    for path in sorted(paths) + list(extra_files):
        leaks += scan_file(path, needles)
    return leaks
