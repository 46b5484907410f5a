"""Reference implementations the tests compare the fast DSP against (not used by the job)."""

from __future__ import annotations

import numpy as np
import scipy.fft

from transforms.disguise import dsp


def peak_owners(peak: np.ndarray) -> np.ndarray:
    """For each bin of a (frames × bins) peak mask, the flat index of the peak that owns it.

    The same regions as :func:`peak_regions`, spelled out bin by bin (clearer, a little slower).
    """
    frames, bins = peak.shape
    peaks, lengths, empty = dsp.peak_regions(peak)
    owner = np.repeat(peaks, lengths).reshape(frames, bins)
    owner[empty] = np.flatnonzero(empty)[:, None] * bins + np.arange(bins)
    return owner


def pitch_shift(x: np.ndarray, rate: int, ratio: float, overlap: int = 4) -> np.ndarray:
    """Multiply pitch (and, as a side effect, the formant scale) by ``ratio``; same length."""
    if abs(ratio - 1.0) < 1e-3:
        return np.asarray(x, dtype=np.float64)
    n_fft, hop = dsp.frame_sizes(rate, overlap)
    return dsp.istft(dsp.pitch_shift_spectrum(x, rate, ratio, overlap), n_fft, hop, len(x))


def cepstral_envelope(log_mag: np.ndarray, n_ceps: int) -> np.ndarray:
    """Smooth log-magnitude envelope from the first ``n_ceps`` real-cepstrum coefficients."""
    ceps = scipy.fft.irfft(log_mag, axis=-1)
    ceps[..., n_ceps : -n_ceps + 1 if n_ceps > 1 else None] = 0.0
    return scipy.fft.rfft(ceps, axis=-1, overwrite_x=True).real
