"""Entry of a local SDK worker process (``--direct_running_mode=multi_processing``): Beam's own.

In:  what Beam's ``sdk_worker_main`` reads (the control, logging and options descriptors in the
     environment the FnApiRunner sets).
Out: the same SDK harness. Its log records still go to the launcher over the Fn API (into
     ``logs/launcher.log``; warnings on the console, as the launcher's own); what this module
     changes is that they are not also written to the worker's stderr — the launcher's console —
     unfiltered: a ``logging.warning`` at Beam's import would otherwise set up a stderr handler at
     INFO in every worker, and its lines would run through the progress line.
Fails: as Beam's worker does; an uncaught exception still prints its traceback on stderr.
"""

from __future__ import annotations

import logging
import sys

# Known and harmless on every local worker start (no staging folder for pickled registries is
# needed: the workers share the launcher's installation).
_NOISE = ("No semi_persistent_directory found",)


class _DropNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_NOISE)


def main(argv: list[str]) -> None:
    # A root handler before Beam is imported: logging's module-level functions then do not add
    # their own stderr handler (logging.basicConfig), and records reach only Beam's Fn API handler.
    logging.getLogger().addHandler(logging.NullHandler())
    from apache_beam.runners.worker import sdk_worker_main

    logging.getLogger(sdk_worker_main.__name__).addFilter(_DropNoise())
    sdk_worker_main.main(argv)


if __name__ == "__main__":
    main(sys.argv)
