"""``mcadams``: LPC pole-angle shifting (McAdams coefficient) with a keyed coefficient."""

from __future__ import annotations

import numpy as np
from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass

from transforms.disguise import dsp

_STRICT = ConfigDict(extra="forbid")


@dataclass(config=_STRICT, frozen=True)
class McAdamsParams:
    """LPC pole shifting; the coefficient is drawn per speaker in [coefficient_min, coefficient_max]."""

    coefficient_min: float = Field(0.75, ge=0.5, le=1.0)
    coefficient_max: float = Field(0.9, ge=0.5, le=1.0)
    lpc_order: int = Field(20, ge=8, le=40)


def mcadams(samples: np.ndarray, rate: int, params: McAdamsParams, rng: np.random.Generator) -> np.ndarray:
    """McAdams anonymisation with a keyed coefficient."""
    lo, hi = sorted((params.coefficient_min, params.coefficient_max))
    return dsp.mcadams(samples, rate, float(rng.uniform(lo, hi)), params.lpc_order)
