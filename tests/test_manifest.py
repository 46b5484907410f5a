"""Manifest parsing and validation: pure functions and the ReadClips transform."""

import json

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import SAMPLES
from transforms.core.failures import ClipError
from transforms.manifest import ReadClipKeys, ReadClips, parse_clip, read_ranges, resolve_uri, unparsed_id

GOOD = {
    "clip_id": "c1",
    "audio_uri": "audio/c1.wav",
    "transcript": "alexa call mom",
    "account_id": "ACCT-0000000001",
    "first_name": "Ann",
    "device_serial": "SERIAL000000001",
    "recorded_at": "2026-11-01T10:00:00+02:00",
    "locale": "en-US",
    "wake_word_detected": True,
    "words": [{"word": "alexa", "start_s": 0.1, "end_s": 0.5}],
}


def test_when_row_is_valid_then_it_becomes_a_clip():
    clip = parse_clip(dict(GOOD), "/data")
    assert clip.audio_uri == "/data/audio/c1.wav"
    assert clip.recorded_at.isoformat() == "2026-11-01T08:00:00+00:00"
    assert clip.words[0].word == "alexa"


@pytest.mark.parametrize(
    "change, code",
    [
        ({"clip_id": None}, "missing_field"),
        ({"audio_uri": ""}, "missing_field"),
        ({"account_id": 12345}, "bad_type"),
        ({"transcript": None}, "missing_field"),
        ({"recorded_at": "yesterday"}, "bad_timestamp"),
        ({"recorded_at": "2026-13-45T00:00:00Z"}, "bad_timestamp"),
        ({"wake_word_detected": "maybe"}, "bad_type"),
        ({"words": [{"word": "x"}]}, "bad_type"),
        ({"words": [{"word": "x", "start_s": 2.0, "end_s": 1.0}]}, "bad_value"),
        ({"words": "not json"}, "bad_type"),
        ({"clip_id": "x" * 500}, "bad_value"),
    ],
)
def test_when_a_field_is_missing_or_wrongly_typed_then_a_coded_error_names_it(change, code):
    row = {**GOOD, **change}
    with pytest.raises(ClipError) as info:
        parse_clip(row, "/data")
    assert info.value.code == code
    for value in ("ACCT-0000000001", "Ann", "SERIAL000000001", "alexa call mom"):
        assert value not in info.value.message


@pytest.mark.parametrize(
    "uri, base, expected",
    [
        ("a.wav", "/m", "/m/a.wav"),
        ("../a.wav", "/m/sub", "/m/a.wav"),
        ("/abs/a.wav", "/m", "/abs/a.wav"),
        ("gs://b/a.wav", "/m", "gs://b/a.wav"),
        ("a.wav", "gs://bucket/dir", "gs://bucket/dir/a.wav"),
    ],
)
def test_resolve_uri(uri, base, expected):
    assert resolve_uri(uri, base) == expected


def test_when_csv_strings_are_used_then_flags_and_words_parse():
    row = {**GOOD, "wake_word_detected": "false", "words": json.dumps(GOOD["words"])}
    clip = parse_clip(row, "/d")
    assert clip.wake_word_detected is False and len(clip.words) == 1


def test_when_a_line_is_unparseable_then_its_id_is_recovered_or_hashed():
    assert unparsed_id('{"clip_id": "c-9", "transcript": oops') == "c-9"
    hashed = unparsed_id("garbage with a name jennifer")
    assert hashed.startswith("unparsed-") and "jennifer" not in hashed


def test_read_clips_routes_good_rows_to_main_and_bad_rows_to_failures(tmp_path):
    lines = [
        json.dumps(GOOD),
        "",  # blank lines are not rows
        '{"clip_id": "c2", broken json',
        json.dumps({**GOOD, "clip_id": "c3", "account_id": None}),
        json.dumps({**GOOD, "clip_id": "c4"}),
    ]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("\n".join(lines) + "\n")
    with TestPipeline() as p:
        out = p | ReadClips(str(manifest))
        assert_that(out.main | "Ids" >> beam.Map(lambda c: c.clip_id), equal_to(["c1", "c4"]), label="main")
        assert_that(
            out.failures | "Codes" >> beam.Map(lambda f: (f.clip_id, f.stage, f.error_type)),
            equal_to([("c2", "manifest", "unparseable_row"), ("c3", "manifest", "missing_field")]),
            label="failures",
        )


def test_keys_read_gives_ids_of_exactly_the_valid_rows_and_counts_nothing(tmp_path):
    lines = [json.dumps(GOOD), '{"clip_id": "c2", broken', json.dumps({**GOOD, "clip_id": "c3", "account_id": None})]
    lines.append(json.dumps({**GOOD, "clip_id": "c4", "account_id": "ACCT-0000000004"}))
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("\n".join(lines) + "\n")
    p = TestPipeline()
    keys = p | ReadClipKeys(str(manifest))
    assert_that(keys, equal_to([("c1", "ACCT-0000000001"), ("c4", "ACCT-0000000004")]))
    result = p.run()
    result.wait_until_finish()
    # Only ReadClips counts rows: a second read must not double the report's rows-in.
    assert not result.metrics().query()["counters"]


@pytest.mark.parametrize("name", ["manifest.jsonl", "manifest.csv", "manifest.parquet"])
def test_keys_read_matches_the_clips_read_for_every_sample_format(name, sample_rows):
    with TestPipeline() as p:
        keys = p | ReadClipKeys(f"{SAMPLES}/{name}")
        assert_that(keys, equal_to([(r["clip_id"], r["account_id"]) for r in sample_rows]))


@pytest.mark.parametrize("name", ["manifest.jsonl", "manifest.csv", "manifest.parquet"])
def test_every_sample_manifest_format_reads_the_same_clips(name, sample_rows):
    with TestPipeline() as p:
        out = p | ReadClips(f"{SAMPLES}/{name}")
        summary = out.main | beam.Map(lambda c: (c.clip_id, c.account_id, len(c.words), c.wake_word_detected))
        expected = [(r["clip_id"], r["account_id"], len(r["words"]), r["wake_word_detected"]) for r in sample_rows]
        assert_that(summary, equal_to(expected), label="main")
        assert_that(out.failures, equal_to([]), label="failures")


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_manifest_read_in_many_byte_ranges_yields_every_row_once(tmp_path, fmt):
    """Large manifests are read as many ranges spread over the workers; rows must not be lost or
    doubled at range edges, and a CSV header is skipped once, not per range."""
    rows = [{**GOOD, "clip_id": f"c{i:05d}", "transcript": "alexa play " + "music " * (i % 40)} for i in range(900)]
    path = tmp_path / f"m.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        columns = [k for k in GOOD if k != "words"]
        lines = [",".join(columns)] + [",".join(str(r[k]) for k in columns) for r in rows]
        path.write_text("\n".join(lines) + "\n")
    assert path.stat().st_size > 3 * read_ranges(path.stat().st_size)  # several ranges
    with TestPipeline() as p:
        out = p | ReadClips(str(path))
        assert_that(out.main | beam.Map(lambda c: c.clip_id), equal_to([r["clip_id"] for r in rows]), label="main")
        assert_that(out.failures, equal_to([]), label="failures")
