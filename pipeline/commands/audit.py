"""``python -m pipeline audit``: print a run directory's audit trail as a table.

In:  ``DIR`` (the output root; the trail is ``DIR/audit.jsonl``) or ``--audit PATH``.
Out: one line per record, oldest first: time, kind (run / signoff / trace), run id, config hash,
     counts per outcome (runs) or verdicts (sign-offs), leak check, sign-off result; a trace: files
     traced, found, run/output/batch found, and who traced. ``--json`` prints the
     records as JSON lines instead. Exit 0, or 2 when there is no trail.
"""

from __future__ import annotations

import json
import sys

NAME = "audit"
HELP = "print the audit trail (runs and sign-offs) of an output directory as a table"
DESCRIPTION = (
    "Print the append-only audit trail of an output root: one line per run (run id, config hash, manifest "
    "fingerprint, key source kind and epochs, counts per outcome, leak check) and per sign-off (checker, "
    "claim, verdicts, result). The trail never holds a raw identifier, a transcript, a key or a clip's id."
)
OUTCOME_SHORT = (
    ("clips_in", "in"),
    ("reviewer_rows", "rev"),
    ("escalated", "esc"),
    ("policy_dropped", "drop"),
    ("quarantined", "quar"),
)


def add_arguments(parser) -> None:
    parser.add_argument("output", nargs="?", metavar="DIR", help="output root whose audit.jsonl to read")
    parser.add_argument("--audit", default=None, metavar="PATH", help="audit trail path (instead of DIR)")
    parser.add_argument("--json", action="store_true", help="print the records as JSON lines")


def _outcomes(record: dict) -> str:
    if record.get("kind") == "signoff":
        counts = record.get("verdicts") or {}
        found = ", ".join(f"{k}={v}" for k, v in counts.items() if v and k != "clean")
        return f"checked {record.get('checked')}/{record.get('sampled')}, clean={counts.get('clean', 0)}" + (
            f", {found}" if found else ""
        )
    outcomes = record.get("outcomes") or {}
    shown = [f"{short}={outcomes[key]}" for key, short in OUTCOME_SHORT if key in outcomes]
    shown += [f"{k}={v}" for k, v in outcomes.items() if k not in dict(OUTCOME_SHORT)]
    return " ".join(shown)


def _leak(record: dict) -> str:
    if record.get("kind") == "signoff":
        passed = record.get("run_leak_check_passed")
    else:
        check = record.get("leak_check")
        passed = check.get("passed") if isinstance(check, dict) else None
        if passed is False:
            return f"FAILED ({check.get('leaks')})"
    return {True: "passed", False: "FAILED", None: "-"}[passed]


def _result(record: dict) -> str:
    if record.get("kind") != "signoff":
        return {True: "published", False: "NOT published", None: "-"}[record.get("published")]
    from pipeline.spotcheck.claims import percent

    rate, conf = record.get("max_leak_rate"), record.get("confidence")
    claim = f"<{percent(rate)} @{percent(conf)}" if rate is not None and conf is not None else "no claim"
    return ("supported " if record.get("supported") else "NOT supported ") + claim + f" ({record.get('checker')})"


def table(records: list[dict]) -> str:
    header = ("time", "kind", "run id", "config", "outcomes", "leak check", "result")
    rows = [header]
    for record in records:
        if record.get("kind") == "trace":  # a leaked file traced: who, how many files, what was found
            found = sorted(
                {
                    f"{r.get('run_id') or '?'}/{r.get('output')}/{r.get('batch')}"
                    for r in record["results"]
                    if r.get("found")
                }
            )
            rows.append(
                (
                    str(record.get("time", ""))[:19].replace("T", " "),
                    "trace",
                    "",
                    "",
                    f"files={record.get('files')} found={record.get('found')}"
                    + (f" ({', '.join(found)})" if found else ""),
                    "",
                    f"traced by {record.get('tracer')}",
                )
            )
            continue
        if record.get("kind") not in ("run", "signoff"):
            rows.append(("?", str(record.get("kind")), f"line {record.get('line')}", "", "", "", ""))
            continue
        rows.append(
            (
                str(record.get("time", ""))[:19].replace("T", " "),
                record["kind"],
                str(record.get("run_id", "")),
                str(record.get("config_hash", "")),
                _outcomes(record),
                _leak(record),
                _result(record),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def run(args, _extra) -> int:
    from pipeline.audit import default_audit_path, read

    if not args.output and not args.audit:
        print("error: give the output root DIR or --audit PATH", file=sys.stderr)
        return 2
    path = args.audit or default_audit_path(args.output)
    records = read(path)
    if not records:
        print(f"error: no audit records at {path}", file=sys.stderr)
        return 2
    if args.json:
        for record in records:
            print(json.dumps(record, sort_keys=True, ensure_ascii=False))
        return 0
    print(f"audit trail: {path} ({len(records)} records)")
    print(table(records))
    return 0
