"""How many clips a compliance check needs, and what the clips it checked support.

In:  a claim — "fewer than ``max_leak_rate`` of this run's reviewer clips leak PII", at
     ``confidence`` — and either the run's reviewer strata (to size a sample) or the counts of
     clips checked and findings (to bound the leak rate).
Out: sample sizes and one-sided upper confidence bounds on the leak rate.
Fails: ``ValueError`` for a rate or confidence outside (0, 1) or counts that do not fit together.

Three calculations, from the textbook one to the one the sign-off uses:

- **Binomial / Clopper-Pearson** (an unlimited population, or sampling with replacement). With no
  finding in ``n`` clips the claim holds at confidence ``c`` when ``(1 - p)^n <= 1 - c``, so
  ``n = ceil(log(1 - c) / log(1 - p))``: 299 clips for 1 % at 95 %. With ``k`` findings the
  one-sided upper bound is ``beta.ppf(c, k + 1, n - k)`` (0.0157 for 1 in 300 at 95 %).
- **Hypergeometric** (a run of ``N`` reviewer clips, sampled without replacement: the finite
  population correction). A leak rate of at least ``p`` means at least ``D = ceil(p * N)`` leaking
  clips; the sample is big enough when ``hypergeom.pmf(0, N, D, n) <= 1 - c``. Never more clips
  than the binomial answer and never more than ``N`` (a run of 8 clips and a 1 % claim: check all
  8; 1,000 clips: 258).
- **Stratified, worst case** (what ``spotcheck`` draws: strata by locale and redaction, at least one
  clip per stratum, the rest in proportion). The leaking clips could sit anywhere, including in the
  strata sampled most thinly, so the chance of finding none is maximised over every way of placing
  ``D`` leaking clips across strata: ``max prod_h C(N_h - D_h, n_h) / C(N_h, n_h)``. Each stratum's
  log-factor is concave in ``D_h``, so placing the clips one at a time where they cost least finds
  the maximum. A uniformly random placement gives the hypergeometric value, so this is never
  smaller: the stratified sample is sized by starting at the hypergeometric ``n`` and growing it
  until the worst case is at most ``1 - c``. This is the test ``signoff`` applies.

A claim is supported only when no checked clip leaks (or is marked unsure): with any finding the
sign-off fails, and the bound is reported for information.

:func:`choose_sample` is the one place a spot-check sample is chosen — sized from a claim, or of a
fixed size with the claim it supports — so ``spotcheck`` and ``signoff`` always draw the same rows.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Hashable, Sequence
from fractions import Fraction
from typing import Any, NamedTuple

from pipeline.spotcheck.sampling import allocation, stratified_sample, stratum_sizes


class Claim(NamedTuple):
    """Fewer than ``max_leak_rate`` of the reviewer clips leak PII, at ``confidence``."""

    max_leak_rate: float
    confidence: float

    def check(self) -> Claim:
        _unit("max_leak_rate", self.max_leak_rate)
        _unit("confidence", self.confidence)
        return self

    @property
    def alpha(self) -> float:
        return 1.0 - self.confidence


def _unit(name: str, value: float) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0.0 < float(value) < 1.0:
        raise ValueError(f"{name} must be a number strictly between 0 and 1, got {value!r}")


def check_confidence(confidence: float) -> float:
    """``confidence`` if it is strictly between 0 and 1, else ``ValueError``."""
    _unit("confidence", confidence)
    return float(confidence)


def _counts(findings: int, checked: int, population: int | None = None) -> None:
    if not 0 <= findings <= checked:
        raise ValueError(f"need 0 <= findings <= checked, got {findings} of {checked}")
    if population is not None and checked > population:
        raise ValueError(f"checked {checked} clips of a population of {population}")


def min_leaking(max_leak_rate: float, population: int) -> int:
    """The fewest leaking clips that break the claim: ``ceil(p * N)``, in exact arithmetic
    (``0.07 * 100`` is 7.000000000000001 in floating point)."""
    return max(1, math.ceil(Fraction(repr(float(max_leak_rate))) * population))


def binomial_sample_size(max_leak_rate: float, confidence: float) -> int:
    """Clips to check, none leaking, for the claim over an unlimited population (299 for 1 %, 95 %)."""
    _unit("max_leak_rate", max_leak_rate)
    _unit("confidence", confidence)
    alpha, keep = 1.0 - confidence, 1.0 - max_leak_rate
    n = max(1, math.ceil(math.log(alpha) / math.log(keep)))
    while keep**n > alpha:  # floating-point guards at the boundary
        n += 1
    while n > 1 and keep ** (n - 1) <= alpha:
        n -= 1
    return n


def hypergeometric_sample_size(max_leak_rate: float, confidence: float, population: int) -> int:
    """Clips to check, none leaking, out of ``population`` clips drawn without replacement."""
    from scipy.stats import hypergeom

    _unit("max_leak_rate", max_leak_rate)
    _unit("confidence", confidence)
    if population <= 0:
        return 0
    leaking, alpha = min_leaking(max_leak_rate, population), 1.0 - confidence
    if leaking > population:
        return 0  # the claim cannot fail: even every clip leaking is below the rate
    low, high = 0, population  # pmf(0) is 0 at n = population, and falls as n grows
    while low < high:
        mid = (low + high) // 2
        if hypergeom.pmf(0, population, leaking, mid) <= alpha:
            high = mid
        else:
            low = mid + 1
    return low


def clopper_pearson_upper(findings: int, checked: int, confidence: float) -> float:
    """One-sided exact binomial (Clopper-Pearson) upper bound on the leak rate."""
    from scipy.stats import beta

    _unit("confidence", confidence)
    _counts(findings, checked)
    if findings == checked:
        return 1.0
    return float(beta.ppf(confidence, findings + 1, checked - findings))


def hypergeometric_upper(findings: int, checked: int, population: int, confidence: float) -> float:
    """One-sided exact upper bound on the leak rate ``D / N`` of a population of ``N`` clips:
    the largest ``D`` under which ``findings`` or fewer in ``checked`` is still likelier than
    ``1 - confidence``, divided by ``N``."""
    from scipy.stats import hypergeom

    _unit("confidence", confidence)
    _counts(findings, checked, population)
    if population == 0:
        return 0.0
    alpha = 1.0 - confidence
    low, high = findings, population - (checked - findings)  # D the observation allows
    while low < high:  # largest D with cdf > alpha; cdf falls as D grows
        mid = (low + high + 1) // 2
        if hypergeom.cdf(findings, population, mid, checked) > alpha:
            low = mid
        else:
            high = mid - 1
    return low / population


def _miss_log_factors(sizes: Sequence[int], checked: Sequence[int]):
    """Per stratum, a generator of the log-factor each further leaking clip placed there costs."""

    def costs(size: int, n: int):
        for placed in range(size):
            remaining = size - placed
            yield math.log((remaining - n) / remaining) if remaining > n else -math.inf

    return [costs(s, n) for s, n in zip(sizes, checked, strict=True)]


def _worst_case_log_miss(sizes: Sequence[int], checked: Sequence[int]):
    """Yields, for D = 1, 2, ..., the log of the largest chance that none of D leaking clips is
    among the checked ones (greedy placement, optimal because each stratum's cost is concave)."""
    for size, n in zip(sizes, checked, strict=True):
        if not 0 <= n <= size:
            raise ValueError(f"checked {n} clips of a stratum of {size}")
    streams = _miss_log_factors(sizes, checked)
    heap = []
    for index, stream in enumerate(streams):
        first = next(stream, None)
        if first is not None:
            heap.append((-first, index))
    heapq.heapify(heap)
    total = 0.0
    while heap:
        cost, index = heapq.heappop(heap)
        total -= cost
        yield total
        following = next(streams[index], None)
        if following is not None:
            heapq.heappush(heap, (-following, index))


def worst_case_miss(sizes: Sequence[int], checked: Sequence[int], leaking: int) -> float:
    """Largest chance, over every placement of ``leaking`` clips across strata of ``sizes``, that
    a stratified sample checking ``checked`` clips per stratum finds none of them."""
    if leaking <= 0:
        return 1.0
    if leaking > sum(sizes):
        return 0.0
    for d, log_miss in enumerate(_worst_case_log_miss(sizes, checked), start=1):
        if d == leaking:
            return math.exp(log_miss)
    raise AssertionError("unreachable: leaking <= population")


def stratified_upper_count(sizes: Sequence[int], checked: Sequence[int], confidence: float) -> int:
    """When no checked clip leaks: the largest number ``D`` of leaking clips whose worst case still
    misses all of them with a chance above ``1 - confidence``."""
    _unit("confidence", confidence)
    log_alpha = math.log(1.0 - confidence)
    largest = 0
    for d, log_miss in enumerate(_worst_case_log_miss(sizes, checked), start=1):
        if log_miss <= log_alpha:
            break
        largest = d
    return largest


def stratified_upper(sizes: Sequence[int], checked: Sequence[int], confidence: float) -> float:
    """Upper bound on the leak rate ``D / N`` when no checked clip leaks (0 for an empty run)."""
    population = sum(sizes)
    return stratified_upper_count(sizes, checked, confidence) / population if population else 0.0


def supported_rate(upper_count: int, population: int) -> float | None:
    """The tightest "fewer than" claim an upper bound of ``D_U`` leaking clips supports:
    ``(D_U + 1) / N`` (fewer than that rate means at most ``D_U`` clips); None when the bound is
    every clip (nothing checked: no claim is supported)."""
    if upper_count >= population:
        return None
    return (upper_count + 1) / population


class SampleSize(NamedTuple):
    """The stratified sample a claim needs, with the textbook sizes for comparison."""

    size: int  # what the stratified draw uses
    binomial: int  # unlimited population
    hypergeometric: int  # N clips, simple random sample
    population: int
    miss_probability: float  # worst case at ``size``: at most 1 - confidence


def sample_size_for_claim(keys: Sequence[Hashable], claim: Claim, seed: int) -> SampleSize:
    """Smallest stratified sample (as :func:`~pipeline.spotcheck.sampling.stratified_sample` draws
    it with ``seed``) whose worst-case chance of missing every leaking clip is at most ``1 - c``
    when ``ceil(p * N)`` clips leak."""
    claim.check()
    population = len(keys)
    binomial = binomial_sample_size(*claim)
    hyper = hypergeometric_sample_size(claim.max_leak_rate, claim.confidence, population)
    leaking = min_leaking(claim.max_leak_rate, population) if population else 0
    sizes = stratum_sizes(keys)
    n = hyper
    while True:
        miss = worst_case_miss(sizes, allocation(sizes, n, seed), leaking)
        if miss <= claim.alpha or n >= population:
            return SampleSize(n, binomial, hyper, population, miss)
        n += 1


def percent(rate: float) -> str:
    """``0.01`` -> ``"1 %"``, ``0.058`` -> ``"5.8 %"``, ``0.125`` -> ``"12.5 %"``."""
    return f"{rate * 100:.3g} %"


class SampleChoice(NamedTuple):
    """Which rows to show, and the claim they support if none of them leaks."""

    chosen: list[int]  # indices into the run index, in draw order
    mode: str  # claim (sized from --max-leak-rate) | fixed (--sample N)
    size: int  # the n given to the stratified draw
    claim: Claim | None  # None: a fixed sample that supports no claim
    view: dict[str, Any]


def choose_sample(
    keys: Sequence[Hashable], sample: int, seed: int, max_leak_rate: float | None, confidence: float
) -> SampleChoice:
    """The stratified sample of rows with stratum ``keys``: sized from the claim when
    ``max_leak_rate`` is given, else ``sample`` rows with the claim they support.

    ``spotcheck`` draws the page's sample with it and ``signoff`` draws it again to check a
    verdict file's sample."""
    population = len(keys)
    sizes = stratum_sizes(keys)
    if max_leak_rate is not None:
        claim = Claim(max_leak_rate, confidence).check()
        need = sample_size_for_claim(keys, claim, seed)
        mode, size = "claim", need.size
        upper = stratified_upper_count(sizes, allocation(sizes, size, seed), confidence)
        comparison = {"binomial": need.binomial, "hypergeometric": need.hypergeometric}
    else:
        check_confidence(confidence)
        mode, size = "fixed", sample
        upper = stratified_upper_count(sizes, allocation(sizes, size, seed), confidence)
        rate = supported_rate(upper, population)
        claim = Claim(rate, confidence) if rate is not None else None
        comparison = None
    chosen = stratified_sample(keys, size, seed)
    view = {
        "mode": mode,
        "confidence": confidence,
        "confidence_text": percent(confidence),
        "max_leak_rate": claim.max_leak_rate if claim else None,
        "rate_text": percent(claim.max_leak_rate) if claim else None,
        "population": population,
        "size": len(chosen),
        "upper_count": upper,
        "comparison": comparison,
        "statement": claim_statement(mode, claim, confidence, len(chosen), population, upper, comparison),
    }
    return SampleChoice(chosen, mode, size, claim, view)


def claim_statement(
    mode: str,
    claim: Claim | None,
    confidence: float,
    drawn: int,
    population: int,
    upper: int,
    comparison: dict | None,
) -> str:
    """One sentence: the claim, and what the sample needs or supports."""
    if claim is None:
        return (
            f"A sample of {drawn} of the {population} reviewer clips supports no claim about their leak rate "
            f"at {percent(confidence)} confidence: sample more clips."
        )
    rate, conf = percent(claim.max_leak_rate), percent(confidence)
    at_most = f"at most {upper} of the {population} clips"
    if mode == "claim":
        census = " (every clip: the run is too small to sample)" if drawn == population and population else ""
        textbook = (
            f"; a simple random sample would need {comparison['hypergeometric']}, an unlimited population "
            f"{comparison['binomial']}"
            if comparison
            else ""
        )
        return (
            f"Claim: fewer than {rate} of the {population} reviewer clips leak PII, at {conf} confidence. "
            f"It is supported if none of the {drawn} sampled clips{census} is found leaking "
            f"(stratified sample, sized for the worst case over strata{textbook})."
        )
    return (
        f"If none of these {drawn} sampled clips is found leaking, they support: fewer than {rate} of the "
        f"{population} reviewer clips leak PII ({at_most}), at {conf} confidence."
    )
