"""Failure messages never carry clip data."""

import pytest

from transforms.core.failures import MAX_MESSAGE_CHARS, ClipError, failure_from, scrub


@pytest.mark.parametrize(
    "message, sensitive, transcript, leaked",
    [
        ("bad account ACCT-4829105573 here", ["ACCT-4829105573"], "", "4829105573"),
        ("cannot open /data/raw/jennifer/clip.wav", [], "", "jennifer"),
        ("user JENNIFER failed", ["Jennifer"], "", "JENNIFER"),
        ("mail john@example.com bounced", [], "", "john@example.com"),
        ("token oakwood not expected", [], "i live on oakwood drive", "oakwood"),
        ("number 5550142 wrong", [], "", "5550142"),
    ],
)
def test_when_message_holds_clip_data_then_scrub_removes_it(message, sensitive, transcript, leaked):
    assert leaked.lower() not in scrub(message, sensitive, transcript).lower()


def test_when_message_is_long_then_it_is_cut():
    assert len(scrub("x " * 1000)) <= MAX_MESSAGE_CHARS


def test_when_error_is_ours_then_its_code_and_message_are_kept():
    failure = failure_from(ClipError("audio_missing", "audio file not found"), "decode", "c1")
    assert failure == ("c1", "decode", "audio_missing", "audio file not found")


def test_when_error_is_foreign_then_type_is_kept_and_message_scrubbed():
    failure = failure_from(ValueError("account ACCT-1234567890 invalid"), "voice", "c1", ["ACCT-1234567890"])
    assert failure.error_type == "ValueError"
    assert "1234567890" not in failure.message
