"""Launching one run: checks that fail closed, the Beam run, the report, the leak check.

In:  parsed CLI flags (input, output, config, key source, overwrite, as-of, no-verify) and the
     remaining Beam flags.
Out: reviewer and escalation shards, quarantine records, ``logs/launcher.log`` and
     ``run_report.json`` under ``--output``; exit code 0 only when the run finished, every clip
     is accounted for, and the leak verification found nothing.
Fails: before anything runs — bad config, no key, missing manifest or policy list, existing
     output without ``--overwrite`` (exit 2); after the run — counts that do not reconcile
     (exit 1) or a raw identifier found in any output or log (exit 3).
"""

from __future__ import annotations

import datetime
import logging
import secrets
import sys

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

import pipeline
from pipeline import graph, report
from pipeline.config import ConfigError, config_hash, load_config
from pipeline.layout import OutputPaths, output_paths
from transforms.core.keys import KeyUnavailableError, resolve_key_source
from transforms.core.records import RunMeta

LOG = logging.getLogger("pipeline.run")
EXIT_SETUP, EXIT_UNRECONCILED, EXIT_LEAK = 2, 1, 3


class SetupError(RuntimeError):
    """The run cannot start; the message says why (and holds no secret)."""


def prepare_output(output_dir: str, overwrite: bool) -> OutputPaths:
    """Refuse to mix runs: an existing output needs ``--overwrite``, which removes only our files."""
    from apache_beam.io.filesystems import FileSystems

    paths = output_paths(output_dir)
    ours = [paths.reviewer_prefix, paths.escalation_prefix, paths.quarantine_prefix, paths.report, paths.log]
    existing = [m.path for prefix in ours for m in FileSystems.match([prefix + "*"])[0].metadata_list]
    if existing and not overwrite:
        raise SetupError(f"output {output_dir!r} already holds a run's files; pass --overwrite to replace them")
    if existing:
        FileSystems.delete(existing)
    return paths


def parse_as_of(value: str | None) -> datetime.datetime:
    """The reference time for retention: an ISO date or timestamp (UTC if no zone), or now."""
    if not value:
        return datetime.datetime.now(datetime.timezone.utc)
    try:
        stamp = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SetupError(f"--as-of {value!r} is not an ISO 8601 date or timestamp") from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=datetime.timezone.utc)


def new_run_id() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(4)


def _capture_log(path: str) -> logging.Handler | None:
    """Keep the launcher's log beside the outputs, where the leak check scans it."""
    if "://" in path:
        return None  # remote outputs: the runner's own log service keeps the logs
    import os

    os.makedirs(os.path.dirname(path), exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    return handler


def verify_outputs(manifest: str, output_dir: str, allowed_terms=()) -> dict:
    """Leak verification over every file of the run; the summary names no value."""
    from pipeline.verify import needles_from_rows, read_manifest_rows, verify_run

    needles = needles_from_rows(read_manifest_rows(manifest), allowed_terms)
    result = verify_run(output_dir, needles)
    return {
        "passed": not result.leaks,
        "leaks": len(result.leaks),
        "files_scanned": result.files,
        "identifiers_searched": needles.count,
        "first_names_not_searched_allow_listed": needles.skipped_names,
        "manifest_rows": needles.rows,
        "findings": [leak.describe() for leak in result.leaks[:50]],
    }


def absolute_local(path: str | None) -> str | None:
    """Local paths made absolute: workers of portable runners do not share the launcher's cwd."""
    import os

    if not path or "://" in path:
        return path
    return os.path.abspath(path)


def run_job(args, beam_args: list[str]) -> int:
    """Run the job; returns the process exit code."""
    from apache_beam.io.filesystems import FileSystems

    for name in ("input", "output", "key_file", "config"):
        setattr(args, name, absolute_local(getattr(args, name)))
    try:
        config = load_config(args.config)
        key = resolve_key_source(args.key_file, args.ephemeral_key)
        if not FileSystems.exists(args.input):
            raise SetupError(f"manifest {args.input!r} not found")
        as_of = parse_as_of(args.as_of)
        paths = prepare_output(args.output, args.overwrite)
    except (ConfigError, KeyUnavailableError, SetupError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_SETUP

    handler = _capture_log(paths.log)
    try:
        return _run(args, beam_args, config, key, as_of, paths)
    finally:
        if handler:
            logging.getLogger().removeHandler(handler)
            handler.close()


def local_runner(options: PipelineOptions):
    """The FnApiRunner when the DirectRunner is asked for (the default), else None (Beam's choice).

    Beam's DirectRunner first tries to download the Prism runner from GitHub and falls back to the
    FnApiRunner only when that fails, so the same command would run on a different engine on a
    laptop online than on a locked-down worker, and ignore ``--direct_running_mode``. We pin the
    engine the tests exercise."""
    if options.view_as(StandardOptions).runner in (None, "DirectRunner", "direct"):
        from apache_beam.runners.portability.fn_api_runner import FnApiRunner

        return FnApiRunner()
    return None


def _run(args, beam_args, config, key, as_of, paths) -> int:
    meta = RunMeta(new_run_id(), config_hash(config), pipeline.__version__, as_of)
    LOG.info("run %s: config %s, key source %s, as of %s", meta.run_id, meta.config_hash, key.kind, as_of.isoformat())
    started = datetime.datetime.now(datetime.timezone.utc)
    options = PipelineOptions(beam_args)
    p = beam.Pipeline(runner=local_runner(options), options=options)
    graph.build(p, args.input, args.output, config, key, meta)
    result = p.run()
    result.wait_until_finish()

    extra = {
        "started_at": started.isoformat(),
        "finished_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "as_of": as_of.isoformat(),
        "runner": type(p.runner).__name__,
        "key_source": key.kind,
        "voice_preset": config.voice.preset or "none (method set directly)",
    }
    run_report = report.build_report(report.counters_from_result(result), report.count_written(paths), meta, extra)
    code = 0
    try:
        report.reconcile(run_report)
    except report.ReconciliationError as exc:
        print(f"error: run does not reconcile: {exc}", file=sys.stderr)
        code = EXIT_UNRECONCILED
    report.write_report(run_report, paths.report)
    if not args.no_verify:
        LOG.info("run %s: leak verification over %s", meta.run_id, paths.root)
        run_report["leak_check"] = check = verify_outputs(args.input, args.output, config.transcript.allow_list)
        if check["manifest_rows"] != run_report["outcomes"]["clips_in"]:
            # An independent count: the manifest as the verifier reads it vs the rows the job read.
            print(
                f"error: manifest has {check['manifest_rows']} rows but the job read {run_report['outcomes']['clips_in']}",
                file=sys.stderr,
            )
            run_report["reconciled"] = False
            code = code or EXIT_UNRECONCILED
        report.write_report(run_report, paths.report)
        if not check["passed"]:
            print("error: leak verification found raw identifiers in the outputs:", file=sys.stderr)
            for finding in run_report["leak_check"]["findings"]:
                print(f"  {finding}", file=sys.stderr)
            code = code or EXIT_LEAK
    print(report.format_table(run_report))
    print(f"outputs: {paths.root}/{{reviewer,escalation,quarantine}}  report: {paths.report}")
    return code
