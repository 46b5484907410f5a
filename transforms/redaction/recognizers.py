"""Presidio recognizers for spoken-form, lower-case transcripts.

In:  the written form of a transcript (see :mod:`transforms.redaction.spoken`) and, for
     :func:`clip_metadata_results`, the clip's own identifiers.
Out: Presidio ``RecognizerResult`` lists, like any Presidio recognizer.
Fails: never on text; a bad pattern in config raises at engine build time.

Each recognizer follows Presidio's ``EmailRecognizer`` shape: class constants (``CONTEXT``,
scores), an overridable ``__init__``, and small ``validate``-style helpers that cut false
positives. Names and places do not rely on capital letters: they come from Faker's locale word
lists, scored lower when the word is also an ordinary English word (then only context words such as
"my name is", "call", "I live in" lift them over the threshold).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Mapping
from typing import NamedTuple

from presidio_analyzer import AnalysisExplanation, EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from spacy.lang.en.stop_words import STOP_WORDS as _STOP  # noqa: E402

from transforms.redaction.lexicon import Lexicon
from transforms.redaction.wordlists import english_words

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_CONTRACTION = re.compile(r"['’](?:s|re|ll|ve|d|m|t)$|n['’]t$")
ENGLISH = english_words()


def make_result(
    name: str, identifier: str, entity: str, start: int, end: int, score: float, why: str
) -> RecognizerResult:
    """A result carrying the explanation and recognizer metadata Presidio's own recognizers attach
    (``explain`` and the context enhancer read them)."""
    return RecognizerResult(
        entity,
        start,
        end,
        score,
        analysis_explanation=AnalysisExplanation(recognizer=name, original_score=score, textual_explanation=why),
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: identifier,
        },
    )


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper() and not word.isupper()


class NameGazetteerRecognizer(EntityRecognizer):
    """PERSON from Faker's first/last name lists, case-insensitively; consecutive name words join."""

    CONTEXT = [
        "name", "call", "called", "text", "message", "tell", "ask", "dial", "ring", "phone", "contact",
        "email", "mr", "mrs", "ms", "miss", "dr", "dear", "this", "friend", "wife", "husband", "son",
        "daughter", "mom", "dad", "brother", "sister", "with", "remind", "invite", "meet",
    ]  # fmt: skip
    ENGLISH_SCORE = 0.7
    FOREIGN_SCORE = 0.45
    LAST_SCORE = 0.4
    COMMON_SCORE = 0.3

    def __init__(self, lexicon: Lexicon, supported_language: str = "en", context: list[str] | None = None):
        self.lexicon = lexicon
        super().__init__(
            supported_entities=["PERSON"],
            name="NameGazetteerRecognizer",
            supported_language=supported_language,
            context=context if context is not None else self.CONTEXT,
        )

    def load(self) -> None:
        pass

    def word_score(self, word: str) -> float:
        lex, w = self.lexicon, word.lower()
        if len(w) <= 2 or w in _STOP:
            return 0.0
        common = w in lex.common
        if w in lex.first_names:
            if common:
                return self.COMMON_SCORE
            return self.ENGLISH_SCORE if w in lex.english_names else self.FOREIGN_SCORE
        if w in lex.last_names:
            return self.COMMON_SCORE if common else self.LAST_SCORE
        return 0.0

    def analyze(self, text, entities, nlp_artifacts=None):
        results: list[RecognizerResult] = []
        run: list[tuple[int, int, float]] = []

        def flush():
            if run:
                best = max(s for _, _, s in run)
                # a first name followed by a surname is stronger than either alone
                score = min(1.0, best + 0.15 * (len(run) - 1))
                results.append(self._result(run[0][0], run[-1][1], score))
                run.clear()

        last_end = -1
        for match in _WORD.finditer(text):
            score = self.word_score(match.group())
            if score == self.COMMON_SCORE and run and not _is_capitalised(match.group()):
                score = 0.0  # "amelia ring": an ordinary word does not extend a name
            adjacent = run and text[last_end : match.start()].strip(" .") == ""
            if score > 0 and (not run or adjacent):
                run.append((match.start(), match.end(), score))
            else:
                flush()
                if score > 0:
                    run.append((match.start(), match.end(), score))
            last_end = match.end()
        flush()
        return results

    def _result(self, start: int, end: int, score: float) -> RecognizerResult:
        return make_result(self.name, self.id, "PERSON", start, end, score, "name word list")


CITY_SUFFIXES = (
    "burgh", "borough", "bury", "chester", "fort", "furt", "haven", "land", "mouth", "port", "shire", "side",
    "stad", "ton", "town", "view", "ville", "berg", "field", "ford", "ham", "wick", "wood", "stadt", "dorf",
)  # fmt: skip
CITY_PREFIXES = ("north", "south", "east", "west", "new", "lake", "port", "fort", "mount", "saint", "st")


def city_like(lexicon: Lexicon, word: str) -> bool:
    """Faker-style town names: a name plus a town suffix ("michaelchester", "new emilyburgh")."""
    w = word.lower()
    for suffix in CITY_SUFFIXES:
        if w.endswith(suffix) and len(w) > len(suffix) + 2:
            stem = w[: -len(suffix)]
            if stem in lexicon.first_names or stem in lexicon.last_names or stem.rstrip("s") in lexicon.last_names:
                return True
    return False


class PlaceGazetteerRecognizer(NameGazetteerRecognizer):
    """LOCATION from Faker's city, state, region and country lists (up to three words)."""

    CONTEXT = [
        "live", "living", "lives", "from", "in", "to", "near", "city", "town", "weather", "visit", "moved",
        "address", "born", "trip", "flight", "drive", "directions", "at",
    ]  # fmt: skip
    SCORE = 0.55
    MAX_WORDS = 3

    def __init__(self, lexicon: Lexicon, supported_language: str = "en", context: list[str] | None = None):
        super().__init__(lexicon, supported_language, context if context is not None else self.CONTEXT)
        self.supported_entities = ["LOCATION"]
        self.name = "PlaceGazetteerRecognizer"

    def analyze(self, text, entities, nlp_artifacts=None):
        words = list(_WORD.finditer(text))
        results = []
        i = 0
        places, common = self.lexicon.places, self.lexicon.common
        while i < len(words):
            for n in range(min(self.MAX_WORDS, len(words) - i), 0, -1):
                group = words[i : i + n]
                if n > 1 and any(text[a.end() : b.start()] != " " for a, b in zip(group, group[1:], strict=False)):
                    continue
                phrase = " ".join(m.group().lower() for m in group)
                if phrase in places and len(phrase) > 2 and phrase not in _STOP:
                    score = self.COMMON_SCORE if (n == 1 and phrase in common) else self.SCORE
                    if n == 1 and phrase in common and _is_capitalised(group[0].group()):
                        score = self.FOREIGN_SCORE
                    results.append(self._place(group[0].start(), group[-1].end(), score))
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
                    results.append(self._place(start, words[i].end(), self.SCORE))
                i += 1
        return results

    def _place(self, start, end, score):
        result = self._result(start, end, score)
        result.entity_type = "LOCATION"
        result.analysis_explanation.textual_explanation = "place word list"
        return result


class IntroducedNameRecognizer(EntityRecognizer):
    """PERSON right after an introduction ("my name is X", "call me X", "this is X", "ask X to").

    Catches names that are in no word list; the next word must not be an ordinary word."""

    LEADS = (
        r"my name is|my name's|name is|i am called|i'm called|call me|this is|it's|speaking to|"
        r"(?:call|text|message|phone|ring|email|e-mail|dial|tell|ask|remind|invite|contact)(?:\s+to)?|"
        r"(?:send|write|reply)\s+(?:a\s+)?(?:message|text|note|email|e-mail)\s+to"
    )
    SCORE = 0.5

    def __init__(self, lexicon: Lexicon, supported_language: str = "en", stop_words: frozenset[str] = frozenset()):
        self.lexicon = lexicon
        self.stop = stop_words
        self.pattern = re.compile(rf"\b(?:{self.LEADS})\s+([^\W\d_]+)(?:\s+([^\W\d_]+))?", re.IGNORECASE)
        super().__init__(
            supported_entities=["PERSON"], name="IntroducedNameRecognizer", supported_language=supported_language
        )

    def load(self) -> None:
        pass

    def _namelike(self, word: str) -> bool:
        w = word.lower()
        # A single letter after "call" is the start of a spelled code ("call g b two nine"), not a name.
        return len(w) >= 2 and w not in self.stop and (w not in self.lexicon.common or w in self.lexicon.first_names)

    def analyze(self, text, entities, nlp_artifacts=None):
        results = []
        for match in self.pattern.finditer(text):
            if not self._namelike(match.group(1)):
                continue
            end = match.end(1)
            second = match.group(2)
            if second and second.lower() in self.lexicon.last_names and self._namelike(second):
                end = match.end(2)
            results.append(
                make_result(self.name, self.id, "PERSON", match.start(1), end, self.SCORE, "introduced name")
            )
        return results


class StreetAddressRecognizer(PatternRecognizer):
    """STREET_ADDRESS: a house number, up to four words and a street suffix (Faker's list), then an
    optional unit ("apt 5", "suite 300"), and in written text the Title-Case / multi-line forms."""

    UNIT = r"(?:\s*,?\s*(?:apt|apartment|suite|ste|unit|flat|room|floor|box|no|number)\.?\s*#?\s*\d+[a-z]?)?"
    CONTEXT = ["address", "live", "lives", "living", "street", "ship", "send", "deliver", "located", "at"]
    WRITTEN_SCORE = 0.4
    # lower-case words inside written street names ("Via delle Coste", "Rua do Arenque", "Erzsébet tér");
    # any other lower-case word ("Meet me at 363", "Zoolander is a 2017") ends the candidate
    PARTICLES = (
        r"(?:de|del|della|delle|dei|degli|di|da|do|dos|das|du|des|la|le|les|van|von|der|den|am|an|im|zu|zum|"
        r"zur|y|e|i|z|u\.|ul\.|út|útja|tér|utca|sor|körút|str\.?|strada|rúa|rua|via|calle|rue|av\.?)"
    )

    # "the corner of Kuusiku 7 and Alexander Flat": an intersection names a place as well as a house number
    CORNER = re.compile(
        r"(?i)\b(?:the\s+)?corner\s+of\s+[^\n,?!]{2,60}?\s+and\s+[^\n,?!]{2,40}?(?=\.?\s*$|[,?!\n]|\.\s)", re.M
    )
    # lower-case written forms with no English word in them ("947 trg revolucije 17", "hegyalja út 98.",
    # "rúa olmos 44"): a street name that no suffix list knows, between or before house numbers
    FOREIGN = re.compile(r"(?<![\w.])(?:\d{1,6}\s+)?((?:[^\W\d_][\w'.-]*\s+){1,3})\d{1,5}[a-z]?\b\.?")
    HOUSE_NUMBER_BEFORE = re.compile(r"(?<![\w.])\d{1,6}[ \t]+$")
    CORNER_SCORE = 0.6
    FOREIGN_SCORE = 0.4

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        for m in self.CORNER.finditer(text):
            results.append(self._extra(m.start(), m.end(), self.CORNER_SCORE, "street corner"))
        for m in self.FOREIGN.finditer(text):
            words = list(re.finditer(r"\S+", m.group(1)))
            if all(self._foreign(w.group()) for w in words):
                start = m.start()
            else:  # "on hegyalja út 98": the street is the foreign words next to the number
                kept = list(itertools.takewhile(lambda w: self._foreign(w.group()), reversed(words)))
                if not kept:
                    continue
                start = m.start(1) + kept[-1].start()
            results.append(self._extra(start, m.end(), self.FOREIGN_SCORE, "foreign street and number"))
        for r in results:
            r.end = extend_address(self.lexicon, text, r.end)
            before = self.HOUSE_NUMBER_BEFORE.search(text, max(0, r.start - 8), r.start)
            if before:  # "077 Příční 1429": a house number before a street that ends in a number
                r.start = before.start()
        return results

    def _foreign(self, word: str) -> bool:
        w = _CONTRACTION.sub("", word.lower().rstrip("."))
        return len(w) > 1 and w not in ENGLISH and w not in _STOP and w not in self.lexicon.first_names

    def _extra(self, start: int, end: int, score: float, why: str) -> RecognizerResult:
        return make_result(self.name, self.id, "STREET_ADDRESS", start, end, score, why)

    def __init__(self, lexicon: Lexicon, supported_language: str = "en", context: list[str] | None = None):
        suffixes = sorted({s for s in lexicon.street_suffixes if s.isalpha()} | {"st", "rd", "ave", "blvd", "ln", "dr"})
        suffix = "|".join(re.escape(s) for s in sorted(suffixes, key=len, reverse=True))
        word = r"[^\W\d_][\w'.-]*"
        patterns = [
            Pattern(
                "spoken street",
                rf"(?i)\b\d{{1,6}}[a-z]?(?:\s+{word}){{0,4}}\s+(?:{suffix})\b\.?{self.UNIT}",
                0.6,
            ),
            # written, international: "Via delle Coste 41", "Koskikatu 25", "Erzsébet tér 19."
            Pattern(
                "written street then number",
                r"(?-i:\b(?:\d{1,6}\s+)?(?:[A-ZÀ-Þ][\w'.-]+\s+)(?:(?:"
                + self.PARTICLES
                + r"|[A-ZÀ-Þ][\w'.-]+)\s+){0,3}\d{1,5}[a-z]?\b\.?)"
                + self.UNIT,
                0.3,
            ),
            Pattern("written number then street", r"(?-i:\b\d{1,6}[ ]+(?:[A-ZÀ-Þ][\w'.-]+[ ]?){1,4})" + self.UNIT, 0.3),
            Pattern("po box", r"(?i)\b(?:p\.?\s?o\.?\s+box|psc|unit)\s+\d+(?:,\s*box\s+\d+)?", 0.5),
        ]
        patterns[1].score = patterns[2].score = self.WRITTEN_SCORE
        self.lexicon = lexicon
        super().__init__(
            supported_entity="STREET_ADDRESS",
            name="StreetAddressRecognizer",
            patterns=patterns,
            context=context if context is not None else self.CONTEXT,
            supported_language=supported_language,
        )


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
            or (_is_capitalised(w) and "\n" in text[end : m.start(1)])
        )
        if not ok or lw in _STOP and lw not in lexicon.places:
            break
        end = m.end(1)
        words += 1
    return end


class _Squeezed(NamedTuple):
    """Lower-cased text without spaces, dots and dashes, and where each kept character came from."""

    text: str
    origin: list[int]


def _squeeze(text: str) -> _Squeezed:
    chars, origin = [], []
    for i, ch in enumerate(text):
        if ch.isspace() or ch in ".-":
            continue
        low = ch.casefold()
        chars.append(low if len(low) == 1 else "\0")  # keep offsets 1:1 ("ß".casefold() is "ss")
        origin.append(i)
    return _Squeezed("".join(chars), origin)


def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def metadata_spans(value: str, text: str, squeezed: _Squeezed | None = None) -> list[tuple[int, int]]:
    """``[start, end)`` spans of ``text`` that spell ``value`` or one of its variants, with any
    spaces, dots or dashes between its characters and no letter or digit right before or after.

    Plain substring search in the squeezed text: no pattern is compiled per value (compiling one
    per clip cost about 1 ms a clip, as nearly every clip brings new identifiers). Spans inside a
    longer span are dropped."""
    squeezed = squeezed or _squeeze(text)
    spans = []
    for variant in _variants(value):
        at = squeezed.text.find(variant)
        while at >= 0:
            start, end = squeezed.origin[at], squeezed.origin[at + len(variant) - 1] + 1
            if (start == 0 or not _is_ascii_alnum(text[start - 1])) and (
                end == len(text) or not _is_ascii_alnum(text[end])
            ):
                spans.append((start, end))
            at = squeezed.text.find(variant, at + 1)
    kept: list[tuple[int, int]] = []
    for start, end in sorted(set(spans), key=lambda span: (span[0], -span[1])):
        if not kept or end > kept[-1][1]:
            kept.append((start, end))
    return kept


def clip_metadata_results(values: Mapping[str, str], text: str) -> list[RecognizerResult]:
    """Hits of one clip's own identifiers in ``text`` (the written form), written or spelled out.

    ``values`` maps an entity type to a raw value (``{"ACCOUNT_ID": "ACCT-4829105573"}``). Each
    value matches case-insensitively with any spaces, dots or dashes between its characters (the
    spoken form "four eight two nine ..." is "4829105573" after normalisation), and so does its
    digit core (the account number without its "ACCT-" prefix) when it has at least four digits.
    Score 1.0: these are the clip's own identifiers, never subject to thresholds or context."""
    results = []
    squeezed = _squeeze(text)
    for entity, value in values.items():
        name = f"ClipMetadata_{entity}"
        for start, end in metadata_spans(value, text, squeezed):
            results.append(make_result(name, name, entity, start, end, 1.0, "clip's own metadata"))
    return results


def _variants(value: str) -> list[str]:
    squashed = re.sub(r"[^0-9a-z]", "", value.lower())
    variants = [squashed] if squashed else []
    digits = re.sub(r"\D", "", value)
    alnum_tail = re.sub(r"^[a-z]+", "", squashed)
    for extra in (alnum_tail, digits):
        if len(re.sub(r"\D", "", extra)) >= 4 and extra not in variants:
            variants.append(extra)
    return variants


class CapitalisedNameRecognizer(EntityRecognizer):
    """PROPER_NAME in written (mixed-case) text: a run of capitalised words inside a sentence that is
    in no word list ("Exversion", "Bekbolat Musliyevich", "Hellowallet").

    Written text capitalises names and organisations; word lists never hold them all. Sentence-initial
    words, stop words, months and weekdays, wake words and all-lower-case transcripts are left out, so
    spoken-form transcripts (lower case) never reach this recognizer."""

    SCORE = 0.4
    _RUN = re.compile(
        r"(?<![\w'’-])(?:[^\W\d_a-z][^\W\d_]*(?:[-'’][^\W\d_]+)*\.?)(?:[ ]+[^\W\d_a-z][^\W\d_]*(?:[-'’][^\W\d_]+)*\.?)*"
    )
    _SKIP = frozenset(
        "i i'm i'll i've i'd monday tuesday wednesday thursday friday saturday sunday january february march april "
        "may june july august september october november december mr mrs ms dr oh ok hi c'mon asap atm".split()
    )

    def __init__(self, supported_language: str = "en", stop_words: frozenset[str] = frozenset()):
        self.stop = stop_words
        super().__init__(
            supported_entities=["PROPER_NAME"], name="CapitalisedNameRecognizer", supported_language=supported_language
        )

    def load(self) -> None:
        pass

    def analyze(self, text, entities, nlp_artifacts=None):
        letters = [c for c in text if c.isalpha()]
        if not letters or sum(c.islower() for c in letters) < 0.5 * len(letters):
            return []  # lower-case transcripts and shouting: no capitalisation signal
        results = []
        for m in self._RUN.finditer(text):
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
            if self.TRIM_ENGLISH:
                while words and self._english(text[words[-1][0] : words[-1][1]]):
                    words.pop()
            if not words or all(self._english(text[a:b]) for a, b in words):
                continue  # "Guilty Pleasures", "Civil Rights Act": ordinary words in title case
            start, end = words[0][0], words[-1][1]
            if text[end - 1] == "." and end - start > 2 and text[end - 3 : end - 1].isalpha():
                end -= 1  # a full stop after a name, not an initial ("Jones." but "Faina D.")
            results.append(make_result(self.name, self.id, "PROPER_NAME", start, end, self.SCORE, "capitalised words"))
        return results

    TRIM_ENGLISH = False

    @staticmethod
    def _english(word: str) -> bool:
        return word.lower().strip(".,'’") in ENGLISH

    def _ordinary(self, word: str) -> bool:
        """An ordinary word that a sentence start capitalised ("They're", "E-mail", "Yesterday")."""
        w = _CONTRACTION.sub("", word.lower().strip(".,'’"))
        return all(len(p) <= 1 or p in ENGLISH or p in self.stop or p in _STOP for p in w.split("-"))

    def _skip(self, word: str) -> bool:
        w = word.lower().strip(".,'’")
        return w in self.stop or w in self._SKIP or len(w) < 2

    @staticmethod
    def _sentence_initial(text: str, start: int) -> bool:
        before = text[:start].rstrip(" \t\"'“(")
        return not before or before[-1] in ".!?:\n;"


@functools.lru_cache(maxsize=1)
def job_head_nouns() -> frozenset[str]:
    """Last words of Faker's job titles ("Adult nurse" → "nurse", "Accountant, chartered" → "accountant")."""
    from faker.providers.job.en_US import Provider

    heads = set()
    for job in Provider.jobs:
        words = job.split(",")[0].split()
        if words and words[-1].isalpha():
            heads.add(words[-1].lower())
    return frozenset(heads - _STOP)


class JobTitleRecognizer(EntityRecognizer):
    """TITLE (job title) where written text sets one apart: a short line of its own in a signature or
    CV block ("Erik Baader⏎Court, municipal, and license clerk⏎"), or an appositive / "as a" phrase
    (", the Technical writer,", "works as a bus driver"). The title must end in a job word (the last
    words of Faker's job titles) or an agent suffix (-er, -or, -ist, -ian, -ant) on a line of its own."""

    SCORE = 0.45
    AGENT = ("er", "or", "ist", "ian", "ant", "ent", "ologist", "grapher")
    _PHRASE = re.compile(
        r"(?:,\s+the\s+|\b(?:as|is|was|i'm|i am)\s+an?\s+|\bas\s+(?!the\b|an?\b|my\b|your\b))((?:[^\W\d_][\w'-]*,?\s+){0,4}?([^\W\d_][\w'-]*))(?=\s*[,.;!?]|\s+(?:at|for|in|and|said)\b|$)",
        re.IGNORECASE,
    )
    _LINE = re.compile(r"(?m)^[ \t]*((?:[^\W\d_][\w'-]*,?[ \t]+){0,5}([^\W\d_][\w'-]*))[ \t]*$")

    def __init__(self, supported_language: str = "en"):
        self.heads = job_head_nouns()
        super().__init__(supported_entities=["TITLE"], name="JobTitleRecognizer", supported_language=supported_language)

    def load(self) -> None:
        pass

    def analyze(self, text, entities, nlp_artifacts=None):
        spans = []
        for m in self._PHRASE.finditer(text):
            if m.group(2).lower() in self.heads:
                spans.append((m.start(1), m.end(1)))
        if text.count("\n") >= 2:
            for m in self._LINE.finditer(text):
                head, words = m.group(2).lower(), m.group(1).split()
                # an agent suffix alone counts on a one-word line ("Echocardiographer") or next to a lower-case
                # word ("sewer pipe cleaner"), not on a line of capitalised words, which is likely a name
                agent = len(head) > 5 and head.endswith(self.AGENT) and head not in _STOP
                agent = agent and (len(words) == 1 or any(w[:1].islower() for w in words))
                if head in self.heads or agent:
                    spans.append((m.start(1), m.end(1)))
        return [make_result(self.name, self.id, "TITLE", start, end, self.SCORE, "job title") for start, end in spans]


class OrganizationContextRecognizer(EntityRecognizer):
    """ORGANIZATION from the shapes company names take, beyond the suffix patterns in YAML:

    - Faker's law-firm shape, any case: three surnames as "Hubbard, Fox and Gillespie";
    - a company suffix in lower-case text, after up to three words that are not stop words
      ("stillwater supercomputing inc.");
    - in written text, a run of capitalised words after an employment or move phrase ("I work for Chemical
      Abstracts Service", "later became Credit Karma"), even when every word is an ordinary English word."""

    SCORE = 0.45
    SUFFIXES = r"inc|llc|ltd|limited|corp|corporation|plc|gmbh|group|holdings"
    LEADS = r"work(?:s|ed|ing)?\s+(?:for|at|with)|employed\s+by|joined|became|become|founded|acquired\s+by"
    _FIRM = re.compile(r"(?i)\b([^\W\d_][\w'-]+),\s+([^\W\d_][\w'-]+),?\s+(?:and|&)\s+([^\W\d_][\w'-]+)\b")
    _LOWER_SUFFIX = re.compile(rf"((?:\b[^\W\d_][\w'&-]*\s+){{1,3}})(?:{SUFFIXES})\b\.?")
    _AFTER_LEAD = re.compile(rf"(?i:\b(?:{LEADS})\s+)((?:[A-Z][\w'&.-]*|and|&|of)(?:[ ]+(?:[A-Z][\w'&.-]*|and|&|of))*)")
    _SKIP = frozenset(CapitalisedNameRecognizer._SKIP)

    def __init__(self, lexicon: Lexicon, supported_language: str = "en", stop_words: frozenset[str] = frozenset()):
        self.lexicon = lexicon
        self.stop = stop_words | _STOP
        super().__init__(
            supported_entities=["ORGANIZATION"],
            name="OrganizationContextRecognizer",
            supported_language=supported_language,
        )

    def load(self) -> None:
        pass

    def analyze(self, text, entities, nlp_artifacts=None):
        spans = []
        surnames = self.lexicon.last_names
        for m in self._FIRM.finditer(text):
            if all(m.group(i).lower() in surnames for i in (1, 2, 3)):
                spans.append((m.start(), m.end()))
        for m in self._LOWER_SUFFIX.finditer(text):
            words = list(re.finditer(r"\S+", m.group(1)))
            kept = list(itertools.takewhile(lambda w: w.group().lower() not in self.stop, reversed(words)))
            if kept and all(w.group().islower() for w in kept):
                spans.append((m.start(1) + kept[-1].start(), m.end()))
        for m in self._AFTER_LEAD.finditer(text):
            words = list(re.finditer(r"\S+", m.group(1)))
            while words and (words[-1].group().lower() in self.stop or words[-1].group().lower() in self._SKIP):
                words.pop()  # "... for Monday", "... and"
            if words and words[0].group()[:1].isupper() and words[0].group().lower() not in self._SKIP:
                spans.append((m.start(1) + words[0].start(), m.start(1) + words[-1].end()))
        return [
            make_result(self.name, self.id, "ORGANIZATION", start, end, self.SCORE, "organisation shape")
            for start, end in spans
        ]


@functools.lru_cache(maxsize=1)
def demonyms() -> frozenset[str]:
    """Regular nationality words derived from Faker's (en_US) country names: "cambodia" → "cambodian",
    "brunei" → "bruneian", "belize" → "belizian", "japan" → "japanese", and their plurals; every non-English
    word of a country's name is a base ("Brunei Darussalam", "Saudi Arabia"). Irregular ones
    ("french", "dutch", "swiss") are not derived; capitalised ones also come from spaCy's NORP. A derived
    form that is an ordinary English word is dropped."""
    from faker.providers.address.en_US import Provider

    out = set()
    names = {w for country in Provider.countries for w in re.findall(r"[a-z]+", country.lower())}
    for c in names:
        if len(c) < 4 or c in ENGLISH or c in _STOP:
            continue  # "united", "republic": only a country's own name ("brunei darussalam" → "brunei")
        bases = {c, c[:-1] if c[-1] in "aeiouy" else c, c[:-2] if c.endswith("ia") else c}
        for base in bases:
            for suffix in ("n", "an", "ian", "ese", "i", "ish", "ean"):
                word = base + suffix
                if len(word) >= 5 and word not in ENGLISH:
                    out |= {word, word + "s"}
    return frozenset(out)


class DemonymRecognizer(EntityRecognizer):
    """NRP: a nationality word from :func:`demonyms`, in any case ("I am cambodian")."""

    SCORE = 0.55

    def __init__(self, supported_language: str = "en"):
        self.words = demonyms()
        super().__init__(supported_entities=["NRP"], name="DemonymRecognizer", supported_language=supported_language)

    def load(self) -> None:
        pass

    def analyze(self, text, entities, nlp_artifacts=None):
        return [
            make_result(self.name, self.id, "NRP", m.start(), m.end(), self.SCORE, "nationality word")
            for m in _WORD.finditer(text)
            if m.group().lower() in self.words
        ]
