"""Manifest parsing and validation: pure functions and the ReadClips transform."""

import csv
import gzip
import io
import json
import zlib

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipeline.verify import read_manifest_rows
from tests.conftest import SAMPLES
from transforms.core.failures import ClipError
from transforms.manifest import (
    ReadClipKeys,
    ReadClips,
    check_manifest,
    manifest_format,
    parse_clip,
    read_ranges,
    resolve_uri,
    standard_locale,
    unparsed_id,
)
from transforms.manifest_rows import ManifestError

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


# ------------------------------------------------------------------ issue 12, class 3: manifests as written


def read_clips(path: str, clips=None, failures=None) -> dict[str, int]:
    """ReadClips over ``path`` in a real pipeline: clips as (clip_id, transcript, locale) and failures as
    (clip_id, error_type) must equal the expected lists (unordered); returns the manifest counters."""
    p = TestPipeline()
    out = p | ReadClips(path)
    if clips is not None:
        summary = out.main | "Summary" >> beam.Map(lambda c: (c.clip_id, c.transcript, c.locale))
        assert_that(summary, equal_to(clips), label="clips")
    if failures is not None:
        codes = out.failures | "Codes" >> beam.Map(lambda f: (f.clip_id, f.error_type))
        assert_that(codes, equal_to(failures), label="failures")
    result = p.run()
    result.wait_until_finish()
    return {c.key.metric.name: c.committed for c in result.metrics().query()["counters"]}


def csv_text(rows, columns) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def test_when_a_csv_cell_holds_line_breaks_then_the_row_is_one_clip_with_the_whole_cell(tmp_path):
    transcript = 'alexa remind me\nto call "the office"\r\nat noon, please'
    rows = [{**GOOD, "clip_id": "c1", "transcript": transcript}, {**GOOD, "clip_id": "c2"}]
    path = tmp_path / "m.csv"
    path.write_text(csv_text(rows, [k for k in GOOD if k != "words"]), newline="")
    counters = read_clips(str(path), [("c1", transcript, "en-US"), ("c2", GOOD["transcript"], "en-US")], [])
    assert counters["rows"] == 2
    with TestPipeline() as p:  # the keys-only read sees the same two rows
        assert_that(p | ReadClipKeys(str(path)), equal_to([("c1", GOOD["account_id"]), ("c2", GOOD["account_id"])]))
    assert len(list(read_manifest_rows(str(path)))) == 2  # and so does the leak verifier


def test_when_a_csv_quote_is_never_closed_then_the_read_fails_naming_the_line_not_the_value(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text('clip_id,audio_uri,transcript,account_id,recorded_at\nc1,a.wav,"call rosalind,ACCT-1,2026\n')
    with pytest.raises(Exception) as info:
        read_clips(str(path))
    assert "not valid CSV" in str(info.value) and "rosalind" not in str(info.value)
    with pytest.raises(ManifestError, match="line 2"):
        list(read_manifest_rows(str(path)))


def test_when_a_jsonl_manifest_starts_with_a_bom_then_its_first_row_is_a_clip(tmp_path):
    path = tmp_path / "m.jsonl"
    lines = [json.dumps({**GOOD, "clip_id": f"c{i}"}) for i in range(3)]
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode() + b"\n")
    counters = read_clips(str(path), [(f"c{i}", GOOD["transcript"], "en-US") for i in range(3)], [])
    assert counters["rows"] == 3
    assert [r["clip_id"] for r in read_manifest_rows(str(path))] == ["c0", "c1", "c2"]


def compress(data: bytes, suffix: str) -> bytes:
    import bz2
    import lzma

    import zstandard

    return {
        ".gz": gzip.compress,
        ".bz2": bz2.compress,
        ".xz": lzma.compress,
        ".zst": zstandard.ZstdCompressor().compress,
        ".deflate": zlib.compress,
    }[suffix](data)


@pytest.mark.parametrize(
    "name, suffix",
    [
        ("manifest.jsonl", ".gz"),
        ("manifest.csv", ".gz"),
        ("manifest.jsonl", ".bz2"),
        ("manifest.csv", ".xz"),
        ("manifest.jsonl", ".zst"),
        ("manifest.jsonl", ".deflate"),
    ],
)
def test_when_a_text_manifest_is_compressed_then_it_reads_the_same_clips(tmp_path, sample_rows, name, suffix):
    path = tmp_path / (name + suffix)
    with open(f"{SAMPLES}/{name}", "rb") as handle:
        path.write_bytes(compress(b"\xef\xbb\xbf" + handle.read(), suffix))
    expected = [(r["clip_id"], r["transcript"], r["locale"]) for r in sample_rows]
    counters = read_clips(str(path), expected, [])
    assert counters["rows"] == len(sample_rows)
    assert len(list(read_manifest_rows(str(path)))) == len(sample_rows)


def test_when_a_compressed_manifest_is_cut_short_then_it_is_an_error_not_fewer_rows(tmp_path):
    rows = "".join(
        json.dumps({**GOOD, "clip_id": f"c{i}", "transcript": f"alexa {i * 7919}"}) + "\n" for i in range(3000)
    )
    data = gzip.compress(rows.encode())
    path = tmp_path / "m.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(OSError, match="cut short"):
        list(read_manifest_rows(str(path)))


@pytest.mark.parametrize("name", ["m.txt", "m.tsv", "m.parquet.gz", "m.jsonl.zip", "m.xlsx", "manifest", "m.jsonl/"])
def test_when_a_manifest_format_is_unknown_then_it_is_refused_before_the_run(name):
    with pytest.raises(ValueError, match="unknown format"):
        check_manifest(name)


@pytest.mark.parametrize("name", ["m.JSONL", "m.ndjson", "m.json.gz", "m.CSV.BZ2", "m.parquet", "gs://b/m.csv.zst"])
def test_when_a_manifest_format_is_known_then_its_format_is_named(name):
    assert manifest_format(name) in {"jsonl", "csv", "parquet"}


def test_when_a_csv_header_lacks_required_columns_then_it_is_refused_before_the_run(tmp_path):
    path = tmp_path / "m.csv"
    path.write_bytes("id,audio,transcript\nc1,a.wav,hi\n".encode("utf-16"))  # UTF-16 reads as garbage
    with pytest.raises(ValueError, match="the CSV header has no column clip_id"):
        check_manifest(str(path))


@pytest.mark.parametrize(
    "value, expected",
    [
        ("en-US", "en-US"),
        ("en_US", "en-US"),
        ("EN-us", "en-US"),
        (" de-DE ", "de-DE"),
        ("zh_Hant_TW", "zh-Hant-TW"),
        ("iw", "he"),  # deprecated code, standardised
        ("en-GB-oed", "en-GB-oxendict"),
        ("und", "und"),
        ("ja-JP-u-ca-japanese", "ja-JP"),  # extensions dropped: they can carry any text
        ("en-US-x-48291055", "en-US"),  # private use dropped: an account number fits in it
        ("xx-YY", None),
        ("english", None),
        ("en-US;DROP TABLE", None),
        ("ACCT-4829105573", None),
        ("x-private", None),
        ("en-" + "a" * 80, None),
        ("ℯn-US", None),
        ("", None),
    ],
)
def test_when_a_locale_is_read_then_it_is_a_standard_bcp47_tag_or_nothing(value, expected):
    assert standard_locale(value) == expected


@pytest.mark.parametrize("locale", ["english", "ACCT-4829105573", 42, ["en"], "en-US-x-rosalind"])
def test_when_a_locale_is_invalid_then_the_clip_is_kept_with_und_and_counted(locale):
    bad = []
    clip = parse_clip({**GOOD, "locale": locale}, "/d", on_bad_locale=lambda: bad.append(1))
    assert clip.locale == ("en-US" if locale == "en-US-x-rosalind" else "und")
    assert len(bad) == (0 if locale == "en-US-x-rosalind" else 1)


def test_when_locales_are_odd_then_the_read_counts_them_and_quarantines_nothing(tmp_path):
    locales = ["en_US", "english", None, "", "fr-CA", "Rosalind"]
    path = tmp_path / "m.jsonl"
    path.write_text(
        "".join(json.dumps({**GOOD, "clip_id": f"c{i}", "locale": v}) + "\n" for i, v in enumerate(locales))
    )
    expected = [(f"c{i}", GOOD["transcript"], v) for i, v in enumerate(["en-US", "und", "und", "und", "fr-CA", "und"])]
    counters = read_clips(str(path), expected, [])
    assert counters["locale_invalid"] == 2


@pytest.mark.parametrize(
    "account, ok",
    [
        (" ACCT-0000000001\u00a0", True),
        ("ＡＣＣＴ-1", True),
        ("jane.doe@example.com", True),
        ("ACCT 0000000001", False),
        ("ACCT-1,ACCT-2", False),
        ("ACCT-1\tJane", False),
        ('"ACCT-1', False),
    ],
)
def test_when_an_account_id_could_not_be_named_by_a_list_then_the_row_is_quarantined(account, ok):
    row = {**GOOD, "account_id": account}
    if ok:
        assert parse_clip(row, "/d").account_id == account  # kept as written: only the join key is canonical
        return
    with pytest.raises(ClipError) as info:
        parse_clip(row, "/d")
    assert info.value.code == "bad_value" and "account_id" in info.value.message
    assert "ACCT" not in info.value.message


# ------------------------------------------------------------------ issue 22: rows read with their position


@pytest.mark.parametrize("range_bytes", [1, 7, 64, 1 << 20])
def test_when_a_file_is_read_in_byte_ranges_then_every_line_comes_once_at_its_offset(tmp_path, range_bytes):
    from transforms.manifest_rows import iter_line_range, iter_raw_rows, line_ranges

    path = tmp_path / "m.jsonl"
    lines = [b'\xef\xbb\xbf{"a": 1}', b'{"b": "caf\xe9"}', b"", b'{"c": 3}\r', b"   ", b'{"d": 4}']
    path.write_bytes(b"\n".join(lines))  # no newline after the last line
    read = [row for unit in line_ranges(str(path), range_bytes) for row in iter_line_range(unit)]
    offsets = [0, len(lines[0]) + 1, 0, 0]
    offsets[2] = offsets[1] + len(lines[1]) + 2
    offsets[3] = offsets[2] + len(lines[3]) + 5
    assert [position for position, _ in read] == [f"00000@{o:015d}" for o in offsets]
    assert [line for _, line in read] == list(iter_raw_rows(str(path)))  # the verifier's rows, in order


def test_the_clips_read_and_the_keys_read_give_each_row_the_same_survivor_rank(tmp_path):
    from transforms.core.dedupe import survivor_rank

    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps({**GOOD, "clip_id": f"c{i % 3}"}) + "\n" for i in range(7)))
    with TestPipeline() as p:
        clips = p | ReadClips(str(manifest))
        ranks = clips.main | beam.Map(lambda c: (c.clip_id, c.account_id, survivor_rank(c)))
        keys = p | "Keys" >> ReadClipKeys(str(manifest), ranked=True)
        both = (
            ranks | "TagClips" >> beam.Map(lambda k: (k, "clip")),
            keys | "TagKeys" >> beam.Map(lambda k: (k, "key")),
        )
        paired = both | beam.Flatten() | beam.GroupByKey() | beam.MapTuple(lambda k, tags: (k[0], sorted(tags)))
        assert_that(paired, equal_to([(f"c{i % 3}", ["clip", "key"]) for i in range(7)]))


def test_when_keys_are_read_again_with_repeated_in_then_only_the_rows_of_repeated_ids_come_back(tmp_path):
    manifest = tmp_path / "m.jsonl"
    ids = ["c0", "c1", "c0", "c2", "c0", "c1", "c3"]
    manifest.write_text("".join(json.dumps({**GOOD, "clip_id": i}) + "\n" for i in ids) + "not json\n")
    with TestPipeline() as p:
        keys = p | "Keys" >> ReadClipKeys(str(manifest))
        again = p | "Again" >> ReadClipKeys(str(manifest), ranked=True, repeated_in=keys)
        assert_that(again | beam.Map(lambda k: k[0]), equal_to(["c0", "c0", "c0", "c1", "c1"]))


def test_when_no_clip_id_repeats_then_the_filtered_keys_read_gives_nothing(tmp_path):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps({**GOOD, "clip_id": f"c{i}"}) + "\n" for i in range(5)))
    with TestPipeline() as p:
        keys = p | "Keys" >> ReadClipKeys(str(manifest))
        assert_that(p | "Again" >> ReadClipKeys(str(manifest), ranked=True, repeated_in=keys), equal_to([]))


# ------------------------------------------------------------------ issue 22: a CSV manifest read in byte ranges

# Records that end where a naive line split or quote count would not: quoted cells holding line
# breaks ("\n", "\r\n", a lone "\r"), doubled quotes and commas; a plain cell with a quote inside
# (5" screen: a quote opens a quoted cell only as a cell's first character); blank records and
# records of blank cells; a cell of no-break spaces (blank); a non-UTF-8 byte; no final newline.
TRICKY_CSV = (
    b"\xef\xbb\xbf\r\n"
    b"clip_id,audio_uri,transcript,account_id,recorded_at\r\n"
    b'c1,a.wav,"alexa remind me\nto call ""the office""\r\nat noon, please",ACCT-1,2026-11-01T10:00:00\r\n'
    b"\r\n"
    b'c2,a.wav,my 5" screen is broken,ACCT-2,2026-11-01T10:00:00\n'
    b" , ,,,\n"
    b'"c3",a.wav,"line\rbreak",ACCT-3,2026-11-01T10:00:00\r'
    b'c4,a.wav,"\xc2\xa0",ACCT-4,2026-11-01T10:00:00\n'
    b'"\xc2\xa0\xc2\xa0",,,,\n'
    b'c5,a.wav,caf\xe9 "" ok,ACCT-5,2026-11-01T10:00:00\n'
    b'c6,a.wav,"""quoted"" start, and end ""","ACCT-6",2026-11-01T10:00:00\n'
    b"c7,a.wav,too,few\n"
    b'c8,a.wav,"last, no newline",ACCT-8,2026-11-01T10:00:00'
)


@pytest.mark.parametrize("scan_bytes", [1, 5, 1 << 20])
@pytest.mark.parametrize("range_bytes", [1, 13, 100, 1 << 20])
def test_when_a_csv_file_is_cut_into_record_ranges_then_each_row_comes_once_at_its_single_reader_position(
    tmp_path, monkeypatch, range_bytes, scan_bytes
):
    import transforms.manifest_rows as manifest_rows
    from transforms.manifest_rows import csv_record_ranges, iter_csv_range, iter_numbered_rows

    monkeypatch.setattr(manifest_rows, "_SCAN_BYTES", scan_bytes)  # records cut by the scan's reads too
    path = tmp_path / "m.csv"
    path.write_bytes(TRICKY_CSV)
    ranges = csv_record_ranges(str(path), range_bytes)
    assert ranges is not None
    if range_bytes == 1:
        assert len(ranges) == 11  # one a record after the header: every record end is a range end
    assert [end for _, end, _ in ranges[:-1]] == [start for start, _, _ in ranges[1:]]  # contiguous
    assert ranges[-1][1] == len(TRICKY_CSV)
    read = [row for start, end, first in ranges for row in iter_csv_range((str(path), start, end, first))]
    single = list(iter_numbered_rows(str(path)))
    assert read == single
    assert [cells[0] for _, cells in single] == ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"]


@pytest.mark.parametrize(
    "text, line",
    [
        (b'c1,a.wav,"call rosalind,ACCT-1,2026\nc2,a.wav,x,ACCT-2,2026\n', 3),  # never closed: ends at line 3
        (b'c1,a.wav,"call" rosalind,ACCT-1,2026\n', 2),  # a character after the closing quote
    ],
)
def test_when_a_csv_file_is_not_csv_then_it_is_not_cut_and_the_single_reader_names_the_line(tmp_path, text, line):
    from transforms.manifest_rows import csv_record_ranges

    path = tmp_path / "m.csv"
    path.write_bytes(b"clip_id,audio_uri,transcript,account_id,recorded_at\n" + text)
    assert csv_record_ranges(str(path), 1) is None
    with pytest.raises(ManifestError, match=f"line {line}: not valid CSV"):
        list(read_manifest_rows(str(path)))


def _csv_manifest_rows(count: int) -> list[dict]:
    return [
        {
            **GOOD,
            "clip_id": f"c{i:04d}",
            "account_id": f"ACCT-{i % 7:010d}",
            "transcript": f'alexa say "hi"\r\nthen, call {i}' if i % 3 else f'my {i}" screen',
        }
        for i in range(count)
    ]


def test_when_a_csv_manifest_is_read_in_many_small_ranges_then_the_job_reads_what_the_single_reader_reads(
    tmp_path, monkeypatch
):
    """The job's read of an uncompressed CSV manifest: many record ranges (forced tiny here) are
    spread over the workers, never the rows, and every (position, row) equals the single reader's
    (whose positions the survivor rank uses)."""
    import transforms.manifest as manifest
    from transforms.manifest_rows import iter_numbered_rows

    path = tmp_path / "m.csv"
    columns = [k for k in GOOD if k != "words"]
    body = csv_text(_csv_manifest_rows(60), columns).replace("c0005", "c0004")  # a repeated id too
    path.write_text(body + "\n \n", newline="")
    single = list(iter_numbered_rows(str(path)))
    assert len(single) == 60

    def single_reader(_):
        raise AssertionError("the CSV manifest was read by the single reader")

    monkeypatch.setattr(manifest, "read_ranges", lambda size: 50)
    monkeypatch.setattr(manifest, "iter_numbered_rows", single_reader)
    with TestPipeline() as p:
        rows = manifest._read_rows(p, str(path), "csv")
        assert_that(rows, equal_to(single), label="rows")
        clips = p | "Clips" >> ReadClips(str(path))
        positions = clips.main | "Positions" >> beam.Map(lambda c: (c.source_row, c.clip_id, c.transcript))
        expected = [(position, cells[0], cells[2]) for position, cells in single]
        assert_that(positions, equal_to(expected), label="clips")
        ranked = p | "Ranked" >> ReadClipKeys(str(path), ranked=True)
        assert_that(ranked | "Ids" >> beam.Map(lambda k: k[0]), equal_to([c[0] for _, c in single]), label="keys")


def test_when_a_csv_manifest_is_not_csv_then_the_job_fails_as_the_single_reader_does(tmp_path, monkeypatch):
    import transforms.manifest as manifest

    rows = _csv_manifest_rows(40)
    path = tmp_path / "m.csv"
    text = csv_text(rows, [k for k in GOOD if k != "words"])
    path.write_text(text + 'c9999,a.wav,"never closed, rosalind,ACCT-1,2026-11-01T10:00:00\n', newline="")
    with pytest.raises(ManifestError) as single:
        list(read_manifest_rows(str(path)))
    monkeypatch.setattr(manifest, "read_ranges", lambda size: 50)
    with pytest.raises(Exception) as job:
        read_clips(str(path))
    assert str(single.value) in str(job.value) and "rosalind" not in str(job.value)


@pytest.mark.parametrize("name", ["m.csv", "m.jsonl"])
def test_when_a_plain_text_manifest_is_read_then_only_units_pass_a_shuffle_and_no_flatten_joins_reads(tmp_path, name):
    """On the DirectRunner every GroupByKey (a Reshuffle's) and every Flatten of two stages is held
    in the launcher: between the manifest and the validated rows only the byte ranges may pass one."""
    from apache_beam.pipeline import PipelineVisitor

    path = tmp_path / name
    rows = [{**GOOD, "clip_id": f"c{i}"} for i in range(3)]
    if name.endswith(".csv"):
        path.write_text(csv_text(rows, [k for k in GOOD if k != "words"]), newline="")
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    p = beam.Pipeline()
    p | ReadClips(str(path))

    class Primitives(PipelineVisitor):
        def __init__(self):
            self.labels = []

        def visit_transform(self, node):
            self.labels.append((node.full_label, type(node.transform).__name__))

    seen = Primitives()
    p.visit(seen)
    shuffles = [label for label, kind in seen.labels if kind in ("GroupByKey", "_GroupByKeyOnly", "Flatten")]
    spread = "ReadClips/SpreadCsvRanges/" if name.endswith(".csv") else "ReadClips/SpreadRanges/"
    assert shuffles and all(label.startswith(spread) for label in shuffles), shuffles
