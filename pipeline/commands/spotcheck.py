"""``python -m pipeline spotcheck``: write the compliance spot-check report of a finished run.

In:  ``--output DIR`` (the run's output directory), ``--report FILE``, ``--seed N``, and either
     ``--max-leak-rate P`` (the sample is sized for the claim "fewer than P of the reviewer clips
     leak PII" at ``--confidence``) or ``--sample N`` (the page states the claim N clips support).
Out: one self-contained HTML file at ``--report``; a short summary on stdout. Exit 0 when the
     report was written and every check passed or was not recorded, 1 when it was written but a
     check failed (e.g. the leak verification), 2 when no report could be written.
"""

from __future__ import annotations

import os
import sys

NAME = "spotcheck"
HELP = "write an HTML spot-check of a sample of a run's reviewer output"
DESCRIPTION = (
    "Draw a random sample of reviewer clips (stratified by locale and by whether entities were "
    "redacted) and write one self-contained HTML report: audio players, highlighted redacted transcripts, "
    "muted intervals, spectrogram + pitch plots, the run's counts and checks, and one-click verdicts per clip "
    "that export a verdict file for `signoff`. With --max-leak-rate the sample is sized for that claim "
    "(exact, finite population, worst case over strata). Reads reviewer-side outputs only."
)


def add_arguments(parser) -> None:
    parser.add_argument("--output", required=True, metavar="DIR", help="output directory of the run to check")
    parser.add_argument("--report", required=True, metavar="FILE", help="HTML file to write")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--sample", type=_non_negative, default=50, help="clips to sample (default 50)")
    size.add_argument(
        "--max-leak-rate",
        type=_rate,
        default=None,
        metavar="P",
        help="size the sample for the claim 'fewer than P of the reviewer clips leak PII' (e.g. 0.01)",
    )
    parser.add_argument("--confidence", type=_rate, default=0.95, help="confidence of the claim (default 0.95)")
    parser.add_argument(
        "--seed", type=int, default=None, help="seed for the draw (default: random, shown in the report)"
    )


def _non_negative(text: str) -> int:
    import argparse

    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def _rate(text: str) -> float:
    import argparse

    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError("must be strictly between 0 and 1")
    return value


def run(args, _extra) -> int:
    from pipeline.spotcheck.source import SpotCheckError

    try:
        import jinja2  # noqa: F401
        import matplotlib  # noqa: F401
    except ImportError as exc:
        print(f"error: spotcheck needs {exc.name}: pip install 'voiceanon[spotcheck]'", file=sys.stderr)
        return 2
    from pipeline.spotcheck.build import spot_check

    try:
        result = spot_check(
            args.output,
            sample=args.sample,
            seed=args.seed,
            max_leak_rate=args.max_leak_rate,
            confidence=args.confidence,
        )
    except SpotCheckError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    directory = os.path.dirname(os.path.abspath(args.report))
    os.makedirs(directory, exist_ok=True)
    partial = args.report + ".partial"
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write(result.html)
    os.replace(partial, args.report)  # never leave a half-written report under the real name
    print(f"spot-check: {result.sampled} of {result.reviewer_rows} reviewer clips, seed {result.seed}")
    print(f"  {result.claim}")
    for check in result.checks:
        print(f"  {check.status:<13}{check.name}" + (f"  ({check.detail})" if check.detail else ""))
    print(f"report: {args.report} ({len(result.html) / 1e6:.1f} MB)")
    return 1 if any(c.status == "fail" for c in result.checks) else 0
