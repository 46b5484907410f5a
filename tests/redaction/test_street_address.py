"""StreetAddressRecognizer: spoken and written street addresses, corners, foreign lower-case streets."""

import pytest

from tests.redaction import found
from transforms.redaction.recognizers import StreetAddressRecognizer


@pytest.fixture(scope="module")
def recognizer(lexicon):
    return StreetAddressRecognizer(lexicon)


@pytest.mark.parametrize(
    "text, address",
    [
        ("Via delle Coste 41 is nice", "Via delle Coste 41"),
        ("Meet me at 363 Huntly Street", "363 Huntly Street"),
        ("Zoolander is a 2017 film", None),
    ],
)
def test_when_written_street_then_only_particles_join_words(recognizer, text, address):
    spans = found(recognizer.analyze(text, ["STREET_ADDRESS"]), text)
    if address is None:
        assert spans == []
    else:
        assert address in spans and not any("Meet" in f for f in spans)


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
def test_when_intersection_or_foreign_lower_case_street_then_found(recognizer, text, address):
    spans = found(recognizer.analyze(text, ["STREET_ADDRESS"]), text)
    if address is None:
        assert spans == []
    else:
        assert any(address in f for f in spans), spans


@pytest.mark.parametrize(
    "text, address, score",
    [
        ("i live at 12 oak street", "12 oak street", StreetAddressRecognizer.SPOKEN_SCORE),
        ("i live at 12 glen ridge dale apt 5", "12 glen ridge dale apt 5", StreetAddressRecognizer.SPOKEN_SCORE),
        ("Koskikatu 25 is near", "Koskikatu 25", StreetAddressRecognizer.WRITTEN_SCORE),
        ("send it to po box 4411", "po box 4411", StreetAddressRecognizer.PO_BOX_SCORE),
    ],
)
def test_when_pattern_matches_then_scored_by_its_class_constant(recognizer, text, address, score):
    results = recognizer.analyze(text, ["STREET_ADDRESS"])
    assert max(r.score for r in results if text[r.start : r.end] == address) == score


@pytest.mark.parametrize(
    "text, address",
    [
        ("convert 10 miles to km", None),  # "to" is a Faker street suffix, and a stop word
        ("transfer 5000 to my savings", None),
        ("book 3 tickets for the day", None),  # a stop word between the number and the suffix
        ("i live at 12 oak street", "12 oak street"),
        ("deliver to 42 glen ridge dale apt 5", "42 glen ridge dale apt 5"),
    ],
)
def test_when_number_precedes_a_suffix_then_only_a_street_of_words_is_an_address(recognizer, text, address):
    spans = found(recognizer.analyze(text, ["STREET_ADDRESS"]), text)
    assert spans == ([] if address is None else [address])
