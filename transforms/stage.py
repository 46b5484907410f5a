"""What every per-clip stage shares: failure routing and counters.

A stage's DoFn subclasses :class:`ClipStageFn` and implements ``handle(clip) -> clip``. Any
exception becomes a PII-free :class:`pipeline.records.Failure` on the ``failures`` output, so a
bad clip never stops the job and never vanishes. Counters ``received``, ``succeeded`` and
``failed`` live in one Metrics namespace per stage.
"""

from __future__ import annotations

from typing import NamedTuple

import apache_beam as beam
from apache_beam import pvalue

from pipeline.failures import failure_from
from pipeline.records import Clip

FAILURES = "failures"


class StageOutputs(NamedTuple):
    """What a stage composite returns: the clips that went through and those that did not."""

    main: beam.PCollection
    failures: beam.PCollection


def add_counters(fn: beam.DoFn, stage: str) -> None:
    """Give a DoFn the stage's ``received``/``succeeded``/``failed`` counters (one namespace per stage)."""
    fn.received = beam.metrics.Metrics.counter(stage, "received")
    fn.succeeded = beam.metrics.Metrics.counter(stage, "succeeded")
    fn.failed = beam.metrics.Metrics.counter(stage, "failed")


class ClipStageFn(beam.DoFn):
    """Base DoFn: calls ``handle`` and routes exceptions to the failures output."""

    stage = "stage"

    def __init__(self):
        add_counters(self, self.stage)

    def handle(self, clip: Clip) -> Clip:
        raise NotImplementedError

    def process(self, clip):
        self.received.inc()
        try:
            result = self.handle(clip)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a quarantine record
            self.failed.inc()
            yield pvalue.TaggedOutput(FAILURES, clip_failure(exc, self.stage, clip))
            return
        self.succeeded.inc()
        yield result


def clip_failure(exc: BaseException, stage: str, clip: Clip):
    """A failure record for ``clip`` with every raw value of the clip scrubbed from the message."""
    return failure_from(exc, stage, clip.clip_id, clip.sensitive_values(), clip.transcript)


def apply_stage(pcoll: beam.PCollection, label: str, fn: beam.DoFn) -> StageOutputs:
    """``ParDo(fn)`` with the failures output split off."""
    results = pcoll | label >> beam.ParDo(fn).with_outputs(FAILURES, main="main")
    return StageOutputs(results.main, results[FAILURES])
