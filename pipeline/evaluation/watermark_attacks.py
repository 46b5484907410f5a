"""The attacks of the watermark robustness suite, as plain functions on 16 kHz mono float32 audio.

In:  samples (16 kHz mono float32), a ``numpy.random.Generator`` for the random parts, and for
     babble and concatenation other speakers' speech.
Out: the attacked samples, back at 16 kHz mono float32 (length may change: codecs add priming
     samples, excerpts and concatenations change it on purpose).
Fails: :class:`AttackError` when ffmpeg (from the ``imageio-ffmpeg`` wheel) fails or lacks an encoder.

Codecs run through the real ffmpeg encoders: Opus (libopus, VoIP mode, as messaging apps send
voice notes) at 16 and 24 kbit/s in Ogg, MP3 (libmp3lame) at 64 kbit/s, AAC (ffmpeg's native
encoder) at 64 kbit/s in ADTS. The telephone band is a 4th-order Butterworth 300-3,400 Hz band-pass,
down to 8 kHz and back up. Reverberation is a synthetic small room: a direct path plus an
exponentially decaying noise tail with RT60 0.3 s (direct-to-reverberant ratio about 3 dB).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence

import numpy as np
from scipy import signal

RATE = 16_000


class AttackError(RuntimeError):
    """An attack could not run (ffmpeg missing an encoder, or failing)."""


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _ffmpeg(args: Sequence[str], data: bytes, timeout: float = 60.0) -> bytes:
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", *args]
    proc = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise AttackError(f"ffmpeg failed ({args[-3:]}): {proc.stderr.decode(errors='replace')[-200:]}")
    return proc.stdout


def codec(x: np.ndarray, encoder: Sequence[str], container: str) -> np.ndarray:
    """Encode ``x`` with an ffmpeg encoder into ``container`` and decode it back to 16 kHz mono."""
    raw = np.asarray(x, dtype="<f4").tobytes()
    encoded = _ffmpeg(
        ["-f", "f32le", "-ar", str(RATE), "-ac", "1", "-i", "pipe:0", *encoder, "-f", container, "pipe:1"], raw
    )
    decoded = _ffmpeg(["-i", "pipe:0", "-f", "f32le", "-ar", str(RATE), "-ac", "1", "pipe:1"], encoded)
    return np.frombuffer(decoded, dtype="<f4").copy()


def telephone(x: np.ndarray) -> np.ndarray:
    sos = signal.butter(4, [300, 3400], btype="bandpass", fs=RATE, output="sos")
    narrow = signal.resample_poly(signal.sosfilt(sos, x), 1, 2)
    return signal.resample_poly(narrow, 2, 1).astype(np.float32)


def gain(x: np.ndarray, db: float) -> np.ndarray:
    """Gain, then clipped to [-1, 1] as any fixed-point file would."""
    return np.clip(x * 10 ** (db / 20), -1.0, 1.0).astype(np.float32)


def add_noise(x: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``noise`` scaled to ``snr_db`` below the signal's power, added."""
    noise = noise[: len(x)]
    scale = np.sqrt(np.mean(x**2) / (np.mean(noise**2) + 1e-20) / 10 ** (snr_db / 10))
    return (x + scale * noise).astype(np.float32)


def babble(others: Sequence[np.ndarray], n: int, rng: np.random.Generator, talkers: int = 6) -> np.ndarray:
    """The sum of ``talkers`` other speakers, each from a random offset, looped to ``n`` samples."""
    out = np.zeros(n, dtype=np.float64)
    for i in rng.choice(len(others), size=min(talkers, len(others)), replace=False):
        o = others[i]
        o = o / (np.sqrt(np.mean(o**2)) + 1e-12)
        out += np.resize(np.roll(o, -int(rng.integers(len(o)))), n)
    return out.astype(np.float32)


def room_impulse(rng: np.random.Generator, rt60_s: float = 0.3, length_s: float = 0.4) -> np.ndarray:
    n = int(length_s * RATE)
    t = np.arange(n) / RATE
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60_s)
    tail[: int(0.003 * RATE)] = 0.0  # first reflections after 3 ms
    tail *= np.sqrt(0.5 / np.sum(tail**2))  # reverberant energy 3 dB below the direct path
    tail[0] = 1.0
    return tail


def reverb(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    y = signal.fftconvolve(x, room_impulse(rng))[: len(x)]
    return (y * (np.max(np.abs(x)) / (np.max(np.abs(y)) + 1e-12))).astype(np.float32)


def excerpt(x: np.ndarray, rng: np.random.Generator, seconds: float = 3.0) -> tuple[np.ndarray, int]:
    """A ``seconds`` excerpt at a random offset, and the offset (in samples)."""
    n = int(seconds * RATE)
    if len(x) <= n:
        return x, 0
    start = int(rng.integers(0, len(x) - n + 1))
    return x[start : start + n], start


def concatenate(x: np.ndarray, others: Sequence[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """``x`` between 1-4 s of one unmarked speaker before and 1-4 s of another after."""
    a, b = rng.choice(len(others), size=2, replace=False)
    before = others[a][: int(rng.uniform(1, 4) * RATE)]
    after = others[b][: int(rng.uniform(1, 4) * RATE)]
    return np.concatenate([before, x, after]).astype(np.float32)


def attacks(others: Sequence[np.ndarray]) -> dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]]:
    """Each attack of the suite by name: ``f(samples, rng) -> samples`` (16 kHz)."""
    return {
        "none": lambda x, rng: x,
        "opus_16k": lambda x, rng: codec(x, ["-c:a", "libopus", "-b:a", "16k", "-application", "voip"], "ogg"),
        "opus_24k": lambda x, rng: codec(x, ["-c:a", "libopus", "-b:a", "24k", "-application", "voip"], "ogg"),
        "mp3_64k": lambda x, rng: codec(x, ["-c:a", "libmp3lame", "-b:a", "64k"], "mp3"),
        "aac_64k": lambda x, rng: codec(x, ["-c:a", "aac", "-b:a", "64k"], "adts"),
        "telephone_8k": lambda x, rng: telephone(x),
        "gain_+10dB": lambda x, rng: gain(x, 10.0),
        "gain_-10dB": lambda x, rng: gain(x, -10.0),
        "white_noise_20dB": lambda x, rng: add_noise(x, rng.standard_normal(len(x)).astype(np.float32), 20.0),
        "babble_20dB": lambda x, rng: add_noise(x, babble(others, len(x), rng), 20.0),
        "reverb_rt60_0.3s": reverb,
    }
