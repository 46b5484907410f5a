"""Opt-out and deletion-request lists: one strict parser, used on the launcher and on the workers.

In:  a configured list path — one file or a glob (``gs://bucket/optout/part-*``) on any Beam
     filesystem, optionally compressed (``.gz``, ``.bz2``, ``.zst``, ``.xz``, ``.deflate``).
     Encoding from a byte-order mark: UTF-8 (the mark is dropped), UTF-16 or UTF-32 LE/BE;
     without a mark, strict UTF-8. Line ends ``\\n``, ``\\r\\n`` or ``\\r``.
     - a plain list (``.txt``, ``.lst``, no extension, anything not below): one account id per
       line; blank lines, full-line ``#`` comments and a trailing ``# comment`` after whitespace
       are allowed; one pair of matching quotes around the id is removed.
     - a ``.csv`` (or ``.tsv``) list: a header row naming the id column (``account_id`` by
       default, ``policy.list_id_column``), quoted fields as CSV allows; other columns ignored.
Out: the canonical form (``transforms.core.ids.canonical_id``) of every listed id, streamed: a
     list of millions of lines is never held in memory.
Fails: :class:`ListFormatError` naming the file, the line NUMBER and the rule broken — never the
     line itself — for any line that is not exactly one valid id, a byte sequence that is not
     text in the detected encoding, a directory, a glob that matches nothing, or a format that is
     not a list. An honoured opt-out is the law, so a list that cannot be read exactly stops the
     run: on the launcher before anything runs (exit 2), on a worker by failing the job.
"""

from __future__ import annotations

import codecs
import csv
import glob as globlib
import os
import re
from collections.abc import Iterable, Iterator

from transforms.core.files import COMPRESSED_SUFFIXES, TruncatedInputError, open_input
from transforms.core.ids import canonical_id, invalid_reason, valid_id

CHUNK_BYTES = 1 << 20
MAX_LINE_CHARS = 1 << 16
DEFAULT_ID_COLUMN = "account_id"
_BOMS = (  # longest first: the UTF-32 LE mark begins with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_NOT_A_LIST = (".parquet", ".json", ".jsonl", ".ndjson", ".xlsx", ".xls", ".ods", ".zip", ".7z", ".tar")
_GLOB = re.compile(r"[*?\[]")
_INLINE_COMMENT = re.compile(r"\s#")
_NEWLINE = re.compile(r"\r\n|\r|\n")
# The common line: one plain ASCII id, perhaps padded. Taken without the general steps below,
# which give the same result for it (a million-line list is checked at launch: this halves it).
_SIMPLE_LINE = re.compile(r"[ \t]*([!$%&()*+\-./0-9:<=>?@A-Z\[\\\]^_`a-z{}~]{1,256})[ \t]*")


class ListFormatError(ValueError):
    """A list that cannot be read exactly. The message names the file and line, never a value."""

    def __init__(self, path: str, line: int | None, rule: str):
        self.path, self.line, self.rule = path, line, rule
        where = f"{path}, line {line}" if line else path
        super().__init__(f"{where}: {rule}")


def list_format(path: str) -> str:
    """'csv', 'tsv' or 'plain' from the file name (compression suffix removed); refuses data formats."""
    name = path.lower()
    for suffix in COMPRESSED_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    if name.endswith(_NOT_A_LIST):
        raise ListFormatError(
            path, None, "not a list format: use a text file (one id per line) or a .csv with a header"
        )
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".tsv"):
        return "tsv"
    return "plain"


def list_files(pattern: str) -> list[str]:
    """The files a configured list path names: the file itself or a glob's matches, sorted.

    A directory is refused rather than read whole: it may hold files that are not lists (a
    README, ``_SUCCESS``, ``.crc`` checksums), and reading them would make a run depend on them."""
    from apache_beam.io.filesystems import FileSystems

    hint = "name the list files or a glob such as 'optout/*.txt'"
    if pattern.endswith(("/", os.sep)):
        raise ListFormatError(pattern, None, f"is a directory; {hint}")
    try:
        matched = FileSystems.match([pattern])[0].metadata_list
    except Exception as exc:  # noqa: BLE001 - any filesystem error means the list cannot be read
        raise ListFormatError(pattern, None, f"cannot be listed ({type(exc).__name__})") from None
    if not matched:
        what = (
            "matches no file" if _GLOB.search(pattern) else "not found (a directory must be named as files or a glob)"
        )
        raise ListFormatError(pattern, None, what)
    files = sorted(m.path for m in matched)
    # Beam's local glob leaves folders out: a folder of more lists would be skipped in silence.
    local = [] if "://" in pattern else globlib.glob(pattern)
    for path in [*files, *local]:
        if "://" not in path and os.path.isdir(path):
            raise ListFormatError(path, None, f"is a directory; {hint}")
    return files


def iter_list_ids(path: str, case_sensitive: bool = False, id_column: str = DEFAULT_ID_COLUMN) -> Iterator[str]:
    """Canonical ids of one list file, in file order; ListFormatError on the first bad line."""
    fmt = list_format(path)
    try:
        handle = open_input(path)
    except Exception as exc:  # noqa: BLE001
        raise ListFormatError(path, None, f"cannot be opened ({type(exc).__name__})") from None
    with handle:
        lines = _decoded_lines(handle, path)
        if fmt == "plain":
            yield from _plain_ids(lines, path, case_sensitive)
        else:
            yield from _csv_ids(lines, path, case_sensitive, id_column, "\t" if fmt == "tsv" else ",")


def list_entries(element: tuple[str, str], case_sensitive: bool, id_column: str) -> Iterator[tuple[str, str]]:
    """``(reason, file)`` → ``(canonical id, reason)`` for every id of the file (a Beam FlatMap)."""
    reason, path = element
    for account in iter_list_ids(path, case_sensitive, id_column):
        yield account, reason


def check_list(pattern: str, case_sensitive: bool = False, id_column: str = DEFAULT_ID_COLUMN) -> int:
    """Read every file a list path names once, as the job will; the number of ids. Raises
    ListFormatError. Streams: memory stays flat however long the list."""
    return sum(1 for path in list_files(pattern) for _ in iter_list_ids(path, case_sensitive, id_column))


def _plain_ids(lines: Iterable[tuple[int, str]], path: str, case_sensitive: bool) -> Iterator[str]:
    for number, line in lines:
        simple = _SIMPLE_LINE.fullmatch(line)
        if simple:
            yield simple.group(1) if case_sensitive else simple.group(1).lower()
            continue
        text = canonical_id(line, case_sensitive=True)  # NFKC, no invisible characters, stripped
        if not text or text.startswith("#"):
            continue
        comment = _INLINE_COMMENT.search(text)
        if comment:
            text = text[: comment.start()].rstrip()
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
            text = text[1:-1]
        yield _checked(text, path, number, case_sensitive)


def _csv_ids(
    lines: Iterable[tuple[int, str]], path: str, case_sensitive: bool, id_column: str, delimiter: str
) -> Iterator[str]:
    reader = csv.reader((line + "\n" for _, line in lines), delimiter=delimiter, strict=True)
    column = None
    try:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if column is None:
                column = _id_column(record, path, reader.line_num, id_column)
                continue
            if column >= len(record):
                raise ListFormatError(path, reader.line_num, f"no '{id_column}' cell")
            yield _checked(record[column], path, reader.line_num, case_sensitive)
    except csv.Error as exc:
        raise ListFormatError(path, reader.line_num, f"malformed CSV ({exc})") from None


def _id_column(header: list[str], path: str, line: int, id_column: str) -> int:
    names = [canonical_id(name) for name in header]
    wanted = canonical_id(id_column)
    if names.count(wanted) != 1:
        problem = "no" if wanted not in names else "more than one"
        raise ListFormatError(path, line, f"header row has {problem} '{id_column}' column (a CSV list needs a header)")
    return names.index(wanted)


def _checked(text: str, path: str, line: int, case_sensitive: bool) -> str:
    account = canonical_id(text, case_sensitive)
    if not valid_id(account):
        raise ListFormatError(path, line, f"not one valid account id: {invalid_reason(account)}")
    return account


def _decoded_lines(handle, path: str) -> Iterator[tuple[int, str]]:
    """(line number, text) of a byte stream: encoding from its BOM (else strict UTF-8), any line end."""
    head = _read(handle, max(CHUNK_BYTES, 4), path, 1)  # a byte-order mark is up to 4 bytes
    encoding, skip = "utf-8", 0
    for bom, name in _BOMS:
        if head.startswith(bom):
            encoding, skip = name, len(bom)
            break
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    number, pending, chunk = 0, "", head[skip:]
    while True:
        final = not chunk
        try:
            text = decoder.decode(chunk, final=final)
        except UnicodeDecodeError as exc:
            before = exc.object[: exc.start].decode(encoding, errors="replace")
            line = number + len(_NEWLINE.findall(pending + before)) + 1
            raise ListFormatError(path, line, f"not {encoding.upper()} text") from None
        text = pending + text
        if text.endswith("\r") and not final:  # maybe the first half of "\r\n"
            text, pending = text[:-1], "\r"
        else:
            pending = ""
        parts = _NEWLINE.split(text)
        pending = parts.pop() + pending
        for part in parts:
            number += 1
            yield number, part
        if len(pending) > MAX_LINE_CHARS:
            raise ListFormatError(path, number + 1, f"line longer than {MAX_LINE_CHARS} characters")
        if final:
            break
        chunk = _read(handle, CHUNK_BYTES, path, number + 1)
    if pending:
        yield number + 1, pending


def _read(handle, size: int, path: str, line: int) -> bytes:
    try:
        return handle.read(size)
    except Exception as exc:  # noqa: BLE001 - a corrupt or cut-off compressed stream, a filesystem error
        detail = str(exc) if isinstance(exc, TruncatedInputError) else type(exc).__name__
        raise ListFormatError(path, line, f"cannot be read ({detail})") from None
