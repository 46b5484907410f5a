"""``knn_vc``: content-based voice conversion — every frame's voice comes from other people's speech.

In:  a clip (16 kHz mono float), :class:`KnnVcParams`, the keyed generator of the speaker and epoch.
Out: the clip re-synthesised with WORLD from target-bank material: each 20 ms frame's spectral
     envelope (and aperiodicity, and loudness) is the weighted mean of its ``k`` nearest bank frames
     in the content space of block 2 of Whisper tiny.en's encoder (kNN-VC, Baas et al. 2023, with
     an ASR encoder and a vocoder that need no GPU); the F0 contour is the source's, normalised and
     mapped onto the chosen bank speakers' F0 range, optionally flattened and smoothed.
Fails: :class:`transforms.disguise.content.MissingExtra` without the ``strong`` extra; a missing
     bank file raises ``FileNotFoundError`` (both are checked when the config is loaded).

The keyed generator picks, per pseudonymous speaker and epoch, the bank speakers to draw from (by
default all bank speakers of one gender, drawn 50/50 by the key: ``target_gender``), a pitch
offset and a formant scale, so a speaker keeps one voice inside an epoch. ``blend`` mixes in the source's own envelope
after ``pseudo_voice``'s mapping (warp, long-term envelope swapped, tilt): 0 = the bank's alone
(most private), 1 = ``world_pseudo`` (most intelligible) — the privacy/intelligibility dial.

Heavy things load once per process: the encoder (:func:`transforms.disguise.content.content_encoder`)
and the bank (:func:`transforms.disguise.bank.load_bank`); :func:`load` does both up front (the
stage calls it in ``setup``).
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Literal

import numpy as np
from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass

from transforms.disguise import dsp
from transforms.disguise.bank import (
    DEFAULT_BANK,
    SUBFRAME_MS,
    SUBFRAMES,
    band_expansion,
    dynamic_range_db,
    frame_activity,
    load_bank,
)
from transforms.disguise.content import content_encoder, one_blas_thread, require_strong_extra

_STRICT = ConfigDict(extra="forbid")
_BLOCK_ROWS = 256  # source frames per similarity block (bounds memory on long clips)
# dio's speed 2 decimates its input 2×: the F0 contour is normalised and smoothed afterwards, so
# its last bit of precision is not used (tune speakers: WER 10.7 % at speed 1, 10.8 % at 2).
DIO_SPEED = 2


@dataclass(config=_STRICT, frozen=True)
class KnnVcParams:
    """Content-based conversion against the target bank."""

    bank_path: str = ""  # "" = the bank shipped in transforms/disguise/data/
    k: int = Field(32, ge=1, le=64)
    context: int = Field(0, ge=0, le=4)  # ± frames of content context in the match (0: block 2 is local enough)
    # Subtract each clip's (and each bank speaker's) mean key: removes what of the speaker the encoder
    # carries at utterance level, so the match does not prefer bank voices that resemble the source.
    speaker_norm: bool = True
    temperature: float = Field(0.05, ge=0.0, le=1.0)  # 0 = plain mean of the k; > 0 = softmax of similarity
    bank_speakers: int = Field(0, ge=0, le=1000)  # keyed subset per speaker and epoch; 0 = the whole pool
    # Which bank speakers' side ("F"/"M" in the bank) a speaker is converted to: "keyed" = drawn per
    # speaker and epoch, 50/50, whatever the source (the output's gender says nothing about the
    # speaker's); "same" = the source's side of gender_split_hz (its median F0); "any" = the whole bank.
    target_gender: Literal["keyed", "same", "any"] = "keyed"
    gender_split_hz: float = Field(165.0, ge=80.0, le=300.0)
    f0_excursion: float = Field(0.8, ge=0.0, le=1.5)  # F0 movement around the target, × the bank's spread
    f0_smooth_frames: int = Field(5, ge=1, le=25)  # moving average of log F0 (10 ms frames) in voiced runs
    f0_jitter_semitones: float = Field(2.0, ge=0.0, le=6.0)  # keyed pitch offset per speaker and epoch
    warp_jitter: float = Field(0.04, ge=0.0, le=0.15)  # keyed formant scale exp(±warp_jitter)
    smooth: float = Field(0.0, ge=0.0, le=0.5)  # weight of each neighbouring 10 ms envelope (0 = none)
    blend: float = Field(0.0, ge=0.0, le=1.0)  # weight of the source's own pseudo-voice envelope
    # WORLD synthesis FFT. 512 points hold the 40-coefficient envelope and halve WORLD's cost, but a
    # low voice's excitation needs 1,024 (test speakers: WER 10.0 % at 1,024, 10.3 % at 512). "auto":
    # WORLD's own rule for the clip's lowest output F0 (three periods fit the window), so only low
    # voices pay for 1,024 (tune speakers: WER 9.9 %; the job: 23.8 audio s per CPU s against 17.6).
    synth_fft: Literal["auto", 512, 1024] = "auto"
    # F0 tracker: dio (fast) or harvest (WORLD's noise-robust tracker; 6x the cost and no better
    # across a simulated room: far-field WER 80.5 % against 76.2 % on the tune speakers).
    f0_method: Literal["dio", "harvest"] = "dio"
    # A noisy source — its frame powers' 95th minus 10th percentile below this many dB — is keyed
    # through the bank's noise-robust query map (when the bank has one: build-voice-bank --key-map)
    # and its speech frames must also stand 6 dB over its noise floor. 0 (default) = every source
    # is treated as clean. Off because the estimate cannot tell continuous clean speech from noise:
    # at 28 dB, 30 % of the clean test halves counted as noisy and clean WER went 10.0 -> 15.1 %
    # (far field: 69.4 -> 54.1 %). See docs/VOICE_TUNING.md, "Far field".
    noisy_below_db: float = Field(0.0, ge=0.0, le=80.0)
    # "always": every source is keyed through the bank's query map (when it has one), whatever the
    # gate says; the activity rule still follows the gate. "noisy": only sources the gate calls noisy.
    robust_keys: Literal["noisy", "always"] = "noisy"
    f0_floor_hz: float = Field(60.0, ge=30.0, le=200.0)
    f0_ceil_hz: float = Field(500.0, ge=200.0, le=1200.0)


def check(params: KnnVcParams) -> None:
    """Config time: the ``strong`` extra imports and the bank file exists (nothing heavy is loaded)."""
    require_strong_extra()
    path = params.bank_path or DEFAULT_BANK
    if not os.path.isfile(path):
        raise FileNotFoundError(f"voice bank {path!r} not found (build it with `python -m pipeline build-voice-bank`)")


def load(params: KnnVcParams) -> None:
    """Worker setup: load the encoder and the bank once per process."""
    bank = load_bank(params.bank_path or DEFAULT_BANK)
    content_encoder(layer=int(bank.layer))


def _pool(bank, params: KnnVcParams, rng: np.random.Generator, source_f0: float | None) -> np.ndarray:
    """Bank speaker indices this speaker draws from (keyed order; always consumes the same draws)."""
    order = rng.permutation(len(bank.speaker_ids))
    keyed_gender = "F" if rng.random() < 0.5 else "M"
    gender = None
    if params.target_gender == "keyed":
        gender = keyed_gender
    elif params.target_gender == "same" and source_f0 is not None:
        gender = "M" if source_f0 < params.gender_split_hz else "F"
    if gender is not None:
        side = order[bank.speaker_gender[order] == gender]
        order = side if len(side) else order
    return np.sort(order[: params.bank_speakers] if params.bank_speakers else order)


_MATCH_KEYS: dict[tuple, np.ndarray] = {}
_ACTIVITY_WEIGHT = 1.5  # one extra key dimension: ± this for speech / pause (same: +w², differing: −w²)


def _with_context(keys: np.ndarray, active: np.ndarray, context: int, starts: np.ndarray | None = None) -> np.ndarray:
    """Keys with their ± ``context`` neighbours side by side and the activity dimension appended.

    The dot product of two such rows is the sum of the frame-wise similarities along the diagonal
    (frame i ± s against bank frame j ± s) plus the activity term. Neighbours do not cross the
    edges of a clip or (``starts``: first row of each speaker) of a bank speaker's speech.
    """
    n = len(keys)
    parts = []
    for shift in range(-context, context + 1):
        rows = np.clip(np.arange(n) + shift, 0, n - 1)
        if starts is not None and shift:
            first = starts[np.searchsorted(starts, np.arange(n), side="right") - 1]
            last = np.append(starts[1:], n)[np.searchsorted(starts, np.arange(n), side="right") - 1] - 1
            rows = np.clip(np.arange(n) + shift, first, last)
        parts.append(keys[rows])
    flag = np.where(active, _ACTIVITY_WEIGHT, -_ACTIVITY_WEIGHT).astype(np.float32)[:, None]
    return np.ascontiguousarray(np.concatenate([*parts, flag], axis=1), dtype=np.float32)


def _bank_match_keys(bank, params: KnnVcParams) -> np.ndarray:
    """The bank's keys in match form (speaker-normalised if asked, with context), once per process."""
    cache_key = (id(bank.keys), params.context, params.speaker_norm)
    if cache_key not in _MATCH_KEYS:  # built twice at worst by racing threads: same result
        keys = bank.keys
        if params.speaker_norm:
            keys = keys.copy()
            for s in range(len(bank.speaker_ids)):
                rows = bank.speaker == s
                speech = rows & bank.active
                keys[rows] -= keys[speech].mean(axis=0) if speech.any() else 0.0
            keys /= np.maximum(np.linalg.norm(keys, axis=1, keepdims=True), 1e-6)
        starts = np.flatnonzero(np.diff(bank.speaker, prepend=-1))
        match = _with_context(keys, bank.active, params.context, starts)
        match.flags.writeable = False
        _MATCH_KEYS[cache_key] = match
    return _MATCH_KEYS[cache_key]


_POOL_KEYS: dict[tuple, np.ndarray] = {}
_CACHE_LOCK = threading.Lock()


def _pool_keys_t(bank, params: KnnVcParams, frames: np.ndarray) -> np.ndarray:
    """The pool's match keys, transposed and contiguous. With the whole same-gender pool there are
    only two pools, so they are kept (a few recent ones; copying ~25 MB per clip is avoided)."""
    cache_key = (id(bank.keys), params.context, params.speaker_norm, hashlib.sha1(frames.tobytes()).digest())
    with _CACHE_LOCK:
        if cache_key not in _POOL_KEYS:
            if len(_POOL_KEYS) >= 4:
                _POOL_KEYS.pop(next(iter(_POOL_KEYS)))
            _POOL_KEYS[cache_key] = np.ascontiguousarray(_bank_match_keys(bank, params)[frames].T)
        return _POOL_KEYS[cache_key]


def _clip_normed(keys: np.ndarray, active: np.ndarray) -> np.ndarray:
    if active.sum() < 2:
        return keys
    keys = keys - keys[active].mean(axis=0)
    return keys / np.maximum(np.linalg.norm(keys, axis=1, keepdims=True), 1e-6)


def _matches(src_keys, src_active, bank, frames: np.ndarray, params: KnnVcParams):
    """(indices into ``frames``, weights): the k nearest bank frames of every source frame."""
    if params.speaker_norm:
        src_keys = _clip_normed(src_keys, src_active)
    query = _with_context(src_keys, src_active, params.context)
    keys_t = _pool_keys_t(bank, params, frames)
    k = min(params.k, len(frames))
    n = len(query)
    idx = np.empty((n, k), np.intp)
    weights = np.empty((n, k), np.float32)
    for start in range(0, n, _BLOCK_ROWS):
        sims = query[start : start + _BLOCK_ROWS] @ keys_t  # one large product (on the calling thread)
        top = top_k_columns(sims, k)
        best = np.take_along_axis(sims, top, axis=1)
        if params.temperature > 0:
            w = np.exp((best - best.max(axis=1, keepdims=True)) / (params.temperature * (2 * params.context + 1)))
        else:
            w = np.ones_like(best)
        idx[start : start + len(top)] = top
        weights[start : start + len(top)] = w / w.sum(axis=1, keepdims=True)
    return frames[idx], weights


def top_k_columns(sims: np.ndarray, k: int, stride: int = 8) -> np.ndarray:
    """Column indices of each row's ``k`` largest values (in no particular order), exactly.

    A full ``argpartition`` of every row costs more than the similarity product itself. The ``k``-th
    largest value of every ``stride``-th column is a lower bound of the row's ``k``-th largest, so
    the row's top ``k`` are among the columns at or above it (about ``stride · k`` of them): only
    those are sorted.
    """
    rows, columns = sims.shape
    if k >= columns:
        return np.argsort(sims, axis=1)[:, ::-1][:, :columns]
    if columns < 4 * stride * k:
        return np.argpartition(sims, columns - k, axis=1)[:, -k:]
    sample = sims[:, ::stride]
    bound = np.partition(sample, sample.shape[1] - k, axis=1)[:, -k]
    row, column = np.divmod(np.flatnonzero(sims >= bound[:, None]), columns)  # flat: 10x faster than 2-D nonzero
    value = sims[row, column].astype(np.float64)
    span = float(value.max() - value.min()) + 1.0
    order = np.argsort(row * span - value, kind="stable")  # by row, then by value, largest first
    first = np.searchsorted(row[order], np.arange(rows))
    return column[order][first[:, None] + np.arange(k)]


def _log_f0_contour(f0: np.ndarray, target_mean: float, target_std: float, params: KnnVcParams) -> np.ndarray:
    """Source F0 normalised (median, spread), smoothed, mapped onto the target; 0 stays unvoiced."""
    voiced = f0 > 0
    out = np.zeros_like(f0)
    if voiced.sum() < 3:
        return out
    log_f0 = np.log(np.where(voiced, f0, 1.0))
    centre = float(np.median(log_f0[voiced]))
    spread = max(float(np.std(log_f0[voiced])), 0.03)
    z = np.where(voiced, (log_f0 - centre) / spread, 0.0)
    if params.f0_smooth_frames > 1:
        kernel = np.ones(params.f0_smooth_frames)
        z = np.convolve(z, kernel, "same") / np.maximum(np.convolve(voiced.astype(float), kernel, "same"), 1e-9)
    out[voiced] = np.exp(target_mean + params.f0_excursion * target_std * np.clip(z[voiced], -3.0, 3.0))
    return out


def _smooth_frames(a: np.ndarray, weight: float) -> np.ndarray:
    """Three-tap smoothing along axis 0 (edges repeated)."""
    if weight <= 0 or len(a) < 3:
        return a
    padded = np.concatenate([a[:1], a, a[-1:]])
    return (1.0 - 2.0 * weight) * a + weight * (padded[:-2] + padded[2:])


def knn_vc(samples: np.ndarray, rate: int, params: KnnVcParams, rng: np.random.Generator) -> np.ndarray:
    """Convert a clip's voice to the keyed mix of bank voices (see the module docstring)."""
    with one_blas_thread():
        return _convert(samples, rate, params, rng)


def _convert(samples: np.ndarray, rate: int, params: KnnVcParams, rng: np.random.Generator) -> np.ndarray:
    import pyworld

    if rate != 16000:
        raise ValueError(f"knn_vc works at 16 kHz (the encoder's and the bank's rate), got {rate}")
    bank = load_bank(params.bank_path or DEFAULT_BANK)
    encoder = content_encoder(layer=int(bank.layer))
    x = np.ascontiguousarray(samples, dtype=np.float64)
    if params.f0_method == "harvest":
        f0, times = pyworld.harvest(
            x, rate, f0_floor=params.f0_floor_hz, f0_ceil=params.f0_ceil_hz, frame_period=SUBFRAME_MS
        )
    else:
        f0, times = pyworld.dio(
            x, rate, f0_floor=params.f0_floor_hz, f0_ceil=params.f0_ceil_hz, frame_period=SUBFRAME_MS, speed=DIO_SPEED
        )
        f0 = pyworld.stonemask(x, f0, times, rate)
    voiced = f0[f0 > 0]
    source_f0 = float(np.median(voiced)) if voiced.size >= 3 else None

    # Keyed draws, always in the same order and number.
    pool = _pool(bank, params, rng, source_f0)
    pitch_offset = rng.uniform(-1.0, 1.0) * params.f0_jitter_semitones * np.log(2.0) / 12.0
    warp = float(np.exp(rng.uniform(-params.warp_jitter, params.warp_jitter)))

    frames_enc = encoder.encode(samples)
    n = len(frames_enc)
    noisy = params.noisy_below_db > 0 and dynamic_range_db(samples) < params.noisy_below_db
    src_keys = bank.query_keys(frames_enc, encoder.positions(n), robust=noisy or params.robust_keys == "always")
    src_active = frame_activity(samples, n, rule="noise_floor" if noisy else "peak")
    bank_frames = np.flatnonzero(np.isin(bank.speaker, pool))
    idx, w = _matches(src_keys, src_active, bank, bank_frames, params)

    # Weighted means of the neighbours' two 10 ms halves → 2n frames of 10 ms.
    ceps = np.einsum("nk,nksc->nsc", w, bank.ceps[idx]).reshape(n * SUBFRAMES, -1)
    band_ap = np.einsum("nk,nksb->nsb", w, bank.band_ap[idx]).reshape(n * SUBFRAMES, -1)
    frames = len(f0)
    ceps = _fit_rows(ceps, frames)
    band_ap = _fit_rows(band_ap, frames)
    ceps = _smooth_frames(ceps, params.smooth)

    target_mean = float(np.mean(bank.speaker_log_f0[pool])) + pitch_offset
    target_std = float(np.mean(bank.speaker_log_f0_std[pool]))
    f0_out = _log_f0_contour(f0, target_mean, target_std, params)

    fft_size = params.synth_fft if params.synth_fft != "auto" else _world_fft(f0_out, rate)
    bins = fft_size // 2 + 1
    _, from_ceps = dsp.cepstral_basis(bins, ceps.shape[1])
    log_env = ceps.astype(np.float64) @ from_ceps
    if abs(warp - 1.0) > 1e-3:
        log_env = dsp.warp_log_envelope(log_env, warp)
    if params.blend > 0:
        log_env = (1.0 - params.blend) * log_env + params.blend * _source_envelope(
            x, f0, times, rate, f0_out, rng, fft_size
        )
    envelope = np.exp(2.0 * log_env)
    ap = np.clip(band_ap.astype(np.float64) @ band_expansion(bins), 0.001, 0.999)
    ap[f0_out <= 0] = 0.999
    y = pyworld.synthesize(
        np.ascontiguousarray(f0_out), np.ascontiguousarray(envelope), np.ascontiguousarray(ap), rate, SUBFRAME_MS
    )
    return y[: len(samples)]


def _world_fft(f0_out: np.ndarray, rate: int) -> int:
    """WORLD's FFT size for the lowest voiced output F0 (at least 3 periods in the window), 512..1024."""
    import pyworld

    voiced = f0_out[f0_out > 0]
    floor = float(voiced.min()) if voiced.size else 100.0
    return int(np.clip(pyworld.get_cheaptrick_fft_size(rate, max(floor, 40.0)), 512, 1024))


def _fit_rows(a: np.ndarray, rows: int) -> np.ndarray:
    if len(a) >= rows:
        return a[:rows]
    return np.concatenate([a, np.repeat(a[-1:], rows - len(a), axis=0)])


def _source_envelope(x, f0, times, rate, f0_out, rng, fft_size: int) -> np.ndarray:
    """The source's own log envelope moved onto a keyed pseudo-voice (``pseudo_voice``'s mapping)."""
    import pyworld

    from transforms.disguise.pseudo_voice import (
        PseudoVoiceParams,
        draw_pseudo_voice,
        envelope_warp,
        reshape_log_envelope,
    )

    params = PseudoVoiceParams()
    voice = draw_pseudo_voice(np.random.default_rng(int(rng.integers(0, 2**63 - 1))), params)
    log_env = 0.5 * np.log(pyworld.cheaptrick(x, f0, times, rate, fft_size=fft_size) + dsp.EPS)
    voiced = f0 > 0
    ratio = 1.0
    if voiced.sum() >= 3 and (f0_out > 0).sum() >= 3:
        ratio = float(np.clip(np.median(f0_out[f0_out > 0]) / np.median(f0[voiced]), 0.5, 2.0))
    return reshape_log_envelope(log_env, voiced, rate, envelope_warp(ratio, voice, params), voice, params)
