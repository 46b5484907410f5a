"""The clip's own identifiers in its transcript: written or spelled out, never a shorter span than before."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.redaction.recognizers import clip_metadata_results, metadata_spans
from transforms.redaction.recognizers.clip_metadata import _variants

TEXT = "account 4829-1055 73 and g090xf0731945822"


@pytest.mark.parametrize(
    "values, hits",
    [
        (
            {"ACCOUNT_ID": "ACCT-4829105573", "DEVICE_SERIAL": "G090XF0731945822"},
            [("ACCOUNT_ID", "4829-1055 73"), ("DEVICE_SERIAL", "g090xf0731945822")],
        ),
        ({"PERSON": "  "}, []),  # a blank value matches nothing
    ],
)
def test_when_metadata_value_spelled_out_then_found_with_score_one(values, hits):
    results = clip_metadata_results(values, TEXT)
    assert sorted((r.entity_type, TEXT[r.start : r.end]) for r in results) == hits
    assert all(r.score == 1.0 for r in results)
    assert all(r.recognition_metadata["recognizer_name"] == f"ClipMetadata_{r.entity_type}" for r in results)


def _regex_spans(value: str, text: str) -> set[tuple[int, int]]:
    """The previous implementation: one compiled pattern per value (the reference)."""
    alternatives = [r"[\s.\-]*".join(re.escape(c) for c in v) for v in _variants(value)]
    if not alternatives:
        return set()
    pattern = re.compile(rf"(?<![a-z0-9])(?:{'|'.join(alternatives)})(?![a-z0-9])", re.IGNORECASE)
    return {m.span() for m in pattern.finditer(text)}


@settings(max_examples=400, deadline=None)
@given(
    value=st.sampled_from(["ACCT-4829105573", "G090XF0731945822", "Ann", "Al", "jo", "SN-12 34"]),
    pieces=st.lists(
        st.sampled_from(
            ["acct", "4829", "1055", "73", "g090", "xf07", "31945822", "ann", "al", "so", "jo", "Ä", "İ", "x"]
        )
        | st.sampled_from([" ", "-", ".", "  ", "\n", ",", "'", "_"]),
        max_size=14,
    ),
)
def test_when_any_text_then_metadata_spans_cover_every_match_of_the_per_value_pattern(value, pieces):
    """Substring search over the squeezed text finds every span the old compiled pattern found
    (nothing redacted before goes unredacted now); each span it keeps lies inside one of them or
    is a further, equally valid spelling."""
    text = "".join(pieces)
    spans = metadata_spans(value, text)
    for start, end in _regex_spans(value, text):
        assert any(s <= start and end <= e for s, e in spans), (text, spans)
    for start, end in spans:
        squashed = "".join(ch for ch in text[start:end].lower() if not (ch.isspace() or ch in ".-"))
        assert squashed in _variants(value)
