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


def test_when_the_launcher_releases_the_jobs_memory_then_loaded_models_go_and_it_carries_on():
    """Before the check: the stages' loaders are emptied (a later call loads again); the arena
    bound and the trim are glibc calls through ctypes, which do nothing on another C library."""
    from transforms.redaction.wordlists import english_words

    words = english_words()
    assert english_words.cache_info().currsize == 1
    run.bound_launcher_allocator()
    run.release_freed_memory()
    assert english_words.cache_info().currsize == 0
    assert english_words() == words  # loaded again, the same list
