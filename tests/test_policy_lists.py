"""Opt-out/deletion list files: every formatting a real list arrives in is read exactly, anything
else is refused with the file and line number — never the listed id."""

import bz2
import gzip
import lzma
import os
import random
import zlib

import pytest

from transforms.policy_lists import ListFormatError, check_list, iter_list_ids, list_files

ID = "ACCT-4829105573"
IDS = ["acct-4829105573", "acct-0000000002"]
BOM = b"\xef\xbb\xbf"


def zstd(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor().compress(data)


MANY = "".join(f"ACCT-{random.Random(7).randrange(10**10) + i:010d}\n" for i in range(20000)).encode()


def half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def utf16(text: str, order: str) -> bytes:
    return ("\ufeff" + text).encode(f"utf-16-{order}")


ACCEPTED = [
    # (file name, bytes)
    ("plain.txt", b"ACCT-4829105573\nACCT-0000000002\n"),
    ("bom.txt", BOM + b"ACCT-4829105573\nACCT-0000000002\n"),
    ("case.txt", b"acct-4829105573\nAcct-0000000002\n"),
    ("spaces.txt", b"   ACCT-4829105573   \n ACCT-0000000002\n"),
    ("nbsp.txt", "\u00a0ACCT-4829105573\u00a0\nACCT-0000000002\u202f\n".encode()),
    ("tabs.txt", b"\tACCT-4829105573\t\nACCT-0000000002\t\t\n"),
    ("quoted.txt", b"\"ACCT-4829105573\"\n'ACCT-0000000002'\n"),
    ("quoted-padded.txt", b'  " ACCT-4829105573 "  \n"ACCT-0000000002"\n'),
    ("comments.txt", b"# opt-outs, May\n\nACCT-4829105573 # by phone\nACCT-0000000002\t# by mail\n   # done\n"),
    ("crlf.txt", b"ACCT-4829105573\r\nACCT-0000000002\r\n"),
    ("cr-only.txt", b"ACCT-4829105573\rACCT-0000000002\r"),
    ("no-final-newline", b"ACCT-4829105573\nACCT-0000000002"),
    ("zero-width.lst", "ACCT-4829\u200b105573\nACCT-0000000002\u2060\n".encode()),
    ("fullwidth.txt", "ＡＣＣＴ－４８２９１０５５７３\nACCT-0000000002\n".encode()),
    ("concatenated.txt", BOM + b"ACCT-4829105573\n" + BOM + b"ACCT-0000000002\n"),
    ("utf16le.txt", utf16("ACCT-4829105573\r\nACCT-0000000002\r\n", "le")),
    ("utf16be.txt", utf16("ACCT-4829105573\nACCT-0000000002\n", "be")),
    ("utf32.txt", "\ufeffACCT-4829105573\nACCT-0000000002\n".encode("utf-32-le")),
    ("list.txt.gz", gzip.compress(BOM + b"ACCT-4829105573\nACCT-0000000002\n")),
    ("extra.csv", b'name,account_id,requested\n"Doe, Jane",ACCT-4829105573,2026-05-01\nX,ACCT-0000000002,\n'),
    ("header-case.csv", BOM + b"Account_ID;x\nACCT-4829105573,1\nACCT-0000000002,2\n".replace(b";", b",")),
    ("quoted-cells.csv", b'account_id,note\n" ACCT-4829105573 ","line one\nline two"\n\nACCT-0000000002,\n'),
    ("utf16.csv", utf16("account_id,name\r\nACCT-4829105573,a\r\nACCT-0000000002,b\r\n", "le")),
    ("list.tsv", b"account_id\tname\nACCT-4829105573\tJane\nACCT-0000000002\t\n"),
    ("list.csv.gz", gzip.compress(b"account_id\nACCT-4829105573\nACCT-0000000002\n")),
    ("list.txt.bz2", bz2.compress(b"ACCT-4829105573\nACCT-0000000002\n")),
    ("list.txt.xz", lzma.compress(b"ACCT-4829105573\nACCT-0000000002\n")),
    ("list.txt.zst", zstd(b"ACCT-4829105573\nACCT-0000000002\n")),
    ("list.txt.deflate", zlib.compress(b"ACCT-4829105573\nACCT-0000000002\n")),
]


@pytest.mark.parametrize("name, data", ACCEPTED, ids=[name for name, _ in ACCEPTED])
def test_when_a_list_is_formatted_any_ordinary_way_then_every_id_is_read(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    assert list(iter_list_ids(str(path))) == IDS
    assert check_list(str(path)) == 2


REFUSED = [
    # (file name, bytes, line, words of the rule)
    ("second-column-tab.txt", b"ACCT-0000000002\nACCT-4829105573\tJane Doe\n", 2, "more than one field"),
    ("second-column-comma.txt", b"ACCT-4829105573,Jane\n", 1, "more than one field"),
    ("second-column-space.txt", b"ACCT-0000000002\n\nACCT-4829105573 2026-05-01\n", 3, "more than one field"),
    ("semicolon.txt", b"ACCT-4829105573;Jane\n", 1, "more than one field"),
    ("hash-inside.txt", b"ACCT-4829105573#note\n", 1, "'#'"),
    ("open-quote.txt", b'"ACCT-4829105573\n', 1, "quotes"),
    ("mixed-quotes.txt", b"\"ACCT-4829105573'\n", 1, "quotes"),
    ("quote-only.txt", b'""\n', 1, "no id"),
    ("not-utf8.txt", b"ACCT-0000000002\nACCT-0000000003\nACCT-48\xff29105573\n", 3, "not UTF-8"),
    ("latin1.txt", "ACCT-0000000002\nMüller-4829105573\n".encode("latin-1"), 2, "not UTF-8"),
    ("utf16-no-bom.txt", "ACCT-4829105573\n".encode("utf-16-le"), 1, "control"),
    ("control.txt", b"ACCT-48291\x0005573\n", 1, "control"),
    ("too-long.txt", b"A" * 300 + b"\n", 1, "longer than"),
    ("no-header.csv", b"ACCT-4829105573,Jane\n", 1, "no 'account_id' column"),
    ("two-id-columns.csv", b"account_id,Account_Id\nA,B\n", 1, "more than one 'account_id' column"),
    ("bad-cell.csv", b"account_id,name\nACCT-1 ACCT-2,Jane\n", 2, "more than one field"),
    ("empty-cell.csv", b"account_id,name\n,Jane\n", 2, "no id"),
    ("short-row.csv", b"name,account_id\nJane\n", 2, "no 'account_id' cell"),
    ("unterminated.csv", b'account_id,name\nACCT-4829105573,"Jane\n', 2, "malformed CSV"),
    ("list.xlsx", b"PK\x03\x04", None, "not a list format"),
    ("list.parquet", b"PAR1", None, "not a list format"),
    ("broken.txt.gz", b"\x1f\x8b\x08\x00garbage", 1, "cannot be read"),
    # Cut short in transfer: Beam's own reader would return the first ids and stop in silence.
    ("truncated.txt.gz", half(gzip.compress(MANY)), None, "cannot be read"),
    ("truncated.txt.bz2", half(bz2.compress(MANY)), None, "cannot be read"),
    ("truncated.txt.xz", half(lzma.compress(MANY)), None, "cannot be read"),
    ("truncated.txt.zst", half(zstd(MANY)), None, "cannot be read"),
    ("truncated.txt.deflate", half(zlib.compress(MANY)), None, "cannot be read"),
]


@pytest.mark.parametrize("name, data, line, rule", REFUSED, ids=[name for name, *_ in REFUSED])
def test_when_a_line_is_not_one_valid_id_then_the_list_is_refused_naming_file_and_line(
    tmp_path, name, data, line, rule
):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ListFormatError) as info:
        check_list(str(path))
    message = str(info.value)
    assert (line is None or info.value.line == line) and str(path) in message and rule in message
    for value in ("4829105573", "Jane", "Müller"):
        assert value not in message.replace(str(path), "")


def test_when_a_directory_is_named_then_it_is_refused_with_a_hint(tmp_path):
    (tmp_path / "optout").mkdir()
    (tmp_path / "optout" / "a.txt").write_text(ID + "\n")
    for pattern in (tmp_path / "optout", f"{tmp_path / 'optout'}/"):
        with pytest.raises(ListFormatError, match="is a directory; name the list files or a glob"):
            check_list(str(pattern))


def test_when_a_glob_is_named_then_its_files_are_read_and_its_folders_refused(tmp_path):
    folder = tmp_path / "optout"
    folder.mkdir()
    (folder / "part-00000").write_text(ID + "\n")
    (folder / "part-00001").write_bytes(utf16("ACCT-0000000002\n", "le"))
    assert list_files(f"{folder}/part-*") == [str(folder / "part-00000"), str(folder / "part-00001")]
    assert check_list(f"{folder}/part-*") == 2
    (folder / "part-dir").mkdir()
    with pytest.raises(ListFormatError, match="is a directory"):
        list_files(f"{folder}/part-*")


@pytest.mark.parametrize("pattern, rule", [("absent.txt", "not found"), ("optout-*.txt", "matches no file")])
def test_when_a_list_path_names_nothing_then_it_is_refused(tmp_path, pattern, rule):
    with pytest.raises(ListFormatError, match=rule):
        check_list(str(tmp_path / pattern))


def test_when_lists_are_case_sensitive_then_ids_keep_their_case(tmp_path):
    path = tmp_path / "l.csv"
    path.write_text("Customer\nAcct-1\n")
    assert list(iter_list_ids(str(path), case_sensitive=True, id_column="customer")) == ["Acct-1"]


def test_when_a_line_is_longer_than_any_list_line_then_reading_stops_there(tmp_path, monkeypatch):
    import transforms.policy_lists as policy_lists

    monkeypatch.setattr(policy_lists, "CHUNK_BYTES", 64)
    monkeypatch.setattr(policy_lists, "MAX_LINE_CHARS", 100)
    path = tmp_path / "binary.txt"
    path.write_bytes(b"ACCT-1\n" + b"x" * 1000)
    with pytest.raises(ListFormatError, match="line 2: line longer than 100"):
        check_list(str(path))


def test_when_a_file_is_read_in_small_chunks_then_lines_and_line_numbers_are_unchanged(tmp_path, monkeypatch):
    """CRLF pairs, multi-byte characters and UTF-16 code units split across chunk edges."""
    import transforms.policy_lists as policy_lists

    text = "".join(f"\u00a0ACCT-{i:010d}\r\n" for i in range(40)) + "ACCT-4829105573 x\r\n"
    for encoding, data in (("utf-8", text.encode()), ("utf-16", text.encode("utf-16"))):
        path = tmp_path / f"{encoding}.txt"
        path.write_bytes(data)
        for chunk in (1, 3, 7, 64):
            monkeypatch.setattr(policy_lists, "CHUNK_BYTES", chunk)
            with pytest.raises(ListFormatError) as info:
                check_list(str(path))
            assert info.value.line == 41, (encoding, chunk)
    path = tmp_path / "bad.txt"
    path.write_bytes(b"A-1\n" * 30 + b"A-\xff\n")
    monkeypatch.setattr(policy_lists, "CHUNK_BYTES", 5)
    with pytest.raises(ListFormatError) as info:
        check_list(str(path))
    assert info.value.line == 31


def test_a_million_line_list_is_checked_in_bounded_memory(tmp_path):
    """Streamed: memory does not grow with the list (about 2 CPU s per million lines)."""
    import tracemalloc

    path = tmp_path / "big.txt"
    with open(path, "w") as handle:
        for i in range(200_000):
            handle.write(f"ACCT-{i:010d}\n")
    tracemalloc.start()
    assert check_list(str(path)) == 200_000
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 16 << 20
    assert os.path.getsize(path) > 3 << 20
