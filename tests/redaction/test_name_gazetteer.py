"""NameGazetteerRecognizer: PERSON from Faker's name lists, in any case."""

import pytest

from tests.redaction import found
from transforms.redaction.recognizers import NameGazetteerRecognizer


@pytest.fixture(scope="module")
def recognizer(lexicon):
    return NameGazetteerRecognizer(lexicon)


@pytest.mark.parametrize(
    "text, names",
    [
        ("call amelia watson now", ["amelia watson"]),  # first name and surname join
        ("amelia went home", ["amelia"]),  # an ordinary word does not extend a name
        ("amelia ring me", ["amelia ring"]),  # unless it is a surname after a first name (Ring is one)
        ("this is joshua cook speaking", ["joshua cook"]),
        ("text andrew day that i am on my way", ["andrew day", "way"]),  # "way" alone: the low ordinary-word score
        ("connect me to hope ojo", ["hope ojo"]),  # a first name that is a word, before a surname
        ("call Amelia Ring", ["Amelia Ring"]),  # unless it is capitalised
        ("my name is will", []),  # a stop word is never a name
        ("text priyanka", []),  # in no locale's list: IntroducedNameRecognizer's job
        ("al and jo", []),  # two letters: too short
    ],
)
def test_when_name_words_said_then_runs_of_them_found(recognizer, text, names):
    assert found(recognizer.analyze(text, ["PERSON"]), text) == names


@pytest.mark.parametrize(
    "text, score",
    [
        ("call amelia now", NameGazetteerRecognizer.ENGLISH_SCORE),
        ("call amelia watson now", NameGazetteerRecognizer.ENGLISH_SCORE + NameGazetteerRecognizer.JOIN_BONUS),
        ("pay the bill", NameGazetteerRecognizer.COMMON_SCORE),  # also an ordinary word: needs a lead word
        ("text bill", NameGazetteerRecognizer.COMMON_SCORE + NameGazetteerRecognizer.LEAD_BONUS),
    ],
)
def test_when_name_found_then_scored_by_list_and_length(recognizer, text, score):
    (result,) = recognizer.analyze(text, ["PERSON"])
    assert result.score == pytest.approx(score)


THRESHOLD = 0.35  # configs/default.yaml transcript.score_threshold


@pytest.mark.parametrize(
    "text, names",
    [
        ("call june now", ["june"]),  # a month is a name right after a lead word
        ("text bill that i'm late", ["bill"]),
        ("ring bill", ["bill"]),  # "ring" itself is a surname and a word: not led, so not a name
        ("what's on in june", []),
        ("will you come tomorrow", []),  # "Côme" folds to "come": an ordinary word
        ("text gautam that i am on my way", ["gautam"]),  # "way" five words after "text": not introduced
        ("message ariley ok see you soon", []),
        ("find a recipe with sage and basil", []),  # "with" precedes things as often as people
        ("what is an iban", []),  # a frame word (another recognizer's context word)
        ("call iban now", ["iban"]),
        ("text kaylee now", ["kaylee"]),  # "text" is a Faker surname too, but not part of the name
        ("call grace kelly", ["grace kelly"]),  # a first name and a surname, both also words
    ],
)
def test_when_name_is_also_a_word_then_only_a_lead_word_makes_it_one(lexicon, text, names):
    recognizer = NameGazetteerRecognizer(lexicon, frame_words=frozenset({"iban", "visa"}))
    results = [r for r in recognizer.analyze(text, ["PERSON"]) if r.score >= THRESHOLD]
    assert found(results, text) == names
    # Presidio's context window must not lift what the lead-word rule left below the threshold
    assert all(
        r.recognition_metadata.get("is_score_enhanced_by_context")
        for r in recognizer.analyze(text, ["PERSON"])
        if r.score < THRESHOLD
    )
