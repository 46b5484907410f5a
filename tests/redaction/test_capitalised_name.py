"""CapitalisedNameRecognizer: PROPER_NAME from capitalised words in written text."""

import pytest

from tests.redaction import found
from transforms.redaction.recognizers import CapitalisedNameRecognizer


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
    assert found(recognizer.analyze(text, ["PROPER_NAME"]), text) == names
