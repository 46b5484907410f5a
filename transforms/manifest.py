"""Manifest stage: ``ReadClips`` (and the keys-only ``ReadClipKeys``).

In:  a manifest of raw clips — JSON Lines (``.jsonl``/``.json``/``.ndjson``), CSV (``.csv``,
     header row; quoted cells may span lines; a ``words`` cell holds JSON) or Parquet
     (``.parquet``) — on any Beam filesystem. Text manifests may be compressed (``.jsonl.gz``,
     ``.csv.bz2``, … any compression Beam knows); a UTF-8 byte-order mark is ignored. One row
     per clip: ``clip_id``, ``audio_uri`` (relative to the manifest, absolute, or a URI such as
     ``gs://``), ``transcript``, optional ``words`` (word, start_s, end_s), ``account_id``,
     ``first_name``, ``device_serial``, ``recorded_at`` (ISO 8601), ``locale``,
     ``wake_word_detected``, and any extra columns (read, never written anywhere).
Out: validated :class:`transforms.core.records.Clip` records, each with ``source_row`` (where its
     row was read: the policy stage tells the copies of a repeated clip id apart by it).
     ``locale`` is standardised as a BCP 47 tag (``en_US`` → ``en-US``); a value that is not a
     valid tag becomes ``und`` and is counted (``manifest/locale_invalid``), never quarantined
     and never written.
Fails: an unparseable line or a row with a missing or wrongly typed field, or an ``account_id``
     that is not one id an opt-out list could name, becomes a failure (stage ``manifest``) with
     a message naming the field, never its value. An unknown format, a CSV header without the
     required columns (refused before the run: :func:`check_manifest`) or a CSV file that is
     not CSV (an unterminated quote: the job fails, nothing is published) stop the run.

Every manifest row is counted once (``manifest/rows``), so the run report can check that rows in
equals rows out; the leak verifier reads rows with the same iterator (:func:`iter_manifest_rows`),
so the two counts cannot disagree on what a row is.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import math
import posixpath
import re
from collections.abc import Callable
from typing import Any

import apache_beam as beam

from transforms.core.dedupe import RepeatedIdHashes, id_hash, survivor_rank
from transforms.core.failures import ClipError, failure_from
from transforms.core.ids import canonical_id, valid_id
from transforms.core.records import Clip, Failure, Word
from transforms.core.stage import FAILURES, StageCounters, StageOutputs, guarded
from transforms.manifest_rows import (  # noqa: F401 - iter_manifest_rows: the verifier's reader, re-exported
    check_manifest,
    csv_record_ranges,
    decode_row,
    is_blank,
    iter_csv_range,
    iter_line_range,
    iter_manifest_rows,
    iter_numbered_rows,
    iter_row_group,
    line_ranges,
    manifest_format,
    parquet_row_groups,
    split_compression,
)

STAGE = "manifest"
MAX_CLIP_ID_CHARS = 200
MAX_LOCALE_CHARS = 64
_CLIP_ID_IN_LINE = re.compile(r'"clip_id"\s*:\s*"([A-Za-z0-9_.:\-]{1,200})"')
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def resolve_uri(audio_uri: str, manifest_dir: str) -> str:
    """Absolute paths and scheme URIs stay; relative ones are joined to the manifest's directory."""
    if _SCHEME.match(audio_uri) or audio_uri.startswith("/"):
        return audio_uri
    if _SCHEME.match(manifest_dir):
        return manifest_dir.rstrip("/") + "/" + audio_uri
    return posixpath.normpath(posixpath.join(manifest_dir, audio_uri))


@functools.lru_cache(maxsize=4096)
def standard_locale(value: str) -> str | None:
    """A BCP 47 tag in its standard form (``en_US`` → ``en-US``, ``iw`` → ``he``), or None.

    Only language, script, region and registered variants are kept: extensions and private-use
    subtags (``en-x-48291055``) can carry any text, an account number included."""
    import langcodes

    text = value.strip().replace("_", "-")
    if not text or len(text) > MAX_LOCALE_CHARS or not text.isascii():
        return None
    try:
        tag = langcodes.Language.get(text, normalize=True)
        core = langcodes.Language.make(
            language=tag.language, script=tag.script, territory=tag.territory, variants=tag.variants
        ).to_tag()
    except (ValueError, TypeError):
        return None
    if core.startswith("x-") or not langcodes.tag_is_valid(core):
        return None
    return core


def _locale(row: dict, on_bad_locale: Callable[[], None] | None) -> str:
    value = row.get("locale")
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return "und"
    standard = standard_locale(value) if isinstance(value, str) else None
    if standard is None:
        if on_bad_locale:
            on_bad_locale()
        return "und"
    return standard


def _text(row: dict, name: str, required: bool, allow_empty: bool = False) -> str:
    value = row.get(name)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        if required:
            raise ClipError("missing_field", f"required field '{name}' is missing")
        return ""
    if not isinstance(value, str):
        raise ClipError("bad_type", f"field '{name}' must be a string, got {type(value).__name__}")
    if required and not allow_empty and not value.strip():
        raise ClipError("missing_field", f"required field '{name}' is empty")
    return value


def _account(row: dict) -> str:
    account = _text(row, "account_id", required=True)
    if not valid_id(canonical_id(account)):
        # An id no opt-out list could name cannot be checked against the lists: fail closed.
        raise ClipError("bad_value", "field 'account_id' is not one id (whitespace, separators or quotes inside)")
    return account


def _timestamp(row: dict) -> datetime.datetime:
    raw = _text(row, "recorded_at", required=True)
    try:
        stamp = datetime.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ClipError("bad_timestamp", "field 'recorded_at' is not an ISO 8601 timestamp") from None
    if stamp.tzinfo is None:  # documented: naive timestamps are taken as UTC
        stamp = stamp.replace(tzinfo=datetime.timezone.utc)
    return stamp.astimezone(datetime.timezone.utc)


def _flag(row: dict) -> bool | None:
    value = row.get("wake_word_detected")
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ClipError("bad_type", "field 'wake_word_detected' must be a boolean")


def _words(row: dict) -> tuple[Word, ...]:
    value = row.get("words")
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ClipError("bad_type", "field 'words' is not valid JSON") from None
    if not isinstance(value, (list, tuple)):
        raise ClipError("bad_type", "field 'words' must be a list")
    words = []
    for index, item in enumerate(value):
        try:
            word = Word(str(item["word"]), float(item["start_s"]), float(item["end_s"]))
        except (KeyError, TypeError, ValueError):
            raise ClipError("bad_type", f"words[{index}] needs word, start_s and end_s") from None
        if not (0.0 <= word.start_s <= word.end_s) or not math.isfinite(word.end_s):
            raise ClipError("bad_value", f"words[{index}] has an invalid time range")
        words.append(word)
    return tuple(words)


def parse_clip(row: Any, manifest_dir: str, on_bad_locale: Callable[[], None] | None = None) -> Clip:
    """Validate one manifest row into a Clip; raises ClipError naming the field, never the value.

    ``on_bad_locale`` is called when the row's locale is not a valid BCP 47 tag (it becomes 'und')."""
    if not isinstance(row, dict):
        raise ClipError("bad_row", "manifest row is not an object")
    clip_id = _text(row, "clip_id", required=True)
    if len(clip_id) > MAX_CLIP_ID_CHARS or any(ord(c) < 32 for c in clip_id):
        raise ClipError("bad_value", "field 'clip_id' is too long or has control characters")
    return Clip(
        clip_id=clip_id,
        audio_uri=resolve_uri(_text(row, "audio_uri", required=True), manifest_dir),
        transcript=_text(row, "transcript", required=True, allow_empty=True),
        account_id=_account(row),
        recorded_at=_timestamp(row),
        first_name=_text(row, "first_name", required=False),
        device_serial=_text(row, "device_serial", required=False),
        locale=_locale(row, on_bad_locale),
        wake_word_detected=_flag(row),
        words=_words(row),
    )


def unparsed_id(line) -> str:
    """An id for a row that did not parse: its clip_id if one is visible, else a content hash."""
    text = "\x1f".join(line) if isinstance(line, tuple) else str(line)
    match = _CLIP_ID_IN_LINE.search(text)
    if match:
        return match.group(1)
    return "unparsed-" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:12]


def row_failure(exc: Exception, raw, fmt: str, csv_header: tuple[str, ...] = ()) -> Failure:
    """The failure record of a raw manifest row: its clip id if one can be read, every raw value of
    the row (and, for a line that does not parse, every word of it) scrubbed from the message."""
    try:
        row = decode_row(raw, fmt, csv_header)
    except Exception:  # noqa: BLE001 - the row itself is what failed
        row = None
    clip_id = unparsed_id(raw) if isinstance(raw, (str, tuple)) else None
    if row is None:
        text = " ".join(raw) if isinstance(raw, tuple) else str(raw)
        return failure_from(exc, STAGE, clip_id or "unknown", (), text)
    if isinstance(row.get("clip_id"), str) and row["clip_id"].strip():
        clip_id = row["clip_id"][:MAX_CLIP_ID_CHARS]
    sensitive = [str(row.get(k, "")) for k in ("account_id", "first_name", "device_serial", "audio_uri")]
    transcript = row.get("transcript", "")
    return failure_from(exc, STAGE, clip_id or "unknown", sensitive, transcript if isinstance(transcript, str) else "")


class _ParseRowFn(beam.DoFn):
    """(position, raw row: line text, CSV cells or dict) → Clip with its ``source_row``, or a failure."""

    def __init__(self, fmt: str, manifest_dir: str, csv_header: tuple[str, ...] = ()):
        self._fmt = fmt
        self._dir = manifest_dir
        self._header = csv_header
        self.counters = StageCounters(STAGE)

    def process(self, element):
        position, raw = element
        if is_blank(raw):
            return iter(())
        self.counters.count("rows")
        bad_locale = functools.partial(self.counters.count, "locale_invalid")
        return guarded(
            self.counters,
            lambda: parse_clip(decode_row(raw, self._fmt, self._header), self._dir, bad_locale)._replace(
                source_row=position
            ),
            lambda exc: row_failure(exc, raw, self._fmt, self._header),
        )


def read_ranges(size_bytes: int) -> int:
    """Byte-range size for reading a text manifest: about 64 ranges (64 KB to 64 MB each).

    Beam's own split of a single file follows its size (a 1.3 MB manifest became a 1 MB and a
    0.3 MB range: one worker got 64 % of the clips). Many small ranges, spread by count, keep the
    workers evenly loaded; only the ranges pass through the runner, never the rows."""
    return max(64 << 10, min(64 << 20, size_bytes // 64))


def _csv_units(path: str, range_bytes: int):
    """An uncompressed CSV manifest → (path, start, end, rows before it) for each byte range of
    :func:`csv_record_ranges`, or one (path, 0, -1, 0) for the whole file when it cannot be cut
    (it is not well-formed CSV)."""
    ranges = csv_record_ranges(path, range_bytes)
    if ranges is None:
        yield path, 0, -1, 0
        return
    for start, end, first in ranges:
        yield path, start, end, first


def _read_csv_unit(unit: tuple[str, int, int, int]):
    """(position, cells) of the rows of one unit of :func:`_csv_units`: a range, or the whole file
    read by the single reader (which fails naming the line, as before: the read of a file the scan
    did not accept fails, so its rows are not spread over the workers)."""
    if unit[2] < 0:
        return iter_numbered_rows(unit[0])
    return iter_csv_range(unit)


def _read_rows(pbegin, path: str, fmt: str):
    """(position, raw row) of every manifest row: dicts (Parquet), lines (JSON Lines) or record
    cells (CSV, header skipped), each with where it was read (see :mod:`transforms.manifest_rows`).

    Every read starts from ``Create([path])``, so runners without bounded-source reads (Dask) run
    it too. Plain JSON Lines and plain CSV are read as many byte ranges and Parquet by row group:
    only those units are reshuffled to the workers, never the rows, so rows stream from the read
    on. A CSV record may span lines, so its ranges are cut where one sequential scan of the file
    finds records end (:func:`csv_record_ranges`, no cell parsed), and each range numbers its rows
    from the count of rows before it: the same positions as one reader gives. A CSV file the scan
    does not accept (an unclosed quote) is one unit read by the single reader, which fails the
    read as before. A compressed file cannot be split, so it is streamed by one reader (the same
    iterator the leak verifier uses) and reshuffled, so that the workers still share the rows (on
    a runner that keeps shuffles in memory, such as the DirectRunner, that shuffle holds every
    row: prefer uncompressed manifests when they are large). No ``Flatten`` joins two ways of
    reading: the DirectRunner would hold what passes through it."""
    start = pbegin | "ManifestPath" >> beam.Create([path])
    if fmt == "parquet":
        return (
            start
            | "RowGroups" >> beam.FlatMap(parquet_row_groups)
            | "SpreadRowGroups" >> beam.Reshuffle()
            | "ReadRowGroups" >> beam.FlatMap(iter_row_group)
        )
    if split_compression(path)[1]:
        return start | "ReadRows" >> beam.FlatMap(iter_numbered_rows) | "SpreadRows" >> beam.Reshuffle()
    from apache_beam.io.filesystems import FileSystems

    size = sum(m.size_in_bytes for m in FileSystems.match([path])[0].metadata_list)
    if fmt == "csv":
        return (
            start
            | "CsvRanges" >> beam.FlatMap(_csv_units, read_ranges(size))
            | "SpreadCsvRanges" >> beam.Reshuffle()
            | "ReadCsvRanges" >> beam.FlatMap(_read_csv_unit)
        )
    return (
        start
        | "ByteRanges" >> beam.FlatMap(line_ranges, read_ranges(size))
        | "SpreadRanges" >> beam.Reshuffle()
        # A non-UTF-8 byte must not kill the whole read: decoded leniently, validated per row.
        | "ReadLines" >> beam.FlatMap(iter_line_range)
    )


class ReadClips(beam.PTransform):
    """Read a manifest and validate each row into a Clip."""

    def __init__(self, manifest_path: str):
        super().__init__()
        self._header = check_manifest(manifest_path)
        self._path = manifest_path
        self._fmt = manifest_format(manifest_path)
        self._dir = posixpath.dirname(manifest_path) or "."

    def expand(self, pbegin) -> StageOutputs:
        raw = _read_rows(pbegin, self._path, self._fmt)
        results = raw | "Validate" >> beam.ParDo(_ParseRowFn(self._fmt, self._dir, self._header)).with_outputs(
            FAILURES, main="main"
        )
        return StageOutputs(results.main, results[FAILURES])


class _KeysFn(beam.DoFn):
    """(position, raw row) → (clip_id, account_id[, survivor rank]) of a valid clip; nothing for a
    bad row, and no counters (``ReadClips`` counts every row and quarantines the bad ones). With
    the side input ``repeated`` (hashes of repeated ids), only rows whose id has one of them."""

    def __init__(self, fmt: str, manifest_dir: str, csv_header: tuple[str, ...] = (), ranked: bool = False):
        self._fmt = fmt
        self._dir = manifest_dir
        self._header = csv_header
        self._ranked = ranked

    def process(self, element, repeated=None):
        position, raw = element
        if is_blank(raw):
            return
        if repeated is not None and not repeated:
            return  # no id is repeated: nothing to parse
        try:
            clip = parse_clip(decode_row(raw, self._fmt, self._header), self._dir)
        except Exception:  # noqa: BLE001 - counted and quarantined by ReadClips
            return
        if repeated is not None and id_hash(clip.clip_id) not in repeated:
            return
        if self._ranked:
            yield clip.clip_id, clip.account_id, survivor_rank(clip._replace(source_row=position))
        else:
            yield clip.clip_id, clip.account_id


class ReadClipKeys(ReadClips):
    """A second, keys-only read of the manifest: ``(clip_id, account_id)`` of every valid row, and
    with ``ranked=True`` also each row's survivor rank (:func:`transforms.core.dedupe.survivor_rank`,
    from the same row and position as ``ReadClips`` gives the clip).

    The policy stage builds its side inputs (the survivor of each repeated clip id, listed
    accounts) from these, so the full clips stream straight through instead of all waiting in the
    runner for side inputs computed from themselves.

    ``repeated_in``: the keys of a first keys-only read. The ids they hold more than once are
    found by :class:`transforms.core.dedupe.RepeatedIdHashes` (8 bytes a row, combined per
    bundle), and this read then gives only the rows of those ids (and of any id whose hash they
    share): what the policy ranks per id stays small, so no shuffle holds a record per clip."""

    def __init__(self, manifest_path: str, ranked: bool = False, repeated_in=None):
        super().__init__(manifest_path)
        self._ranked = ranked
        self._repeated_in = repeated_in

    def expand(self, pbegin):
        rows = _read_rows(pbegin, self._path, self._fmt)
        keys_fn = _KeysFn(self._fmt, self._dir, self._header, self._ranked)
        if self._repeated_in is None:
            return rows | "Keys" >> beam.ParDo(keys_fn)
        repeated = (
            self._repeated_in
            | "KeyIds" >> beam.Map(lambda key: key[0])
            | "RepeatedIdHashes" >> beam.CombineGlobally(RepeatedIdHashes())
        )
        return rows | "RepeatedKeys" >> beam.ParDo(keys_fn, beam.pvalue.AsSingleton(repeated))
