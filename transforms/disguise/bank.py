"""The target bank of the content-based voice method: licensed speech, reduced to what conversion needs.

In:  (build) utterances of bank speakers — LibriSpeech speakers in none of the evaluation sets, see
     ``pipeline.evaluation.voice_speakers.BANK`` — with their gender; the content encoder.
Out: a :class:`VoiceBank`: per 20 ms frame of bank speech its content key (the output of the
     Whisper encoder's block ``layer`` minus the mean frame at its position, PCA-reduced, float16)
     and, for each 10 ms half of it, the WORLD spectral envelope as low cepstrum, band aperiodicity
     and log F0, plus per-speaker F0 statistics; saved as one ``.npz`` (float16) that ships as package data
     (``transforms/disguise/data/voice_bank.npz``, attributed in the README beside it).
Fails: ``FileNotFoundError`` for a missing bank file, ``ValueError`` for one of another format.

No audio is stored: a bank frame cannot be played back, only its smoothed envelope (40 cepstral
coefficients), aperiodicity in 4 bands and F0 are kept.
"""

from __future__ import annotations

import functools
import os
from typing import NamedTuple

import numpy as np

from transforms.core.caches import process_cache
from transforms.disguise import dsp

FORMAT = 2  # 2: the encoder block the keys come from is recorded (``layer``)
CONTENT_LAYER = 2  # encoder block of the keys: see transforms.disguise.content on why a middle one
RATE = 16000
ENCODER_DIMS = 384  # Whisper tiny's width
WORLD_FFT = 1024  # pyworld's cheaptrick FFT size at 16 kHz: 513 envelope bins
SUBFRAMES = 2  # 10 ms halves of one 20 ms encoder frame
SUBFRAME_MS = 10.0
AP_BANDS_HZ = (0.0, 1000.0, 2000.0, 4000.0, 8000.0)
ACTIVE_FLOOR_DB = -40.0  # a frame is speech when within this of the utterance's loudest frame
POSITION_PRIOR = 10.0  # shrinks a position's mean toward the overall mean when few clips reach it
DEFAULT_BANK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "voice_bank.npz")


class VoiceBank(NamedTuple):
    """Bank arrays (``N`` frames, ``S`` speakers, ``P`` key dimensions, ``C`` cepstral coefficients)."""

    keys: np.ndarray  # N × P float32, unit length
    ceps: np.ndarray  # N × SUBFRAMES × C float32: log-amplitude envelope cepstrum
    band_ap: np.ndarray  # N × SUBFRAMES × bands float32: aperiodicity (0..1) per band
    log_f0: np.ndarray  # N × SUBFRAMES float32, 0 = unvoiced
    active: np.ndarray  # N bool
    speaker: np.ndarray  # N int: index into the speaker arrays
    projection: np.ndarray  # 384 × P float32: PCA of position-centred encoder frames
    position_mean: np.ndarray  # T × P float32: projected mean encoder frame at each position
    speaker_ids: np.ndarray  # S str (LibriSpeech speaker numbers)
    speaker_gender: np.ndarray  # S str, "F" / "M"
    speaker_log_f0: np.ndarray  # S float32: median log F0 of voiced frames
    speaker_log_f0_std: np.ndarray  # S float32
    layer: np.ndarray  # 0-d int: the encoder block the keys (and a source's keys) come from
    # Optional noise-robust query map ((2c+1)·384 + 1) × P: a source's encoder frames with ± c
    # neighbours (and a bias) → the clean key, fitted on clean and degraded copies of the bank
    # audio (:func:`fit_key_map`); None: a source is keyed like the bank (:meth:`project`).
    key_map: np.ndarray | None = None

    def project(self, frames: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Unit-length keys of encoder frames at their window positions, in the bank's key space."""
        keys = dsp.matmul_one_thread(np.asarray(frames, np.float32), self.projection)
        keys -= self.position_mean[np.minimum(positions, len(self.position_mean) - 1)]
        keys /= np.maximum(np.linalg.norm(keys, axis=1, keepdims=True), 1e-6)
        return keys

    def query_keys(self, frames: np.ndarray, positions: np.ndarray, robust: bool = True) -> np.ndarray:
        """A source's unit-length keys: through the noise-robust map when asked and the bank has one."""
        if self.key_map is None or not robust:
            return self.project(frames, positions)
        keys = dsp.matmul_one_thread(map_inputs(frames, key_map_context(self.key_map)), self.key_map)
        keys /= np.maximum(np.linalg.norm(keys, axis=1, keepdims=True), 1e-6)
        return keys


def key_map_context(key_map: np.ndarray) -> int:
    """The ± frames of context a key map takes (its rows are (2c+1) frames of 384 plus a bias)."""
    return ((key_map.shape[0] - 1) // ENCODER_DIMS - 1) // 2


def map_inputs(frames: np.ndarray, context: int) -> np.ndarray:
    """Encoder frames with their ± ``context`` neighbours (edges repeated) and a bias column."""
    frames = np.asarray(frames, np.float32)
    n = len(frames)
    parts = [frames[np.clip(np.arange(n) + shift, 0, n - 1)] for shift in range(-context, context + 1)]
    return np.ascontiguousarray(np.concatenate([*parts, np.ones((n, 1), np.float32)], axis=1))


def fit_key_map(pairs: list[tuple], context: int = 1, ridge: float = 1.0) -> np.ndarray:
    """Least squares (ridge) from a source's encoder frames with context to the clean bank keys.

    ``pairs``: (encoder frames of a copy of a bank utterance — clean or degraded, same timing —,
    that utterance's clean unit keys[, the copy's weight, default 1]). Solved in float64 from the
    normal equations.
    """
    dims = (2 * context + 1) * ENCODER_DIMS + 1
    xtx = np.zeros((dims, dims))
    xty = np.zeros((dims, pairs[0][1].shape[1]))
    for frames, keys, *weight in pairs:
        x = map_inputs(frames, context).astype(np.float64)
        w = float(weight[0]) if weight else 1.0
        xtx += w * (x.T @ x)
        xty += w * (x.T @ keys)
    scale = np.trace(xtx) / dims
    return np.linalg.solve(xtx + ridge * scale * np.eye(dims), xty).astype(np.float32)


def save_bank(bank: VoiceBank, path: str) -> None:
    """Write ``bank`` as a compressed float16 ``.npz``."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    arrays = {}
    for name, value in bank._asdict().items():
        if value is None:
            continue
        value = np.asarray(value)
        full = name in ("projection", "key_map")
        arrays[name] = value.astype(np.float16) if value.dtype.kind == "f" and not full else value
    np.savez_compressed(path, format=np.array(FORMAT), **arrays)


@process_cache(maxsize=2)
def load_bank(path: str = DEFAULT_BANK) -> VoiceBank:
    """The bank at ``path``, loaded once per process (float32 arrays, read-only)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"voice bank {path!r} not found (build it with `python -m pipeline build-voice-bank`)")
    with np.load(path, allow_pickle=False) as data:
        if "format" not in data.files or int(data["format"]) != FORMAT:
            raise ValueError(f"voice bank {path!r} is not format {FORMAT}; rebuild it")
        fields = {}
        for name in VoiceBank._fields:
            if name not in data.files and name in VoiceBank._field_defaults:
                continue
            value = data[name]
            value = value.astype(np.float32) if value.dtype.kind == "f" else value
            value.flags.writeable = False
            fields[name] = value
    return VoiceBank(**fields)


def world_analysis(x: np.ndarray, rate: int = RATE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(f0, envelope, aperiodicity) at 5 ms frames with harvest (the bank is built offline: quality first)."""
    import pyworld

    x = np.ascontiguousarray(x, dtype=np.float64)
    f0, times = pyworld.harvest(x, rate, f0_floor=60.0, f0_ceil=500.0, frame_period=5.0)
    return f0, pyworld.cheaptrick(x, f0, times, rate), pyworld.d4c(x, f0, times, rate)


def band_aperiodicity(ap: np.ndarray, rate: int = RATE) -> np.ndarray:
    """Mean aperiodicity (frames × bins) in each band of ``AP_BANDS_HZ``."""
    freqs = np.linspace(0.0, rate / 2.0, ap.shape[-1])
    return np.stack(
        [ap[..., (freqs >= lo) & (freqs < hi if hi < rate / 2 else freqs <= hi)].mean(axis=-1) for lo, hi in _bands()],
        axis=-1,
    )


@functools.lru_cache(maxsize=4)
def band_expansion(bins: int, rate: int = RATE) -> np.ndarray:
    """(bands × bins) weights that turn band aperiodicity into a smooth per-bin curve (linear between band centres)."""
    freqs = np.linspace(0.0, rate / 2.0, bins)
    centres = np.array([(lo + hi) / 2.0 for lo, hi in _bands()])
    eye = np.eye(len(centres))
    weights = np.stack([np.interp(freqs, centres, eye[b]) for b in range(len(centres))])
    weights.flags.writeable = False
    return weights


def _bands() -> list[tuple[float, float]]:
    return list(zip(AP_BANDS_HZ[:-1], AP_BANDS_HZ[1:], strict=True))


def dynamic_range_db(samples: np.ndarray) -> float:
    """The 95th minus the 10th percentile of a clip's 20 ms frame powers, in dB: a blind estimate of
    how far speech stands over the noise (silence-padded clean speech: 40 dB and more)."""
    step = int(RATE * 0.02)
    n = len(samples) // step
    if n < 2:
        return float("inf")
    x = np.asarray(samples[: n * step], dtype=np.float64).reshape(n, step)
    db = 10.0 * np.log10(np.einsum("ij,ij->i", x, x) / step + 1e-12)
    return float(np.percentile(db, 95) - np.percentile(db, NOISE_PERCENTILE))


NOISE_PERCENTILE = 10.0  # the noise floor estimate: this percentile of the clip's frame powers
ABOVE_NOISE_DB = 6.0  # a frame is speech only this far above the noise floor ("noise_floor" rule)


def frame_activity(
    samples: np.ndarray, n_frames: int, floor_db: float = ACTIVE_FLOOR_DB, rule: str = "peak"
) -> np.ndarray:
    """Which 20 ms frames are speech: mean power within ``floor_db`` of the loudest frame's; with
    ``rule="noise_floor"`` also at least ``ABOVE_NOISE_DB`` over the clip's noise floor (in a noisy
    room the pauses are not silent, and every frame is within 40 dB of the loudest)."""
    step = int(RATE * 0.02)
    x = np.asarray(samples, dtype=np.float32)
    x = np.pad(x, (0, max(0, n_frames * step - len(x))))[: n_frames * step]
    power = np.einsum("ij,ij->i", x.reshape(n_frames, step), x.reshape(n_frames, step)) / step
    db = 10.0 * np.log10(power + 1e-12)
    active = db > db.max() + floor_db
    if rule == "noise_floor" and n_frames:
        active &= db > np.percentile(db, NOISE_PERCENTILE) + ABOVE_NOISE_DB
    return active


def analyse_utterance(
    samples: np.ndarray, encoder, n_ceps: int, key_samples: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """One bank utterance: raw encoder frames and, per frame, its two 10 ms halves' envelope
    cepstrum, band aperiodicity and log F0, and whether the frame is speech.

    ``key_samples`` (same length and timing, e.g. the utterance as heard across a noisy room):
    the encoder frames — the content keys — come from it, everything synthesised from ``samples``.
    """
    if key_samples is not None and len(key_samples) != len(samples):
        raise ValueError("key audio must have the utterance's length")
    frames = encoder.encode(samples if key_samples is None else key_samples)
    f0, envelope, ap = world_analysis(samples)
    to_ceps, _ = dsp.cepstral_basis(envelope.shape[1], n_ceps)
    ceps = (0.5 * np.log(envelope + dsp.EPS)) @ to_ceps
    n = len(frames)
    # 5 ms WORLD frames: frame i of the encoder (centred near 20i ms) takes WORLD frames 4i and 4i + 2.
    index = np.minimum(np.arange(n)[:, None] * 4 + np.arange(SUBFRAMES)[None, :] * 2, len(f0) - 1)
    log_f0 = np.where(f0[index] > 0, np.log(np.maximum(f0[index], 1.0)), 0.0)
    return {
        "frames": frames,
        "positions": encoder.positions(n),
        "ceps": ceps[index],
        "band_ap": band_aperiodicity(ap)[index],
        "log_f0": log_f0,
        "active": frame_activity(samples, n),
    }


def build_bank(
    utterances: list[tuple[str, str, np.ndarray]],
    encoder,
    dims: int = 64,
    n_ceps: int = 40,
    log=None,
    key_audio: list[np.ndarray] | None = None,
) -> VoiceBank:
    """A bank from ``(speaker id, gender, 16 kHz samples)`` utterances (several per speaker allowed),
    keyed by ``encoder`` (a :class:`transforms.disguise.content.ContentEncoder`; its block is recorded).

    ``key_audio`` (one per utterance, same length): noise-matched keys — the content keys come from
    these degraded copies, so a noisy query finds its phone, while synthesis uses the clean frames."""
    if key_audio is not None and len(key_audio) != len(utterances):
        raise ValueError("one key audio per bank utterance")
    parts = []
    for i, (speaker, gender, samples) in enumerate(utterances):
        if log:
            log(f"bank utterance {i + 1}/{len(utterances)}: speaker {speaker}")
        keyed = None if key_audio is None else key_audio[i]
        parts.append((speaker, gender, analyse_utterance(samples, encoder, n_ceps, keyed)))
    speaker_ids = list(dict.fromkeys(s for s, _, _ in parts))
    gender_of = {s: g for s, g, _ in parts}
    frames = np.concatenate([p["frames"] for _, _, p in parts]).astype(np.float64)
    positions = np.concatenate([p["positions"] for _, _, p in parts])
    # Mean encoder frame per window position, shrunk toward the overall mean where few clips reach.
    overall = frames.mean(axis=0)
    span = int(positions.max()) + 1
    sums = np.zeros((span, frames.shape[1]))
    np.add.at(sums, positions, frames)
    counts = np.bincount(positions, minlength=span)[:, None]
    position_mean = (sums + POSITION_PRIOR * overall) / (counts + POSITION_PRIOR)
    centred = frames - position_mean[positions]
    _, _, vt = np.linalg.svd(centred[:: max(1, len(centred) // 20000)], full_matrices=False)
    projection = vt[:dims].T.astype(np.float32)
    keys = (centred @ projection).astype(np.float32)
    keys /= np.maximum(np.linalg.norm(keys, axis=1, keepdims=True), 1e-6)
    speaker_index = np.concatenate([np.full(len(p["frames"]), speaker_ids.index(s)) for s, _, p in parts])
    log_f0 = np.concatenate([p["log_f0"] for _, _, p in parts])
    med, std = [], []
    for k in range(len(speaker_ids)):
        voiced = log_f0[speaker_index == k]
        voiced = voiced[voiced > 0]
        med.append(float(np.median(voiced)) if voiced.size else float(np.log(150.0)))
        std.append(float(np.std(voiced)) if voiced.size > 2 else 0.15)
    return VoiceBank(
        keys=keys,
        ceps=np.concatenate([p["ceps"] for _, _, p in parts]).astype(np.float32),
        band_ap=np.concatenate([p["band_ap"] for _, _, p in parts]).astype(np.float32),
        log_f0=log_f0.astype(np.float32),
        active=np.concatenate([p["active"] for _, _, p in parts]),
        speaker=speaker_index.astype(np.int16),
        projection=projection,
        position_mean=(position_mean @ projection).astype(np.float32),
        speaker_ids=np.array(speaker_ids),
        speaker_gender=np.array([gender_of[s] for s in speaker_ids]),
        speaker_log_f0=np.array(med, np.float32),
        speaker_log_f0_std=np.array(std, np.float32),
        layer=np.array(encoder.layer),
    )
