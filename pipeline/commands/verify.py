"""``python -m pipeline verify``: scan a run's outputs (and any logs) for raw identifiers.

With ``--key-file`` (the run's key) reviewer rows are tied to their clips, so a first name is
checked in its own clip's row; without it, the command says which checks it could not scope.
"""

import sys

from pipeline.commands import add_config_flag, job_config

NAME = "verify"
HELP = "scan every file a run wrote for raw identifiers; exit 1 on any hit"
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
    add_config_flag(parser, "the run's job config (allow-list, pseudonym epochs)")


def run(args, _extra) -> int:
    from pipeline.verify import needles_from_rows, read_manifest_rows, verify_run
    from pipeline.verify_columns import review_ids_with
    from transforms.core.keys import KeyUnavailableError, resolve_key_source

    config = job_config(args)
    review_ids = None
    if args.key_file:
        try:
            key = resolve_key_source(args.key_file, False, environ={})
        except KeyUnavailableError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        review_ids = review_ids_with(key, config.identifiers.epoch_months)
    needles = needles_from_rows(read_manifest_rows(args.manifest), config.transcript.allow_list, review_ids)
    result = verify_run(args.output, needles, args.logs)
    for leak in result.leaks:
        print(f"LEAK: {leak.describe()}", file=sys.stderr)
    if needles.skipped_names:
        print(f"note: {needles.skipped_names} first names equal an allow-listed term and were not searched")
    if not needles.scoped:
        print(
            "note: no --key-file, so reviewer rows could not be tied to their clips: first names that are not "
            f"ordinary words were searched in every row; {needles.unscoped_names} that are ordinary words "
            "(e.g. Will, Mark) were searched only in quarantine records and log lines that name their clip"
        )
    print(f"scanned {result.files} files for {needles.count} identifiers: {len(result.leaks)} leaks")
    return 1 if result.leaks else 0
