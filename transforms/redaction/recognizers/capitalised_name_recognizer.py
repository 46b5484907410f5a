"""PROPER_NAME in written (mixed-case) text: capitalised words inside a sentence that are in no word list.

In:  the written form of a transcript.
Out: PROPER_NAME results ("Exversion", "Bekbolat Musliyevich", "Hellowallet"); none for text that is
     mostly lower case (spoken-form transcripts) or shouted.
Fails: never.
"""

from __future__ import annotations

import re

from presidio_analyzer import RecognizerResult

from transforms.redaction.recognizers.results import SingleEntityRecognizer
from transforms.redaction.recognizers.words import CONTRACTION, SKIP_WORDS, STOP_WORDS
from transforms.redaction.wordlists import english_words


class CapitalisedNameRecognizer(SingleEntityRecognizer):
    """PROPER_NAME in written (mixed-case) text: a run of capitalised words inside a sentence that is
    in no word list ("Exversion", "Bekbolat Musliyevich", "Hellowallet").

    Written text capitalises names and organisations; word lists never hold them all. Sentence-initial
    words, stop words, months and weekdays, wake words and all-lower-case transcripts are left out, so
    spoken-form transcripts (lower case) never reach this recognizer.

    Args:
        supported_language: Language this recognizer supports.
        stop_words: Words that are never part of a name here (stop words, allow-listed wake words).
        supported_entity: Entity type of the results.
        name: Recognizer name; the class name when omitted.
    """

    SCORE = 0.4
    RUN = re.compile(
        r"(?<![\w'’-])(?:[^\W\d_a-z][^\W\d_]*(?:[-'’][^\W\d_]+)*\.?)(?:[ ]+[^\W\d_a-z][^\W\d_]*(?:[-'’][^\W\d_]+)*\.?)*"
    )
    SKIP = SKIP_WORDS

    def __init__(
        self,
        supported_language: str = "en",
        stop_words: frozenset[str] = frozenset(),
        supported_entity: str = "PROPER_NAME",
        name: str | None = None,
    ):
        self.stop = stop_words
        self.english = english_words()
        super().__init__(supported_entity, supported_language, None, name)

    def analyze(self, text, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        letters = [c for c in text if c.isalpha()]
        if not letters or sum(c.islower() for c in letters) < 0.5 * len(letters):
            return []  # lower-case transcripts and shouting: no capitalisation signal
        results = []
        for m in self.RUN.finditer(text):
            words = [(w.start() + m.start(), w.end() + m.start()) for w in re.finditer(r"\S+", m.group())]
            # drop skipped words from the edges
            while words and self._skip(text[words[0][0] : words[0][1]]):
                words.pop(0)
            while words and self._skip(text[words[-1][0] : words[-1][1]]):
                words.pop()
            if words and self._sentence_initial(text, words[0][0]) and self._ordinary(text[words[0][0] : words[0][1]]):
                # "The", "Yesterday": capitalised because the sentence starts there; a word in no English
                # word list ("Aristóteles spent", "Opencounter is") is a name wherever it stands
                words.pop(0)
            if not words or all(self._english(text[a:b]) for a, b in words):
                continue  # "Guilty Pleasures", "Civil Rights Act": ordinary words in title case
            start, end = words[0][0], words[-1][1]
            if text[end - 1] == "." and end - start > 2 and text[end - 3 : end - 1].isalpha():
                end -= 1  # a full stop after a name, not an initial ("Jones." but "Faina D.")
            results.append(self.result(start, end, self.SCORE, "capitalised words"))
        return results

    def _english(self, word: str) -> bool:
        return word.lower().strip(".,'’") in self.english

    def _ordinary(self, word: str) -> bool:
        """An ordinary word that a sentence start capitalised ("They're", "E-mail", "Yesterday")."""
        w = CONTRACTION.sub("", word.lower().strip(".,'’"))
        return all(len(p) <= 1 or p in self.english or p in self.stop or p in STOP_WORDS for p in w.split("-"))

    def _skip(self, word: str) -> bool:
        w = word.lower().strip(".,'’")
        return w in self.stop or w in self.SKIP or len(w) < 2

    @staticmethod
    def _sentence_initial(text: str, start: int) -> bool:
        before = text[:start].rstrip(" \t\"'“(")
        return not before or before[-1] in ".!?:\n;"
