"""OrganizationContextRecognizer: ORGANIZATION from the shapes company names take."""

import pytest

from tests.redaction import found
from transforms.redaction.recognizers import OrganizationContextRecognizer


@pytest.mark.parametrize(
    "text, orgs",
    [
        ("naomi ryan\nhubbard, fox and gillespie\n3747 fourth avenue", ["hubbard, fox and gillespie"]),
        ("selma is from stillwater supercomputing inc.", ["stillwater supercomputing inc."]),
        ("I work for Chemical Abstracts Service", ["Chemical Abstracts Service"]),
        ("which later became Credit Karma in 1980.", ["Credit Karma"]),
        ("i work for my uncle on Monday", []),  # lower case after the lead: no capitalisation signal
        ("apples, pears and plums", []),  # not surnames
        ("post this photo in the family group", []),  # an ordinary word before an ordinary suffix
        ("whatsapp the photos to the office group", []),
        ("i work at tata group", ["tata group"]),  # a name before it: a company
    ],
)
def test_when_organisation_shape_then_found(lexicon, text, orgs):
    assert found(OrganizationContextRecognizer(lexicon).analyze(text, ["ORGANIZATION"]), text) == orgs
