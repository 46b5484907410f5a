"""NameGazetteerRecognizer: PERSON from Faker's name lists, in any case."""

import pytest

from tests.redaction import found
from transforms.redaction.recognizers import NameGazetteerRecognizer


@pytest.fixture(scope="module")
def recognizer(lexicon):
    return NameGazetteerRecognizer(lexicon)


@pytest.mark.parametrize(
    "text, names",
    [
        ("call amelia watson now", ["amelia watson"]),  # first name and surname join
        ("amelia ring me", ["amelia"]),  # an ordinary word does not extend a name
        ("call Amelia Ring", ["Amelia Ring"]),  # unless it is capitalised
        ("my name is will", []),  # a stop word is never a name
        ("text priyanka", []),  # in no locale's list: IntroducedNameRecognizer's job
        ("al and jo", []),  # two letters: too short
    ],
)
def test_when_name_words_said_then_runs_of_them_found(recognizer, text, names):
    assert found(recognizer.analyze(text, ["PERSON"]), text) == names


@pytest.mark.parametrize(
    "text, score",
    [
        ("call amelia now", NameGazetteerRecognizer.ENGLISH_SCORE),
        ("call amelia watson now", NameGazetteerRecognizer.ENGLISH_SCORE + NameGazetteerRecognizer.JOIN_BONUS),
        ("ring bill", NameGazetteerRecognizer.COMMON_SCORE),  # also an ordinary word: needs context
    ],
)
def test_when_name_found_then_scored_by_list_and_length(recognizer, text, score):
    (result,) = recognizer.analyze(text, ["PERSON"])
    assert result.score == pytest.approx(score)
