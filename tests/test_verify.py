"""The leak scanner: what it finds, what it must not flag, and how it counts manifest rows."""

import io

import pytest

from pipeline import verify
from pipeline.verify import needles_from_rows, read_manifest_rows, scan_bytes, scan_text

ROWS = [
    {"account_id": "ACCT-4829105573", "first_name": "Jennifer", "device_serial": "G090XF0731945822"},
    {"account_id": "ACCT-0000000002", "first_name": "Al", "device_serial": ""},
    {"account_id": "ACCT-0000000003", "first_name": "Alexa"},
]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("call JENNIFER now", {("first_name", 1)}),
        ("jenniferson is not her", set()),
        ("acct-4829105573", {("account_id", 1)}),
        ("prefixG090XF0731945822suffix", {("device_serial", 1)}),
        ("al", {("first_name", 2)}),
        ("also all alright", set()),
        ("alexa play music", set()),  # an allow-listed wake word is not a first name
        ("nothing here", set()),
    ],
)
def test_scan_text_finds_ids_anywhere_and_names_as_words(text, expected):
    needles = needles_from_rows(ROWS, allowed_terms=["alexa"])
    assert {(leak.kind, leak.row) for leak in scan_text(text, needles, "f", "t")} == expected


def test_allow_listed_names_are_counted_as_not_searched():
    needles = needles_from_rows(ROWS, allowed_terms=["Alexa"])
    assert needles.skipped_names == 1 and needles.rows == 3
    assert needles.count == 2 + 2 + 1 + 1  # 3 account ids, 1 serial, 2 names


def test_scan_bytes_finds_ids_but_never_names():
    needles = needles_from_rows(ROWS)
    found = scan_bytes(b"\x00\xffjennifer\x01acct-0000000003\x02", needles, "f", "audio")
    assert {(leak.kind, leak.row) for leak in found} == {("account_id", 3)}


def test_manifest_rows_are_counted_as_the_job_counts_them(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_bytes(b'{"a": 1}\n\n{"t": "x\xe2\x80\xa8y"}\nnot json\n\xff\xfe\n')
    rows = list(read_manifest_rows(str(path)))
    assert len(rows) == 4 and rows[0] == {"a": 1} and rows[2] == {}


@pytest.mark.parametrize("offset", range(0, 16))
def test_chunked_byte_scan_finds_an_id_that_straddles_a_chunk_boundary(monkeypatch, offset):
    monkeypatch.setattr(verify, "CHUNK_BYTES", 16)
    data = b"x" * (8 + offset) + b"acct-0000000003" + b"y" * 21
    found = verify._scan_byte_stream(io.BytesIO(data), needles_from_rows(ROWS), "f")
    assert {(leak.kind, leak.row) for leak in found} == {("account_id", 3)}


def test_manifest_rows_stream_from_csv_and_parquet_as_from_jsonl(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(ROWS[:2]), tmp_path / "m.parquet")
    (tmp_path / "m.csv").write_text("\ufeffaccount_id,first_name\nACCT-4829105573,Jennifer\nACCT-0000000002,Al\n")
    for name in ("m.parquet", "m.csv"):
        rows = list(read_manifest_rows(str(tmp_path / name)))
        assert [(r["account_id"], r["first_name"]) for r in rows] == [
            ("ACCT-4829105573", "Jennifer"),
            ("ACCT-0000000002", "Al"),
        ]
