"""Live counts for the launcher's progress line: every stage counter, mirrored to a small file.

In:  ``VOICEANON_PROGRESS_DIR`` in the environment (set by the launcher for local runs; the SDK
     worker processes and Dask workers it starts inherit it) and every increment of a stage
     counter (:class:`transforms.core.stage.StageCounters` calls :func:`note`).
Out: per worker process, ``<dir>/<host>-<pid>.json``: ``{"stage/name": running total, ...}``,
     rewritten atomically at most every ``VOICEANON_PROGRESS_FLUSH_S`` seconds (default 0.5; 0 =
     on every increment) while the counts change. Counter names and counts only: never a clip id
     or any value of a clip.
Fails: never the job. Without the variable :func:`note` does nothing; a folder that is missing
     or cannot be written (a worker on another machine) turns the mirror off in that process.

Why beside Beam's metrics, which stay the record (the run report reads them at the end): the
FnApiRunner hands a bundle's metrics to the launcher only when the bundle ends, and after the
manifest's reshuffle one bundle per worker holds all of its clips, so Beam's own counts arrive
once, at the end.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections import defaultdict

ENV_DIR = "VOICEANON_PROGRESS_DIR"
ENV_FLUSH = "VOICEANON_PROGRESS_FLUSH_S"
DEFAULT_FLUSH_S = 0.5
SUFFIX = ".json"

LOG = logging.getLogger(__name__)


class _Tally:
    """One process's running totals and the file they are flushed to."""

    def __init__(self, folder: str, flush_s: float):
        self.folder = folder
        self.pid = os.getpid()
        self.path = os.path.join(folder, f"{socket.gethostname()}-{self.pid}{SUFFIX}")
        self._flush_s = flush_s
        self._counts: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._dirty = False
        self._broken = False
        self._thread: threading.Thread | None = None

    def add(self, key: str, value: int) -> None:
        with self._lock:
            self._counts[key] += value
            self._dirty = True
        if self._flush_s <= 0:
            self.flush()
        elif self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="voiceanon-progress", daemon=True)
                    self._thread.start()

    def _loop(self) -> None:
        # Ends when the launcher's run is over in this process (in-memory runs: the variable is
        # restored) or the folder is gone; SDK worker processes simply end.
        while not self._broken and os.environ.get(ENV_DIR) == self.folder:
            time.sleep(self._flush_s)
            self.flush()

    def flush(self) -> None:
        if self._broken:
            return
        with self._write_lock:
            with self._lock:
                if not self._dirty:
                    return
                payload = json.dumps(self._counts, sort_keys=True)
                self._dirty = False
            temporary = f"{self.path}.{threading.get_ident()}.tmp"
            try:
                with open(temporary, "w", encoding="utf-8") as handle:
                    handle.write(payload)
                os.replace(temporary, self.path)  # a reader sees the old totals or the new, never half
            except OSError as exc:
                self._broken = True  # the launcher's folder is not here (another machine): no live counts
                LOG.debug("progress counts not written (%s); live progress off in this process", type(exc).__name__)


_TALLY: _Tally | None = None
_TALLY_LOCK = threading.Lock()


def _tally() -> _Tally | None:
    global _TALLY
    folder = os.environ.get(ENV_DIR)
    if not folder:
        return None
    tally = _TALLY
    if tally is None or tally.folder != folder or tally.pid != os.getpid():  # a new run, or a forked child
        with _TALLY_LOCK:
            tally = _TALLY
            if tally is None or tally.folder != folder or tally.pid != os.getpid():
                try:
                    flush_s = float(os.environ.get(ENV_FLUSH, DEFAULT_FLUSH_S))
                except ValueError:
                    flush_s = DEFAULT_FLUSH_S
                tally = _TALLY = _Tally(folder, flush_s)
    return tally


def note(key: str, value: int = 1) -> None:
    """Add ``value`` to counter ``key`` (``"stage/name"``) in this process's live tally, if the
    launcher asked for one."""
    tally = _tally()
    if tally is not None:
        tally.add(key, value)


def flush() -> None:
    """Write this process's totals now (the launcher's own process, in-memory runs, at the end)."""
    tally = _TALLY
    if tally is not None and tally.pid == os.getpid():
        tally.flush()


def read_totals(folder: str) -> tuple[dict[str, int], int]:
    """The sum over every worker's file in ``folder``, and how many files (worker processes) there
    were. A file being replaced at that moment is read in its old or new state."""
    totals: dict[str, int] = defaultdict(int)
    workers = 0
    try:
        names = [name for name in os.listdir(folder) if name.endswith(SUFFIX)]
    except OSError:
        return {}, 0
    for name in names:
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                counts = json.load(handle)
        except (OSError, ValueError):
            continue
        workers += 1
        for key, value in counts.items():
            totals[key] += int(value)
    return dict(totals), workers
