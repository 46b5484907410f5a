"""``python -m pipeline explain`` tells the truth: it runs the job's path for the text's style, so a
hit the job never computes (the host NER on spoken text) is never listed, and every hit it lists says
what became of it."""

import os

import pytest

from pipeline.commands.explain import explain_lines

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def engines():
    from pipeline.config import load_config
    from transforms.transcript import Engines

    config = load_config(os.path.join(ROOT, "configs", "default.yaml"))
    return Engines.from_config(config.transcript, config.base_dir)


def _hits(lines):
    start = next(i for i, line in enumerate(lines) if line.startswith("entity")) + 1
    end = next(i for i, line in enumerate(lines) if line.startswith("kept:"))
    return [line for line in lines[start:end] if line.strip()]


def test_when_spoken_text_then_no_host_ner_hit_and_redaction_matches_the_job(engines):
    text = "what is the weather in beijing and text will about the bill"
    lines = explain_lines(engines, text, {}, {"default": "tag"})
    assert any(line.startswith("path: spoken style") for line in lines)
    assert not any("SpacyRecognizer" in line for line in _hits(lines))
    (found,) = engines.detector.detect_batch([text], [{}])
    assert lines[-1].startswith("redacted: ") and lines[-2] == f"kept: {len(found)}"
    assert "beijing" not in lines[-1]


def test_when_a_hit_is_dropped_then_the_reason_is_given(engines):
    lines = explain_lines(
        engines, "what is the weather in beijing and text will about the bill", {}, {"default": "tag"}
    )
    hits = _hits(lines)
    assert hits and all(("kept" in h) or ("dropped: " in h) for h in hits)
    assert any("'bill'" in h and "dropped: " in h for h in hits)  # "the bill": a word, not a name


def test_when_written_text_then_the_host_ner_path_is_named(engines):
    lines = explain_lines(engines, "Call Priya Sharma in Mumbai", {}, {"default": "tag"})
    assert any(line.startswith("path: written style") for line in lines)


def test_when_a_dropped_name_is_joined_to_a_name_then_explain_says_so(engines):
    lines = explain_lines(engines, "add bill and malinda", {}, {"default": "tag"})
    assert any("'bill'" in h and "joined by a coordinator to the name 'malinda'" in h for h in _hits(lines))
    assert lines[-1] == "redacted: add <PERSON> and <PERSON>"
