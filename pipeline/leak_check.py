"""The leak check as a Beam pipeline, on the job's runner: ``CheckLeaks`` and :func:`check_outputs`.

In:  the manifest (its raw ``account_id``, ``device_serial``, ``first_name`` and ``clip_id``), the
     files to scan (every file of a run, and any extra logs), the allow-list, the run's key (to tie
     reviewer rows to clips by ``review_id``) and the operator's folders (blanked before names are
     searched). Beam flags choose the runner, as for the job.
Out: the same findings as :func:`pipeline.verify.verify_run` — kind, manifest row, file, column or
     line, never the value — and the same counts (:class:`CheckResult`); the findings and counts
     are small files the launcher streams back, so nothing in the launcher grows with the manifest
     or the outputs.
Fails: a file that cannot be read or a pipeline that fails raises (:class:`LeakCheckError`): the
     check did not complete, and the caller publishes nothing.

How it scales: the manifest becomes needle entries keyed by their value (ids, names that are not
ordinary words, clip and review ids) or by clip (row-bound names), in batches of 1,000 rows that
travel as compressed blobs. The outputs are split into units scanned in parallel — each Parquet
file's raw bytes in 8 MB ranges and each row group, each other file whole. A scanner holds only the
:class:`~pipeline.leak_keys.Sketch` (8 bytes per needle, not the needles) and emits a probe for
each span whose hash is a needle's; probes meet the needles of their key in a ``CoGroupByKey``
(only needles of probed keys go in). The text of each reviewer row (by ``review_id``), quarantine
record (by clip) and log line that names a clip meets that clip's first names in a second join over
clip buckets of packed blobs (one per 64 MB of manifest, at least 16: :func:`clip_buckets`), so a
worker holds one bucket's names at a time; each producer's refs are listed per bucket where they
are made, so the join carries a few lists per bucket. The manifest is read in units as the job
reads it (JSON Lines byte ranges, CSV record ranges, Parquet row groups; a compressed file is one
unit): the units are counted in parallel, and each is read and numbered from the counts of the
units before it (its rows' numbers are the findings' row numbers, the single reader's), so no one
reader reads every row. The blobs that grow with the manifest and the outputs (needle batches, the
sketch and its parts, row-bound names, texts about clips) are spilled: written by the worker that
makes them to files in the check's work folder (sealed), with only their
references shuffled, so a runner that keeps shuffles in the launcher's memory (the DirectRunner)
holds references, not data.
"""

from __future__ import annotations

import heapq
import io
import itertools
import json
import logging
import os
import pickle
import posixpath
import secrets
import zlib
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import apache_beam as beam
import numpy as np
from apache_beam import pvalue

from pipeline import leak_keys
from pipeline.leak_keys import Finding, RowCounts, normalise
from pipeline.verify import CHUNK_BYTES, PARQUET_BATCH_ROWS, Leak, _cell_text, _json_object

LOG = logging.getLogger("pipeline.leak_check")
NAMESPACE = "leak_check"
FINDINGS_KEPT = 50
LINES_PER_BATCH = 1024  # lines of a text file hashed together
READ_BYTES = 1 << 20  # a byte-range unit (CHUNK_BYTES) is read this much at a time


class LeakCheckError(RuntimeError):
    """The check could not complete (a file could not be read, the pipeline failed)."""


class CheckResult(NamedTuple):
    """What the check found: counts, and the first findings in the launcher check's order."""

    files: int
    leaks: int
    first: list[Leak]
    counts: RowCounts
    scoped: bool


# ---------------------------------------------------------------- plain functions


NEEDLE_BATCH_ROWS = 1000  # manifest rows whose needle entries are spilled as one blob
BOUND_NAMES_HELD = 65536  # row-bound names a worker collects from a unit before it spills them
MIN_CLIP_BUCKETS = 16  # row-bound names and the texts about their clips meet in this many groups, at least
MANIFEST_BYTES_PER_BUCKET = 64 << 20


def pack(value) -> bytes:
    """A list of entries or probes as one compressed blob: a runner that holds a PCollection (the
    FnApiRunner holds every shuffle in the launcher) holds bytes, not millions of small objects.
    (Sketches are stored as arrays instead: :meth:`Spill.write_arrays`.)"""
    return zlib.compress(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), 1)


def unpack(blob: bytes):
    """:func:`pack`'s value back."""
    return pickle.loads(zlib.decompress(blob))


def clip_buckets(manifest_bytes: int) -> int:
    """How many clip buckets the second join has: one per 64 MB of manifest (about 64,000 rows'
    names a bucket), at least :data:`MIN_CLIP_BUCKETS`. Every producer makes one blob per bucket,
    so the refs the join carries grow with the buckets: on the DirectRunner, whose launcher holds
    them, 64 buckets put 17 MiB more in the launcher than 4 did at 100,000 rows (one ref per
    1,000-row batch then)."""
    return max(MIN_CLIP_BUCKETS, -(-manifest_bytes // MANIFEST_BYTES_PER_BUCKET))


def clip_bucket(scope: str, buckets: int) -> int:
    return zlib.crc32(scope.encode("utf-8", "surrogatepass")) % buckets


def by_bucket(items: Iterable[tuple], buckets: int) -> Iterator[tuple[int, bytes]]:
    """``(scope, ...)`` items → ``(bucket, packed items)``, one element per bucket that has any."""
    grouped: dict[int, list] = {}
    for item in items:
        grouped.setdefault(clip_bucket(item[0], buckets), []).append(item)
    for bucket, bucket_items in sorted(grouped.items()):
        yield bucket, pack(bucket_items)


def bound_names(entries: Iterable[tuple]) -> list[tuple]:
    """The row-bound names ``(scope, name, row)`` among needle entries."""
    return [(key[1], *value) for key, value in entries if key[0] == "b"]


def match_clips(needle_blobs: Iterable[bytes], probe_blobs: Iterable[bytes]) -> Iterator[Finding]:
    """One clip bucket: each text about a clip (reviewer row, quarantine record, log line naming
    it) against that clip's first names, as whole words."""
    names: dict[str, list[tuple[str, int]]] = {}
    for blob in needle_blobs:
        for scope, name, row in unpack(blob):
            names.setdefault(scope, []).append((name, row))
    for blob in probe_blobs:
        for scope, path, where, text in unpack(blob):
            yield from leak_keys.match(("b", scope), names.get(scope, ()), [(path, where, text)])


# Spilled blobs. A runner that keeps shuffles in its own process (the DirectRunner's FnApiRunner:
# the launcher) holds every element that crosses a shuffle until it is consumed. The needle batches
# and the texts about clips grow with the manifest and the outputs, so they do not cross one: the
# worker that makes a blob writes it to a file in the check's work folder, and only its reference
# ``(path, start, length)`` is shuffled; the worker that needs it reads that range. The work folder
# is beside the outputs (a shared filesystem or object store on a distributed runner) and is
# removed when the check ends. Needle batches hold raw manifest values, so every blob is sealed
# (AES-GCM) under a random key made for this one check. The key travels to the workers inside the
# pickled DoFns: on the DirectRunner it stays in memory; on Dask it crosses the scheduler, and on
# Dataflow it is part of the staged job graph (protect the staging location like the manifest).
# Files a killed check leaves behind cannot be read without it. A retried bundle writes new files;
# the refs of a failed attempt are never emitted, so its files are only garbage in a folder that
# goes away.


class Ref(NamedTuple):
    """Where a spilled blob is: a byte range of one file."""

    path: str
    start: int
    length: int


class Spill:
    """Writes sealed blobs to new files in ``folder`` and reads them back (picklable: the folder
    and this check's key)."""

    NONCE_BYTES = 12

    def __init__(self, folder: str, key: bytes | None = None):
        self.folder = folder
        self._key = key or secrets.token_bytes(32)

    def __getstate__(self):
        return {"folder": self.folder, "_key": self._key}

    def _aead(self):
        if getattr(self, "_cipher", None) is None:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # a dependency of apache-beam

            self._cipher = AESGCM(self._key)
        return self._cipher

    def write(self, blobs: list[bytes]) -> list[Ref]:
        """Write ``blobs`` one after another to a new file; their refs, in order."""
        from apache_beam.io.filesystems import FileSystems

        path = posixpath.join(self.folder, f"{secrets.token_hex(8)}.bin")
        refs, start = [], 0
        with FileSystems.create(path) as handle:
            for blob in blobs:
                nonce, sealed = self._seal(blob, None)
                handle.write(nonce)
                handle.write(sealed)
                refs.append(Ref(path, start, self.NONCE_BYTES + len(sealed)))
                start += self.NONCE_BYTES + len(sealed)
        return refs

    def read(self, ref: Ref) -> bytes:
        from apache_beam.io.filesystem import CompressionTypes
        from apache_beam.io.filesystems import FileSystems

        with FileSystems.open(ref.path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            handle.seek(ref.start)
            return self._open(handle.read(ref.length), None)

    def load(self, ref: Ref):
        """``unpack(read(ref))``: a packed blob (needle batches, names, texts about clips)."""
        return unpack(self.read(ref))

    # A sketch and its parts are arrays of hashes, 8 bytes a needle (15.4 MiB for the bench's first
    # 200,000 rows: about 60 MiB at a million), loaded by every scanner: sealed whole, loading one
    # held the sealed bytes, the opened bytes and the unpickled arrays at once. Stored as arrays
    # (below), each array is sealed in chunks of ARRAY_CHUNK_BYTES and opened chunk by chunk into
    # the array it becomes, so loading one holds it once; and a merge reads one array of each part
    # at a time.

    def write_arrays(self, value) -> Ref:
        """``value`` (a picklable structure holding numpy arrays) → a new file: each array's bytes
        sealed in chunks, then the structure with :class:`ArraySlot` in the arrays' places."""
        with self.array_writer() as writer:
            writer.finish(value)
        return writer.ref

    def array_writer(self) -> ArrayWriter:
        """A writer of one structure whose arrays are added (stored at once) before it is finished."""
        return ArrayWriter(self, posixpath.join(self.folder, f"{secrets.token_hex(8)}.bin"))

    def read_arrays(self, ref: Ref, load: bool = True):
        """:meth:`write_arrays`' structure back, its arrays loaded; with ``load=False``, each array
        is a :class:`StoredArray` to load when wanted."""
        from apache_beam.io.filesystem import CompressionTypes
        from apache_beam.io.filesystems import FileSystems

        with FileSystems.open(ref.path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            handle.seek(ref.start + ref.length - 8)
            size = int.from_bytes(handle.read(8), "little")
            if not 0 < size <= ref.length - 8:
                raise ValueError(f"not a stored structure: {ref.path}")
            handle.seek(ref.start + ref.length - 8 - size)
            header = self._open(handle.read(size), _HEADER_AAD)
            return _ArrayUnpickler(io.BytesIO(header), self, ref, handle if load else None).load()

    def read_array_into(self, ref: Ref, slot: ArraySlot, out: np.ndarray, handle=None) -> None:
        """Open one stored array's chunks into ``out`` (its dtype and size), chunk by chunk; from
        ``handle`` when the caller has the file open."""
        from apache_beam.io.filesystem import CompressionTypes
        from apache_beam.io.filesystems import FileSystems

        if not out.flags.c_contiguous or out.nbytes != slot.nbytes:  # (a copy would be filled instead)
            raise ValueError("the array does not fit its slot")
        if handle is None:
            with FileSystems.open(ref.path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
                return self.read_array_into(ref, slot, out, handle)
        target = memoryview(out.reshape(-1).view(np.uint8))
        handle.seek(ref.start + slot.offset)
        for chunk, at in enumerate(range(0, slot.nbytes, ARRAY_CHUNK_BYTES)):
            n = min(ARRAY_CHUNK_BYTES, slot.nbytes - at)
            sealed = handle.read(self.NONCE_BYTES + n + _TAG_BYTES)
            target[at : at + n] = self._open(sealed, _chunk_aad(slot.index, chunk))
        return None

    def _seal(self, data, aad: bytes | None) -> tuple[bytes, bytes]:
        """``(nonce, sealed data)``, kept apart: joined, a big blob's bytes would be copied once more."""
        nonce = secrets.token_bytes(self.NONCE_BYTES)
        return nonce, self._aead().encrypt(nonce, data, aad)

    def _open(self, sealed: bytes, aad: bytes | None) -> bytes:
        view = memoryview(sealed)  # sliced without a copy
        return self._aead().decrypt(view[: self.NONCE_BYTES], view[self.NONCE_BYTES :], aad)

    def buckets(self, buckets: Iterable[tuple[int, bytes]]) -> Iterator[tuple[int, Ref]]:
        """``(bucket, packed items)`` → ``(bucket, ref)``: one file for all the buckets of a producer."""
        buckets = list(buckets)
        if not buckets:
            return
        refs = self.write([blob for _, blob in buckets])
        yield from zip((bucket for bucket, _ in buckets), refs, strict=True)


ARRAY_CHUNK_BYTES = 4 << 20  # a stored array is sealed this much at a time
_TAG_BYTES = 16  # AES-GCM's tag
_HEADER_AAD = b"voiceanon-arrays-header"


def _chunk_aad(index: int, chunk: int) -> bytes:
    """What a chunk is bound to: its array and its place in it (a chunk moved elsewhere fails)."""
    return b"voiceanon-arrays-chunk" + index.to_bytes(8, "little") + chunk.to_bytes(8, "little")


class ArraySlot(NamedTuple):
    """Where a stored array is, within its structure's ref, and what it is."""

    index: int
    offset: int
    nbytes: int
    dtype: str
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


class StoredArray(NamedTuple):
    """An array of a stored structure, not loaded yet (:meth:`Spill.read_arrays` with ``load=False``)."""

    spill: Spill
    ref: Ref
    slot: ArraySlot

    @property
    def size(self) -> int:
        return self.slot.size

    def load(self, handle=None) -> np.ndarray:
        out = np.empty(self.slot.shape, dtype=np.dtype(self.slot.dtype))
        self.load_into(out, handle)
        return out

    def load_into(self, out: np.ndarray, handle=None) -> None:
        self.spill.read_array_into(self.ref, self.slot, out, handle)


class ArrayWriter:
    """Stores arrays as they are added (:meth:`add`: their slot), then the structure that holds them
    or their slots (:meth:`finish`); :attr:`ref` is the whole. Every array of the structure is
    stored: one added earlier is stored as its slot, any other when the structure is pickled."""

    def __init__(self, spill: Spill, path: str):
        from apache_beam.io.filesystems import FileSystems

        self._spill = spill
        self._path = path
        self._handle = FileSystems.create(path)
        self._at = 0
        self._slots = 0
        self.ref: Ref | None = None

    def __enter__(self) -> ArrayWriter:
        return self

    def __exit__(self, *exc) -> None:
        self._handle.close()

    def add(self, array: np.ndarray) -> ArraySlot:
        array = np.ascontiguousarray(array)
        if array.dtype.hasobject:
            raise TypeError("only arrays of numbers are stored")
        data = memoryview(array.reshape(-1).view(np.uint8))
        slot = ArraySlot(self._slots, self._at, len(data), array.dtype.str, tuple(array.shape))
        for chunk, at in enumerate(range(0, len(data), ARRAY_CHUNK_BYTES)):
            self._write(*self._spill._seal(data[at : at + ARRAY_CHUNK_BYTES], _chunk_aad(slot.index, chunk)))
        self._slots += 1
        return slot

    def finish(self, value) -> None:
        """Store ``value`` (its arrays, then it with their slots) and its length: the record is whole."""
        header = io.BytesIO()
        _ArrayPickler(header, self).dump(value)
        nonce, sealed = self._spill._seal(header.getvalue(), _HEADER_AAD)
        self._write(nonce, sealed, (len(nonce) + len(sealed)).to_bytes(8, "little"))
        self.ref = Ref(self._path, 0, self._at)

    def _write(self, *pieces) -> None:
        for data in pieces:
            self._handle.write(data)
            self._at += len(data)


class _ArrayPickler(pickle.Pickler):
    def __init__(self, handle, writer: ArrayWriter):
        super().__init__(handle, protocol=pickle.HIGHEST_PROTOCOL)
        self._writer = writer

    def persistent_id(self, obj):
        if type(obj) is ArraySlot:
            return ("array", tuple(obj))
        if isinstance(obj, np.ndarray):
            return ("array", tuple(self._writer.add(obj)))
        return None


class _ArrayUnpickler(pickle.Unpickler):
    """A stored structure back: each array loaded from ``arrays`` (the open file) as it is met, or,
    without it, a :class:`StoredArray` in its place."""

    def __init__(self, header, spill: Spill, ref: Ref, arrays=None):
        super().__init__(header)
        self._spill = spill
        self._ref = ref
        self._arrays = arrays

    def persistent_load(self, pid):
        kind, fields = pid
        if kind != "array":
            raise pickle.UnpicklingError("unknown stored object")
        stored = StoredArray(self._spill, self._ref, ArraySlot(*fields))
        return stored if self._arrays is None else stored.load(self._arrays)


def match_spilled_clips(spill: Spill, needle_refs: Iterable[Ref], probe_refs: Iterable[Ref]) -> Iterator[Finding]:
    """:func:`match_clips` over spilled blobs: one bucket's names and texts, read by this worker."""
    yield from match_clips(map(spill.read, needle_refs), map(spill.read, probe_refs))


class RowUnit(NamedTuple):
    """A part of the manifest whose rows are read apart: its place in the row order, how it is read
    (``lines``: a JSON Lines byte range; ``csv``: a CSV record range; ``group``: a Parquet row
    group; ``whole``: a file only one reader can read) and what that reader takes, and the number
    of rows before it when that is known without reading it (all but JSON Lines ranges)."""

    index: int
    kind: str
    args: tuple
    first: int | None


def row_units(manifest: str, range_bytes: int) -> list[RowUnit]:
    """The units of a manifest, cut as the job cuts it (:func:`transforms.manifest._read_rows`):
    byte ranges of JSON Lines, record ranges of CSV (where one scan finds records end), Parquet row
    groups, and one unit for a compressed file or a CSV file the scan does not accept."""
    from transforms.manifest_rows import (
        csv_record_ranges,
        line_ranges,
        manifest_format,
        row_group_sizes,
        split_compression,
    )

    fmt = manifest_format(manifest)
    whole = [RowUnit(0, "whole", (manifest,), 0)]
    if fmt == "parquet":
        units, first = [], 0
        for index, (number, name, group, rows) in enumerate(row_group_sizes(manifest)):
            units.append(RowUnit(index, "group", (number, name, group), first))
            first += rows
        return units
    if split_compression(manifest)[1]:
        return whole
    if fmt == "csv":
        ranges = csv_record_ranges(manifest, range_bytes)
        if ranges is None:
            return whole
        return [RowUnit(i, "csv", (manifest, start, end, first), first) for i, (start, end, first) in enumerate(ranges)]
    return [RowUnit(i, "lines", unit, None) for i, unit in enumerate(line_ranges(manifest, range_bytes))]


def unit_rows(unit: RowUnit, fmt: str, csv_header: tuple[str, ...]) -> Iterator[dict]:
    """The rows of one unit, in order, as the leak verifier reads them
    (:func:`pipeline.verify.read_manifest_rows`: a row the job quarantines is ``{}`` or its cells)."""
    from transforms.manifest_rows import iter_csv_range, iter_line_range, iter_raw_rows, iter_row_group, row_dict

    if unit.kind == "group":
        yield from (row for _, row in iter_row_group(unit.args))
        return
    if unit.kind == "lines":
        raws: Iterable = (line for _, line in iter_line_range(unit.args))
    elif unit.kind == "csv":
        raws = (cells for _, cells in iter_csv_range(unit.args))
    else:
        raws = iter_raw_rows(unit.args[0])
    for raw in raws:
        yield row_dict(raw, fmt, csv_header)


def count_rows(unit: RowUnit) -> int | None:
    """How many rows a unit whose first row's number is not known holds (a JSON Lines range: its
    non-blank lines, split as the reader splits them); None when it is known."""
    from transforms.manifest_rows import iter_line_range

    if unit.first is not None:
        return None
    return sum(1 for _ in iter_line_range(unit.args))


def first_rows(counted: Iterable[tuple[RowUnit, int | None]]) -> dict[int, int]:
    """Each unit's index → the number of rows before it: known, or the sum of the counts of the
    units before it."""
    firsts: dict[int, int] = {}
    running = 0
    for unit, count in sorted(counted, key=lambda item: item[0].index):
        firsts[unit.index] = unit.first if unit.first is not None else running
        running = firsts[unit.index] + (count or 0)
    return firsts


def numbered_batches(rows: Iterable[dict], first: int) -> Iterator[Iterator[tuple[int, dict]]]:
    """``(number, row)`` of the rows after the ``first`` ones (numbered from ``first + 1``, as the
    findings count rows), :data:`NEEDLE_BATCH_ROWS` to a batch. A batch reads its rows as it is
    consumed (consume each before asking for the next): a row is held only while its needles are
    made (a thousand of the bench's rows decoded at once were 11 MiB of a worker)."""
    numbered = enumerate(rows, start=first + 1)
    while (head := next(numbered, None)) is not None:
        yield itertools.chain([head], itertools.islice(numbered, NEEDLE_BATCH_ROWS - 1))


def batch_needles(
    rows: Iterable[tuple[int, dict]], allowed: frozenset[str], ordinary: frozenset[str], review_id_of
) -> tuple[list[tuple], RowCounts]:
    """Numbered rows → the needle entries of the rows, and their counts."""
    totals = [0, 0, 0, 0]
    entries: list = []
    for number, row in rows:
        found, counts = leak_keys.row_needles(number, row, allowed, ordinary, review_id_of)
        for i, value in enumerate(counts):
            totals[i] += value
        entries += found
    return entries, RowCounts(*totals)


def batch_sketch(blob: bytes) -> leak_keys.SketchParts:
    return leak_keys.sketch_parts(e for entry in unpack(blob) if (e := leak_keys.sketch_entry(*entry)))


def _review_ids(review_key):
    if review_key is None:
        return None
    from pipeline.verify_columns import review_ids_with

    key_source, epoch_months = review_key
    return review_ids_with(key_source, epoch_months)


def _size(path: str) -> int:
    from apache_beam.io.filesystems import FileSystems

    return sum(m.size_in_bytes for m in FileSystems.match([path])[0].metadata_list)


def scan_units(path: str, chunk_bytes: int = CHUNK_BYTES) -> list[tuple]:
    """The parts of one file scanned apart: a Parquet file's raw bytes in ranges and its row groups;
    any other file whole."""
    from pipeline.parquet_io import open_parquet

    if not path.endswith(".parquet"):
        return [("text", path)]
    size = _size(path)
    units: list[tuple] = [
        ("bytes", path, start, min(start + chunk_bytes, size)) for start in range(0, size, chunk_bytes)
    ]
    with open_parquet(path) as parquet:
        units += [("rows", path, group) for group in range(parquet.metadata.num_row_groups)]
    return units


def _pieces(path: str, start: int, end: int, overlap: int) -> Iterator[tuple[int, bytes]]:
    """``(length, bytes)`` of ``[start, end)`` :data:`READ_BYTES` at a time, each read with the
    ``overlap`` bytes after it (an id that starts in a piece is whole in it), from one open file."""
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.open(path) as handle:
        for at in range(start, end, READ_BYTES):
            length = min(READ_BYTES, end - at)
            handle.seek(at)
            yield length, handle.read(length + overlap)


def scan_unit(unit: tuple, sketch: leak_keys.Sketch, masks: tuple[str, ...], scoped: bool) -> Iterator:
    """Probes (and contract findings) of one unit, by the rules of :func:`pipeline.verify.scan_file`."""
    kind, path = unit[0], unit[1]
    if kind == "bytes":
        for length, data in _pieces(path, unit[2], unit[3], max(sketch.raw.longest - 1, 0)):
            yield from leak_keys.byte_probes(data, sketch, path, "bytes", start_before=length)
    elif kind == "rows":
        yield from _row_group_probes(path, unit[2], sketch, masks, scoped)
    else:
        yield from _text_file_probes(path, sketch, masks)


def _row_group_probes(path: str, group: int, sketch, masks, scoped: bool) -> Iterator:
    import pyarrow as pa

    from pipeline.parquet_io import open_parquet
    from pipeline.verify_columns import CONTRACTS, NOT_TEXT

    with open_parquet(path) as parquet:
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, row_groups=[group], use_threads=False):
            columns = dict(zip(batch.schema.names, batch.columns, strict=True))
            review_ids = columns["review_id"].to_pylist() if "review_id" in columns else [None] * batch.num_rows
            for name, column in columns.items():
                values = column.to_pylist()
                if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
                    yield from leak_keys.values_probes([value or b"" for value in values], sketch, path, name)
                    continue
                if name in NOT_TEXT:
                    continue
                contract = CONTRACTS.get(name)
                texts = [_cell_text(value) for value in values]
                if contract is not None:
                    for value, text in zip(values, texts, strict=True):
                        if value is not None and not contract(text):
                            yield Finding("contract", 0, path, name)
                scopes = [[f"review:{review}"] if scoped and review else [] for review in review_ids]
                wheres = [name] * len(texts)
                yield from leak_keys.batch_probes(texts, sketch, path, wheres, masks, scopes, contract is None)


def _text_file_probes(path: str, sketch, masks) -> Iterator:
    from apache_beam.io.filesystems import FileSystems

    from pipeline.layout import QUARANTINE_DIR

    with FileSystems.open(path) as handle:
        data = handle.read()
    yield from leak_keys.byte_probes(data, sketch, path, "bytes")
    quarantine = f"/{QUARANTINE_DIR}/" in path.replace(os.sep, "/")
    lines = data.decode("utf-8", errors="replace").splitlines()
    for first in range(0, len(lines), LINES_PER_BATCH):
        texts, wheres, scopes, clip_ids = [], [], [], []
        for number, line in enumerate(lines[first : first + LINES_PER_BATCH], start=first + 1):
            where = f"line {number}"
            record = _json_object(line) if quarantine else None
            if record is None:
                texts.append(line)
                wheres.append(where)
                scopes.append(None)
                continue
            # A quarantine record is about its clip; its clip_id (the manifest's own key) is searched
            # for ids, not names: "c-mark" names Mark's clip, it does not leak Mark's name.
            clip_id = record.pop("clip_id", None)
            clip_id = clip_id.strip() if isinstance(clip_id, str) else ""
            texts.append(json.dumps(record, ensure_ascii=False, sort_keys=True))
            wheres.append(where)
            scopes.append([f"clip:{clip_id}"] if clip_id else [])
            clip_ids.append((clip_id, where))
        yield from leak_keys.batch_probes(texts, sketch, path, wheres, masks, scopes)
        if clip_ids:
            ids, id_wheres = [c for c, _ in clip_ids], [w for _, w in clip_ids]
            yield from leak_keys.batch_probes(ids, sketch, path, id_wheres, masks, [[]] * len(ids), names=False)


def spill_partial_sketch(refs: tuple[Ref, ...], spill: Spill) -> Ref:
    """A unit's spilled needle batches → their partial sketch, stored as arrays."""
    return spill.write_arrays(leak_keys.merge_parts(batch_sketch(spill.read(ref)) for ref in refs))


def spill_sketch(refs: list[Ref], spill: Spill) -> Ref:
    """Stored partial sketches → the merged :class:`~pipeline.leak_keys.Sketch`, stored as arrays:
    it is about 8 bytes per needle, too much to pass through the launcher as a side input at a
    million rows; every scanner reads it from the file instead (once per worker). One hash set is
    merged at a time (its parts loaded into one array, sorted in place, stored), so the worker holds
    one set and its merge, never the parts, the sketch and its bytes at once (that was 4 times the
    sketch: +208 MiB at a million rows)."""
    parts = leak_keys.merge_parts((spill.read_arrays(ref, load=False) for ref in refs), union=list)
    with spill.array_writer() as writer:
        writer.finish(leak_keys.build_sketch(parts, hashes=union_stored, keep=writer.add))
    return writer.ref


def union_stored(stored: list[StoredArray]) -> np.ndarray:
    """The sorted union of stored sorted hash arrays, loaded side by side into one array."""
    joined = np.empty(sum(part.size for part in stored), dtype=np.uint64)
    at = 0
    for part in stored:
        part.load_into(joined[at : at + part.size])
        at += part.size
    return leak_keys.sorted_union(joined)


def add_counts(counts: Iterable[RowCounts]) -> RowCounts:
    totals = [0, 0, 0, 0]
    for item in counts:
        for i, value in enumerate(item):
            totals[i] += value
    return RowCounts(*totals)


# ---------------------------------------------------------------- thin DoFns


class _NeedlesFn(beam.DoFn):
    """A unit of the manifest (and how many rows come before each unit) → the refs of the spilled
    needle batches of its rows, as one element; its row-bound names, spilled per clip bucket, to
    ``bound`` as ``(bucket, ref)``; its counts to ``counts``. One element per unit and bucket,
    whatever the rows: a runner that keeps shuffles in the launcher keeps as many refs."""

    def __init__(
        self, fmt: str, csv_header: tuple[str, ...], allowed: frozenset[str], review_key, spill: Spill, buckets: int
    ):
        self._fmt = fmt
        self._header = csv_header
        self._allowed = allowed
        self._review_key = review_key
        self._spill = spill
        self._buckets = buckets

    def setup(self):
        from pipeline.verify import ordinary_words

        self._ordinary = ordinary_words()
        self._review_id_of = _review_ids(self._review_key)

    def process(self, counted, firsts):
        unit, _ = counted
        refs, totals, bound = [], [], []
        rows = unit_rows(unit, self._fmt, self._header)
        for batch in numbered_batches(rows, firsts[unit.index]):
            entries, counts = batch_needles(batch, self._allowed, self._ordinary, self._review_id_of)
            totals.append(counts)
            bound += bound_names(entries)
            refs += self._spill.write([pack(entries)])
            if len(bound) >= BOUND_NAMES_HELD:  # a unit one reader reads whole (a compressed file)
                yield from self._bound(bound)
                bound = []
        yield tuple(refs)
        yield from self._bound(bound)
        yield pvalue.TaggedOutput("counts", add_counts(totals))

    def _bound(self, names: list[tuple]):
        for bucket in self._spill.buckets(by_bucket(names, self._buckets)):
            yield pvalue.TaggedOutput("bound", bucket)


class _ScanFn(beam.DoFn):
    """A unit (+ the spilled sketch's ref) → probes ``(key, (path, where, text))``; contract
    findings to ``findings``; texts about clips, spilled, to ``clips``."""

    def __init__(self, masks: tuple[str, ...], scoped: bool, spill: Spill, buckets: int):
        self._masks = masks
        self._scoped = scoped
        self._spill = spill
        self._buckets = buckets

    def setup(self):
        from apache_beam.metrics import Metrics

        self._units = Metrics.counter(NAMESPACE, "units_scanned")
        self._probes = Metrics.counter(NAMESPACE, "probes")

    def process(self, unit, sketch_ref):
        if getattr(self, "_sketch_ref", None) != sketch_ref:
            self._sketch, self._sketch_ref = None, None  # the old one goes before the new one loads
            self._sketch, self._sketch_ref = self._spill.read_arrays(sketch_ref), sketch_ref
        self._units.inc()
        about_clips = []
        for item in scan_unit(unit, self._sketch, self._masks, self._scoped):
            if isinstance(item, Finding):
                yield pvalue.TaggedOutput("findings", tuple(item))
            elif item.key[0] == "b":  # a text about a clip: packed per clip bucket, below
                about_clips.append((item.key[1], item.path, item.where, item.text))
            else:
                self._probes.inc()
                yield item.key, (item.path, item.where, item.text)
        self._probes.inc(len(about_clips))
        for bucket in self._spill.buckets(by_bucket(about_clips, self._buckets)):
            yield pvalue.TaggedOutput("clips", bucket)


class _MatchFn(beam.DoFn):
    """(key, {needles, probes}) → findings; a clip named in a log line → ``rescoped``, packed per
    clip bucket and spilled."""

    def __init__(self, spill: Spill, buckets: int):
        self._spill = spill
        self._buckets = buckets

    def process(self, element):
        key, grouped = element
        rescoped = []
        for item in leak_keys.match(key, grouped["needles"], grouped["probes"]):
            if isinstance(item, Finding):
                yield tuple(item)
            else:
                (_, scope), (path, where, text) = item
                rescoped.append((scope, path, where, text))
        for bucket in self._spill.buckets(by_bucket(rescoped, self._buckets)):
            yield pvalue.TaggedOutput("rescoped", bucket)


class _MatchClipsFn(beam.DoFn):
    """(clip bucket, {needles, probes, rescoped}: lists of refs of spilled blobs) → findings."""

    def __init__(self, spill: Spill):
        self._spill = spill

    def process(self, element):
        _, grouped = element
        needle_refs = [ref for refs in grouped["needles"] for ref in refs]
        probe_refs = [ref for side in ("probes", "rescoped") for refs in grouped[side] for ref in refs]
        for finding in match_spilled_clips(self._spill, needle_refs, probe_refs):
            yield tuple(finding)


class _ProbedFn(beam.DoFn):
    """A unit's needle batches (refs) → the entries a scanner probed, one by one (the probed keys
    are few: spans whose hash is a needle's). Row-bound names are joined apart, with every reviewer
    row."""

    def __init__(self, spill: Spill):
        self._spill = spill

    def process(self, refs, probed):
        if getattr(self, "_probed", None) is None:
            self._probed = set(probed)
        for ref in refs:
            for entry in self._spill.load(ref):
                if entry[0][0] != "b" and entry[0] in self._probed:
                    yield entry


# ---------------------------------------------------------------- the composite


class CheckOutputs(NamedTuple):
    findings: beam.PCollection  # (kind, row, path, where), each once
    counts: beam.PCollection  # one RowCounts


class CheckLeaks(beam.PTransform):
    """Manifest + files → every leak (``(kind, row, path, where)``, deduplicated) and the counts.

    Applied to a pipeline's root. ``review_key`` is ``(KeySource, epoch_months)`` to tie reviewer
    rows to clips, or None. ``spill_dir``: a folder every worker can write and read, for the blobs
    that are not shuffled (needle batches, names and texts about clips); the caller removes it.
    ``range_bytes``: the size of the manifest's byte ranges (by default as the job reads it)."""

    def __init__(
        self,
        manifest: str,
        paths: list[str],
        allowed: Iterable[str],
        review_key,
        masks: tuple[str, ...],
        spill_dir: str,
        range_bytes: int | None = None,
    ):
        from transforms.manifest_rows import manifest_format, read_csv_header

        super().__init__()
        self._manifest = manifest
        self._fmt = manifest_format(manifest)
        self._header = read_csv_header(manifest) if self._fmt == "csv" else ()
        self._range_bytes = range_bytes
        self._paths = list(paths)
        self._allowed = frozenset(normalise(term.strip()) for term in allowed)
        self._review_key = review_key
        self._masks = masks
        self._spill = Spill(spill_dir)  # this check's key: made here, never written (see the note above)

    def expand(self, pbegin) -> CheckOutputs:
        from transforms.manifest import read_ranges

        manifest_bytes = _size(self._manifest)
        buckets = clip_buckets(manifest_bytes)
        # The manifest is cut into units read apart (as the job reads it); the rows of a unit are
        # numbered from the counts of the units before it, so no one reader reads every row.
        counted = (
            pbegin
            | "ManifestPath" >> beam.Create([self._manifest])
            | "RowUnits" >> beam.FlatMap(row_units, self._range_bytes or read_ranges(manifest_bytes))
            | "SpreadRowUnits" >> beam.Reshuffle()
            | "CountRows" >> beam.Map(lambda unit: (unit, count_rows(unit)))
        )
        firsts = counted | "UnitCounts" >> beam.combiners.ToList() | "FirstRows" >> beam.Map(first_rows)
        needles_fn = _NeedlesFn(self._fmt, self._header, self._allowed, self._review_key, self._spill, buckets)
        read = counted | "Needles" >> beam.ParDo(needles_fn, pvalue.AsSingleton(firsts)).with_outputs(
            "bound", "counts", main="needles"
        )
        needles = read.needles  # per unit: the refs of its spilled batches of entries
        sketch = (
            needles
            | "PartialSketches" >> beam.Map(spill_partial_sketch, self._spill)
            | "PartRefs" >> beam.combiners.ToList()  # refs only: the parts stay in files
            | "Sketch" >> beam.Map(spill_sketch, self._spill)
        )
        scanned = (
            pbegin
            | "Files" >> beam.Create(self._paths or [])
            | "Units" >> beam.FlatMap(scan_units)
            | "SpreadUnits" >> beam.Reshuffle()
            | "Scan"
            >> beam.ParDo(
                _ScanFn(self._masks, self._review_key is not None, self._spill, buckets), pvalue.AsSingleton(sketch)
            ).with_outputs("findings", "clips", main="probes")
        )
        by_hash = scanned.probes
        probed = by_hash | "ProbedKeys" >> beam.Map(lambda kv: kv[0]) | "DistinctKeys" >> beam.Distinct()
        searched = needles | "NeedlesProbed" >> beam.ParDo(_ProbedFn(self._spill), pvalue.AsIter(probed))
        first = (
            {"needles": searched, "probes": by_hash}
            | "JoinProbes" >> beam.CoGroupByKey()
            | "Match" >> beam.ParDo(_MatchFn(self._spill, buckets)).with_outputs("rescoped", main="findings")
        )
        # The second join's inputs are (bucket, ref) per producer. Each input's refs are listed per
        # bucket where they are made (a combine, lifted into the producing step: no Flatten before
        # it, which the DirectRunner would hold), so the join carries a few lists per bucket.
        second = (
            {
                "needles": read.bound | "BoundRefs" >> beam.CombinePerKey(beam.combiners.ToListCombineFn()),
                "probes": scanned.clips | "ClipRefs" >> beam.CombinePerKey(beam.combiners.ToListCombineFn()),
                "rescoped": first.rescoped | "RescopedRefs" >> beam.CombinePerKey(beam.combiners.ToListCombineFn()),
            }
            | "JoinClips" >> beam.CoGroupByKey()
            | "MatchClips" >> beam.ParDo(_MatchClipsFn(self._spill))
        )
        findings = (scanned.findings, first.findings, second) | "AllFindings" >> beam.Flatten()
        unique = findings | "DistinctFindings" >> beam.Distinct()
        counts = read.counts | "Counts" >> beam.CombineGlobally(add_counts)
        return CheckOutputs(unique, counts)


# ---------------------------------------------------------------- the launcher's side


def _order(paths: list[str]):
    index = {path: i for i, path in enumerate(paths)}
    return lambda leak: (index.get(leak.path, len(paths)), leak)


def work_folder(root: str) -> str:
    """Where the check writes its findings and counts: beside the outputs, in a folder no run
    publishes and no scan lists (``<root>/_staging/leak-check-<token>``)."""
    from pipeline.layout import STAGING_DIR

    return posixpath.join(root.rstrip("/"), STAGING_DIR, f"leak-check-{secrets.token_hex(4)}")


def check_outputs(
    manifest: str,
    paths: list[str],
    allowed: Iterable[str],
    review_key,
    masks: tuple[str, ...],
    beam_args: list[str],
    work_dir: str,
) -> CheckResult:
    """Run :class:`CheckLeaks` on the runner ``beam_args`` name (as the job does) and stream its
    findings back: the count, and the first :data:`FINDINGS_KEPT` in the launcher check's order."""
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.publish import remove_tree
    from pipeline.run import dask_runner, local_runner

    options = PipelineOptions(beam_args)
    findings_prefix = posixpath.join(work_dir, "findings")
    counts_prefix = posixpath.join(work_dir, "counts")
    try:
        p = beam.Pipeline(runner=local_runner(options) or dask_runner(options), options=options)
        spill_dir = posixpath.join(work_dir, "spilled")
        out = p | "CheckLeaks" >> CheckLeaks(manifest, paths, allowed, review_key, masks, spill_dir)
        _ = (
            out.findings
            | "FindingsJson" >> beam.Map(json.dumps)
            | "WriteFindings" >> beam.io.WriteToText(findings_prefix)
        )
        _ = (
            out.counts
            | "CountsJson" >> beam.Map(lambda c: json.dumps(list(c)))
            | "WriteCounts" >> beam.io.WriteToText(counts_prefix)
        )
        try:
            p.run().wait_until_finish()
        except Exception as exc:  # noqa: BLE001 - the check did not complete: the caller publishes nothing
            raise LeakCheckError(f"the leak check pipeline failed ({type(exc).__name__})") from exc
        total = 0

        def leaks() -> Iterator[Leak]:
            nonlocal total
            for line in _lines(findings_prefix):
                total += 1
                yield Leak(*json.loads(line))

        first = heapq.nsmallest(FINDINGS_KEPT, leaks(), key=_order(paths))
        counts = add_counts(RowCounts(*json.loads(line)) for line in _lines(counts_prefix))
    finally:
        remove_tree(work_dir)
    return CheckResult(len(paths), total, first, counts, review_key is not None)


def _lines(prefix: str) -> Iterator[str]:
    from apache_beam.io.filesystems import FileSystems

    for metadata in FileSystems.match([prefix + "*"])[0].metadata_list:
        with FileSystems.open(metadata.path) as handle:
            for line in handle:
                if line.strip():
                    yield line.decode("utf-8")
