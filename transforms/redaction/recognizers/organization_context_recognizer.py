"""ORGANIZATION from the shapes company names take, beyond the suffix patterns in the Presidio YAML.

In:  the written form of a transcript.
Out: ORGANIZATION results: law-firm triples of surnames, lower-case names before a company suffix,
     capitalised names after an employment or move phrase.
Fails: never.
"""

from __future__ import annotations

import itertools
import re

from presidio_analyzer import RecognizerResult

from transforms.redaction.lexicon import Lexicon
from transforms.redaction.recognizers.results import SingleEntityRecognizer
from transforms.redaction.recognizers.words import SKIP_WORDS, STOP_WORDS
from transforms.redaction.wordlists import english_words


class OrganizationContextRecognizer(SingleEntityRecognizer):
    """ORGANIZATION from the shapes company names take, beyond the suffix patterns in YAML:

    - Faker's law-firm shape, any case: three surnames as "Hubbard, Fox and Gillespie";
    - a company suffix in lower-case text, after up to three words that are not stop words
      ("stillwater supercomputing inc."), one of them no ordinary word when the suffix is one ("group",
      "limited": "tata group", not "the family group");
    - in written text, a run of capitalised words after an employment or move phrase ("I work for Chemical
      Abstracts Service", "later became Credit Karma"), even when every word is an ordinary English word.

    Args:
        lexicon: Faker's surnames (the law-firm shape).
        supported_language: Language this recognizer supports.
        stop_words: Words that end a name here, on top of spaCy's stop words (allow-listed wake words).
        supported_entity: Entity type of the results.
        name: Recognizer name; the class name when omitted.
    """

    SCORE = 0.45
    SUFFIXES = r"inc|llc|ltd|limited|corp|corporation|plc|gmbh|group|holdings"
    LEADS = r"work(?:s|ed|ing)?\s+(?:for|at|with)|employed\s+by|joined|became|become|founded|acquired\s+by"
    FIRM = re.compile(r"(?i)\b([^\W\d_][\w'-]+),\s+([^\W\d_][\w'-]+),?\s+(?:and|&)\s+([^\W\d_][\w'-]+)\b")
    LOWER_SUFFIX = re.compile(rf"((?:\b[^\W\d_][\w'&-]*\s+){{1,3}})(?:{SUFFIXES})\b\.?")
    AFTER_LEAD = re.compile(rf"(?i:\b(?:{LEADS})\s+)((?:[A-Z][\w'&.-]*|and|&|of)(?:[ ]+(?:[A-Z][\w'&.-]*|and|&|of))*)")
    SKIP = SKIP_WORDS

    def __init__(
        self,
        lexicon: Lexicon,
        supported_language: str = "en",
        stop_words: frozenset[str] = frozenset(),
        supported_entity: str = "ORGANIZATION",
        name: str | None = None,
    ):
        self.lexicon = lexicon
        self.stop = stop_words | STOP_WORDS
        self.english = english_words()
        super().__init__(supported_entity, supported_language, None, name)

    def analyze(self, text, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        spans = []
        surnames = self.lexicon.last_names
        for m in self.FIRM.finditer(text):
            if all(m.group(i).lower() in surnames for i in (1, 2, 3)):
                spans.append((m.start(), m.end()))
        for m in self.LOWER_SUFFIX.finditer(text):
            words = list(re.finditer(r"\S+", m.group(1)))
            kept = list(itertools.takewhile(lambda w: w.group().lower() not in self.stop, reversed(words)))
            if not kept or not all(w.group().islower() for w in kept):
                continue
            suffix = text[m.end(1) : m.end()].strip(" .").lower()
            if suffix in self.english and all(w.group().lower() in self.english for w in kept):
                continue  # "the family group", "the office group": ordinary words before an ordinary word
            spans.append((m.start(1) + kept[-1].start(), m.end()))
        for m in self.AFTER_LEAD.finditer(text):
            words = list(re.finditer(r"\S+", m.group(1)))
            while words and (words[-1].group().lower() in self.stop or words[-1].group().lower() in self.SKIP):
                words.pop()  # "... for Monday", "... and"
            if words and words[0].group()[:1].isupper() and words[0].group().lower() not in self.SKIP:
                spans.append((m.start(1) + words[0].start(), m.start(1) + words[-1].end()))
        return [self.result(start, end, self.SCORE, "organisation shape") for start, end in spans]
