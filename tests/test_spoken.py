"""Spoken-form normaliser: table of spoken inputs and their written forms; offsets always valid."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.redaction.spoken import normalize


@pytest.mark.parametrize(
    "spoken, written",
    [
        ("call five five five zero one four two", "call 5550142"),
        ("ring oh seven seven oh oh nine", "ring 077009"),
        ("double five six triple oh", "55 6000".replace(" ", "")),
        ("i live at twelve oak street", "i live at 12 oak street"),
        ("four hundred and twelve main st", "412 main st"),
        ("born march third nineteen eighty five", "born march 3rd 1985"),
        ("the twenty first of june two thousand and three", "the 21st of june 2003"),
        ("john dot smith at example dot com", "john.smith@example.com"),
        ("sachin dot rao at rediffmail dot co dot uk", "sachin.rao@rediffmail.co.uk"),
        ("go to www dot example dot com now", "go to www.example.com now"),
        ("my email is eric nine six at gmail dot com", "my email is eric96@gmail.com"),
        ("mail john dot smith two at gmail dot com", "mail john.smith2@gmail.com"),
        ("send it to forty two at example dot com", "send it to 42@example.com"),
        ("one two three dash four five dash six seven eight nine", "123-45-6789"),
        ("serial g zero nine zero x f nine k", "serial g090xf9k"),
        # a long spelled code may end in "a" (SW1A 1AA); a short run may not ("at eight a")
        ("my postcode is s w one a one a a", "my postcode is sw1a1aa"),
        ("a table for two at eight a", "a table for 2 at 8 a"),
        ("set a timer for ten minutes", "set a timer for 10 minutes"),
        # "@" said the Indian-English way
        ("priya at the rate gmail dot com", "priya@gmail.com"),
        ("priya dot k at the rate of yahoo dot co dot in", "priya.k@yahoo.co.in"),
        # a local part said as two words: an initial, or first and last name
        ("my email id is j duncan at ymail dot co dot uk", "my email id is jduncan@ymail.co.uk"),
        ("email it to grampson renee at live dot net", "email it to grampsonrenee@live.net"),
        ("you can reach me at priya at gmail dot com", "you can reach me at priya@gmail.com"),
        # "plus" before a phone number, not in a sum
        ("call plus nine one nine eight seven six five four three two one zero", "call +919876543210"),
        ("what's nineteen plus twenty three", "what's 19 plus 23"),
        ("plus two", "plus 2"),
    ],
)
def test_when_spoken_form_then_written_form(spoken, written):
    assert normalize(spoken).text == written


@pytest.mark.parametrize(
    "text",
    [
        "Here's my SSN: 460-89-9847",
        "6750 Koskikatu 25 Apt. 864\nArtilleros",
        "oh no",
        "i am at home",
        "what time is it",
    ],
)
def test_when_written_or_plain_text_then_unchanged(text):
    assert normalize(text).text == text


def test_when_span_maps_back_then_it_covers_the_spoken_words():
    text = "my number is five five five zero one four two thanks"
    norm = normalize(text)
    start = norm.text.index("5550142")
    assert text[slice(*norm.to_original(start, start + 7))] == "five five five zero one four two"
    # a part of a rewritten number maps back to the whole spoken run (never to half a word)
    assert text[slice(*norm.to_original(start + 2, start + 3))] == "five five five zero one four two"


@pytest.mark.parametrize(
    "text, written, spoken",
    [
        ("call jen\u200bnifer", "call jennifer", "jen\u200bnifer"),
        ("call five five\u200b five zero one", "call 55501", "five five\u200b five zero one"),
        ("call ｆｉｖｅ ｆｉｖｅ ｆｉｖｅ", "call 555", "ｆｉｖｅ ｆｉｖｅ ｆｉｖｅ"),
    ],
)
def test_when_text_is_disguised_then_it_is_folded_and_maps_back_to_the_original(text, written, spoken):
    norm = normalize(text)
    assert norm.text == written and norm.original == text
    start = len("call ")
    assert text[slice(*norm.to_original(start, len(written)))] == spoken


WORDS = st.sampled_from(
    "one two three four five six seven eight nine zero oh double triple dot at dash com gmail john "
    "twenty hundred thousand and first march the a i g x street call my number is".split()
)


@settings(max_examples=200, deadline=None)
@given(st.lists(WORDS, max_size=25), st.sampled_from([" ", "  ", "\n", " - "]))
def test_when_any_word_sequence_then_offsets_stay_valid(words, sep):
    text = sep.join(words)
    norm = normalize(text)
    assert len(norm.starts) == len(norm.ends) == len(norm.text)
    for i in range(len(norm.text)):
        assert 0 <= norm.starts[i] < norm.ends[i] <= len(text)
    # every original non-space character is represented in the written form
    covered = {c for s, e in zip(norm.starts, norm.ends, strict=True) for c in range(s, e)}
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
