"""PERSON from Faker's first and last name lists, in any case.

In:  the written form of a transcript (lower-case spoken transcripts included).
Out: PERSON results; consecutive name words join into one ("amelia watson").
Fails: never.

A name that is also an ordinary English word ("will", "bill", "june"), in lower case, counts only right
after a word that introduces a person ("call will", "text bill", "ask june"); one that is also a stop
word ("will", "may") is proposed only there (the span scorer then judges every hit in its context): Presidio's context window (five words
either way) lifted "way" in "text gautam that i am on my way" and "soon" in "message ariley ok see you
soon"; and it never saw "call", a spaCy stop word.
"""

from __future__ import annotations

from presidio_analyzer import RecognizerResult

from transforms.redaction.frames import message_frame
from transforms.redaction.lexicon import Lexicon
from transforms.redaction.recognizers.results import SingleEntityRecognizer
from transforms.redaction.recognizers.words import STOP_WORDS, WORD, is_capitalised
from transforms.redaction.wordlists import CALENDAR_WORDS


class NameGazetteerRecognizer(SingleEntityRecognizer):
    """PERSON from Faker's first/last name lists, case-insensitively; consecutive name words join.

    Args:
        lexicon: Faker's names and the words among them that are ordinary English words.
        supported_language: Language this recognizer supports.
        context: Context words; :attr:`CONTEXT` when omitted.
        supported_entity: Entity type of the results.
        name: Recognizer name; the class name when omitted.
        frame_words: Words that introduce PII ("iban", "visa": other recognizers' context words); a name
            spelled like one is treated as an ordinary word (needs a lead word).
        stop_words: Words that are never names here (spaCy's stop words; the job adds its allow-listed
            wake words, so "alexa read ..." is no first name and surname).
    """

    CONTEXT = [
        "name", "call", "called", "text", "message", "tell", "ask", "dial", "ring", "phone", "contact",
        "email", "mr", "mrs", "ms", "miss", "dr", "dear", "this", "friend", "wife", "husband", "son",
        "daughter", "mom", "dad", "brother", "sister", "with", "remind", "invite", "meet",
    ]  # fmt: skip
    ENGLISH_SCORE = 0.7  # a first name from an English-speaking locale
    FOREIGN_SCORE = 0.45  # a first name from another locale
    LAST_SCORE = 0.4
    COMMON_SCORE = 0.3  # a name that is also an ordinary word
    LEAD_BONUS = 0.35  # ... right after a lead word (Presidio's context bonus)
    JOIN_BONUS = 0.15  # per further word: a first name followed by a surname is stronger than either alone
    # Words right before an ordinary-word name that make it one: CONTEXT less the words that as often
    # precede a thing ("with sage and basil", "this", "name").
    NOT_LEADS = frozenset({"with", "this", "name"})

    def __init__(
        self,
        lexicon: Lexicon,
        supported_language: str = "en",
        context: list[str] | None = None,
        supported_entity: str = "PERSON",
        name: str | None = None,
        frame_words: frozenset[str] = frozenset(),
        stop_words: frozenset[str] = frozenset(STOP_WORDS),
    ):
        self.lexicon = lexicon
        self.frame_words = frame_words
        self.stop_words = frozenset(w.lower() for w in stop_words)
        super().__init__(supported_entity, supported_language, context if context is not None else self.CONTEXT, name)
        self.leads = frozenset(w.lower() for w in self.context) - self.NOT_LEADS

    def word_score(self, word: str, led: bool = False) -> float:
        """Score of one word; ``led``: right after a lead word, where a listed first name that is also a
        stop word counts as an ordinary-word name ("text will", "email may"; "will it rain" stays)."""
        lex, w = self.lexicon, word.lower()
        if len(w) <= 2:
            return 0.0
        if w in self.stop_words:
            return self.COMMON_SCORE if led and w in lex.first_names and w.isalpha() else 0.0
        common = w in lex.common or w in self.frame_words
        if w in lex.first_names:
            if common:
                return self.COMMON_SCORE
            return self.ENGLISH_SCORE if w in lex.english_names else self.FOREIGN_SCORE
        if w in lex.last_names:
            return self.COMMON_SCORE if common else self.LAST_SCORE
        return 0.0

    def _first_then_last(self, first: str, last: str, run_length: int) -> bool:
        """A lone first name followed by a surname reads as one full name, whichever of the two is
        also an ordinary word ("joshua cook", "hope ojo"); "text kaylee" does not ("text" names no one)."""
        lex = self.lexicon
        return run_length == 1 and first.lower() in lex.first_names and last.lower() in lex.last_names

    def _led(self, text: str, start: int) -> bool:
        """The word right before ``start`` introduces a person ("call", "text", "dear"), or the two words
        before it send or bring a message ("message to", "messages from":
        :func:`transforms.redaction.frames.message_frame`) and the word is no month or weekday ("texts
        from june" may be a month's). Not "reminder for" or "lunch with": "a reminder for june", "a
        reminder for bill payment" name no one."""
        before = text[max(0, start - 24) : start]
        words = WORD.findall(before)
        if not words or not before.endswith(" "):
            return False
        if words[-1].lower() in self.leads:
            return True
        word = WORD.match(text, start)
        return message_frame(text, start) and (word is None or word.group().lower() not in CALENDAR_WORDS)

    def analyze(self, text, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        run: list[tuple[int, int, float]] = []

        def flush():
            if run:
                best = max(s for _, _, s in run)
                score = min(1.0, best + self.JOIN_BONUS * (len(run) - 1))
                result = self.result(run[0][0], run[-1][1], score, "name word list")
                if best == self.COMMON_SCORE and not is_capitalised(text[run[0][0] : run[0][1]]):
                    # every word is also an ordinary word, said in lower case: a lead word or nothing (in
                    # written text the capital is a signal of its own: Presidio's context decides there)
                    if self._led(text, run[0][0]):
                        result.score = min(1.0, score + self.LEAD_BONUS)
                    result.recognition_metadata[RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY] = True
                results.append(result)
                run.clear()

        last_end = -1
        for match in WORD.finditer(text):
            score = self.word_score(match.group(), led=not run and self._led(text, match.start()))
            full = run and self._first_then_last(text[run[-1][0] : run[-1][1]], match.group(), len(run))
            if score == self.COMMON_SCORE and run and not is_capitalised(match.group()):
                if any(s > self.COMMON_SCORE for _, _, s in run):
                    if not full:
                        score = 0.0  # "amelia ring me": an ordinary word does not extend a name...
                    # ...unless a first name is followed by a surname ("joshua cook", "andrew day")
                else:
                    flush()  # "ring bill": a word after a lead word starts a name of its own
            elif score > self.COMMON_SCORE and run and all(s == self.COMMON_SCORE for _, _, s in run):
                if not is_capitalised(text[run[0][0] : run[0][1]]) and not full:
                    flush()  # "text kaylee": an ordinary word before a name is not part of it ("hope ojo" is)
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
