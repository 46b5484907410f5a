"""Voice disguise stage: ``DisguiseVoice``.

In:  clips with decoded mono float32 ``samples``.
Out: the same clips with disguised ``samples`` (same length, no clipping, no NaN).
Fails: a DSP error quarantines the clip (stage ``voice``); a clip is never passed on undisguised.

The method is a plug-in: ``METHODS`` maps a config name to a parameter dataclass and a plain
function ``fn(samples, rate, params, rng) -> samples``. ``rng`` is a NumPy generator seeded from a
key derived from the job secret and the speaker pseudonym, so a plug-in that draws random
parameters sounds consistent per speaker yet cannot be reproduced without the key.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any, NamedTuple

import apache_beam as beam
import numpy as np
import pyworld
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from pipeline.records import Clip
from transforms.stage import ClipStageFn, StageOutputs, apply_stage

_STRICT = ConfigDict(extra="forbid")
PEAK_DBFS = -1.0


@dataclass(config=_STRICT, frozen=True)
class VoiceConfig:
    """Voice disguise: ``method`` names a plug-in in ``transforms.voice.METHODS``;
    ``params`` are that plug-in's parameters, validated by the plug-in's own dataclass."""

    method: str = "world_shift"
    params: dict[str, Any] = Field(default_factory=dict)


@dataclass(config=_STRICT, frozen=True)
class WorldShiftParams:
    """WORLD analysis → F0 shift + spectral-envelope frequency warp → resynthesis."""

    f0_shift_semitones: float = Field(4.0, ge=-12.0, le=12.0)
    envelope_warp: float = Field(1.12, ge=0.7, le=1.4)
    f0_method: str = Field("harvest", pattern="^(dio|harvest)$")
    frame_period_ms: float = Field(5.0, ge=1.0, le=20.0)
    f0_floor_hz: float = Field(60.0, ge=30.0, le=200.0)
    f0_ceil_hz: float = Field(600.0, ge=200.0, le=1200.0)


def warp_envelope(envelope: np.ndarray, alpha: float) -> np.ndarray:
    """Stretch a (frames × bins) spectral envelope along frequency by ``alpha``.

    ``alpha > 1`` moves formants up (shorter vocal tract), ``alpha < 1`` down. Bins that would
    read above Nyquist hold the last bin's value.
    """
    bins = envelope.shape[1]
    source = np.arange(bins) / alpha
    index = np.clip(source, 0, bins - 1)
    low = np.floor(index).astype(int)
    high = np.minimum(low + 1, bins - 1)
    frac = index - low
    return np.ascontiguousarray(envelope[:, low] * (1.0 - frac) + envelope[:, high] * frac)


def world_shift(samples: np.ndarray, rate: int, params: WorldShiftParams, rng: np.random.Generator) -> np.ndarray:
    """Disguise a voice with WORLD: shifted F0, warped envelope, original aperiodicity."""
    del rng  # fixed parameters: nothing to draw
    x = np.ascontiguousarray(samples, dtype=np.float64)
    period = params.frame_period_ms
    if params.f0_method == "harvest":
        f0, times = pyworld.harvest(
            x, rate, f0_floor=params.f0_floor_hz, f0_ceil=params.f0_ceil_hz, frame_period=period
        )
    else:
        f0, times = pyworld.dio(x, rate, f0_floor=params.f0_floor_hz, f0_ceil=params.f0_ceil_hz, frame_period=period)
        f0 = pyworld.stonemask(x, f0, times, rate)
    envelope = pyworld.cheaptrick(x, f0, times, rate)
    aperiodicity = pyworld.d4c(x, f0, times, rate)
    f0 = f0 * 2.0 ** (params.f0_shift_semitones / 12.0)
    envelope = warp_envelope(envelope, params.envelope_warp)
    y = pyworld.synthesize(f0, envelope, aperiodicity, rate, period)
    return y


class VoiceMethod(NamedTuple):
    """A voice-disguise plug-in."""

    params_type: type
    fn: Callable[[np.ndarray, int, Any, np.random.Generator], np.ndarray]


METHODS: dict[str, VoiceMethod] = {
    "world_shift": VoiceMethod(WorldShiftParams, world_shift),
}

# WORLD needs a few analysis frames; shorter clips are padded with silence and trimmed back.
MIN_ANALYSIS_S = 0.25


def build_params(method: str, params: dict[str, Any]):
    """Validated parameter object for ``method``; raises ValueError with a clear message."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; available: {sorted(METHODS)}")
    try:
        return TypeAdapter(METHODS[method].params_type).validate_python(dict(params))
    except ValidationError as exc:
        problems = "; ".join(f"params.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(problems) from None


def validate_voice_config(voice_config) -> None:
    """Config-time check (called by ``pipeline.config``)."""
    build_params(voice_config.method, voice_config.params)


def fit_and_normalise(y: np.ndarray, length: int, peak_dbfs: float = PEAK_DBFS) -> np.ndarray:
    """Same length as the input, finite, peak-normalised below full scale (silence stays silent)."""
    y = np.nan_to_num(np.asarray(y, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    if len(y) < length:
        y = np.pad(y, (0, length - len(y)))
    y = y[:length]
    peak = float(np.max(np.abs(y))) if length else 0.0
    if peak > 1e-6:
        y = y * (10.0 ** (peak_dbfs / 20.0) / peak)
    return y.astype(np.float32)


def disguise(samples: np.ndarray, rate: int, method: str, params, rng: np.random.Generator) -> np.ndarray:
    """Run a plug-in on one clip with the guarantees every method gets (length, range, NaN)."""
    length = len(samples)
    if length == 0:
        return samples.astype(np.float32)
    minimum = int(MIN_ANALYSIS_S * rate)
    x = np.pad(samples, (0, minimum - length)) if length < minimum else samples
    if float(np.max(np.abs(x))) < 1e-5:  # digital silence: nothing to disguise
        return np.zeros(length, np.float32)
    y = METHODS[method].fn(x, rate, params, rng)
    return fit_and_normalise(y, length)


def speaker_rng(key: bytes, speaker: str) -> np.random.Generator:
    """A generator seeded by HMAC(key, speaker): per-speaker draws nobody can repeat without the key."""
    seed = hmac.new(key, speaker.encode(), hashlib.sha256).digest()
    return np.random.default_rng(np.frombuffer(seed, dtype=np.uint64))


class _DisguiseVoiceFn(ClipStageFn):
    stage = "voice"

    def __init__(self, voice_config, key_source):
        super().__init__()
        self._method = voice_config.method
        self._params_dict = dict(voice_config.params)
        self._key_source = key_source

    def setup(self):
        from pipeline.keys import derive_key

        self._params = build_params(self._method, self._params_dict)
        self._key = derive_key(self._key_source.load(), "voice")

    def handle(self, clip: Clip) -> Clip:
        rng = speaker_rng(self._key, clip.account_id)
        return clip._replace(samples=disguise(clip.samples, clip.sample_rate, self._method, self._params, rng))


class DisguiseVoice(beam.PTransform):
    """Disguise every clip's voice with the configured plug-in."""

    def __init__(self, voice_config, key_source):
        super().__init__()
        self._fn = _DisguiseVoiceFn(voice_config, key_source)

    def expand(self, clips) -> StageOutputs:
        return apply_stage(clips, "Disguise", self._fn)


__all__ = ["DisguiseVoice", "METHODS", "VoiceMethod", "build_params", "disguise", "world_shift", "warp_envelope"]
