"""The leak check's keyed form: every needle and every place it could occur, reduced to join keys.

In:  manifest rows (as :func:`pipeline.verify.needles_from_rows` reads them) and output text or bytes.
Out: needle entries ``(key, value)`` and probes ``(key, payload)`` that meet in a keyed join (the
     Beam check, :mod:`pipeline.leak_check`), and a :class:`Sketch` — sorted 64-bit hashes of the
     needles, 8 bytes per needle — that tells a scanner which spans of its text are worth a probe.
     A scanner never holds the needles themselves, only their hashes.
Fails: nothing here raises on odd input; a hash collision only costs a probe that the join then
     rejects (values are compared exactly there), never a missed leak.

Keys (namespace, hash or scope):

- ``("k", h)`` an account id or serial in its :func:`~pipeline.verify.id_key` form, searched as a
  substring of keyed text; ``("r", h)`` the same id lower-cased raw, searched in raw bytes.
- ``("n", h)`` a first name that is not an ordinary word, searched as a whole word anywhere.
- ``("s", h)`` a clip id or review id, to see which clips a log line names.
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

from pipeline.verify import _ID_FOLD, MIN_ID_CHARS, MIN_NAME_CHARS, _find_word, id_key, normalise

_MASK = (1 << 64) - 1
_R = 0x100000001B3  # odd, so invertible modulo 2**64
_R_INV = pow(_R, -1, 1 << 64)
_WORD = re.compile(r"\w")
ID_NAMESPACES = ("k", "r")


def text_hash(text: str) -> int:
    """The 64-bit polynomial hash ``sum(ord(c_j) * R**j)`` that :func:`window_hashes` computes for
    every window of a text at once."""
    h, power = 0, 1
    for char in text:
        h = (h + ord(char) * power) & _MASK
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


def _prefix(codes: np.ndarray) -> _Prefix:
    n = len(codes)
    powers = np.empty(n, dtype=np.uint64)
    inverse = np.empty(n + 1, dtype=np.uint64)
    if n:
        powers[0] = 1
        powers[1:] = _R
        np.cumprod(powers, out=powers)
    inverse[0] = 1
    inverse[1:] = _R_INV
    np.cumprod(inverse, out=inverse)
    sums = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum(codes * powers, out=sums[1:])
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


class IdSketch(NamedTuple):
    """Hashes of one form of the ids: whole values, their first characters, and the lengths seen."""

    full: np.ndarray
    prefixes: dict[int, np.ndarray]  # prefix length (MIN_ID_CHARS, or less for a shorter value) → hashes
    lengths: tuple[int, ...]

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
    prefix = _prefix(codes)
    lengths = np.array(sketch.lengths, dtype=np.int64)
    for size, hashes in sketch.prefixes.items():
        if n < size:
            continue
        starts = np.arange(0, min(limit, n - size + 1), dtype=np.int64)
        found = starts[member(_span_hashes(prefix, starts, starts + size), hashes)]
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


def _boundaries(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Where a whole word may start (after a non-word character or at 0) and end."""
    word = np.fromiter((bool(_WORD.match(c)) for c in text), dtype=bool, count=len(text))
    n = len(text)
    starts = np.flatnonzero(np.concatenate(([True], ~word[:-1]))) if n else np.zeros(0, dtype=np.int64)
    ends = np.flatnonzero(np.concatenate((~word[1:], [True]))) + 1 if n else np.zeros(0, dtype=np.int64)
    return starts, ends


def word_hits(text: str, sketch: WordSketch) -> Iterator[tuple[str, int]]:
    """``(span, hash)`` of every whole-word span of ``text`` whose hash is a needle's."""
    if not len(sketch.full) or not text:
        return
    starts, ends = _boundaries(text)
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
    hashes = _span_hashes(_prefix(codes_of(text)), pair_starts, pair_ends)
    keep = member(hashes, sketch.full)
    for start, end, h in zip(pair_starts[keep], pair_ends[keep], hashes[keep], strict=True):
        yield text[start:end], int(h)


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
    """One manifest row's needle entries ``(key, value)`` and counts, by the rules of
    :func:`pipeline.verify.needles_from_rows` (which holds the same row in automata instead)."""
    entries: list[tuple[tuple, tuple]] = []
    if not isinstance(row, dict):
        return entries, RowCounts(rows=1)
    identifiers = skipped = unscoped = 0
    for kind in ("account_id", "device_serial"):
        value = row.get(kind)
        if isinstance(value, str) and len(id_key(value.strip())) >= MIN_ID_CHARS:
            keyed, raw = id_key(value.strip()), value.strip().lower()
            entries.append((("k", text_hash(keyed)), (keyed, kind, number)))
            entries.append((("r", text_hash(raw)), (raw, kind, number)))
            identifiers += 1
    clip_id = row.get("clip_id")
    clip_id = clip_id.strip() if isinstance(clip_id, str) else ""
    review = review_id_of(row) if review_id_of else None
    for kind, value in (("clip", clip_id), ("review", review)):
        if value:
            entries.append((("s", text_hash(normalise(value))), (normalise(value), f"{kind}:{value}")))
    name = row.get("first_name")
    name = normalise(name.strip()) if isinstance(name, str) else ""
    if len(name) >= MIN_NAME_CHARS:
        if name in allowed:
            skipped = 1
        else:
            identifiers += 1
            if clip_id:
                entries.append((("b", f"clip:{clip_id}"), (name, number)))
            if review:
                entries.append((("b", f"review:{review}"), (name, number)))
            if not all(word in ordinary for word in re.findall(r"\w+", name)):
                entries.append((("n", text_hash(name)), (name, number)))
            elif review_id_of is None or not review:
                unscoped = 1
    return entries, RowCounts(1, identifiers, skipped, unscoped)


def sketch_entry(key: tuple, value: tuple) -> tuple[str, int, int, int] | None:
    """What the sketch keeps of a needle entry: ``(namespace, hash, prefix hash, length)``; None for
    row-bound names (they are joined by scope, not searched for)."""
    namespace = key[0]
    if namespace == "b":
        return None
    text = value[0]
    if namespace in ID_NAMESPACES:
        return namespace, key[1], text_hash(text[:MIN_ID_CHARS]), len(text)
    return namespace, key[1], 0, len(text)


def build_sketch(entries: Iterable[tuple[str, int, int, int]]) -> Sketch:
    """The sketch from ``(namespace, hash, prefix hash, length)`` entries."""
    full: dict[str, set[int]] = {ns: set() for ns in ("k", "r", "n", "s")}
    prefixes: dict[str, dict[int, set[int]]] = {"k": {}, "r": {}}
    lengths: dict[str, set[int]] = {ns: set() for ns in ("k", "r", "n", "s")}
    for namespace, h, prefix, length in entries:
        full[namespace].add(h)
        lengths[namespace].add(length)
        if namespace in prefixes:
            prefixes[namespace].setdefault(min(MIN_ID_CHARS, length), set()).add(prefix)

    def array(values: set[int]) -> np.ndarray:
        return np.array(sorted(values), dtype=np.uint64)

    def ids(ns: str) -> IdSketch:
        return IdSketch(
            array(full[ns]), {size: array(v) for size, v in prefixes[ns].items()}, tuple(sorted(lengths[ns]))
        )

    def words(ns: str) -> WordSketch:
        return WordSketch(array(full[ns]), max(lengths[ns], default=0))

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


def text_probes(
    text: str,
    sketch: Sketch,
    path: str,
    where: str,
    masks: Iterable[str],
    scopes: Iterable[str] | None,
    names: bool = True,
) -> Iterator[Probe]:
    """The probes of one text (a cell or a line), as :func:`pipeline.verify.scan_text` searches it:
    ids anywhere in the keyed text; then, unless ``names`` is false (a fixed-form column), names
    that are not ordinary words as words, and the names of the given scopes (None: of the clips the
    text names) as words, in the text with operator paths blanked out."""
    text = normalise(text)
    keyed = text.translate(_ID_FOLD)
    for start, end, h in id_hits(codes_of(keyed), sketch.keyed):
        yield Probe(("k", h), path, where, keyed[start:end])
    if not names:
        return
    masked = mask_paths(text, masks)
    for span, h in word_hits(masked, sketch.names):
        yield Probe(("n", h), path, where, span)
    if scopes is None:
        for span, h in word_hits(masked, sketch.scopes):
            yield Probe(("s", h), path, where, (span, masked))
        return
    for scope in scopes:
        yield Probe(("b", scope), path, where, masked)


def byte_probes(data: bytes, sketch: Sketch, path: str, where: str, start_before: int | None = None) -> Iterator[Probe]:
    """Raw ids in bytes (latin-1, lower-cased): :func:`pipeline.verify.scan_bytes`."""
    for start, end, h in id_hits(byte_codes(data), sketch.raw, start_before):
        yield Probe(("r", h), path, where, data[start:end].decode("latin-1").lower())


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
