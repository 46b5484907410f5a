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
"""

from __future__ import annotations

import hashlib

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
