"""Launching one run: checks that fail closed, the Beam run, the report, the leak check, publishing.

In:  parsed CLI flags (input, output, config, key source, overwrite, as-of, no-verify, dry-run) and
     the remaining Beam flags.
Out: the run writes under ``<output>/_staging/<run_id>/`` and is promoted to ``<output>/``
     (``reviewer/``, ``escalation/``, ``quarantine/``, ``logs/launcher.log``, ``run_report.json``,
     ``_SUCCESS``) only when every clip is accounted for, the quarantined share is under its
     ceiling and the leak verification found nothing; exit code 0 only then.
Fails: before anything runs — bad config, no usable key, missing manifest or policy list, an
     output that is a file, inside the input folder, in use by another run, or holding a run's
     files without ``--overwrite`` (exit 2); after the run — counts that do not reconcile or too
     many clips quarantined (exit 1), or a raw identifier found in any output or log (exit 3). A
     failed run publishes nothing and says where its staged files are.
"""

from __future__ import annotations

import datetime
import logging
import os
import secrets
import sys
import time

import pipeline
from pipeline import audit, local_engine, progress, publish, report
from pipeline.config import ConfigError, config_hash, load_config
from transforms.core.keys import KeyUnavailableError, key_file_exposure, resolve_key_source
from transforms.core.records import RunMeta

LOG = logging.getLogger("pipeline.run")
EXIT_SETUP, EXIT_FAILED, EXIT_LEAK = 2, 1, 3
EXIT_UNRECONCILED = EXIT_FAILED


class SetupError(RuntimeError):
    """The run cannot start; the message says why (and holds no secret)."""


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
    """Keep the launcher's whole log (every logger, INFO and up) beside the outputs, where the leak
    check scans it; the console shows only the project's own progress and warnings."""
    if "://" in path:
        return None  # remote outputs: the runner's own log service keeps the logs
    os.makedirs(os.path.dirname(path), exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    return handler


def verify_outputs(
    manifest: str, output_dir: str, config, key, output_root: str = "", beam_args: list[str] | None = None
) -> dict:
    """Leak verification over every file of the run (rows tied to clips with the run's key), as a
    Beam pipeline on the job's runner (:mod:`pipeline.leak_check`); the summary names no value. A
    check that could not complete has ``passed`` false and an ``error``."""
    from pipeline.leak_check import LeakCheckError, check_outputs, work_folder
    from pipeline.verify import list_files, normalise

    operator_paths = (output_dir, output_root, os.path.dirname(manifest), os.getcwd(), os.path.expanduser("~"))
    masks = tuple(sorted({normalise(p) for p in operator_paths if p and len(p) > 1}, key=len, reverse=True))
    paths = list_files(output_dir)
    started = time.monotonic()
    try:
        result = check_outputs(
            manifest,
            paths,
            config.transcript.allow_list,
            (key, config.identifiers.epoch_months),
            masks,
            list(beam_args or []),
            work_folder(output_root or output_dir),
        )
    except LeakCheckError as exc:
        LOG.error("leak check: %s", exc)
        return {"passed": False, "leaks": 0, "files_scanned": len(paths), "error": str(exc), "findings": []}
    seconds = round(time.monotonic() - started, 1)
    LOG.info("leak check: %d files, %d leaks, %.1f s", result.files, result.leaks, seconds)
    return {
        "passed": not result.leaks,
        "leaks": result.leaks,
        "files_scanned": result.files,
        "identifiers_searched": result.counts.identifiers,
        "first_names_not_searched_allow_listed": result.counts.skipped_names,
        "rows_tied_to_clips": result.scoped,
        "manifest_rows": result.counts.rows,
        "findings": [leak.describe() for leak in result.first],
        "wall_s": seconds,
    }


def absolute_local(path: str | None) -> str | None:
    """Local paths made absolute: workers of portable runners do not share the launcher's cwd."""
    if not path or "://" in path:
        return path
    return os.path.abspath(path)


def check_setup(args):
    """Everything that must hold before a run may start; returns (config, key, as_of)."""
    from apache_beam.io.filesystems import FileSystems

    from pipeline.layout import check_output_location
    from transforms.manifest import check_manifest

    config = load_config(args.config)
    key = resolve_key_source(args.key_file, args.ephemeral_key, exposed_key_file=config.identifiers.exposed_key_file)
    exposure = key_file_exposure(args.key_file) if key.kind == "file" else None
    if exposure:
        LOG.warning("the key file is readable by %s users; chmod 600 it", "all" if exposure == "world" else "group")
    if not FileSystems.exists(args.input):
        raise SetupError(f"manifest {args.input!r} not found")
    check_manifest(args.input)  # a known format, and a CSV header with the required columns
    check_output_location(args.input, args.output)
    return config, key, parse_as_of(args.as_of)


def run_job(args, beam_args: list[str]) -> int:
    """Run the job (or, with ``--dry-run``, only check it could run); returns the exit code."""
    for name in ("input", "output", "key_file", "config"):
        setattr(args, name, absolute_local(getattr(args, name)))
    try:
        config, key, as_of = check_setup(args)
        if args.launcher_dry_run:
            return dry_run(args, config, key)
        publication = publish.begin(args.output, new_run_id(), args.overwrite)
    except (ConfigError, KeyUnavailableError, SetupError, publish.PublishError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_SETUP

    handler = _capture_log(publication.staging.log)
    try:
        return _run(args, beam_args, config, key, as_of, publication)
    finally:
        if handler:
            logging.getLogger().removeHandler(handler)
            handler.close()
        publication.release()


def dry_run(args, config, key) -> int:
    """Config, key, lists and output were checked by ``check_setup``; here the first rows of the
    manifest are validated as the job would. Exit 0 when every checked row is valid, 1 otherwise."""
    from collections import Counter

    from transforms.core.failures import ClipError
    from transforms.manifest import iter_manifest_rows, parse_clip

    problems: Counter = Counter()
    checked = 0
    for row in iter_manifest_rows(args.input):
        if checked >= args.dry_run_rows:
            break
        checked += 1
        try:
            parse_clip(row, os.path.dirname(args.input))
        except ClipError as exc:
            problems[exc.code] += 1
    epochs = key.keyring().epochs
    print(f"config {config_hash(config)}: valid; voice method {config.voice.method}")
    print(f"key: {key.kind}" + (f", epochs {', '.join(epochs)}" if epochs else ", one key (epoch keys derived)"))
    print("opt-out and deletion lists: every line a valid id")
    print(f"manifest: {checked} row(s) checked, {checked - sum(problems.values())} valid")
    for code, count in sorted(problems.items()):
        print(f"  {count} row(s) would be quarantined: {code}")
    print(f"output {args.output}: usable; nothing was run or written")
    return 0 if not problems else EXIT_FAILED


def local_runner(options):
    """The FnApiRunner when the DirectRunner is asked for (the default), else None (Beam's choice).

    Beam's DirectRunner first tries to download the Prism runner from GitHub and falls back to the
    FnApiRunner only when that fails, so the same command would run on a different engine on a
    laptop online than on a locked-down worker, and ignore ``--direct_running_mode``. We pin the
    engine the tests exercise."""
    from apache_beam.options.pipeline_options import StandardOptions

    if options.view_as(StandardOptions).runner in (None, "DirectRunner", "direct"):
        bound_worker_allocators()
        bound_launcher_allocator()
        return local_engine.local_fn_api_runner()  # Beam's FnApiRunner; its SDK workers keep off the console
    return None


# Native allocator settings the local SDK worker processes inherit (an operator's own value wins).
# Measured with `benchmarks.bench --series 1000,20000 --min-s 0.25 --max-s 0.35`: a worker's RSS
# grows from ~400 to ~520 MiB over 20,000 clips without them, not in Python objects but in glibc
# arenas and Arrow's pool retaining freed pages (docs/SCALE_OUT.md, memory at scale).
WORKER_ALLOCATOR_ENV = {"MALLOC_ARENA_MAX": "2", "ARROW_DEFAULT_MEMORY_POOL": "system"}


def bound_launcher_allocator() -> None:
    """Bound this process's glibc arenas as the workers' are: ``MALLOC_ARENA_MAX`` is read only when
    a process starts, so the launcher (whose runner threads each take an arena) sets it here
    (``mallopt``; nothing on a C library without it)."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, 2)
    except (OSError, AttributeError):
        pass


def release_freed_memory() -> None:
    """Before the leak check runs its own pipeline in this process: drop what the job's stages
    loaded for the process's life (models, word lists: ``transforms.core.caches``), collect, and
    hand the freed heap back to the system (glibc's ``malloc_trim``)."""
    import ctypes
    import gc

    from transforms.core.caches import release_process_caches

    release_process_caches()
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


_M_ARENA_MAX = -8  # glibc's malloc.h


def bound_worker_allocators() -> None:
    """Set :data:`WORKER_ALLOCATOR_ENV` for processes started from here on (the SDK workers of
    ``--direct_running_mode=multi_processing``); the running launcher is not affected."""
    for name, value in WORKER_ALLOCATOR_ENV.items():
        os.environ.setdefault(name, value)


def dask_runner(options):
    """This project's DaskRunner (``pipeline/dask_runner.py``) when ``--runner DaskRunner`` is asked
    for (also Beam's own dotted name, whose translation mixes a ParDo's outputs), else None.

    The cluster comes from Beam's ``DaskOptions``: ``--dask_client_address tcp://HOST:8786`` (or
    ``--dask_scheduler_file``); without one, Dask starts a LocalCluster for the run."""
    from apache_beam.options.pipeline_options import StandardOptions

    if options.view_as(StandardOptions).runner in (
        "DaskRunner",
        "dask",
        "apache_beam.runners.dask.dask_runner.DaskRunner",
    ):
        from pipeline.dask_runner import DaskRunner

        return DaskRunner()
    return None


def _run(args, beam_args, config, key, as_of, publication: publish.Publication) -> int:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline import graph

    meta = RunMeta(publication.run_id, config_hash(config), pipeline.__version__, as_of)
    clips = progress.count_rows(args.input) if "://" not in args.input else None
    beam_args, engine = local_engine.choose(beam_args, clips, local_engine.usable_cores())
    LOG.info("run %s on %s", meta.run_id, engine)  # the run's first line says how it uses the machine
    LOG.info("run %s: config %s, key source %s, as of %s", meta.run_id, meta.config_hash, key.kind, as_of.isoformat())
    exposure = key_file_exposure(args.key_file) if key.kind == "file" else None
    started = datetime.datetime.now(datetime.timezone.utc)
    options = PipelineOptions(beam_args)
    p = beam.Pipeline(runner=local_runner(options) or dask_runner(options), options=options)
    watermark_key = graph.watermark_key_for(config, key)
    if watermark_key.kind == "ephemeral":
        LOG.warning(
            "run %s: no watermark key (watermark.key_file or VOICEANON_WATERMARK_KEY): clips are marked "
            "with a throw-away key and cannot be traced after this run",
            meta.run_id,
        )
    paths = graph.build(p, args.input, publication.staging_root, config, key, meta, watermark_key)
    live = progress.is_local(p.runner, options)
    try:
        with progress.Watch(clips, live, getattr(args, "progress_every", 10.0)) as watch:
            result = p.run()
            watch.started(result, options)
            result.wait_until_finish()
            watch.finish(result)
    except Exception as exc:  # noqa: BLE001 - the run failed: nothing is published
        LOG.exception("run %s: the pipeline failed", meta.run_id)
        print(f"error: the pipeline failed ({type(exc).__name__}); nothing published.", file=sys.stderr)
        print(f"staged outputs and the launcher log are in {publication.staging_root}", file=sys.stderr)
        return EXIT_FAILED

    extra = {
        "started_at": started.isoformat(),
        "finished_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "as_of": as_of.isoformat(),
        "runner": type(p.runner).__name__,
        "key_source": key.kind,
        "key_file_exposed": exposure,
        "voice_method": config.voice.method,
        "voice_preset": config.voice.preset or "none (method set directly)",
        "watermark": {"key": watermark_key.kind, "batches": config.watermark.batches},
    }
    run_report = report.build_report(report.counters_from_result(result), report.count_written(paths), meta, extra)
    code = 0
    try:
        report.reconcile(run_report)
    except report.ReconciliationError as exc:
        print(f"error: run does not reconcile: {exc}", file=sys.stderr)
        code = EXIT_FAILED
    ceiling = report.check_quarantine_share(run_report, config.output.max_quarantined_share)
    if ceiling:
        print(f"error: {ceiling}", file=sys.stderr)
        code = code or EXIT_FAILED
    report.write_report(run_report, paths.report)
    if not args.no_verify:
        del p, result  # the job's graph and runner state: the check starts from the job's freed memory
        release_freed_memory()
        LOG.info("run %s: leak verification over %s", meta.run_id, publication.staging_root)
        run_report["leak_check"] = check = verify_outputs(
            args.input, publication.staging_root, config, key, publication.root, beam_args
        )
        if "error" in check:
            print(f"error: {check['error']}; nothing can be published unchecked", file=sys.stderr)
            code = code or EXIT_FAILED
        elif check["manifest_rows"] != run_report["outcomes"]["clips_in"]:
            # An independent count: the manifest as the verifier reads it vs the rows the job read.
            print(
                f"error: manifest has {check['manifest_rows']} rows but the job read {run_report['outcomes']['clips_in']}",
                file=sys.stderr,
            )
            run_report["reconciled"] = False
            code = code or EXIT_FAILED
        if check["leaks"]:
            print("error: leak verification found raw identifiers in the outputs:", file=sys.stderr)
            for finding in check["findings"]:
                print(f"  {finding}", file=sys.stderr)
            code = code or EXIT_LEAK
    run_report["published"] = code == 0
    report.write_report(run_report, paths.report)
    print(report.format_table(run_report))
    try:  # an unaudited run is not published
        _audit(args, config, key, run_report, publication)
    except (audit.AuditError, OSError) as exc:
        print(f"error: the audit trail could not be written ({type(exc).__name__}: {exc})", file=sys.stderr)
        code = code or EXIT_FAILED
    if code == 0:
        try:
            moved = publication.promote()
            LOG.info("run %s: published %d files", meta.run_id, moved)
        except publish.PublishError as exc:
            print(f"error: {exc}", file=sys.stderr)
            code = EXIT_FAILED
    if code != 0:
        print(f"nothing published; this run's outputs are staged in {publication.staging_root}", file=sys.stderr)
        return code
    final = publication.final
    print(f"outputs: {final.root}/{{reviewer,escalation,quarantine}}  report: {final.report}")
    return 0


def _audit(args, config, key, run_report: dict, publication: publish.Publication) -> None:
    """One line in the audit trail per run that got to its checks, published or not (never a key,
    a path to it, or a value); written before publishing, so no published run goes unaudited."""
    trail = config.resolve_uri(config.output.audit_trail) if config.output.audit_trail else None
    audit.record_run(
        run_report,
        manifest=args.input,
        output_root=publication.root,
        key_kind=key.kind,
        shards_dir=publication.staging_root,
        audit_path=trail,
    )
    LOG.info("run %s: audit trail updated", run_report["run_id"])
