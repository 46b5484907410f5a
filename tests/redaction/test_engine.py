"""The detector's span helpers (widening to whole words, repeated mentions) and what runs on which text."""

import pytest

from transforms.redaction.engine import Detection, digits_needed, min_digits, repeats, widen_to_words
from transforms.redaction.spoken import normalize


@pytest.mark.parametrize(
    "text, start, end, word",
    [
        ("call Weeks-Turner now", 5, 9, "Weeks-Turner"),
        ("call Weeks-Turner now", 12, 14, "Weeks-Turner"),
        ("ask O'Brien", 6, 8, "O'Brien"),
        ("Mary's book", 0, 2, "Mary"),  # a possessive is not part of the name
    ],
)
def test_when_span_inside_joined_name_then_widened_to_whole_name(text, start, end, word):
    s, e = widen_to_words(text, start, end)
    assert text[s:e] == word


@pytest.mark.parametrize(
    "text, detection, mentions",
    [
        ("call priyanka and tell priyanka not priyankas", Detection("PERSON", 5, 13, 0.7, "x"), [(23, 31)]),
    ],
)
def test_when_value_repeats_then_every_whole_word_mention_found(text, detection, mentions):
    assert [(d.start, d.end) for d in repeats(text, [detection])] == mentions


# --- throughput: which spaCy components and recognizers run on which text ---------------------------


@pytest.mark.parametrize(
    "regex, digits",
    [
        (r"\d{3}-\d{4}", 7),
        (r"(?:\+\d{1,3}[\s.-]?)?\d{2,4}(?:[\s.-]\d{2,4}){1,4}", 4),
        (r"\b(?:19|20)\d{2}\b", 4),
        (r"(?-i:\b[A-Z][0-9]{8}\b)", 8),
        (r"[a-z]+", 0),
        (r"a|\d", 0),  # one branch needs none
        (r"[0-9a-f]{4}", 0),  # a class that also holds letters
        (r"(?=[a-z]*\d)[a-z0-9]{8,}", 0),  # look-arounds are not counted
        (r"\p{L}\d", 0),  # only the `regex` module reads it: no guard
    ],
)
def test_when_pattern_parsed_then_its_fewest_digits_counted(regex, digits):
    assert min_digits(regex) == digits


def test_when_recognizer_kind_known_then_digits_needed_from_its_patterns_or_phone_metadata():
    from presidio_analyzer import Pattern, PatternRecognizer
    from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, PhoneRecognizer

    assert digits_needed(CreditCardRecognizer()) >= 13
    assert digits_needed(PhoneRecognizer(supported_regions=["US"])) == 10
    assert digits_needed(PhoneRecognizer(supported_regions=["US", "DE"])) == 4  # German numbers can be short
    digits = PatternRecognizer("X", patterns=[Pattern("p", r"\d{5}", 0.5), Pattern("q", r"#\d{2}", 0.5)])
    assert digits_needed(digits) == 2
    assert digits_needed(PatternRecognizer("X", deny_list=["abc"])) == 0


def test_when_recognizer_is_guarded_then_it_finds_what_it_found_unguarded(engines, sample_rows):
    import json

    from tests.conftest import REPO
    from transforms.redaction.spoken import normalize

    with open(f"{REPO}/data/eval/spoken_pii.jsonl", encoding="utf-8") as handle:
        texts = [normalize(json.loads(line)["text"]).text for line in handle][:300]
    texts += [r["transcript"] for r in sample_rows]
    guarded = [r for r in engines.analyzer.registry.recognizers if r.analyze.__name__ == "guarded"]
    assert {"PhoneRecognizer", "CreditCardRecognizer", "UsSsnRecognizer"} <= {r.name for r in guarded}
    for recognizer in guarded:
        for text in texts:
            ours = recognizer.analyze(text, recognizer.supported_entities, None)
            theirs = type(recognizer).analyze(recognizer, text, recognizer.supported_entities, None)
            assert [(r.start, r.end, r.score) for r in ours] == [(r.start, r.end, r.score) for r in theirs]


def test_when_batch_mixes_spoken_and_written_text_then_each_gets_its_own_components(engines):
    from transforms.redaction.recognizers.spoken_ner_recognizer import SPANS_KEY

    detector = engines.detector
    texts = ["send it to priyanka in mumbai", "Send it to Priyanka in Mumbai", "born in may"]
    spoken, written, third = detector.nlp_batch([normalize(t) for t in texts])
    # spoken: the spoken NER model, lower-case forms for lemmas, no tagger and no host NER
    assert SPANS_KEY in spoken.tokens.spans and not spoken.tokens.ents
    assert not spoken.tokens.has_annotation("POS") and spoken.lemmas == [t.lower_ for t in spoken.tokens]
    assert third.lemmas == ["born", "in", "may"]  # "born", not the lemmatizer's "bear": the context word
    # written: the host model's tagger and NER, not the spoken model
    assert SPANS_KEY not in written.tokens.spans and written.tokens.has_annotation("POS")
    # in a mixed batch each text is detected as it is alone, in order
    alone = [detector.detect_batch([t], [{}])[0] for t in texts]
    assert detector.detect_batch(texts, [{}] * 3) == alone
    assert detector.tagged(spoken).tokens.has_annotation("POS")  # tagged on demand (own name as a word)
