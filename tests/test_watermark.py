"""The watermark library and its stage: payload code, embedding, detection, keys, ``MarkAudio``."""

from __future__ import annotations

import os

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import SAMPLES, SHARED_DATA
from transforms import audio_io
from transforms.core.keys import KeySource, KeyUnavailableError
from transforms.core.records import Clip, RunMeta
from transforms.watermark import (
    Marker,
    Payload,
    batch_of,
    code,
    detect,
    false_alarm,
    layout,
    resolve_watermark_key,
    run_tag,
)
from transforms.watermark.mark import RATE, active_power
from transforms.watermark_audio import MarkAudio, WatermarkConfig, mark_clip

KEY = bytes(range(7, 39))
OTHER_KEY = bytes(range(100, 132))
PAYLOAD = Payload(run_tag=0x5A5A5A, escalation=False, batch=7)


@pytest.fixture(scope="module")
def speech():
    """A bundled sample clip (synthetic speech-like audio, 6.8 s at 16 kHz)."""
    return audio_io.load(os.path.join(SAMPLES, "audio", "clip-0001.wav"), RATE, 600)


@pytest.mark.parametrize("payload", [Payload(0, False, 0), Payload((1 << 23) - 1, True, 255), PAYLOAD])
def test_when_coded_bits_are_read_back_clean_then_the_payload_and_crc_come_back(payload):
    soft = 1.0 - 2.0 * code.encode(payload)
    assert code.decode(soft) == (payload, True)


def test_when_a_few_coded_bits_are_flipped_then_the_code_corrects_them():
    soft = 1.0 - 2.0 * code.encode(PAYLOAD)
    soft[[3, 20, 41, 77, 110]] *= -1  # scattered errors, below the code's free distance apart
    assert code.decode(soft) == (PAYLOAD, True)


def test_when_soft_values_are_noise_then_the_crc_almost_never_matches():
    rng = np.random.default_rng(0)
    passes = sum(code.decode(rng.standard_normal(code.CODED_BITS))[1] for _ in range(300))
    assert passes == 0  # 2^-24 per try


@pytest.mark.parametrize("batch", [-1, 256])
def test_when_the_batch_is_out_of_range_then_encoding_refuses(batch):
    with pytest.raises(ValueError):
        code.encode(Payload(1, False, batch))


def test_when_audio_is_marked_then_any_3s_excerpt_gives_the_payload_back(speech):
    marked = Marker(KEY, PAYLOAD).embed(speech)
    assert marked.shape == speech.shape and marked.dtype == np.float32
    for start in (0, 5_000, 17_001, len(speech) - 48_000):
        found = [d for d in detect(marked[start : start + 48_000], KEY) if d.crc_ok]
        assert found and found[0].payload == PAYLOAD


def test_when_read_under_another_key_then_nothing_is_found(speech):
    marked = Marker(KEY, PAYLOAD).embed(speech)
    assert not any(d.crc_ok for d in detect(marked, OTHER_KEY))
    assert not any(d.crc_ok for d in detect(speech, KEY))  # and unmarked audio carries nothing


def test_when_the_clip_is_silent_then_the_mark_adds_nothing():
    silence = np.zeros(RATE * 2, dtype=np.float32)
    assert np.array_equal(Marker(KEY, PAYLOAD).embed(silence), silence)


def test_when_a_mark_floor_is_set_then_digital_silence_still_stays_silent():
    silence = np.zeros(RATE * 2, dtype=np.float32)
    assert np.array_equal(Marker(KEY, PAYLOAD, floor_db=-40.0).embed(silence), silence)


@pytest.mark.parametrize("floor_db, found", [(None, False), (-40.0, True)])
def test_when_a_pause_is_read_under_noise_then_only_a_mark_floor_leaves_the_mark_in_it(speech, floor_db, found):
    """A 2.5 s pause 60 dB under the speech, marked inside a clip, read alone under white noise 45 dB
    under the speech: without a floor the mark sits 15 dB under that noise; with a floor 40 dB under
    the speech it sits above it (the evaluation's ``--floor-db``, tried and not shipped)."""
    rng = np.random.default_rng(1)
    level = active_power(speech)
    pause = (rng.standard_normal(int(2.5 * RATE)) * np.sqrt(level * 1e-6)).astype(np.float32)
    clip = np.concatenate([speech[: 3 * RATE], pause, speech[3 * RATE :]])
    marked = Marker(KEY, PAYLOAD, floor_db=floor_db).embed(clip)
    inside = marked[int(3.1 * RATE) : int(5.4 * RATE)]  # the pause, clear of the speech's edges
    pause_db = 10 * np.log10(np.mean(inside**2) / level)
    assert pause_db < -55.0 if floor_db is None else -46.0 < pause_db < -40.0
    noisy = inside + (rng.standard_normal(len(inside)) * np.sqrt(level * 10**-4.5)).astype(np.float32)
    assert any(d.crc_ok and d.payload == PAYLOAD for d in detect(noisy, KEY)) is found


def test_when_marked_then_the_change_stays_well_below_the_speech(speech):
    marked = Marker(KEY, PAYLOAD).embed(speech)
    snr = 10 * np.log10(np.sum(speech**2) / np.sum((marked - speech) ** 2))
    assert 10.0 < snr < 25.0  # 11 dB on this clip: d = 0.4 on the log-magnitude


def test_when_the_layout_is_built_then_the_key_decides_it():
    a, b = layout(KEY), layout(OTHER_KEY)
    assert np.array_equal(layout(KEY).pattern, a.pattern)
    assert not np.array_equal(a.pattern, b.pattern)
    assert sorted([*a.sync_index, *a.coded_index]) == list(range(144))


def test_when_the_key_is_short_then_the_layout_refuses():
    with pytest.raises(ValueError):
        layout(b"short")


def test_when_run_tags_and_batches_are_derived_then_they_are_keyed_and_in_range():
    assert run_tag(KEY, "20261206T231400Z-abcd1234") == run_tag(KEY, "20261206T231400Z-abcd1234")
    assert run_tag(KEY, "20261206T231400Z-abcd1234") != run_tag(OTHER_KEY, "20261206T231400Z-abcd1234")
    assert all(0 <= run_tag(KEY, f"run-{i}") < (1 << 23) for i in range(50))
    batches = [batch_of(KEY, "run", f"clip-{i}", 16) for i in range(800)]
    assert set(batches) == set(range(16))  # every batch used
    assert max(np.bincount(batches)) < 80  # and balanced (expected 50 each)


def test_when_false_alarm_is_computed_then_it_grows_with_the_windows_and_falls_with_the_score():
    assert false_alarm(0.0, 10) > false_alarm(0.0, 1)
    assert false_alarm(4.0, 1) <= false_alarm(0.0, 1) <= 2 * 2.0**-24  # two decodes (weightings) per window


def test_when_the_null_model_is_read_then_the_decodes_per_window_agree_with_the_detector():
    from transforms.watermark import mark, null_model

    assert null_model.DECODES_PER_WINDOW == mark.DECODES_PER_WINDOW


def test_when_no_watermark_key_is_given_then_the_fallbacks_are_as_documented(tmp_path):
    single = KeySource("ephemeral", "", b"ab" * 32)
    assert resolve_watermark_key("", single, environ={}).kind == "ephemeral"
    key_file = tmp_path / "wm.key"
    key_file.write_text("cd" * 16 + "ef" * 16 + "\n")
    assert resolve_watermark_key(str(key_file), single, environ={}).load() == bytes.fromhex("cd" * 16 + "ef" * 16)
    job = tmp_path / "job.key"
    job.write_text("12" * 20 + "34" * 20)
    derived = resolve_watermark_key("", KeySource("file", str(job)), environ={})
    assert derived.kind == "derived" and len(derived.load()) == 32 and "12" not in repr(derived)
    keyring = tmp_path / "ring.json"
    keyring.write_text('{"epochs": {"2026-07": "' + "56" * 16 + "78" * 16 + '"}}')
    assert resolve_watermark_key("", KeySource("file", str(keyring)), environ={}).kind == "ephemeral"
    with pytest.raises(KeyUnavailableError):
        resolve_watermark_key(str(keyring), None, environ={})  # a keyring is not a watermark key


def _clip(clip_id, samples, rate=RATE, escalate=False):
    return Clip(clip_id, "", "", "", None, samples=samples, sample_rate=rate, escalate=escalate)


def test_when_a_clip_is_marked_then_it_carries_its_batch_and_output(speech):
    clip = mark_clip(_clip("clip-9", speech, escalate=True), KEY, "run-1", 16, {})
    assert clip.review_batch == batch_of(KEY, "run-1", "clip-9", 16)
    det = [d for d in detect(clip.samples, KEY) if d.crc_ok][0]
    assert det.payload == Payload(run_tag(KEY, "run-1"), True, clip.review_batch)


def test_when_the_stage_runs_then_every_clip_is_marked_at_any_rate_and_only_a_clip_without_audio_fails(speech):
    import soxr

    meta = RunMeta("run-1", "0" * 16, "test", None)
    wm_key = resolve_watermark_key("", None, environ={})
    key = wm_key.load()
    rate_22k = soxr.resample(speech, RATE, 22050).astype(np.float32)
    originals = {"a": speech, "b": speech[: RATE * 3], "c": rate_22k}
    clips = [_clip("a", speech), _clip("b", speech[: RATE * 3]), _clip("c", rate_22k, rate=22050)]
    clips.append(_clip("d", None))

    def found_at_16k(clip):
        samples = clip.samples if clip.sample_rate == RATE else soxr.resample(clip.samples, clip.sample_rate, RATE)
        return [d.payload.batch for d in detect(samples.astype(np.float32), key) if d.crc_ok][:1] == [clip.review_batch]

    with TestPipeline() as p:
        out = p | beam.Create(clips) | MarkAudio(WatermarkConfig(batches=4), wm_key, meta)
        marked = out.main | beam.Map(
            lambda c: (
                c.clip_id,
                c.review_batch,
                len(c.samples) == len(originals[c.clip_id]) and bool(np.any(c.samples != originals[c.clip_id])),
            )
        )
        found = out.main | beam.Map(lambda c: (c.clip_id, found_at_16k(c)))
        failures = out.failures | beam.Map(lambda f: (f.clip_id, f.stage, f.error_type))
        assert_that(
            marked,
            equal_to([(c, batch_of(key, "run-1", c, 4), True) for c in ("a", "b", "c")]),
            label="marked",
        )
        assert_that(found, equal_to([("a", True), ("b", True), ("c", True)]), label="found")
        assert_that(failures, equal_to([("d", "watermark", "no_audio")]), label="failures")


SPEECH = os.path.join(SHARED_DATA, "speech")


@pytest.mark.skipif(not os.path.isdir(SPEECH), reason="development speech folder ../shared/data/speech absent")
def test_when_real_speech_is_marked_then_opus_24k_excerpts_give_the_payload_back():
    from pipeline.evaluation import watermark as ev
    from pipeline.evaluation import watermark_attacks as wa
    from pipeline.evaluation.voice_speakers import TEST

    rng = np.random.default_rng(3)
    speech = [s for _, s in ev.load_speech(SPEECH, TEST[:4])]
    lay = layout(KEY)
    hits = 0
    for samples in speech:
        marked = wa.codec(Marker(KEY, PAYLOAD).embed(samples), ["-c:a", "libopus", "-b:a", "24k"], "ogg")
        piece, _ = wa.excerpt(marked, rng)
        hits += ev.recovered(piece, KEY, lay, PAYLOAD)
    assert hits >= 3
