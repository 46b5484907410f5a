"""LOCATION from Faker's city, state, region and country lists, the world's cities (GeoNames, 15,000
people or more), and Faker-style town names.

In:  the written form of a transcript (lower-case spoken transcripts included).
Out: LOCATION results of up to three words ("new york", "czech republic"), or one town-shaped word
     with its prefix ("new emilyburgh").
Fails: never.
"""

from __future__ import annotations

from presidio_analyzer import RecognizerResult

from transforms.redaction.lexicon import Lexicon
from transforms.redaction.recognizers.results import SingleEntityRecognizer
from transforms.redaction.recognizers.towns import CITY_PREFIXES, city_like
from transforms.redaction.recognizers.words import STOP_WORDS, WORD, is_capitalised


class PlaceGazetteerRecognizer(SingleEntityRecognizer):
    """LOCATION from Faker's city, state, region and country lists (up to three words).

    Args:
        lexicon: Faker's places and the words among them that are ordinary English words.
        supported_language: Language this recognizer supports.
        context: Context words; :attr:`CONTEXT` when omitted.
        supported_entity: Entity type of the results.
        name: Recognizer name; the class name when omitted.
    """

    CONTEXT = [
        "live", "living", "lives", "from", "in", "to", "near", "city", "town", "weather", "visit", "moved",
        "address", "born", "trip", "flight", "drive", "directions", "at",
    ]  # fmt: skip
    SCORE = 0.55
    COMMON_SCORE = 0.3  # a one-word place that is also an ordinary word
    CAPITALISED_COMMON_SCORE = 0.45  # the same, capitalised in written text
    MAX_WORDS = 3

    def __init__(
        self,
        lexicon: Lexicon,
        supported_language: str = "en",
        context: list[str] | None = None,
        supported_entity: str = "LOCATION",
        name: str | None = None,
        world_cities: frozenset[str] | None = None,
    ):
        from transforms.redaction.wordlists import english_words
        from transforms.redaction.wordlists import world_cities as cities

        self.lexicon = lexicon
        self.cities = cities() if world_cities is None else world_cities
        # a city that is also an ordinary word ("mobile", "reading", "orange") scores as a common place word
        self.common_cities = frozenset(c for c in self.cities if c in english_words() or c in lexicon.common)
        super().__init__(supported_entity, supported_language, context if context is not None else self.CONTEXT, name)

    def analyze(self, text, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        words = list(WORD.finditer(text))
        results = []
        i = 0
        places, common = self.lexicon.places, self.lexicon.common
        while i < len(words):
            for n in range(min(self.MAX_WORDS, len(words) - i), 0, -1):
                group = words[i : i + n]
                if n > 1 and any(text[a.end() : b.start()] != " " for a, b in zip(group, group[1:], strict=False)):
                    continue
                phrase = " ".join(m.group().lower() for m in group)
                if (phrase in places or phrase in self.cities) and len(phrase) > 2 and phrase not in STOP_WORDS:
                    ordinary = phrase in common or phrase in self.common_cities
                    score = self.COMMON_SCORE if (n == 1 and ordinary) else self.SCORE
                    if n == 1 and ordinary and is_capitalised(group[0].group()):
                        score = self.CAPITALISED_COMMON_SCORE
                    results.append(self.result(group[0].start(), group[-1].end(), score, "place word list"))
                    i += n
                    break
            else:
                word = words[i].group()
                if city_like(self.lexicon, word):
                    start = words[i].start()
                    if (
                        i > 0
                        and words[i - 1].group().lower() in CITY_PREFIXES
                        and text[words[i - 1].end() : start] == " "
                    ):
                        start = words[i - 1].start()
                    results.append(self.result(start, words[i].end(), self.SCORE, "place word list"))
                i += 1
        return results
