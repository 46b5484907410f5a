"""The launcher bounds its local SDK workers' native allocators unless the operator chose otherwise."""

import os

from pipeline import run


def test_when_nothing_is_set_then_local_workers_get_the_bounded_allocators(monkeypatch):
    for name in run.WORKER_ALLOCATOR_ENV:
        monkeypatch.delenv(name, raising=False)
    run.bound_worker_allocators()
    assert {name: os.environ[name] for name in run.WORKER_ALLOCATOR_ENV} == {
        "MALLOC_ARENA_MAX": "2",
        "ARROW_DEFAULT_MEMORY_POOL": "system",
    }


def test_when_the_operator_set_an_allocator_then_it_is_kept(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
    run.bound_worker_allocators()
    assert os.environ["MALLOC_ARENA_MAX"] == "8" and os.environ["ARROW_DEFAULT_MEMORY_POOL"] == "jemalloc"


def test_when_the_launcher_bounds_its_arenas_and_trims_its_heap_then_it_carries_on():
    """Both are glibc calls through ctypes; on another C library they do nothing."""
    run.bound_launcher_allocator()
    run.release_freed_memory()
    assert sum(range(1000)) == 499500  # the process still allocates
