"""One CLI, ``python -m pipeline <command>``.

Each subcommand is a module in ``pipeline/commands/`` declaring its name, help, arguments and
``run`` (see :mod:`pipeline.commands`). Adding a command never edits this file.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys

import pipeline
from pipeline import commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voiceanon" if os.path.basename(sys.argv[0]) == "voiceanon" else "python -m pipeline",
        description="Privacy-preserving voice-clip anonymization: raw clips in, reviewer-safe Parquet out.",
    )
    parser.add_argument("--version", action="version", version=pipeline.__version__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.DESCRIPTION)
        module.add_arguments(command)
        command.set_defaults(func=module.run, accepts_extra=getattr(module, "ACCEPTS_EXTRA", False))
    return parser


OWN_LOGGERS = ("pipeline", "transforms", "benchmarks")


class _ConsoleFilter(logging.Filter):
    """The console shows the project's own progress (INFO) and everyone's warnings; Beam's and
    Presidio's INFO chatter goes only to the run's log file (``logs/launcher.log``)."""

    # Beam warns at import, on every command, that its optional GCP client is absent (it is not
    # needed for local or Dataflow runs): noise on a console, kept in the run's log file.
    KNOWN_NOISE = ("apitools not found",)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "root" and str(record.msg).startswith(self.KNOWN_NOISE):
            return False
        return record.levelno >= logging.WARNING or record.name.split(".")[0] in OWN_LOGGERS


def configure_logging() -> None:
    console = logging.StreamHandler()
    console.addFilter(_ConsoleFilter())
    console.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.addHandler(console)


def main(argv: list[str] | None = None) -> int:
    configure_logging()
    parser = build_parser()
    args, extra = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    if extra and not getattr(args, "accepts_extra", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return int(args.func(args, extra) or 0)
