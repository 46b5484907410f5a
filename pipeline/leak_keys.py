"""The leak check's keyed form: every needle and every place it could occur, reduced to join keys.

In:  manifest rows (as :func:`pipeline.verify.needles_from_rows` reads them) and output text or bytes.
Out: needle entries ``(key, value)`` and probes ``(key, payload)`` that meet in a keyed join (the
     Beam check, :mod:`pipeline.leak_check`), and a :class:`Sketch` — sorted 64-bit hashes of the
     needles, 8 bytes per needle — that tells a scanner which spans of its text are worth a probe.
     A scanner never holds the needles themselves, only their hashes.
Fails: nothing here raises on odd input; a hash collision only costs a probe that finds no needle
     under its key (keys are the values themselves), never a missed leak.

Keys (namespace, value): the value itself, compared exactly by the join.

- ``("k", id)`` an account id or serial in its :func:`~pipeline.verify.id_key` form, searched as a
  substring of keyed text; ``("r", id)`` the same id lower-cased raw, searched in raw bytes.
- ``("n", name)`` a first name that is not an ordinary word, searched as a whole word anywhere.
- ``("s", id)`` a clip id or review id, to see which clips a log line names.
- ``("b", scope)`` a first name bound to its clip (``clip:<id>`` / ``review:<id>``), checked as a
  whole word in text about that clip.

Substrings are found without the needles: a scanner hashes every window of its text (a polynomial
hash computed for all positions at once with numpy) and looks the hashes up in the sketch; ids are
found through their first ``MIN_ID_CHARS`` characters, then every id length at the hit. Whole-word
candidates are all spans between word boundaries up to the longest needle. The same matching rules
as :mod:`pipeline.verify` apply, so both checks find the same leaks (``tests/test_leak_check.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

import numpy as np

from pipeline.verify import _ID_FOLD, MIN_ID_CHARS, _find_word
from pipeline.verify import normalise as _skeleton
from pipeline.verify import row_needles as verify_row_needles

_MASK = (1 << 64) - 1
_R = 0x100000001B3  # odd, so invertible modulo 2**64
_R_INV = pow(_R, -1, 1 << 64)
_WORD = re.compile(r"\w")
ID_NAMESPACES = ("k", "r")


def normalise(text: str) -> str:
    """:func:`pipeline.verify.normalise`, with a fast path: an ASCII text's skeleton is its lower
    case (every ASCII character is its own skeleton; tested over all 128 and random strings)."""
    return text.lower() if text.isascii() else _skeleton(text)


def id_key(text: str) -> str:
    """:func:`pipeline.verify.id_key` through :func:`normalise`."""
    return normalise(text).translate(_ID_FOLD)


def text_hash(text: str) -> int:
    """The 64-bit polynomial hash ``sum((ord(c_j) + 1) * R**j)`` that :func:`id_hits` and
    :func:`word_hits` compute for every window of a text at once (+1: a NUL byte, common in audio,
    must not hash like nothing)."""
    h, power = 0, 1
    for char in text:
        h = (h + (ord(char) + 1) * power) & _MASK
        power = (power * _R) & _MASK
    return h


def codes_of(text: str) -> np.ndarray:
    """A text's code points as uint64."""
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.uint64)


_LATIN1_LOWER = np.array([ord(chr(i).lower()) for i in range(256)], dtype=np.uint64)


def byte_codes(data: bytes) -> np.ndarray:
    """Bytes read as latin-1 and lower-cased (as :func:`pipeline.verify.scan_bytes` reads them)."""
    return _LATIN1_LOWER[np.frombuffer(data, dtype=np.uint8)]


class _Prefix(NamedTuple):
    sums: np.ndarray  # sums[i] = hash-weighted sum of codes[:i]
    inverse: np.ndarray  # R**-i


_POWERS = np.ones(1, dtype=np.uint64)  # R**i, grown on demand and shared by every call
_INVERSE = np.ones(1, dtype=np.uint64)  # R**-i
BYTE_WINDOW = 1 << 16  # raw bytes hashed at a time: bounds a scanner's arrays (~2.5 MB; 1 MiB took ~40 MB, no faster)


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    global _POWERS, _INVERSE
    if len(_POWERS) < n + 1:
        size = max(n + 1, 2 * len(_POWERS))
        powers = np.full(size, _R, dtype=np.uint64)
        inverse = np.full(size, _R_INV, dtype=np.uint64)
        powers[0] = inverse[0] = 1
        _POWERS, _INVERSE = np.cumprod(powers), np.cumprod(inverse)
    return _POWERS, _INVERSE


def _prefix(codes: np.ndarray) -> _Prefix:
    n = len(codes)
    powers, inverse = _powers(n)
    sums = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum((codes + np.uint64(1)) * powers[:n], out=sums[1:])
    return _Prefix(sums, inverse)


def _span_hashes(prefix: _Prefix, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    return (prefix.sums[ends] - prefix.sums[starts]) * prefix.inverse[starts]


def member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """A boolean mask: which ``values`` are in ``sorted_set`` (a sorted uint64 array)."""
    if not len(sorted_set) or not len(values):
        return np.zeros(len(values), dtype=bool)
    at = np.searchsorted(sorted_set, values)
    at[at == len(sorted_set)] = 0
    return sorted_set[at] == values


BITMAP_BITS = 24  # a prefilter of 2**24 bits (2 MB) before the exact look-up of prefix hashes


def bitmap_of(hashes: np.ndarray) -> np.ndarray:
    """A packed bitmap with the top :data:`BITMAP_BITS` bits of each hash set (bit ``t & 7`` of
    byte ``t >> 3``, as :func:`in_bitmap` reads it), set in place: an unpacked one is 16 MB."""
    top = (hashes >> np.uint64(64 - BITMAP_BITS)).astype(np.int64)
    packed = np.zeros(1 << (BITMAP_BITS - 3), dtype=np.uint8)
    np.bitwise_or.at(packed, top >> 3, np.left_shift(1, top & 7).astype(np.uint8))
    return packed


def in_bitmap(values: np.ndarray, bitmap: np.ndarray) -> np.ndarray:
    top = (values >> np.uint64(64 - BITMAP_BITS)).astype(np.int64)
    return (bitmap[top >> 3] >> (top & 7).astype(np.uint8)) & 1 == 1


class IdSketch(NamedTuple):
    """Hashes of one form of the ids: whole values, their first characters, and the lengths seen."""

    full: np.ndarray
    prefixes: dict[int, tuple[np.ndarray, np.ndarray]]  # prefix length → (sorted hashes, their bitmap)
    lengths: tuple[int, ...]
    alphabet: np.ndarray | None = None  # bytes that occur in some id (raw ids only): a cheap prefilter

    @property
    def longest(self) -> int:
        return max(self.lengths, default=0)


class WordSketch(NamedTuple):
    """Hashes of whole-word needles (names, clip and review ids) and the longest one's length."""

    full: np.ndarray
    longest: int


class Sketch(NamedTuple):
    keyed: IdSketch
    raw: IdSketch
    names: WordSketch
    scopes: WordSketch


def id_hits(codes: np.ndarray, sketch: IdSketch, start_before: int | None = None) -> Iterator[tuple[int, int, int]]:
    """``(start, end, hash)`` of every span of ``codes`` whose hash is an id's (candidates: the join
    compares the values). Only spans starting before ``start_before`` (default: anywhere)."""
    n = len(codes)
    if not sketch.lengths or n == 0:
        return
    limit = n if start_before is None else min(n, start_before)
    if sketch.alphabet is not None:
        yield from _byte_id_hits(codes, sketch, limit)
        return
    prefix = _prefix(codes)
    lengths = np.array(sketch.lengths, dtype=np.int64)
    for size, (hashes, bitmap) in sketch.prefixes.items():
        if n < size:
            continue
        starts = np.arange(0, min(limit, n - size + 1), dtype=np.int64)
        windows = _span_hashes(prefix, starts, starts + size)
        maybe = in_bitmap(windows, bitmap)
        starts, windows = starts[maybe], windows[maybe]
        found = starts[member(windows, hashes)]
        if not len(found):
            continue
        # every id length at every hit: the pairs that fit in the text
        pair_starts = np.repeat(found, len(lengths))
        pair_ends = pair_starts + np.tile(lengths, len(found))
        fits = pair_ends <= n
        pair_starts, pair_ends = pair_starts[fits], pair_ends[fits]
        full = _span_hashes(prefix, pair_starts, pair_ends)
        keep = member(full, sketch.full)
        for start, end, h in zip(pair_starts[keep], pair_ends[keep], full[keep], strict=True):
            yield int(start), int(end), int(h)


def _direct_hashes(codes: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """:func:`text_hash` of ``codes[s:s + length]`` for each start (the caller keeps them in range)."""
    hashes = np.zeros(len(starts), dtype=np.uint64)
    powers, _ = _powers(length)
    for j in range(length):
        hashes += (codes[starts + j] + np.uint64(1)) * powers[j]
    return hashes


def _byte_id_hits(codes: np.ndarray, sketch: IdSketch, limit: int) -> Iterator[tuple[int, int, int]]:
    """:func:`id_hits` for raw bytes: only windows whose every byte occurs in some id are hashed
    (in audio or compressed bytes, a few in a thousand), directly, without prefix sums."""
    n = len(codes)
    usable = sketch.alphabet[codes.astype(np.int64)]
    runs = np.concatenate(([0], np.cumsum(usable, dtype=np.int64)))
    for size, (hashes, bitmap) in sketch.prefixes.items():
        if n < size:
            continue
        last = min(limit, n - size + 1)
        starts = np.flatnonzero(runs[size : size + last] - runs[:last] == size)
        windows = _direct_hashes(codes, starts, size)
        maybe = in_bitmap(windows, bitmap)
        starts, windows = starts[maybe], windows[maybe]
        for start in starts[member(windows, hashes)]:
            for length in sketch.lengths:
                if start + length <= n:
                    h = int(_direct_hashes(codes, np.array([start]), length)[0])
                    if member(np.array([h], dtype=np.uint64), sketch.full)[0]:
                        yield int(start), int(start + length), h


_ASCII_WORD = np.array([bool(_WORD.match(chr(i))) for i in range(128)], dtype=bool)


def _is_word(text: str, codes: np.ndarray) -> np.ndarray:
    word = np.zeros(len(codes), dtype=bool)
    ascii_ = codes < 128
    word[ascii_] = _ASCII_WORD[codes[ascii_].astype(np.int64)]
    for at in np.flatnonzero(~ascii_):
        word[at] = bool(_WORD.match(text[at]))
    return word


def _boundaries(text: str, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where a whole word may start (after a non-word character or at 0) and end."""
    n = len(text)
    if not n:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    word = _is_word(text, codes)
    starts = np.flatnonzero(np.concatenate(([True], ~word[:-1])))
    ends = np.flatnonzero(np.concatenate((~word[1:], [True]))) + 1
    return starts, ends


def word_hits(text: str, sketch: WordSketch) -> Iterator[tuple[int, int, int]]:
    """``(start, end, hash)`` of every whole-word span of ``text`` whose hash is a needle's."""
    if not len(sketch.full) or not text:
        return
    codes = codes_of(text)
    starts, ends = _boundaries(text, codes)
    if not len(starts) or not len(ends):
        return
    # every (start, end) pair with 0 < end - start <= longest needle
    first_end = np.searchsorted(ends, starts, side="right")
    last_end = np.searchsorted(ends, starts + sketch.longest, side="right")
    counts = last_end - first_end
    if not counts.sum():
        return
    pair_starts = np.repeat(starts, counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    pair_ends = ends[np.repeat(first_end, counts) + offsets]
    hashes = _span_hashes(_prefix(codes), pair_starts, pair_ends)
    keep = member(hashes, sketch.full)
    for start, end, h in zip(pair_starts[keep], pair_ends[keep], hashes[keep], strict=True):
        yield int(start), int(end), int(h)


# ---------------------------------------------------------------- needles from manifest rows


class RowCounts(NamedTuple):
    """What one manifest row adds to the check's counts (summed over the manifest)."""

    rows: int = 0
    identifiers: int = 0
    skipped_names: int = 0
    unscoped_names: int = 0


def row_needles(
    number: int,
    row,
    allowed: frozenset[str],
    ordinary: frozenset[str],
    review_id_of: Callable[[dict], str | None] | None,
) -> tuple[list[tuple[tuple, tuple]], RowCounts]:
    """One manifest row's needle entries ``(key, value)`` and counts, by the rules both checks share
    (:func:`pipeline.verify.row_needles`; the launcher check holds the same needles in automata)."""
    entries: list[tuple[tuple, tuple]] = []
    if not isinstance(row, dict):
        return entries, RowCounts(rows=1)
    needles = verify_row_needles(row, allowed, ordinary, review_id_of)
    for keyed, raw, kind in needles.ids:
        entries.append((("k", keyed), (keyed, kind, number)))
        entries.append((("r", raw), (raw, kind, number)))
    for scope, label in needles.scopes:
        entries.append((("s", scope), (scope, label)))
    name = needles.name
    if name:
        if needles.clip_id:
            entries.append((("b", f"clip:{needles.clip_id}"), (name, number)))
        if needles.review:
            entries.append((("b", f"review:{needles.review}"), (name, number)))
        if needles.free:
            entries.append((("n", name), (name, number)))
    identifiers = len(needles.ids) + bool(name)
    skipped, unscoped = int(needles.skipped), int(needles.unscoped)
    return entries, RowCounts(1, identifiers, skipped, unscoped)


def sketch_entry(key: tuple, value: tuple) -> tuple | None:
    """What the sketch keeps of a needle entry: ``(namespace, hash, prefix hash, length)``, and for
    a raw id the code points it is made of; None for row-bound names (they are joined by scope, not
    searched for)."""
    namespace = key[0]
    if namespace == "b":
        return None
    text = value[0]
    if namespace == "r":
        return namespace, text_hash(text), text_hash(text[:MIN_ID_CHARS]), len(text), frozenset(map(ord, text))
    if namespace in ID_NAMESPACES:
        return namespace, text_hash(text), text_hash(text[:MIN_ID_CHARS]), len(text)
    return namespace, text_hash(text), 0, len(text)


class SketchParts(NamedTuple):
    """A partial sketch: unique hashes per namespace (and prefix length) as sorted uint64 arrays,
    and the lengths seen; parts from many workers merge (:func:`merge_parts`)."""

    hashes: dict[tuple, np.ndarray]  # (ns, "full") or (ns, prefix length) → sorted unique hashes
    lengths: dict[str, frozenset[int]]
    chars: frozenset[int] | None = None  # code points of the raw ids (None: not known, no prefilter)


def sketch_parts(entries: Iterable[tuple[str, int, int, int]]) -> SketchParts:
    """A partial sketch from ``(namespace, hash, prefix hash, length)`` entries."""
    hashes: dict[tuple, list[int]] = {}
    lengths: dict[str, set[int]] = {}
    chars: set[int] | None = set()
    for namespace, h, prefix, length, *rest in entries:
        if namespace == "r":
            if rest and chars is not None:
                chars.update(rest[0])
            else:
                chars = None
        hashes.setdefault((namespace, "full"), []).append(h)
        lengths.setdefault(namespace, set()).add(length)
        if namespace in ID_NAMESPACES:
            hashes.setdefault((namespace, min(MIN_ID_CHARS, length)), []).append(prefix)
    return SketchParts(
        {key: np.unique(np.array(values, dtype=np.uint64)) for key, values in hashes.items()},
        {ns: frozenset(values) for ns, values in lengths.items()},
        None if chars is None else frozenset(chars),
    )


def sorted_union(joined: np.ndarray) -> np.ndarray:
    """The sorted distinct values of ``joined`` (sorted in place: it is consumed). Peaks at the
    input and its result, where ``np.unique`` also holds a sorted copy."""
    if len(joined) < 2:
        return joined
    joined.sort()
    keep = np.empty(len(joined), dtype=bool)
    keep[0] = True
    np.not_equal(joined[1:], joined[:-1], out=keep[1:])
    return joined[keep]


def merge_parts(parts: Iterable[SketchParts], union: Callable[[list], object] | None = None) -> SketchParts:
    """Partial sketches → one. Each hash set is ``union(its parts' values)``: by default the sorted
    union of arrays; a caller whose parts hold stored arrays passes ``list`` and merges each set
    when it needs it (:func:`build_sketch`'s ``hashes``), so no two sets are merged at once."""
    union = union or (lambda arrays: sorted_union(np.concatenate(arrays)))
    hashes: dict[tuple, list] = {}
    lengths: dict[str, set[int]] = {}
    chars: set[int] | None = set()
    for part in parts:
        if part.chars is None or chars is None:
            chars = None if "r" in part.lengths or chars is None else chars
        else:
            chars.update(part.chars)
        for key, values in part.hashes.items():
            hashes.setdefault(key, []).append(values)
        for ns, values in part.lengths.items():
            lengths.setdefault(ns, set()).update(values)
    return SketchParts(
        {key: union(values) for key, values in hashes.items()},
        {ns: frozenset(values) for ns, values in lengths.items()},
        None if chars is None else frozenset(chars),
    )


def build_sketch(
    entries: Iterable[tuple[str, int, int, int]] | SketchParts,
    hashes: Callable[[object], np.ndarray] | None = None,
    keep: Callable[[np.ndarray], object] | None = None,
) -> Sketch:
    """The sketch from ``(namespace, hash, prefix hash, length)`` entries, or from merged parts.

    ``hashes`` turns a part's value into its sorted hash array (default: it is one already) and
    ``keep`` what the sketch holds of each array it is made of (default: the array itself); they are
    called one hash set at a time, so a builder that stores each array as it is made (and keeps a
    reference to where it is) holds one set and its bitmap at a time, never the whole sketch."""
    parts = entries if isinstance(entries, SketchParts) else sketch_parts(entries)
    hashes = hashes or (lambda value: value)
    keep = keep or (lambda array: array)
    empty = np.zeros(0, dtype=np.uint64)

    def full(ns: str):
        value = parts.hashes.get((ns, "full"))
        return keep(empty if value is None else hashes(value))

    def prefix(value) -> tuple:
        array = hashes(value)
        bitmap = bitmap_of(array)
        return keep(array), keep(bitmap)

    def ids(ns: str) -> IdSketch:
        sets = {key[1]: v for key, v in parts.hashes.items() if key[0] == ns and key[1] != "full"}
        alphabet = None
        if ns == "r" and parts.chars is not None:
            alphabet = np.zeros(256, dtype=bool)
            alphabet[[c for c in parts.chars if c < 256]] = True
        return IdSketch(
            full(ns),
            {size: prefix(v) for size, v in sorted(sets.items())},
            tuple(sorted(parts.lengths.get(ns, ()))),
            alphabet,
        )

    def words(ns: str) -> WordSketch:
        return WordSketch(full(ns), max(parts.lengths.get(ns, ()), default=0))

    return Sketch(ids("k"), ids("r"), words("n"), words("s"))


# ---------------------------------------------------------------- probes from output text


class Probe(NamedTuple):
    """A place a needle may be: the join key, where it is, and what to compare there."""

    key: tuple
    path: str
    where: str
    text: str | tuple[str, str]  # the span (ids, names), the masked text (row-bound names), or both (scopes)


def mask_paths(text: str, masks: Iterable[str]) -> str:
    for mask in masks:
        text = text.replace(mask, " ")
    return text


SEPARATOR = "\x00"  # between the texts of a batch: a window across it is dropped by position


def text_probes(
    text: str,
    sketch: Sketch,
    path: str,
    where: str,
    masks: Iterable[str],
    scopes: Iterable[str] | None,
    names: bool = True,
) -> Iterator[Probe]:
    """The probes of one text (a cell or a line): :func:`batch_probes` of one."""
    yield from batch_probes([text], sketch, path, [where], masks, [None if scopes is None else list(scopes)], names)


def _locator(lengths: list[int]):
    """(start, end) in texts joined by one separator → the index of the text holding the whole
    span, or None when it crosses a separator."""
    ends = np.cumsum(np.array(lengths, dtype=np.int64) + 1) - 1
    starts = ends - np.array(lengths, dtype=np.int64)

    def inside(start: int, end: int) -> int | None:
        i = int(np.searchsorted(ends, start, side="right"))
        return i if i < len(ends) and starts[i] <= start and end <= ends[i] else None

    return inside


def batch_probes(
    texts: list[str],
    sketch: Sketch,
    path: str,
    wheres: list[str],
    masks: Iterable[str],
    scopes: list[list[str] | None],
    names: bool = True,
) -> Iterator[Probe]:
    """The probes of many texts (a column of a row batch, the lines of a file), each searched as
    :func:`pipeline.verify.scan_text` searches it: ids anywhere in the keyed text; then, unless
    ``names`` is false (a fixed-form column), names that are not ordinary words as words, and the
    names of its scopes (None: of the clips the text names) as words, in the text with operator
    paths blanked out. The texts are hashed together (numpy per call costs more than a cell);
    a hit that crosses from one text into the next is dropped."""
    texts = [normalise(text) for text in texts]
    keyed = SEPARATOR.join(text.translate(_ID_FOLD) for text in texts)
    inside = _locator([len(text) for text in texts])
    for start, end, _h in id_hits(codes_of(keyed), sketch.keyed):
        if (i := inside(start, end)) is not None:
            yield Probe(("k", keyed[start:end]), path, wheres[i], keyed[start:end])
    if not names:
        return
    masked = [mask_paths(text, masks) for text in texts]
    joined = SEPARATOR.join(masked)
    inside = _locator([len(text) for text in masked])
    for start, end, _h in word_hits(joined, sketch.names):
        if (i := inside(start, end)) is not None:
            yield Probe(("n", joined[start:end]), path, wheres[i], joined[start:end])
    if any(scope is None for scope in scopes):
        for start, end, _h in word_hits(joined, sketch.scopes):
            if (i := inside(start, end)) is not None and scopes[i] is None:
                yield Probe(("s", joined[start:end]), path, wheres[i], (joined[start:end], masked[i]))
    for i, given in enumerate(scopes):
        for scope in given or ():
            yield Probe(("b", scope), path, wheres[i], masked[i])


def values_probes(values: list[bytes], sketch: Sketch, path: str, where: str) -> Iterator[Probe]:
    """Raw ids in each of many byte values (a binary column's batch), hashed together; a hit that
    crosses from one value into the next is dropped."""
    if not values:
        return
    joined = b"\x00".join(values)
    inside = _locator([len(value) for value in values])
    for probe in byte_probes(joined, sketch, path, where, spans=True):
        start, end = probe.text
        if inside(start, end) is not None:
            span = joined[start:end].decode("latin-1").lower()
            yield probe._replace(key=("r", span), text=span)


def byte_probes(
    data: bytes, sketch: Sketch, path: str, where: str, start_before: int | None = None, spans: bool = False
) -> Iterator[Probe]:
    """Raw ids in bytes (latin-1, lower-cased): :func:`pipeline.verify.scan_bytes`, hashed
    :data:`BYTE_WINDOW` bytes at a time (windows overlap by the longest id)."""
    limit = len(data) if start_before is None else min(len(data), start_before)
    overlap = max(sketch.raw.longest - 1, 0)
    for offset in range(0, max(limit, 1), BYTE_WINDOW):
        window = data[offset : offset + BYTE_WINDOW + overlap]
        before = min(BYTE_WINDOW, limit - offset)
        for start, end, _h in id_hits(byte_codes(window), sketch.raw, before):
            if spans:  # where in ``data``, for a caller that checks it
                yield Probe(("r", ""), path, where, (offset + start, offset + end))
            else:
                span = window[start:end].decode("latin-1").lower()
                yield Probe(("r", span), path, where, span)


# ---------------------------------------------------------------- the join


class Finding(NamedTuple):
    """A leak as the Beam check emits it; the same fields as :class:`pipeline.verify.Leak`."""

    kind: str
    row: int
    path: str
    where: str


def match(key: tuple, needles: Iterable[tuple], probes: Iterable[tuple]) -> Iterator:
    """Needles and probes of one key → :class:`Finding` records, and for a clip named in a log line,
    a new probe ``(("b", scope), (path, where, masked text))`` to be joined with that clip's names."""
    namespace = key[0]
    needles = list(needles)
    if not needles:
        return
    for path, where, text in probes:
        if namespace in ("k", "r"):
            for value, kind, row in needles:
                if text == value:
                    yield Finding(kind, row, path, where)
        elif namespace == "n":
            for value, row in needles:
                if text == value:
                    yield Finding("first_name", row, path, where)
        elif namespace == "s":
            span, masked = text
            for value, scope in needles:
                if span == value:
                    yield ("b", scope), (path, where, masked)
        else:
            for name, row in needles:
                if _find_word(text, name):
                    yield Finding("first_name", row, path, where)
