"""The span scorer (transforms/redaction/scorer.py): features, probabilities, the packaged weights, and
what the stage does with them on real-command shapes (the issue's examples: contacts and places go,
command words and public names stay)."""

import os

import pytest

from tests.redaction.conftest import hidden as _hidden
from transforms.redaction import scorer as sc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def classes(lexicon):
    return sc.WordClasses(lexicon)


def _feats(text, word, classes, vocabulary=frozenset({"text", "play", "to"})):
    start = text.index(word)
    return sc.span_features(
        sc.written_words(text), start, start + len(word), "PERSON", "NameGazetteerRecognizer", 0.3, 0, classes,
        vocabulary,
    )  # fmt: skip


def test_when_name_follows_a_known_context_word_then_that_word_is_a_feature(classes):
    feats = _feats("text bill now", "bill", classes)
    assert feats["p1=text"] == 1.0 and feats["p2=<s>"] == 1.0
    assert feats["first_name"] == 1.0 and feats["ordinary_first_name"] == 1.0


def test_when_context_word_is_not_in_the_vocabulary_then_it_is_only_rare(classes):
    feats = _feats("pester malinda", "malinda", classes)
    assert feats["p1=?"] == 1.0 and "p1=pester" not in feats
    assert feats["unknown"] == 1.0


def test_when_weights_favour_a_feature_then_probability_rises():
    low = sc.logistic({"bias": -2.0, "p1=text": 3.0}, {"bias": 1.0})
    high = sc.logistic({"bias": -2.0, "p1=text": 3.0}, {"bias": 1.0, "p1=text": 1.0})
    assert 0.0 < low < 0.5 < high < 1.0


def test_when_packaged_weights_loaded_then_each_policy_has_thresholds_for_every_entity(lexicon):
    for policy in sc.POLICIES:
        scorer = sc.SpanScorer(lexicon, policy)
        assert set(scorer.thresholds) == set(sc.ENTITIES)
        assert all(0.0 < t < 1.0 for t in scorer.thresholds.values())
        assert len(scorer.weights) > 50


def test_when_unknown_policy_then_refused(lexicon):
    with pytest.raises(ValueError, match="public_names"):
        sc.SpanScorer(lexicon, "sometimes")


@pytest.mark.parametrize(
    "text",
    [
        "do i have new emails",
        "listen to radio",
        "turn my lights down to a lower level of brightness",
        "pay the bill",
        "will it rain tomorrow",
    ],
)
def test_when_command_holds_no_person_or_place_then_every_word_stays(detectors, text):
    assert _hidden(detectors["keep"], text) == []


def test_when_utility_thresholds_then_a_command_verb_the_model_tags_stays(detectors):
    # the spoken NER model tags "clear" (0.60 before, 0.07 after the scorer): the shipped recall-first
    # PERSON threshold (0.03) still hides it; the utility operating point does not
    assert _hidden(detectors["utility"], "clear my calendar") == []
    assert _hidden(detectors["keep"], "clear my calendar") == ["clear"]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("compose an email to bob", "bob"),
        ("text will that i am late", "will"),
        ("add bill and malinda to the meeting", "malinda"),
        ("what is the weather in beijing", "beijing"),
        ("how long is the drive to seattle", "seattle"),
        ("call adele", "adele"),
    ],
)
def test_when_name_or_place_in_contact_or_place_position_then_it_is_hidden(detectors, text, name):
    assert any(name in hidden for hidden in _hidden(detectors["keep"], text))


def test_when_public_names_keep_then_artist_stays_and_redact_then_it_goes(detectors):
    text = "play some songs by adele"
    assert not any("adele" in h for h in _hidden(detectors["keep"], text))
    assert any("adele" in h for h in _hidden(detectors["redact"], text))


def test_when_public_names_policy_unknown_then_config_refused():
    from pydantic import ValidationError

    from transforms.transcript import TranscriptConfig

    assert TranscriptConfig().public_names == "keep"
    with pytest.raises(ValidationError):
        TranscriptConfig(public_names="sometimes")


def test_when_scorer_thresholds_configured_then_they_override_the_shipped_ones():
    import dataclasses

    from pipeline.config import load_config
    from transforms.transcript import Engines

    config = load_config(os.path.join(ROOT, "configs", "default.yaml"))
    transcript = dataclasses.replace(config.transcript, scorer_thresholds={"PERSON": 0.9})
    detector = Engines.from_config(transcript, config.base_dir).detector
    assert detector.scorer.thresholds["PERSON"] == 0.9
    assert detector.scorer.thresholds["LOCATION"] == sc.SpanScorer(None, "keep").thresholds["LOCATION"]
