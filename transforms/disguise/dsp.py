"""Plain DSP functions behind the voice plug-ins of :mod:`transforms.disguise` (no Beam here).

In:  mono float arrays at a sample rate; envelopes as (frames × bins) arrays.
Out: arrays of the same length (time signals) or shape (envelopes).
Fails: only on programming errors (wrong shapes); callers handle silence and very short input.

Pieces: a Hann STFT / overlap-add ISTFT (float64, or float32 at about half the cost); a phase
vocoder with identity phase locking, vectorised over frames (for a constant pitch shift: resample,
then stretch back); the low-quefrency cepstral envelope, also as a pair of small matrices so warps
act in the cepstral domain; envelope frequency warping, spectral tilt and cepstral-band shapes
toward a pseudo-voice; cepstral F0 median; LPC pole shifting (McAdams); loudness normalisation
with a peak ceiling.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.fft
import soxr

EPS = 1e-9


def frame_sizes(rate: int, overlap: int = 4) -> tuple[int, int]:
    """(n_fft, hop): a ~32 ms window (power of two) and a hop of 1/``overlap`` window."""
    n_fft = 1 << int(np.ceil(np.log2(0.032 * rate)))
    return n_fft, n_fft // overlap


@functools.lru_cache(maxsize=16)
def _window(n_fft: int, dtype=np.float64) -> np.ndarray:
    win = np.hanning(n_fft + 1)[:-1].astype(dtype)
    win.flags.writeable = False  # cached and shared
    return win


def _real_dtype(spec: np.ndarray):
    return np.float32 if spec.dtype == np.complex64 else np.float64


def stft(x: np.ndarray, n_fft: int, hop: int, dtype=np.float64) -> np.ndarray:
    """Complex STFT (frames × (n_fft/2+1)), centred frames, Hann window.

    ``dtype`` float32 gives a complex64 spectrum at about half the cost (ample for audio).
    """
    pad = n_fft // 2
    xp = np.pad(np.asarray(x, dtype=dtype), (pad, pad + hop))
    frames = np.lib.stride_tricks.sliding_window_view(xp, n_fft)[::hop]
    return scipy.fft.rfft(frames * _window(n_fft, dtype), axis=1, overwrite_x=True)


def istft(spec: np.ndarray, n_fft: int, hop: int, length: int) -> np.ndarray:
    """Weighted overlap-add inverse of :func:`stft`, trimmed or padded to ``length``.

    A complex64 spectrum gives a float32 signal, complex128 a float64 one.
    """
    dtype = _real_dtype(spec)
    win = _window(n_fft, dtype)
    frames = scipy.fft.irfft(spec, n=n_fft, axis=1)
    frames *= win
    n = frames.shape[0]
    ratio = n_fft // hop
    # Overlap-add hop-long blocks: block j holds part r of frame j - r, for each r < ratio.
    out = np.zeros((n + ratio - 1, hop), dtype)
    parts = frames.reshape(n, ratio, hop)
    for r in range(ratio):
        out[r : r + n] += parts[:, r]
    # The summed squared window is the same in every block except the first and last ratio - 1.
    squares = (win**2).reshape(ratio, hop)
    norm = np.empty_like(out)
    norm[:] = squares.sum(axis=0)
    for j in [*range(min(ratio - 1, len(norm))), *range(max(ratio - 1, n), n + ratio - 1)]:
        norm[j] = squares[max(0, j - n + 1) : j + 1].sum(axis=0)
    out /= np.maximum(norm, dtype(1e-3))
    pad = n_fft // 2
    y = out.reshape(-1)[pad : pad + length]
    return np.pad(y, (0, max(0, length - len(y))))


def peak_regions(peak: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The region of bins each spectral peak owns (identity phase locking), for all frames at once.

    ``peak`` is a (frames × bins) boolean array. Within a frame a bin belongs to the nearest peak,
    the boundary between peaks p < q being ``(p + q) // 2`` (which goes to q); bins before the
    first peak belong to it, bins after the last to the last; a frame without peaks owns itself.

    Returns ``(peaks, lengths, empty)``: the flat indices (frame · bins + bin) of the peaks in
    order, how many consecutive bins (in flat order) each owns — so ``np.repeat(peaks, lengths)``
    is every bin's owner — and the frames without peaks, which hold a stand-in peak at bin 0 that
    owns the whole frame (callers replace those frames).
    """
    frames, bins = peak.shape
    empty = ~peak.any(axis=1)
    if empty.any():
        peak = peak.copy()
        peak[empty, 0] = True
    peaks = np.flatnonzero(peak)
    ends = np.empty_like(peaks)
    ends[:-1] = (peaks[:-1] + peaks[1:]) // 2
    ends[np.cumsum(np.count_nonzero(peak, axis=1)) - 1] = np.arange(1, frames + 1) * bins  # a frame's last peak
    return peaks, np.diff(ends, prepend=0), empty


def phase_vocoder(spec: np.ndarray, stretch: float, n_fft: int, hop: int) -> np.ndarray:
    """Time-stretch an STFT by ``stretch`` (>1 = longer), with identity phase locking.

    Phase locking (Laroche & Dolson 1999) keeps the bins around each spectral peak coherent,
    which avoids most of the "phasy" sound of a plain phase vocoder on speech. Works in the
    precision of ``spec`` (complex64 or complex128). ``n_fft`` and ``hop`` are unused: analysis
    and synthesis share one hop, so each bin's phase advances by exactly the measured advance
    (the expected advance of a bin only picks a 2π branch, which cannot change the result).
    """
    del n_fft, hop
    n_frames, bins = spec.shape
    steps = np.arange(0, n_frames - 1, 1.0 / stretch)
    steps = steps[steps < n_frames - 1]  # float arange can overshoot its stop by a rounding error
    if len(steps) == 0:
        return spec[:1].copy()
    dtype = _real_dtype(spec)
    two_pi = dtype(2.0 * np.pi)
    left = steps.astype(np.intp)
    frac = (steps - left).astype(dtype)[:, None]
    # Few temporaries, reused: every fresh large array costs page faults on every clip.
    mag = np.abs(spec)
    out_mag = mag[left]
    out_mag *= 1 - frac
    scratch = mag[left + 1]
    scratch *= frac
    out_mag += scratch
    phase = np.arctan2(spec.imag, spec.real, out=mag)  # np.angle, into the magnitudes' buffer
    first = phase[0].copy()
    src = phase[left]
    # Accumulated phase: the first frame's phase, then the advance from each left frame to the next
    # (wrapped to [-π, π] so the running sum stays small enough for float32).
    acc = np.take(phase, left + 1, axis=0)
    del phase, mag
    acc -= src
    _wrap(acc, scratch, two_pi)
    acc[1:] = acc[:-1]
    acc[0] = first
    _cumsum_rows(acc)
    # Identity phase locking: each bin takes its region's peak phase plus its original offset.
    m = out_mag
    peak = np.zeros(m.shape, dtype=bool)
    peak[:, 1:-1] = (m[:, 1:-1] >= m[:, :-2]) & (m[:, 1:-1] > m[:, 2:])
    peaks, lengths, empty = peak_regions(peak)
    del peak
    acc -= src
    locked = np.repeat(acc.reshape(-1)[peaks], lengths).reshape(acc.shape)
    del peaks, lengths
    locked[empty] = acc[empty]
    del acc
    locked += src  # |phase| ≲ π · frames: float32 sin/cos are still accurate there, no wrap needed
    del src
    out = np.empty(locked.shape, spec.dtype)
    np.multiply(out_mag, np.cos(locked, out=scratch), out=out.real)
    np.multiply(out_mag, np.sin(locked, out=scratch), out=out.imag)
    return out


def _cumsum_rows(a: np.ndarray, block: int = 16) -> np.ndarray:
    """``np.cumsum(a, axis=0)`` in place, about twice as fast for a (frames × bins) array.

    NumPy accumulates down each column one element at a time; here whole rows are added (blocks
    of ``block`` rows side by side, then the running totals at block ends).
    """
    n, bins = a.shape
    blocks = n // block
    if blocks < 2:
        return np.cumsum(a, axis=0, out=a)
    tiled = a[: blocks * block].reshape(blocks, block, bins)
    for j in range(1, block):
        tiled[:, j] += tiled[:, j - 1]
    tiled[1:] += np.cumsum(tiled[:-1, -1], axis=0)[:, None, :]
    for i in range(blocks * block, n):
        a[i] += a[i - 1]
    return a


def _wrap(phase: np.ndarray, scratch: np.ndarray, two_pi) -> None:
    """Wrap phases to [-π, π] in place (``scratch``: a buffer of the same shape)."""
    np.divide(phase, two_pi, out=scratch)
    np.rint(scratch, out=scratch)
    scratch *= two_pi
    phase -= scratch


def pitch_shift_spectrum(x: np.ndarray, rate: int, ratio: float, overlap: int = 4, dtype=np.float64) -> np.ndarray:
    """STFT (``frame_sizes(rate, overlap)``, ``dtype`` precision) of ``x`` with its pitch × ``ratio``.

    Frame t is centred at sample t·hop of ``x`` (the grid of ``stft(x, ...)``); the frame count
    may differ from it by a few at the end.
    """
    n_fft, hop = frame_sizes(rate, overlap)
    if abs(ratio - 1.0) < 1e-3:
        return stft(x, n_fft, hop, dtype)
    # Resample first (pitch × ratio, length / ratio), then stretch back to the original length.
    spec = stft(soxr.resample(np.asarray(x, dtype=dtype), rate * ratio, rate), n_fft, hop, dtype)
    return phase_vocoder(spec, ratio, n_fft, hop)


@functools.lru_cache(maxsize=16)
def cepstral_basis(bins: int, n_ceps: int, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """``(to_ceps, from_ceps)`` with ``log_mag @ to_ceps @ from_ceps == cepstral_envelope(log_mag, n_ceps)``.

    ``to_ceps`` (bins × n_ceps) gives the low real-cepstrum coefficients of a half spectrum (those
    from 1 on doubled: they stand for their mirror image too); ``from_ceps`` (n_ceps × bins) is the
    cosine series back. Two small matrix products instead of two full FFTs per frame, and linear
    maps of the envelope (a frequency warp) can act on ``from_ceps`` alone.
    """
    n = 2 * (bins - 1)
    j = np.arange(bins)[:, None]
    k = np.arange(n_ceps)[None, :]
    bin_weight = np.where((j == 0) | (j == bins - 1), 1.0, 2.0)  # DC and Nyquist appear once in the full spectrum
    ceps_weight = np.where(k == 0, 1.0, 2.0)
    cosines = np.cos(2.0 * np.pi * j * k / n)
    to_ceps = (bin_weight * cosines * ceps_weight / n).astype(dtype)
    from_ceps = np.ascontiguousarray(cosines.T).astype(dtype)
    to_ceps.flags.writeable = False  # cached and shared
    from_ceps.flags.writeable = False
    return to_ceps, from_ceps


def matmul_one_thread(a: np.ndarray, b: np.ndarray, block: int = 1 << 18) -> np.ndarray:
    """``a @ b`` in row blocks of at most ``block`` multiply-adds each.

    OpenBLAS runs products below 4·65536 multiply-adds on the calling thread; above that it wakes
    its worker threads, which on a busy shared machine (Beam workers on every core) spin and cost
    more CPU than the product itself. Blocking keeps every call under the threshold.
    """
    rows = max(1, block // max(1, a.shape[1] * b.shape[1]))
    if a.shape[0] <= rows:
        return a @ b
    out = np.empty((a.shape[0], b.shape[1]), np.result_type(a, b))
    for start in range(0, a.shape[0], rows):
        np.matmul(a[start : start + rows], b, out=out[start : start + rows])
    return out


def warp_log_envelope(log_env: np.ndarray, alpha: float) -> np.ndarray:
    """Stretch a (frames × bins) envelope along frequency by ``alpha`` (>1 moves formants up).

    Bins that would read above Nyquist hold the last bin's value.
    """
    bins = log_env.shape[-1]
    source = np.clip(np.arange(bins) / alpha, 0, bins - 1)
    low = np.floor(source).astype(int)
    high = np.minimum(low + 1, bins - 1)
    frac = (source - low).astype(log_env.dtype if log_env.dtype == np.float32 else np.float64)
    return np.ascontiguousarray(log_env[..., low] * (1.0 - frac) + log_env[..., high] * frac)


def tilt_curve(bins: int, rate: int, db_per_octave: float, pivot_hz: float = 1000.0) -> np.ndarray:
    """Natural-log gain per bin for a spectral tilt of ``db_per_octave`` around ``pivot_hz``."""
    freqs = np.maximum(np.linspace(0.0, rate / 2.0, bins), 50.0)
    return db_per_octave * np.log2(freqs / pivot_hz) * (np.log(10.0) / 20.0)


def cepstral_band(log_env: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """The part of one log envelope (``bins`` values) made of its cepstral indices [lo, hi)."""
    ceps = scipy.fft.irfft(np.asarray(log_env, dtype=np.float64))
    kept = np.zeros_like(ceps)
    kept[lo:hi] = ceps[lo:hi]
    kept[-hi + 1 : -lo + 1 if lo > 1 else None] = ceps[-hi + 1 : -lo + 1 if lo > 1 else None]
    return scipy.fft.rfft(kept).real


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
    ceps = scipy.fft.irfft(log_mag[active], axis=-1)
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
