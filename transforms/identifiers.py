"""Identifier stage: ``PseudonymizeIds``.

In:  clips with raw ``account_id`` and ``recorded_at``.
Out: clips with ``speaker_pseudonym = HMAC(key, epoch | account_id)`` and ``pseudonym_epoch``.
     ``first_name`` and ``device_serial`` are never copied to any output column (the reviewer row
     builder does not know them); ``recorded_at`` is coarsened to a date when the row is built.
Fails: a key that cannot be loaded fails the worker's ``setup()``, which fails the job (closed).

The epoch is a window of ``epoch_months`` months; the same account gets the same pseudonym within
an epoch and an unrelated one in the next, so destroying a key (or letting an epoch pass) makes
old pseudonyms unlinkable.
"""

from __future__ import annotations

import datetime

import apache_beam as beam

from pipeline.keys import derive_key, keyed_hex
from pipeline.records import Clip
from transforms.stage import ClipStageFn, StageOutputs, apply_stage


def epoch_of(recorded_at: datetime.datetime, months: int) -> str:
    """Label of the ``months``-long window (aligned to January 1970) holding ``recorded_at``: 'YYYY-MM'."""
    index = ((recorded_at.year - 1970) * 12 + recorded_at.month - 1) // months
    start = index * months
    return f"{1970 + start // 12:04d}-{start % 12 + 1:02d}"


def pseudonym(key: bytes, epoch: str, account_id: str, hex_chars: int = 32) -> str:
    """Keyed pseudonym of an account within an epoch; irreversible without the key."""
    return "spk_" + keyed_hex(key, f"{epoch}\x1f{account_id}", hex_chars)


class _PseudonymizeFn(ClipStageFn):
    stage = "identifiers"

    def __init__(self, config, key_source):
        super().__init__()
        self._config = config
        self._key_source = key_source

    def setup(self):
        self._key = derive_key(self._key_source.load(), "pseudonym")

    def handle(self, clip: Clip) -> Clip:
        epoch = epoch_of(clip.recorded_at, self._config.epoch_months)
        return clip._replace(
            speaker_pseudonym=pseudonym(self._key, epoch, clip.account_id, self._config.pseudonym_hex_chars),
            pseudonym_epoch=epoch,
        )


class PseudonymizeIds(beam.PTransform):
    """Replace the account identifier with a keyed, epoch-scoped pseudonym."""

    def __init__(self, config, key_source):
        super().__init__()
        self._fn = _PseudonymizeFn(config, key_source)

    def expand(self, clips) -> StageOutputs:
        return apply_stage(clips, "Pseudonymize", self._fn)
