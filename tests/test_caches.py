"""Loaders' results and Beam's shared objects are dropped when a run ends, not kept for the process's life."""

from __future__ import annotations

import gc
import weakref

from apache_beam.utils import shared

from transforms.core.caches import process_cache, release_process_caches


class _Model:
    """Stands for a loaded model: weak-referenceable, so the test can see it die."""


def test_when_caches_are_released_then_a_loaded_result_dies_and_the_next_call_loads_again():
    loads = []

    @process_cache(maxsize=2)
    def load(name: str) -> _Model:
        loads.append(name)
        return _Model()

    first = load("a")
    assert load("a") is first and loads == ["a"]
    alive = weakref.ref(first)
    del first

    assert release_process_caches() >= 1
    gc.collect()
    assert alive() is None
    load("a")
    assert loads == ["a", "a"]


def test_when_caches_are_released_then_beams_shared_keepalive_lets_the_engine_go():
    handle = shared.Shared()
    engine = handle.acquire(_Model)
    alive = weakref.ref(engine)
    del engine
    gc.collect()
    assert alive() is not None  # Beam keeps the last acquired object alive with no user left

    release_process_caches()
    gc.collect()
    assert alive() is None


def test_when_a_user_still_holds_the_result_then_releasing_does_not_take_it_away():
    @process_cache()
    def load() -> _Model:
        return _Model()

    held = load()
    release_process_caches()
    gc.collect()
    assert isinstance(held, _Model) and load() is not held
