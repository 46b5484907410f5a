"""The voice-disguise plug-ins and what every one of them gets: a keyed generator, length, range.

``METHODS`` maps a config name to a parameter dataclass (validated when the config is loaded) and a
plain function ``fn(samples, rate, params, rng) -> samples``. :func:`disguise` runs one on a clip
with the guarantees every method gets (same length, finite, loudness-normalised with a peak ceiling
below full scale; silence stays silent; clips shorter than the analysis window are padded for
analysis and trimmed back). :func:`voice_rng` is the keyed generator the parameters are drawn from.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from pydantic import TypeAdapter, ValidationError

from transforms.disguise import dsp, knn_vc
from transforms.disguise.mcadams import McAdamsParams, mcadams
from transforms.disguise.pseudo_voice import PseudoVoiceParams, pseudo_voice
from transforms.disguise.world import WorldPseudoParams, WorldShiftParams, world_pseudo, world_shift

PEAK_DBFS = -1.0
LOUDNESS_DBFS = -20.0


class VoiceMethod(NamedTuple):
    """A voice-disguise plug-in. Optional hooks for methods with heavy parts: ``check(params)``
    raises (``ImportError``, ``OSError``) when what it needs is not installed — cheap, called when
    the config is loaded; ``load(params)`` loads models and data once per process (worker setup)."""

    params_type: type
    fn: Callable[[np.ndarray, int, Any, np.random.Generator], np.ndarray]
    check: Callable[[Any], None] | None = None
    load: Callable[[Any], None] | None = None


METHODS: dict[str, VoiceMethod] = {
    "pseudo_voice": VoiceMethod(PseudoVoiceParams, pseudo_voice),
    "world_pseudo": VoiceMethod(WorldPseudoParams, world_pseudo),
    "mcadams": VoiceMethod(McAdamsParams, mcadams),
    "world_shift": VoiceMethod(WorldShiftParams, world_shift),
    "knn_vc": VoiceMethod(knn_vc.KnnVcParams, knn_vc.knn_vc, knn_vc.check, knn_vc.load),
}

# Analysis needs a few frames; shorter clips are padded with silence and trimmed back.
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


def check_method(method: str, params) -> None:
    """Raise when what ``method`` needs at run time is not installed (no-op for most methods)."""
    if METHODS[method].check is not None:
        METHODS[method].check(params)


def load_method(method: str, params) -> None:
    """Load the method's heavy parts now, once per process (no-op for methods without any)."""
    if METHODS[method].load is not None:
        METHODS[method].load(params)


def fit_and_normalise(
    y: np.ndarray, length: int, rate: int, loudness_dbfs: float = LOUDNESS_DBFS, peak_dbfs: float = PEAK_DBFS
) -> np.ndarray:
    """Same length as the input, finite, loudness-normalised, peak below full scale."""
    y = np.asarray(y, dtype=np.float64)[:length]
    if len(y) < length:
        y = np.pad(y, (0, length - len(y)))
    return dsp.normalise_loudness(y, rate, loudness_dbfs, peak_dbfs)


def disguise(
    samples: np.ndarray,
    rate: int,
    method: str,
    params,
    rng: np.random.Generator,
    loudness_dbfs: float = LOUDNESS_DBFS,
) -> np.ndarray:
    """Run a plug-in on one clip with the guarantees every method gets (length, range, NaN)."""
    length = len(samples)
    if length == 0:
        return np.zeros(0, np.float32)
    if not np.all(np.isfinite(samples)):
        raise ValueError("input audio holds non-finite samples")
    minimum = int(MIN_ANALYSIS_S * rate)
    x = np.pad(samples, (0, minimum - length)) if length < minimum else samples
    if float(np.max(np.abs(x))) < 1e-5:  # digital silence: nothing to disguise
        return np.zeros(length, np.float32)
    y = METHODS[method].fn(x, rate, params, rng)
    return fit_and_normalise(y, length, rate, loudness_dbfs)


def voice_seed(key: bytes, account_id: str, epoch: str, clip_id: str | None = None) -> bytes:
    """HMAC seed: per speaker and epoch, or per clip when ``clip_id`` is given."""
    message = f"clip\x1f{clip_id}" if clip_id is not None else f"speaker\x1f{epoch}\x1f{account_id}"
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def voice_rng(key: bytes, account_id: str, epoch: str, clip_id: str | None = None) -> np.random.Generator:
    """A generator nobody can reproduce without the key (see :func:`voice_seed`)."""
    return np.random.default_rng(np.frombuffer(voice_seed(key, account_id, epoch, clip_id), dtype=np.uint64))
