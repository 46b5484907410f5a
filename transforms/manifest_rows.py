"""How a manifest file becomes raw rows — one reading shared by the job and the leak verifier.

In:  a manifest path on any Beam filesystem: JSON Lines (``.jsonl``/``.json``/``.ndjson``), CSV
     (``.csv``) or Parquet (``.parquet``); text manifests optionally compressed (any suffix of
     Beam's ``CompressionTypes.AUTO``: ``.gz``, ``.bz2``, ``.zst``, ``.xz``, ``.deflate``).
Out: raw rows — a line (JSON Lines; a leading UTF-8 BOM is ignored), a record's cells (CSV,
     parsed by the csv module: quoted cells may hold commas, quotes and line breaks) or a dict
     (Parquet) — and ``decode_row`` to turn one into a dict. ``iter_manifest_rows`` yields every
     row as the job counts it, for the leak verifier (``pipeline.verify.read_manifest_rows``).
     For the job's parallel read, rows with their position: JSON Lines by byte range
     (``line_ranges``), plain CSV by record range (``csv_record_ranges``, one scan for where
     records end), Parquet by row group, anything else by one reader (``iter_numbered_rows``).
Fails: ValueError for an unknown format or a CSV header without the required columns (before the
     run: ``check_manifest``); :class:`ManifestError` for a CSV file that is not CSV (an
     unterminated quote). A single bad row is not an error here: ``decode_row`` raises ClipError
     and the manifest stage quarantines the row.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator

from transforms.core.failures import ClipError
from transforms.core.files import compression_suffix, open_input

MAX_CSV_FIELD_CHARS = 64 << 20
REQUIRED_COLUMNS = ("clip_id", "audio_uri", "transcript", "account_id", "recorded_at")
_BOM = "\ufeff"


class ManifestError(ValueError):
    """The manifest as a whole cannot be read; the message names the file and line, never a value."""


def split_compression(path: str) -> tuple[str, bool]:
    """(the name without a compression suffix, whether it had one)."""
    suffix = compression_suffix(path)
    return path.lower()[: len(path) - len(suffix)], bool(suffix)


def manifest_format(path: str) -> str:
    """'jsonl', 'csv' or 'parquet' from the file name (a compression suffix is looked through)."""
    name, compressed = split_compression(path)
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".parquet") and not compressed:
        return "parquet"
    raise ValueError(
        f"manifest {path!r}: unknown format (use .jsonl, .csv or .parquet; text manifests may be "
        ".gz, .bz2, .zst, .xz or .deflate compressed, Parquet may not)"
    )


def check_manifest(path: str) -> tuple[str, ...]:
    """Refuse, before anything runs, a manifest the job cannot read: an unknown format or a CSV
    header without the required columns (ValueError). Returns the CSV header (``()`` otherwise)."""
    if manifest_format(path) != "csv":
        return ()
    header = read_csv_header(path)
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise ManifestError(f"manifest {path!r}: the CSV header has no column {', '.join(missing)}")
    return header


def is_blank(raw) -> bool:
    """A blank line (JSON Lines) or an empty record (CSV) is not a row."""
    if isinstance(raw, str):
        return not raw.lstrip(_BOM).strip()
    if isinstance(raw, tuple):
        return not any(cell.strip() for cell in raw)
    return False


def decode_row(raw, fmt: str, csv_header: tuple[str, ...] = ()) -> dict:
    """One raw manifest row — a line (JSON Lines), a record's cells (CSV) or a dict (Parquet) — as
    a dict; ClipError if it is not one."""
    if fmt == "jsonl":
        try:
            row = json.loads(raw.removeprefix(_BOM))  # a UTF-8 BOM opens the first line of some files
        except ValueError:
            raise ClipError("unparseable_row", "manifest line is not valid JSON") from None
    elif fmt == "csv":
        if len(raw) != len(csv_header):
            raise ClipError("unparseable_row", f"CSV row has {len(raw)} cells, header has {len(csv_header)}")
        row = {key: (value if value != "" else None) for key, value in zip(csv_header, raw, strict=True)}
    else:
        row = raw
    if not isinstance(row, dict):
        raise ClipError("bad_row", "manifest row is not an object")
    return row


def _csv_records(path: str) -> Iterator[tuple[str, ...]]:
    """Every non-empty CSV record of a file, header first, as parsed by the csv module: quoted
    cells may hold commas, quotes and line breaks. ManifestError if the file is not CSV."""
    with open_input(path) as binary:
        yield from _parse_csv(binary, "utf-8-sig", lambda reader: f"manifest {path!r}, line {reader.line_num}")


def _parse_csv(binary, encoding: str, where) -> Iterator[tuple[str, ...]]:
    """The non-blank records of a binary CSV stream, parsed by the csv module (strict, lenient
    decoding). ManifestError naming ``where(reader)`` (a path and a line or byte range, never a
    cell) if the stream is not CSV."""
    csv.field_size_limit(max(csv.field_size_limit(), MAX_CSV_FIELD_CHARS))
    text = io.TextIOWrapper(binary, encoding=encoding, errors="replace", newline="")
    reader = csv.reader(text, strict=True)
    try:
        for record in reader:
            cells = tuple(record)
            if not is_blank(cells):
                yield cells
    except csv.Error as exc:
        raise ManifestError(f"{where(reader)}: not valid CSV ({exc})") from None


def _jsonl_lines(path: str) -> Iterator[str]:
    """Non-blank lines as Beam's text read splits them (at b"\\n", a preceding "\\r" removed),
    decoded leniently so one bad byte is one bad row."""
    with open_input(path) as binary:
        for raw in iter(binary.readline, b""):
            line = raw.decode("utf-8", errors="replace").removesuffix("\n").removesuffix("\r")
            if not is_blank(line):
                yield line


def read_csv_header(path: str) -> tuple[str, ...]:
    """Column names: the first record of a CSV manifest (read at graph-construction time)."""
    return next(_csv_records(path), ())


def iter_raw_rows(path: str) -> Iterator:
    """The raw rows of a text manifest, as the job reads them: lines (JSON Lines) or record cells
    after the header (CSV). Blank lines and empty records are not rows."""
    if manifest_format(path) == "csv":
        records = _csv_records(path)
        next(records, None)  # the header
        return records
    return _jsonl_lines(path)


def iter_manifest_rows(path: str, parquet_rows: Callable[[str], Iterable[dict]] | None = None) -> Iterator[dict]:
    """Every manifest row, one at a time, as the job reads and counts it: a dict per row; a row the
    job quarantines as unreadable is ``{}`` (JSON) or its cells under the header names (CSV), so
    its values are still known to the leak check. Parquet rows come from ``parquet_rows(path)``
    (the verifier passes ``pipeline.parquet_io``'s reader), by default from pyarrow's own reader."""
    fmt = manifest_format(path)
    if fmt == "parquet":
        yield from (parquet_rows or _parquet_rows)(path)
        return
    header = read_csv_header(path) if fmt == "csv" else ()
    for raw in iter_raw_rows(path):
        yield row_dict(raw, fmt, header)


def row_dict(raw, fmt: str, csv_header: tuple[str, ...] = ()) -> dict:
    """One raw row as a dict, as the leak verifier reads it: :func:`decode_row`, or for a row the
    job quarantines as unreadable ``{}`` (JSON) or its cells under the header names (CSV)."""
    try:
        return decode_row(raw, fmt, csv_header)
    except ClipError:
        return dict(zip(csv_header, raw, strict=False)) if fmt == "csv" else {}


def _open_parquet(path: str):
    """A Parquet file opened by pyarrow natively (local or a URI pyarrow knows), never through a
    Python file object (see ``pipeline.parquet_io``)."""
    import os

    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    if "://" in path:
        filesystem, inner = pafs.FileSystem.from_uri(path)
        return pq.ParquetFile(inner, filesystem=filesystem)
    return pq.ParquetFile(os.path.abspath(path))


def _parquet_rows(path: str) -> Iterator[dict]:
    """Rows of a Parquet file in batches."""
    with _open_parquet(path) as parquet:
        for batch in parquet.iter_batches(batch_size=1024, use_threads=False):
            yield from batch.to_pylist()


# Rows with their position: what the job reads, each row tagged with where it was read, so two
# reads of the same manifest (the clips and the keys-only read) name each row alike. A position is
# a short string that sorts like the file order: "<file number>@<byte offset>" (JSON Lines), the
# row's number among the file's rows (CSV, whether read in ranges or by one reader; compressed
# files: one reader), "<file number>:<row group>:<row>" (Parquet), files numbered in the sorted
# order of what the path matches. Units of work (byte ranges, row groups) are small values the
# runner can spread over workers; the rows never pass through a shuffle (but for the one reader).


def _matched(path: str) -> list[tuple[str, int]]:
    """(file, size) of every file ``path`` names (a glob may name several), in a stable order."""
    from apache_beam.io.filesystems import FileSystems

    return sorted((m.path, m.size_in_bytes) for m in FileSystems.match([path])[0].metadata_list)


def line_ranges(path: str, range_bytes: int) -> list[tuple[int, str, int, int]]:
    """(file number, file, start, end) byte ranges of about ``range_bytes`` covering every file
    ``path`` names."""
    return [
        (number, name, start, min(start + range_bytes, size))
        for number, (name, size) in enumerate(_matched(path))
        for start in range(0, size, max(1, range_bytes))
    ]


def iter_line_range(unit: tuple[int, str, int, int]) -> Iterator[tuple[str, str]]:
    """(position, line) of every non-blank line that starts in [start, end) of an uncompressed text
    file, split as :func:`iter_raw_rows` splits it (at b"\\n", a preceding "\\r" removed; decoded
    leniently): a line belongs to the range its first byte is in, so ranges never lose or double one."""
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    number, name, start, end = unit
    with FileSystems.open(name, compression_type=CompressionTypes.UNCOMPRESSED) as raw:
        handle = io.BufferedReader(raw, 1 << 20) if not isinstance(raw, io.BufferedReader) else raw
        offset = start
        if start > 0:
            handle.seek(start - 1)
            offset = start - 1 + len(handle.readline())  # the end of the line the range starts inside
        while offset < end:
            data = handle.readline()
            if not data:
                return
            line = data.decode("utf-8", errors="replace").removesuffix("\n").removesuffix("\r")
            if not is_blank(line):
                yield f"{number:05d}@{offset:015d}", line
            offset += len(data)


def iter_numbered_rows(path: str) -> Iterator[tuple[str, object]]:
    """(position, raw row) of a manifest read by one reader: record numbers in file order."""
    for number, raw in enumerate(iter_raw_rows(path)):
        yield f"{number:012d}", raw


# An uncompressed CSV file read in byte ranges. A record may span lines (a quoted cell holds line
# breaks), so ranges cannot start at any newline as JSON Lines ones do: one sequential scan finds
# where records end, without parsing cells, and cuts the file there. Record ends follow the csv
# module's own rules for its default dialect (strict): a quote opens a quoted cell only as the
# cell's first character ('5" screen' is a plain cell), "" inside a quoted cell is a quote, and
# outside quotes a record ends at "\r\n", "\r" or "\n" (the lines of a file opened with
# newline=""). Each range is then parsed by the csv module and its rows numbered from the count
# of rows before it, so a row gets the same position as from the single reader
# (:func:`iter_numbered_rows`). A file the patterns below do not accept as a whole (a quote never
# closed, a character after a closing quote, a record longer than a cell may be) is not cut:
# :func:`csv_record_ranges` says so and the caller reads it with the single reader, whose error
# names the line.
_QUOTED_CELL = rb'"[^"]*(?:""[^"]*)*"'
_PLAIN_CELL = rb'[^,"\r\n][^,\r\n]*'
_CELL = rb"(?:" + _QUOTED_CELL + rb"|" + _PLAIN_CELL + rb")?"
_CSV_RECORD = re.compile(_CELL + rb"(?:," + _CELL + rb")*(?:\r\n|\r|\n|\Z)")
# A record cut off inside a quoted cell by the end of what has been read so far (more to read).
_CSV_OPEN_RECORD = re.compile(rb"(?:" + _CELL + rb',)*"[^"]*(?:""[^"]*)*\Z')
# A byte that is always part of a non-blank cell; a record without one is parsed to tell.
_VISIBLE_BYTE = re.compile(rb"[\x21\x23-\x2b\x2d-\x7e]")
_UTF8_BOM = b"\xef\xbb\xbf"
_SCAN_BYTES = 1 << 20


def _blank_record(data: bytes) -> bool:
    """Whether one whole CSV record (bytes) is empty or holds only blank cells, as the reader sees it."""
    text = data.decode("utf-8", errors="replace")
    return is_blank(tuple(next(csv.reader(io.StringIO(text, newline=""), strict=True), [])))


def csv_record_ranges(path: str, range_bytes: int) -> list[tuple[int, int, int]] | None:
    """(start, end, rows before it) byte ranges of about ``range_bytes`` that start and end where
    records end and cover every row of an uncompressed CSV file after its header; None when the
    file is not well-formed CSV (see above), so only one reader can read it as the job does.

    One sequential pass, one regular-expression match per record; at most one record (and
    ``_SCAN_BYTES``) in memory."""
    ranges: list[tuple[int, int, int]] = []
    with open_input(path) as handle:
        buf, base, at, eof = handle.read(max(_SCAN_BYTES, len(_UTF8_BOM))), 0, 0, False
        if buf.startswith(_UTF8_BOM):
            at = len(_UTF8_BOM)
        start, first, rows = None, 0, 0  # start: of the range being cut (the header's end at first)
        while True:
            record = _CSV_RECORD.match(buf, at) if at < len(buf) else None
            if record is None or (record.end() == len(buf) and not eof):
                if eof:
                    if at < len(buf):
                        return None  # a quote open at the end of the file, or not CSV
                    break
                if record is None and at < len(buf) and not _CSV_OPEN_RECORD.match(buf, at):
                    return None  # not CSV here: a character after a closing quote
                if len(buf) - at > MAX_CSV_FIELD_CHARS:
                    return None  # the reader may find a cell over its limit: let it say where
                data = handle.read(max(_SCAN_BYTES, len(buf) - at))
                buf, base, at, eof = buf[at:] + data, base + at, 0, not data
                continue
            end = record.end()
            if end - at > MAX_CSV_FIELD_CHARS:
                return None
            if _VISIBLE_BYTE.search(buf, at, end) or not _blank_record(buf[at:end]):
                if start is None:
                    start = base + end  # the header ends: rows start here
                else:
                    rows += 1
            at = end
            if start is not None and base + end - start >= range_bytes:
                ranges.append((start, base + end, first))
                start, first = base + end, rows
        if start is not None and start < base + len(buf):
            ranges.append((start, base + len(buf), first))
    return ranges


class _Bounded(io.RawIOBase):
    """The next ``size`` bytes of a binary stream."""

    def __init__(self, stream, size: int):
        super().__init__()
        self._stream = stream
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(min(len(buffer), self._left))
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)


def iter_csv_range(unit: tuple[str, int, int, int]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(position, cells) of every row of one range (``path``, start, end, rows before it) of
    :func:`csv_record_ranges`: parsed as :func:`iter_raw_rows` parses the file, numbered as
    :func:`iter_numbered_rows` numbers it. ManifestError if the range is not CSV (the file changed
    since the scan)."""
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    path, start, end, first = unit
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as binary:
        binary.seek(start)
        bounded = io.BufferedReader(_Bounded(binary, end - start), 1 << 20)
        records = _parse_csv(bounded, "utf-8", lambda _: f"manifest {path!r}, bytes {start}-{end}")
        for number, cells in enumerate(records, start=first):
            yield f"{number:012d}", cells


def parquet_row_groups(path: str) -> list[tuple[int, str, int]]:
    """(file number, file, row group) of every row group of every Parquet file ``path`` names."""
    return [(number, name, group) for number, name, group, _ in row_group_sizes(path)]


def row_group_sizes(path: str) -> list[tuple[int, str, int, int]]:
    """(file number, file, row group, rows) of every row group of every Parquet file ``path``
    names, from the files' metadata."""
    units = []
    for number, (name, _) in enumerate(_matched(path)):
        with _open_parquet(name) as parquet:
            meta = parquet.metadata
            units.extend((number, name, group, meta.row_group(group).num_rows) for group in range(meta.num_row_groups))
    return units


def iter_row_group(unit: tuple[int, str, int]) -> Iterator[tuple[str, dict]]:
    """(position, row dict) of one Parquet row group."""
    number, name, group = unit
    with _open_parquet(name) as parquet:
        rows = parquet.read_row_group(group, use_threads=False).to_pylist()
    for index, row in enumerate(rows):
        yield f"{number:05d}:{group:09d}:{index:09d}", row
