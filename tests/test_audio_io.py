"""Real audio decoding of every supported input shape, and encoding for reviewers."""

import os
import socket
import subprocess
import time

import imageio_ffmpeg
import numpy as np
import pytest
import soundfile as sf

from transforms import audio_io
from transforms.core.failures import ClipError

RATE = 16000


def tone(rate: int, seconds: float = 1.0, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def ffmpeg_encode(src, dst, *codec_args):
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(src), *codec_args, str(dst)]
    subprocess.run(cmd, check=True)


@pytest.mark.parametrize(
    "rate, channels, subtype, container, suffix",
    [
        (16000, 1, "PCM_16", "WAV", "wav"),
        (8000, 1, "PCM_16", "WAV", "wav"),
        (48000, 2, "PCM_24", "WAV", "wav"),
        (44100, 2, "PCM_16", "WAV", "wav"),
        (22050, 1, "PCM_U8", "WAV", "wav"),
        (16000, 1, "FLOAT", "WAV", "wav"),
        (22050, 1, "PCM_16", "FLAC", "flac"),
        (48000, 2, "VORBIS", "OGG", "ogg"),
    ],
)
def test_when_audio_has_any_rate_width_or_channels_then_it_decodes_to_mono_16k(
    tmp_path, rate, channels, subtype, container, suffix
):
    signal = tone(rate)
    data = np.stack([signal] * channels, axis=1) if channels > 1 else signal
    path = tmp_path / f"in.{suffix}"
    sf.write(path, data, rate, subtype=subtype, format=container)
    samples = audio_io.load(str(path), RATE, 600)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(len(samples) - RATE) <= RATE * 0.01
    spectrum = np.abs(np.fft.rfft(samples))
    assert abs(np.argmax(spectrum) * RATE / len(samples) - 440) < 5  # still the same tone


@pytest.mark.parametrize("suffix, codec", [("mp3", ["-c:a", "libmp3lame", "-b:a", "64k"]), ("m4a", ["-c:a", "aac"])])
def test_when_audio_is_compressed_then_it_decodes(tmp_path, suffix, codec):
    wav = tmp_path / "in.wav"
    sf.write(wav, tone(44100), 44100)
    out = tmp_path / f"in.{suffix}"
    ffmpeg_encode(wav, out, *codec)
    samples = audio_io.load(str(out), RATE, 600)
    assert 0.9 * RATE < len(samples) < 1.2 * RATE
    assert np.max(np.abs(samples)) > 0.3


@pytest.mark.parametrize(
    "content, code",
    [
        (b"", "audio_empty"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt garbage" * 3, "audio_unreadable"),
        (b"\x00\x01\x02\x03" * 100, "audio_unreadable"),
    ],
)
def test_when_audio_is_empty_or_corrupt_then_a_coded_error_is_raised(tmp_path, content, code):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(ClipError) as info:
        audio_io.load(str(path), RATE, 600)
    assert info.value.code == code


def test_when_audio_is_truncated_then_what_is_there_decodes_or_is_quarantined(tmp_path):
    path = tmp_path / "full.flac"
    sf.write(path, tone(16000, 2.0), 16000, format="FLAC")
    cut = tmp_path / "cut.flac"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    try:
        samples = audio_io.load(str(cut), RATE, 600)
    except ClipError as exc:
        assert exc.code in {"audio_unreadable", "audio_empty"}
    else:
        assert 0 < len(samples) <= 2 * RATE


def test_when_file_is_missing_then_audio_missing(tmp_path):
    with pytest.raises(ClipError) as info:
        audio_io.load(str(tmp_path / "absent.wav"), RATE, 600)
    assert info.value.code == "audio_missing"
    assert "absent" not in info.value.message


def test_when_audio_is_longer_than_the_limit_then_it_is_refused_from_the_header(tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, np.zeros(16000 * 5, np.float32), 16000)
    with pytest.raises(ClipError) as info:
        audio_io.load(str(path), RATE, 2.0)
    assert info.value.code == "audio_too_long"


def test_when_float_audio_has_nan_then_it_is_refused(tmp_path):
    data = tone(16000)
    data[100] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(path, data, 16000, subtype="FLOAT")
    with pytest.raises(ClipError) as info:
        audio_io.load(str(path), RATE, 600)
    assert info.value.code == "audio_invalid_samples"


@pytest.mark.parametrize("fmt, mime", [("flac", "audio/flac"), ("ogg", "audio/ogg")])
def test_when_samples_are_encoded_then_they_decode_back(fmt, mime):
    signal = tone(RATE)
    data, got_mime = audio_io.encode(signal, RATE, fmt)
    assert got_mime == mime
    back, rate = audio_io.decode(data, 600, RATE)
    assert rate == RATE
    assert abs(len(back) - len(signal)) < 0.01 * RATE
    n = min(len(back), len(signal))
    assert np.corrcoef(back[:n], signal[:n])[0, 1] > 0.95


def _fifo(tmp_path):
    path = tmp_path / "pipe.wav"
    os.mkfifo(path)
    return path


def _socket(tmp_path):
    path = tmp_path / "sock.wav"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    return path


def _symlink_to_fifo(tmp_path):
    link = tmp_path / "link.wav"
    link.symlink_to(_fifo(tmp_path))
    return link


@pytest.mark.parametrize(
    "make",
    [
        _fifo,  # opening it for reading would block until a writer comes: the whole job hung
        lambda tmp_path: tmp_path,  # a directory
        lambda tmp_path: "/dev/zero",  # a device that never ends
        _socket,
        _symlink_to_fifo,
    ],
    ids=["fifo", "directory", "device", "socket", "symlink-to-fifo"],
)
def test_when_audio_path_is_not_a_regular_file_then_it_is_refused_without_blocking(tmp_path, make):
    path = str(make(tmp_path))
    started = time.monotonic()
    with pytest.raises(ClipError) as info:
        audio_io.load(path, RATE, 600)
    assert info.value.code == "audio_not_a_file"
    assert time.monotonic() - started < 5
    assert path not in info.value.message


def test_when_ffmpeg_takes_too_long_then_it_is_killed_and_the_clip_refused(tmp_path, monkeypatch):
    slow = tmp_path / "slow-ffmpeg"
    slow.write_text("#!/bin/sh\nexec sleep 30\n")
    slow.chmod(0o755)
    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", lambda: str(slow))
    path = tmp_path / "odd.bin"
    path.write_bytes(b"\x00\x01\x02\x03" * 100)  # not for libsndfile: goes to ffmpeg
    started = time.monotonic()
    with pytest.raises(ClipError) as info:
        audio_io.load(str(path), RATE, 600, timeout_s=0.5)
    assert info.value.code == "audio_timeout"
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("value, ok", [(60.0, True), (0.5, True), (0, False), (-1, False), (86400, False)])
def test_decode_timeout_is_validated_with_the_config(value, ok):
    from pipeline.config import DEFAULT_CONFIG_PATH, ConfigError, parse_config

    configs = os.path.dirname(DEFAULT_CONFIG_PATH)
    if ok:
        assert parse_config({"audio": {"decode_timeout_s": value}}, configs).audio.decode_timeout_s == value
    else:
        with pytest.raises(ConfigError):
            parse_config({"audio": {"decode_timeout_s": value}}, configs)
