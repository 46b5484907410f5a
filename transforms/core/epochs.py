"""Pseudonym epochs: ``months``-long windows aligned to January 1970, labelled 'YYYY-MM'.

Every per-speaker secret (pseudonym, voice, review id, sampling) is keyed per epoch, so the
stages that need a clip's epoch compute it here rather than import each other.
"""

from __future__ import annotations

import datetime


def epoch_of(recorded_at: datetime.datetime, months: int) -> str:
    """Label of the ``months``-long window (aligned to January 1970) holding ``recorded_at``: 'YYYY-MM'."""
    index = ((recorded_at.year - 1970) * 12 + recorded_at.month - 1) // months
    start = index * months
    return f"{1970 + start // 12:04d}-{start % 12 + 1:02d}"


def epoch_end(epoch: str, months: int) -> datetime.date:
    """First day after the epoch that starts at ``epoch`` ('YYYY-MM')."""
    year, month = map(int, epoch.split("-"))
    index = year * 12 + month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)
