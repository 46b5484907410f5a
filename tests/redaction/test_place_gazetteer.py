"""PlaceGazetteerRecognizer: LOCATION from Faker's place lists and Faker-style town names."""

import pytest

from tests.redaction import found
from transforms.redaction.recognizers import PlaceGazetteerRecognizer


@pytest.fixture(scope="module")
def recognizer(lexicon):
    return PlaceGazetteerRecognizer(lexicon)


@pytest.mark.parametrize(
    "text, places",
    [
        ("what is the weather in manchester", ["manchester"]),
        ("i live in new york", ["new york"]),  # up to three words
        ("czech republic", ["czech republic"]),
        ("i moved to new emilyburgh", ["new emilyburgh"]),  # a name plus a town suffix, with its prefix
        ("i live in michaelchester", ["michaelchester"]),
        ("the weather is fine", []),
    ],
)
def test_when_place_said_then_found(recognizer, text, places):
    assert found(recognizer.analyze(text, ["LOCATION"]), text) == places


def test_when_place_found_then_result_is_a_location_of_this_recognizer(recognizer):
    (result,) = recognizer.analyze("i live in new york", ["LOCATION"])
    assert result.entity_type == "LOCATION" and result.score == PlaceGazetteerRecognizer.SCORE
    assert result.recognition_metadata["recognizer_name"] == "PlaceGazetteerRecognizer"
    assert result.recognition_metadata["recognizer_identifier"] == recognizer.id
    assert result.analysis_explanation.textual_explanation == "place word list"
