"""Plain DSP functions behind the voice plug-ins in :mod:`transforms.voice` (no Beam here).

In:  mono float arrays at a sample rate; envelopes as (frames × bins) arrays.
Out: arrays of the same length (time signals) or shape (envelopes).
Fails: only on programming errors (wrong shapes); callers handle silence and very short input.

Pieces: a Hann STFT / overlap-add ISTFT; a phase vocoder with identity phase locking (for a
constant pitch shift: stretch, then resample); the low-quefrency cepstral envelope; envelope
frequency warping, spectral tilt and cepstral-mean substitution toward a pseudo-voice; cepstral
F0 median; LPC pole shifting (McAdams); loudness normalisation with a peak ceiling.
"""

from __future__ import annotations

import numpy as np
import soxr

EPS = 1e-9


def frame_sizes(rate: int, overlap: int = 4) -> tuple[int, int]:
    """(n_fft, hop): a ~32 ms window (power of two) and a hop of 1/``overlap`` window."""
    n_fft = 1 << int(np.ceil(np.log2(0.032 * rate)))
    return n_fft, n_fft // overlap


def _window(n_fft: int) -> np.ndarray:
    return np.hanning(n_fft + 1)[:-1]


def stft(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """Complex STFT (frames × (n_fft/2+1)), centred frames, Hann window."""
    pad = n_fft // 2
    xp = np.pad(np.asarray(x, dtype=np.float64), (pad, pad + hop))
    frames = np.lib.stride_tricks.sliding_window_view(xp, n_fft)[::hop]
    return np.fft.rfft(frames * _window(n_fft), axis=1)


def istft(spec: np.ndarray, n_fft: int, hop: int, length: int) -> np.ndarray:
    """Weighted overlap-add inverse of :func:`stft`, trimmed or padded to ``length``."""
    win = _window(n_fft)
    frames = np.fft.irfft(spec, n=n_fft, axis=1) * win
    n = frames.shape[0]
    total = n_fft + hop * (n - 1)
    out = np.zeros(total)
    norm = np.zeros(total)
    # Overlap-add as a few strided sums (one per hop offset inside a window): no Python loop per frame.
    ratio = n_fft // hop
    for r in range(ratio):
        chunk = frames[:, r * hop : (r + 1) * hop].reshape(-1)
        start = r * hop
        out[start : start + chunk.size] += chunk
        norm[start : start + chunk.size] += np.tile(win[r * hop : (r + 1) * hop] ** 2, n)
    y = out / np.maximum(norm, 1e-3)
    pad = n_fft // 2
    y = y[pad : pad + length]
    return np.pad(y, (0, max(0, length - len(y))))


def phase_vocoder(spec: np.ndarray, stretch: float, n_fft: int, hop: int) -> np.ndarray:
    """Time-stretch an STFT by ``stretch`` (>1 = longer), with identity phase locking.

    Phase locking (Laroche & Dolson 1999) keeps the bins around each spectral peak coherent,
    which avoids most of the "phasy" sound of a plain phase vocoder on speech.
    """
    n_frames, bins = spec.shape
    steps = np.arange(0, n_frames - 1, 1.0 / stretch)
    if len(steps) == 0:
        return spec[:1].copy()
    mag = np.abs(spec)
    phase = np.angle(spec)
    left = steps.astype(int)
    frac = (steps - left)[:, None]
    out_mag = (1.0 - frac) * mag[left] + frac * mag[left + 1]
    omega = 2.0 * np.pi * hop * np.arange(bins) / n_fft
    dphi = phase[left + 1] - phase[left] - omega
    dphi = dphi - 2.0 * np.pi * np.round(dphi / (2.0 * np.pi)) + omega
    acc = np.cumsum(np.vstack([phase[:1], dphi[:-1]]), axis=0)
    # Identity phase locking: each bin takes its region's peak phase plus its original offset.
    m = out_mag
    peak = np.zeros_like(m, dtype=bool)
    peak[:, 1:-1] = (m[:, 1:-1] >= m[:, :-2]) & (m[:, 1:-1] > m[:, 2:])
    idx = np.arange(bins)
    locked = np.empty_like(acc)
    for t in range(len(steps)):
        peaks = idx[peak[t]]
        if len(peaks) == 0:
            locked[t] = acc[t]
            continue
        bounds = (peaks[:-1] + peaks[1:]) // 2
        owner = peaks[np.searchsorted(bounds, idx, side="right")]
        src = phase[left[t]]
        locked[t] = acc[t, owner] + src - src[owner]
    return out_mag * np.exp(1j * locked)


def pitch_shift(x: np.ndarray, rate: int, ratio: float, overlap: int = 4) -> np.ndarray:
    """Multiply pitch (and, as a side effect, the formant scale) by ``ratio``; same length."""
    if abs(ratio - 1.0) < 1e-3:
        return np.asarray(x, dtype=np.float64)
    n_fft, hop = frame_sizes(rate, overlap)
    # Resample first (pitch × ratio, length / ratio), then stretch back to the original length.
    shifted = soxr.resample(np.asarray(x, dtype=np.float64), rate * ratio, rate)
    spec = phase_vocoder(stft(shifted, n_fft, hop), ratio, n_fft, hop)
    return istft(spec, n_fft, hop, len(x))


def cepstral_envelope(log_mag: np.ndarray, n_ceps: int) -> np.ndarray:
    """Smooth log-magnitude envelope from the first ``n_ceps`` real-cepstrum coefficients."""
    ceps = np.fft.irfft(log_mag, axis=-1)
    ceps[..., n_ceps : -n_ceps + 1 if n_ceps > 1 else None] = 0.0
    return np.fft.rfft(ceps, axis=-1).real


def warp_log_envelope(log_env: np.ndarray, alpha: float) -> np.ndarray:
    """Stretch a (frames × bins) envelope along frequency by ``alpha`` (>1 moves formants up).

    Bins that would read above Nyquist hold the last bin's value.
    """
    bins = log_env.shape[-1]
    source = np.clip(np.arange(bins) / alpha, 0, bins - 1)
    low = np.floor(source).astype(int)
    high = np.minimum(low + 1, bins - 1)
    frac = source - low
    return np.ascontiguousarray(log_env[..., low] * (1.0 - frac) + log_env[..., high] * frac)


def tilt_curve(bins: int, rate: int, db_per_octave: float, pivot_hz: float = 1000.0) -> np.ndarray:
    """Natural-log gain per bin for a spectral tilt of ``db_per_octave`` around ``pivot_hz``."""
    freqs = np.maximum(np.linspace(0.0, rate / 2.0, bins), 50.0)
    return db_per_octave * np.log2(freqs / pivot_hz) * (np.log(10.0) / 20.0)


def long_term_shape(log_env: np.ndarray, active: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """The speaker's long-term envelope shape: mean over active frames of cepstral indices [lo, hi)."""
    if not np.any(active):
        return np.zeros(log_env.shape[-1])
    ceps = np.fft.irfft(log_env[active].mean(axis=0))
    kept = np.zeros_like(ceps)
    kept[lo:hi] = ceps[lo:hi]
    kept[-hi + 1 : -lo + 1 if lo > 1 else None] = ceps[-hi + 1 : -lo + 1 if lo > 1 else None]
    return np.fft.rfft(kept).real


def random_shape(rng: np.random.Generator, bins: int, lo: int, hi: int, rms_db: float) -> np.ndarray:
    """A smooth random log-envelope curve (cepstral indices [lo, hi)) with the given RMS in dB."""
    ceps = np.zeros(2 * (bins - 1))
    k = np.arange(lo, hi)
    ceps[lo:hi] = rng.standard_normal(len(k)) / np.sqrt(k)
    ceps[-hi + 1 : -lo + 1] = ceps[lo:hi][::-1]
    curve = np.fft.rfft(ceps).real
    rms = float(np.sqrt(np.mean(curve**2)))
    return curve * (rms_db * np.log(10.0) / 20.0 / rms) if rms > 0 else curve


def active_frames(frame_energy: np.ndarray, floor_db: float = -35.0) -> np.ndarray:
    """Frames whose energy is within ``floor_db`` of the loudest frame (speech, not pauses)."""
    if frame_energy.size == 0:
        return np.zeros(0, dtype=bool)
    level = 10.0 * np.log10(frame_energy + EPS)
    return level > level.max() + floor_db


def cepstral_f0(log_mag: np.ndarray, rate: int, active: np.ndarray, lo_hz: float = 60.0, hi_hz: float = 400.0):
    """Median F0 (Hz) of the clearly voiced active frames from the cepstral peak, or None."""
    if not np.any(active):
        return None
    ceps = np.fft.irfft(log_mag[active], axis=-1)
    lo, hi = int(rate / hi_hz), int(rate / lo_hz)
    hi = min(hi, ceps.shape[-1] // 2 - 1)
    if hi <= lo:
        return None
    region = ceps[:, lo:hi]
    peak = region.argmax(axis=1)
    strength = region.max(axis=1)
    # A clear periodicity peak: white-noise frames stay near 0.06-0.10, voiced speech 0.15-0.4.
    voiced = strength > 0.15
    if voiced.sum() < max(3, 0.1 * len(voiced)):
        return None
    return float(np.median(rate / (lo + peak[voiced])))


def lpc(frame: np.ndarray, order: int) -> np.ndarray:
    """LPC polynomial [1, a1..ap] of one windowed frame (autocorrelation method)."""
    from scipy.linalg import solve_toeplitz  # scipy loads only where the McAdams method runs

    r = np.correlate(frame, frame, "full")[len(frame) - 1 : len(frame) + order]
    if r[0] <= EPS:
        return np.concatenate([[1.0], np.zeros(order)])
    r = r.copy()
    r[0] *= 1.0 + 1e-6  # white-noise correction keeps the Toeplitz system well conditioned
    a = solve_toeplitz(r[:-1], -r[1:])
    return np.concatenate([[1.0], a])


def mcadams(x: np.ndarray, rate: int, coefficient: float, order: int = 20) -> np.ndarray:
    """McAdams anonymisation: complex LPC pole angles φ → φ^coefficient, residual kept.

    Frames of 20 ms, 50 % overlap, Hann-windowed overlap-add (Patino et al. 2021).
    """
    from scipy.signal import lfilter  # scipy loads only where the McAdams method runs

    win_len = int(0.02 * rate)
    hop = win_len // 2
    win = np.hanning(win_len + 1)[:-1]
    x = np.asarray(x, dtype=np.float64)
    n_frames = 1 + max(0, (len(x) - win_len)) // hop
    xp = np.pad(x, (0, win_len + hop))
    out = np.zeros(len(xp))
    for t in range(n_frames + 1):
        seg = xp[t * hop : t * hop + win_len] * win
        if not np.any(seg):
            continue
        a = lpc(seg, order)
        residual = lfilter(a, [1.0], seg)
        poles = np.roots(a)
        complex_ = np.abs(poles.imag) > 1e-8
        angles = np.angle(poles[complex_])
        poles[complex_] = np.abs(poles[complex_]) * np.exp(1j * np.sign(angles) * np.abs(angles) ** coefficient)
        a_new = np.real(np.poly(poles))
        out[t * hop : t * hop + win_len] += lfilter([1.0], a_new, residual)  # periodic Hann at 50 % sums to 1
    return out[: len(x)]


def normalise_loudness(y: np.ndarray, rate: int, target_dbfs: float = -20.0, peak_dbfs: float = -1.0) -> np.ndarray:
    """Scale so the speech (active 20 ms blocks) has RMS ``target_dbfs``, never a peak above ``peak_dbfs``.

    Non-finite values become 0. Silence stays silent.
    """
    y = np.nan_to_num(np.asarray(y, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak < 1e-6:
        return np.zeros(len(y), np.float32)
    block = max(1, int(0.02 * rate))
    n = len(y) // block
    energy = (y[: n * block].reshape(n, block) ** 2).mean(axis=1) if n else np.array([np.mean(y**2)])
    speech = energy[active_frames(energy)]
    rms = float(np.sqrt(speech.mean())) if speech.size else float(np.sqrt(np.mean(y**2)))
    gain = 10.0 ** (target_dbfs / 20.0) / max(rms, 1e-9)
    gain = min(gain, 10.0 ** (peak_dbfs / 20.0) / peak)
    return (y * gain).astype(np.float32)
