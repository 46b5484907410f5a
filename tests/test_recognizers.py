"""Recognizers on their own (no analyzer): written-text names, street particles, clip metadata, word widening."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.redaction.engine import repeats, widen_to_words
from transforms.redaction.lexicon import build_lexicon
from transforms.redaction.recognizers import (
    CapitalisedNameRecognizer,
    StreetAddressRecognizer,
    _variants,
    clip_metadata_results,
    metadata_spans,
)


@pytest.fixture(scope="module")
def lexicon():
    return build_lexicon()


def _found(results, text):
    return sorted(text[r.start : r.end] for r in results)


@pytest.mark.parametrize(
    "text, names",
    [
        ("The Exversion Orchestra was founded in 1977.", ["Exversion Orchestra"]),  # leading stop word dropped
        ("I met Bekbolat Musliyevich at the station.", ["Bekbolat Musliyevich"]),
        ("We moved our savings to Hellowallet last year.", ["Hellowallet"]),
        ("She reads Entertainment Weekly every week.", []),  # every word is an English word
        ("my name is bekbolat musliyevich", []),  # lower-case transcript: no capitalisation signal
        ("Yesterday was fine. Then Monday came.", []),
        ("Aristóteles spent a year abroad.", ["Aristóteles"]),  # sentence-initial, in no English word list
        ("They're late. E-mail Jones.", ["Jones"]),  # contraction, hyphenated word, full stop after a name
        ("Oh, I met Faina D. Yefremova.", ["Faina D. Yefremova"]),  # interjection; initial keeps its dot
    ],
)
def test_when_written_text_then_capitalised_unknown_words_found(text, names):
    recognizer = CapitalisedNameRecognizer("en", frozenset({"the", "was", "in", "at", "to", "then"}))
    assert _found(recognizer.analyze(text, ["PROPER_NAME"]), text) == names


@pytest.mark.parametrize(
    "text, address",
    [
        ("Via delle Coste 41 is nice", "Via delle Coste 41"),
        ("Meet me at 363 Huntly Street", "363 Huntly Street"),
        ("Zoolander is a 2017 film", None),
    ],
)
def test_when_written_street_then_only_particles_join_words(lexicon, text, address):
    found = _found(StreetAddressRecognizer(lexicon).analyze(text, ["STREET_ADDRESS"]), text)
    if address is None:
        assert found == []
    else:
        assert address in found and not any("Meet" in f for f in found)


@pytest.mark.parametrize(
    "text, address",
    [
        ("it is the corner of Kuusiku 7 and Alexander Flat? I am in", "the corner of Kuusiku 7 and Alexander Flat"),
        (
            "Address:\nthe corner of 76 Boulevard de Normandie and Eriksson Bridge.",
            "the corner of 76 Boulevard de Normandie and Eriksson Bridge",
        ),
        ("address:\n947 trg revolucije 17 apt. 858", "947 trg revolucije 17 apt. 858"),
        ("pedestrians must enter on hegyalja út 98. st. the first", "hegyalja út 98."),
        ("The bus drops you off at 9383 ul. Chrzanowska 61 St.", "9383 ul. Chrzanowska 61"),  # house number before
        ("what's 7 times 8", None),  # a contraction and English words: no street
        ("set 5 timers for 10 minutes", None),
    ],
)
def test_when_intersection_or_foreign_lower_case_street_then_found(lexicon, text, address):
    found = _found(StreetAddressRecognizer(lexicon).analyze(text, ["STREET_ADDRESS"]), text)
    if address is None:
        assert found == []
    else:
        assert any(address in f for f in found), found


def test_when_metadata_value_spelled_out_then_found_and_pattern_cached():
    text = "account 4829-1055 73 and g090xf0731945822"
    values = {"ACCOUNT_ID": "ACCT-4829105573", "DEVICE_SERIAL": "G090XF0731945822"}
    results = clip_metadata_results(values, text)
    assert sorted((r.entity_type, text[r.start : r.end]) for r in results) == [
        ("ACCOUNT_ID", "4829-1055 73"),
        ("DEVICE_SERIAL", "g090xf0731945822"),
    ]
    assert all(r.score == 1.0 for r in results)
    assert clip_metadata_results({"PERSON": "  "}, text) == []


@pytest.mark.parametrize(
    "text, start, end, word",
    [
        ("call Weeks-Turner now", 5, 9, "Weeks-Turner"),
        ("call Weeks-Turner now", 12, 14, "Weeks-Turner"),
        ("ask O'Brien", 6, 8, "O'Brien"),
        ("Mary's book", 0, 2, "Mary"),  # a possessive is not part of the name
    ],
)
def test_when_span_inside_joined_name_then_widened_to_whole_name(text, start, end, word):
    s, e = widen_to_words(text, start, end)
    assert text[s:e] == word


def test_when_value_repeats_then_every_whole_word_mention_found():
    from transforms.redaction.engine import Detection

    text = "call priyanka and tell priyanka not priyankas"
    found = repeats(text, [Detection("PERSON", 5, 13, 0.7, "x")])
    assert [(d.start, d.end) for d in found] == [(23, 31)]


@pytest.mark.parametrize(
    "text, titles",
    [
        ("Erik Baader\n\nCourt, municipal, and license clerk\n\nPersonal", ["Court, municipal, and license clerk"]),
        ('Marie Langrova, the Technical writer, said: "I agree"', ["Technical writer"]),
        ("she works as a staff nurse in town", ["staff nurse"]),
        ("set a timer for ten minutes", []),
        ("I used to work for Deloitte as Dairy scientist, but quit", ["Dairy scientist"]),  # "as" without article
        ("same as the driver, please", []),  # "as the ...": a role, not a job title
    ],
)
def test_when_job_title_set_apart_then_found(text, titles):
    from transforms.redaction.recognizers import JobTitleRecognizer

    assert _found(JobTitleRecognizer().analyze(text, ["TITLE"]), text) == titles


@pytest.mark.parametrize(
    "text, orgs",
    [
        ("naomi ryan\nhubbard, fox and gillespie\n3747 fourth avenue", ["hubbard, fox and gillespie"]),
        ("selma is from stillwater supercomputing inc.", ["stillwater supercomputing inc."]),
        ("I work for Chemical Abstracts Service", ["Chemical Abstracts Service"]),
        ("which later became Credit Karma in 1980.", ["Credit Karma"]),
        ("i work for my uncle on Monday", []),  # lower case after the lead: no capitalisation signal
        ("apples, pears and plums", []),  # not surnames
    ],
)
def test_when_organisation_shape_then_found(lexicon, text, orgs):
    from transforms.redaction.recognizers import OrganizationContextRecognizer

    assert _found(OrganizationContextRecognizer(lexicon).analyze(text, ["ORGANIZATION"]), text) == orgs


@pytest.mark.parametrize(
    "text, found",
    [
        ("I am cambodian but I live in Austria.", ["cambodian"]),
        ("We are proud Bruneians", ["Bruneians"]),
        ("I am belizian", ["belizian"]),
        ("I am hungry and italic", []),  # ordinary English words are never derived forms
    ],
)
def test_when_nationality_word_then_found(text, found):
    from transforms.redaction.recognizers import DemonymRecognizer

    assert _found(DemonymRecognizer().analyze(text, ["NRP"]), text) == found


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
def test_metadata_spans_cover_every_match_of_the_per_value_pattern(value, pieces):
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
