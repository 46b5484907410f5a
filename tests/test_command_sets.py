"""Real command sets rendered as ASR writes them (pipeline/evaluation/commands.py) and the utility figures
(pipeline/evaluation/redaction.py ``score_utility``). The loaders' pure parts run on hand-written TOPv2-
and SNIPS-shaped rows; the run over ../shared/data/commands skips cleanly when it is absent."""

import os

import pytest

from pipeline.evaluation import commands
from pipeline.evaluation.redaction import Example, format_utility, score_utility


@pytest.mark.parametrize(
    ("parse", "expected"),
    [
        ("[IN:SEND_MESSAGE text [SL:RECIPIENT Bill ] hi ]", [("text", ""), ("Bill", "person"), ("hi", "")]),
        (
            "[IN:GET_WEATHER weather in [SL:LOCATION [IN:GET_LOCATION [SL:POINT_ON_MAP Space Needle ] ] ] ]",
            [("weather", ""), ("in", ""), ("Space", "neutral:POI"), ("Needle", "neutral:POI")],
        ),
        ("[IN:PLAY_MUSIC play [SL:MUSIC_ARTIST_NAME Adele ] ]", [("play", ""), ("Adele", "keep:ARTIST")]),
        (
            "[IN:GET_EVENT with [SL:ATTENDEE_EVENT [IN:GET_CONTACT [SL:TYPE_RELATION mom ] ] ] ]",
            [("with", ""), ("mom", "person")],
        ),
    ],
)
def test_when_topv2_parse_then_each_token_gets_its_slot_kind(parse, expected):
    assert commands.parse_topv2(parse) == expected


def test_when_clitic_follows_a_name_then_it_joins_the_word_and_its_kind():
    text, spans = commands._join([("get", ""), ("to", ""), ("Steven", "person"), ("'s", ""), ("house", "place")])
    assert text == "get to Steven's house"
    assert spans == [(7, 15, "person"), (16, 21, "place")]


@pytest.mark.parametrize(
    ("word", "kind", "label"),
    [
        ("bill", "person", "PERSON"),  # a listed first name that is also a word: a name in a person slot
        ("malinda", "person", "PERSON"),  # no dictionary word: a name nobody listed
        ("mom", "person", "neutral:PERSON_REF"),
        ("my", "person", "neutral:PERSON_REF"),
        ("sister", "person", "neutral:PERSON_REF"),  # a Faker first name somewhere, but a relation here
        ("seattle", "place", "LOCATION"),
        ("washington", "place", "neutral:REGION"),  # a state: larger than HIPAA's geographic unit
        ("fl", "place", "neutral:REGION"),
        ("downtown", "place", "neutral:PLACE_REF"),
        ("adele", "keep:ARTIST", "keep:ARTIST"),
    ],
)
def test_when_slot_word_labelled_then_only_name_words_are_pii(word, kind, label):
    assert commands.word_label(word, None, kind) == label


def test_when_rendered_then_lower_case_numbers_as_words_and_spans_follow():
    text = "Remind Bill at 7:30pm on March 19th"
    spans = [(7, 11, "person"), (12, 35, "keep:DATE_TIME")]
    spoken, labelled = commands.render(text, spans, "seed")
    assert spoken == "remind bill at seven thirty pm on march nineteenth"
    assert [(spoken[s:e], label) for s, e, label in labelled] == [
        ("bill", "PERSON"),
        ("at seven thirty pm on march nineteenth", "keep:DATE_TIME"),
    ]


def test_when_split_then_no_topv2_or_snips_domain_is_in_both():
    assert set(commands.TOPV2_SPLIT.values()) == {"tune", "heldout"}
    assert set(commands.SNIPS_SPLIT.values()) == {"tune", "heldout"}
    tune = {d for d, s in commands.TOPV2_SPLIT.items() if s == "tune"}
    assert tune.isdisjoint({d for d, s in commands.TOPV2_SPLIT.items() if s == "heldout"})
    assert set(commands.TRAINING_SIZES) <= tune  # the model trains on tune domains only


def _example(text, spans, split="tune"):
    return Example("x", text, spans, split)


def test_when_ordinary_word_removed_then_command_counts_as_spoiled_and_pii_recall_is_by_word():
    ex = _example("text bill and play adele", [(5, 9, "PERSON"), (19, 24, "keep:ARTIST")])
    report = score_utility([ex], [[(5, 9, "PERSON"), (10, 13, "PERSON")]])
    assert report.recall("all", "PERSON") == 1.0
    assert report.share_kept("all", "ordinary") == pytest.approx(2 / 3)  # "and" removed; "text", "play" kept
    assert report.share_kept("all", "keep:ARTIST") == 1.0
    assert report.spoiled["all"] == 1 and report.spoiled_any["all"] == 1
    assert "[and]" in format_utility(report)


def test_when_public_name_removed_then_only_the_non_pii_count_grows():
    ex = _example("play adele", [(5, 10, "keep:ARTIST")])
    report = score_utility([ex], [[(5, 10, "PERSON")]])
    assert report.share_kept("all", "keep:ARTIST") == 0.0
    assert report.spoiled["all"] == 0 and report.spoiled_any["all"] == 1


def test_when_neutral_word_removed_then_nothing_counts_against_utility():
    ex = _example("weather in washington", [(11, 21, "neutral:REGION")])
    report = score_utility([ex], [[(11, 21, "LOCATION")]])
    assert report.spoiled_any["all"] == 0
    assert report.share_kept("all", "neutral:REGION") == 0.0


def test_when_half_a_name_is_left_then_the_word_leaks():
    ex = _example("call annabel", [(5, 12, "PERSON")])
    report = score_utility([ex], [[(5, 9, "PERSON")]])
    assert report.recall("all", "PERSON") == 0.0
    assert report.leaks and report.leaks[0][1] == "PERSON"


def test_when_a_word_has_two_kept_kinds_then_it_counts_under_one_chosen_by_name_not_by_hash_order():
    # "adele's" is half in an artist slot and half in a song slot: the word's kind is picked by label, so
    # the report does not change with the interpreter's string hashing (it did: one word moved between
    # ARTIST and SONG from run to run)
    import subprocess
    import sys

    code = (
        "from pipeline.evaluation.redaction import Example, score_utility;"
        "ex = Example('x', 'play adele\\'s hello', [(5, 10, 'keep:ARTIST'), (10, 18, 'keep:SONG')], 'tune');"
        "r = score_utility([ex], [[]]);"
        "print(r.words[('all', 'keep:ARTIST')].gold, r.words[('all', 'keep:SONG')].gold)"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        for seed in range(6)
    }  # fmt: skip
    assert seen == {"1 1"}  # "adele's" an artist's word (not the song's), "hello" the song's


HAVE_COMMANDS = os.path.isdir(commands.COMMANDS_DIR)


@pytest.mark.skipif(not HAVE_COMMANDS, reason="../shared/data/commands absent")
def test_when_real_sets_loaded_then_both_splits_hold_people_places_and_public_names():
    rows = commands.command_rows(per_source=60)
    by_split = {}
    for row in rows:
        assert row["text"] == row["text"].lower() and not any(
            c.isdigit() for c in row["text"] if row["source"] != "evi"
        )
        for span in row["spans"]:
            by_split.setdefault(row["split"], set()).add(span["label"])
    for split in ("tune", "heldout"):
        assert {"PERSON", "LOCATION", "keep:ARTIST"} <= by_split[split]


@pytest.mark.parametrize(
    "text, marked",
    [
        ("can you text dave and tell him i like his paper", {"dave": "neutral:UNLABELLED"}),
        (
            "i want a flight from new york to san francisco",
            {"new york": "neutral:UNLABELLED", "san francisco": "neutral:UNLABELLED"},
        ),
        ("rent a car for may 8th in danville", {"may 8th": "keep:DATE_TIME", "danville": "neutral:UNLABELLED"}),
        ("what is the capital of canada", {"canada": "neutral:REGION"}),
        ("pay the bill on my mobile", {}),  # a name or a city that is also an English word stays ordinary
        ("how do i say hello in spanish", {}),
    ],
)
def test_when_clinc_has_no_slots_then_names_places_and_dates_are_marked_blind(text, marked):
    from pipeline.evaluation.commands import unlabelled_entities

    assert {text[s:e]: label for s, e, label in unlabelled_entities(text)} == marked
