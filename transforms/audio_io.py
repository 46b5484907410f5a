"""Audio decoding and encoding as plain functions (no Beam).

In:  a URI readable through ``apache_beam.io.filesystems.FileSystems`` (local path, ``gs://``, …)
     holding WAV, FLAC, Ogg Vorbis or MP3 at any rate, mono or stereo, any sample width; any other
     container ffmpeg understands is decoded through pydub with the ffmpeg binary from the
     ``imageio-ffmpeg`` wheel (no apt, no root).
Out: mono float32 samples in [-1, 1] at the configured rate; encoded FLAC or Ogg bytes.
Fails: :class:`transforms.core.failures.ClipError` with a code — ``audio_missing``,
     ``audio_not_a_file``, ``audio_unreadable``, ``audio_empty``, ``audio_too_long``,
     ``audio_invalid_samples``, ``audio_timeout`` — and a message that names no file and no clip data.

What bounds one clip's decoding, so a hostile or broken input cannot stall a worker:
     - a local path must be a regular file, checked before it is opened (opening a FIFO blocks
       until someone writes to it; a device such as ``/dev/zero`` never ends): ``audio_not_a_file``.
       It is opened non-blocking and checked again on the open descriptor, so swapping the file
       for a FIFO in between does not hang either;
     - length: ``max_duration_s`` from the header before any sample is read, and again while
       reading (headers lie); the ffmpeg path reads at most ``max_bytes`` and asks ffmpeg for at
       most ``max_duration_s`` + 1 s of output;
     - time: the ffmpeg subprocess is killed after ``timeout_s`` (config ``audio.decode_timeout_s``):
       ``audio_timeout``. libsndfile decodes in-process from a regular file, bounded by the length
       checks above; remote filesystems (``gs://``) are bounded by their clients' own timeouts.

libsndfile (through ``soundfile``) is the fast path: it decodes in-process from a seekable
stream, so a clip's length is checked from its header before any sample is read and a one-hour
recording never sits in memory. Spawning ffmpeg costs tens of milliseconds per clip, so it is
kept for formats libsndfile cannot read.
"""

from __future__ import annotations

import io
import os
import stat
import subprocess
import warnings

import numpy as np
import soundfile as sf
import soxr

from transforms.core.failures import ClipError

_BLOCK_FRAMES = 1 << 16
DEFAULT_DECODE_TIMEOUT_S = 60.0
MIME_TYPES = {"flac": "audio/flac", "ogg": "audio/ogg"}
_SF_FORMATS = {"flac": ("FLAC", "PCM_16"), "ogg": ("OGG", "VORBIS")}


def _open(uri: str):
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    if FileSystems.get_scheme(uri) is None:
        return _open_local(uri)
    try:
        return FileSystems.open(uri, compression_type=CompressionTypes.UNCOMPRESSED)
    except Exception:  # noqa: BLE001 - not found, no permission, bad scheme: all "missing"
        raise ClipError("audio_missing", "audio file not found or not readable") from None


def _not_a_file() -> ClipError:
    return ClipError("audio_not_a_file", "audio path is not a regular file (a FIFO, device, socket or directory)")


def _open_local(path: str):
    """A local regular file, opened for reading; anything else is refused before it can block.

    ``stat`` first (a device is never opened), then a non-blocking open and ``fstat`` on the descriptor
    (a FIFO put in the file's place in between is refused too, without waiting for a writer)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise _not_a_file()
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        raise ClipError("audio_missing", "audio file not found or not readable") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _not_a_file()
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def load(
    uri: str,
    target_rate: int,
    max_duration_s: float,
    max_bytes: int = 1 << 30,
    timeout_s: float = DEFAULT_DECODE_TIMEOUT_S,
) -> np.ndarray:
    """Decode the audio at ``uri`` (any Beam filesystem) to mono float32 at ``target_rate``.

    libsndfile reads straight from the seekable stream; only formats it cannot read are
    fetched whole (at most ``max_bytes``) for ffmpeg, which gets ``timeout_s`` seconds.
    """
    with _open(uri) as handle:
        try:
            samples, rate = _decode_soundfile(handle, max_duration_s)
        except ClipError:
            raise
        except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
            handle.seek(0)
            data = handle.read(max_bytes + 1)
            if not data:
                raise ClipError("audio_empty", "audio file is empty") from None
            if len(data) > max_bytes:
                raise ClipError("audio_too_long", f"audio file is larger than {max_bytes} bytes") from None
            samples, rate = _decode_ffmpeg(data, max_duration_s, timeout_s)
    return _finish(samples, rate, target_rate)


def decode(
    data: bytes, max_duration_s: float, target_rate: int | None = None, timeout_s: float = DEFAULT_DECODE_TIMEOUT_S
) -> tuple[np.ndarray, int]:
    """Decode in-memory encoded audio to mono float32; ``(samples, rate)`` at ``target_rate`` if
    given, else at the audio's own rate."""
    if not data:
        raise ClipError("audio_empty", "audio file is empty")
    try:
        samples, rate = _decode_soundfile(io.BytesIO(data), max_duration_s)
    except ClipError:
        raise
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
        samples, rate = _decode_ffmpeg(data, max_duration_s, timeout_s)
    target_rate = target_rate or rate
    return _finish(samples, rate, target_rate), target_rate


def _decode_soundfile(stream, max_duration_s: float) -> tuple[np.ndarray, int]:
    with sf.SoundFile(stream) as audio:
        rate = audio.samplerate
        if audio.frames > 0 and audio.frames / rate > max_duration_s:
            raise ClipError("audio_too_long", f"audio is longer than {max_duration_s:g} s")
        max_frames = int(max_duration_s * rate) + 1
        blocks, total = [], 0
        # Read block by block and mix down at once, so stereo 48 kHz never doubles in memory.
        for block in audio.blocks(blocksize=_BLOCK_FRAMES, dtype="float32", always_2d=True):
            blocks.append(block.mean(axis=1, dtype=np.float32))
            total += len(block)
            if total > max_frames:  # headers can lie (e.g. MP3 without frame count)
                raise ClipError("audio_too_long", f"audio is longer than {max_duration_s:g} s")
    samples = np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
    return samples, rate


def _decode_ffmpeg(data: bytes, max_duration_s: float, timeout_s: float) -> tuple[np.ndarray, int]:
    """Any ffmpeg format: ffmpeg converts to WAV, pydub reads the WAV (sample widths, channels).
    ffmpeg is killed after ``timeout_s`` seconds (``audio_timeout``)."""
    import imageio_ffmpeg

    with warnings.catch_warnings():  # pydub warns at import when ffmpeg is not on PATH
        warnings.simplefilter("ignore", RuntimeWarning)
        from pydub import AudioSegment

    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin",
        "-i", "pipe:0", "-t", f"{max_duration_s + 1:.3f}", "-vn", "-f", "wav", "pipe:1",
    ]  # fmt: skip
    try:
        proc = subprocess.run(command, input=data, capture_output=True, check=False, timeout=timeout_s)
    except subprocess.TimeoutExpired:  # run() has killed and reaped ffmpeg
        raise ClipError("audio_timeout", f"audio decoding took longer than {timeout_s:g} s") from None
    if proc.returncode != 0 or len(proc.stdout) <= 44:
        raise ClipError("audio_unreadable", "audio could not be decoded (not a supported audio format)")
    try:
        segment = AudioSegment.from_wav(io.BytesIO(proc.stdout))
    except Exception:  # noqa: BLE001 - a broken stream ffmpeg half-decoded
        raise ClipError("audio_unreadable", "audio could not be decoded") from None
    if segment.duration_seconds > max_duration_s:
        raise ClipError("audio_too_long", f"audio is longer than {max_duration_s:g} s")
    channels = np.array(segment.get_array_of_samples(), dtype=np.float32).reshape(-1, segment.channels)
    scale = float(1 << (8 * segment.sample_width - 1))
    return channels.mean(axis=1) / scale, segment.frame_rate


def _finish(samples: np.ndarray, rate: int, target_rate: int) -> np.ndarray:
    if samples.size == 0:
        raise ClipError("audio_empty", "audio has no samples")
    if not np.all(np.isfinite(samples)):
        raise ClipError("audio_invalid_samples", "audio contains NaN or infinite samples")
    if rate != target_rate:
        samples = soxr.resample(samples, rate, target_rate, quality="HQ")
    return np.clip(samples, -1.0, 1.0).astype(np.float32, copy=False)


def encode(samples: np.ndarray, rate: int, fmt: str) -> tuple[bytes, str]:
    """Encode mono float samples as FLAC (16-bit) or Ogg Vorbis; returns (bytes, MIME type)."""
    container, subtype = _SF_FORMATS[fmt]
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(samples, -1.0, 1.0), rate, format=container, subtype=subtype)
    return buffer.getvalue(), MIME_TYPES[fmt]
