"""Manifest stage: ``ReadClips``.

In:  a manifest of raw clips — JSON Lines (``.jsonl``/``.json``), CSV (``.csv``, header row; a
     ``words`` cell holds JSON) or Parquet (``.parquet``) — on any Beam filesystem. One row per
     clip: ``clip_id``, ``audio_uri`` (relative to the manifest, absolute, or a URI such as
     ``gs://``), ``transcript``, optional ``words`` (word, start_s, end_s), ``account_id``,
     ``first_name``, ``device_serial``, ``recorded_at`` (ISO 8601), ``locale``,
     ``wake_word_detected``, and any extra columns (read, never written anywhere).
Out: validated :class:`transforms.core.records.Clip` records.
Fails: an unparseable line or a row with a missing or wrongly typed field becomes a failure
     (stage ``manifest``) with a message naming the field, never its value.

Every manifest row is counted once (``manifest/rows``), so the run report can check that rows in
equals rows out.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import math
import posixpath
import re
from typing import Any

import apache_beam as beam

from transforms.core.failures import ClipError, failure_from
from transforms.core.records import Clip, Failure, Word
from transforms.core.stage import FAILURES, StageCounters, StageOutputs, guarded

STAGE = "manifest"
MAX_CLIP_ID_CHARS = 200
_CLIP_ID_IN_LINE = re.compile(r'"clip_id"\s*:\s*"([A-Za-z0-9_.:\-]{1,200})"')
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def manifest_format(path: str) -> str:
    """'jsonl', 'csv' or 'parquet' from the file name."""
    lower = path.lower()
    if lower.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith(".parquet"):
        return "parquet"
    raise ValueError(f"manifest {path!r}: unknown format (use .jsonl, .csv or .parquet)")


def resolve_uri(audio_uri: str, manifest_dir: str) -> str:
    """Absolute paths and scheme URIs stay; relative ones are joined to the manifest's directory."""
    if _SCHEME.match(audio_uri) or audio_uri.startswith("/"):
        return audio_uri
    if _SCHEME.match(manifest_dir):
        return manifest_dir.rstrip("/") + "/" + audio_uri
    return posixpath.normpath(posixpath.join(manifest_dir, audio_uri))


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


def parse_clip(row: Any, manifest_dir: str) -> Clip:
    """Validate one manifest row into a Clip; raises ClipError naming the field, never the value."""
    if not isinstance(row, dict):
        raise ClipError("bad_row", "manifest row is not an object")
    clip_id = _text(row, "clip_id", required=True)
    if len(clip_id) > MAX_CLIP_ID_CHARS or any(ord(c) < 32 for c in clip_id):
        raise ClipError("bad_value", "field 'clip_id' is too long or has control characters")
    return Clip(
        clip_id=clip_id,
        audio_uri=resolve_uri(_text(row, "audio_uri", required=True), manifest_dir),
        transcript=_text(row, "transcript", required=True, allow_empty=True),
        account_id=_text(row, "account_id", required=True),
        recorded_at=_timestamp(row),
        first_name=_text(row, "first_name", required=False),
        device_serial=_text(row, "device_serial", required=False),
        locale=_text(row, "locale", required=False) or "und",
        wake_word_detected=_flag(row),
        words=_words(row),
    )


def unparsed_id(line: str) -> str:
    """An id for a line that did not parse: its clip_id if one is visible, else a content hash."""
    match = _CLIP_ID_IN_LINE.search(line)
    if match:
        return match.group(1)
    return "unparsed-" + hashlib.sha256(line.encode("utf-8", "replace")).hexdigest()[:12]


def row_failure(exc: Exception, raw, fmt: str, csv_header: tuple[str, ...] = ()) -> Failure:
    """The failure record of a raw manifest row: its clip id if one can be read, every raw value of
    the row (and, for a line that does not parse, every word of it) scrubbed from the message."""
    try:
        row = decode_row(raw, fmt, csv_header)
    except Exception:  # noqa: BLE001 - the row itself is what failed
        row = None
    clip_id = unparsed_id(raw) if isinstance(raw, str) else None
    if row is None:
        return failure_from(exc, STAGE, clip_id or "unknown", (), str(raw))
    if isinstance(row.get("clip_id"), str) and row["clip_id"].strip():
        clip_id = row["clip_id"][:MAX_CLIP_ID_CHARS]
    sensitive = [str(row.get(k, "")) for k in ("account_id", "first_name", "device_serial", "audio_uri")]
    transcript = row.get("transcript", "")
    return failure_from(exc, STAGE, clip_id or "unknown", sensitive, transcript if isinstance(transcript, str) else "")


class _ParseRowFn(beam.DoFn):
    """Raw row (line text or dict) → Clip, or a failure."""

    def __init__(self, fmt: str, manifest_dir: str, csv_header: tuple[str, ...] = ()):
        self._fmt = fmt
        self._dir = manifest_dir
        self._header = csv_header
        self.counters = StageCounters(STAGE)

    def process(self, raw):
        if isinstance(raw, str) and not raw.strip():
            return iter(())  # blank lines are not rows
        self.counters.count("rows")
        return guarded(
            self.counters,
            lambda: parse_clip(decode_row(raw, self._fmt, self._header), self._dir),
            lambda exc: row_failure(exc, raw, self._fmt, self._header),
        )


def decode_row(raw, fmt: str, csv_header: tuple[str, ...] = ()) -> dict:
    """One raw manifest row (line text, or a dict from Parquet) → a dict; ClipError if it is not one."""
    if fmt == "jsonl":
        try:
            row = json.loads(raw)
        except ValueError:
            raise ClipError("unparseable_row", "manifest line is not valid JSON") from None
    elif fmt == "csv":
        cells = next(csv.reader(io.StringIO(raw)), [])
        if len(cells) != len(csv_header):
            raise ClipError("unparseable_row", f"CSV row has {len(cells)} cells, header has {len(csv_header)}")
        row = {key: (value if value != "" else None) for key, value in zip(csv_header, cells, strict=True)}
    else:
        row = raw
    if not isinstance(row, dict):
        raise ClipError("bad_row", "manifest row is not an object")
    return row


def read_csv_header(path: str) -> tuple[str, ...]:
    """Column names from the first line of a CSV manifest (read at graph-construction time)."""
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.open(path) as handle:
        first = handle.readline().decode("utf-8-sig")
    return tuple(next(csv.reader(io.StringIO(first)), []))


def read_ranges(size_bytes: int) -> int:
    """Byte-range size for reading a text manifest: about 64 ranges (64 KB to 64 MB each).

    Beam's own split of a single file follows its size (a 1.3 MB manifest became a 1 MB and a
    0.3 MB range: one worker got 64 % of the clips). Many small ranges, spread by count, keep the
    workers evenly loaded; only the ranges pass through the runner, never the rows."""
    return max(64 << 10, min(64 << 20, size_bytes // 64))


def _read_rows(pbegin, path: str, fmt: str):
    """Raw manifest rows: dicts (Parquet) or line text (JSON Lines, CSV without its header)."""
    if fmt == "parquet":
        return pbegin | "ReadParquet" >> beam.io.ReadFromParquet(path)
    from apache_beam.io.filesystems import FileSystems

    size = sum(m.size_in_bytes for m in FileSystems.match([path])[0].metadata_list)
    skip = 1 if fmt == "csv" else 0
    return (
        pbegin
        | "ManifestPath" >> beam.Create([path])
        # A non-UTF-8 byte must not kill the whole read: decode leniently, validate per row.
        | "ReadLines"
        >> beam.io.ReadAllFromText(
            desired_bundle_size=read_ranges(size), skip_header_lines=skip, coder=_LenientTextCoder()
        )
    )


class ReadClips(beam.PTransform):
    """Read a manifest and validate each row into a Clip."""

    def __init__(self, manifest_path: str):
        super().__init__()
        self._path = manifest_path
        self._fmt = manifest_format(manifest_path)
        self._dir = posixpath.dirname(manifest_path) or "."
        self._header = read_csv_header(manifest_path) if self._fmt == "csv" else ()

    def expand(self, pbegin) -> StageOutputs:
        raw = _read_rows(pbegin, self._path, self._fmt)
        results = raw | "Validate" >> beam.ParDo(_ParseRowFn(self._fmt, self._dir, self._header)).with_outputs(
            FAILURES, main="main"
        )
        return StageOutputs(results.main, results[FAILURES])


class _KeysFn(beam.DoFn):
    """Raw row → (clip_id, account_id) of a valid clip; nothing for a bad row, and no counters
    (``ReadClips`` counts every row and quarantines the bad ones)."""

    def __init__(self, fmt: str, manifest_dir: str, csv_header: tuple[str, ...] = ()):
        self._fmt = fmt
        self._dir = manifest_dir
        self._header = csv_header

    def process(self, raw):
        if isinstance(raw, str) and not raw.strip():
            return
        try:
            clip = parse_clip(decode_row(raw, self._fmt, self._header), self._dir)
        except Exception:  # noqa: BLE001 - counted and quarantined by ReadClips
            return
        yield clip.clip_id, clip.account_id


class ReadClipKeys(ReadClips):
    """A second, keys-only read of the manifest: ``(clip_id, account_id)`` of every valid row.

    The policy stage builds its side inputs (repeated clip ids, listed accounts) from these, so
    the full clips stream straight through instead of all waiting in the runner for side inputs
    computed from themselves."""

    def expand(self, pbegin):
        rows = _read_rows(pbegin, self._path, self._fmt)
        return rows | "Keys" >> beam.ParDo(_KeysFn(self._fmt, self._dir, self._header))


class _LenientTextCoder(beam.coders.Coder):
    """UTF-8 with replacement characters, so one bad line is one bad row, not a crashed read."""

    def decode(self, encoded: bytes) -> str:
        return encoded.decode("utf-8", errors="replace")

    def encode(self, value: str) -> bytes:
        return value.encode("utf-8")

    def is_deterministic(self) -> bool:
        return True
