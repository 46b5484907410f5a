"""``python -m pipeline verify``: scan a run's outputs (and any logs) for raw identifiers."""

import sys

from pipeline.commands import add_config_flag, job_config

NAME = "verify"
HELP = "scan every file a run wrote for raw identifiers; exit 1 on any hit"
DESCRIPTION = (
    "Scan every file under --output (reviewer and escalation shards, quarantine, report, "
    "logs) and any --logs files for each raw account_id and device_serial of the manifest, and each "
    "first_name as a whole word. Findings name the kind, manifest row and file, never the value."
)


def add_arguments(parser) -> None:
    parser.add_argument("--manifest", required=True, help="the manifest the run read")
    parser.add_argument("--output", required=True, help="the run's output directory")
    parser.add_argument("--logs", nargs="*", default=[], help="extra log files to scan (e.g. worker logs)")
    add_config_flag(parser, "job config whose transcript.allow_list names terms that are not searched as names")


def run(args, _extra) -> int:
    from pipeline.verify import needles_from_rows, read_manifest_rows, verify_run

    allowed = job_config(args).transcript.allow_list
    needles = needles_from_rows(read_manifest_rows(args.manifest), allowed)
    result = verify_run(args.output, needles, args.logs)
    for leak in result.leaks:
        print(f"LEAK: {leak.describe()}", file=sys.stderr)
    if needles.skipped_names:
        print(f"note: {needles.skipped_names} first names equal an allow-listed term and were not searched")
    print(f"scanned {result.files} files for {needles.count} identifiers: {len(result.leaks)} leaks")
    return 1 if result.leaks else 0
