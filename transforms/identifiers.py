"""Identifier stage: ``PseudonymizeIds``.

In:  clips with raw ``account_id`` and ``recorded_at``.
Out: clips with ``speaker_pseudonym = HMAC(key of the epoch, account_id)``, ``pseudonym_epoch``
     and ``pseudonym_expires`` (end of the epoch + the retention period: the date by which every
     clip of the epoch is past retention and the epoch's key is due for destruction). In
     ``per_clip`` mode the pseudonym is a keyed hash of the clip id: no two clips link.
     ``first_name`` and ``device_serial`` are never copied to any output column (the reviewer row
     builder does not know them); ``recorded_at`` is coarsened to a date when the row is built.
Fails: a key that cannot be loaded fails the worker's ``setup()``, which fails the job (closed);
     a clip whose epoch has no key in the keyring is quarantined (stage ``identifiers``).

The epoch is a window of ``epoch_months`` months; the same account gets the same pseudonym within
an epoch and an unrelated one in the next, so destroying a key (or letting an epoch pass) makes
old pseudonyms unlinkable.
"""

from __future__ import annotations

import datetime

import apache_beam as beam

from transforms.core.epochs import epoch_end, epoch_of
from transforms.core.keys import derive_key, keyed_hex
from transforms.core.records import Clip
from transforms.core.stage import ClipStageFn, StageOutputs, apply_stage


def pseudonym(key: bytes, epoch: str, account_id: str, hex_chars: int = 32) -> str:
    """Keyed pseudonym of an account within an epoch; irreversible without the key."""
    return "spk_" + keyed_hex(key, f"{epoch}\x1f{account_id}", hex_chars)


def clip_pseudonym(key: bytes, clip_id: str, hex_chars: int = 32) -> str:
    """Per-clip mode: a keyed hash of the clip id, linking nothing to anything."""
    return "clp_" + keyed_hex(key, f"clip\x1f{clip_id}", hex_chars)


class _PseudonymizeFn(ClipStageFn):
    stage = "identifiers"

    def __init__(self, config, key_source, retention_days: int):
        super().__init__()
        self._config = config
        self._key_source = key_source
        self._retention = datetime.timedelta(days=retention_days)

    def setup(self):
        self._keyring = self._key_source.keyring()

    def handle(self, clip: Clip) -> Clip:
        months = self._config.epoch_months
        epoch = epoch_of(clip.recorded_at, months)
        key = derive_key(self._keyring.key_for(epoch), "pseudonym")
        hex_chars = self._config.pseudonym_hex_chars
        if self._config.mode == "per_clip":
            name = clip_pseudonym(key, clip.clip_id, hex_chars)
        else:
            name = pseudonym(key, epoch, clip.account_id, hex_chars)
        return clip._replace(
            speaker_pseudonym=name,
            pseudonym_epoch=epoch,
            pseudonym_expires=epoch_end(epoch, months) + self._retention,
        )


class PseudonymizeIds(beam.PTransform):
    """Replace the account identifier with a keyed, epoch-scoped pseudonym."""

    def __init__(self, config, key_source, retention_days: int):
        super().__init__()
        self._fn = _PseudonymizeFn(config, key_source, retention_days)

    def expand(self, clips) -> StageOutputs:
        return apply_stage(clips, "Pseudonymize", self._fn)
