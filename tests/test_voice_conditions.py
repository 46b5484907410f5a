"""The voice evaluation's recording conditions (pipeline/evaluation/voice_conditions.py): real
pyroomacoustics rooms, noise at the drawn SNR, one channel per speaker, a telephone band."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.evaluation import voice_conditions as vc
from pipeline.evaluation.voice_material import RATE, Item


def _speechlike(seed: int, seconds: float = 2.0) -> np.ndarray:
    """Harmonic bursts with pauses: energy where speech has it, silence between."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    f0 = rng.uniform(100, 220)
    tone = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 20))
    envelope = (np.sin(2 * np.pi * 2.5 * t) > 0).astype(float)
    return (0.2 * tone * envelope / np.max(np.abs(tone))).astype(np.float32)


def _band_energy(samples: np.ndarray, lo: float, hi: float) -> float:
    spectrum = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / RATE)
    return float(spectrum[(freqs >= lo) & (freqs < hi)].sum() / spectrum.sum())


POOL = [_speechlike(100 + i, 3.0) for i in range(4)]


def test_clean_returns_the_item_itself():
    item = Item("s1", "trial", "u/2", _speechlike(1))
    assert vc.degrade(item, "clean", POOL) is item


def test_an_unknown_condition_is_refused():
    with pytest.raises(ValueError, match="unknown recording condition"):
        vc.degrade(Item("s1", "trial", "u/2", _speechlike(1)), "underwater", POOL)


@pytest.mark.parametrize("condition", ["far_field", "far_field_phone"])
def test_a_degraded_item_keeps_its_length_and_fits_the_sample_range_and_repeats(condition):
    item = Item("s1", "trial", "u/2", _speechlike(1))
    first = vc.degrade(item, condition, POOL)
    again = vc.degrade(item, condition, POOL)
    assert first.samples.dtype == np.float32 and len(first.samples) == len(item.samples)
    assert np.max(np.abs(first.samples)) <= 1.0
    assert np.array_equal(first.samples, again.samples)
    assert not np.allclose(first.samples, item.samples)
    other = vc.degrade(item._replace(name="u/1"), condition, POOL)  # another utterance: another room
    assert not np.allclose(first.samples, other.samples)


def test_a_room_response_starts_at_its_direct_path_and_reverberates():
    import pyroomacoustics as pra

    for seed in range(5):
        rir = vc.room_impulse_response(vc.seeded_rng("test", str(seed)))
        assert int(np.argmax(np.abs(rir))) <= 8  # the talker's timing is kept
        rt60 = pra.experimental.measure_rt60(rir, fs=RATE)
        assert 0.1 < rt60 < 1.5


def test_noise_is_added_at_an_snr_inside_the_drawn_range():
    speech = _speechlike(3).astype(np.float64)
    for seed in range(8):
        mixed = vc.add_noise(vc.seeded_rng("snr", str(seed)), speech, POOL)
        noise = mixed - speech
        snr = 10 * np.log10(np.mean(speech**2) / np.mean(noise**2))
        assert vc.SNR_DB[0] - 0.01 <= snr <= vc.SNR_DB[1] + 0.01


def test_a_speaker_keeps_one_channel_and_speakers_differ():
    assert np.array_equal(vc.channel_response("s1", "far_field"), vc.channel_response("s1", "far_field"))
    assert not np.allclose(vc.channel_response("s1", "far_field"), vc.channel_response("s2", "far_field"))


def test_the_telephone_band_removes_what_a_phone_line_cannot_carry():
    rng = np.random.default_rng(4)
    wide = (0.1 * rng.standard_normal(2 * RATE)).astype(np.float64)
    narrow = vc.telephone_band(wide)
    assert len(narrow) == len(wide)
    assert _band_energy(wide, 4000, 8000) > 0.45
    assert _band_energy(narrow, 4200, 8000) < 0.01
    assert _band_energy(narrow, 0, 150) < 0.01


def test_babble_needs_other_speakers():
    with pytest.raises(ValueError, match="babble"):
        vc.babble(vc.seeded_rng("x"), 1000, [])


def test_the_command_offers_exactly_the_conditions_the_module_knows():
    from pipeline.commands.evaluate_voice import CONDITION_CHOICES

    assert CONDITION_CHOICES == vc.CONDITIONS


def test_the_conditions_table_sets_each_method_under_each_condition_side_by_side():
    from pipeline.evaluation.voice import conditions_table

    def result(condition: str, eer: float) -> dict:
        stat = {"mean": eer, "min": eer, "max": eer}
        cond = {"eer": stat, "top1": {"mean": 0.1, "min": 0.1, "max": 0.1}}
        return {
            "condition": condition,
            "baseline": {"unaware": {"n_models": 40}},
            "methods": {"knn_vc": {"conditions": {"unaware": cond}, "wer_vs_original": stat}},
        }

    table = conditions_table([result("clean", 0.45), result("far_field", 0.31)])
    rows = [line for line in table.splitlines() if line.startswith("| knn_vc")]
    assert [r.split("|")[2].strip() for r in rows] == ["clean", "far_field"]
    assert "45.0 %" in rows[0] and "31.0 %" in rows[1]


def test_the_evaluation_material_is_degraded_everywhere_and_keeps_its_clean_reference(tmp_path):
    import json

    import soundfile as sf

    from pipeline.evaluation.voice import load_material

    rows = []
    for n in range(4):  # two tested speakers, two more whose speech makes the babble
        path = f"s{n}.wav"
        sf.write(str(tmp_path / path), _speechlike(10 + n, 8.0), RATE)
        rows.append({"path": path, "speaker": f"spk{n}"})
    (tmp_path / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    clean = load_material(str(tmp_path), "first:2", "none", condition="clean")
    far = load_material(str(tmp_path), "first:2", "none", condition="far_field")
    assert far["condition"] == "far_field" and [i.speaker for i in far["trials"]] == ["spk0", "spk1"]
    for before, after, reference in zip(clean["trials"], far["trials"], far["clean_trials"], strict=True):
        assert np.array_equal(reference.samples, before.samples)  # word error is also measured against this
        assert len(after.samples) == len(before.samples) and not np.allclose(after.samples, before.samples)
    assert not np.allclose(far["enrol"][0].samples, clean["enrol"][0].samples)
    with pytest.raises(ValueError, match="unknown recording condition"):
        load_material(str(tmp_path), "first:2", "none", condition="kitchen")
