"""The multi-locale spoken set's generator, the training data's spoken-form mapping, word-level scores."""

from __future__ import annotations

import json
import os
import random

import pytest

from pipeline.evaluation import commands
from pipeline.evaluation.redaction import Example, format_word_table, score_words
from pipeline.training import spoken_data


@pytest.fixture(scope="module")
def generator():
    return spoken_data.load_generator()


@pytest.fixture(scope="module")
def small_set(generator):
    return generator.generate(seed=3, per_family=4)


def test_when_set_is_generated_then_no_family_is_in_both_splits_and_every_type_is_in_both(small_set, generator):
    families = {}
    for row in small_set:
        families.setdefault(row["family"], set()).add(row["split"])
    assert all(len(splits) == 1 for splits in families.values())
    assert len(families) == len(generator.FAMILIES) >= 40
    labels = {
        split: {s["label"] for r in small_set if r["split"] == split for s in r["spans"]}
        for split in ("tune", "heldout")
    }
    core = {"PERSON", "LOCATION", "STREET_ADDRESS", "PHONE_NUMBER", "EMAIL_ADDRESS", "CREDIT_CARD", "DATE_OF_BIRTH"}
    assert core <= labels["tune"] and core <= labels["heldout"]


def test_when_set_is_generated_then_held_out_locales_appear_only_in_held_out_families(small_set, generator):
    tune_locales = {r["locale"] for r in small_set if r["split"] == "tune"}
    assert tune_locales <= set(generator.TUNE_LOCALES)
    assert {r["locale"] for r in small_set if r["split"] == "heldout"} & set(generator.HELDOUT_LOCALES)


def test_when_set_is_generated_then_spans_are_whole_words_and_runs_repeat(small_set, generator):
    for row in small_set:
        text = row["text"]
        assert text == text.lower()
        for s in row["spans"]:
            assert 0 <= s["start"] < s["end"] <= len(text)
            assert s["start"] == 0 or text[s["start"] - 1] == " "
            assert s["end"] == len(text) or not text[s["end"]].isalnum()
    assert generator.generate(seed=3, per_family=4) == small_set


def test_when_novel_name_is_drawn_then_no_faker_list_holds_it(generator):
    source = generator.LocaleSource("en_IN", 5)
    rng = random.Random(0)
    names = [source.novel_first.sample(rng) for _ in range(20)]
    assert all(n and n not in generator.known_words() for n in names)


@pytest.mark.parametrize(
    "text, span, spoken, value",
    [
        ("Call John at 555-0142.", (5, 9, "PERSON"), None, "john"),
        (
            "I live at 42 Oak Street, Springfield",
            (10, 36, "STREET_ADDRESS"),
            "forty two",
            "forty two oak street springfield",
        ),
        ("Mail jo.li@x.com now", (5, 16, ""), "jo dot li at x dot com", "jo dot li at x dot com"),
        ("Krisztián Szöllösy is here", (0, 18, "PERSON"), None, "krisztian szollosy"),
    ],
)
def test_when_written_text_is_verbalised_then_spans_follow(text, span, spoken, value):
    out, spans = spoken_data.verbalise(text, [span], random.Random(0))
    assert out == out.lower() and "." not in out and "@" not in out
    assert [out[s:e] for s, e, _ in spans] == [value]
    if spoken:
        assert spoken in out


def test_when_spoken_text_is_written_then_spans_cover_the_written_words():
    text = "call priya on nine eight four five zero one two three four five"
    written, spans = spoken_data.written_form(text, [(5, 10, "PERSON"), (14, len(text), "PHONE_NUMBER")])
    assert written == "call priya on 9845012345"
    assert [written[s:e] for s, e, _ in spans] == ["priya", "9845012345"]


def test_when_a_word_is_half_redacted_then_it_counts_as_visible_and_precision_is_per_type():
    ex = Example("a", "call mary jane now", [(5, 14, "PERSON")], "tune")
    report = score_words([ex], [[(5, 11, "PERSON"), (15, 18, "LOCATION")]])
    assert report.recall[("all", "PERSON")].recall == pytest.approx(0.5)  # "mary" hidden, "jane" half
    assert report.precision[("tune", "PERSON")].precision == 1.0
    assert report.precision[("tune", "LOCATION")].precision == 0.0  # "now" hidden without PII
    assert report.precision[("all", "*")].precision == pytest.approx(2 / 3)
    assert "LOCATION" in format_word_table(report)


def test_when_negative_commands_are_drawn_then_they_hold_no_span_and_no_evaluation_sentence(generator):
    commands = spoken_data.plain_commands(seed=5, n=2000)
    assert commands == spoken_data.plain_commands(seed=5, n=2000)  # seeded
    assert all(spans == [] for _, spans in commands)
    texts = {text for text, _ in commands}
    # the round-1 false positives' kinds are there: rates, times, titles, app names, months after "in"
    for needle in ("per month", "in a minute", "christmas", "whatsapp", "what's on in"):
        assert any(needle in t for t in texts), needle
    # none is a sentence of the evaluation set's families, tune or held-out (held-out ones must never be)
    family_sentences = {s for f in generator.FAMILIES for s in generator.family_sentences(f)}
    assert not texts & family_sentences


HAVE_COMMANDS = os.path.isdir(commands.COMMANDS_DIR)


@pytest.fixture(scope="module")
def mined_file(tmp_path_factory):
    """A hard-negative file naming one real tune training command with a contact, one ordinary word of it
    and one stop word of it as removed."""
    rows = commands.training_rows(commands.COMMANDS_DIR, spoken_data.DATA_SEED)

    def on_outside(r) -> bool:
        on = r["text"].find(" on ") + 1
        return on > 0 and not any(s["start"] < on + 2 and s["end"] > on for s in r["spans"])

    row = next(
        r
        for r in rows
        if r["text"].startswith("message ") and any(s["label"] == "PERSON" for s in r["spans"]) and on_outside(r)
    )
    on = row["text"].index(" on ") + 1
    removed = [[0, len("message")], [on, on + 2]]
    path = tmp_path_factory.mktemp("mined") / "hard_negatives.json"
    path.write_text(json.dumps({"ids": {row["id"]: removed}}))
    return str(path), row


@pytest.mark.skipif(not HAVE_COMMANDS, reason="../shared/data/commands absent")
@pytest.mark.parametrize(
    "words, message_negative, on_negative",
    [("command", True, True), ("removed-any", True, True), ("removed", True, False), ("ordinary", True, False)],
)
def test_when_hard_negatives_are_read_then_pii_stays_positive_and_only_the_chosen_words_are_negatives(
    mined_file, words, message_negative, on_negative
):
    path, row = mined_file
    ((text, spans),) = spoken_data.hard_negative_examples(path, spoken_data.DATA_SEED, words)
    assert text == row["text"]
    person = [(s["start"], s["end"]) for s in row["spans"] if s["label"] == "PERSON"]
    assert [(s, e) for s, e, label in spans if label == "PERSON"] == person
    missing = {(s, e) for s, e, label in spans if label == spoken_data.MISSING}
    on = text.index(" on ") + 1
    assert ((0, len("message")) not in missing) is message_negative
    assert ((on, on + 2) not in missing) is on_negative


def test_when_hard_negative_words_are_unknown_then_it_raises(tmp_path):
    path = tmp_path / "mined.json"
    path.write_text(json.dumps({"ids": {}}))
    with pytest.raises(ValueError):
        spoken_data.hard_negative_examples(str(path), words="all")
