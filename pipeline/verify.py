"""Leak verification: scan everything a run wrote for the raw identifiers of its input.

In:  the manifest (raw ``account_id``, ``device_serial`` and ``first_name`` of every row), the output
     directory (every file under it: reviewer and escalation shards, quarantine, report, logs), any
     extra files such as captured worker logs, and — to tie reviewer rows to their clips — the run's
     key (``review_id`` is a keyed hash of the clip id, recomputed here).
Out: :class:`Leak` records — which kind of value, from which manifest row, in which file and
     column. A leak record never contains the leaked value itself.

What counts as a leak (text is compared after :func:`normalise`: invisible characters removed,
NFKC, case and accents folded, look-alike letters in Latin — so a zero-width joiner, fullwidth
digits or a Cyrillic letter inside a serial hide nothing):

- An **account id or device serial** (at least ``MIN_ID_CHARS`` characters) anywhere, in any file:
  in every text column and line, and in the raw bytes of every file (audio included).
- A **first name** is row-bound: it is a leak in the reviewer or escalation row that came from its
  own clip (matched by recomputed ``review_id``; every free-text column), in the quarantine record
  of its own clip (by ``clip_id``), and in any log or report line that names its clip (its clip id
  or review id). It is matched as a whole word.
- A first name that is **not an ordinary English word** is also a leak in any free-text line of any
  file (logs, report, quarantine), whoever's clip the line is about. Names that are ordinary words
  ("Will", "Mark", "Can", "Per") are not searched in text that names no clip: third-party log lines
  (Beam, Presidio) are full of such words, and a finding there could not be told from chance.
- Reviewer columns with a fixed form (ids, pseudonyms, epoch, MIME type, locale, flags, entity
  types, provenance) are checked against that form instead: a value that breaks it is a finding
  (``contract``), so nothing free-form can hide in them.

Without the key, reviewer rows cannot be tied to clips: names that are not ordinary words are then
searched in every row, ordinary-word names in none, and the result says how many were unscoped.
A first name equal to an allow-listed term (a customer called "Alexa" and the wake word "alexa") is
not searched; how many were skipped is reported. All ids are searched at once with Aho-Corasick
(``pyahocorasick``): one pass over each output, however many manifest rows.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

import ahocorasick

from pipeline.parquet_io import iter_batches
from pipeline.verify_columns import CONTRACTS, NOT_TEXT
from transforms.core.text import skeleton

MIN_ID_CHARS = 6
MIN_NAME_CHARS = 2
CHUNK_BYTES = 8 << 20
PARQUET_BATCH_ROWS = 256


def normalise(text: str) -> str:
    """The form both needles and outputs are compared in: :func:`transforms.core.text.skeleton`
    (invisible characters removed, NFKC, case and accents folded, look-alike letters in Latin)."""
    return skeleton(text)


# Ids mix letters and digits, so a look-alike may stand for either ("G09ОXF…" with a Cyrillic О for
# the zero): ids are compared with o/0 and l/i/1 read as one. Names are not (Ali is not "all").
_ID_FOLD = str.maketrans({"o": "0", "l": "1", "i": "1", "|": "1"})


def id_key(text: str) -> str:
    """The form ids are compared in: :func:`normalise`, with o/0 and l/i/1 read as one."""
    return normalise(text).translate(_ID_FOLD)


class Leak(NamedTuple):
    kind: str  # account_id | device_serial | first_name | contract
    row: int  # manifest row number (1-based); 0 for a contract finding
    path: str
    where: str  # column name, "bytes", "text" or "line N"

    def describe(self) -> str:
        if self.kind == "contract":
            return f"a value that breaks the reviewer column's form in {self.path} ({self.where})"
        return f"{self.kind} of manifest row {self.row} found in {self.path} ({self.where})"


class Needles(NamedTuple):
    """What to look for, and where each first name is in scope."""

    ids: ahocorasick.Automaton | None  # long ids in their id_key form → owners
    raw_ids: ahocorasick.Automaton | None  # lower-cased raw long ids, for raw bytes
    names: dict[str, list[tuple[str, int]]]  # scope ("clip:<id>" / "review:<id>") → [(name, row)]
    free_names: ahocorasick.Automaton | None  # names that are not ordinary words
    scopes: ahocorasick.Automaton | None  # clip ids and review ids, to see which clips a line names
    count: int
    rows: int = 0
    skipped_names: int = 0
    scoped: bool = False  # reviewer rows tied to clips by review id (the run's key was given)
    unscoped_names: int = 0  # ordinary-word names not searched in reviewer rows (no key)
    masks: tuple[str, ...] = ()  # normalised operator paths, blanked out of text before names are searched


def _automaton(entries: dict[str, list[tuple[str, int]]]) -> ahocorasick.Automaton | None:
    if not entries:
        return None
    automaton = ahocorasick.Automaton()
    for value, owners in entries.items():
        automaton.add_word(value, (len(value), tuple(owners)))
    automaton.make_automaton()
    return automaton


def ordinary_words() -> frozenset[str]:
    """Every lower-case entry of the project's English dictionary ("can", "per", "will", "ed"), and the
    calendar words it lists capitalised."""
    from transforms.redaction.wordlists import dictionary_words

    calendar = "january february march april may june july august september october november december "
    calendar += "monday tuesday wednesday thursday friday saturday sunday"
    return dictionary_words() | frozenset(calendar.split())


class RowNeedles(NamedTuple):
    """What one manifest row gives either check to search for (:func:`row_needles`)."""

    ids: tuple[tuple[str, str, str], ...]  # (id_key form, raw lower-case form, kind) of account id / serial
    scopes: tuple[tuple[str, str], ...]  # (normalised clip or review id, "clip:<id>" / "review:<id>")
    clip_id: str
    review: str | None
    name: str  # the normalised first name to search ("" if none, too short or allow-listed)
    skipped: bool  # the first name equals an allow-listed term: not searched
    free: bool  # the name is not only ordinary words: also searched in text about no clip
    unscoped: bool  # an ordinary-word name that no reviewer row can be tied to: searched nowhere there


def row_needles(
    row: dict,
    allowed: frozenset[str] | set[str],
    ordinary: frozenset[str],
    review_id_of: Callable[[dict], str | None] | None,
) -> RowNeedles:
    """The rules, in one place, by which a manifest row's values become needles: ids of at least
    ``MIN_ID_CHARS`` characters, the clip and review ids that scope row-bound names, and the first
    name (see the module docstring). Used by :func:`needles_from_rows` and the Beam check
    (:mod:`pipeline.leak_keys`)."""
    ids = []
    for kind in ("account_id", "device_serial"):
        value = row.get(kind)
        if isinstance(value, str) and len(id_key(value.strip())) >= MIN_ID_CHARS:
            ids.append((id_key(value.strip()), value.strip().lower(), kind))
    clip_id = row.get("clip_id")
    clip_id = clip_id.strip() if isinstance(clip_id, str) else ""
    review = review_id_of(row) if review_id_of else None
    scopes = tuple((normalise(v), f"{kind}:{v}") for kind, v in (("clip", clip_id), ("review", review)) if v)
    name = row.get("first_name")
    name = normalise(name.strip()) if isinstance(name, str) else ""
    if len(name) < MIN_NAME_CHARS:
        name = ""
    skipped = bool(name) and name in allowed
    if skipped:
        name = ""
    free = bool(name) and not all(word in ordinary for word in re.findall(r"\w+", name))
    unscoped = bool(name) and not free and (review_id_of is None or not review)
    return RowNeedles(tuple(ids), scopes, clip_id, review, name, skipped, free, unscoped)


def needles_from_rows(
    rows: Iterable[dict],
    allowed_terms: Iterable[str] = (),
    review_id_of: Callable[[dict], str | None] | None = None,
    operator_paths: Iterable[str] = (),
) -> Needles:
    """Search structures for every raw identifier in manifest rows.

    ``review_id_of`` maps a manifest row to the ``review_id`` its reviewer row carries (None when
    it cannot: a bad row, an epoch without a key); without it reviewer rows are not tied to clips.
    ``operator_paths`` (the output folder, the manifest's folder, the working and home folders) are
    the operator's choice, not customer data: they are blanked out of a line before first names are
    searched in it (so a customer called Priya does not fail every run under /home/priya). Ids are
    still searched in the whole line.
    """
    ids: dict[str, list[tuple[str, int]]] = defaultdict(list)
    raw_ids: dict[str, list[tuple[str, int]]] = defaultdict(list)
    names: dict[str, list[tuple[str, int]]] = defaultdict(list)
    free: dict[str, list[tuple[str, int]]] = defaultdict(list)
    scopes: dict[str, list[tuple[str, int]]] = defaultdict(list)
    allowed = {normalise(term.strip()) for term in allowed_terms}
    ordinary = ordinary_words()
    count = skipped = unscoped = number = 0
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            continue
        needles = row_needles(row, allowed, ordinary, review_id_of)
        for keyed, raw, kind in needles.ids:
            ids[keyed].append((kind, number))
            raw_ids[raw].append((kind, number))
            count += 1
        for scope, label in needles.scopes:
            scopes[scope].append((label, number))
        skipped += needles.skipped
        unscoped += needles.unscoped
        if not needles.name:
            continue
        count += 1
        if needles.clip_id:
            names[f"clip:{needles.clip_id}"].append((needles.name, number))
        if needles.review:
            names[f"review:{needles.review}"].append((needles.name, number))
        if needles.free:
            free[needles.name].append(("first_name", number))
    return Needles(
        _automaton(ids),
        _automaton(raw_ids),
        dict(names),
        _automaton(free),
        _automaton(scopes),
        count,
        number,
        skipped,
        review_id_of is not None,
        unscoped,
        tuple(sorted({normalise(p) for p in operator_paths if p and len(p) > 1}, key=len, reverse=True)),
    )


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


def _whole_word_at(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not _is_word_char(before) and not _is_word_char(after)


def _find_word(text: str, word: str) -> bool:
    at = text.find(word)
    while at >= 0:
        if _whole_word_at(text, at, at + len(word)):
            return True
        at = text.find(word, at + 1)
    return False


def _hits(automaton, text: str, whole_words: bool) -> Iterator[tuple[int, int, tuple]]:
    if automaton is None:
        return
    for end, (length, owners) in automaton.iter(text):
        start = end - length + 1
        if not whole_words or _whole_word_at(text, start, end + 1):
            yield start, end + 1, owners


def scan_text(text: str, needles: Needles, path: str, where: str, scopes: Iterable[str] = ()) -> set[Leak]:
    """Ids anywhere; names of the given scopes, and names that are not ordinary words, as words.

    With no scope given, the scopes are the clips the text names (clip ids, review ids)."""
    text = normalise(text)
    keyed = text.translate(_ID_FOLD)
    leaks = {Leak(kind, row, path, where) for _, _, owners in _hits(needles.ids, keyed, False) for kind, row in owners}
    for mask in needles.masks:
        text = text.replace(mask, " ")
    leaks |= {Leak(k, row, path, where) for _, _, owners in _hits(needles.free_names, text, True) for k, row in owners}
    scopes = list(scopes) or [scope for _, _, owners in _hits(needles.scopes, text, True) for scope, _ in owners]
    for scope in scopes:
        for name, row in needles.names.get(scope, ()):
            if _find_word(text, name):
                leaks.add(Leak("first_name", row, path, where))
    return leaks


def scan_bytes(data: bytes, needles: Needles, path: str, where: str) -> set[Leak]:
    """Ids only (latin-1 maps bytes 1:1 to characters, so byte offsets are kept)."""
    if needles.raw_ids is None:
        return set()
    lowered = data.decode("latin-1").lower()
    return {Leak(kind, row, path, where) for _, (_, owners) in needles.raw_ids.iter(lowered) for kind, row in owners}


def _scan_byte_stream(handle, needles: Needles, path: str) -> set[Leak]:
    """Ids in a file's raw bytes, read in chunks that overlap by the longest id (memory stays flat)."""
    if needles.raw_ids is None:
        return set()
    overlap = needles.raw_ids.get_stats()["longest_word"] - 1
    leaks: set[Leak] = set()
    tail = b""
    while chunk := handle.read(CHUNK_BYTES):
        data = tail + chunk
        leaks |= scan_bytes(data, needles, path, "bytes")
        tail = data[-overlap:] if overlap > 0 else b""
    return leaks


def _cell_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)


def _scan_parquet(needles: Needles, path: str) -> set[Leak]:
    import pyarrow as pa

    leaks: set[Leak] = set()
    for batch in iter_batches(path, PARQUET_BATCH_ROWS):
        columns = dict(zip(batch.schema.names, batch.columns, strict=True))
        review_ids = columns["review_id"].to_pylist() if "review_id" in columns else [None] * batch.num_rows
        for name, column in columns.items():
            values = column.to_pylist()
            if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
                for value in values:
                    leaks |= scan_bytes(value or b"", needles, path, name)
                continue
            if name in NOT_TEXT:
                continue
            for value, review in zip(values, review_ids, strict=True):
                text = _cell_text(value)
                contract = CONTRACTS.get(name)
                if contract is not None and value is not None and not contract(text):
                    leaks.add(Leak("contract", 0, path, name))
                scopes = [f"review:{review}"] if needles.scoped and review else ["-"]
                found = scan_text(text, needles, path, name, scopes)
                if contract is not None:  # a fixed-form value cannot carry a name; ids are still searched
                    found = {leak for leak in found if leak.kind != "first_name"}
                leaks |= found
    return leaks


def _scan_lines(data: bytes, needles: Needles, path: str, quarantine: bool) -> set[Leak]:
    leaks: set[Leak] = set()
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
        where = f"line {number}"
        record = _json_object(line) if quarantine else None
        if record is None:
            leaks |= scan_text(line, needles, path, where)
            continue
        # A quarantine record is about its clip; its clip_id field is the manifest's own key (ids are
        # searched in it, names are not: "c-mark" names Mark's clip, it does not leak Mark's name).
        clip_id = record.pop("clip_id", None)
        clip_id = clip_id.strip() if isinstance(clip_id, str) else ""
        rest = json.dumps(record, ensure_ascii=False, sort_keys=True)
        leaks |= scan_text(rest, needles, path, where, [f"clip:{clip_id}"] if clip_id else ["-"])
        leaks |= {leak for leak in scan_text(clip_id, needles, path, where, ["-"]) if leak.kind != "first_name"}
    return leaks


def _json_object(line: str) -> dict | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def scan_file(path: str, needles: Needles) -> list[Leak]:
    """Every leak of any needle in one file (any Beam filesystem). Parquet shards are streamed
    (raw bytes in chunks, then batch by batch); other outputs (quarantine, report, logs) are read
    whole and scanned line by line."""
    from apache_beam.io.filesystems import FileSystems

    from pipeline.layout import QUARANTINE_DIR

    if path.endswith(".parquet"):
        with FileSystems.open(path) as handle:
            leaks = _scan_byte_stream(handle, needles, path)
        return sorted(leaks | _scan_parquet(needles, path))
    with FileSystems.open(path) as handle:
        data = handle.read()
    quarantine = f"/{QUARANTINE_DIR}/" in path.replace(os.sep, "/")
    return sorted(scan_bytes(data, needles, path, "bytes") | _scan_lines(data, needles, path, quarantine))


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
