"""The Beam leak check: its keyed form (hashes, sketches, whole-word spans) and, on real Parquet
shards, logs and quarantine files, the same findings and counts as the single-process check."""

import hashlib
import json

import numpy as np
import pytest

from pipeline import leak_keys
from pipeline.verify import MIN_ID_CHARS, id_key
from pipeline.verify_columns import review_ids_with
from tests.leak_checks import assert_same, both_checks, write_reviewer_shard
from transforms.core.keys import KeySource

KEY = hashlib.sha256(b"leak check key").hexdigest()


@pytest.mark.parametrize("text", ["", "a", "acct-0000000011", "позвони дмитрий", "혜진 씨", "x\x00y"])
def test_when_a_text_is_hashed_whole_then_it_equals_its_window_hash(text):
    codes = leak_keys.codes_of(text)
    if not text:
        assert leak_keys.text_hash(text) == 0
        return
    prefix = leak_keys._prefix(codes)
    window = leak_keys._span_hashes(prefix, np.array([0]), np.array([len(text)]))
    assert int(window[0]) == leak_keys.text_hash(text)


def _sketch(ids=(), names=(), scopes=()):
    entries = [("k", leak_keys.text_hash(v), leak_keys.text_hash(v[:MIN_ID_CHARS]), len(v)) for v in ids]
    entries += [("n", leak_keys.text_hash(v), 0, len(v)) for v in names]
    entries += [("s", leak_keys.text_hash(v), 0, len(v)) for v in scopes]
    return leak_keys.build_sketch(entries)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("prefixg090xf0731945822suffix", ["g090xf0731945822"]),  # inside a longer string
        ("acct-00000000011 and acct-0000000022", ["acct-00000000011"]),  # one of two ids, at its own length
        ("g090xf073194582", []),  # one character short
        ("nothing here", []),
    ],
)
def test_when_an_id_is_inside_a_text_then_its_span_is_a_hit(text, expected):
    sketch = _sketch(ids=["g090xf0731945822", "acct-00000000011"])
    assert [text[s:e] for s, e, _ in leak_keys.id_hits(leak_keys.codes_of(text), sketch.keyed)] == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("call jean-luc now", ["jean-luc"]),
        ("jean-lucas", []),  # not a whole word
        ("mary ann, hi", ["mary ann"]),
        ("c-mark will be retried", ["c-mark"]),
        ("xc-mark", []),
    ],
)
def test_when_a_needle_is_a_whole_word_then_its_span_is_a_hit(text, expected):
    sketch = _sketch(names=["jean-luc", "mary ann", "c-mark"])
    assert [text[start:end] for start, end, _ in leak_keys.word_hits(text, sketch.names)] == expected


def test_when_an_id_straddles_a_byte_range_then_the_range_it_starts_in_finds_it():
    data = b"\x00" * 10 + b"SER1234567" + b"\xff" * 10
    sketch = leak_keys.build_sketch([("r", leak_keys.text_hash("ser1234567"), leak_keys.text_hash("ser123"), 10)])
    assert [p.text for p in leak_keys.byte_probes(data[:20], sketch, "f", "bytes", start_before=15)] == ["ser1234567"]
    assert list(leak_keys.byte_probes(data[15:], sketch, "f", "bytes")) == []


def test_when_a_bitmap_is_built_then_it_holds_the_top_bits_of_exactly_its_hashes():
    rng = np.random.default_rng(5)
    hashes = np.unique(rng.integers(0, 2**63, size=50_000, dtype=np.uint64) * np.uint64(2))
    bitmap = leak_keys.bitmap_of(hashes)
    reference = np.zeros(1 << leak_keys.BITMAP_BITS, dtype=bool)
    reference[(hashes >> np.uint64(64 - leak_keys.BITMAP_BITS)).astype(np.int64)] = True
    assert bitmap.dtype == np.uint8 and np.array_equal(bitmap, np.packbits(reference, bitorder="little"))
    others = rng.integers(0, 2**63, size=50_000, dtype=np.uint64)
    assert leak_keys.in_bitmap(hashes, bitmap).all()
    tops = (others >> np.uint64(64 - leak_keys.BITMAP_BITS)).astype(np.int64)
    assert np.array_equal(leak_keys.in_bitmap(others, bitmap), reference[tops])


@pytest.mark.parametrize("values", [False, True], ids=["bytes", "binary column"])
def test_when_ids_lie_across_byte_windows_then_each_is_found_once(values):
    """Bytes are hashed :data:`~pipeline.leak_keys.BYTE_WINDOW` at a time, the windows overlapping
    by the longest id: an id across every boundary, at each offset, is found once."""
    serial = "ser1234567"
    sketch = leak_keys.build_sketch([leak_keys.sketch_entry(("r", serial), (serial, "device_serial", 1))])
    data, planted = bytearray(b"\x00" * (4 * leak_keys.BYTE_WINDOW)), []
    for window, back in zip(range(1, 4), (1, 5, 9), strict=True):  # across the boundary by 1, 5 and 9 bytes
        at = window * leak_keys.BYTE_WINDOW - back
        data[at : at + len(serial)] = serial.upper().encode()
        planted.append(at)
    data[100 : 100 + len(serial)] = serial.encode()  # and one inside the first window
    if values:
        probes = list(leak_keys.values_probes([b"head", bytes(data), b"tail"], sketch, "f", "audio"))
        assert [p.text for p in probes] == [serial] * 4
    else:
        found = [p.text for p in leak_keys.byte_probes(bytes(data), sketch, "f", "bytes", spans=True)]
        assert found == [(at, at + len(serial)) for at in [100, *planted]]


def test_when_a_byte_range_is_read_in_pieces_then_ids_across_pieces_and_units_are_found_once(tmp_path, monkeypatch):
    """A byte-range unit is read :data:`~pipeline.leak_check.READ_BYTES` at a time from one open
    file, each piece with the longest id's overlap: an id across a piece boundary is found once,
    and one across the unit's end by the unit it starts in only."""
    from pipeline import leak_check

    monkeypatch.setattr(leak_check, "READ_BYTES", 4096)
    serial = "ser1234567"
    sketch = leak_keys.build_sketch([leak_keys.sketch_entry(("r", serial), (serial, "device_serial", 1))])
    data = bytearray(b"\x00" * 40_000)
    planted = [4096 - 3, 3 * 4096 - 9, 5000, 20_000 - 4]  # across pieces 1 and 3, inside one, across the unit end
    for at in planted:
        data[at : at + len(serial)] = serial.upper().encode()
    path = tmp_path / "part-00000.parquet"
    path.write_bytes(bytes(data))
    first = list(leak_check.scan_unit(("bytes", str(path), 0, 20_000), sketch, (), False))
    second = list(leak_check.scan_unit(("bytes", str(path), 20_000, 40_000), sketch, (), False))
    assert [p.text for p in first] == [serial] * 4 and second == []


# ---------------------------------------------------------------- the two checks on the same outputs

SCOPED = [
    {"clip_id": "c1", "account_id": "ACCT-0000000011", "first_name": "Will", "device_serial": "SER1234567"},
    {"clip_id": "c2", "account_id": "ACCT-0000000022", "first_name": "Priyanka", "device_serial": ""},
    {"clip_id": "c3", "account_id": "ACCT-0000000033", "first_name": "Can"},
    {"clip_id": "c4", "account_id": "G090XF0731945822", "first_name": "Alexa"},
    {"clip_id": "c5", "account_id": "ACCT-0000000055", "first_name": "Дмитрий", "device_serial": "ioL|0123"},
    {"clip_id": "c6", "account_id": "ACCT-0000000066", "first_name": "혜진"},
    "not a row",
]


def _rid(row, key_file):
    rid = review_ids_with(KeySource("file", key_file), 6)(row)
    assert rid, "every test row is a valid clip"
    return rid


def _shard(path, rows):
    write_reviewer_shard(path, rows, row_group_size=2)  # several row groups: scanned apart


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """One run's worth of outputs in which every kind of finding occurs, and one without any."""
    tmp = tmp_path_factory.mktemp("leaks")
    key_file = tmp / "key"
    key_file.write_text(KEY + "\n")
    rows = [
        dict(r, audio_uri="a.wav", transcript="t", recorded_at="2026-07-01T00:00:00Z", locale="en-US")
        if isinstance(r, dict)
        else r
        for r in SCOPED
    ]
    manifest = tmp / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n{broken\n", encoding="utf-8")
    rid = {r["clip_id"]: _rid(r, str(key_file)) for r in rows if isinstance(r, dict)}
    leaky = tmp / "leaky"
    _shard(
        leaky / "reviewer" / "part-00000.parquet",
        [
            {"review_id": rid["c2"], "transcript": "will it rain tomorrow"},  # another's ordinary word: clean
            {"review_id": rid["c1"], "transcript": "remind w\u200bill to call"},  # own name, zero-width space
            {"review_id": rid["c3"], "transcript": "can you play jazz", "locale": "will"},  # own name; contract
            {"review_id": rid["c1"], "transcript": "call priyanka now"},  # not an ordinary word: any row
            {"review_id": rid["c2"], "transcript": "my account is ＡＣＣＴ－００００００００１１"},  # fullwidth
            {"review_id": rid["c5"], "transcript": "serial G09\u041eXF0731945822 for дмитрий"},  # look-alike O
            {"review_id": rid["c6"], "transcript": "позвони 혜진 씨", "audio": b"\x00SER1234567\xff"},
        ],
    )
    (leaky / "logs").mkdir()
    (leaky / "logs" / "launcher.log").write_text(
        "INFO apache_beam: Converting string literal type hint to Any: can\n"
        "WARNING pipeline.run: clip c1 will be retried\n"
        "INFO presidio-analyzer: loaded priyanka\n"
        "INFO x: serial ser1234567 seen, device i0l10123\n"
        f"INFO run: review {rid['c3']} can not be written\n",
        encoding="utf-8",
    )
    (leaky / "quarantine").mkdir()
    (leaky / "quarantine" / "part-00000-of-00001.jsonl").write_text(
        json.dumps({"clip_id": "c1", "message": "will not decode"})
        + "\n"
        + json.dumps({"clip_id": "c2", "message": "will not decode"})
        + "\n"
        + json.dumps({"clip_id": "ACCT-0000000033", "message": "x"})
        + "\nnot json but Priyanka\n",
        encoding="utf-8",
    )
    clean = tmp / "clean"
    _shard(clean / "reviewer" / "part-00000.parquet", [{"review_id": rid["c2"], "transcript": "will it rain"}])
    (clean / "logs").mkdir()
    (clean / "logs" / "launcher.log").write_text("INFO apache_beam: will retry the bundle\n")
    extra = tmp / "worker.log"
    extra.write_text("worker saw acct-0000000022 and /home/priyanka/x\n")
    return tmp, str(manifest), str(key_file)


@pytest.mark.parametrize("folder", ["leaky", "clean"])
@pytest.mark.parametrize("keyed", [True, False])
@pytest.mark.parametrize("allowed", [(), ("alexa",)])
def test_when_both_checks_scan_the_same_outputs_then_they_find_the_same_leaks_and_counts(
    outputs, folder, keyed, allowed
):
    tmp, manifest, key_file = outputs
    key = KeySource("file", key_file) if keyed else None
    both = both_checks(manifest, str(tmp / folder), str(tmp / "work"), key, allowed=allowed)
    assert_same(both)
    if folder == "leaky":
        assert len(both.launcher) >= 12 and {leak.kind for leak in both.launcher} == {
            "account_id",
            "device_serial",
            "first_name",
            "contract",
        }
    else:
        assert both.launcher == []


def test_when_operator_paths_and_extra_logs_are_given_then_both_checks_agree(outputs):
    tmp, manifest, key_file = outputs
    extra = [str(tmp / "worker.log")]
    both = both_checks(
        manifest, str(tmp / "clean"), str(tmp / "work"), KeySource("file", key_file), extra, (), ["/home/priyanka"]
    )
    assert_same(both)
    assert [(leak.kind, leak.row) for leak in both.launcher] == [("account_id", 2)] * 2  # bytes and line 1


def test_when_a_row_is_checked_then_no_needle_value_reaches_a_finding(outputs):
    tmp, manifest, key_file = outputs
    both = both_checks(manifest, str(tmp / "leaky"), str(tmp / "work"), KeySource("file", key_file))
    text = " ".join(leak.describe() for leak in both.beam).lower()
    for value in ("priyanka", "0000000011", "ser1234567", "дмитрий", "혜진"):
        assert value not in text
    assert id_key("ACCT-0000000011") not in text


def test_when_texts_are_hashed_together_then_a_hit_never_spans_two_of_them():
    sketch = _sketch(ids=["acct-00000000011"], names=["jean-luc"])
    texts = ["id acct-0000", "0000011 jean", "-luc", "acct-00000000011 jean-luc"]
    probes = list(leak_keys.batch_probes(texts, sketch, "f", ["a", "b", "c", "d"], (), [[]] * 4))
    assert sorted((p.key[0], p.where) for p in probes) == [("k", "d"), ("n", "d")]


@pytest.mark.parametrize(
    "text", ["ACCT-0000000011", "Will\x00\t\u00a0", "".join(map(chr, range(128))), "JOSÉ", "ＡＣＣＴ"]
)
def test_when_a_text_is_normalised_then_the_fast_path_agrees_with_the_skeleton(text):
    from pipeline.verify import normalise

    assert leak_keys.normalise(text) == normalise(text)


def test_when_the_check_finishes_then_its_work_folder_is_gone(outputs):
    tmp, manifest, key_file = outputs
    both_checks(manifest, str(tmp / "clean"), str(tmp / "work-gone"), KeySource("file", key_file))
    assert not (tmp / "work-gone").exists()


def test_when_an_output_cannot_be_read_then_the_check_fails_closed_and_names_no_value(outputs, tmp_path):
    from pipeline.leak_check import LeakCheckError, check_outputs

    _, manifest, _ = outputs
    broken = tmp_path / "out" / "reviewer" / "part-00000.parquet"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"PAR1 not really parquet ACCT-0000000011")
    with pytest.raises(LeakCheckError, match="the leak check pipeline failed") as caught:
        check_outputs(manifest, [str(broken)], (), None, (), [], str(tmp_path / "work"))
    assert "0000000011" not in str(caught.value)
    assert not (tmp_path / "work").exists()


def test_when_bytes_are_prefiltered_by_the_ids_alphabet_then_the_hits_are_the_same():
    rng = np.random.default_rng(3)
    ids = ["ser1234567", "acct-0000000011", "g090xf0731945822", "Ωmega12"]
    data = bytearray(rng.integers(0, 256, size=200_000, dtype=np.uint8).tobytes())
    for i, value in enumerate(ids[:3] * 5):
        at = 1000 + i * 12_000
        data[at : at + len(value)] = value.upper().encode("latin-1")
    entries = [
        leak_keys.sketch_entry(("r", leak_keys.text_hash(v.lower())), (v.lower(), "device_serial", 1)) for v in ids
    ]
    filtered = leak_keys.build_sketch(entries)
    plain = leak_keys.build_sketch([e[:4] for e in entries])
    assert filtered.raw.alphabet is not None and plain.raw.alphabet is None
    codes = leak_keys.byte_codes(bytes(data))
    hits = list(leak_keys.id_hits(codes, filtered.raw))
    assert hits == list(leak_keys.id_hits(codes, plain.raw)) and len(hits) == 15


def test_when_the_run_cannot_complete_its_check_then_the_report_says_so_and_it_does_not_pass(outputs, tmp_path):
    from pipeline.config import load_config
    from pipeline.run import verify_outputs
    from tests.conftest import REPO

    _, manifest, key_file = outputs
    out = tmp_path / "staged"
    (out / "reviewer").mkdir(parents=True)
    (out / "reviewer" / "part-00000.parquet").write_bytes(b"PAR1 not parquet")
    config = load_config(f"{REPO}/configs/default.yaml")
    check = verify_outputs(manifest, str(out), config, KeySource("file", key_file), str(tmp_path))
    assert check["passed"] is False and check["leaks"] == 0 and "error" in check
    assert check["files_scanned"] == 1 and not list((tmp_path / "_staging").glob("leak-check-*"))


def test_when_blobs_are_spilled_then_they_read_back_by_ref_and_the_files_hold_no_raw_value(tmp_path):
    """Needle batches and texts about clips go to files, not through the runner's shuffle; they
    hold raw manifest values, so they are sealed under a key that lives only in this check."""
    import pickle

    from pipeline.leak_check import Spill, pack, unpack

    spill = Spill(str(tmp_path / "spilled"))
    blobs = [pack([("k", "acct-0000000011")]), b"", pack(["rosalind"] * 3)]
    refs = spill.write(blobs)
    assert [spill.read(ref) for ref in reversed(refs)] == blobs[::-1]
    assert unpack(pickle.loads(pickle.dumps(spill)).read(refs[0])) == [("k", "acct-0000000011")]  # as a worker gets it
    assert list(spill.buckets([])) == []
    by_bucket = list(spill.buckets([(3, b"three"), (60, b"sixty")]))
    assert [(bucket, spill.read(ref)) for bucket, ref in by_bucket] == [(3, b"three"), (60, b"sixty")]
    on_disk = b"".join(path.read_bytes() for path in (tmp_path / "spilled").iterdir())
    assert b"acct" not in on_disk and b"rosalind" not in on_disk and b"sixty" not in on_disk
    with pytest.raises(Exception):  # noqa: B017 - another check's key cannot open them
        Spill(str(tmp_path / "spilled")).read(refs[0])


def _sketch_lists(sketch) -> list:
    """A sketch as plain lists, to compare two for equality."""

    def ids(s):
        prefixes = {k: (h.tolist(), b.tolist()) for k, (h, b) in s.prefixes.items()}
        return [s.full.tolist(), prefixes, s.lengths, None if s.alphabet is None else s.alphabet.tolist()]

    return [ids(sketch.keyed), ids(sketch.raw), sketch.names.full.tolist(), sketch.names.longest,
            sketch.scopes.full.tolist(), sketch.scopes.longest]  # fmt: skip


def _entries(count: int, seed: int) -> list[tuple]:
    rng = np.random.default_rng(seed)
    values = [f"acct-{v:010d}" for v in rng.integers(0, 10**10, size=count)]
    entries = [leak_keys.sketch_entry(("r", v), (v, "account_id", 1)) for v in values]
    entries += [leak_keys.sketch_entry(("k", v), (v, "account_id", 1)) for v in values]
    return entries + [leak_keys.sketch_entry(("s", f"clip:c{i}"), (f"clip:c{i}", "clip")) for i in range(count)]


def test_when_a_sketch_is_stored_as_arrays_then_it_loads_back_equal_chunk_by_chunk_and_sealed(tmp_path, monkeypatch):
    """Sketches are stored array by array, each sealed in chunks (here 4 KiB, so the hash sets span
    many), and load back equal, whole or one array at a time; nothing on disk is readable, and a
    chunk moved to another place, or another check's key, fails instead of loading wrong hashes."""
    from pipeline import leak_check
    from pipeline.leak_check import Spill, StoredArray

    monkeypatch.setattr(leak_check, "ARRAY_CHUNK_BYTES", 4096)
    sketch = leak_keys.build_sketch(_entries(3000, 1))
    spill = Spill(str(tmp_path / "spilled"))
    ref = spill.write_arrays(sketch)
    assert _sketch_lists(spill.read_arrays(ref)) == _sketch_lists(sketch)
    lazy = spill.read_arrays(ref, load=False)
    assert isinstance(lazy.raw.full, StoredArray) and lazy.raw.full.size == len(sketch.raw.full) > 4096 // 8
    assert lazy.raw.full.load().tolist() == sketch.raw.full.tolist()
    with pytest.raises(ValueError):  # a strided view would be copied and the copy filled: refused
        lazy.raw.full.load_into(np.empty(2 * lazy.raw.full.size, dtype=np.uint64)[::2])
    on_disk = (tmp_path / "spilled" / ref.path.rsplit("/", 1)[-1]).read_bytes()
    assert sketch.raw.full[:64].tobytes() not in on_disk and b"clip:" not in on_disk and b"account" not in on_disk
    with pytest.raises(Exception):  # noqa: B017 - another check's key cannot open it
        Spill(str(tmp_path / "spilled")).read_arrays(ref)
    # the first two chunks of the raw ids' full hashes swapped: each is sealed to its own place
    slot, chunk = lazy.raw.full.slot, Spill.NONCE_BYTES + 4096 + 16
    swapped = bytearray(on_disk)
    first, second = slot.offset, slot.offset + chunk
    swapped[first : first + chunk], swapped[second : second + chunk] = (
        on_disk[second : second + chunk],
        on_disk[first : first + chunk],
    )
    (tmp_path / "spilled" / ref.path.rsplit("/", 1)[-1]).write_bytes(bytes(swapped))
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
        spill.read_arrays(ref)


def test_when_partial_sketches_are_merged_from_storage_then_the_sketch_is_the_one_built_at_once(tmp_path, monkeypatch):
    """The check's sketch step merges stored parts one hash set at a time: the result is the sketch
    of all their entries, overlapping parts and empty ones included."""
    from pipeline import leak_check
    from pipeline.leak_check import Spill, spill_sketch

    monkeypatch.setattr(leak_check, "ARRAY_CHUNK_BYTES", 4096)
    spill = Spill(str(tmp_path / "spilled"))
    batches = [_entries(2000, 2), _entries(1500, 3), _entries(2000, 2)[:700], []]
    refs = [spill.write_arrays(leak_keys.sketch_parts(batch)) for batch in batches]
    merged = spill.read_arrays(spill_sketch(refs, spill))
    assert _sketch_lists(merged) == _sketch_lists(leak_keys.build_sketch([e for b in batches for e in b]))
    assert len(merged.raw.full) == len({e[1] for e in batches[0] + batches[1] if e[0] == "r"})


@pytest.mark.parametrize("values", [[], [5], [3, 3], [9, 1, 9, 4, 1, 0, 2**64 - 1]])
def test_when_hashes_are_joined_then_their_sorted_union_is_the_distinct_values(values):
    joined = np.array(values, dtype=np.uint64)
    assert leak_keys.sorted_union(joined).tolist() == sorted(set(values))


# ---------------------------------------------------------------- the manifest read in units

HOSTILE_JSONL = (
    (
        "\ufeff"
        + json.dumps({"clip_id": "c1", "account_id": "ACCT-0000000011"})
        + "\r\n\n   \n"
        + "{broken\n"
        + json.dumps({"clip_id": "c2", "first_name": "Дмитрий"}, ensure_ascii=False)
        + "\n\u00a0\u2003\n"  # a line of Unicode spaces is blank too
        + "[1, 2]\n"
        + json.dumps({"clip_id": "c3", "note": "a\nb"})
        + "\n"
    ).encode()
    + b'{"clip_id": "c4", "bad": "\xff\xfe"}\n\n'
    + json.dumps({"clip_id": "c5"}).encode()
)

HOSTILE_CSV = (
    b"\xef\xbb\xbfclip_id,account_id,transcript\r\n"
    b'c1,ACCT-1,"call ""will""\nnow"\r\n'
    b",,\n\n"
    b'c2,ACCT-2,my 5" screen\n'
    b"c3,ACCT-3\n"  # too few cells: quarantined by the job, its cells still known to the check
    b'c4,ACCT-4,"a,b\r\nc"\n'
)


def _manifests(tmp_path):
    import gzip

    import pyarrow as pa
    import pyarrow.parquet as pq

    paths = {"jsonl": tmp_path / "m.jsonl", "csv": tmp_path / "m.csv", "gz": tmp_path / "m.jsonl.gz"}
    paths["jsonl"].write_bytes(HOSTILE_JSONL)
    paths["csv"].write_bytes(HOSTILE_CSV)
    paths["gz"].write_bytes(gzip.compress(HOSTILE_JSONL))
    paths["parquet"] = tmp_path / "m.parquet"
    rows = [{"clip_id": f"c{i}", "account_id": f"ACCT-{i:010d}"} for i in range(23)]
    pq.write_table(pa.Table.from_pylist(rows), paths["parquet"], row_group_size=5)
    paths["bad_csv"] = tmp_path / "bad.csv"
    paths["bad_csv"].write_bytes(b'clip_id,account_id\nc1,"ACCT-1\nc2,ACCT-2\n')  # never closed: one reader
    return {name: str(path) for name, path in paths.items()}


@pytest.mark.parametrize("kind", ["jsonl", "csv", "gz", "parquet", "bad_csv"])
@pytest.mark.parametrize("range_bytes", [1, 7, 40, 1 << 20])
def test_when_the_manifest_is_read_in_units_then_each_row_has_the_single_readers_number(tmp_path, kind, range_bytes):
    """The check's rows, read unit by unit in any order and numbered from the counts of the units
    before each, are the single reader's (whose numbers the findings give)."""
    import random

    from pipeline.leak_check import count_rows, first_rows, numbered_batches, row_units, unit_rows
    from pipeline.verify import read_manifest_rows
    from transforms.manifest_rows import manifest_format, read_csv_header

    path = _manifests(tmp_path)[kind]
    fmt = manifest_format(path)
    header = read_csv_header(path) if fmt == "csv" else ()
    try:
        single = list(enumerate(read_manifest_rows(path), start=1))
    except ValueError:
        single = None  # a file that is not CSV: the units must fail alike
    units = row_units(path, range_bytes)
    if kind in ("jsonl", "csv", "parquet") and range_bytes < 40:
        assert len(units) > 3  # cut into many units, not read whole
    counted = [(unit, count_rows(unit)) for unit in units]
    random.Random(range_bytes).shuffle(counted)  # units are counted and read wherever they land
    firsts = first_rows(counted)
    if single is None:
        with pytest.raises(ValueError, match="not valid CSV"):
            [row for unit, _ in counted for row in unit_rows(unit, fmt, header)]
        return
    read = sorted(
        numbered
        for unit, _ in counted
        for batch in numbered_batches(unit_rows(unit, fmt, header), firsts[unit.index])
        for numbered in batch
    )
    assert read == single
    assert len(single) == {"jsonl": 7, "gz": 7, "csv": 4, "parquet": 23, "bad_csv": 0}[kind]


def test_when_needle_batches_are_made_then_each_row_is_read_only_as_its_batch_needs_it(monkeypatch):
    from pipeline import leak_check

    monkeypatch.setattr(leak_check, "NEEDLE_BATCH_ROWS", 3)
    read = []

    def rows():
        for i in range(7):
            read.append(i)
            yield {"clip_id": f"c{i}"}

    seen = []
    for batch in leak_check.numbered_batches(rows(), 10):
        numbers = []
        for number, row in batch:
            assert len(read) == number - 10  # nothing read ahead of the row being handled
            numbers.append((number, row["clip_id"]))
        seen.append(numbers)
    assert seen == [[(11, "c0"), (12, "c1"), (13, "c2")], [(14, "c3"), (15, "c4"), (16, "c5")], [(17, "c6")]]
    assert list(leak_check.numbered_batches(iter([]), 0)) == []


@pytest.mark.parametrize("kind", ["jsonl", "csv", "parquet", "gz"])
def test_when_the_manifest_is_read_in_many_ranges_then_both_checks_agree(outputs, tmp_path, monkeypatch, kind):
    """The Beam check with the manifest cut into a unit per row or two (JSON Lines ranges, CSV
    record ranges, Parquet row groups), or read whole (gzip) with its row-bound names spilled as
    they come: the same findings, row numbers and counts."""
    import gzip

    import pyarrow as pa
    import pyarrow.parquet as pq

    import pipeline.leak_check as leak_check
    import transforms.manifest as manifest_module
    from pipeline.verify import read_manifest_rows

    tmp, manifest, key_file = outputs
    if kind == "gz":
        with open(manifest, "rb") as plain:
            (tmp_path / "m.jsonl.gz").write_bytes(gzip.compress(plain.read()))
        manifest = str(tmp_path / "m.jsonl.gz")
        monkeypatch.setattr(leak_check, "BOUND_NAMES_HELD", 1)
    elif kind != "jsonl":
        rows = [r for r in read_manifest_rows(manifest) if r]
        columns = sorted({k for r in rows for k in r})
        if kind == "csv":
            import csv

            manifest = str(tmp_path / "m.csv")
            with open(manifest, "w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, columns)
                writer.writeheader()
                writer.writerows(rows)
        else:
            manifest = str(tmp_path / "m.parquet")
            table = pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows])
            pq.write_table(table, manifest, row_group_size=1)
    monkeypatch.setattr(manifest_module, "read_ranges", lambda size: 60)
    both = both_checks(manifest, str(tmp / "leaky"), str(tmp / "work"), KeySource("file", key_file))
    assert_same(both)
    assert len(both.launcher) >= 12 and max(leak.row for leak in both.launcher) >= 5
