"""What makes the strong method's match hold on noisy, far-field sources: the bank's noise-robust
query map (fitted by least squares, saved and loaded with the bank), and speech activity measured
against the clip's noise floor."""

from __future__ import annotations

import numpy as np
import pytest

from transforms.disguise import bank as voice_bank


def _unit(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def test_a_fitted_key_map_recovers_a_linear_relation_from_noisy_frames_with_context():
    rng = np.random.default_rng(0)
    dims = voice_bank.ENCODER_DIMS
    truth = rng.standard_normal(((2 * 1 + 1) * dims + 1, 8)).astype(np.float32) / np.sqrt(dims)
    pairs, held_out = [], None
    for i in range(12):
        frames = rng.standard_normal((200, dims)).astype(np.float32)
        keys = _unit(voice_bank.map_inputs(frames, 1) @ truth)
        noisy = frames + 0.05 * rng.standard_normal(frames.shape).astype(np.float32)
        if i == 11:
            held_out = (noisy, keys)
        else:
            pairs.append((noisy, keys))
    fitted = voice_bank.fit_key_map(pairs, context=1, ridge=1e-4)
    assert voice_bank.key_map_context(fitted) == 1
    predicted = _unit(voice_bank.map_inputs(held_out[0], 1) @ fitted)
    assert np.mean(np.sum(predicted * held_out[1], axis=1)) > 0.95


def test_map_inputs_repeat_the_edges_and_append_a_bias():
    frames = np.arange(3 * voice_bank.ENCODER_DIMS, dtype=np.float32).reshape(3, -1)
    x = voice_bank.map_inputs(frames, 1)
    assert x.shape == (3, 3 * voice_bank.ENCODER_DIMS + 1)
    dims = voice_bank.ENCODER_DIMS
    assert np.array_equal(x[0, :dims], frames[0]) and np.array_equal(x[0, dims : 2 * dims], frames[0])
    assert np.array_equal(x[2, 2 * dims : 3 * dims], frames[2]) and np.all(x[:, -1] == 1.0)


def test_a_bank_without_a_map_keys_a_source_like_itself_and_one_with_a_map_uses_it(tmp_path):
    bank = voice_bank.load_bank()
    rng = np.random.default_rng(1)
    frames = rng.standard_normal((50, voice_bank.ENCODER_DIMS)).astype(np.float32)
    positions = np.arange(50)
    assert bank.key_map is None
    assert np.array_equal(bank.query_keys(frames, positions), bank.project(frames, positions))

    dims = bank.keys.shape[1]
    key_map = rng.standard_normal((3 * voice_bank.ENCODER_DIMS + 1, dims)).astype(np.float32)
    path = str(tmp_path / "mapped.npz")
    voice_bank.save_bank(bank._replace(key_map=key_map), path)
    mapped = voice_bank.load_bank(path)
    assert mapped.key_map.dtype == np.float32 and np.array_equal(mapped.key_map, key_map)  # kept at full precision
    expected = _unit(voice_bank.map_inputs(frames, 1) @ key_map)
    assert np.allclose(mapped.query_keys(frames, positions), expected, atol=1e-5)
    assert np.array_equal(mapped.query_keys(frames, positions, robust=False), bank.project(frames, positions))


def _bursts(noise_db: float | None) -> np.ndarray:
    """1 s on, 1 s off, three times; the pauses hold noise ``noise_db`` below the bursts (or silence)."""
    rng = np.random.default_rng(2)
    t = np.arange(6 * 16000) / 16000
    on = (np.floor(t) % 2 == 0).astype(float)
    x = 0.3 * np.sin(2 * np.pi * 150 * t) * on
    if noise_db is not None:
        x += 0.3 / np.sqrt(2) * 10 ** (noise_db / 20) * rng.standard_normal(len(t))
    return x.astype(np.float32)


def test_in_a_noisy_room_only_the_noise_floor_rule_finds_the_pauses():
    frames = 300
    pauses = np.floor(np.arange(frames) * 0.02) % 2 == 1
    noisy = _bursts(-15.0)
    assert voice_bank.frame_activity(noisy, frames, rule="peak").all()  # every frame within 40 dB of the loudest
    floor_rule = voice_bank.frame_activity(noisy, frames, rule="noise_floor")
    assert floor_rule[~pauses].mean() > 0.95 and floor_rule[pauses].mean() < 0.05


def test_on_clean_audio_both_activity_rules_agree():
    clean = _bursts(None)
    peak = voice_bank.frame_activity(clean, 300, rule="peak")
    floor_rule = voice_bank.frame_activity(clean, 300, rule="noise_floor")
    assert np.mean(peak == floor_rule) > 0.98


def test_the_dynamic_range_tells_a_noisy_recording_from_a_clean_one():
    assert voice_bank.dynamic_range_db(_bursts(None)) > 60
    assert 10 < voice_bank.dynamic_range_db(_bursts(-15.0)) < 20
    assert voice_bank.dynamic_range_db(np.zeros(100, np.float32)) == float("inf")  # too short to judge


@pytest.mark.parametrize("params", [{"f0_method": "harvest"}, {"noisy_below_db": 80.0}, {"noisy_below_db": 0.0}])
def test_the_noise_robust_options_convert_a_clip(params):
    from transforms import disguise as voice

    rng = np.random.default_rng(3)
    clip = (_bursts(-20.0)[:32000] + 0.01 * rng.standard_normal(32000)).astype(np.float32)
    built = voice.build_params("knn_vc", params)
    out = voice.disguise(clip, 16000, "knn_vc", built, voice.voice_rng(b"k" * 32, "acct", "e1"))
    assert len(out) == len(clip) and np.isfinite(out).all()
    assert np.corrcoef(out, clip)[0, 1] < 0.5


def test_only_a_source_judged_noisy_goes_through_the_banks_map(tmp_path):
    from transforms import disguise as voice

    bank = voice_bank.load_bank()
    rng = np.random.default_rng(4)
    key_map = rng.standard_normal((3 * voice_bank.ENCODER_DIMS + 1, bank.keys.shape[1])).astype(np.float32)
    path = str(tmp_path / "mapped.npz")
    voice_bank.save_bank(bank._replace(key_map=key_map), path)
    clip = (_bursts(-15.0)[:32000]).astype(np.float32)  # dynamic range about 15 dB

    def convert(bank_path: str, noisy_below_db: float) -> np.ndarray:
        params = voice.build_params("knn_vc", {"bank_path": bank_path, "noisy_below_db": noisy_below_db})
        return voice.disguise(clip, 16000, "knn_vc", params, voice.voice_rng(b"k" * 32, "acct", "e1"))

    shipped = convert("", 0.0)
    assert np.array_equal(convert(path, 0.0), shipped)  # judged clean: the map is not used
    assert np.array_equal(convert(path, 10.0), shipped)  # 15 dB is not under 10 dB
    assert not np.allclose(convert(path, 30.0), shipped)  # judged noisy: mapped keys, other frames
    always = voice.build_params("knn_vc", {"bank_path": path, "robust_keys": "always"})
    mapped = voice.disguise(clip, 16000, "knn_vc", always, voice.voice_rng(b"k" * 32, "acct", "e1"))
    assert not np.allclose(mapped, shipped)  # mapped although judged clean


def test_a_weighted_pair_counts_as_that_many_copies():
    rng = np.random.default_rng(5)
    frames = [rng.standard_normal((40, voice_bank.ENCODER_DIMS)).astype(np.float32) for _ in range(3)]
    keys = [_unit(rng.standard_normal((40, 4))) for _ in range(3)]
    weighted = voice_bank.fit_key_map([(frames[0], keys[0], 3), (frames[1], keys[1]), (frames[2], keys[2])], 0, 0.1)
    repeated = voice_bank.fit_key_map([(frames[0], keys[0])] * 3 + [(frames[1], keys[1]), (frames[2], keys[2])], 0, 0.1)
    assert np.allclose(weighted, repeated, atol=1e-5)
