"""IntroducedNameRecognizer: PERSON right after an introduction, for names in no word list."""

import pytest
from spacy.lang.en.stop_words import STOP_WORDS

from tests.redaction import found
from transforms.redaction.recognizers import IntroducedNameRecognizer


@pytest.fixture(scope="module")
def recognizer(lexicon):
    return IntroducedNameRecognizer(lexicon, stop_words=frozenset(STOP_WORDS) | {"alexa"})


@pytest.mark.parametrize(
    "text, names",
    [
        ("my name is bekbolat", ["bekbolat"]),
        ("call me priya sharma", ["priya sharma"]),  # a surname after the name joins it
        ("send a message to jo saying", ["jo"]),
        ("text sofia that i'm late", ["sofia"]),
        ("ask will to", []),  # a stop word
        ("call g b two nine", []),  # a single letter starts a spelled code
        ("this is alexa", []),  # allow-listed wake word
        ("my name is the best", []),
        ("call her now", []),
        ("send omya a text asking about dinner", []),  # a dictionary word after a lead word
        ("add card to my wallet", []),
        ("open the contact card", []),
        ("my email id is here", []),
        ("it's sunny today", []),  # Sunny is a first name, but "it's" is no introduction
        ("ask june", []),  # a month after a lead word: the name gazetteer's rule decides
        ("my name is grace", ["grace"]),  # a self-introduction: a listed first name, even a word
        ("call me holly", ["holly"]),
    ],
)
def test_when_word_follows_an_introduction_then_found_unless_ordinary(recognizer, text, names):
    assert found(recognizer.analyze(text, ["PERSON"]), text) == names
