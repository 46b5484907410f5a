"""``python -m pipeline signoff``: sign off a run from the verdicts of its spot-check page.

In:  ``--output DIR`` (the run), ``--verdicts FILE.json`` (exported from the spot-check page),
     optional ``--audit PATH`` (default ``DIR/audit.jsonl``).
Out: ``DIR/signoff.json``, one audit line, restricted findings under ``DIR/escalation/signoff/``
     when a clip was found leaking, unsure or in need of escalation; a short verdict on stdout
     that names no clip. Exit 0 when the claim is supported, 1 when it is not (a leak or unsure
     verdict, too few clips checked, or the run's leak verification did not pass), 2 when the
     verdict file is invalid or does not belong to the run.
"""

from __future__ import annotations

import sys

NAME = "signoff"
HELP = "check a spot-check verdict file against its run and record whether the leak-rate claim holds"
DESCRIPTION = (
    "Validate a verdict file exported from the spot-check page against the run (same run id and config hash, "
    "and the same sample: it is drawn again from the run and the file's seed), compute the upper bound on the "
    "leak rate from the findings, write signoff.json beside run_report.json and append a line to the audit "
    "trail. Clips found leaking, unsure or needing escalation are named only in a restricted file under "
    "escalation/signoff/. Exit 0: claim supported; 1: not supported; 2: invalid verdict file or run."
)
EXIT_SUPPORTED, EXIT_NOT_SUPPORTED, EXIT_INVALID = 0, 1, 2


def add_arguments(parser) -> None:
    parser.add_argument("--output", required=True, metavar="DIR", help="output directory of the run")
    parser.add_argument("--verdicts", required=True, metavar="FILE", help="verdict file exported from the page")
    parser.add_argument(
        "--audit", default=None, metavar="PATH", help="audit trail to append to (default: DIR/audit.jsonl)"
    )


def run(args, _extra) -> int:
    from pipeline.audit import AuditError
    from pipeline.spotcheck.claims import percent
    from pipeline.spotcheck.signoff import SignoffError, sign_off

    try:
        result = sign_off(args.output, args.verdicts, args.audit)
    except SignoffError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except AuditError as exc:
        print(f"error: the audit trail was not written: {exc}", file=sys.stderr)
        return EXIT_INVALID
    record = result.record
    verdict = "SUPPORTED" if result.supported else "NOT SUPPORTED"
    print(f"sign-off {verdict}: {record['reason']}")
    counts = ", ".join(f"{k}={v}" for k, v in record["verdicts"].items() if v) or "none"
    sample = record["sample"]
    print(f"  run {record['run_id']}  checker {record['checker']}  seed {sample['seed']}")
    print(
        f"  checked {record['checked']} of {sample['drawn']} sampled ({sample['population']} reviewer clips): {counts}"
    )
    bound = record["bound"]
    print(
        f"  upper bound on the leak rate at {percent(record['claim']['confidence'])}: "
        f"{percent(bound['upper_leak_rate'])} ({bound['method']}; Clopper-Pearson {percent(bound['clopper_pearson_upper'])})"
    )
    if result.restricted_path:
        print(f"  {len(result.restricted)} clip(s) routed to the restricted side: {result.restricted_path}")
    print(f"  written: {result.signoff_path}; audit: {result.audit_path}")
    return EXIT_SUPPORTED if result.supported else EXIT_NOT_SUPPORTED
