"""Spoken-PII muting: word alignment, intervals, tone/silence fill, and the MuteSpokenPii stage."""

from __future__ import annotations

import datetime

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that

from transforms.core.records import Clip, Span, Word
from transforms.mute_audio import (
    MuteConfig,
    MuteError,
    MuteSpokenPii,
    align_words,
    merge_intervals,
    mute,
    mute_clip_audio,
    pii_intervals,
)

RATE = 16000
TRANSCRIPT = "alexa this is jennifer call five five five"
WORDS = (
    Word("alexa", 0.2, 0.6),
    Word("this", 0.7, 0.9),
    Word("is", 1.0, 1.1),
    Word("jennifer", 1.2, 1.7),
    Word("call", 1.8, 2.0),
    Word("five", 2.1, 2.3),
    Word("five", 2.4, 2.6),
    Word("five", 2.7, 2.9),
)
NAME = Span("PERSON", 14, 22)  # "jennifer"
PHONE = Span("PHONE_NUMBER", 28, 42)  # "five five five"


def test_when_words_repeat_then_each_maps_to_its_own_occurrence():
    ranges = align_words(TRANSCRIPT, WORDS)
    assert ranges[3] == (14, 22)
    assert ranges[5:] == [(28, 32), (33, 37), (38, 42)]


def test_when_word_is_inside_another_word_then_only_whole_words_match():
    assert align_words("this is", [Word("is", 0.0, 0.1)]) == [(5, 7)]


def test_when_word_is_missing_from_transcript_then_it_is_unaligned():
    assert align_words("hello there", [Word("hello", 0, 1), Word("bob", 1, 2), Word("there", 2, 3)])[1] is None


@pytest.mark.parametrize(
    "spans, padding, expected",
    [
        ((NAME,), 0.0, ((1.2, 1.7),)),
        ((NAME,), 0.1, ((1.1, 1.8),)),
        ((PHONE,), 0.0, ((2.1, 2.9),)),  # one span is muted from its first to its last word, gaps included
        ((PHONE,), 0.05, ((2.05, 2.95),)),
        ((NAME, PHONE), 0.0, ((1.2, 1.7), (2.1, 2.9))),
        ((), 0.1, ()),
    ],
)
def test_pii_intervals_cover_pii_words_with_padding(spans, padding, expected):
    got = pii_intervals(TRANSCRIPT, WORDS, spans, padding, 3.0)
    assert len(got) == len(expected)
    assert np.allclose(np.array(got).reshape(-1), np.array(expected).reshape(-1))


def test_when_padding_runs_past_the_clip_then_interval_is_clipped():
    assert pii_intervals("bob", [Word("bob", 0.02, 0.5)], [Span("PERSON", 0, 3)], 0.2, 0.6) == ((0.0, 0.6),)


def test_when_a_span_has_no_timed_word_then_muting_fails_closed():
    with pytest.raises(MuteError) as info:
        pii_intervals("call bob now", [Word("call", 0, 1), Word("now", 2, 3)], [Span("PERSON", 5, 8)], 0.1, 3.0)
    assert "bob" not in str(info.value)


PHONE_WORDS = WORDS[:5]  # "alexa this is jennifer call", then the number


NUMBER = "my number is five six seven"
NUMBER_SPAN = Span("PHONE_NUMBER", 13, 27)  # "five six seven"
NUMBER_WORDS = (Word("my", 0.0, 0.2), Word("number", 0.3, 0.6), Word("is", 0.7, 0.8))


@pytest.mark.parametrize(
    "words, duration, expected",
    [
        # an untimed word inside the span ("six", or one the ASR wrote differently) is muted with its neighbours
        (NUMBER_WORDS + (Word("five", 1.0, 1.3), Word("seven", 1.8, 2.2)), 3.0, ((1.0, 2.2),)),
        (NUMBER_WORDS + (Word("five", 1.0, 1.3), Word("sex", 1.4, 1.7), Word("seven", 1.8, 2.2)), 3.0, ((1.0, 2.2),)),
        # the last word may end a little past the audio (rounding), and is clipped to it
        (NUMBER_WORDS + (Word("five", 1.0, 1.3), Word("six", 1.4, 1.7), Word("seven", 1.8, 2.25)), 2.2, ((1.0, 2.2),)),
    ],
)
def test_when_a_span_is_covered_end_to_end_then_it_is_muted_from_first_to_last_word(words, duration, expected):
    assert pii_intervals(NUMBER, words, (NUMBER_SPAN,), 0.0, duration) == expected


@pytest.mark.parametrize(
    "words, duration",
    [
        # word timings past the end of the audio: the transcript finds PII that the audio cannot mute
        (WORDS, 1.0),
        (tuple(Word(w.word, w.start_s + 10.0, w.end_s + 10.0) for w in WORDS), 3.0),
        # the last word ends well past the end of the audio: only part of it would be muted
        (PHONE_WORDS + (Word("five", 2.1, 2.3), Word("five", 2.4, 2.6), Word("five", 2.7, 3.5)), 3.0),
        # the span's last word is untimed (or two of three repeated words are: they align to the first two)
        (PHONE_WORDS + (Word("five", 2.1, 2.3),), 3.0),
        (PHONE_WORDS + (Word("five", 2.4, 2.6), Word("five", 2.7, 2.9)), 3.0),
        # timings in milliseconds, not seconds
        (tuple(Word(w.word, w.start_s * 1000, w.end_s * 1000) for w in WORDS), 3.0),
    ],
)
def test_when_a_span_is_not_covered_end_to_end_inside_the_audio_then_muting_fails_closed(words, duration):
    with pytest.raises(MuteError) as info:
        pii_intervals(TRANSCRIPT, words, (PHONE,), 0.08, duration)
    assert info.value.code == "pii_not_locatable"
    assert "five" not in info.value.message


@pytest.mark.parametrize(
    "words",
    [
        NUMBER_WORDS + (Word("six", 1.4, 1.7), Word("seven", 1.8, 2.2)),  # first word untimed
        NUMBER_WORDS + (Word("five", 1.0, 1.3), Word("six", 1.4, 1.7)),  # last word untimed
    ],
)
def test_when_the_first_or_last_word_of_a_span_is_untimed_then_muting_fails_closed(words):
    with pytest.raises(MuteError) as info:
        pii_intervals(NUMBER, words, (NUMBER_SPAN,), 0.08, 3.0)
    assert info.value.code == "pii_not_locatable"


def test_when_the_transcript_hides_a_word_with_invisible_characters_then_it_still_aligns():
    text = "call jen\u200bnifer now"
    words = (Word("call", 0.0, 0.4), Word("jennifer", 0.5, 1.0), Word("now", 1.1, 1.3))
    assert align_words(text, words)[1] == (5, 14)
    assert pii_intervals(text, words, (Span("PERSON", 5, 14),), 0.0, 2.0) == ((0.5, 1.0),)


def test_merge_intervals_joins_overlaps_only():
    assert merge_intervals([(2.0, 3.0), (0.0, 1.0), (0.5, 1.5), (3.5, 4.0)]) == ((0.0, 1.5), (2.0, 3.0), (3.5, 4.0))


def _speech(seconds=3.0):
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.5 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)


@pytest.mark.parametrize("fill", ["tone", "silence"])
def test_when_muted_then_nothing_of_the_original_remains_inside_and_outside_is_untouched(fill):
    x = _speech()
    y = mute(x, RATE, [(1.0, 1.5)], fill=fill, tone_hz=1000.0, tone_dbfs=-26.0)
    inside = y[16000:24000]
    assert len(y) == len(x)
    assert np.array_equal(y[:16000], x[:16000]) and np.array_equal(y[24001:], x[24001:])
    assert abs(np.corrcoef(inside[100:-100], x[16100:23900])[0, 1]) < 0.05 if fill == "tone" else not np.any(inside)
    if fill == "tone":
        spectrum = np.abs(np.fft.rfft(inside))
        assert np.argmax(spectrum) * RATE / len(inside) == pytest.approx(1000, abs=5)
        assert np.max(np.abs(inside)) == pytest.approx(10 ** (-26 / 20), rel=0.01)


def _clip(clip_id, spans=(), words=WORDS, samples=None):
    return Clip(
        clip_id=clip_id,
        audio_uri=f"audio/{clip_id}.wav",
        transcript=TRANSCRIPT,
        account_id="ACCT-1",
        recorded_at=datetime.datetime(2026, 7, 3, tzinfo=datetime.timezone.utc),
        first_name="Jennifer",
        words=words,
        pii_spans=spans,
        samples=_speech() if samples is None else samples,
        sample_rate=RATE,
    )


def test_when_pii_but_no_timings_then_config_decides():
    clip = _clip("c", spans=(NAME,), words=())
    with pytest.raises(MuteError):
        mute_clip_audio(clip, MuteConfig())
    samples, intervals = mute_clip_audio(clip, MuteConfig(on_missing_timings="keep"))
    assert intervals == () and samples is clip.samples


def test_mute_stage_mutes_pii_passes_clean_clips_and_quarantines_unmutable_ones():
    clips = [
        _clip("pii", spans=(NAME, PHONE)),
        _clip("clean"),
        _clip("no-timings", spans=(NAME,), words=()),
        _clip("misaligned", spans=(NAME,), words=(Word("hello", 0.0, 0.5),)),
    ]

    def check_main(out):
        by_id = {c.clip_id: c for c in out}
        assert sorted(by_id) == ["clean", "pii"]
        assert by_id["clean"].muted_intervals == ()
        assert np.array_equal(by_id["clean"].samples, _speech())
        muted = by_id["pii"]
        assert muted.muted_intervals == ((1.1, 1.8), (2.0, 3.0))
        assert len(muted.samples) == len(_speech())
        assert not np.allclose(
            muted.samples[int(1.2 * RATE) : int(1.7 * RATE)], _speech()[int(1.2 * RATE) : int(1.7 * RATE)]
        )
        assert np.array_equal(muted.samples[: int(1.1 * RATE)], _speech()[: int(1.1 * RATE)])

    def check_failures(out):
        assert sorted(f.clip_id for f in out) == ["misaligned", "no-timings"]
        assert all(f.stage == "mute" for f in out)
        assert all("jennifer" not in f.message.lower() for f in out)

    with TestPipeline() as p:
        result = p | beam.Create(clips) | MuteSpokenPii(MuteConfig(padding_s=0.1, fill="tone"))
        assert_that(result.main, check_main, label="main")
        assert_that(result.failures, check_failures, label="failures")
