"""PERSON right after an introduction ("my name is X", "call me X", "this is X", "ask X to").

In:  the written form of a transcript.
Out: PERSON results for the word after the introduction, and a following surname.
Fails: never.

Catches names that are in no word list; the word must not be an ordinary word or a stop word: a
dictionary word that no name list holds ("send omya a text asking", "my email id", "contact card")
is what the lead words precede as often as a name.
"""

from __future__ import annotations

import re

from presidio_analyzer import RecognizerResult

from transforms.redaction.lexicon import Lexicon
from transforms.redaction.recognizers.results import SingleEntityRecognizer
from transforms.redaction.wordlists import CALENDAR_WORDS, dictionary_words


class IntroducedNameRecognizer(SingleEntityRecognizer):
    """PERSON right after an introduction ("my name is X", "call me X", "this is X", "ask X to").

    Catches names that are in no word list; the next word must not be an ordinary word.

    Args:
        lexicon: Faker's names and the words among them that are ordinary English words.
        supported_language: Language this recognizer supports.
        stop_words: Words that are never names here (stop words, allow-listed wake words).
        supported_entity: Entity type of the results.
        name: Recognizer name; the class name when omitted.
    """

    # A self-introduction: the next word is a name even when it is also a word ("my name is grace").
    INTRODUCTIONS = r"my name is|my name's|name is|i am called|i'm called|call me"
    LEADS = (
        INTRODUCTIONS + r"|this is|it's|speaking to|"
        r"(?:call|text|message|phone|ring|email|e-mail|dial|tell|ask|remind|invite|contact)(?:\s+to)?|"
        r"(?:send|write|reply)\s+(?:a\s+)?(?:message|text|note|email|e-mail)\s+to"
    )
    SCORE = 0.5

    def __init__(
        self,
        lexicon: Lexicon,
        supported_language: str = "en",
        stop_words: frozenset[str] = frozenset(),
        supported_entity: str = "PERSON",
        name: str | None = None,
    ):
        self.lexicon = lexicon
        self.stop = stop_words
        self.dictionary = dictionary_words()
        self.pattern = re.compile(
            rf"\b(?:({self.INTRODUCTIONS})|{self.LEADS})\s+([^\W\d_]+)(?:\s+([^\W\d_]+))?", re.IGNORECASE
        )
        super().__init__(supported_entity, supported_language, None, name)

    def _namelike(self, word: str, introduced: bool = False) -> bool:
        w = word.lower()
        # A single letter after "call" is the start of a spelled code ("call g b two nine"), not a name.
        if len(w) < 2 or w in self.stop:
            return False
        listed = w in self.lexicon.first_names
        if introduced and listed:
            return True
        if w in self.dictionary or w in CALENDAR_WORDS:
            return False  # "text omya asking", "my email id", "ask june"
        return listed or w not in self.lexicon.common  # "jo" is short, but a name when listed

    def analyze(self, text, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        results = []
        for match in self.pattern.finditer(text):
            if not self._namelike(match.group(2), introduced=match.group(1) is not None):
                continue
            end = match.end(2)
            second = match.group(3)
            if second and second.lower() in self.lexicon.last_names and self._namelike(second):
                end = match.end(3)
            results.append(self.result(match.start(2), end, self.SCORE, "introduced name"))
        return results
