"""Subcommands of ``python -m pipeline``; each module exposes ``register(subparsers)``."""
