"""Plots for the spot-check report, as PNG bytes (matplotlib, Agg; no pyplot global state).

In:  decoded mono samples and their rate (per clip), or all reviewer clip durations (per run).
Out: PNG bytes: a spectrogram with the WORLD F0 track below it and muted intervals shaded, and a
     clip-duration histogram.
Fails: ``ValueError`` for empty audio; audio decoding errors propagate from :func:`decode`.

The F0 track uses WORLD's DIO + StoneMask (pyworld): fast (≈0.01 × real time) and good enough to
see whether a voice was shifted; its octave errors make it unfit for measuring anything.
"""

from __future__ import annotations

import io

import numpy as np

FRAME_PERIOD_MS = 10.0
MUTED_COLOUR = "#d62728"
DYNAMIC_RANGE_DB = 80.0


def pitch_track(samples: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """``(times_s, f0_hz)`` with unvoiced frames as NaN."""
    import pyworld

    x = np.ascontiguousarray(samples, dtype=np.float64)
    f0, times = pyworld.dio(x, rate, frame_period=FRAME_PERIOD_MS)
    f0 = pyworld.stonemask(x, f0, times, rate)
    return times, np.where(f0 > 0, f0, np.nan)


PALETTE_COLOURS = 128


def _png(fig) -> bytes:
    """PNG bytes, quantised to a palette: a 50-clip report stays a few MB instead of tens."""
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT).save(out, format="PNG", optimize=True)
    return out.getvalue()


def spectrogram_png(samples: np.ndarray, rate: int, muted: list[tuple[float, float]], title: str = "") -> bytes:
    """Spectrogram over F0 track, shared time axis, muted intervals shaded on both."""
    from matplotlib.figure import Figure

    if samples.size == 0:
        raise ValueError("no audio samples")
    duration = samples.size / rate
    fig = Figure(figsize=(10.0, 3.8), dpi=80, layout="constrained")
    spec_ax, f0_ax = fig.subplots(2, 1, sharex=True, height_ratios=(2.2, 1))
    nfft = 512 if rate >= 16000 else 256
    # Dither ~-140 dBFS keeps log10 finite in digital silence (muted spans are exact zeros).
    dither = np.random.default_rng(0).normal(0.0, 1e-7, samples.size)
    spec, _, _, image = spec_ax.specgram(
        samples + dither, NFFT=nfft, Fs=rate, noverlap=nfft * 3 // 4, cmap="magma", scale="dB"
    )
    top = 10 * np.log10(max(float(spec.max()), 1e-20))
    image.set_clim(top - DYNAMIC_RANGE_DB, top)  # fixed range: the dither floor must not wash the colours out
    spec_ax.set_ylabel("Hz")
    spec_ax.set_ylim(0, min(rate / 2, 8000))
    if title:
        spec_ax.set_title(title, fontsize=9, loc="left")
    times, f0 = pitch_track(samples, rate)
    f0_ax.plot(times, f0, color="#1f77b4", linewidth=1.4)
    f0_ax.set_ylabel("F0 Hz")
    f0_ax.set_xlabel("seconds")
    voiced = f0[np.isfinite(f0)]
    top = float(np.nanmax(voiced)) if voiced.size else 300.0
    f0_ax.set_ylim(0, max(top * 1.15, 100.0))
    f0_ax.grid(alpha=0.3)
    for start, end in muted:
        for ax in (spec_ax, f0_ax):
            ax.axvspan(start, end, color=MUTED_COLOUR, alpha=0.35, hatch="//", fill=True, linewidth=0)
    spec_ax.set_xlim(0, duration)
    return _png(fig)


def duration_histogram_png(durations: list[float]) -> bytes:
    """Histogram of clip durations (seconds) over all reviewer rows."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.0, 2.8), dpi=80, layout="constrained")
    ax = fig.subplots()
    values = np.asarray(durations, dtype=float)
    bins = min(30, max(5, int(np.sqrt(values.size)) + 1)) if values.size else 5
    ax.hist(values, bins=bins, color="#4c72b0", edgecolor="white")
    ax.set_xlabel("clip duration (s)")
    ax.set_ylabel("reviewer clips")
    ax.set_title(f"{values.size} reviewer clips", fontsize=9, loc="left")
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)
