"""The whole job as one composite (``AnonymizeClips``) run in-process with TestPipeline over the
bundled samples: every clip ends up in exactly one place, and no raw identifier reaches a row."""

from __future__ import annotations

import datetime
import glob
import hashlib
import json

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipeline.graph import AnonymizeClips
from pipeline.layout import output_paths
from tests.conftest import SAMPLE_MANIFEST
from transforms.core.keys import KeySource
from transforms.core.records import RunMeta

AS_OF = datetime.datetime(2026, 11, 22, tzinfo=datetime.timezone.utc)


def test_when_the_job_runs_in_process_then_every_clip_is_accounted_for_and_rows_hold_no_raw_value(
    tmp_path, job_config, sample_rows
):
    paths = output_paths(str(tmp_path / "out"))
    key = KeySource("ephemeral", "", hashlib.sha256(b"graph test key").hexdigest().encode())
    meta = RunMeta("test-run", "cfg", "0", AS_OF)
    with TestPipeline() as p:
        outputs = p | AnonymizeClips(SAMPLE_MANIFEST, paths, job_config, key, meta)
        assert_that(outputs.reviewer | beam.combiners.Count.Globally(), equal_to([1]), label="OneReviewerShard")

    rows = [r for path in glob.glob(paths.reviewer_prefix + "*.parquet") for r in pq.read_table(path).to_pylist()]
    quarantined = [
        json.loads(line) for path in glob.glob(paths.quarantine_prefix + "*") for line in open(path, encoding="utf-8")
    ]
    dropped = sum(1 for r in sample_rows if r.get("wake_word_detected") is False)
    assert dropped == 2
    assert len(rows) + len(quarantined) + dropped == len(sample_rows)
    assert len(rows) == 8 and not quarantined
    escalated = sum(pq.read_metadata(path).num_rows for path in glob.glob(paths.escalation_prefix + "*.parquet"))
    assert escalated == 0  # the samples match no escalation term
    text = json.dumps([{k: v for k, v in r.items() if k != "audio"} for r in rows], default=str).lower()
    for source in sample_rows:
        for field in ("account_id", "device_serial", "audio_uri", "clip_id"):
            assert source[field].lower() not in text, field
        assert f" {source['first_name'].lower()} " not in f" {text} "
    assert {r["run_id"] for r in rows} == {"test-run"}


def test_clips_stream_from_the_read_to_the_shard_writers_through_no_shuffle_and_no_flatten(job_config):
    """Issue 22: a GroupByKey or Flatten on the clip path makes a runner that keeps shuffles in
    its own process (the DirectRunner's FnApiRunner: the launcher) hold every clip record. From the
    validated rows to the writers' bundles, every step is a per-element ParDo (side inputs aside)."""
    from apache_beam.pipeline import PipelineVisitor

    key = KeySource("ephemeral", "", hashlib.sha256(b"graph test key").hexdigest().encode())
    p = beam.Pipeline()
    p | AnonymizeClips(
        SAMPLE_MANIFEST, output_paths("/nonexistent/out"), job_config, key, RunMeta("r", "c", "0", AS_OF)
    )

    class ClipPath(PipelineVisitor):
        def __init__(self):
            self.clips, self.steps = set(), []

        def visit_transform(self, node):
            if node.full_label == "AnonymizeClips/ReadClips/Validate/ParDo(_ParseRowFn)":
                self.clips.add(node.outputs[None])
            elif any(pc in self.clips for pc in node.main_inputs.values()):
                self.steps.append((node.full_label, type(node.transform).__name__))
                if not node.full_label.endswith("/WriteBundles"):  # beyond it: file names, not clips
                    self.clips.update(pc for tag, pc in node.outputs.items() if tag != "failures")

    path = ClipPath()
    p.visit(path)
    labels = [label for label, _ in path.steps]
    assert "AnonymizeClips/ApplyPolicy/Dedupe/ParDo(_DedupeFn)" in labels
    assert "AnonymizeClips/WriteReviewerShards/WriteParquet/Write/WriteImpl/WriteBundles" in labels
    assert {kind for _, kind in path.steps} <= {"ParDo", "WindowInto"}, path.steps
