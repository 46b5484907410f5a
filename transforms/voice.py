"""Voice disguise stage: ``DisguiseVoice``.

In:  clips with decoded mono float32 ``samples``.
Out: the same clips with disguised ``samples`` (same length, finite, loudness-normalised with a
     peak ceiling below full scale; silence stays silent; clips shorter than the analysis window
     are padded for analysis and trimmed back).
Fails: a DSP error quarantines the clip (stage ``voice``); a clip is never passed on undisguised.

The method is a plug-in: ``METHODS`` maps a config name to a parameter dataclass and a plain
function ``fn(samples, rate, params, rng) -> samples`` (DSP in :mod:`transforms.voice_dsp`).
``rng`` is a NumPy generator seeded by HMAC(voice key of the clip's pseudonym epoch, epoch +
account id) — or, with ``per_clip: true``, by HMAC(that key, clip id) — so a speaker keeps one
pseudo-voice inside an epoch, gets a new one in the next, and nobody without the key can redraw
or undo the parameters. Destroying an epoch's key in the keyring makes its draws unrecoverable.
A clip without a pseudonym epoch (the identifier stage has not run) is quarantined.

Plug-ins:
- ``pseudo_voice`` (default): map the speaker onto a keyed pseudo-voice — pitch moved to the
  pseudo-voice's F0 (constant ratio, phase vocoder + resampling), spectral envelope warped toward
  the pseudo-voice's vocal-tract scale, the speaker's long-term envelope replaced by the
  pseudo-voice's (cepstral-mean substitution) and a keyed spectral tilt. STFT only, no vocoder.
- ``world_pseudo``: the same mapping with WORLD analysis/resynthesis, which can also map the F0
  range (log-F0 mean and spread) frame by frame; far slower.
- ``mcadams``: LPC pole-angle shifting with a keyed McAdams coefficient.
- ``world_shift``: the original fixed pitch shift + envelope warp (kept for comparison).
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
from transforms import voice_dsp
from transforms.stage import ClipStageFn, StageOutputs, apply_stage

_STRICT = ConfigDict(extra="forbid")
PEAK_DBFS = -1.0
LOUDNESS_DBFS = -20.0


@dataclass(config=_STRICT, frozen=True)
class VoiceConfig:
    """Voice disguise: ``method`` names a plug-in in ``transforms.voice.METHODS``;
    ``params`` are that plug-in's parameters, validated by the plug-in's own dataclass.

    ``per_clip`` draws fresh parameters for every clip instead of one pseudo-voice per speaker
    and epoch (more private against an attacker who can link clips, less consistent to hear).
    """

    method: str = "pseudo_voice"
    params: dict[str, Any] = Field(default_factory=dict)
    per_clip: bool = False
    loudness_dbfs: float = Field(LOUDNESS_DBFS, ge=-40.0, le=-6.0)


# ---------------------------------------------------------------- pseudo-voice parameters


@dataclass(config=_STRICT, frozen=True)
class PseudoVoiceParams:
    """How pseudo-voices are drawn and how far a speaker is moved onto one."""

    target_f0_min_hz: float = Field(95.0, ge=50.0, le=400.0)
    target_f0_max_hz: float = Field(230.0, ge=50.0, le=400.0)
    max_shift_semitones: float = Field(5.0, ge=0.0, le=12.0)
    # Formant scale follows the F0 ratio to this power (male→female F0 ≈ ×1.8, formants ≈ ×1.17),
    # times a keyed jitter, bounded to [warp_min, warp_max].
    warp_gamma: float = Field(0.27, ge=0.0, le=1.0)
    warp_jitter: float = Field(0.06, ge=0.0, le=0.2)
    warp_min: float = Field(0.85, ge=0.7, le=1.0)
    warp_max: float = Field(1.18, ge=1.0, le=1.4)
    # Cepstral-mean substitution of the long-term envelope (cepstral indices [cms_lo, cms_hi)).
    cms_strength: float = Field(1.0, ge=0.0, le=1.0)
    cms_lo: int = Field(3, ge=1, le=10)
    cms_hi: int = Field(30, ge=4, le=60)
    target_shape_db: float = Field(3.0, ge=0.0, le=12.0)
    max_tilt_db_per_octave: float = Field(1.5, ge=0.0, le=6.0)
    envelope_ceps: int = Field(40, ge=10, le=80)
    # Phase-vocoder frames per window (4 = 75 % overlap; 8 is smoother and costs about twice as much).
    pv_overlap: int = Field(4, ge=4, le=16)


@dataclass(config=_STRICT, frozen=True)
class WorldPseudoParams(PseudoVoiceParams):
    """``pseudo_voice`` with WORLD analysis/resynthesis and F0-range mapping."""

    f0_method: str = Field("harvest", pattern="^(dio|harvest)$")
    frame_period_ms: float = Field(5.0, ge=1.0, le=20.0)
    target_f0_spread_semitones: float = Field(2.0, ge=0.0, le=6.0)


class PseudoVoice(NamedTuple):
    """One drawn pseudo-voice (never logged or written)."""

    f0_hz: float
    warp_jitter: float
    tilt_db_per_octave: float
    shape_seed: int


def draw_pseudo_voice(rng: np.random.Generator, params: PseudoVoiceParams) -> PseudoVoice:
    """Draw a pseudo-voice: log-uniform F0 in the target range, warp jitter, tilt, envelope shape."""
    lo, hi = sorted((params.target_f0_min_hz, params.target_f0_max_hz))
    return PseudoVoice(
        f0_hz=float(np.exp(rng.uniform(np.log(lo), np.log(hi)))),
        warp_jitter=float(np.exp(rng.uniform(-params.warp_jitter, params.warp_jitter))),
        tilt_db_per_octave=float(rng.uniform(-params.max_tilt_db_per_octave, params.max_tilt_db_per_octave)),
        shape_seed=int(rng.integers(0, 2**63 - 1)),
    )


def shift_ratio(source_f0: float | None, voice: PseudoVoice, params: PseudoVoiceParams) -> float:
    """Pitch ratio from the speaker's median F0 to the pseudo-voice's, bounded.

    Without a usable F0 (whispered, noise) the ratio is the pseudo-voice's own offset from the
    middle of the target range, so the envelope is still moved.
    """
    bound = 2.0 ** (params.max_shift_semitones / 12.0)
    if source_f0 is None or not np.isfinite(source_f0) or source_f0 <= 0:
        centre = np.sqrt(params.target_f0_min_hz * params.target_f0_max_hz)
        return float(np.clip(voice.f0_hz / centre, 1.0 / bound, bound))
    return float(np.clip(voice.f0_hz / source_f0, 1.0 / bound, bound))


def envelope_warp(ratio: float, voice: PseudoVoice, params: PseudoVoiceParams) -> float:
    """Formant scale for a pitch ratio: ratio**gamma × keyed jitter, bounded."""
    return float(np.clip(ratio**params.warp_gamma * voice.warp_jitter, params.warp_min, params.warp_max))


def envelope_offset(
    mean_log_env: np.ndarray | None, bins: int, rate: int, voice: PseudoVoice, params: PseudoVoiceParams
) -> np.ndarray:
    """Per-bin log gain onto the pseudo-voice: the speaker's long-term shape (cepstral indices
    [cms_lo, cms_hi) of ``mean_log_env``, the mean warped envelope of the active frames; None
    without active frames) swapped for the pseudo-voice's, plus the pseudo-voice's tilt."""
    own = (
        np.zeros(bins) if mean_log_env is None else voice_dsp.cepstral_band(mean_log_env, params.cms_lo, params.cms_hi)
    )
    target = voice_dsp.random_shape(
        np.random.default_rng(voice.shape_seed), bins, params.cms_lo, params.cms_hi, params.target_shape_db
    )
    return params.cms_strength * (target - own) + voice_dsp.tilt_curve(bins, rate, voice.tilt_db_per_octave)


def reshape_log_envelope(
    log_env: np.ndarray,
    active: np.ndarray,
    rate: int,
    warp: float,
    voice: PseudoVoice,
    params: PseudoVoiceParams,
) -> np.ndarray:
    """Target log envelope: warped, long-term shape replaced by the pseudo-voice's, tilted."""
    warped = voice_dsp.warp_log_envelope(log_env, warp)
    mean = warped[active].mean(axis=0) if np.any(active) else None
    return warped + envelope_offset(mean, log_env.shape[-1], rate, voice, params).astype(warped.dtype)


def pseudo_voice(samples: np.ndarray, rate: int, params: PseudoVoiceParams, rng: np.random.Generator) -> np.ndarray:
    """Move a voice onto a keyed pseudo-voice with STFT processing only (no vocoder).

    float32 throughout: one analysis STFT (only for the speaker's median F0), the phase vocoder's
    pitch-shifted STFT, the envelope gain applied to that spectrum in the cepstral domain, one
    inverse STFT.
    """
    voice = draw_pseudo_voice(rng, params)
    x = np.asarray(samples, dtype=np.float32)
    ratio = shift_ratio(_median_f0(x, rate), voice, params)
    warp = envelope_warp(ratio, voice, params)
    # The pitch shift also scales formants by `ratio`; the envelope gain below sets them to `warp`.
    # The phase vocoder's spectrum lies on the output frame grid, so the gain goes straight onto it
    # (no inverse STFT and re-analysis in between).
    n_fft_y, hop_y = voice_dsp.frame_sizes(rate, params.pv_overlap)
    spec_y = voice_dsp.pitch_shift_spectrum(x, rate, ratio, params.pv_overlap, np.float32)
    mag_y = np.abs(spec_y)
    active_y = voice_dsp.active_frames(np.einsum("ij,ij->i", mag_y, mag_y))
    # Smooth envelope = ceps @ from_ceps; a frequency warp of it = ceps @ (warped from_ceps).
    to_ceps, from_ceps = voice_dsp.cepstral_basis(mag_y.shape[1], params.envelope_ceps, np.float32)
    mag_y += np.float32(voice_dsp.EPS)
    ceps = voice_dsp.matmul_one_thread(np.log(mag_y, out=mag_y), to_ceps)
    warped_basis = voice_dsp.warp_log_envelope(from_ceps, warp / ratio)
    mean = ceps[active_y].mean(axis=0) @ warped_basis if active_y.any() else None
    offset = envelope_offset(mean, mag_y.shape[1], rate, voice, params).astype(np.float32)
    log_gain = voice_dsp.matmul_one_thread(ceps, warped_basis - from_ceps)
    log_gain += offset
    np.clip(log_gain, -6.0, 6.0, out=log_gain)
    spec_y *= np.exp(log_gain, out=log_gain)
    return voice_dsp.istft(spec_y, n_fft_y, hop_y, len(x))


def _median_f0(x: np.ndarray, rate: int) -> float | None:
    """The speaker's median F0 (cepstral) from a float32 STFT at half overlap: a median over
    frames needs no finer hop (as accurate against WORLD's DIO as a quarter hop on LibriSpeech)."""
    n_fft, _ = voice_dsp.frame_sizes(rate)
    power = np.abs(voice_dsp.stft(x, n_fft, n_fft // 2, np.float32)) ** 2
    active = voice_dsp.active_frames(power.sum(axis=1))
    return voice_dsp.cepstral_f0(0.5 * np.log(power + np.float32(voice_dsp.EPS)), rate, active)


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
    log_env = 0.5 * np.log(envelope + voice_dsp.EPS)
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
class McAdamsParams:
    """LPC pole shifting; the coefficient is drawn per speaker in [coefficient_min, coefficient_max]."""

    coefficient_min: float = Field(0.75, ge=0.5, le=1.0)
    coefficient_max: float = Field(0.9, ge=0.5, le=1.0)
    lpc_order: int = Field(20, ge=8, le=40)


def mcadams(samples: np.ndarray, rate: int, params: McAdamsParams, rng: np.random.Generator) -> np.ndarray:
    """McAdams anonymisation with a keyed coefficient."""
    lo, hi = sorted((params.coefficient_min, params.coefficient_max))
    return voice_dsp.mcadams(samples, rate, float(rng.uniform(lo, hi)), params.lpc_order)


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
    """Stretch a (frames × bins) spectral envelope along frequency by ``alpha``."""
    return voice_dsp.warp_log_envelope(envelope, alpha)


def world_shift(samples: np.ndarray, rate: int, params: WorldShiftParams, rng: np.random.Generator) -> np.ndarray:
    """Disguise a voice with WORLD: shifted F0, warped envelope, original aperiodicity."""
    del rng  # fixed parameters: nothing to draw
    x = np.ascontiguousarray(samples, dtype=np.float64)
    f0, times = _world_f0(x, rate, params)
    envelope = pyworld.cheaptrick(x, f0, times, rate)
    aperiodicity = pyworld.d4c(x, f0, times, rate)
    f0 = f0 * 2.0 ** (params.f0_shift_semitones / 12.0)
    envelope = warp_envelope(envelope, params.envelope_warp)
    return pyworld.synthesize(f0, envelope, aperiodicity, rate, params.frame_period_ms)


class VoiceMethod(NamedTuple):
    """A voice-disguise plug-in."""

    params_type: type
    fn: Callable[[np.ndarray, int, Any, np.random.Generator], np.ndarray]


METHODS: dict[str, VoiceMethod] = {
    "pseudo_voice": VoiceMethod(PseudoVoiceParams, pseudo_voice),
    "world_pseudo": VoiceMethod(WorldPseudoParams, world_pseudo),
    "mcadams": VoiceMethod(McAdamsParams, mcadams),
    "world_shift": VoiceMethod(WorldShiftParams, world_shift),
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


def validate_voice_config(voice_config) -> None:
    """Config-time check (called by ``pipeline.config``)."""
    build_params(voice_config.method, voice_config.params)


def fit_and_normalise(
    y: np.ndarray, length: int, rate: int, loudness_dbfs: float = LOUDNESS_DBFS, peak_dbfs: float = PEAK_DBFS
) -> np.ndarray:
    """Same length as the input, finite, loudness-normalised, peak below full scale."""
    y = np.asarray(y, dtype=np.float64)[:length]
    if len(y) < length:
        y = np.pad(y, (0, length - len(y)))
    return voice_dsp.normalise_loudness(y, rate, loudness_dbfs, peak_dbfs)


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


def speaker_rng(key: bytes, speaker: str) -> np.random.Generator:
    """Per-speaker generator without an epoch (evaluation and older callers)."""
    return voice_rng(key, speaker, "")


class _DisguiseVoiceFn(ClipStageFn):
    stage = "voice"

    def __init__(self, voice_config, key_source):
        super().__init__()
        self._config = voice_config
        self._key_source = key_source

    def setup(self):
        self._params = build_params(self._config.method, dict(self._config.params))
        self._keyring = self._key_source.keyring()

    def handle(self, clip: Clip) -> Clip:
        from pipeline.keys import derive_key

        # PseudonymizeIds runs first, so the clip carries its epoch; each epoch has its own key.
        epoch = clip.pseudonym_epoch
        if not epoch:
            raise ValueError("clip has no pseudonym epoch: the voice key is per epoch")
        key = derive_key(self._keyring.key_for(epoch), "voice")
        rng = voice_rng(key, clip.account_id, epoch, clip.clip_id if self._config.per_clip else None)
        samples = disguise(
            clip.samples, clip.sample_rate, self._config.method, self._params, rng, self._config.loudness_dbfs
        )
        return clip._replace(samples=samples)


class DisguiseVoice(beam.PTransform):
    """Disguise every clip's voice with the configured plug-in."""

    def __init__(self, voice_config, key_source):
        super().__init__()
        self._fn = _DisguiseVoiceFn(voice_config, key_source)

    def expand(self, clips) -> StageOutputs:
        return apply_stage(clips, "Disguise", self._fn)


__all__ = [
    "DisguiseVoice",
    "METHODS",
    "PseudoVoice",
    "VoiceConfig",
    "VoiceMethod",
    "build_params",
    "disguise",
    "draw_pseudo_voice",
    "mcadams",
    "pseudo_voice",
    "validate_voice_config",
    "voice_rng",
    "warp_envelope",
    "world_pseudo",
    "world_shift",
]
