"""Which copy of a repeated ``clip_id`` survives: one rule for the keys-only read and the clips.

In:  a validated :class:`transforms.core.records.Clip` (with ``source_row`` when the manifest
     stage read it).
Out: its fingerprint (a hash of audio, time, account and transcript, independent of read order)
     and its survivor rank (fingerprint, then ``source_row``): among the copies of one clip id the
     lowest rank survives and the others are quarantined (``duplicate_clip_id``). The fingerprint
     decides as it always has; the row's position only breaks a tie between copies with the same
     fingerprint, which before was decided by whatever order a shuffle gave them.
Fails: nothing.

Both sides compute the rank from the same parsed row, so the policy stage can keep the survivor
as it streams past (a side input holds the survivor's rank of each repeated id only) instead of
gathering every copy of every repeated id in a shuffle.

Which ids are repeated is found without a shuffle that holds a record per clip:
:class:`RepeatedIdHashes` combines the 64-bit hashes of every row's clip id (8 bytes a row, in
one array per bundle) into the few hashes seen more than once; only the rows with those hashes
are then ranked per id. A hash shared by two different ids only sends both to the ranking, which
counts rows per id and finds neither repeated: the side input is the same as ranking every row.
"""

from __future__ import annotations

import hashlib
from array import array

import apache_beam as beam
import numpy as np

from transforms.core.records import Clip


def _fingerprint_text(clip: Clip) -> str:
    return f"{clip.audio_uri}\x1f{clip.recorded_at.isoformat()}\x1f{clip.account_id}\x1f{clip.transcript}"


def clip_fingerprint(clip: Clip) -> str:
    """Deterministic order among duplicates, independent of read order."""
    return hashlib.sha256(_fingerprint_text(clip).encode("utf-8", "replace")).hexdigest()


def survivor_rank(clip: Clip) -> bytes:
    """The copy of a repeated clip id with the lowest rank is the one kept: the fingerprint's
    digest (whose byte order is the hex fingerprint's order), then the row's position. Bytes, so
    the keys-only read shuffles about 50 bytes per clip, not two strings."""
    return hashlib.sha256(_fingerprint_text(clip).encode("utf-8", "replace")).digest() + clip.source_row.encode()


def id_hash(clip_id: str) -> int:
    """A 64-bit hash of a clip id (the same on every worker and run)."""
    return int.from_bytes(hashlib.blake2b(clip_id.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def repeated_hashes(hashes: np.ndarray) -> frozenset[int]:
    """The values that occur more than once in an array of uint64 hashes."""
    ordered = np.sort(hashes, kind="stable")
    again = ordered[1:][ordered[1:] == ordered[:-1]]
    return frozenset(int(h) for h in np.unique(again))


class IdHashes(beam.CombineFn):
    """ids → a ``uint64`` array of their :func:`id_hash` values (8 bytes an id).

    The accumulator is an ``array('Q')``, so what a runner shuffles between the partial and the
    final combine is one compact array per bundle, not a record per id: on the DirectRunner, whose
    shuffles live in the launcher, the launcher stays flat. Subclasses say what the output is."""

    def create_accumulator(self):
        return array("Q")

    def add_input(self, accumulator, value):
        accumulator.append(id_hash(value))
        return accumulator

    def merge_accumulators(self, accumulators):
        merged = array("Q")
        for accumulator in accumulators:
            merged.extend(accumulator)
        return merged

    def extract_output(self, accumulator):
        return np.frombuffer(accumulator, dtype=np.uint64) if accumulator else np.empty(0, dtype=np.uint64)


class RepeatedIdHashes(IdHashes):
    """clip ids → frozenset of the :func:`id_hash` values of ids seen more than once."""

    def extract_output(self, accumulator):
        return repeated_hashes(super().extract_output(accumulator))


class DistinctIdHashes(IdHashes):
    """ids → a sorted ``uint64`` array of their distinct :func:`id_hash` values (8 bytes a distinct
    id), for membership by binary search (:func:`hash_in`)."""

    def extract_output(self, accumulator):
        return np.unique(super().extract_output(accumulator))


def hash_in(hashes: np.ndarray, value: int) -> bool:
    """Whether ``value`` is in a sorted uint64 array (a binary search)."""
    at = int(np.searchsorted(hashes, np.uint64(value)))
    return at < len(hashes) and int(hashes[at]) == value
