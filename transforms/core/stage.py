"""What every stage shares: one failure path and one set of counters.

Every per-element step of the job routes exceptions the same way, through :func:`guarded`: the
element's result goes to the main output, an exception becomes a PII-free
:class:`transforms.core.records.Failure` on the ``failures`` output, so a bad clip never stops the
job and never vanishes. :class:`StageCounters` holds a stage's ``received``/``succeeded``/``failed``
counters (one Metrics namespace per stage) and its domain counts (``dropped_<reason>``,
``entity_<TYPE>``, …).

Most stages subclass :class:`ClipStageFn` and implement ``handle(clip, *side_inputs)``; a stage
whose unit is not one clip (a batch of transcripts, a raw manifest row) calls :func:`guarded`
itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import apache_beam as beam
from apache_beam import pvalue

from transforms.core import progress
from transforms.core.failures import failure_from
from transforms.core.records import Clip, Failure

FAILURES = "failures"


class StageOutputs(NamedTuple):
    """What a stage composite returns: the clips that went through and those that did not."""

    main: beam.PCollection
    failures: beam.PCollection


class Counter:
    """A Beam counter whose increments are also noted in the live tally the launcher's progress
    line reads (:mod:`transforms.core.progress`; a no-op unless the launcher asked for it)."""

    def __init__(self, stage: str, name: str):
        self._counter = beam.metrics.Metrics.counter(stage, name)
        self._key = f"{stage}/{name}"

    def inc(self, value: int = 1) -> None:
        self._counter.inc(value)
        progress.note(self._key, value)


class StageCounters:
    """A stage's counters, all in the Metrics namespace named after the stage."""

    def __init__(self, stage: str):
        self.stage = stage
        self.received = Counter(stage, "received")
        self.succeeded = Counter(stage, "succeeded")
        self.failed = Counter(stage, "failed")
        self._counters: dict = {}
        self._distributions: dict = {}

    def count(self, name: str, value: int = 1) -> None:
        """A domain count of this stage (``dropped_opt_out``, ``entity_PERSON``, ``clips_muted``…)."""
        counter = self._counters.get(name)
        if counter is None:
            counter = self._counters[name] = Counter(self.stage, name)
        counter.inc(value)

    def observe(self, name: str, value: int) -> None:
        """A distribution of this stage (e.g. ``audio_ms``: decoded audio length per clip)."""
        distribution = self._distributions.get(name)
        if distribution is None:
            distribution = self._distributions[name] = beam.metrics.Metrics.distribution(self.stage, name)
        distribution.update(value)


def guarded(counters: StageCounters, call: Callable[[], Any], on_error: Callable[[Exception], Failure]) -> Iterator:
    """The one failure path: yield ``call()``'s result, or ``on_error(exc)`` on the failures output.

    A result of ``None`` yields nothing and counts nothing (the caller counted why, e.g. a policy
    drop). ``on_error`` must build a failure record whose message holds no clip data.
    """
    try:
        result = call()
    except Exception as exc:  # noqa: BLE001 - every failure becomes a quarantine record
        counters.failed.inc()
        yield pvalue.TaggedOutput(FAILURES, on_error(exc))
        return
    if result is not None:
        counters.succeeded.inc()
        yield result


def clip_failure(exc: BaseException, stage: str, clip: Clip) -> Failure:
    """A failure record for ``clip`` with every raw value of the clip scrubbed from the message."""
    return failure_from(exc, stage, clip.clip_id, clip.sensitive_values(), clip.transcript)


class ClipStageFn(beam.DoFn):
    """Base DoFn of a per-clip stage: ``handle(clip, *side_inputs)`` under :func:`guarded`.

    ``handle`` returns the new clip (or row), or ``None`` for a clip it deliberately drops (and
    counts). Set ``count_received = False`` where the stage counts its entry elsewhere.
    """

    stage = "stage"
    count_received = True

    def __init__(self):
        self.counters = StageCounters(self.stage)

    def handle(self, clip: Clip, *side_inputs):
        raise NotImplementedError

    def process(self, clip, *side_inputs):
        if self.count_received:
            self.counters.received.inc()
        yield from guarded(
            self.counters, lambda: self.handle(clip, *side_inputs), lambda exc: clip_failure(exc, self.stage, clip)
        )


def apply_stage(pcoll: beam.PCollection, label: str, fn: beam.DoFn, *side_inputs) -> StageOutputs:
    """``ParDo(fn, *side_inputs)`` with the failures output split off."""
    results = pcoll | label >> beam.ParDo(fn, *side_inputs).with_outputs(FAILURES, main="main")
    return StageOutputs(results.main, results[FAILURES])
