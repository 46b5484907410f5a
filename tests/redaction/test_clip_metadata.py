"""The clip's own identifiers in its transcript: written or spelled out, in any script, disguised or not;
never joined across ordinary words ("in a" for Ina)."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.core.text import skeleton_char
from transforms.redaction.recognizers import clip_metadata_results, metadata_spans
from transforms.redaction.recognizers.clip_metadata import _spelling, _variants
from transforms.redaction.spoken import normalize

TEXT = "account 4829-1055 73 and g090xf0731945822"
SPOKEN_ACCOUNT = "acct four eight two nine one zero five five seven three"
SPOKEN_SERIAL = "g zero nine zero \u0445 f zero seven three one nine four five eight two two"


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
    """The previous implementation: one compiled pattern per value (the reference), with Unicode word
    boundaries ("jo" is not a word of "joÄ")."""
    alternatives = [r"[\s.\-]*".join(re.escape(c) for c in v) for v in _variants(value)]
    if not alternatives:
        return set()
    pattern = re.compile(rf"(?<![^\W_])(?:{'|'.join(alternatives)})(?![^\W_])", re.IGNORECASE)
    return {m.span() for m in pattern.finditer(text)}


@pytest.mark.parametrize(
    "value, text, found",
    [
        # spelled letter by letter, or split where no part is an ordinary word
        ("Ina", "my name is i n a", ["i n a"]),
        ("Jennifer", "it's jen nifer", ["jen nifer"]),
        ("Jennifer", "j e n n i f e r", ["j e n n i f e r"]),
        ("Jennifer", "jen-ni-fer", ["jen-ni-fer"]),
        # ordinary words are never joined into a name ...
        ("Ina", "remind me in a minute", []),
        ("Isa", "this is a test", []),
        ("Ina", "china", []),
        # ... syllables of a name stay one name even when one is a word ("fer", "rose")
        ("Rosemary", "a rose mary gave me", ["rose mary"]),
        ("Tina", "ti na", ["ti na"]),
        # ... and a name that is a word on its own is still redacted (counted as own_name_as_word)
        ("Bill", "pay the electricity bill", ["bill"]),
        # digits join across words: a spelled account or serial number
        ("ACCT-4829105573", "acct four eight two nine one zero five five seven three", [SPOKEN_ACCOUNT]),
        ("ACCT-4829105573", "it is four eight two nine one zero five five seven three", [SPOKEN_ACCOUNT[5:]]),
        ("SN-12 34", "sn 12 34", ["sn 12 34"]),
        # invisible characters and look-alike letters inside the value
        ("Jennifer", "call jen\u200bnifer", ["jen\u200bnifer"]),
        ("Jennifer", "call \u0458\u0435nnif\u0435r", ["\u0458\u0435nnif\u0435r"]),
        ("G090XF0731945822", "serial G090\u0425F\u200d0731945822", ["G090\u0425F\u200d0731945822"]),
        ("G090XF0731945822", f"serial {SPOKEN_SERIAL}", [SPOKEN_SERIAL]),  # a Cyrillic х among spelled letters
        # names in other scripts: kept, not reduced to nothing
        ("Дмитрий", "позвони Дмитрий сейчас", ["Дмитрий"]),
        ("Дмитрий", "ДМИТРИЙ", ["ДМИТРИЙ"]),
        ("혜진", "혜진에게 전화해", ["혜진"]),  # Korean particles attach to the name
        ("혜진", "김혜진 씨", ["혜진"]),
        ("\u1112\u1168\u110c\u1175\u11ab", "혜진아", ["혜진"]),  # a decomposed value
        ("José", "call jose\u0301", ["jose\u0301"]),
        ("José", "call jose", ["jose"]),  # accents do not matter, either way
        ("Renée", "call renee", ["renee"]),
        ("Priyā", "call priyā", ["priyā"]),
    ],
)
def test_when_own_identifier_in_transcript_then_found_on_the_original_words(value, text, found):
    norm = normalize(text)
    spans = [norm.to_original(*span) for span in metadata_spans(value, norm.text)]
    got = [text[a:b] for a, b in spans]
    assert got == found


@pytest.mark.parametrize(
    "matched, spelled",
    [
        ("jennifer", True),
        ("j e n", True),
        ("jen nifer", True),
        ("in a", False),
        ("b ill", False),
        ("acct 4829", True),
        ("rose mary", True),
        ("is a", False),
    ],
)
def test_when_words_are_joined_then_only_spellings_count(matched, spelled):
    assert _spelling(matched) is spelled


def _squash(text: str) -> str:
    """The matched text's comparison key, read as the matcher reads it (``_variants``: zero as "o")."""
    return "".join(skeleton_char(ch) for ch in text if not (ch.isspace() or ch in ".-")).replace("0", "o")


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
    (nothing redacted before goes unredacted now) except joins of ordinary words ("so al" is not
    "Sal"); each span it keeps lies inside one of them or is a further, equally valid spelling."""
    text = "".join(pieces)
    spans = metadata_spans(value, text)
    for start, end in _regex_spans(value, text):
        if _spelling(text[start:end]):
            assert any(s <= start and end <= e for s, e in spans), (text, spans)
    for start, end in spans:
        assert _squash(text[start:end]) in _variants(value)


LETTERS = st.sampled_from("abcdefghijklmnopqrstuvwxyzдмитрийжкл혜진") | st.sampled_from("0123456789")
SEPARATORS = st.sampled_from([" ", "  ", "-", ".", " - "])


@settings(max_examples=300, deadline=None)
@given(
    value=st.text(LETTERS, min_size=2, max_size=12),
    separator=SEPARATORS,
    before=st.sampled_from(["", "my name is ", "call ", "serial "]),
    after=st.sampled_from(["", " please", " now"]),
)
def test_when_an_identifier_is_spelled_character_by_character_then_it_is_still_found(value, separator, before, after):
    """Any value said one character at a time, with any separator, in any context, is found and
    covered end to end (after the spoken-form layer, as in the job)."""
    text = before + separator.join(value) + after
    norm = normalize(text)
    spans = [norm.to_original(*span) for span in metadata_spans(value, norm.text)]
    start = len(before)
    assert any(a <= start and start + len(separator.join(value)) <= b for a, b in spans), (text, spans)
