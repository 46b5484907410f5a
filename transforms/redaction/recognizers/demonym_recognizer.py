"""NRP (nationality): nationality words derived from Faker's country names, in any case.

In:  the written form of a transcript; Faker's (en_US) country names; the English dictionary.
Out: NRP results ("cambodian", "Bruneians").
Fails: never.
"""

from __future__ import annotations

import re

from presidio_analyzer import RecognizerResult

from transforms.core.caches import process_cache
from transforms.redaction.recognizers.results import SingleEntityRecognizer
from transforms.redaction.recognizers.words import STOP_WORDS, WORD
from transforms.redaction.wordlists import english_words


@process_cache(maxsize=1)
def demonyms() -> frozenset[str]:
    """Regular nationality words derived from Faker's (en_US) country names: "cambodia" → "cambodian",
    "brunei" → "bruneian", "belize" → "belizian", "japan" → "japanese", and their plurals; every non-English
    word of a country's name is a base ("Brunei Darussalam", "Saudi Arabia"). Irregular ones
    ("french", "dutch", "swiss") are not derived; capitalised ones also come from spaCy's NORP. A derived
    form that is an ordinary English word is dropped."""
    from faker.providers.address.en_US import Provider

    english = english_words()
    out = set()
    names = {w for country in Provider.countries for w in re.findall(r"[a-z]+", country.lower())}
    for c in names:
        if len(c) < 4 or c in english or c in STOP_WORDS:
            continue  # "united", "republic": only a country's own name ("brunei darussalam" → "brunei")
        bases = {c, c[:-1] if c[-1] in "aeiouy" else c, c[:-2] if c.endswith("ia") else c}
        for base in bases:
            for suffix in ("n", "an", "ian", "ese", "i", "ish", "ean"):
                word = base + suffix
                if len(word) >= 5 and word not in english:
                    out |= {word, word + "s"}
    return frozenset(out)


class DemonymRecognizer(SingleEntityRecognizer):
    """NRP: a nationality word from :func:`demonyms`, in any case ("I am cambodian").

    Args:
        supported_language: Language this recognizer supports.
        supported_entity: Entity type of the results.
        name: Recognizer name; the class name when omitted.
    """

    SCORE = 0.55

    def __init__(self, supported_language: str = "en", supported_entity: str = "NRP", name: str | None = None):
        self.words = demonyms()
        super().__init__(supported_entity, supported_language, None, name)

    def analyze(self, text, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        return [
            self.result(m.start(), m.end(), self.SCORE, "nationality word")
            for m in WORD.finditer(text)
            if m.group().lower() in self.words
        ]
