"""Pseudonyms: keyed, stable within an epoch, unlinkable across keys and epochs."""

import datetime

import pytest

from transforms.core.epochs import epoch_of
from transforms.identifiers import pseudonym

KEY = b"k" * 32
UTC = datetime.timezone.utc


@pytest.mark.parametrize(
    "stamp, months, expected",
    [
        (datetime.datetime(2026, 1, 5, tzinfo=UTC), 6, "2026-01"),
        (datetime.datetime(2026, 6, 30, tzinfo=UTC), 6, "2026-01"),
        (datetime.datetime(2026, 7, 1, tzinfo=UTC), 6, "2026-07"),
        (datetime.datetime(2026, 11, 22, tzinfo=UTC), 3, "2026-10"),
        (datetime.datetime(2026, 11, 22, tzinfo=UTC), 12, "2026-01"),
        (datetime.datetime(2026, 11, 22, tzinfo=UTC), 1, "2026-11"),
    ],
)
def test_epoch_of(stamp, months, expected):
    assert epoch_of(stamp, months) == expected


def test_when_same_key_epoch_and_account_then_same_pseudonym():
    assert pseudonym(KEY, "2026-07", "ACCT-1") == pseudonym(KEY, "2026-07", "ACCT-1")


@pytest.mark.parametrize(
    "other",
    [(b"x" * 32, "2026-07", "ACCT-1"), (KEY, "2027-01", "ACCT-1"), (KEY, "2026-07", "ACCT-2")],
)
def test_when_key_epoch_or_account_differs_then_pseudonym_differs(other):
    assert pseudonym(*other) != pseudonym(KEY, "2026-07", "ACCT-1")


def test_pseudonym_does_not_contain_the_account():
    value = pseudonym(KEY, "2026-07", "ACCT-4829105573")
    assert "4829105573" not in value and value.startswith("spk_") and len(value) == 36
