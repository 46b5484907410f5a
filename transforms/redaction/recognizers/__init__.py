"""Presidio recognizers for spoken-form, lower-case transcripts and for written text, one per module.

In:  the written form of a transcript (see :mod:`transforms.redaction.spoken`) and, for
     :func:`clip_metadata_results`, the clip's own identifiers.
Out: Presidio ``RecognizerResult`` lists, like any Presidio recognizer.
Fails: never on text; a bad pattern raises when the recognizer is built.

Each recognizer follows Presidio's ``EmailRecognizer`` shape: class constants (``PATTERNS``,
``CONTEXT``, scores), an overridable ``__init__`` (language, context, entity type, name), and small
helpers that cut false positives. Names and places do not rely on capital letters: they come from
Faker's locale word lists, scored lower when the word is also an ordinary English word (then only
context words such as "my name is", "call", "I live in" lift them over the threshold).
"""

from transforms.redaction.recognizers.capitalised_name_recognizer import CapitalisedNameRecognizer
from transforms.redaction.recognizers.clip_metadata import clip_metadata_results, metadata_spans
from transforms.redaction.recognizers.demonym_recognizer import DemonymRecognizer, demonyms
from transforms.redaction.recognizers.introduced_name_recognizer import IntroducedNameRecognizer
from transforms.redaction.recognizers.job_title_recognizer import JobTitleRecognizer, job_head_nouns
from transforms.redaction.recognizers.name_gazetteer_recognizer import NameGazetteerRecognizer
from transforms.redaction.recognizers.organization_context_recognizer import OrganizationContextRecognizer
from transforms.redaction.recognizers.place_gazetteer_recognizer import PlaceGazetteerRecognizer
from transforms.redaction.recognizers.results import SingleEntityRecognizer, make_result
from transforms.redaction.recognizers.street_address_recognizer import StreetAddressRecognizer, extend_address
from transforms.redaction.recognizers.towns import city_like

__all__ = [
    "CapitalisedNameRecognizer",
    "DemonymRecognizer",
    "IntroducedNameRecognizer",
    "JobTitleRecognizer",
    "NameGazetteerRecognizer",
    "OrganizationContextRecognizer",
    "PlaceGazetteerRecognizer",
    "SingleEntityRecognizer",
    "StreetAddressRecognizer",
    "city_like",
    "clip_metadata_results",
    "demonyms",
    "extend_address",
    "job_head_nouns",
    "make_result",
    "metadata_spans",
]
