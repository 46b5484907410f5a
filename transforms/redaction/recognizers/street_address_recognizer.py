"""STREET_ADDRESS in spoken and written transcripts, grown over the unit, town, region and postcode after it.

In:  the written form of a transcript.
Out: STREET_ADDRESS results: a house number, up to four words and a street suffix (Faker's list);
     written international forms ("Via delle Coste 41", "Erzsébet tér 19."); street corners; P.O. boxes.
Fails: never.
"""

from __future__ import annotations

import itertools
import re

from presidio_analyzer import Pattern, PatternRecognizer, RecognizerResult

from transforms.redaction.lexicon import Lexicon
from transforms.redaction.recognizers.results import make_result
from transforms.redaction.recognizers.towns import CITY_PREFIXES, city_like
from transforms.redaction.recognizers.words import CONTRACTION, STOP_WORDS, is_capitalised
from transforms.redaction.wordlists import english_words, is_plural_noun

_STOP_ALTERNATION = "|".join(re.escape(w) for w in sorted(STOP_WORDS, key=len, reverse=True))


class StreetAddressRecognizer(PatternRecognizer):
    """STREET_ADDRESS: a house number, up to four words and a street suffix (Faker's list), then an
    optional unit ("apt 5", "suite 300"), and in written text the Title-Case / multi-line forms.

    Args:
        lexicon: Faker's street suffixes and places (the suffix pattern and the address tail).
        supported_language: Language this recognizer supports.
        context: Context words; :attr:`CONTEXT` when omitted.
        patterns: Patterns; the spoken-street pattern built from the lexicon plus :attr:`PATTERNS` when omitted.
        supported_entity: Entity type of the results.
        name: Recognizer name; the class name when omitted.
    """

    UNIT = r"(?:\s*,?\s*(?:apt|apartment|suite|ste|unit|flat|room|floor|box|no|number)\.?\s*#?\s*\d+[a-z]?)?"
    # lower-case words inside written street names ("Via delle Coste", "Rua do Arenque", "Erzsébet tér");
    # any other lower-case word ("Meet me at 363", "Zoolander is a 2017") ends the candidate
    PARTICLES = (
        r"(?:de|del|della|delle|dei|degli|di|da|do|dos|das|du|des|la|le|les|van|von|der|den|am|an|im|zu|zum|"
        r"zur|y|e|i|z|u\.|ul\.|út|útja|tér|utca|sor|körút|str\.?|strada|rúa|rua|via|calle|rue|av\.?)"
    )
    STREET_WORD = r"[^\W\d_][\w'.-]*"
    SHORT_SUFFIXES = ("st", "rd", "ave", "blvd", "ln", "dr")
    SPOKEN_SCORE = 0.6
    WRITTEN_SCORE = 0.4
    PO_BOX_SCORE = 0.5
    CORNER_SCORE = 0.6
    FOREIGN_SCORE = 0.4
    CONTEXT = ["address", "live", "lives", "living", "street", "ship", "send", "deliver", "located", "at"]
    # The lexicon-free patterns; the spoken-street pattern (Faker's street suffixes) comes first, from __init__.
    PATTERNS = [
        # written, international: "Via delle Coste 41", "Koskikatu 25", "Erzsébet tér 19."
        Pattern(
            "written street then number",
            r"(?-i:\b(?:\d{1,6}\s+)?(?:[A-ZÀ-Þ][\w'.-]+\s+)(?:(?:"
            + PARTICLES
            + r"|[A-ZÀ-Þ][\w'.-]+)\s+){0,3}\d{1,5}[a-z]?\b\.?)"
            + UNIT,
            WRITTEN_SCORE,
        ),
        Pattern(
            "written number then street", r"(?-i:\b\d{1,6}[ ]+(?:[A-ZÀ-Þ][\w'.-]+[ ]?){1,4})" + UNIT, WRITTEN_SCORE
        ),
        Pattern("po box", r"(?i)\b(?:p\.?\s?o\.?\s+box|psc|unit)\s+\d+(?:,\s*box\s+\d+)?", PO_BOX_SCORE),
    ]

    # "the corner of Kuusiku 7 and Alexander Flat": an intersection names a place as well as a house number
    CORNER = re.compile(
        r"(?i)\b(?:the\s+)?corner\s+of\s+[^\n,?!]{2,60}?\s+and\s+[^\n,?!]{2,40}?(?=\.?\s*$|[,?!\n]|\.\s)", re.M
    )
    # lower-case written forms with no English word in them ("947 trg revolucije 17", "hegyalja út 98.",
    # "rúa olmos 44"): a street name that no suffix list knows, between or before house numbers
    FOREIGN = re.compile(r"(?<![\w.])(?:\d{1,6}\s+)?((?:[^\W\d_][\w'.-]*\s+){1,3})\d{1,5}[a-z]?\b\.?")
    HOUSE_NUMBER_BEFORE = re.compile(r"(?<![\w.])\d{1,6}[ \t]+$")

    def __init__(
        self,
        lexicon: Lexicon,
        supported_language: str = "en",
        context: list[str] | None = None,
        patterns: list[Pattern] | None = None,
        supported_entity: str = "STREET_ADDRESS",
        name: str | None = None,
    ):
        self.lexicon = lexicon
        self.english = english_words()
        super().__init__(
            supported_entity=supported_entity,
            name=name,
            patterns=list(patterns) if patterns else [self.spoken_street_pattern(lexicon), *self.PATTERNS],
            context=context if context is not None else self.CONTEXT,
            supported_language=supported_language,
        )

    def spoken_street_pattern(self, lexicon: Lexicon) -> Pattern:
        """A house number, up to four words and a street suffix ("12 oak street", "42 glen ridge dale apt 5",
        "1500 broadway").

        Neither the suffix nor a word before it is a stop word: Faker's suffix lists hold "to", "so" and
        "a", which made "convert 10 miles to km" and "transfer 5000 to account" addresses. A suffix that
        is a plural noun needs a street name before it: straight after a number it counts things ("rate
        this novel 3 out of 6 points", "give this album 5 points")."""
        suffixes = {s for s in lexicon.street_suffixes if s.isalpha() and len(s) > 2 and s not in STOP_WORDS}
        longest_first = sorted(suffixes | set(self.SHORT_SUFFIXES), key=len, reverse=True)
        suffix = "|".join(re.escape(s) for s in longest_first)
        alone = "|".join(re.escape(s) for s in longest_first if not is_plural_noun(s))
        word = rf"(?!(?:{_STOP_ALTERNATION})\b){self.STREET_WORD}"
        return Pattern(
            "spoken street",
            rf"(?i)\b\d{{1,6}}[a-z]?(?:(?:\s+{word}){{1,4}}\s+(?:{suffix})|\s+(?:{alone}))\b\.?{self.UNIT}",
            self.SPOKEN_SCORE,
        )

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None) -> list[RecognizerResult]:
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        for m in self.CORNER.finditer(text):
            results.append(self._result(m.start(), m.end(), self.CORNER_SCORE, "street corner"))
        for m in self.FOREIGN.finditer(text):
            words = list(re.finditer(r"\S+", m.group(1)))
            if all(self._foreign(w.group()) for w in words):
                start = m.start()
            else:  # "on hegyalja út 98": the street is the foreign words next to the number
                kept = list(itertools.takewhile(lambda w: self._foreign(w.group()), reversed(words)))
                if not kept:
                    continue
                start = m.start(1) + kept[-1].start()
            results.append(self._result(start, m.end(), self.FOREIGN_SCORE, "foreign street and number"))
        for r in results:
            r.end = extend_address(self.lexicon, text, r.end)
            before = self.HOUSE_NUMBER_BEFORE.search(text, max(0, r.start - 8), r.start)
            if before:  # "077 Příční 1429": a house number before a street that ends in a number
                r.start = before.start()
        return results

    def _foreign(self, word: str) -> bool:
        w = CONTRACTION.sub("", word.lower().rstrip("."))
        return len(w) > 1 and w not in self.english and w not in STOP_WORDS and w not in self.lexicon.first_names

    def _result(self, start: int, end: int, score: float, why: str) -> RecognizerResult:
        return make_result(self.name, self.id, self.supported_entities[0], start, end, score, why)


_TAIL_TOKEN = re.compile(r"[\s,]*([^\W_][\w'.-]*)")
_UNIT_WORDS = {"apt", "apt.", "apartment", "suite", "ste", "unit", "flat", "box", "floor"}


def extend_address(lexicon: Lexicon, text: str, end: int, max_words: int = 8) -> int:
    """Grow an address over what follows it: unit, town, state or region, country, postcode.

    Stops at the first token that is none of those, or at a sentence break."""
    words = 0
    while words < max_words:
        m = _TAIL_TOKEN.match(text, end)
        if not m or re.search(r"[.!?;]\s", text[end : m.start(1)] + " ") and not text[end : m.start(1)].isspace():
            break
        w = m.group(1)
        lw = w.lower().rstrip(".,")
        ok = (
            lw in _UNIT_WORDS
            or any(c.isdigit() for c in w)
            and len(w) <= 10
            or lw in lexicon.places
            or city_like(lexicon, lw)
            or lw in CITY_PREFIXES
            or (w.isupper() and len(w) >= 2)
            or (is_capitalised(w) and "\n" in text[end : m.start(1)])
        )
        if not ok or lw in STOP_WORDS and lw not in lexicon.places:
            break
        end = m.end(1)
        words += 1
    return end
