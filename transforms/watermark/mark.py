"""Embed and detect the keyed watermark in 16 kHz speech, as plain functions (no Beam, no I/O).

In:  ``Marker(key, payload).embed(samples)``: mono float32 samples at 16 kHz (after voice disguise
     and muting). ``detect(samples, key)``: any mono float32 samples at 16 kHz — a whole file or an
     excerpt, at an unknown offset, after codecs, band limiting, noise or gain.
Out: the marked samples (same length); a :class:`Detection` per analysis window (sync score, the
     payload read back and whether its CRC matched).
Fails: ``ValueError`` for a key shorter than 32 bytes or samples that are not one-dimensional.

The scheme: a keyed differential patchwork in the STFT magnitude (frames of 512, hop 256, square-
root Hann analysis and synthesis). Frames go in pairs; a cycle is 36 pairs (1.15 s) and repeats
for the whole clip. In each pair the 185 bins between 250 and 6,000 Hz are split, by a keyed
permutation that differs per pair, into 4 slots of about 46 bins; each slot carries one symbol
``v`` (±1): 20 keyed sync symbols and the 124 coded payload bits per cycle, interleaved by the key.
A bin ``b`` of slot ``k`` is multiplied by ``exp(+d·P_b·v_k)`` in the pair's first frame and by
``exp(-d·P_b·v_k)`` in its second, ``P`` a keyed ±1 pattern, ``d`` = 0.4. The decoder projects
the two frames' log-magnitude difference on ``P``: the host spectrum, which changes little over
16 ms, mostly cancels; the mark adds up.

Perceptual shaping: the change is multiplicative, so what it adds is the speech's own spectrum
scaled by about ``d`` (segmental SNR 15 dB on test speech), bin by bin — it follows the speech's level and
formants, and it is exactly zero in digital silence. Band energies, which perceptual codecs keep,
carry the mark, so Opus, MP3, AAC and Vorbis keep most of it.

Detection reads each pair as its log-magnitude difference plus half of each cross difference with
the neighbouring pairs' frames (which cancels a host level changing linearly over four frames),
under two bin weightings: "floor" (a bin's level against its 20th percentile) and "snr" (a cubed
Wiener-like gain from each bin's local SNR, which silences the bins an added broadband noise owns).
Per weighting it searches 16 sample shifts (32-sample steps over a pair) and the 36 cycle phases,
folds the window's repeated cycles onto one (adding their soft values), and takes the candidate whose
folded slots hold the most energy (an aligned candidate adds the mark coherently). Its 124 coded
slots are Viterbi-decoded and the CRC-24 checked; the first weighting whose CRC matches is taken.
Its 20 sync slots give the *sync score*, their normalised correlation with the keyed sync symbols —
about N(0, 1) on audio without this key's mark (the candidate was chosen by energy, which ignores
the signs). A file's false-alarm probability (:func:`false_alarm`) is
``windows × 2 × P_null(sync ≥ score) × 2^-24`` (two decodes per window): the sync slots and the CRC are
disjoint, so under no mark they are independent; ``P_null`` is the measured null distribution
(:mod:`transforms.watermark.null_model`). A file is *found* when some window's CRC matches and its
false-alarm probability is at most ``MAX_FALSE_ALARM`` (1e-6).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from typing import NamedTuple

import numpy as np
import scipy.fft
import scipy.ndimage

from transforms.watermark import code

RATE = 16_000
N_FFT = 512
HOP = N_FFT // 2
SYMBOL = 2 * HOP  # samples per symbol: one embedding frame at +pattern, the next at -pattern
LO_HZ, HI_HZ = 250.0, 6000.0
BIN_LO = int(np.ceil(LO_HZ * N_FFT / RATE))  # 8
BIN_HI = int(np.floor(HI_HZ * N_FFT / RATE))  # 192
N_BINS = BIN_HI - BIN_LO + 1  # 185
SLOTS_PER_PAIR = 4
PAIRS_PER_CYCLE = 36
SLOTS = SLOTS_PER_PAIR * PAIRS_PER_CYCLE  # 144
SYNC_SLOTS = SLOTS - code.CODED_BITS  # 20
STRENGTH = 0.4  # d: the mark's log-magnitude swing per bin (0.3: PESQ 4.26, 0.4: 4.04, 0.5: 3.85 on 12 tune speakers)
SHIFT_STEP = 32
WINDOW_S = 3.0
WINDOW_HOP_S = 1.5
WEIGHT_FLOOR_Q = 0.2  # "floor" weighting: a bin's noise floor is this quantile of its energy over the window
WEIGHT_FLOOR_K = 2.0
SNR_NOISE_Q = 0.1  # "snr" weighting: the noise is this quantile of the frequency-smoothed energy
SNR_WEIGHT_POWER = 3.0  # and the weight is (ξ / (1 + ξ)) ** this (1: Wiener gain; 3 chosen on the tune speakers)
CROSS_WEIGHT = 0.5  # each cross difference with a neighbouring pair adds with this weight (cancels linear trends)
WEIGHTINGS = ("floor", "snr")
DECODES_PER_WINDOW = len(WEIGHTINGS)
DIFF_CLIP = 3.0  # log-magnitude differences clipped here: one loud transient cannot swamp a slot
_EPS = 1e-5
_SQRT_HANN = np.sqrt(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
_HANN = np.hanning(N_FFT).astype(np.float32)
MIN_KEY_BYTES = 32


class Layout(NamedTuple):
    """The keyed layout shared by embedder and detector."""

    pattern: np.ndarray  # (36, 185) ±1: P per pair position and band bin
    slot_of_bin: np.ndarray  # (36, 185): which of the pair's 4 slots each bin belongs to
    sync_index: np.ndarray  # (20,) slot numbers (0..143) of the sync symbols
    sync: np.ndarray  # (20,) ±1 sync symbols
    coded_index: np.ndarray  # (124,) slot number of each coded bit (the interleaver)
    weights: np.ndarray  # (36, 185, 4): P on a bin's own slot, 0 elsewhere (the projection)


def _rng(key: bytes, label: str) -> np.random.Generator:
    seed = hmac.new(key, b"voiceanon/watermark/" + label.encode(), hashlib.sha256).digest()
    return np.random.default_rng(int.from_bytes(seed, "big"))


def layout(key: bytes) -> Layout:
    """The keyed pattern, bin-to-slot map, sync symbols and interleaver for ``key``."""
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the watermark key must be at least {MIN_KEY_BYTES} bytes")
    rng = _rng(key, "layout")
    pattern = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=(PAIRS_PER_CYCLE, N_BINS))
    slot_of_bin = np.empty((PAIRS_PER_CYCLE, N_BINS), dtype=np.int64)
    base = np.arange(N_BINS) % SLOTS_PER_PAIR
    for j in range(PAIRS_PER_CYCLE):
        slot_of_bin[j] = rng.permutation(base)
    order = rng.permutation(SLOTS)
    sync_index, coded_index = np.sort(order[:SYNC_SLOTS]), order[SYNC_SLOTS:]
    sync = rng.choice(np.array([-1.0, 1.0]), size=SYNC_SLOTS)
    weights = np.zeros((PAIRS_PER_CYCLE, N_BINS, SLOTS_PER_PAIR), dtype=np.float32)
    jj, bb = np.meshgrid(np.arange(PAIRS_PER_CYCLE), np.arange(N_BINS), indexing="ij")
    weights[jj, bb, slot_of_bin] = pattern
    return Layout(pattern, slot_of_bin, sync_index, sync, coded_index, weights)


def symbols(lay: Layout, payload: code.Payload) -> np.ndarray:
    """The 144 slot symbols (±1) of one cycle: sync and interleaved coded bits."""
    v = np.empty(SLOTS, dtype=np.float32)
    v[lay.sync_index] = lay.sync
    v[lay.coded_index] = 1.0 - 2.0 * code.encode(payload)
    return v


def active_power(x: np.ndarray, frame: int = 320, range_db: float = 40.0) -> float:
    """Mean power of the 20 ms frames within ``range_db`` of the loudest (a simple active-speech level,
    not ITU-T P.56's: on LibriSpeech utterances it is 0-2.4 dB above the mean power); 0 for silence."""
    n = len(x) // frame * frame
    if n == 0:
        return float(np.mean(np.square(x, dtype=np.float64))) if len(x) else 0.0
    p = np.mean(np.square(x[:n].reshape(-1, frame), dtype=np.float64), axis=1)
    active = p[p >= p.max() * 10 ** (-range_db / 10)]
    return float(active.mean()) if p.max() > 0 else 0.0


class Marker:
    """Embeds one payload under one key; the per-cycle gain table is built once (per batch).

    ``floor_db`` (None: no floor, as shipped): a *mark floor* that many dB under the clip's
    active-speech power, for the evaluation only (tried and not shipped: docs/WATERMARK.md). In a
    low-energy frame — its band power under the floor's, not digital silence — every band bin under
    the floor gets the floor's magnitude (a white floor at that level, random phase) before the gain,
    so pauses carry the mark at the floor's level instead of the background's; speech frames are
    left as they are."""

    def __init__(self, key: bytes, payload: code.Payload, strength: float = STRENGTH, floor_db: float | None = None):
        self._floor_db = floor_db
        lay = layout(key)
        v = symbols(lay, payload).reshape(PAIRS_PER_CYCLE, SLOTS_PER_PAIR)
        per_bin = lay.pattern * np.take_along_axis(v, lay.slot_of_bin, axis=1)  # (36, 185)
        log_gain = np.zeros((PAIRS_PER_CYCLE, 2, N_FFT // 2 + 1), dtype=np.float32)
        log_gain[:, 0, BIN_LO : BIN_HI + 1] = strength * per_bin
        log_gain[:, 1, BIN_LO : BIN_HI + 1] = -strength * per_bin
        self._gain = np.exp(log_gain.reshape(2 * PAIRS_PER_CYCLE, -1)).astype(np.float32)  # (72 frames, 257)

    def embed(self, samples: np.ndarray) -> np.ndarray:
        """``samples`` with the mark; frame 0 starts half a frame before the first sample."""
        x = np.asarray(samples, dtype=np.float32)
        if x.ndim != 1:
            raise ValueError("samples must be one-dimensional")
        n = len(x)
        if n == 0:
            return x.copy()
        frames_n = -(-n // HOP) + 1
        padded = np.zeros((frames_n + 1) * HOP, dtype=np.float32)
        padded[HOP : HOP + n] = x
        frames = np.lib.stride_tricks.as_strided(padded, (frames_n, N_FFT), (HOP * 4, 4)) * _SQRT_HANN
        spec = scipy.fft.rfft(frames, axis=1)
        if self._floor_db is not None:
            _apply_floor(spec, x, self._floor_db)
        reps = -(-frames_n // self._gain.shape[0])
        spec *= np.tile(self._gain, (reps, 1))[:frames_n]
        out_frames = scipy.fft.irfft(spec, n=N_FFT, axis=1).astype(np.float32) * _SQRT_HANN
        out = np.zeros((frames_n + 1) * HOP, dtype=np.float32)
        out[: frames_n * HOP] += out_frames[:, :HOP].reshape(-1)
        out[HOP:] += out_frames[:, HOP:].reshape(-1)
        return out[HOP : HOP + n]


def _apply_floor(spec: np.ndarray, x: np.ndarray, floor_db: float) -> None:
    """In place: in low-energy frames, band bins under the floor (see :class:`Marker`) get its
    magnitude and a random phase (never the bin's own phase: a muted word's residue is not raised)."""
    power = active_power(x)
    if power <= 0.0:
        return
    # white noise of power P gives E|X_k|^2 = P * sum(sqrt-Hann^2) = P * N_FFT / 2 per bin
    level = np.float32(np.sqrt(power * 10 ** (floor_db / 10) * N_FFT / 2))
    band = spec[:, BIN_LO : BIN_HI + 1]
    mag = np.abs(band)
    quiet = np.mean(mag**2, axis=1, keepdims=True) < level**2  # a low-energy frame (pause)
    low = (mag < level) & quiet & (np.abs(spec).sum(axis=1, keepdims=True) > 0)
    seed = int.from_bytes(hashlib.sha256(x.tobytes()).digest()[:8], "big")  # per clip, reproducible
    phase = np.random.default_rng(seed).random(int(low.sum()), dtype=np.float32) * np.float32(2 * np.pi)
    band[low] = level * np.exp(1j * phase)
    spec[:, BIN_LO : BIN_HI + 1] = band


class Detection(NamedTuple):
    """What one analysis window says."""

    start_s: float  # where the window starts in the file
    score: float  # sync score of the best candidate (about N(0, 1) on unmarked audio)
    payload: code.Payload
    crc_ok: bool


def _pair_diffs(x: np.ndarray, shift: int) -> np.ndarray:
    """Each pair's soft reading in both weightings: (2, pairs, 185), band bins only.

    The reading of pair ``j`` (frames ``A_j``, ``B_j``) is the log-magnitude difference ``A_j - B_j``
    plus half of each cross difference with the neighbouring pairs' frames, ``A_{j+1} - B_j`` and
    ``A_j - B_{j-1}``: the mark adds to all three (with the overlap-add, a pair's gain also reaches its
    neighbours' frames), and the combination ``-B_{j-1}/2 + 3A_j/2 - 3B_j/2 + A_{j+1}/2`` cancels a
    host level that changes linearly over the four frames (onsets, decays, gliding harmonics), which the
    plain difference keeps. Then two weightings of the bins (see :data:`WEIGHTINGS`)."""
    y = x[shift:]
    pairs = ((len(y) - N_FFT) // HOP + 1) // 2 if len(y) >= N_FFT else 0
    if pairs <= 0:
        return np.zeros((len(WEIGHTINGS), 0, N_BINS), dtype=np.float32)
    frames = np.lib.stride_tricks.as_strided(y, (2 * pairs, N_FFT), (HOP * 4, 4)) * _HANN
    mag = np.abs(scipy.fft.rfft(frames, axis=1)[:, BIN_LO : BIN_HI + 1])
    logmag = np.log(mag + _EPS * (1.0 + mag.mean(axis=1, keepdims=True)))
    a, b = logmag[0::2], logmag[1::2]
    diff = np.clip(a - b, -DIFF_CLIP, DIFF_CLIP)
    cross = np.clip(a[1:] - b[:-1], -DIFF_CLIP, DIFF_CLIP)  # A_{j+1} - B_j
    diff[:-1] += CROSS_WEIGHT * cross
    diff[1:] += CROSS_WEIGHT * cross
    energy = mag[0::2] ** 2 + mag[1::2] ** 2  # (pairs, bins)
    out = np.empty((len(WEIGHTINGS), pairs, N_BINS), dtype=np.float32)
    # "floor": a bin's level against its 20th percentile over the window. Pairs near the floor carry
    # no mark (silence is not marked) but all of an added noise; this keeps every bin a little weight,
    # which suits codec noise, reverberation and babble (noise that is itself nonstationary).
    floor = np.quantile(energy, WEIGHT_FLOOR_Q, axis=0) + 1e-12
    out[0] = diff * (energy / (energy + WEIGHT_FLOOR_K * floor))
    # "snr": a Wiener-like gain from each bin's local SNR, cubed. The noise is the 10th percentile of
    # the energy smoothed over 5 bins (then over 9), so a bin-pair near a stationary noise floor gets
    # almost no weight: under white noise most band bins are noise, and their readings carry none of
    # the mark.
    smooth = scipy.ndimage.uniform_filter1d(energy, 5, axis=1, mode="nearest")
    noise = scipy.ndimage.uniform_filter1d(np.quantile(smooth, SNR_NOISE_Q, axis=0), 9, mode="nearest") + 1e-12
    xi = np.maximum(smooth / noise - 1.0, 0.0)
    out[1] = diff * (xi / (1.0 + xi)) ** SNR_WEIGHT_POWER
    return out


def window_diffs(x: np.ndarray) -> list[np.ndarray]:
    """The key-independent part of detection: each shift's pair readings (16 arrays of (2, pairs, 185))."""
    return [_pair_diffs(x, shift) for shift in range(0, SYMBOL, SHIFT_STEP)]


def soft_slots(diffs: list[np.ndarray], lay: Layout) -> np.ndarray:
    """Folded soft values per (shift, phase, slot): (16 shifts, 36 phases, 144 slots), from one
    weighting's readings (16 arrays of (pairs, 185)).

    Pair ``p`` of a candidate with phase ``φ`` is read as cycle position ``(p + φ) mod 36``; pairs
    at the same position (one per repetition of the cycle) are added up."""
    n_pos = PAIRS_PER_CYCLE
    out = np.zeros((len(diffs), n_pos, n_pos, SLOTS_PER_PAIR), dtype=np.float64)
    projection = lay.weights.transpose(1, 0, 2).reshape(N_BINS, SLOTS)  # (185, 36 positions x 4 slots)
    for s_i, d in enumerate(diffs):
        if len(d) == 0:
            continue
        proj = (d @ projection).reshape(len(d), n_pos, SLOTS_PER_PAIR)  # pair p read as position j
        p = np.arange(len(d))[:, None]
        j = np.arange(n_pos)[None, :]
        flat = (((j - p) % n_pos) * n_pos + j).ravel()  # (phase, position) of each (pair, position)
        for k in range(SLOTS_PER_PAIR):
            out[s_i, :, :, k] = np.bincount(flat, proj[:, :, k].ravel(), minlength=n_pos * n_pos).reshape(n_pos, n_pos)
    return out.reshape(len(diffs), n_pos, SLOTS)


def _candidate(soft: np.ndarray, lay: Layout, start_s: float) -> Detection:
    energy = np.sum(soft**2, axis=2)  # (16, 36): aligned candidates add the mark coherently
    s_i, phase = np.unravel_index(int(np.argmax(energy)), energy.shape)
    best = soft[s_i, phase]
    scale = np.sqrt(np.mean(best**2) + 1e-12)
    score = float(best[lay.sync_index] @ lay.sync / (scale * np.sqrt(SYNC_SLOTS)))
    payload, crc_ok = code.decode(best[lay.coded_index])
    return Detection(start_s, score, payload, crc_ok)


def detect_window(diffs: list[np.ndarray], lay: Layout, start_s: float = 0.0) -> Detection:
    """One window: each weighting's best candidate is decoded (Viterbi, CRC-24) in turn; the first
    whose CRC matches is returned, else the first weighting's. Its sync score goes with it. There are
    :data:`DECODES_PER_WINDOW` decodes per window, each a 2^-24 chance of a CRC match on a window
    without the mark (counted in :func:`transforms.watermark.false_alarm`)."""
    first = None
    for v in range(len(WEIGHTINGS)):
        det = _candidate(soft_slots([d[v] for d in diffs], lay), lay, start_s)
        if det.crc_ok:
            return det
        first = first or det
    return first


def null_scores(diffs: list[np.ndarray], lay: Layout) -> tuple[float, bool]:
    """For the null model: the highest sync score over the window's decodes, and whether any CRC
    matched (on a window without this key's mark)."""
    dets = [_candidate(soft_slots([d[v] for d in diffs], lay), lay, 0.0) for v in range(len(WEIGHTINGS))]
    return max(d.score for d in dets), any(d.crc_ok for d in dets)


def windows(n: int) -> list[int]:
    """Start samples of the analysis windows: 3 s windows every 1.5 s, the last one flush with the end."""
    size, hop = int(WINDOW_S * RATE), int(WINDOW_HOP_S * RATE)
    if n <= size:
        return [0]
    starts = list(range(0, n - size + 1, hop))
    if starts[-1] != n - size:
        starts.append(n - size)
    return starts


def detect(samples: np.ndarray, key: bytes, lay: Layout | None = None) -> list[Detection]:
    """One :class:`Detection` per analysis window of ``samples`` (16 kHz mono)."""
    x = np.ascontiguousarray(samples, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError("samples must be one-dimensional")
    lay = lay or layout(key)
    size = int(WINDOW_S * RATE)
    with one_blas_thread():
        return [detect_window(window_diffs(x[a : a + size]), lay, a / RATE) for a in windows(len(x))]


@functools.lru_cache(maxsize=1)
def _blas_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread():
    """Context: BLAS on the calling thread. The projections are small matrix products; BLAS's own
    threads only spin against the other processes (measured: 92 ms CPU per 3 s window with two
    BLAS threads on a loaded 2-core machine, 20 ms with one)."""
    return _blas_controller().limit(limits=1, user_api="blas")
