"""WORLD-vocoder methods (``pyworld``): ``world_pseudo`` and ``world_shift``.

- ``world_pseudo``: the ``pseudo_voice`` mapping with WORLD analysis/resynthesis, which can also map
  the F0 range (log-F0 mean and spread) frame by frame; far slower than ``pseudo_voice``.
- ``world_shift``: a fixed pitch shift + envelope warp (kept for comparison: fixed shifts barely
  hide a speaker).
"""

from __future__ import annotations

import numpy as np
import pyworld
from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass

from transforms.disguise import dsp
from transforms.disguise.pseudo_voice import (
    PseudoVoiceParams,
    draw_pseudo_voice,
    envelope_warp,
    reshape_log_envelope,
    shift_ratio,
)

_STRICT = ConfigDict(extra="forbid")


@dataclass(config=_STRICT, frozen=True)
class WorldPseudoParams(PseudoVoiceParams):
    """``pseudo_voice`` with WORLD analysis/resynthesis and F0-range mapping."""

    f0_method: str = Field("harvest", pattern="^(dio|harvest)$")
    frame_period_ms: float = Field(5.0, ge=1.0, le=20.0)
    target_f0_spread_semitones: float = Field(2.0, ge=0.0, le=6.0)


def world_pseudo(samples: np.ndarray, rate: int, params: WorldPseudoParams, rng: np.random.Generator) -> np.ndarray:
    """Move a voice onto a keyed pseudo-voice with WORLD: log-F0 mean and spread, envelope, tilt."""
    voice = draw_pseudo_voice(rng, params)
    x = np.ascontiguousarray(samples, dtype=np.float64)
    f0, times = _world_f0(x, rate, params)
    envelope = pyworld.cheaptrick(x, f0, times, rate)
    aperiodicity = pyworld.d4c(x, f0, times, rate)
    voiced = f0 > 0
    log_f0 = np.log(f0[voiced]) if voiced.any() else np.zeros(0)
    source = float(np.exp(np.median(log_f0))) if log_f0.size >= 3 else None
    ratio = shift_ratio(source, voice, params)
    if log_f0.size >= 3:
        spread = float(np.std(log_f0))
        target_spread = params.target_f0_spread_semitones * np.log(2.0) / 12.0
        scale = min(1.5, target_spread / spread) if spread > 1e-3 else 1.0
        centre = np.median(log_f0)
        f0 = np.where(voiced, np.exp(centre + np.log(ratio) + (np.log(np.maximum(f0, 1.0)) - centre) * scale), 0.0)
    log_env = 0.5 * np.log(envelope + dsp.EPS)
    target = reshape_log_envelope(log_env, voiced, rate, envelope_warp(ratio, voice, params), voice, params)
    envelope = np.ascontiguousarray(np.exp(2.0 * target))
    return pyworld.synthesize(np.ascontiguousarray(f0), envelope, aperiodicity, rate, params.frame_period_ms)


def _world_f0(x: np.ndarray, rate: int, params) -> tuple[np.ndarray, np.ndarray]:
    period = params.frame_period_ms
    floor, ceil = getattr(params, "f0_floor_hz", 60.0), getattr(params, "f0_ceil_hz", 600.0)
    if params.f0_method == "harvest":
        return pyworld.harvest(x, rate, f0_floor=floor, f0_ceil=ceil, frame_period=period)
    f0, times = pyworld.dio(x, rate, f0_floor=floor, f0_ceil=ceil, frame_period=period)
    return pyworld.stonemask(x, f0, times, rate), times


@dataclass(config=_STRICT, frozen=True)
class WorldShiftParams:
    """WORLD analysis → F0 shift + spectral-envelope frequency warp → resynthesis."""

    f0_shift_semitones: float = Field(4.0, ge=-12.0, le=12.0)
    envelope_warp: float = Field(1.12, ge=0.7, le=1.4)
    f0_method: str = Field("harvest", pattern="^(dio|harvest)$")
    frame_period_ms: float = Field(5.0, ge=1.0, le=20.0)
    f0_floor_hz: float = Field(60.0, ge=30.0, le=200.0)
    f0_ceil_hz: float = Field(600.0, ge=200.0, le=1200.0)


def world_shift(samples: np.ndarray, rate: int, params: WorldShiftParams, rng: np.random.Generator) -> np.ndarray:
    """Disguise a voice with WORLD: shifted F0, warped envelope, original aperiodicity."""
    del rng  # fixed parameters: nothing to draw
    x = np.ascontiguousarray(samples, dtype=np.float64)
    f0, times = _world_f0(x, rate, params)
    envelope = pyworld.cheaptrick(x, f0, times, rate)
    aperiodicity = pyworld.d4c(x, f0, times, rate)
    f0 = f0 * 2.0 ** (params.f0_shift_semitones / 12.0)
    envelope = dsp.warp_log_envelope(envelope, params.envelope_warp)
    return pyworld.synthesize(f0, envelope, aperiodicity, rate, params.frame_period_ms)
