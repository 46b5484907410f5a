"""Sample sizes and leak-rate bounds for the sign-off claim: table-driven against known values,
brute force for the stratified worst case, properties for the rest."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import hypergeom

from pipeline.spotcheck import claims
from pipeline.spotcheck.sampling import allocation, stratified_sample, stratum_sizes


@pytest.mark.parametrize(
    "rate, confidence, expected",
    [
        (0.01, 0.95, 299),  # the example: log(0.05) / log(0.99) = 298.07
        (0.05, 0.95, 59),
        (0.01, 0.99, 459),
        (0.10, 0.90, 22),
        (0.001, 0.95, 2995),  # the "rule of three": about 3 / p
    ],
)
def test_when_no_finding_is_allowed_then_binomial_sample_size_is_the_textbook_value(rate, confidence, expected):
    assert claims.binomial_sample_size(rate, confidence) == expected
    assert (1 - rate) ** expected <= 1 - confidence < (1 - rate) ** (expected - 1)


@pytest.mark.parametrize(
    "population, expected",
    [
        (8, 8),  # 1 % of 8 clips is one clip: only a census rules it out
        (50, 48),  # ceil(0.95 * 50)
        (100, 95),
        (101, 79),  # two leaking clips now break the claim
        (1000, 258),  # the discovery-sampling table value
        (100_000, 298),
        (1_000_000, 299),
    ],
)
def test_when_the_run_is_finite_then_hypergeometric_sample_size_is_smaller(population, expected):
    n = claims.hypergeometric_sample_size(0.01, 0.95, population)
    assert n == expected
    leaking = claims.min_leaking(0.01, population)
    assert hypergeom.pmf(0, population, leaking, n) <= 0.05 < hypergeom.pmf(0, population, leaking, n - 1)


def test_when_rate_times_population_is_a_float_trap_then_leaking_count_is_exact():
    assert 0.07 * 100 != 7  # 7.000000000000001
    assert claims.min_leaking(0.07, 100) == 7
    assert claims.min_leaking(0.01, 300) == 3
    assert claims.min_leaking(0.01, 301) == 4
    assert claims.min_leaking(0.5, 1) == 1


@pytest.mark.parametrize(
    "findings, checked, confidence, expected",
    [
        (1, 300, 0.95, 0.015715),  # the example: Clopper-Pearson for 1 finding in 300
        (0, 299, 0.95, 0.009969),  # 1 - 0.05 ** (1 / 299): just under 1 %
        (0, 298, 0.95, 0.010003),  # one clip fewer: just over 1 %
        (0, 300, 0.95, 0.009936),
        (2, 100, 0.95, 0.061619),
        (10, 10, 0.95, 1.0),
    ],
)
def test_clopper_pearson_upper_bound_matches_known_values(findings, checked, confidence, expected):
    assert claims.clopper_pearson_upper(findings, checked, confidence) == pytest.approx(expected, abs=5e-6)


@pytest.mark.parametrize("findings, checked", [(1, 300), (2, 100), (5, 40), (0, 12)])
def test_clopper_pearson_upper_bound_is_where_the_binomial_tail_reaches_alpha(findings, checked):
    from scipy.stats import binom

    upper = claims.clopper_pearson_upper(findings, checked, 0.95)
    assert binom.cdf(findings, checked, upper) == pytest.approx(0.05, rel=1e-6)


def test_when_no_finding_then_clopper_pearson_is_the_closed_form():
    for n in (1, 7, 50, 299, 1000):
        assert claims.clopper_pearson_upper(0, n, 0.95) == pytest.approx(1 - 0.05 ** (1 / n), rel=1e-9)


@pytest.mark.parametrize(
    "findings, checked, population, expected_leaking",
    [
        (0, 258, 1000, 9),  # 258 clean clips of 1000 rule out 10 leaking ones (1 %), not 9
        (0, 257, 1000, 10),
        (0, 8, 8, 0),  # a census with no finding: no clip leaks
        (1, 8, 8, 1),
        (0, 0, 8, 8),  # nothing checked: anything is possible
    ],
)
def test_hypergeometric_upper_bound(findings, checked, population, expected_leaking):
    upper = claims.hypergeometric_upper(findings, checked, population, 0.95)
    assert upper == expected_leaking / population


def _brute_force_worst_miss(sizes, checked, leaking):
    best = 0.0
    for placement in itertools.product(*(range(s + 1) for s in sizes)):
        if sum(placement) != leaking:
            continue
        p = 1.0
        for size, n, d in zip(sizes, checked, placement, strict=True):
            p *= hypergeom.pmf(0, size, d, n)
        best = max(best, p)
    return best


@pytest.mark.parametrize(
    "sizes, checked",
    [([10], [3]), ([6, 4], [3, 1]), ([5, 5, 2], [2, 2, 1]), ([7, 1, 3], [1, 1, 2]), ([4, 4], [0, 2])],
)
def test_stratified_worst_case_equals_brute_force_over_every_placement(sizes, checked):
    for leaking in range(sum(sizes) + 1):
        expected = _brute_force_worst_miss(sizes, checked, leaking)
        assert claims.worst_case_miss(sizes, checked, leaking) == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_when_one_stratum_then_worst_case_is_the_hypergeometric_value():
    for leaking in (1, 5, 10):
        assert claims.worst_case_miss([1000], [258], leaking) == pytest.approx(hypergeom.pmf(0, 1000, leaking, 258))


def test_when_a_stratum_is_not_checked_then_its_clips_can_leak_unseen():
    assert claims.worst_case_miss([50, 5], [50, 0], 5) == 1.0
    assert claims.stratified_upper_count([50, 5], [50, 0], 0.95) == 5


@pytest.mark.parametrize(
    "keys, rate, confidence, expected",
    [
        ([("en-US", True)] * 1000, 0.01, 0.95, 258),  # one stratum: the hypergeometric value
        ([("en-US", i % 2 == 0) for i in range(8)], 0.01, 0.95, 8),  # tiny run: every clip
    ],
)
def test_sample_size_for_claim_known_values(keys, rate, confidence, expected):
    size = claims.sample_size_for_claim(keys, claims.Claim(rate, confidence), seed=3)
    assert size.size == expected
    assert size.binomial == claims.binomial_sample_size(rate, confidence)


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 60), min_size=1, max_size=5),
    rate=st.sampled_from([0.01, 0.02, 0.05, 0.1, 0.2]),
    confidence=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
    seed=st.integers(0, 1000),
)
def test_stratified_sample_size_is_the_smallest_that_supports_the_claim(sizes, rate, confidence, seed):
    keys = [stratum for stratum, size in enumerate(sizes) for _ in range(size)]
    claim = claims.Claim(rate, confidence)
    need = claims.sample_size_for_claim(keys, claim, seed)
    population = len(keys)
    assert need.hypergeometric <= need.size <= population
    assert need.hypergeometric <= need.binomial
    leaking = claims.min_leaking(rate, population)
    strata = stratum_sizes(keys)
    assert claims.worst_case_miss(strata, allocation(strata, need.size, seed), leaking) <= claim.alpha + 1e-12
    if need.size > need.hypergeometric:
        smaller = allocation(strata, need.size - 1, seed)
        assert claims.worst_case_miss(strata, smaller, leaking) > claim.alpha
    # The allocation the claim is sized on is the one the stratified draw makes.
    drawn = stratified_sample(keys, need.size, seed)
    assert [sum(1 for i in drawn if keys[i] == s) for s in sorted(set(keys))] == allocation(strata, need.size, seed)
    # With no finding in that sample, the bound is below the claimed rate.
    upper = claims.stratified_upper_count(strata, allocation(strata, need.size, seed), confidence)
    assert upper < leaking


def test_when_sample_is_fixed_then_the_supported_claim_is_just_above_the_bound():
    keys = [("en-US", i % 3 == 0) for i in range(1000)]
    choice = claims.choose_sample(keys, 50, 7, None, 0.95)
    assert choice.mode == "fixed" and len(choice.chosen) == 50
    upper = choice.view["upper_count"]
    assert choice.claim.max_leak_rate == (upper + 1) / 1000
    assert 0.05 < choice.claim.max_leak_rate < 0.07  # about 3 / 50
    assert "fewer than" in choice.view["statement"] and "50 sampled clips" in choice.view["statement"]
    assert claims.choose_sample(keys, 0, 7, None, 0.95).claim is None


@pytest.mark.parametrize("rate, confidence", [(0, 0.95), (1, 0.95), (0.01, 1.0), (-0.1, 0.9), (0.01, True)])
def test_when_rate_or_confidence_out_of_range_then_it_raises(rate, confidence):
    with pytest.raises(ValueError):
        claims.Claim(rate, confidence).check()


def test_percent_formatting():
    assert [claims.percent(x) for x in (0.01, 0.058, 0.125, 0.0, 1 / 3)] == ["1 %", "5.8 %", "12.5 %", "0 %", "33.3 %"]
    assert math.isclose(claims.Claim(0.01, 0.95).alpha, 0.05)
