"""DemonymRecognizer: NRP from nationality words derived from country names."""

import pytest

from tests.redaction import found
from transforms.redaction.recognizers import DemonymRecognizer


@pytest.mark.parametrize(
    "text, words",
    [
        ("I am cambodian but I live in Austria.", ["cambodian"]),
        ("We are proud Bruneians", ["Bruneians"]),
        ("I am belizian", ["belizian"]),
        ("I am hungry and italic", []),  # ordinary English words are never derived forms
    ],
)
def test_when_nationality_word_then_found(text, words):
    assert found(DemonymRecognizer().analyze(text, ["NRP"]), text) == words
