"""Detection of PII spans in one transcript, on its written form, reported in original offsets.

In:  transcripts (raw ASR text), each with the clip's own identifiers; a built
     :class:`Detector` (Presidio analyzer from the YAML in ``configs/presidio/`` plus the
     recognizers of :mod:`transforms.redaction.recognizers`).
Out: for each transcript, :class:`Detection` s — entity type, ``[start, end)`` in the ORIGINAL
     text, score, recognizer — already filtered (per-entity thresholds, allow-list), widened to
     whole words and free of overlaps.
Fails: Presidio errors propagate (the stage quarantines the clip; nothing passes unredacted).

Pipeline per batch: spoken-form normalisation → spaCy ``nlp.pipe`` over the whole batch →
Presidio ``analyze`` with the batch's NLP artifacts → map back through the offset map. The batch
runs in a spaCy memory zone (:meth:`Detector.detect_batch`): the words it adds to the shared vocab
are freed after it, so a worker does not grow with every new name, e-mail or serial it has seen.

Spoken-style transcripts (no capital letter: what an ASR system writes) and written ones take different
spaCy components (:data:`SPOKEN_SKIP`): the spoken NER model runs on the former only, the host model's
tagger chain and NER on the latter only. That halves the per-transcript cost of spoken text (the
profile of ``benchmarks/bench_redaction.py``: the host tagger chain and NER were 2.1 of 4.9 ms).
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
import threading
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from transforms.redaction.frames import (
    IRREGULAR_NATIONALITIES,
    business_frame,
    contact_frame,
    music_frame,
    nationality_as_kind,
    possessive,
)
from transforms.redaction.recognizers import (
    CapitalisedNameRecognizer,
    DemonymRecognizer,
    IntroducedNameRecognizer,
    JobTitleRecognizer,
    NameGazetteerRecognizer,
    OrganizationContextRecognizer,
    PlaceGazetteerRecognizer,
    StreetAddressRecognizer,
    clip_metadata_results,
)
from transforms.redaction.recognizers.clip_metadata import tagged_as_word
from transforms.redaction.recognizers.spoken_ner_recognizer import (
    PIPE_NAME,
    SpokenNerRecognizer,
    add_spoken_ner,
    is_spoken_style,
)
from transforms.redaction.spoken import Normalized, normalize
from transforms.redaction.wordlists import is_plural_noun

# Host spaCy components whose output nothing reads on spoken-style text. The tagger chain (tok2vec,
# tagger, attribute_ruler, lemmatizer) gives lemmas, which Presidio's context words are compared with
# (the lower-case word stands in: the context lists hold surface forms such as "born", "lives"), and
# parts of speech, which only the own-name-as-word count reads (tagged on demand, :meth:`Detector.tagged`).
# The host NER was trained on cased text: on lower-case transcripts the spoken NER model replaces it.
SPOKEN_SKIP = ("tok2vec", "tagger", "attribute_ruler", "lemmatizer", "ner")
TAGGING = ("tok2vec", "tagger", "attribute_ruler")


class Detection(NamedTuple):
    entity_type: str
    start: int  # original text offsets
    end: int
    score: float
    recognizer: str
    as_word: bool = False  # the clip's own first name, tagged by spaCy as an ordinary word (still redacted)


class Decision(NamedTuple):
    """What became of one Presidio hit: ``verdict`` is "kept", "kept, merged into ..." or "dropped: <why>"
    (below its threshold, only allow-listed words); ``start``/``end`` in the original text."""

    result: object  # presidio RecognizerResult (score after the span scorer, if it judged the hit)
    start: int
    end: int
    threshold: float
    verdict: str


def is_possessive(text: str, start: int, end: int) -> bool:
    """Whether the word the span ``text[start:end]`` ends in is a possessive ("holly's", "james'")."""
    while end < len(text) and not text[end].isspace():
        end += 1
    return possessive(text[start:end].lower().replace("\u2019", "'").rstrip(".,?!"))


def unjudged(result) -> None:
    """Take the span scorer's veto from ``result``: the larger of its recognizer's score and the scorer's
    probability stands (so the hit keeps its type in a merge), and the hit is kept when its recognizer's
    score passes the configured threshold (:meth:`Detector.threshold`). Used where the words the scorer
    reads say nothing about the hit: a name in the possessive ("play holly's playlist": an owner,
    someone whose playlist, number or house it is), a name in a contact frame ("send message to mike
    asking if i can play in the golf tournament"), a city after a place preposition. A public name in
    the possessive is then redacted with it, the error on the safe side — unless what it owns is music
    ("adele's new song": :func:`transforms.redaction.frames.music_frame`, decided before this)."""
    meta = result.recognition_metadata or {}
    if "original_score" in meta:
        result.score = max(result.score, meta["original_score"])


def _name(result) -> str:
    return (result.recognition_metadata or {}).get("recognizer_name", "")


class DetectorSettings(NamedTuple):
    """What the detector needs from ``TranscriptConfig`` (kept small and picklable)."""

    language: str = "en"
    score_threshold: float = 0.35
    entity_thresholds: Mapping[str, float] = {}
    allow_list: tuple[str, ...] = ()
    deny_list: tuple[str, ...] = ()
    gazetteer_locales: tuple[str, ...] = ()
    spacy_disable: tuple[str, ...] = ("parser",)
    batch_size: int = 32
    public_names: str = "keep"  # keep | redact: artists, titles, companies in a non-contact frame
    span_scorer: bool = True  # calibrated scores for name / place hits on spoken-style text
    scorer_thresholds: Mapping[str, float] = {}  # over the scorer's own per-entity thresholds


def build_detector_analyzer(paths: Sequence[str], settings: DetectorSettings):
    """Presidio AnalyzerEngine from the three YAML files, plus the spoken-form recognizers."""
    import phonenumbers
    from presidio_analyzer import AnalyzerEngineProvider, PatternRecognizer
    from spacy.lang.en.stop_words import STOP_WORDS

    from transforms.redaction.lexicon import build_lexicon

    # Presidio's PhoneRecognizer runs phonenumbers once per region per text; phonenumbers compiles
    # its metadata regexes through ``re``'s 512-entry cache, which overflows with nine regions, so
    # every call recompiled them (the largest single cost in the profile). Its own cache fixes that.
    phonenumbers.enable_pattern_cache()
    analyzer = AnalyzerEngineProvider(*paths).create_engine()
    analyzer.context_aware_enhancer = _enhancer_without_copy(analyzer.context_aware_enhancer)
    lexicon = build_lexicon(tuple(settings.gazetteer_locales))
    lang = settings.language
    stop = frozenset(STOP_WORDS) | frozenset(settings.allow_list)
    frame = frame_words(analyzer.registry.recognizers)
    for recognizer in (
        NameGazetteerRecognizer(lexicon, supported_language=lang, frame_words=frame, stop_words=stop),
        PlaceGazetteerRecognizer(lexicon, supported_language=lang),
        IntroducedNameRecognizer(lexicon, supported_language=lang, stop_words=stop),
        StreetAddressRecognizer(lexicon, supported_language=lang),
        CapitalisedNameRecognizer(supported_language=lang, stop_words=stop),
        JobTitleRecognizer(supported_language=lang),
        OrganizationContextRecognizer(lexicon, supported_language=lang, stop_words=stop),
        DemonymRecognizer(supported_language=lang),
        SpokenNerRecognizer(lexicon, supported_language=lang, frame_words=frame),
    ):
        analyzer.registry.add_recognizer(recognizer)
    if settings.deny_list:
        analyzer.registry.add_recognizer(
            PatternRecognizer(
                supported_entity="DENY_LIST",
                deny_list=list(settings.deny_list),
                deny_list_score=1.0,
                supported_language=lang,
                name="ConfigDenyList",
            )
        )
    for recognizer in analyzer.registry.recognizers:
        needed = digits_needed(recognizer)
        if needed:
            _skip_without_digits(recognizer, needed)
    for model in getattr(analyzer.nlp_engine, "nlp", {}).values():
        # the trained spoken NER runs inside spaCy's nlp.pipe (batched); `spacy_disable: [spoken_ner]` turns it off
        add_spoken_ner(model)
        for name in settings.spacy_disable:
            if name in model.pipe_names:
                model.disable_pipe(name)
    return analyzer


_DIGIT = re.compile(r"\d")


@functools.lru_cache(maxsize=256)
def _digits_in(text: str) -> int:
    """Digits in ``text`` (cached: every guarded recognizer asks about the same text)."""
    return len(_DIGIT.findall(text))


def _min_phone_digits(regions: Sequence[str]) -> int:
    """Fewest digits a valid number of any of ``regions`` has (phonenumbers' own metadata): fewer digits
    in a text and the phonenumbers matcher, which matches digit runs only, cannot find one."""
    from phonenumbers import PhoneMetadata

    lengths = [
        min(meta.general_desc.possible_length)
        for meta in (PhoneMetadata.metadata_for_region(r) for r in regions)
        if meta is not None and meta.general_desc.possible_length
    ]
    return min(lengths, default=0)


def min_digits(regex: str, flags: int = 0) -> int:
    """How many digits every match of ``regex`` holds at least, from its parse tree (``re``'s parser);
    0 when that cannot be told (a look-around, a back-reference, a pattern ``re`` does not parse)."""
    from re import _constants as c
    from re import _parser

    def seq(items) -> int:
        return sum(node(op, arg) for op, arg in items)

    def is_digit_class(items) -> bool:
        def digit(op, arg) -> bool:
            if op is c.LITERAL:
                return chr(arg).isdigit()
            if op is c.RANGE:
                return ord("0") <= arg[0] and arg[1] <= ord("9")
            return op is c.CATEGORY and arg is c.CATEGORY_DIGIT

        return bool(items) and all(digit(op, arg) for op, arg in items)

    def node(op, arg) -> int:
        if op is c.LITERAL:
            return int(chr(arg).isdigit())
        if op is c.IN:
            return int(is_digit_class(arg))
        if op is c.SUBPATTERN:
            return seq(arg[-1])
        if op is c.ATOMIC_GROUP:
            return seq(arg)
        if op is c.BRANCH:
            return min(seq(branch) for branch in arg[1])
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            return arg[0] * seq(arg[2])
        return 0

    try:
        return seq(_parser.parse(regex, flags & ~re.VERBOSE))
    except Exception:  # noqa: BLE001 - a pattern only the `regex` module reads: no guard
        return 0


def digits_needed(recognizer) -> int:
    """Digits a text must hold for ``recognizer`` to find anything: phonenumbers' shortest valid number
    for the phone recognizer; for a plain pattern recognizer (Presidio's ``analyze``, no deny list) the
    fewest any of its patterns needs; else 0."""
    from presidio_analyzer import PatternRecognizer
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    if type(recognizer) is PhoneRecognizer:
        return _min_phone_digits(recognizer.supported_regions)
    if type(recognizer).analyze is not PatternRecognizer.analyze or getattr(recognizer, "deny_list", None):
        return 0
    flags = getattr(recognizer, "global_regex_flags", 0) or 0
    return min((min_digits(p.regex, flags) for p in recognizer.patterns), default=0)


def _skip_without_digits(recognizer, needed: int) -> None:
    """Run ``recognizer`` only on texts with at least ``needed`` digits. Most spoken transcripts hold no
    number, and Presidio runs every pattern recognizer (phonenumbers' matcher once per region) on each."""
    analyze = recognizer.analyze

    def guarded(text, entities, nlp_artifacts=None, *args, **kwargs):
        if _digits_in(text) < needed:
            return []
        return analyze(text, entities, nlp_artifacts, *args, **kwargs)

    recognizer.analyze = guarded


def frame_words(recognizers) -> frozenset[str]:
    """Words that introduce PII rather than being it: every one-word context word of ``recognizers``
    (Presidio's and the YAML's: "iban", "visa", "zip", "dob") and of the name, place and address
    recognizers here ("call", "text", "live"). An ordinary word for the name lists and the model's
    filter: "what is an iban" names no one, although Iban is a Faker first name."""
    words = {w.lower() for r in recognizers for w in (r.context or []) if w.isalpha()}
    for cls in (NameGazetteerRecognizer, PlaceGazetteerRecognizer, StreetAddressRecognizer):
        words |= {w.lower() for w in cls.CONTEXT if w.isalpha()}
    return frozenset(words)


class _NoCopyResults(list):
    """Raw results handed to the context enhancer. Presidio's ``LemmaContextAwareEnhancer`` deep-copies
    them so a caller's list is not changed, but ``AnalyzerEngine.analyze`` discards the raw list right
    after; the copy was a fifth of the analyzer's time on short transcripts."""

    def __deepcopy__(self, memo):
        return list(self)


def _enhancer_without_copy(enhancer):
    from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer

    class _Enhancer(LemmaContextAwareEnhancer):
        def enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):
            return super().enhance_using_context(text, _NoCopyResults(raw_results), nlp_artifacts, recognizers, context)

    if type(enhancer) is not LemmaContextAwareEnhancer:
        return enhancer  # someone configured another enhancer: leave it alone
    return _Enhancer(
        context_similarity_factor=enhancer.context_similarity_factor,
        min_score_with_context_similarity=enhancer.min_score_with_context_similarity,
        context_prefix_count=enhancer.context_prefix_count,
        context_suffix_count=enhancer.context_suffix_count,
        context_matching_mode=getattr(enhancer, "context_matching_mode", "substring"),
    )


class Detector:
    """Finds PII spans; one per worker (holds the Presidio analyzer)."""

    def __init__(self, analyzer, settings: DetectorSettings):
        self.analyzer = analyzer
        self.settings = settings
        allow = sorted({a.lower() for a in settings.allow_list}, key=len, reverse=True)
        self._allow = frozenset(allow)
        self._floor = min([settings.score_threshold, *settings.entity_thresholds.values()])
        engine = analyzer.nlp_engine
        self._nlp = getattr(engine, "nlp", {}).get(settings.language)
        self._zone_lock = threading.Lock()  # one memory zone at a time: zones must not nest or overlap
        self.scorer = None
        from transforms.redaction.lexicon import build_lexicon
        from transforms.redaction.recognizers.words import STOP_WORDS
        from transforms.redaction.wordlists import english_words, world_cities

        lexicon = build_lexicon(tuple(settings.gazetteer_locales))
        english = english_words()
        self._names = lexicon.first_names | lexicon.last_names  # listed names: not a plural common noun
        self._street = lexicon.street_suffixes
        self._units = UNITS - self._names  # "kelvin", "foot", "miles" are listed names too: never trimmed
        self._cities = world_cities()
        self._place_words = frozenset(w for p in (*lexicon.places, *self._cities) for w in p.split())
        self._ordinary = english | frozenset(STOP_WORDS)
        from transforms.redaction.recognizers.demonym_recognizer import demonyms

        self._nationalities = demonyms() | IRREGULAR_NATIONALITIES
        if settings.span_scorer:
            from transforms.redaction.scorer import SpanScorer

            self.scorer = SpanScorer(lexicon, settings.public_names)
            self.scorer.thresholds = {**self.scorer.thresholds, **dict(settings.scorer_thresholds)}
            # every name / place hit reaches the scorer, however low its recognizer scored it
            self._floor = 0.0

    def normalize_batch(self, texts: Sequence[str]) -> list[Normalized]:
        return [normalize(t) for t in texts]

    def nlp_batch(self, norms: Sequence[Normalized]) -> list:
        """Presidio NLP artifacts per written form: spoken-style texts through the spoken components,
        written ones through the host model's (:data:`SPOKEN_SKIP`), each group batched in ``nlp.pipe``."""
        engine, lang = self.analyzer.nlp_engine, self.settings.language
        texts = [n.text for n in norms]
        if self._nlp is None:  # another NLP engine was configured: let it do everything
            return [a for _, a in engine.process_batch(texts, language=lang, batch_size=self.settings.batch_size)]
        spoken = [is_spoken_style(t) for t in texts]
        docs: list = [None] * len(texts)
        for style, skip in ((True, SPOKEN_SKIP), (False, (PIPE_NAME,))):
            picked = [i for i, s in enumerate(spoken) if s is style]
            if not picked:
                continue
            pipe = self._nlp.pipe([texts[i] for i in picked], batch_size=self.settings.batch_size, disable=list(skip))
            for i, doc in zip(picked, pipe, strict=True):
                docs[i] = _lower_case_lemmas(doc) if style else doc
        # Presidio's own conversion (entity mapping and scores as its process_batch does it)
        return [engine._doc_to_nlp_artifact(doc, lang) for doc in docs]

    def tagged(self, nlp_artifacts):
        """The artifacts with parts of speech on their ``Doc`` (spoken-style docs skip the tagger in the
        batch; the few that need tags — the clip's own first name was found — are tagged here)."""
        doc = getattr(nlp_artifacts, "tokens", None)
        if doc is None or self._nlp is None or doc.has_annotation("POS"):
            return nlp_artifacts
        for name in TAGGING:
            if name in self._nlp.pipe_names:
                doc = self._nlp.get_pipe(name)(doc)
        return nlp_artifacts

    def detect_batch(self, texts: Sequence[str], metadata: Sequence[Mapping[str, str]]) -> list[list[Detection]]:
        with self._memory_zone():
            norms = self.normalize_batch(texts)
            artifacts = self.nlp_batch(norms)
            return [self.detect(n, m, a) for n, m, a in zip(norms, metadata, artifacts, strict=True)]

    @contextlib.contextmanager
    def _memory_zone(self):
        """spaCy's memory zone around one batch: the strings and lexemes its words add to the vocab
        (every new name, e-mail, serial: about 0.8 strings per benchmark transcript, kept for good
        otherwise) are freed when the batch is done. What leaves the zone is plain data
        (:class:`Detection`), never a ``Doc``. Zones must not nest or overlap and the engines are
        shared by a worker's threads, so batches take turns (spaCy holds the GIL for most of a
        batch anyway). Another NLP engine, or a spaCy without zones: nothing changes."""
        zone = getattr(self._nlp, "memory_zone", None)
        if zone is None:
            yield
            return
        with self._zone_lock, zone():
            yield

    def analyze(self, norm: Normalized, metadata: Mapping[str, str], nlp_artifacts=None, explain: bool = False):
        """Presidio results on the written form (written-form offsets)."""
        results = self.analyzer.analyze(
            text=norm.text,
            language=self.settings.language,
            nlp_artifacts=nlp_artifacts,
            score_threshold=self._floor,
            return_decision_process=explain,
        )
        # The clip's own identifiers: matched with cached patterns outside Presidio's ad-hoc
        # recognizers, which built and compiled a recognizer per value on every call.
        return results + clip_metadata_results(metadata, norm.text)

    def detect(self, norm: Normalized, metadata: Mapping[str, str], nlp_artifacts=None) -> list[Detection]:
        return self.decide(norm, metadata, nlp_artifacts)[0]

    def decide(
        self, norm: Normalized, metadata: Mapping[str, str], nlp_artifacts=None, explain: bool = False
    ) -> tuple[list[Detection], list[Decision]]:
        """The detections, and for every Presidio hit what became of it (:class:`Decision`: kept, or why
        not). ``detect`` is this without the decisions; ``explain`` asks Presidio for its reasoning too."""
        if nlp_artifacts is None:
            (nlp_artifacts,) = self.nlp_batch([norm])
        results = self.analyze(norm, metadata, nlp_artifacts, explain=explain)
        spoken = is_spoken_style(norm.text)
        if self.scorer is not None and spoken:
            results = self.scorer.rescore(norm.text, results)
        detections, decisions = [], []
        public = self._public_names(norm.text, results) if spoken else {}
        for i, r in enumerate(results):
            start, end = norm.to_original(r.start, r.end)
            kind = self._nationality_as_kind(norm.text, r) if spoken else None
            if kind is not None:
                decisions.append(
                    Decision(r, start, end, self.threshold(r), f"dropped: a nationality word naming {kind}")
                )
                continue
            named = public.get(i)
            if named is not None:
                why = f"dropped: a public name, {named} (public_names: keep)"
                decisions.append(Decision(r, start, end, self.threshold(r), why))
                continue
            if r.entity_type == "TITLE" and self._verb_miss(norm.text, r):
                why = "dropped: 'miss' is the verb here (no name after it, or a subject, modal or 'not' before it)"
                decisions.append(Decision(r, start, end, self.threshold(r), why))
                continue
            if r.entity_type == "PERSON" and is_possessive(norm.text, r.start, r.end):
                unjudged(r)
            contact = self._contact(norm.text, r) if spoken else None
            if contact is not None:
                unjudged(r)
            if r.entity_type == "LOCATION" and self._city_in_place_frame(norm.text, r):
                unjudged(r)
            threshold = self.threshold(r)
            name = (r.recognition_metadata or {}).get("recognizer_name", "")
            plural = self._thing_plural(norm.text, r) if r.entity_type == "PERSON" and spoken else None
            if plural is not None and plural[1] < 0:
                why = f"dropped: ends in the plural common noun {plural[0]!r} (a kind of thing, not a person)"
                decisions.append(Decision(r, start, end, threshold, why))
                continue
            if plural is not None:  # "carol needs": the name without the noun or verb the model took with it
                r.end = plural[1]
                start, end = norm.to_original(r.start, r.end)
            if r.entity_type in ("PERSON", "LOCATION") and spoken and not _name(r).startswith("ClipMetadata"):
                r.start, r.end = without_units(norm.text, r.start, r.end, self._units)
                if r.end <= r.start:
                    decisions.append(Decision(r, start, end, threshold, "dropped: only units of measure"))
                    continue
                start, end = norm.to_original(r.start, r.end)
            if r.score < threshold:
                if math.isinf(threshold):
                    original = (r.recognition_metadata or {}).get("original_score", r.score)
                    why = f"dropped: recognizer score {original:.2f} below the entity's threshold (scorer only vetoes)"
                else:
                    why = f"dropped: score below threshold {threshold:.2f}"
                decisions.append(Decision(r, start, end, threshold, why))
                continue
            start, end = widen_to_words(norm.original, start, end)
            start, end = self.trim_allowed(norm.original, start, end)
            if end <= start:
                decisions.append(Decision(r, start, end, threshold, "dropped: only allow-listed words"))
                continue
            as_word = name == "ClipMetadata_PERSON" and tagged_as_word(self.tagged(nlp_artifacts), r.start, r.end)
            detections.append(Detection(r.entity_type, start, end, float(r.score), name, as_word))
            kept = (
                "kept"
                if contact is None
                else f"kept: a contact ({contact!r} before it), the span scorer does not judge it"
            )
            decisions.append(Decision(r, start, end, threshold, kept))
        detections += coordinated_names(norm.original, detections, decisions)
        merged = merge_overlaps(detections + repeats(norm.original, detections))
        for i, d in enumerate(decisions):
            if not d.verdict.startswith("kept") or d.verdict.startswith("kept, merged"):
                continue
            into = next((m for m in merged if m.start <= d.start and d.end <= m.end), None)
            if into is not None and (into.entity_type != d.result.entity_type or into.recognizer != _name(d.result)):
                decisions[i] = d._replace(verdict=f"kept, merged into an overlapping {into.entity_type} hit")
        return merged, decisions

    def _public_names(self, text: str, results: Sequence) -> dict[int, str]:
        """Which name and place hits name an artist in a music request or a business, and why
        (:func:`frames.music_frame`, :func:`frames.business_frame`), under ``public_names: keep``: a hit
        in such a frame, and a hit inside one ("cole" of "play [j cole]", "davis" of "play [miles
        davis]") when its other words are ordinary — but never a city inside a business's name ("the
        dome edinburgh cafe"). Never the clip's own identifiers."""
        if self.settings.public_names != "keep":
            return {}
        judged = [
            i for i, r in enumerate(results)
            if r.entity_type in ("PERSON", "LOCATION") and not _name(r).startswith("ClipMetadata")
        ]  # fmt: skip
        out: dict[int, str] = {}
        for i in judged:
            r = results[i]
            why = music_frame(text, r.start, r.end)
            if why is None and not self._city(text, r):
                why = business_frame(text, r.start, r.end)
            if why is not None:
                out[i] = why
        for i in judged:
            if i in out:
                continue
            r = results[i]
            for j in list(out):
                if out[j].startswith("a business") and self._city(text, r):
                    continue
                a = results[j]
                outside = text[r.start : max(r.start, a.start)] + " " + text[min(r.end, a.end) : r.end]
                if r.start < a.end and a.start < r.end and all(w in self._ordinary for w in outside.lower().split()):
                    out[i] = f"part of a public name ({text[a.start : a.end]!r})"
                    break
        return out

    def _city(self, text: str, result) -> bool:
        """A place-list hit, or a hit that is a world city's name: never part of a public name."""
        return _name(result) == PLACE_LIST or text[result.start : result.end].lower() in self._cities

    def _nationality_as_kind(self, text: str, result) -> str | None:
        """Why a nationality hit (or a name or place hit on the same word) names a cuisine, a currency or
        a language (:func:`frames.nationality_as_kind`); not the clip's own identifiers."""
        if result.entity_type not in ("NRP", "PERSON", "LOCATION") or _name(result).startswith("ClipMetadata"):
            return None
        return nationality_as_kind(text, result.start, result.end, self._nationalities)

    def _contact(self, text: str, result) -> str | None:
        """The contact frame a PERSON hit stands in ("message to ___", :func:`frames.contact_frame`):
        there the span scorer may not veto it, as for a name in the possessive — the command's other
        words ("play", "golf") say nothing about whom a message goes to. Its recognizer's own score
        must still pass the configured threshold. Not the clip's own identifiers (redacted anyway)."""
        if result.entity_type != "PERSON" or _name(result).startswith("ClipMetadata"):
            return None
        return contact_frame(text, result.start)

    def _verb_miss(self, text: str, result) -> bool:
        """Whether a TITLE hit is "miss" the verb ("don't miss it", "i can't miss church", "if i miss one
        payment") rather than the honorific ("miss jones"): the word after it can name nobody (no listed
        name, a dictionary word or a stop word), or a subject, modal or negation comes before it."""
        if text[result.start : result.end].lower() != "miss":
            return False
        after = word_after(text, result.end)
        return (
            word_before(text, result.start) in VERB_SUBJECTS
            or not after
            or (after not in self._names and after in self._ordinary)
        )

    def _city_in_place_frame(self, text: str, result) -> bool:
        """A world city that is no ordinary word, straight after a place preposition ("music events in
        manchester", "fun things to do in miami"): a place whatever else the command talks about, so the
        span scorer's judgement (which the command's other words can outvote) is undone, as for a name
        in the possessive. Only the place list's own hits."""
        if _name(result) != PLACE_LIST:
            return False
        phrase = text[result.start : result.end].lower()
        nxt = word_after(text, result.end)
        if nxt and nxt not in self._ordinary and nxt not in self._place_words:  # "from david lindley": a name
            return False
        return (
            word_before(text, result.start) in PLACE_PREPOSITIONS - {"by"}  # "songs by chicago": a band
            and phrase in self._cities
            and not all(w in self._ordinary for w in phrase.split())
        )

    def _thing_plural(self, text: str, result) -> tuple[str, int] | None:
        """``(word, end)`` when the hit's last word is a plural common noun that is no listed name and no
        street word ("rock concerts", "carol needs"): a person's name does not end in one (a family name
        that is also a plural noun, "parks", "banks", is listed). Not after a place preposition, where the
        words may be a place the model took for a person ("from adetokunbo quarters", "in palm springs").
        ``end`` is where the hit should end without it (written-form offset), or -1 when what is left
        holds no name either ("rock", "job"): then the hit goes. Not for the clip's own identifiers."""
        if _name(result).startswith("ClipMetadata"):
            return None
        words = [(m.start() + result.start, m.end() + result.start, _bare(m.group()))
                 for m in re.finditer(r"\S+", text[result.start : result.end])]  # fmt: skip
        if not words:
            return None
        last = words[-1][2]
        if not is_plural_noun(last) or last in self._names or last in self._street:
            return None
        if word_before(text, result.start) in PLACE_PREPOSITIONS:  # "from adetokunbo quarters", "to palm springs"
            return None
        rest = words[:-1]
        if all(w in self._ordinary for _, _, w in rest):
            return last, -1
        return last, rest[-1][1]

    def threshold(self, result) -> float:
        """The score a hit needs: the config's ``entity_thresholds`` for its type, else ``score_threshold``;
        a hit the span scorer rescored must have passed that with its original score AND reach the
        scorer's threshold for its type (chosen with its weights on the tune split). The scorer only
        removes hits: letting it add low-scored list hits ("june", "sage and basil") cost more ordinary
        words than it saved."""
        configured = self.settings.entity_thresholds.get(result.entity_type, self.settings.score_threshold)
        original = (result.recognition_metadata or {}).get("original_score")
        if self.scorer is not None and original is not None:
            if original < configured:
                return math.inf  # the scorer only vetoes: a hit its recognizer scored too low stays out
            return self.scorer.thresholds.get(result.entity_type, self.settings.score_threshold)
        return configured

    def trim_allowed(self, text: str, start: int, end: int) -> tuple[int, int]:
        """Drop allow-listed words (wake words, device names) from the edges of a span."""
        if not self._allow:
            return start, end
        words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]
        while words and _bare(text[words[0][0] : words[0][1]]) in self._allow:
            words.pop(0)
        while words and _bare(text[words[-1][0] : words[-1][1]]) in self._allow:
            words.pop()
        if not words:
            return start, start
        return words[0][0], words[-1][1]


def _lower_case_lemmas(doc):
    """Lemmas for a doc that skipped the lemmatizer: each token's lower-case form (vectorised)."""
    from spacy.attrs import LEMMA, LOWER

    if len(doc):
        doc.from_array([LEMMA], doc.to_array([LOWER]).reshape(-1, 1))
    return doc


# Words before "miss" that make it a verb: subjects, modals, negations ("i miss", "don't miss", "cant miss").
VERB_SUBJECTS = frozenset(
    "i you we they he she it who don't dont can't cant cannot won't wont will would should could might may must "
    "did didn't didnt never not".split()
)
PLACE_PREPOSITIONS = frozenset("in at on from to near via into towards toward around by".split())
COORDINATORS = frozenset({"and", "or", "&", "n", "plus"})
# a word after one of these is a thing, not a person: "pay the bill and call malinda"
DETERMINERS = frozenset("the a an my your his her our their this that these those its some any no every".split())
NAME_LIST = "NameGazetteerRecognizer"
PLACE_LIST = "PlaceGazetteerRecognizer"
LISTED = 0.5  # a name list's score for a listed name that is no ordinary English word (0.3: "bill", "will")


_WORD_BEFORE = re.compile(r"(\S+)\s*$")
_WORD_AFTER = re.compile(r"\s*(\S+)")
_NEAR = 64  # characters looked at either side: longer than any word a transcript holds


def word_before(text: str, start: int) -> str:
    """The bare word just before ``start`` ("" at the start); reads a few characters, not the text."""
    m = _WORD_BEFORE.search(text, max(0, start - _NEAR), start)
    return _bare(m.group(1)) if m else ""


def word_after(text: str, end: int) -> str:
    """The bare word just after ``end`` ("" at the end)."""
    m = _WORD_AFTER.match(text, end, end + _NEAR)
    return _bare(m.group(1)) if m else ""


def _joined_by_coordinator(text: str, left_end: int, right_start: int) -> bool:
    between = text[left_end:right_start]
    return left_end <= right_start and between.strip().lower() in COORDINATORS and between.startswith(" ")


def coordinated_names(text: str, kept: Sequence[Detection], decisions: list[Decision]) -> list[Detection]:
    """Listed first names the thresholds dropped that are joined by "and" / "or" to a name ("add bill and
    malinda", "for me rebecca and loraine"): a list of people is a list of people, whatever the frame
    says. A dropped hit of the name list comes back when its neighbour across the coordinator is a kept
    PERSON, or when both are listed names that are no ordinary words (two such names joined read as two
    people, where the sentence's other words had voted them public names). Not after a determiner ("the
    bill and malinda's card" keeps "bill"). Each rescue rewrites that hit's decision, so ``explain`` says
    why. Repeats until nothing changes ("bill and sue and malinda")."""
    persons = [d for d in kept if d.entity_type == "PERSON"]
    out: list[Detection] = []
    candidates = {
        i: widen_to_words(text, d.start, d.end)
        for i, d in enumerate(decisions)
        if d.verdict.startswith("dropped") and d.result.entity_type == "PERSON" and _name(d.result) == NAME_LIST
    }

    def original(i: int) -> float:
        return (decisions[i].result.recognition_metadata or {}).get("original_score", decisions[i].result.score)

    def after_determiner(start: int) -> bool:
        return word_before(text, start) in DETERMINERS

    def joined(a: tuple[int, int], b: tuple[int, int]) -> bool:
        return _joined_by_coordinator(text, a[1], b[0]) or _joined_by_coordinator(text, b[1], a[0])

    changed = True
    while changed:
        changed = False
        for i, span in list(candidates.items()):
            if after_determiner(span[0]):
                continue
            partner = next((p for p in persons + out if joined(span, (p.start, p.end))), None)
            if partner is None and original(i) >= LISTED:
                j = next(
                    (j for j, o in candidates.items() if j != i and original(j) >= LISTED and joined(span, o)), None
                )
                partner = None if j is None else Detection("PERSON", *candidates[j], original(j), NAME_LIST)
            if partner is None:
                continue
            del candidates[i]
            out.append(Detection("PERSON", span[0], span[1], original(i), NAME_LIST))
            who = text[partner.start : partner.end]
            decisions[i] = decisions[i]._replace(
                start=span[0], end=span[1], verdict=f"kept: joined by a coordinator to the name {who!r}"
            )
            changed = True
    return out


def repeats(text: str, detections: Sequence[Detection]) -> list[Detection]:
    """Other occurrences of a detected value in the same transcript ("call priyanka and tell priyanka"):
    once a value is PII here, every mention of it is."""
    out = []
    lowered = text.lower()
    for needle, d in {lowered[d.start : d.end]: d for d in detections}.items():
        if len(needle) < 3:
            continue
        # plain substring search (a regex per value churned the re module's cache, which then
        # recompiled phonenumbers' patterns on every call)
        at = lowered.find(needle)
        while at >= 0:
            end = at + len(needle)
            whole = (at == 0 or not _is_word(lowered[at - 1])) and (end == len(lowered) or not _is_word(lowered[end]))
            if whole and at != d.start:
                out.append(d._replace(start=at, end=end))
            at = lowered.find(needle, at + 1)
    return out


# Units of measure: never part of a name, yet the spoken NER model takes them in with a city before
# or after ("temperature in tokyo fahrenheit", "degrees celsius new york").
UNITS = frozenset(
    """fahrenheit celsius centigrade kelvin degree degrees mph kph km kms kilometer kilometers kilometre kilometres
    mile miles meter meters metre metres feet foot inch inches percent kg kilo kilos kilogram kilograms lb lbs
    pound pounds""".split()
)


def without_units(text: str, start: int, end: int, units: frozenset[str] = UNITS) -> tuple[int, int]:
    """``[start, end)`` without the ``units`` at its edges (``end <= start`` when nothing else)."""
    words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]
    while words and _bare(text[words[0][0] : words[0][1]]) in units:
        words.pop(0)
    while words and _bare(text[words[-1][0] : words[-1][1]]) in units:
        words.pop()
    return (words[0][0], words[-1][1]) if words else (start, start)


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _bare(word: str) -> str:
    return word.strip(".,;:!?\"'()").lower()


def widen_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Grow a span to whole words so no part of a word is left readable; a hyphen or apostrophe between
    letters joins one word ("Weeks-Turner", "O'Brien"): half a double-barrelled name still names someone."""
    while start > 0 and (text[start - 1].isalnum() or (start > 1 and _joins(text, start - 1))):
        start -= 1
    while end < len(text) and (text[end].isalnum() or (end + 1 < len(text) and _joins(text, end))):
        end += 1
    return start, end


def _joins(text: str, i: int) -> bool:
    """``text[i]`` joins two parts of one name: "Weeks-Turner", "O'Brien" (not the possessive "Mary's")."""
    if i == 0 or i + 1 >= len(text) or not text[i - 1].isalpha():
        return False
    return (text[i] == "-" and text[i + 1].isalpha()) or (text[i] == "'" and text[i + 1].isupper())


def _rank(d: Detection) -> tuple:
    # The clip's own identifiers first, then specific recognizers, then the NER model's guess.
    source = 2 if d.recognizer.startswith("ClipMetadata") else 0 if d.recognizer == "SpacyRecognizer" else 1
    return (source, d.score, d.end - d.start)


def merge_overlaps(detections: Sequence[Detection]) -> list[Detection]:
    """Union of overlapping or touching spans; the merged span keeps the type of its best hit."""
    merged: list[Detection] = []
    for d in sorted(detections, key=lambda d: (d.start, -d.end)):
        if merged and d.start <= merged[-1].end:
            last = merged[-1]
            best = last if _rank(last) >= _rank(d) else d
            merged[-1] = best._replace(start=last.start, end=max(last.end, d.end))
        else:
            merged.append(d)
    return merged
