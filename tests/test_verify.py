"""The leak scanner: what it finds, what it must not flag, and how it counts manifest rows."""

import io
import json

import pytest

from pipeline import verify
from pipeline.verify import needles_from_rows, read_manifest_rows, scan_bytes, scan_text
from tests.leak_checks import write_reviewer_shard

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


# ---------------------------------------------------------------- row-bound names (issue 12, class 1)

SCOPED_ROWS = [
    {"clip_id": "c1", "account_id": "ACCT-0000000011", "first_name": "Will", "device_serial": "SER1234567"},
    {"clip_id": "c2", "account_id": "ACCT-0000000022", "first_name": "Priyanka", "device_serial": ""},
    {"clip_id": "c3", "account_id": "ACCT-0000000033", "first_name": "Can"},
]


def _review_id(row):
    return {"c1": "rev_" + "1" * 32, "c2": "rev_" + "2" * 32, "c3": "rev_" + "3" * 32}.get(row.get("clip_id"))


def _shard(tmp_path, rows):
    return write_reviewer_shard(tmp_path / "part-00000.parquet", rows)


@pytest.mark.parametrize(
    "review, transcript, expected",
    [
        ("c2", "will it rain tomorrow", set()),  # another customer's ordinary-word name in someone else's row
        ("c1", "<PERSON> it rain tomorrow", set()),
        ("c1", "remind will to call", {("first_name", 1)}),  # own name in own row
        ("c1", "remind w\u200bill to call", {("first_name", 1)}),  # a zero-width space hides nothing
        ("c3", "can you play jazz", {("first_name", 3)}),
        ("c1", "call priyanka now", {("first_name", 2)}),  # not an ordinary word: a leak in any row
        ("c2", "my account is ＡＣＣＴ－００００００００１１", {("account_id", 1)}),  # fullwidth forms
    ],
)
def test_when_rows_are_tied_to_clips_then_names_are_leaks_only_in_their_own_row(tmp_path, review, transcript, expected):
    needles = needles_from_rows(SCOPED_ROWS, review_id_of=_review_id)
    rid = _review_id({"clip_id": review})
    leaks = verify.scan_file(_shard(tmp_path, [{"review_id": rid, "transcript": transcript}]), needles)
    assert {(leak.kind, leak.row) for leak in leaks} == expected


def test_when_a_name_hides_in_a_fixed_form_column_then_the_contract_check_finds_it(tmp_path):
    needles = needles_from_rows(SCOPED_ROWS, review_id_of=_review_id)
    shard = _shard(tmp_path, [{"review_id": _review_id({"clip_id": "c1"}), "transcript": "ok", "locale": "will"}])
    assert {leak.kind for leak in verify.scan_file(shard, needles)} == {"contract"}
    fil = _shard(tmp_path, [{"review_id": _review_id({"clip_id": "c1"}), "transcript": "ok", "locale": "fil-PH"}])
    assert (
        verify.scan_file(fil, needles_from_rows([{"clip_id": "c1", "first_name": "Fil"}], review_id_of=_review_id))
        == []
    )


def test_when_no_key_ties_rows_to_clips_then_ordinary_word_names_are_reported_unscoped(tmp_path):
    needles = needles_from_rows(SCOPED_ROWS)
    assert not needles.scoped and needles.unscoped_names == 2  # Will and Can
    shard = _shard(tmp_path, [{"review_id": "rev_" + "9" * 32, "transcript": "will priyanka call"}])
    assert {(leak.kind, leak.row) for leak in verify.scan_file(shard, needles)} == {("first_name", 2)}


@pytest.mark.parametrize(
    "line, expected",
    [
        ("INFO apache_beam: Converting string literal type hint to Any: can", set()),  # third-party words
        ("INFO apache_beam: will retry the bundle", set()),
        ("WARNING pipeline.run: clip c1 will be retried", {("first_name", 1)}),  # names the clip
        ("INFO presidio-analyzer: loaded priyanka", {("first_name", 2)}),  # not an ordinary word
        ("INFO x: serial ser1234567 seen", {("device_serial", 1)}),
    ],
)
def test_when_a_log_line_is_scanned_then_ordinary_word_names_count_only_where_the_line_names_the_clip(
    tmp_path, line, expected
):
    log = tmp_path / "launcher.log"
    log.write_text(line + "\n", encoding="utf-8")
    found = verify.scan_file(str(log), needles_from_rows(SCOPED_ROWS, review_id_of=_review_id))
    assert {(leak.kind, leak.row) for leak in found} == expected


def test_when_a_quarantine_record_holds_its_own_clips_name_then_it_is_a_leak(tmp_path):
    folder = tmp_path / "quarantine"
    folder.mkdir()
    path = folder / "part-00000-of-00001.jsonl"
    path.write_text(
        json.dumps({"clip_id": "c1", "message": "will not decode"})
        + "\n"
        + json.dumps({"clip_id": "c2", "message": "will not decode"})
        + "\n",
        encoding="utf-8",
    )
    found = verify.scan_file(str(path), needles_from_rows(SCOPED_ROWS, review_id_of=_review_id))
    assert {(leak.kind, leak.row, leak.where) for leak in found} == {("first_name", 1, "line 1")}


@pytest.mark.parametrize(
    "transcript",
    [
        "serial G090XF\u200d0731945822",  # zero-width joiner inside
        "serial G09\u041eXF0731945822",  # Cyrillic O inside
        "serial ｇ０９０ｘｆ０７３１９４５８２２",  # fullwidth
    ],
)
def test_when_an_id_is_disguised_with_invisible_or_look_alike_characters_then_it_is_still_found(tmp_path, transcript):
    rows = [{"clip_id": "c1", "account_id": "ACCT-1", "device_serial": "G090XF0731945822", "first_name": "Oksana"}]
    shard = _shard(tmp_path, [{"review_id": "rev_" + "1" * 32, "transcript": transcript}])
    assert {leak.kind for leak in verify.scan_file(shard, needles_from_rows(rows))} == {"device_serial"}


def test_when_a_non_latin_first_name_is_in_its_own_row_then_it_is_found(tmp_path):
    rows = [{"clip_id": "c1", "first_name": "Дмитрий"}, {"clip_id": "c2", "first_name": "혜진"}]
    shard = _shard(tmp_path, [{"review_id": "rev_" + "1" * 32, "transcript": "позвони дмитрий и 혜진 씨"}])
    assert {(leak.kind, leak.row) for leak in verify.scan_file(shard, needles_from_rows(rows))} == {
        ("first_name", 1),
        ("first_name", 2),
    }
