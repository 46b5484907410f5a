"""The detector's span helpers: widening to whole words, repeated mentions."""

import pytest

from transforms.redaction.engine import Detection, repeats, widen_to_words


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


@pytest.mark.parametrize(
    "text, detection, mentions",
    [
        ("call priyanka and tell priyanka not priyankas", Detection("PERSON", 5, 13, 0.7, "x"), [(23, 31)]),
    ],
)
def test_when_value_repeats_then_every_whole_word_mention_found(text, detection, mentions):
    assert [(d.start, d.end) for d in repeats(text, [detection])] == mentions
