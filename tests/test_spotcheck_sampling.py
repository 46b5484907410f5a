"""Stratified sampling and transcript markup: pure functions, table-driven and property-based."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.spotcheck.markup import mark_transcript
from pipeline.spotcheck.sampling import allocate, stratified_sample


@pytest.mark.parametrize(
    "sizes, n, expected",
    [
        ([10, 10], 0, [0, 0]),
        ([3, 2], 5, [3, 2]),
        ([3, 2], 50, [3, 2]),
        ([90, 9, 1], 10, [7, 2, 1]),  # 1 each; 7 more split 89:8:0 = 6.42 / 0.58 / 0 -> 6 + 1 by remainder
        ([50, 50], 4, [2, 2]),
        ([0, 5, 5], 4, [0, 2, 2]),
    ],
)
def test_when_sizes_and_n_given_then_allocation_is_as_expected(sizes, n, expected):
    assert allocate(sizes, n, np.random.default_rng(0)) == expected


def test_when_n_is_below_the_number_of_strata_then_each_chosen_stratum_gets_one():
    counts = allocate([5, 5, 5, 5, 5], 3, np.random.default_rng(1))
    assert sorted(counts) == [0, 0, 1, 1, 1]


def test_when_n_is_negative_then_it_raises():
    with pytest.raises(ValueError):
        allocate([3], -1, np.random.default_rng(0))


@settings(max_examples=200, deadline=None)
@given(sizes=st.lists(st.integers(0, 40), min_size=1, max_size=8), n=st.integers(0, 120), seed=st.integers(0, 2**31))
def test_allocation_properties(sizes, n, seed):
    counts = allocate(sizes, n, np.random.default_rng(seed))
    assert sum(counts) == min(n, sum(sizes))
    assert all(0 <= c <= s for c, s in zip(counts, sizes, strict=True))
    nonempty = [i for i, s in enumerate(sizes) if s]
    if n >= len(nonempty):
        assert all(counts[i] >= 1 for i in nonempty), "a non-empty stratum was left out"


@settings(max_examples=100, deadline=None)
@given(keys=st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=60), n=st.integers(0, 70), seed=st.integers(0, 99))
def test_sample_indices_are_distinct_reproducible_and_cover_strata(keys, n, seed):
    chosen = stratified_sample(keys, n, seed)
    assert len(chosen) == len(set(chosen)) == min(n, len(keys))
    assert all(0 <= i < len(keys) for i in chosen)
    assert chosen == stratified_sample(keys, n, seed)
    if n >= len(set(keys)):
        assert {keys[i] for i in chosen} == set(keys)


def test_different_seeds_draw_different_rows():
    keys = [("en-US", i % 3 == 0) for i in range(300)]
    assert stratified_sample(keys, 20, 1) != stratified_sample(keys, 20, 2)
    assert Counter(keys[i] for i in stratified_sample(keys, 30, 1)) == {("en-US", False): 20, ("en-US", True): 10}


@pytest.mark.parametrize(
    "text, entities, marks, problem",
    [
        ("call <PERSON> now", [{"type": "PERSON", "start": 5, "end": 13}], ["PERSON"], None),
        ("no pii here", [], [], None),
        ("a <B> & <C>", [{"type": "B", "start": 2, "end": 5}, {"type": "C", "start": 8, "end": 11}], ["B", "C"], None),
        ("call <PERSON>", [{"type": "PERSON", "start": 5, "end": 40}], ["PERSON"], "outside the transcript"),
        ("call <PERSON>", [{"type": "PERSON", "start": 0, "end": 4}], ["PERSON", "PERSON"], "does not cover"),
        ("call <PERSON>", [], ["PERSON"], "has no entity record"),
        (
            "x <A><B>",
            [{"type": "A", "start": 2, "end": 5}, {"type": "B", "start": 3, "end": 8}],
            ["A", "B"],  # B's record is rejected; its tag is then shown as untracked
            "overlaps",
        ),
    ],
)
def test_when_transcript_marked_then_spans_highlighted_and_problems_named(text, entities, marks, problem):
    html, problems = mark_transcript(text, entities)
    assert [m.split('data-type="')[1].split('"')[0] for m in html.split("<mark")[1:]] == marks
    assert "<PERSON>" not in html and "<A>" not in html, "tags must be escaped"
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems)
        assert all(text not in p for p in problems), "a problem never quotes the transcript"


def test_markup_escapes_html_in_the_transcript():
    html, _ = mark_transcript('<script>alert("x")</script> & <PERSON>', [{"type": "PERSON", "start": 32, "end": 40}])
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
