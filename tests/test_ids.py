"""Canonical account ids: every spelling of one id matches, different ids stay different."""

import pytest

from transforms.core.ids import MAX_ID_CHARS, canonical_id, invalid_reason, valid_id


@pytest.mark.parametrize(
    "spelling",
    [
        "ACCT-0000000001",
        "acct-0000000001",  # letter case
        "\ufeffACCT-0000000001",  # a byte-order mark left at the start
        "  ACCT-0000000001  ",  # spaces
        "\tACCT-0000000001\t",  # tabs
        "\u00a0ACCT-0000000001\u00a0",  # no-break spaces
        "\u3000ACCT-0000000001\u2003",  # ideographic and em spaces
        "ACCT-0000000001\r",  # a CRLF line end half-removed
        "AC\u200bCT-00000\u200d00001",  # zero-width space and joiner inside
        "ACCT-\u00ad0000000001",  # soft hyphen
        "ＡＣＣＴ－０００００００００１",  # fullwidth letters, hyphen and digits
        "Acct-0000000001\u2060",  # word joiner
    ],
)
def test_when_an_id_is_spelled_differently_then_its_canonical_form_is_the_same(spelling):
    assert canonical_id(spelling) == "acct-0000000001"
    assert valid_id(canonical_id(spelling))


@pytest.mark.parametrize(
    "a, b",
    [
        ("ACCT-0000000001", "ACCT-0000000002"),
        ("ACCT-0000000001", "ACCT-00000000010"),
        # Cyrillic А (U+0410) looks like Latin A: NFKC keeps them apart, and so do we (folding
        # confusables would merge real, distinct ids).
        ("ACCT-0000000001", "\u0410CCT-0000000001"),
        ("ACCT-0000000001", "ACCT-000000000l"),  # digit one and letter l
    ],
)
def test_when_ids_differ_then_their_canonical_forms_differ(a, b):
    assert canonical_id(a) != canonical_id(b)


def test_when_lists_are_case_sensitive_then_case_is_kept_but_padding_is_not():
    assert canonical_id(" Acct-1\u00a0", case_sensitive=True) == "Acct-1"
    assert canonical_id("Acct-1", case_sensitive=True) != canonical_id("ACCT-1", case_sensitive=True)


def test_when_canonicalised_twice_then_nothing_changes():
    for value in ("ＡＣＣＴ－１", "Straße-1", "ǰ-1", "\u0130-1", " x\u200b "):
        once = canonical_id(value)
        assert canonical_id(once) == once


@pytest.mark.parametrize(
    "canonical, reason",
    [
        ("", "no id"),
        ("acct-1,jane", "more than one field"),
        ("acct-1;jane", "more than one field"),
        ("acct-1\tjane", "more than one field"),
        ("acct-1 jane", "more than one field"),
        ("acct-1\u2028jane", "more than one field"),
        ("acct#1", "'#'"),
        ('"acct-1', "quotes"),
        ("acct-1'", "quotes"),
        ("acct-\x001", "control"),
        ("acct-\ue0001", "control"),  # private use
        ("x" * (MAX_ID_CHARS + 1), "longer than"),
    ],
)
def test_when_a_canonical_id_is_not_one_id_then_it_is_invalid_with_a_reason(canonical, reason):
    assert not valid_id(canonical)
    assert reason in invalid_reason(canonical)
    assert canonical.strip() == "" or canonical[:6] not in invalid_reason(canonical)


@pytest.mark.parametrize(
    "canonical",
    ["acct-0000000001", "a", "jane.doe@example.com", "amzn1.account.af3xq", "x" * MAX_ID_CHARS, "客户-42", "müller-7"],
)
def test_when_an_id_is_ordinary_then_it_is_valid(canonical):
    assert valid_id(canonical)
