"""``python -m pipeline verify``: scan a run's outputs (and any logs) for raw identifiers.

With ``--key-file`` (the run's key) reviewer rows are tied to their clips, so a first name is
checked in its own clip's row; without it, the command says which checks it could not scope.
The check runs as a Beam pipeline (:mod:`pipeline.leak_check`) on the runner any extra Beam flags
name (default: the local DirectRunner; ``--runner DaskRunner --dask_client_address ...`` or
Dataflow for big runs); ``--engine launcher`` runs the single-process scan of
:mod:`pipeline.verify` instead (the reference the Beam check is tested against). Exit 0 clean,
1 on any leak, 2 when the key is unusable or the check could not complete.
"""

import os
import sys
import tempfile

from pipeline.commands import add_config_flag, job_config

NAME = "verify"
HELP = "scan every file a run wrote for raw identifiers; exit 1 on any hit"
ACCEPTS_EXTRA = True  # Beam flags: the runner the check runs on
DESCRIPTION = (
    "Scan every file under --output (reviewer and escalation shards, quarantine, report, logs) and any "
    "--logs files for each raw account_id and device_serial of the manifest, and each first_name where "
    "it is a leak: in its own clip's row (needs --key-file), quarantine record and log lines, and anywhere "
    "when it is not an ordinary English word. Findings name the kind, manifest row and file, never the value."
)


def add_arguments(parser) -> None:
    parser.add_argument("--manifest", required=True, help="the manifest the run read")
    parser.add_argument("--output", required=True, help="the run's output directory")
    parser.add_argument("--logs", nargs="*", default=[], help="extra log files to scan (e.g. worker logs)")
    parser.add_argument(
        "--key-file", default=None, help="the run's key (file), to tie reviewer rows to their clips by review id"
    )
    parser.add_argument(
        "--engine",
        choices=("beam", "launcher"),
        default="beam",
        help="beam: a Beam pipeline on the runner the extra Beam flags name (default); launcher: one process",
    )
    add_config_flag(parser, "the run's job config (allow-list, pseudonym epochs)")


def run(args, extra) -> int:
    from pipeline.verify import needles_from_rows, read_manifest_rows, verify_run
    from pipeline.verify_columns import review_ids_with
    from transforms.core.keys import KeyUnavailableError, resolve_key_source

    config = job_config(args)
    key = None
    if args.key_file:
        try:
            key = resolve_key_source(args.key_file, False, environ={})
        except KeyUnavailableError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if args.engine == "beam":
        return _run_beam(args, extra, config, key)
    review_ids = review_ids_with(key, config.identifiers.epoch_months) if key else None
    needles = needles_from_rows(read_manifest_rows(args.manifest), config.transcript.allow_list, review_ids)
    result = verify_run(args.output, needles, args.logs)
    for leak in result.leaks:
        print(f"LEAK: {leak.describe()}", file=sys.stderr)
    _notes(needles.skipped_names, needles.scoped, needles.unscoped_names)
    print(f"scanned {result.files} files for {needles.count} identifiers: {len(result.leaks)} leaks")
    return 1 if result.leaks else 0


def _run_beam(args, extra: list[str], config, key) -> int:
    from pipeline.leak_check import FINDINGS_KEPT, LeakCheckError, check_outputs, work_folder
    from pipeline.verify import list_files

    paths = list_files(args.output) + list(args.logs)
    # A local output may be read-only (a published run under review): the check's own small files
    # go to a temporary folder then; a remote one gets a folder under its _staging/.
    work = tempfile.mkdtemp(prefix="voiceanon-verify-") if "://" not in args.output else work_folder(args.output)
    review_key = (key, config.identifiers.epoch_months) if key else None
    try:
        result = check_outputs(args.manifest, paths, config.transcript.allow_list, review_key, (), extra, work)
    except LeakCheckError as exc:
        print(f"error: {exc}; the outputs were not verified", file=sys.stderr)
        return 2
    finally:
        if "://" not in args.output and os.path.isdir(work):
            os.rmdir(work)
    for leak in result.first:
        print(f"LEAK: {leak.describe()}", file=sys.stderr)
    if result.leaks > len(result.first):
        print(f"... and {result.leaks - FINDINGS_KEPT} more leaks", file=sys.stderr)
    _notes(result.counts.skipped_names, result.scoped, result.counts.unscoped_names)
    print(f"scanned {result.files} files for {result.counts.identifiers} identifiers: {result.leaks} leaks")
    return 1 if result.leaks else 0


def _notes(skipped: int, scoped: bool, unscoped: int) -> None:
    if skipped:
        print(f"note: {skipped} first names equal an allow-listed term and were not searched")
    if not scoped:
        print(
            "note: no --key-file, so reviewer rows could not be tied to their clips: first names that are not "
            f"ordinary words were searched in every row; {unscoped} that are ordinary words "
            "(e.g. Will, Mark) were searched only in quarantine records and log lines that name their clip"
        )
