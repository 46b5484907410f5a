"""Quarantine output: ``WriteQuarantine``.

In:  :class:`transforms.core.records.Failure` records from every stage, flattened.
Out: JSON Lines under ``<output>/quarantine/`` (a sibling of the reviewer shards, never inside
     them): ``clip_id``, ``stage``, ``error_type``, ``message`` (already sanitised), ``run_id``.
     Counters ``quarantine/<stage>`` feed the run report.
"""

from __future__ import annotations

import json

import apache_beam as beam

from transforms.core.stage import StageCounters


def failure_line(failure, run_id: str) -> str:
    """One JSON line per failure; sorted keys so reruns write identical bytes."""
    return json.dumps({**failure.to_dict(), "run_id": run_id}, sort_keys=True, ensure_ascii=False)


class _CountFn(beam.DoFn):
    def __init__(self):
        self.counters = StageCounters("quarantine")

    def process(self, failure):
        self.counters.count(failure.stage)
        self.counters.count("total")
        yield failure


class WriteQuarantine(beam.PTransform):
    """Count and write failure records."""

    def __init__(self, path_prefix: str, run_id: str):
        super().__init__()
        self._prefix = path_prefix
        self._run_id = run_id

    def expand(self, failures):
        run_id = self._run_id
        return (
            failures
            | "Count" >> beam.ParDo(_CountFn())
            | "ToJson" >> beam.Map(failure_line, run_id)
            | "Write"
            >> beam.io.WriteToText(self._prefix, file_name_suffix=".jsonl", shard_name_template="-SSSSS-of-NNNNN")
        )
