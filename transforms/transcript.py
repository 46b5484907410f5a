"""Transcript redaction stage: ``RedactTranscript``.

In:  validated clips with the raw ASR ``transcript`` (lower case, unpunctuated, numbers and
     e-mail addresses often said as words) and the clip's own ``first_name``, ``account_id``,
     ``device_serial``.
Out: clips with ``redacted_transcript`` (each PII span replaced by its entity's operator from config:
     ``<ENTITY_TYPE>`` tag, a Faker surrogate consistent within the clip, a mask or a keyed hash),
     ``entities`` (type/start/end in the redacted text) and ``pii_spans`` (offsets in the
     ORIGINAL text, kept inside the job for muting the audio).
Fails: a transcript longer than ``max_chars``, a Presidio error or a missing hash key (no key for the
     clip's pseudonym epoch) quarantines the clip (stage ``transcript``); nothing is passed on unredacted.
Counts (namespace ``transcript``): ``entity_<TYPE>`` per redacted span; ``own_name_as_word`` per
     redaction of the clip's own first name where spaCy tags an ordinary word ("pay the electricity
     bill" for a customer named Bill): still redacted, counted so the run report shows the cost.

Detection (``transforms.redaction``): the spoken-form layer rewrites "five five five dash zero one"
as "555-01" with an offset map; spaCy runs over the whole batch (``nlp.pipe``); Presidio, configured by
its own YAML files (``configs/presidio/``) plus word-list recognizers for lower-case names and
places, analyses the written form; hits map back to whole words of the original. Written (mixed-case)
text also gets a capitalised-name recognizer (``PROPER_NAME``) and a job-title recognizer (``TITLE``). A clip's own
identifiers are redacted wherever they occur, written or spelled out. Detection runs on folded text
(:mod:`transforms.core.text`: no zero-width characters, compatibility forms or homoglyphs hide a
word), and every span maps back to the original characters. Engines load once per worker in
``setup()``, shared across threads.

The ``hash`` operator's key is derived per clip from the key of the clip's pseudonym epoch in the
keyring (``HASH_KEY_PURPOSE``), so hashed tags, like pseudonyms, are unlinkable across epochs and
die with the epoch's key.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Literal, NamedTuple

import apache_beam as beam
from apache_beam.utils import shared
from pydantic import ConfigDict, Field, field_validator
from pydantic.dataclasses import dataclass

from transforms.core.records import Clip, Span
from transforms.core.stage import FAILURES, StageCounters, StageOutputs, clip_failure, guarded
from transforms.redaction.operators import apply_operators

if TYPE_CHECKING:  # the engine imports Presidio and spaCy: workers load it, the launcher does not
    from transforms.redaction.engine import Detection, DetectorSettings

STAGE = "transcript"
HASH_KEY_PURPOSE = "transcript-hash"
_STRICT = ConfigDict(extra="forbid")

METADATA_ENTITIES = {"first_name": "PERSON", "account_id": "ACCOUNT_ID", "device_serial": "DEVICE_SERIAL"}
Operator = Literal["tag", "surrogate", "mask", "hash"]


@dataclass(config=_STRICT, frozen=True)
class TranscriptConfig:
    """Transcript PII redaction with Presidio. Paths are relative to the config file.

    ``entity_thresholds`` overrides ``score_threshold`` per entity type; ``operators`` maps an
    entity type (or ``default``) to tag | surrogate | mask | hash; ``allow_list`` words (wake words,
    device names) are never redacted; ``deny_list`` terms always are; ``gazetteer_locales`` limits
    the Faker locales names and places come from (empty = all); ``spacy_disable`` switches off spaCy
    components nothing uses; ``public_names`` says whether artists, titles, companies and public figures
    named outside a contact frame are kept (``keep``, default: "play adele") or redacted (``redact``);
    ``span_scorer`` (default on) replaces the name and place hits' scores on spoken-style text with
    calibrated probabilities (:mod:`transforms.redaction.scorer`); ``scorer_thresholds`` overrides the
    probability each judged entity type needs (default: the thresholds shipped with the weights)."""

    analyzer_conf: str = "presidio/analyzer.yaml"  # Presidio's analyzer YAML, relative to the config file
    nlp_conf: str = "presidio/nlp.yaml"  # Presidio's NLP engine YAML (spaCy model)
    recognizers_conf: str = "presidio/recognizers.yaml"  # Presidio's recognizer registry YAML
    language: str = "en"  # language code passed to Presidio
    score_threshold: float = Field(0.35, ge=0.0, le=1.0)  # a hit scoring below this is not redacted
    # Per entity type (e.g. DATE_TIME: 0.5); overrides score_threshold for that type.
    entity_thresholds: dict[str, float] = Field(default_factory=dict)
    batch_size: int = Field(32, ge=1, le=4096)  # transcripts per spaCy nlp.pipe batch
    max_chars: int = Field(20000, ge=1)  # longer transcripts are quarantined
    allow_list: tuple[str, ...] = ()  # words never redacted (wake words, device names)
    deny_list: tuple[str, ...] = ()  # terms always redacted (entity DENY_LIST)
    # Entity type (or "default") -> tag (<PERSON>) | surrogate (a fake value) | mask | hash (needs the job key).
    operators: dict[str, Operator] = Field(default_factory=lambda: {"default": "tag"})
    gazetteer_locales: tuple[str, ...] = ()  # Faker locales for the name and place word lists; empty = all
    # spaCy components switched off: no recognizer uses the dependency parse.
    spacy_disable: tuple[str, ...] = ("parser",)
    # Artists, titles, companies and public figures named outside a contact frame: kept ("play adele")
    # or redacted; a name in a contact frame ("call adele") is always redacted.
    public_names: Literal["keep", "redact"] = "keep"
    # Spoken-style text: name, place and date hits rescored to calibrated probabilities
    # (transforms/redaction/scorer.py); those hits then ignore entity_thresholds.
    span_scorer: bool = True
    # Probability a judged PERSON / LOCATION hit needs; empty = the thresholds shipped with the
    # weights (recall first). {PERSON: 0.10, LOCATION: 0.15} is the measured utility operating point.
    scorer_thresholds: dict[str, float] = Field(default_factory=dict)

    @field_validator("entity_thresholds", "scorer_thresholds")
    @classmethod
    def _thresholds_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for entity, threshold in value.items():
            if not 0.0 <= threshold <= 1.0:
                raise ValueError(f"threshold for {entity} must be within [0, 1]")
        return value

    def settings(self) -> DetectorSettings:
        from transforms.redaction.engine import DetectorSettings

        return DetectorSettings(
            language=self.language,
            score_threshold=self.score_threshold,
            entity_thresholds=dict(self.entity_thresholds),
            allow_list=tuple(self.allow_list),
            deny_list=tuple(self.deny_list),
            gazetteer_locales=tuple(self.gazetteer_locales),
            spacy_disable=tuple(self.spacy_disable),
            batch_size=self.batch_size,
            public_names=self.public_names,
            span_scorer=self.span_scorer,
            scorer_thresholds=dict(self.scorer_thresholds),
        )

    def needs_key(self) -> bool:
        return "hash" in self.operators.values()


def configure_tldextract_offline() -> None:
    """Presidio's e-mail check calls tldextract, which fetches the suffix list over the network at
    first use; use the snapshot bundled with the package instead (workers have no internet)."""
    import tldextract
    import tldextract.tldextract as impl

    impl.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class PresidioFiles(NamedTuple):
    """Contents of the three Presidio YAML files, read once at launch.

    Workers (Dataflow, portable runners) do not share the launcher's disk, so the DoFn carries the
    YAML text, not paths."""

    analyzer: str
    nlp: str
    recognizers: str


def read_presidio_files(config: TranscriptConfig, base_dir: str) -> PresidioFiles:
    """Read the Presidio YAML named by a TranscriptConfig (relative paths are relative to ``base_dir``,
    the job config's directory)."""
    texts = []
    for name in ("analyzer_conf", "nlp_conf", "recognizers_conf"):
        with open(os.path.join(base_dir, getattr(config, name)), encoding="utf-8") as handle:
            texts.append(handle.read())
    return PresidioFiles(*texts)


class Engines:
    """Presidio analyzer (inside a :class:`Detector`) + anonymizer, built once per worker process."""

    def __init__(self, files: PresidioFiles, config: TranscriptConfig | None = None):
        from presidio_anonymizer import AnonymizerEngine

        from transforms.redaction.engine import Detector, build_detector_analyzer

        config = config or TranscriptConfig()
        configure_tldextract_offline()
        # Presidio logs every ad-hoc recognizer it loads, per call; keep its warnings only.
        logging.getLogger("presidio-analyzer").setLevel(logging.WARNING)
        with tempfile.TemporaryDirectory() as folder:
            paths = []
            for name, text in files._asdict().items():
                path = os.path.join(folder, f"{name}.yaml")
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(text)
                paths.append(path)
            analyzer = build_detector_analyzer(paths, config.settings())
        self.detector = Detector(analyzer, config.settings())
        self.analyzer = analyzer
        self.anonymizer = AnonymizerEngine()

    @classmethod
    def from_config(cls, config: TranscriptConfig, base_dir: str) -> Engines:
        """Engines built from the Presidio YAML a config names (relative to ``base_dir``)."""
        return cls(read_presidio_files(config, base_dir), config)


def hash_key(keyring, epoch: str) -> bytes:
    """Key of the ``hash`` operator for clips of pseudonym epoch ``epoch``, derived from that epoch's key.

    Raises ClipError (``hash_key_unavailable``) when the clip has no epoch or the keyring no key for it."""
    from transforms.core.failures import ClipError
    from transforms.core.keys import KeyUnavailableError, derive_key

    if not epoch:
        raise ClipError("hash_key_unavailable", "the clip has no pseudonym epoch to key the hash operator")
    try:
        return derive_key(keyring.key_for(epoch), HASH_KEY_PURPOSE)
    except KeyUnavailableError:
        raise ClipError("hash_key_unavailable", "no key for the clip's pseudonym epoch in the keyring") from None


def clip_metadata(clip: Clip) -> dict[str, str]:
    """The clip's own identifiers by entity type (empty values left out)."""
    return {
        entity: getattr(clip, field).strip()
        for field, entity in METADATA_ENTITIES.items()
        if getattr(clip, field).strip()
    }


def redact_clip(
    engines: Engines,
    clip: Clip,
    config: TranscriptConfig,
    detections: Sequence[Detection] | None = None,
    key: bytes | None = None,
) -> Clip:
    """Redact one clip's transcript (``detections`` from a batch run, else detected here)."""
    from transforms.core.failures import ClipError

    if len(clip.transcript) > config.max_chars:
        raise ClipError("transcript_too_long", f"transcript longer than {config.max_chars} characters")
    if detections is None:
        detections = engines.detector.detect_batch([clip.transcript], [clip_metadata(clip)])[0]
    pii = tuple(Span(d.entity_type, d.start, d.end) for d in detections)
    redacted, entities = apply_operators(engines.anonymizer, clip.transcript, pii, config.operators, clip.clip_id, key)
    return clip._replace(redacted_transcript=redacted, entities=entities, pii_spans=pii)


class _RedactTranscriptFn(beam.DoFn):
    """Takes a batch of clips; yields redacted clips and failures."""

    def __init__(self, config, files: PresidioFiles, shared_handle, key_source=None):
        self._config = config
        self._files = files
        self._shared = shared_handle
        self._key_source = key_source
        self.counters = StageCounters(STAGE)

    def setup(self):
        self._engines = self._shared.acquire(lambda: Engines(self._files, self._config))
        self._keyring = None
        self._hash_keys: dict[str, bytes] = {}
        if self._key_source is not None and self._config.needs_key():
            self._keyring = self._key_source.keyring()  # a keyring file or a single key: both work

    def process(self, batch: list[Clip]) -> Iterable:
        self.counters.received.inc(len(batch))
        detections = self._detect_batch(batch)
        for clip, found in zip(batch, detections, strict=True):
            on_error = functools.partial(clip_failure, stage=STAGE, clip=clip)
            yield from guarded(self.counters, functools.partial(self._redact, clip, found), on_error)

    def _redact(self, clip: Clip, found) -> Clip:
        if found is None:
            found = self._engines.detector.detect_batch([clip.transcript], [clip_metadata(clip)])[0]
        result = redact_clip(self._engines, clip, self._config, found, self._hash_key(clip))
        for span in result.entities:
            self.counters.count(f"entity_{span.entity_type}")
        as_word = sum(1 for d in found if d.as_word)
        if as_word:
            self.counters.count("own_name_as_word", as_word)
        return result

    def _hash_key(self, clip: Clip) -> bytes | None:
        """The ``hash`` operator's key for the clip's pseudonym epoch (None when no operator hashes)."""
        if self._keyring is None:
            return None
        epoch = clip.pseudonym_epoch
        if epoch not in self._hash_keys:
            self._hash_keys[epoch] = hash_key(self._keyring, epoch)
        return self._hash_keys[epoch]

    def _detect_batch(self, batch: list[Clip]) -> list:
        """Detection over the whole batch (spaCy ``nlp.pipe``); on a batch error, None per clip, so each
        clip is retried alone and only the bad one is quarantined."""
        ok = [len(clip.transcript) <= self._config.max_chars for clip in batch]
        texts = [clip.transcript if good else "" for clip, good in zip(batch, ok, strict=True)]
        try:
            found = self._engines.detector.detect_batch(texts, [clip_metadata(c) for c in batch])
        except Exception:  # noqa: BLE001 - fall back to one-at-a-time, which isolates the bad clip
            return [None] * len(batch)
        return [f if good else None for f, good in zip(found, ok, strict=True)]


class RedactTranscript(beam.PTransform):
    """Redact PII from every clip's transcript with Presidio (batched through spaCy).

    ``key_source`` (a :class:`transforms.core.keys.KeySource`) is required only when a ``hash`` operator is
    configured; the job refuses to build without it rather than fall back to another operator."""

    def __init__(self, config: TranscriptConfig, files: PresidioFiles, key_source=None):
        super().__init__()
        if config.needs_key() and key_source is None:
            raise ValueError("transcript.operators uses 'hash' but RedactTranscript got no key_source")
        self._config = config
        self._files = files
        self._key_source = key_source

    def expand(self, clips) -> StageOutputs:
        results = (
            clips
            | "Batch"
            >> beam.BatchElements(
                # Fixed size: the stage is fused with the audio stages, so BatchElements' adaptive
                # timing would measure voice work and keep batches tiny (measured: 989 clips in
                # 187 batches).
                min_batch_size=self._config.batch_size,
                max_batch_size=self._config.batch_size,
            )
            | "Redact"
            >> beam.ParDo(
                _RedactTranscriptFn(self._config, self._files, shared.Shared(), self._key_source)
            ).with_outputs(FAILURES, main="main")
        )
        return StageOutputs(results.main, results[FAILURES])
