"""Transcript redaction stage: ``RedactTranscript``.

In:  validated clips with the raw ASR ``transcript``.
Out: clips with ``redacted_transcript`` (each PII span replaced by ``<ENTITY_TYPE>``),
     ``entities`` (type/start/end in the redacted text) and ``pii_spans`` (offsets in the
     original text, kept inside the job for muting the audio).
Fails: a transcript longer than ``max_chars`` or a Presidio error quarantines the clip
     (stage ``transcript``); nothing is passed on unredacted.

Presidio is configured by its own YAML files (``configs/presidio/``) and loaded once per worker
in ``setup()``, shared across threads. Clips are batched so spaCy runs ``nlp.pipe`` over many
transcripts at once. Whatever the NER model thinks, a clip's own ``first_name``,
``account_id`` and ``device_serial`` are redacted wherever they occur in its transcript.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.utils import shared
from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass

from pipeline.records import Clip, Span
from transforms.stage import FAILURES, StageOutputs, clip_failure

STAGE = "transcript"
_STRICT = ConfigDict(extra="forbid")

METADATA_ENTITIES = {"first_name": "PERSON", "account_id": "ACCOUNT_ID", "device_serial": "DEVICE_SERIAL"}


@dataclass(config=_STRICT, frozen=True)
class TranscriptConfig:
    """Transcript PII redaction with Presidio. Paths are relative to the config file."""

    analyzer_conf: str = "presidio/analyzer.yaml"
    nlp_conf: str = "presidio/nlp.yaml"
    recognizers_conf: str = "presidio/recognizers.yaml"
    language: str = "en"
    score_threshold: float = Field(0.35, ge=0.0, le=1.0)
    batch_size: int = Field(32, ge=1, le=4096)
    max_chars: int = Field(20000, ge=1)
    allow_list: tuple[str, ...] = ()


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


def read_presidio_files(config, job_config) -> PresidioFiles:
    """Read the Presidio YAML named by a TranscriptConfig (paths relative to the job config)."""
    texts = []
    for name in ("analyzer_conf", "nlp_conf", "recognizers_conf"):
        with open(job_config.resolve(getattr(config, name)), encoding="utf-8") as handle:
            texts.append(handle.read())
    return PresidioFiles(*texts)


class Engines:
    """Presidio analyzer + anonymizer, built once per worker process."""

    def __init__(self, files: PresidioFiles):
        from presidio_analyzer import AnalyzerEngineProvider
        from presidio_anonymizer import AnonymizerEngine

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
            self.analyzer = AnalyzerEngineProvider(*paths).create_engine()
        self.anonymizer = AnonymizerEngine()


def metadata_recognizer(clip: Clip, language: str):
    """Ad-hoc recognizers for the clip's own identifiers (case-insensitive whole words)."""
    from presidio_analyzer import PatternRecognizer

    recognizers = []
    for field, entity in METADATA_ENTITIES.items():
        value = getattr(clip, field).strip()
        if value:
            recognizers.append(
                PatternRecognizer(
                    supported_entity=entity,
                    deny_list=[value],
                    deny_list_score=1.0,
                    supported_language=language,
                    name=f"ClipMetadata_{entity}",
                )
            )
    return recognizers


def analyze(engines: Engines, text: str, clip: Clip, config, nlp_artifacts=None) -> list:
    """Presidio analyzer results over the original text."""
    return engines.analyzer.analyze(
        text=text,
        language=config.language,
        nlp_artifacts=nlp_artifacts,
        ad_hoc_recognizers=metadata_recognizer(clip, config.language),
        score_threshold=config.score_threshold,
        allow_list=list(config.allow_list) or None,
    )


def anonymize(engines: Engines, text: str, results: Sequence) -> tuple[str, tuple[Span, ...]]:
    """Replace every result by ``<ENTITY_TYPE>``; spans are offsets in the new text."""
    if not results:
        return text, ()
    outcome = engines.anonymizer.anonymize(text=text, analyzer_results=list(results))
    spans = tuple(sorted(Span(item.entity_type, item.start, item.end) for item in outcome.items))
    spans = tuple(sorted(spans, key=lambda s: (s.start, s.end)))
    return outcome.text, spans


def redact_clip(engines: Engines, clip: Clip, config, nlp_artifacts=None) -> Clip:
    """Redact one clip's transcript."""
    from pipeline.failures import ClipError

    if len(clip.transcript) > config.max_chars:
        raise ClipError("transcript_too_long", f"transcript longer than {config.max_chars} characters")
    results = analyze(engines, clip.transcript, clip, config, nlp_artifacts)
    redacted, entities = anonymize(engines, clip.transcript, results)
    pii = tuple(sorted(Span(r.entity_type, r.start, r.end) for r in results))
    return clip._replace(redacted_transcript=redacted, entities=entities, pii_spans=pii)


class _RedactTranscriptFn(beam.DoFn):
    """Takes a batch of clips; yields redacted clips and failures."""

    def __init__(self, config, files: PresidioFiles, shared_handle):
        self._config = config
        self._files = files
        self._shared = shared_handle
        self.received = beam.metrics.Metrics.counter(STAGE, "received")
        self.succeeded = beam.metrics.Metrics.counter(STAGE, "succeeded")
        self.failed = beam.metrics.Metrics.counter(STAGE, "failed")

    def setup(self):
        self._engines = self._shared.acquire(lambda: Engines(self._files))

    def process(self, batch: list[Clip]) -> Iterable:
        self.received.inc(len(batch))
        artifacts = self._nlp_batch(batch)
        for clip, nlp_artifacts in zip(batch, artifacts, strict=True):
            try:
                result = redact_clip(self._engines, clip, self._config, nlp_artifacts)
            except Exception as exc:  # noqa: BLE001 - every failure becomes a quarantine record
                self.failed.inc()
                yield pvalue.TaggedOutput(FAILURES, clip_failure(exc, STAGE, clip))
                continue
            self.succeeded.inc()
            for span in result.entities:
                beam.metrics.Metrics.counter(STAGE, f"entity_{span.entity_type}").inc()
            yield result

    def _nlp_batch(self, batch: list[Clip]) -> list:
        """spaCy over the whole batch (``nlp.pipe``); on a batch error, per clip (None = analyze alone)."""
        texts = [clip.transcript if len(clip.transcript) <= self._config.max_chars else "" for clip in batch]
        try:
            pairs = self._engines.analyzer.nlp_engine.process_batch(
                texts, language=self._config.language, batch_size=self._config.batch_size
            )
            return [artifacts for _, artifacts in pairs]
        except Exception:  # noqa: BLE001 - fall back to one-at-a-time, which isolates the bad clip
            return [None] * len(batch)


class RedactTranscript(beam.PTransform):
    """Redact PII from every clip's transcript with Presidio (batched through spaCy)."""

    def __init__(self, config, job_config):
        super().__init__()
        self._config = config
        self._files = read_presidio_files(config, job_config)

    def expand(self, clips) -> StageOutputs:
        results = (
            clips
            | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=self._config.batch_size)
            | "Redact"
            >> beam.ParDo(_RedactTranscriptFn(self._config, self._files, shared.Shared())).with_outputs(
                FAILURES, main="main"
            )
        )
        return StageOutputs(results.main, results[FAILURES])
