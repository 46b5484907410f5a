"""What a worker process loads once and keeps: models, word lists, lexicons, the voice bank.

``@process_cache(maxsize=N)`` is ``functools.lru_cache`` for a loader whose result is worth keeping
for the process's life (a spaCy model, a 31,000-city list), and registers it, so that
:func:`release_process_caches` can drop every such result when a run ends. That matters where the
process outlives the run: a standing Dask cluster's workers run the leak check (and the operator's
next jobs) right after the job, and a launcher running the job in-process runs the check after it.
Measured on a 2-worker Dask cluster after a 10,000-clip job: the workers held 439-444 MiB, 330-338
MiB once these results and Beam's shared engines were dropped (``docs/SCALE_OUT.md``, seventh round).

Beam's ``apache_beam.utils.shared`` keeps the last object any ``Shared`` handle acquired alive in the
process (its "keepalive"), so the redaction engines (three spaCy models, Presidio's registry) stay
after every DoFn that used them is torn down; :func:`release_process_caches` replaces that keepalive
with an empty object through ``Shared``'s own ``acquire``.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)

_REGISTERED: list = []
_LOCK = threading.Lock()


def process_cache(maxsize: int = 1) -> Callable[[F], F]:
    """``functools.lru_cache(maxsize)``, registered for :func:`release_process_caches`."""

    def decorate(fn: F) -> F:
        cached = functools.lru_cache(maxsize=maxsize)(fn)
        with _LOCK:
            _REGISTERED.append(cached)
        return cached  # type: ignore[return-value]

    return decorate


class _Released:
    """What Beam's shared keepalive holds once the run's objects are released (weak-referenceable)."""


def release_process_caches() -> int:
    """Drop every :func:`process_cache` result and Beam's shared keepalive; returns how many cached
    results were dropped. Objects a live DoFn still references stay alive through it (and a loader
    called afterwards loads again): call this when the run's DoFns are torn down."""
    from apache_beam.utils import shared

    with _LOCK:
        caches = list(_REGISTERED)
    dropped = 0
    for cached in caches:
        dropped += cached.cache_info().currsize
        cached.cache_clear()
    shared.Shared().acquire(_Released)
    return dropped
