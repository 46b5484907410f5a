"""TITLE (job title) where written text sets one apart: a line of its own, an appositive, an "as a" phrase.

In:  the written form of a transcript; Faker's (en_US) job titles.
Out: TITLE results ("Court, municipal, and license clerk", "Technical writer", "staff nurse").
Fails: never.
"""

from __future__ import annotations

import re

from presidio_analyzer import RecognizerResult

from transforms.core.caches import process_cache
from transforms.redaction.recognizers.results import SingleEntityRecognizer
from transforms.redaction.recognizers.words import STOP_WORDS


@process_cache(maxsize=1)
def job_head_nouns() -> frozenset[str]:
    """Last words of Faker's job titles ("Adult nurse" → "nurse", "Accountant, chartered" → "accountant")."""
    from faker.providers.job.en_US import Provider

    heads = set()
    for job in Provider.jobs:
        words = job.split(",")[0].split()
        if words and words[-1].isalpha():
            heads.add(words[-1].lower())
    return frozenset(heads - STOP_WORDS)


class JobTitleRecognizer(SingleEntityRecognizer):
    """TITLE (job title) where written text sets one apart: a short line of its own in a signature or
    CV block ("Erik Baader⏎Court, municipal, and license clerk⏎"), or an appositive / "as a" phrase
    (", the Technical writer,", "works as a bus driver"). The title must end in a job word (the last
    words of Faker's job titles) or an agent suffix (-er, -or, -ist, -ian, -ant) on a line of its own.

    Args:
        supported_language: Language this recognizer supports.
        supported_entity: Entity type of the results.
        name: Recognizer name; the class name when omitted.
    """

    SCORE = 0.45
    AGENT = ("er", "or", "ist", "ian", "ant", "ent", "ologist", "grapher")
    PHRASE = re.compile(
        r"(?:,\s+the\s+|\b(?:as|is|was|i'm|i am)\s+an?\s+|\bas\s+(?!the\b|an?\b|my\b|your\b))((?:[^\W\d_][\w'-]*,?\s+){0,4}?([^\W\d_][\w'-]*))(?=\s*[,.;!?]|\s+(?:at|for|in|and|said)\b|$)",
        re.IGNORECASE,
    )
    LINE = re.compile(r"(?m)^[ \t]*((?:[^\W\d_][\w'-]*,?[ \t]+){0,5}([^\W\d_][\w'-]*))[ \t]*$")

    def __init__(self, supported_language: str = "en", supported_entity: str = "TITLE", name: str | None = None):
        self.heads = job_head_nouns()
        super().__init__(supported_entity, supported_language, None, name)

    def analyze(self, text, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        spans = []
        for m in self.PHRASE.finditer(text):
            if m.group(2).lower() in self.heads:
                spans.append((m.start(1), m.end(1)))
        if text.count("\n") >= 2:
            for m in self.LINE.finditer(text):
                head, words = m.group(2).lower(), m.group(1).split()
                # an agent suffix alone counts on a one-word line ("Echocardiographer") or next to a lower-case
                # word ("sewer pipe cleaner"), not on a line of capitalised words, which is likely a name
                agent = len(head) > 5 and head.endswith(self.AGENT) and head not in STOP_WORDS
                agent = agent and (len(words) == 1 or any(w[:1].islower() for w in words))
                if head in self.heads or agent:
                    spans.append((m.start(1), m.end(1)))
        return [self.result(start, end, self.SCORE, "job title") for start, end in spans]
