"""Voice disguise: pure DSP functions, the keyed pseudo-voice, and the DisguiseVoice stage."""

from __future__ import annotations

import datetime
import hashlib

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that

from tests import voice_reference
from transforms import disguise as voice
from transforms.core.keys import KeySource, derive_key
from transforms.core.records import Clip
from transforms.disguise import METHODS
from transforms.disguise import dsp as voice_dsp
from transforms.disguise.pseudo_voice import draw_pseudo_voice
from transforms.voice import DisguiseVoice, VoiceConfig, validate_voice_config

RATE = 16000
KEY = b"v" * 32


def harmonic(f0: float, seconds: float = 1.0, rate: int = RATE, seed: int = 0) -> np.ndarray:
    """A voiced, vowel-like test signal: harmonics of f0 under a two-formant envelope, plus noise."""
    t = np.arange(int(seconds * rate)) / rate
    f0_t = f0 * (1.0 + 0.03 * np.sin(2 * np.pi * 3 * t))
    phase = 2 * np.pi * np.cumsum(f0_t) / rate
    x = np.zeros_like(t)
    for h in range(1, int(4000 / f0)):
        freq = h * f0
        gain = np.exp(-(((freq - 700) / 300) ** 2)) + 0.5 * np.exp(-(((freq - 1800) / 400) ** 2)) + 0.02
        x += gain * np.sin(h * phase)
    x += 0.002 * np.random.default_rng(seed).standard_normal(len(t))
    return (0.3 * x / np.max(np.abs(x))).astype(np.float32)


def dominant_hz(x: np.ndarray, rate: int = RATE) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


# ------------------------------------------------------------------ pure DSP


def test_when_stft_then_istft_then_signal_is_reconstructed():
    x = harmonic(150)
    n_fft, hop = voice_dsp.frame_sizes(RATE)
    y = voice_dsp.istft(voice_dsp.stft(x, n_fft, hop), n_fft, hop, len(x))
    assert len(y) == len(x)
    assert np.allclose(y, x, atol=1e-5)


@pytest.mark.parametrize("ratio", [0.8, 1.26, 1.5])
def test_when_pitch_shifted_then_frequency_moves_by_ratio_and_length_is_kept(ratio):
    t = np.arange(RATE) / RATE
    x = 0.5 * np.sin(2 * np.pi * 220 * t)
    y = voice_reference.pitch_shift(x, RATE, ratio)
    assert len(y) == len(x)
    assert dominant_hz(y[2000:-2000]) == pytest.approx(220 * ratio, rel=0.03)


def _reference_phase_vocoder(spec: np.ndarray, stretch: float, n_fft: int, hop: int) -> np.ndarray:
    """The straightforward per-frame phase vocoder (identity phase locking by searchsorted)."""
    n_frames, bins = spec.shape
    steps = np.arange(0, n_frames - 1, 1.0 / stretch)
    steps = steps[steps < n_frames - 1]
    mag, phase = np.abs(spec), np.angle(spec)
    left = steps.astype(int)
    frac = (steps - left)[:, None]
    out_mag = (1.0 - frac) * mag[left] + frac * mag[left + 1]
    omega = 2.0 * np.pi * hop * np.arange(bins) / n_fft
    dphi = phase[left + 1] - phase[left] - omega
    dphi = dphi - 2.0 * np.pi * np.round(dphi / (2.0 * np.pi)) + omega
    acc = np.cumsum(np.vstack([phase[:1], dphi[:-1]]), axis=0)
    idx = np.arange(bins)
    locked = np.empty_like(acc)
    for t in range(len(steps)):
        m = out_mag[t]
        peaks = idx[1:-1][(m[1:-1] >= m[:-2]) & (m[1:-1] > m[2:])]
        if len(peaks) == 0:
            locked[t] = acc[t]
            continue
        owner = peaks[np.searchsorted((peaks[:-1] + peaks[1:]) // 2, idx, side="right")]
        src = phase[left[t]]
        locked[t] = acc[t, owner] + src - src[owner]
    return out_mag * np.exp(1j * locked)


def _reference_owners(peak: np.ndarray) -> np.ndarray:
    idx = np.arange(peak.shape[1])
    owners = np.empty(peak.shape, int)
    for t, row in enumerate(peak):
        peaks = idx[row]
        owners[t] = idx if len(peaks) == 0 else peaks[np.searchsorted((peaks[:-1] + peaks[1:]) // 2, idx, "right")]
    return owners


@pytest.mark.parametrize("seed", range(6))
def test_when_peak_owners_found_for_all_frames_at_once_then_they_match_the_per_frame_search(seed):
    rng = np.random.default_rng(seed)
    frames, bins = int(rng.integers(1, 40)), int(rng.integers(2, 60))
    peak = rng.random((frames, bins)) < rng.uniform(0.02, 0.6)
    peak[rng.random(frames) < 0.2] = False  # some frames without peaks
    owners = voice_reference.peak_owners(peak)
    assert np.array_equal(owners // bins, np.repeat(np.arange(frames)[:, None], bins, axis=1))
    assert np.array_equal(owners % bins, _reference_owners(peak))


@pytest.mark.parametrize("stretch", [0.75, 1.0, 1.26, 1.5])
def test_when_phase_vocoder_runs_then_it_matches_the_per_frame_reference(stretch):
    rng = np.random.default_rng(7)
    spec = rng.standard_normal((60, 257)) + 1j * rng.standard_normal((60, 257))
    spec[20] = 0.0  # a silent frame: no peaks, every bin keeps its own phase
    expected = _reference_phase_vocoder(spec, stretch, 512, 128)
    assert np.allclose(voice_dsp.phase_vocoder(spec, stretch, 512, 128), expected, rtol=0, atol=1e-9)
    single = voice_dsp.phase_vocoder(spec.astype(np.complex64), stretch, 512, 128)
    assert single.dtype == np.complex64
    assert np.allclose(single, expected, rtol=0, atol=1e-3)


def test_when_stretch_lands_exactly_on_the_last_frame_then_phase_vocoder_stays_in_range():
    # np.arange(0, 260, 1 / 1.3) overshoots 260 by a rounding error; the old code indexed past the end.
    spec = np.ones((261, 257), np.complex64)
    out = voice_dsp.phase_vocoder(spec, 1.3, 512, 128)
    assert len(out) == 338 and np.all(np.isfinite(out))


def test_when_pitch_shifted_spectrum_then_frames_stay_on_the_input_grid():
    x = np.zeros(RATE)
    t = np.arange(RATE // 2) / RATE
    x[RATE // 2 :] = 0.5 * np.sin(2 * np.pi * 220 * t)  # a tone from 0.5 s on
    n_fft, hop = voice_dsp.frame_sizes(RATE)
    for ratio in (0.8, 1.3):
        energy = (np.abs(voice_dsp.pitch_shift_spectrum(x, RATE, ratio, 4, np.float32)) ** 2).sum(axis=1)
        onset = int(np.argmax(energy > 0.1 * energy.max()))
        assert abs(onset - (RATE // 2) / hop) <= 2


@pytest.mark.parametrize("n_ceps", [10, 40, 80])
def test_when_cepstral_basis_applied_then_it_equals_fft_liftering(n_ceps):
    log_mag = np.random.default_rng(n_ceps).standard_normal((30, 257))
    to_ceps, from_ceps = voice_dsp.cepstral_basis(257, n_ceps)
    assert np.allclose(log_mag @ to_ceps @ from_ceps, voice_reference.cepstral_envelope(log_mag, n_ceps), atol=1e-10)


def test_when_matmul_is_split_into_row_blocks_then_the_product_is_unchanged():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((700, 257)).astype(np.float32), rng.standard_normal((257, 40)).astype(np.float32)
    assert np.allclose(voice_dsp.matmul_one_thread(a, b), a @ b, atol=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("overlap", [4, 8])
def test_when_stft_then_istft_in_either_precision_then_signal_is_reconstructed(dtype, overlap):
    x = harmonic(150)
    n_fft, hop = voice_dsp.frame_sizes(RATE, overlap)
    spec = voice_dsp.stft(x, n_fft, hop, dtype)
    y = voice_dsp.istft(spec, n_fft, hop, len(x))
    assert spec.dtype == (np.complex64 if dtype == np.float32 else np.complex128) and y.dtype == dtype
    assert np.allclose(y, x, atol=1e-5)


@pytest.mark.parametrize("alpha", [0.85, 1.18])
def test_when_envelope_warped_then_peak_moves_by_alpha(alpha):
    bins = 257
    env = -((np.arange(bins) - 60.0) ** 2) / 50.0
    warped = voice_dsp.warp_log_envelope(env[None, :], alpha)
    assert np.argmax(warped[0]) == pytest.approx(60 * alpha, abs=1)


def test_when_cepstral_f0_of_voiced_signal_then_close_to_true_f0():
    x = harmonic(130)
    n_fft, hop = voice_dsp.frame_sizes(RATE)
    spec = voice_dsp.stft(x, n_fft, hop)
    power = np.abs(spec) ** 2
    active = voice_dsp.active_frames(power.sum(axis=1))
    f0 = voice_dsp.cepstral_f0(0.5 * np.log(power + 1e-9), RATE, active)
    assert f0 == pytest.approx(130, rel=0.06)


def test_when_noise_only_then_cepstral_f0_is_none():
    noise = np.random.default_rng(1).standard_normal(RATE) * 0.1
    n_fft, hop = voice_dsp.frame_sizes(RATE)
    power = np.abs(voice_dsp.stft(noise, n_fft, hop)) ** 2
    assert voice_dsp.cepstral_f0(0.5 * np.log(power), RATE, voice_dsp.active_frames(power.sum(axis=1))) is None


@pytest.mark.parametrize("target", [-20.0, -26.0])
def test_when_loudness_normalised_then_speech_rms_hits_target_and_peak_stays_below_ceiling(target):
    x = harmonic(200) * 0.05
    y = voice_dsp.normalise_loudness(x, RATE, target, -1.0)
    rms_db = 20 * np.log10(np.sqrt(np.mean(y.astype(np.float64) ** 2)))
    assert rms_db == pytest.approx(target, abs=1.0)
    assert np.max(np.abs(y)) <= 10 ** (-1.0 / 20) + 1e-6


def test_when_target_loudness_would_clip_then_peak_ceiling_wins():
    x = np.zeros(RATE)
    x[100] = 0.5  # one spike: the RMS target would push it far past full scale
    x[200:1000] = 0.001
    y = voice_dsp.normalise_loudness(x, RATE, -10.0, -1.0)
    assert np.max(np.abs(y)) == pytest.approx(10 ** (-1.0 / 20), rel=1e-4)


def test_when_nan_reaches_normalisation_then_it_becomes_zero():
    x = harmonic(200)
    x[10] = np.nan
    assert np.all(np.isfinite(voice_dsp.normalise_loudness(x, RATE)))


def test_when_mcadams_coefficient_is_one_then_signal_is_nearly_unchanged():
    x = harmonic(140)
    y = voice_dsp.mcadams(x, RATE, 1.0)
    assert np.corrcoef(x[400:-400], y[400:-400])[0, 1] > 0.99


# ------------------------------------------------------------------ plug-ins through disguise()


@pytest.mark.parametrize("method", sorted(METHODS))
def test_when_disguised_then_length_kept_finite_unclipped_and_changed(method):
    x = harmonic(120)
    params = voice.build_params(method, {"f0_method": "dio"} if method.startswith("world") else {})
    y = voice.disguise(x, RATE, method, params, voice.voice_rng(KEY, "acct", "2026-07"))
    assert y.dtype == np.float32 and len(y) == len(x)
    assert np.all(np.isfinite(y))
    assert np.max(np.abs(y)) <= 10 ** (voice.PEAK_DBFS / 20) + 1e-6
    assert abs(np.corrcoef(x, y)[0, 1]) < 0.9


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("length", [0, 1, 160, 3000])
def test_when_clip_is_very_short_then_length_is_kept(method, length):
    x = harmonic(180)[:length]
    params = voice.build_params(method, {"f0_method": "dio"} if method.startswith("world") else {})
    y = voice.disguise(x, RATE, method, params, voice.voice_rng(KEY, "acct", "2026-07"))
    assert len(y) == length and np.all(np.isfinite(y))


@pytest.mark.parametrize("method", sorted(METHODS))
def test_when_clip_is_silent_then_output_is_silent(method):
    params = voice.build_params(method, {})
    y = voice.disguise(np.zeros(8000, np.float32), RATE, method, params, voice.voice_rng(KEY, "a", "e"))
    assert len(y) == 8000 and not np.any(y)


def test_when_input_holds_nan_then_disguise_refuses():
    x = harmonic(150)
    x[5] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        voice.disguise(x, RATE, "pseudo_voice", voice.build_params("pseudo_voice", {}), voice.voice_rng(KEY, "a", "e"))


def test_when_pseudo_voice_applied_then_pitch_moves_to_the_drawn_target():
    params = voice.build_params("pseudo_voice", {"max_shift_semitones": 12})
    target = draw_pseudo_voice(voice.voice_rng(KEY, "acct", "2026-07"), params).f0_hz
    y = voice.disguise(harmonic(110, 2.0), RATE, "pseudo_voice", params, voice.voice_rng(KEY, "acct", "2026-07"))
    n_fft, hop = voice_dsp.frame_sizes(RATE)
    power = np.abs(voice_dsp.stft(y, n_fft, hop)) ** 2
    f0 = voice_dsp.cepstral_f0(0.5 * np.log(power + 1e-9), RATE, voice_dsp.active_frames(power.sum(axis=1)))
    assert f0 == pytest.approx(target, rel=0.08)


# ------------------------------------------------------------------ keyed parameters


def _pseudo(key=KEY, account="acct", epoch="2026-07", clip=None):
    params = voice.build_params("pseudo_voice", {})
    return draw_pseudo_voice(voice.voice_rng(key, account, epoch, clip), params)


def test_when_same_key_speaker_and_epoch_then_same_pseudo_voice():
    assert _pseudo() == _pseudo()


@pytest.mark.parametrize(
    "other",
    [{"key": b"w" * 32}, {"epoch": "2027-01"}, {"account": "other"}, {"clip": "clip-1"}],
)
def test_when_key_epoch_speaker_or_clip_mode_differs_then_pseudo_voice_differs(other):
    assert _pseudo(**other) != _pseudo()


def test_when_per_clip_then_each_clip_gets_its_own_pseudo_voice():
    assert _pseudo(clip="clip-1") != _pseudo(clip="clip-2")


def test_pseudo_voices_spread_over_the_target_range():
    f0s = [_pseudo(account=f"a{i}").f0_hz for i in range(200)]
    assert 95 <= min(f0s) < 110 and 210 < max(f0s) <= 230


# ------------------------------------------------------------------ config


@pytest.mark.parametrize(
    "method, params, message",
    [
        ("nope", {}, "unknown method"),
        ("pseudo_voice", {"max_shift_semitones": 30}, "max_shift_semitones"),
        ("pseudo_voice", {"colour": 1}, "colour"),
        ("world_shift", {"f0_method": "yin"}, "f0_method"),
        ("mcadams", {"lpc_order": 2}, "lpc_order"),
    ],
)
def test_when_voice_config_is_bad_then_validation_names_it(method, params, message):
    with pytest.raises(ValueError, match=message):
        validate_voice_config(VoiceConfig(method=method, params=params))


def test_when_voice_config_has_unknown_key_then_it_is_rejected():
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        VoiceConfig(method="pseudo_voice", seed=3)


def test_default_config_uses_a_registered_method(job_config):
    assert job_config.voice.method in METHODS
    validate_voice_config(job_config.voice)


# ------------------------------------------------------------------ Beam stage


def _clip(clip_id: str, samples, epoch="2026-07", account="ACCT-1") -> Clip:
    return Clip(
        clip_id=clip_id,
        audio_uri=f"audio/{clip_id}.wav",
        transcript="hello",
        account_id=account,
        recorded_at=datetime.datetime(2026, 7, 3, tzinfo=datetime.timezone.utc),
        samples=samples,
        sample_rate=RATE,
        pseudonym_epoch=epoch,
    )


def test_disguise_voice_stage_routes_good_clips_to_main_and_bad_ones_to_failures():
    key_source = KeySource("ephemeral", _ephemeral=hashlib.sha256(b"voice test key").hexdigest().encode())
    x = harmonic(120)
    config = VoiceConfig(method="pseudo_voice")
    expected = voice.disguise(
        x,
        RATE,
        "pseudo_voice",
        voice.build_params("pseudo_voice", {}),
        voice.voice_rng(derive_key(key_source.keyring().key_for("2026-07"), "voice"), "ACCT-1", "2026-07"),
    )
    bad = x.copy()
    bad[3] = np.nan
    clips = [_clip("good", x), _clip("nan", bad), _clip("no-epoch", x, epoch=""), _clip("no-audio", None)]

    def check_main(out):
        assert [c.clip_id for c in out] == ["good"]
        assert np.allclose(out[0].samples, expected, atol=1e-6)

    def check_failures(out):
        assert sorted(f.clip_id for f in out) == ["nan", "no-audio", "no-epoch"]
        assert all(f.stage == "voice" for f in out)
        assert all("ACCT-1" not in f.message for f in out)

    with TestPipeline() as p:
        result = p | beam.Create(clips) | DisguiseVoice(config, key_source)
        assert_that(result.main, check_main, label="main")
        assert_that(result.failures, check_failures, label="failures")
