"""``pseudo_voice``: move a speaker onto a keyed pseudo-voice with STFT processing only (no vocoder).

Pitch moved to the pseudo-voice's F0 (constant ratio, phase vocoder + resampling), spectral envelope
warped toward the pseudo-voice's vocal-tract scale, the speaker's long-term envelope replaced by the
pseudo-voice's (cepstral-mean substitution) and a keyed spectral tilt. The pseudo-voice is drawn
from the keyed generator the stage passes in, so one speaker keeps one pseudo-voice per epoch.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass

from transforms.disguise import dsp

_STRICT = ConfigDict(extra="forbid")


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
    own = np.zeros(bins) if mean_log_env is None else dsp.cepstral_band(mean_log_env, params.cms_lo, params.cms_hi)
    target = dsp.random_shape(
        np.random.default_rng(voice.shape_seed), bins, params.cms_lo, params.cms_hi, params.target_shape_db
    )
    return params.cms_strength * (target - own) + dsp.tilt_curve(bins, rate, voice.tilt_db_per_octave)


def reshape_log_envelope(
    log_env: np.ndarray,
    active: np.ndarray,
    rate: int,
    warp: float,
    voice: PseudoVoice,
    params: PseudoVoiceParams,
) -> np.ndarray:
    """Target log envelope: warped, long-term shape replaced by the pseudo-voice's, tilted."""
    warped = dsp.warp_log_envelope(log_env, warp)
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
    n_fft_y, hop_y = dsp.frame_sizes(rate, params.pv_overlap)
    spec_y = dsp.pitch_shift_spectrum(x, rate, ratio, params.pv_overlap, np.float32)
    mag_y = np.abs(spec_y)
    active_y = dsp.active_frames(np.einsum("ij,ij->i", mag_y, mag_y))
    # Smooth envelope = ceps @ from_ceps; a frequency warp of it = ceps @ (warped from_ceps).
    to_ceps, from_ceps = dsp.cepstral_basis(mag_y.shape[1], params.envelope_ceps, np.float32)
    mag_y += np.float32(dsp.EPS)
    ceps = dsp.matmul_one_thread(np.log(mag_y, out=mag_y), to_ceps)
    warped_basis = dsp.warp_log_envelope(from_ceps, warp / ratio)
    mean = ceps[active_y].mean(axis=0) @ warped_basis if active_y.any() else None
    offset = envelope_offset(mean, mag_y.shape[1], rate, voice, params).astype(np.float32)
    log_gain = dsp.matmul_one_thread(ceps, warped_basis - from_ceps)
    log_gain += offset
    np.clip(log_gain, -6.0, 6.0, out=log_gain)
    spec_y *= np.exp(log_gain, out=log_gain)
    return dsp.istft(spec_y, n_fft_y, hop_y, len(x))


def _median_f0(x: np.ndarray, rate: int) -> float | None:
    """The speaker's median F0 (cepstral) from a float32 STFT at half overlap: a median over
    frames needs no finer hop (as accurate against WORLD's DIO as a quarter hop on LibriSpeech)."""
    n_fft, _ = dsp.frame_sizes(rate)
    power = np.abs(dsp.stft(x, n_fft, n_fft // 2, np.float32)) ** 2
    active = dsp.active_frames(power.sum(axis=1))
    return dsp.cepstral_f0(0.5 * np.log(power + np.float32(dsp.EPS)), rate, active)
