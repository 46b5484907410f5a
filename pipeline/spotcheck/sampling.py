"""Stratified random sampling of reviewer rows for the spot-check.

In:  one stratum key per row (for the spot-check: ``(locale, has_entities)``), a sample size
     and a seed.
Out: the indices of the sampled rows, grouped by stratum (strata in sorted order), reproducible
     for the same keys, size and seed.
Fails: ``ValueError`` for a negative sample size.

Allocation: every stratum gets one row before any stratum gets a second, so rare strata (a
locale with three clips, the few clips where nothing was redacted) are always looked at; the
rest is split in proportion to stratum size by the largest-remainder method. When the sample is
smaller than the number of strata, which strata get their one row is itself drawn at random.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence

import numpy as np


def allocate(sizes: Sequence[int], n: int, rng: np.random.Generator) -> list[int]:
    """How many rows to draw from each stratum: sums to ``min(n, sum(sizes))``, never above a size."""
    if n < 0:
        raise ValueError(f"sample size must be >= 0, got {n}")
    sizes = [int(s) for s in sizes]
    total = sum(sizes)
    if n >= total:
        return list(sizes)
    nonempty = [i for i, s in enumerate(sizes) if s > 0]
    counts = [0] * len(sizes)
    if n <= len(nonempty):
        for i in rng.choice(nonempty, size=n, replace=False):
            counts[int(i)] = 1
        return counts
    for i in nonempty:
        counts[i] = 1
    rest = n - len(nonempty)
    spare = [sizes[i] - 1 for i in range(len(sizes))]
    spare_total = sum(max(s, 0) for s in spare)
    quotas = [rest * max(s, 0) / spare_total for s in spare]
    floors = [int(q) for q in quotas]
    for i, f in enumerate(floors):
        counts[i] += f
    leftover = rest - sum(floors)
    # Largest fractional part first; ties broken at random so no stratum is favoured by its name.
    tiebreak = rng.random(len(sizes))
    order = sorted(range(len(sizes)), key=lambda i: (-(quotas[i] - floors[i]), tiebreak[i]))
    for i in order[:leftover]:
        counts[i] += 1
    return counts


def _strata(keys: Sequence[Hashable]) -> tuple[list[Hashable], dict[Hashable, list[int]]]:
    """The strata in draw order and the row indices of each."""
    members: dict[Hashable, list[int]] = defaultdict(list)
    for index, key in enumerate(keys):
        members[key].append(index)
    return sorted(members, key=repr), members


def stratum_sizes(keys: Sequence[Hashable]) -> list[int]:
    """Rows per stratum, in draw order."""
    strata, members = _strata(keys)
    return [len(members[s]) for s in strata]


def allocation(sizes: Sequence[int], n: int, seed: int) -> list[int]:
    """Rows per stratum exactly as :func:`stratified_sample` allocates ``n`` rows with ``seed``
    (allocating is the first use of its seeded generator)."""
    return allocate(sizes, n, np.random.default_rng(seed))


def stratum_tally(keys: Sequence[Hashable], indices: Sequence[int]) -> list[tuple[int, int]]:
    """``(stratum size, how many of indices fall in it)`` per stratum, in draw order."""
    strata, members = _strata(keys)
    picked: dict[Hashable, int] = defaultdict(int)
    for index in set(indices):
        picked[keys[index]] += 1
    return [(len(members[s]), picked[s]) for s in strata]


def stratified_sample(keys: Sequence[Hashable], n: int, seed: int) -> list[int]:
    """Indices into ``keys`` of a stratified random sample of ``n`` rows (all rows if fewer)."""
    rng = np.random.default_rng(seed)
    strata, members = _strata(keys)
    counts = allocate([len(members[s]) for s in strata], n, rng)  # first use of rng: see allocation()
    chosen: list[int] = []
    for stratum, k in zip(strata, counts, strict=True):
        picked = rng.choice(len(members[stratum]), size=k, replace=False) if k else []
        chosen += sorted(members[stratum][int(j)] for j in picked)
    return chosen
