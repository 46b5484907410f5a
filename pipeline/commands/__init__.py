"""Subcommands of ``python -m pipeline``, one module each.

A command module declares ``NAME``, ``HELP``, ``DESCRIPTION``, ``add_arguments(parser)`` and
``run(args, extra) -> int`` (the exit code); ``ACCEPTS_EXTRA = True`` lets unknown flags through
(the job passes them to Beam). ``pipeline.cli`` builds the parser from these; adding a command
never edits it. Flags several commands share are defined here once.
"""

from __future__ import annotations


def add_config_flag(parser, purpose: str = "job config YAML") -> None:
    """``--config``: the job config (default ``configs/default.yaml``)."""
    parser.add_argument("--config", default=None, help=f"{purpose} (default: configs/default.yaml)")


def job_config(args):
    """The job config named by ``--config`` (validated; raises ConfigError)."""
    from pipeline.config import DEFAULT_CONFIG_PATH, load_config

    return load_config(args.config or DEFAULT_CONFIG_PATH)
