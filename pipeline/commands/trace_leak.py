"""``python -m pipeline trace FILE... --key-file K [--audit PATH]``: which run and reviewer batch a
leaked recording came from.

In:  audio files in any format ffmpeg reads; the watermark key file (hex; ``--job-key`` when K is
     the job's single pseudonym key the watermark key was derived from); the audit trail.
Out: one line per file (``--json``: one JSON object per file): FOUND or not found, run id, run time
     (from the audit trail), reviewer or escalation output, batch, sync score and the false-alarm
     probability; a ``trace`` record appended to the audit trail (who traced, each file's SHA-256
     and result; never audio, file names or paths).
Exit: 0 every file found; 1 some file not found; 2 some file unreadable, or no usable key or trail.
"""

from __future__ import annotations

import getpass
import json
import sys

NAME = "trace"
HELP = "find which run and reviewer batch a leaked recording came from (reads the audio's watermark)"
DESCRIPTION = (
    "Read the keyed watermark every reviewer and escalation clip carries, from any audio ffmpeg reads, at "
    "any offset and length, and name the run (looked up in the audit trail), the output and the reviewer "
    "batch, with the false-alarm probability. The trace is appended to the audit trail. Exit 0 when every "
    "file is found, 1 when one is not, 2 when one cannot be read."
)
EXIT_FOUND, EXIT_NOT_FOUND, EXIT_UNREADABLE = 0, 1, 2


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="audio files to trace")
    parser.add_argument("--key-file", required=True, metavar="K", help="the watermark key file (hex)")
    parser.add_argument(
        "--job-key", action="store_true", help="K is the job's single hex key; derive the watermark key from it"
    )
    parser.add_argument(
        "--audit", default=None, metavar="PATH", help="the audit trail (run ids, run times; the trace is appended)"
    )
    parser.add_argument("--tracer", default=None, help="who is tracing, for the audit trail (default: the login name)")
    parser.add_argument("--json", action="store_true", help="one JSON object per file")


def _key(args) -> bytes:
    from transforms.core.keys import derive_key
    from transforms.watermark.keys import LABEL, read_key_file

    key = read_key_file(args.key_file)
    return derive_key(key, LABEL) if args.job_key else key


def _describe(path: str, result) -> str:
    if not result.found:
        return f"{path}: not found (best sync score {result.score:.1f} over {result.windows} window(s))"
    if len(result.runs) == 1:
        run = result.runs[0]
        where = f"run {run['run_id']} (run at {run.get('time', '?')})"
    elif result.runs:
        where = "one of runs " + ", ".join(r["run_id"] for r in result.runs)
    else:
        where = f"run tag {result.run_tag:06x}, which no run in the audit trail has"
    return (
        f"{path}: FOUND {where}, {result.output} batch {result.batch} "
        f"(at {result.at_s:.1f} s; sync score {result.score:.1f}; false-alarm probability {result.false_alarm:.1e})"
    )


def run(args, extra) -> int:
    from pipeline import audit
    from pipeline.tracing import trace_file
    from transforms.core.failures import ClipError
    from transforms.core.keys import KeyUnavailableError
    from transforms.watermark import layout

    try:
        key = _key(args)
    except KeyUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    runs = [r for r in audit.read(args.audit) if r.get("kind") == "run"] if args.audit else []
    if not args.audit:
        print("note: no --audit trail: runs are named by tag only and this trace is not recorded", file=sys.stderr)
    lay = layout(key)
    results, code = [], EXIT_FOUND
    for path in args.files:
        try:
            result = trace_file(path, key, runs, lay)
        except (ClipError, OSError) as exc:
            reason = getattr(exc, "code", type(exc).__name__)
            print(f"{path}: unreadable ({reason})", file=sys.stderr)
            code = EXIT_UNREADABLE
            continue
        results.append(result)
        if not result.found and code == EXIT_FOUND:
            code = EXIT_NOT_FOUND
        if args.json:
            entry = result.audit_entry() | {"file": path, "run_ids": [r["run_id"] for r in result.runs]}
            entry["run_time"] = result.runs[0].get("time") if len(result.runs) == 1 else None
            print(json.dumps(entry))
        else:
            print(_describe(path, result))
    if args.audit:
        tracer = args.tracer or getpass.getuser()
        audit.append(args.audit, audit.trace_record(tracer, [r.audit_entry() for r in results]))
    return code
