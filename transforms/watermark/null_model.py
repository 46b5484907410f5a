"""The detector's null distribution and the false-alarm probability of a detection.

In:  sync scores measured on windows of audio that carry no mark under the key being tried
     (unmarked speech, and speech marked under other keys), as written by
     ``python -m pipeline evaluate-watermark`` into ``transforms/watermark/data/null_model.json``.
Out: :func:`false_alarm` — the probability that a file of ``windows`` analysis windows without
     this key's mark yields a CRC-valid payload whose sync score is at least ``score``.
Fails: ``ValueError`` for a null model file of the wrong shape.

Model: a window is a false alarm when the CRC-24 of one of its decoded payloads matches (probability
2^-24 per decode on a mark-free window, whatever the decoder read; the detector decodes each window
under ``DECODES_PER_WINDOW`` bin weightings) *and* that decode's sync score (from slots disjoint
from the CRC's) reaches ``score``; ``P_null`` is measured on the highest sync score of a window's
decodes, so it bounds each one's. The file's probability is bounded by the union over its windows
and decodes.
``P_null(sync ≥ score)`` is the measured survival function, never taken below ``3 / n`` (the
95 % upper bound when none of the ``n`` null windows reached the score), so no figure is claimed
beyond what the measurement supports.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache

import numpy as np

from transforms.watermark.code import CRC_BITS

DECODES_PER_WINDOW = 2  # weightings decoded per window (transforms.watermark.mark.DECODES_PER_WINDOW)

MAX_FALSE_ALARM = 1e-6
GRID = np.round(np.arange(-6.0, 12.0001, 0.05), 2)
DATA = os.path.join(os.path.dirname(__file__), "data", "null_model.json")


def summarise(scores: np.ndarray, crc_passes: int, sources: dict) -> dict:
    """The null model's JSON form: counts of null windows at or above each grid score."""
    scores = np.sort(np.asarray(scores, dtype=np.float64))
    at_or_above = len(scores) - np.searchsorted(scores, GRID, side="left")
    return {
        "windows": int(len(scores)),
        "crc_passes": int(crc_passes),
        "grid": GRID.tolist(),
        "at_or_above": at_or_above.astype(int).tolist(),
        "mean": float(scores.mean()),
        "std": float(scores.std()),
        "max": float(scores.max()),
        "sources": sources,
    }


@lru_cache(maxsize=4)
def load(path: str = DATA) -> dict:
    with open(path, encoding="utf-8") as handle:
        model = json.load(handle)
    if not {"windows", "grid", "at_or_above"} <= set(model) or len(model["grid"]) != len(model["at_or_above"]):
        raise ValueError("not a watermark null model file")
    return model


def sync_survival(score: float, model: dict) -> float:
    """Measured P_null(sync ≥ score), at least 3 / windows."""
    n = model["windows"]
    grid = np.asarray(model["grid"])
    i = int(np.searchsorted(grid, score, side="right")) - 1  # the grid point at or below score
    count = model["at_or_above"][i] if i >= 0 else n
    return max(count / n, 3.0 / n)


def false_alarm(score: float, windows: int, model: dict | None = None) -> float:
    """Probability that a mark-free file of ``windows`` windows gives a CRC-valid read this good."""
    model = model or load()
    return min(1.0, max(1, windows) * DECODES_PER_WINDOW * sync_survival(score, model) * 2.0**-CRC_BITS)
