"""Character-level redaction scoring."""

import json

import pytest

from pipeline.evaluation.redaction import Example, format_table, load_examples, score


def test_when_half_a_span_leaks_then_recall_is_half_and_miss_listed():
    ex = Example("d1", "call bob now", [(5, 8, "PERSON")])
    report = score([ex], [[(5, 6, "PERSON")]])
    assert report.overall.recall == pytest.approx(1 / 3)
    assert report.overall.precision == 1.0
    assert report.misses[0][1:] == ("d1", "PERSON", "ob")
    assert "0.3333" in format_table(report)


def test_when_prediction_outside_gold_then_precision_drops_and_types_are_separate():
    ex = Example("d1", "call bob now", [(5, 8, "PERSON")])
    report = score([ex], [[(0, 8, "LOCATION")]])
    assert report.overall.recall == 1.0 and report.overall.precision == pytest.approx(3 / 7)
    assert report.typed["PERSON"].recall == 0.0 and report.typed["LOCATION"].precision == 0.0


def test_when_label_map_given_then_gold_labels_renamed(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(
        json.dumps({"id": "a", "text": "in Oslo", "spans": [{"start": 3, "end": 7, "label": "GPE"}]}) + "\n"
    )
    assert load_examples(str(path))[0].spans == [(3, 7, "LOCATION")]
    assert load_examples(str(path), {"GPE": "PLACE"})[0].spans == [(3, 7, "PLACE")]
    path.write_text('{"id": "a"}\n')
    with pytest.raises(ValueError, match="x.jsonl:1"):
        load_examples(str(path))
