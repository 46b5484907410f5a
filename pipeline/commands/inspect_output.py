"""``python -m pipeline inspect DIR``: a terminal summary of a run's outputs.

In:  the output directory of a run; ``--rows N`` rows to show (default 3).
Out: on stdout — schema, rows per reviewer shard, the first rows (audio shown as its size, never
     its bytes), quarantine and escalation counts. Exit 2 when there are no reviewer shards.

This module is ``pipeline.commands.inspect``; it does not shadow the standard library's
``inspect`` because every import in the project is absolute.
"""

from __future__ import annotations

import sys

NAME = "inspect"
HELP = "summarise a run's outputs in the terminal"
DESCRIPTION = (
    "Print a run's reviewer schema, rows per shard, a few rows (no audio bytes), and the "
    "quarantine and escalation counts."
)


def add_arguments(parser) -> None:
    parser.add_argument("output", metavar="DIR", help="output directory of a run")
    parser.add_argument("--rows", type=int, default=3, help="rows to show (default 3; 0 for none)")


def run(args, _extra) -> int:
    from pipeline.spotcheck.source import SpotCheckError
    from pipeline.spotcheck.summary import summarize

    try:
        print(summarize(args.output, rows=args.rows))
    except SpotCheckError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
