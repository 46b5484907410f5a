"""Launching one run: checks that fail closed, the Beam run, the report.

In:  parsed CLI flags (input, output, config, key source, overwrite) and the remaining Beam flags.
Out: reviewer shards, quarantine records and ``run_report.json`` under ``--output``; exit code 0
     only when the run finished and every clip is accounted for.
Fails: before anything runs — bad config, no key, missing manifest, existing output without
     ``--overwrite`` (exit 2); after the run — counts that do not reconcile (exit 1).
"""

from __future__ import annotations

import datetime
import logging
import secrets
import sys

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

import pipeline
from pipeline import graph, report
from pipeline.config import ConfigError, config_hash, load_config
from pipeline.keys import KeyError_, resolve_key_source
from pipeline.records import RunMeta

LOG = logging.getLogger("pipeline.run")


class SetupError(RuntimeError):
    """The run cannot start; the message says why (and holds no secret)."""


def prepare_output(output_dir: str, overwrite: bool) -> graph.OutputPaths:
    """Refuse to mix runs: an existing output needs ``--overwrite``, which removes only our files."""
    from apache_beam.io.filesystems import FileSystems

    paths = graph.output_paths(output_dir)
    ours = [paths.reviewer_prefix, paths.quarantine_prefix, paths.report]
    existing = [m.path for prefix in ours for m in FileSystems.match([prefix + "*"])[0].metadata_list]
    if existing and not overwrite:
        raise SetupError(f"output {output_dir!r} already holds a run's files; pass --overwrite to replace them")
    if existing:
        FileSystems.delete(existing)
    return paths


def new_run_id() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(4)


def run_job(args, beam_args: list[str]) -> int:
    """Run the job; returns the process exit code."""
    from apache_beam.io.filesystems import FileSystems

    try:
        config = load_config(args.config)
        key = resolve_key_source(args.key_file, args.ephemeral_key)
        if not FileSystems.exists(args.input):
            raise SetupError(f"manifest {args.input!r} not found")
        paths = prepare_output(args.output, args.overwrite)
    except (ConfigError, KeyError_, SetupError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    meta = RunMeta(new_run_id(), config_hash(config), pipeline.__version__)
    LOG.info("run %s: config %s, key source %s", meta.run_id, meta.config_hash, key.kind)
    started = datetime.datetime.now(datetime.timezone.utc)
    options = PipelineOptions(beam_args)
    p = beam.Pipeline(options=options)
    graph.build(p, args.input, args.output, config, key, meta)
    result = p.run()
    result.wait_until_finish()

    counters = report.counters_from_result(result)
    extra = {
        "started_at": started.isoformat(),
        "finished_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "runner": type(p.runner).__name__,
        "key_source": key.kind,
    }
    run_report = report.build_report(counters, report.count_written(paths), meta, extra)
    code = 0
    try:
        report.reconcile(run_report)
    except report.ReconciliationError as exc:
        print(f"error: run does not reconcile: {exc}", file=sys.stderr)
        code = 1
    report.write_report(run_report, paths.report)
    print(report.format_table(run_report))
    print(f"reviewer shards: {paths.reviewer_prefix}*  quarantine: {paths.quarantine_prefix}*  report: {paths.report}")
    return code
