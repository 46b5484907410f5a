"""The command line shared by the one-process baselines (``benchmarks.floor``, ``benchmarks.naive``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def baseline_main(run: Callable[[str, str], tuple[int, float]], doc: str, argv=None) -> int:
    """``--manifest M --output F``: run one baseline and print what it processed."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    count, seconds = run(args.manifest, args.output)
    print(f"clips={count} audio_s={seconds:.3f}")
    return 0
