"""JobTitleRecognizer: TITLE where written text sets a job title apart."""

import pytest

from tests.redaction import found
from transforms.redaction.recognizers import JobTitleRecognizer


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
    assert found(JobTitleRecognizer().analyze(text, ["TITLE"]), text) == titles
