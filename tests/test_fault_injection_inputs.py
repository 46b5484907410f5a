"""Fault injection, issue 12 classes 2 and 3, through the real CLI: opt-out/deletion lists in every
formatting a real list arrives in, and manifests and configs as people write them.

Accepted list formattings are combined into one run (several list files, one listed account
each): none of those accounts reaches the reviewer shards, read back. Lists that are not exactly
one id per line, a repeated YAML key, an unknown manifest format and an unusable ``--output``
refuse to start (exit 2) and publish nothing. A CSV manifest with a multi-line cell, a ``.jsonl.gz``
manifest and a JSONL manifest opened by a byte-order mark are read row for row.
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
import json
import os

import numpy as np
import pyarrow.parquet as pq
import pytest
import soundfile as sf
import yaml

from tests.conftest import REPO, run_cli
from tests.test_fault_injection import RATE, base_row, speechlike, timed

AS_OF = "2026-11-22T00:00:00Z"
BOM = b"\xef\xbb\xbf"

# Each accepted formatting lists one account; its clip's transcript names the formatting's marker
# word, so the reviewer rows read back show which clips got through.
LISTED = {
    # marker: (account in the manifest, list file name, list file bytes, which list)
    "apple": ("ACCT-1000000001", "bom.txt", BOM + b"ACCT-1000000001\n", "opt_out"),
    "banana": ("ACCT-1000000002", "case.txt", b"# opt-outs\nacct-1000000002\n", "opt_out"),
    "cherry": ("ACCT-1000000003", "spaces.txt", b"   ACCT-1000000003   \n", "opt_out"),
    "grape": ("ACCT-1000000004", "nbsp.txt", "\u00a0ACCT-1000000004\u00a0\n".encode(), "opt_out"),
    "lemon": ("ACCT-1000000005", "tab.txt", b"\tACCT-1000000005\t\r\n", "opt_out"),
    "mango": ("ACCT-1000000006", "quoted.txt", b'"ACCT-1000000006"\n', "opt_out"),
    "melon": ("ACCT-1000000007", "comment.txt", b"ACCT-1000000007  # asked by phone\n", "opt_out"),
    "olive": (
        "ACCT-1000000008",
        "extra.csv",
        b'name,account_id,date\n"Doe, J",ACCT-1000000008,2026-05-01\n',
        "opt_out",
    ),
    "peach": ("ACCT-1000000009", "utf16le.txt", "\ufeffACCT-1000000009\r\n".encode("utf-16-le"), "opt_out"),
    "plum": ("ACCT-1000000010", "utf16be.txt", "\ufeffACCT-1000000010\n".encode("utf-16-be"), "deletion_request"),
    "kiwi": ("ACCT-1000000011", "zero-width.txt", "ACCT-10000\u200b00011\n".encode(), "deletion_request"),
    "lime": ("ACCT-1000000012", "list.txt.gz", gzip.compress(b"ACCT-1000000012\n"), "deletion_request"),
    "pear": ("ACCT-1000000013", "glob/part-00001", b"'ACCT-1000000013'\n", "deletion_request"),
    "fig": ("ACCT-1000000014", "fullwidth.txt", "ＡＣＣＴ－１０００００００１４\n".encode(), "deletion_request"),
}
CONTROLS = {"walnut": "ACCT-2000000001", "almond": "ACCT-2000000002"}


def write_config(folder, opt_out=(), deletion=(), extra_text: str = "") -> str:
    with open(f"{REPO}/configs/default.yaml") as handle:
        data = yaml.safe_load(handle)
    for name in ("analyzer_conf", "nlp_conf", "recognizers_conf"):
        data["transcript"][name] = f"{REPO}/configs/{data['transcript'][name]}"
    data["policy"].update(opt_out_lists=list(opt_out), deletion_lists=list(deletion))
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data) + extra_text)
    return str(path)


def make_input(root, name: str) -> tuple:
    """A folder with one speech-like clip; returns (folder, relative audio path)."""
    folder = root / name
    (folder / "audio").mkdir(parents=True)
    sf.write(folder / "audio" / "ok.wav", speechlike(RATE), RATE)
    return folder, "audio/ok.wav"


def run(manifest, out, config=None, *extra):
    args = ["run", "--input", str(manifest), "--output", str(out), "--ephemeral-key", "--as-of", AS_OF]
    return run_cli(*args, *(["--config", config] if config else []), *extra)


def reviewer_rows(out) -> list[dict]:
    return [row for f in sorted(glob.glob(f"{out}/reviewer/*.parquet")) for row in pq.read_table(f).to_pylist()]


def report_of(out) -> dict:
    with open(f"{out}/run_report.json") as handle:
        return json.load(handle)


def assert_no_raw_account_in(proc, accounts):
    text = (proc.stdout + proc.stderr).lower()
    for account in accounts:
        assert account.lower() not in text and account[5:] not in text


# ------------------------------------------------------------------ class 2: every list formatting


@pytest.fixture(scope="module")
def lists_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("lists")
    folder, audio = make_input(root, "in")
    lists = root / "lists"
    (lists / "glob").mkdir(parents=True)
    for _, name, data, _ in LISTED.values():
        (lists / name).write_bytes(data)
    (lists / "glob" / "part-00000").write_text("# an empty part\n")
    rows = [
        base_row(f"clip-{m}", audio, transcript=f"alexa play the {m} song", account_id=a)
        for m, (a, *_) in LISTED.items()
    ]
    rows += [
        base_row(f"clip-{m}", audio, transcript=f"alexa play the {m} song", account_id=a) for m, a in CONTROLS.items()
    ]
    rows[-1]["locale"] = "en_US"  # standardised
    rows[-2]["locale"] = "Rosalind"  # not a tag: becomes und, the value goes nowhere
    manifest = folder / "manifest.jsonl"
    manifest.write_bytes(BOM + "".join(json.dumps(r) + "\n" for r in rows).encode())  # BOM: class 3
    paths = {
        reason: sorted({str(lists / name) for _, name, _, r in LISTED.values() if r == reason and "/" not in name})
        for reason in ("opt_out", "deletion_request")
    }
    paths["deletion_request"].append(f"{lists}/glob/part-*")
    config = write_config(root, paths["opt_out"], paths["deletion_request"])
    out = root / "out"
    return out, run(manifest, out, config), rows


def test_when_a_listed_account_is_formatted_any_accepted_way_then_its_clip_never_reaches_reviewers(lists_run):
    out, proc, rows = lists_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    transcripts = [row["transcript"] for row in reviewer_rows(out)]
    for marker in LISTED:
        assert not any(marker in t for t in transcripts), marker
    assert sorted(m for m in CONTROLS if any(m in t for t in transcripts)) == sorted(CONTROLS)
    report = report_of(out)
    by_list = [reason for *_, reason in LISTED.values()]
    assert report["policy_dropped_by_reason"] == {
        "opt_out": by_list.count("opt_out"),
        "deletion_request": by_list.count("deletion_request"),
    }
    assert report["reconciled"] is True and report["leak_check"]["passed"] is True
    assert_no_raw_account_in(proc, [r["account_id"] for r in rows])


def test_when_a_jsonl_manifest_starts_with_a_bom_then_no_row_is_quarantined(lists_run):
    out, _, rows = lists_run
    report = report_of(out)
    assert report["outcomes"]["clips_in"] == len(rows) and report["outcomes"]["quarantined"] == 0
    assert report["leak_check"]["manifest_rows"] == len(rows)


def test_when_a_locale_is_odd_then_reviewers_see_a_standard_tag_or_und(lists_run):
    out, _, _ = lists_run
    locales = {row["transcript"].split()[3]: row["locale"] for row in reviewer_rows(out)}
    assert locales == {"walnut": "und", "almond": "en-US"}


REFUSED_LISTS = [
    # (file name, bytes, what stderr must say)
    ("second-column.txt", b"ACCT-1000000001\nACCT-1000000002\tJane Doe\n", "second-column.txt, line 2: not one valid"),
    ("second-column-comma.txt", b"ACCT-1000000002,Jane\n", "second-column-comma.txt, line 1: not one valid"),
    ("latin1.txt", "ACCT-1000000001\nMüller-1000000002\n".encode("latin-1"), "latin1.txt, line 2: not UTF-8 text"),
    ("utf16-no-bom.txt", "ACCT-1000000002\n".encode("utf-16-le"), "utf16-no-bom.txt, line 1: not one valid"),
    ("optout", None, "is a directory; name the list files or a glob"),
    ("nothing-*.txt", None, "matches no file"),
]


@pytest.mark.parametrize("name, data, says", REFUSED_LISTS, ids=[r[0] for r in REFUSED_LISTS])
def test_when_a_list_line_is_not_one_valid_id_then_the_run_refuses_to_start(tmp_path, name, data, says):
    folder, audio = make_input(tmp_path, "in")
    manifest = folder / "manifest.jsonl"
    manifest.write_text(json.dumps(base_row("c1", audio, account_id="ACCT-1000000002")) + "\n")
    if data is None and "*" not in name:
        (tmp_path / name).mkdir()
        (tmp_path / name / "a.txt").write_text("ACCT-1000000002\n")
    elif data is not None:
        (tmp_path / name).write_bytes(data)
    out = tmp_path / "out"
    proc = run(manifest, out, write_config(tmp_path, opt_out=[str(tmp_path / name)]))
    assert proc.returncode == 2 and says in proc.stderr, proc.stderr[-2000:]
    assert not out.exists()
    assert_no_raw_account_in(proc, ["ACCT-1000000001", "ACCT-1000000002"])
    assert "jane" not in proc.stderr.lower() and "müller" not in proc.stderr.lower()


# ------------------------------------------------------------------ class 3: manifests and configs


@pytest.fixture(scope="module")
def csv_run(tmp_path_factory):
    """A CSV manifest whose transcript cell spans lines, with spoken PII after the break."""
    root = tmp_path_factory.mktemp("csv")
    folder, audio = make_input(root, "in")
    spoken = timed("alexa call rosalind at five five five zero one nine nine", 1.5)
    transcript = "alexa call\nrosalind at five five five\r\nzero one nine nine"
    row = base_row("multi", audio, transcript=transcript, words=json.dumps(spoken["words"]))
    columns = list(row)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns)
    writer.writeheader()
    writer.writerow(row)
    manifest = folder / "manifest.csv"
    manifest.write_text(buffer.getvalue(), newline="")
    assert manifest.read_text().count("\n") > 2  # the cell really spans lines
    out = root / "out"
    return out, run(manifest, out)


def test_when_a_csv_cell_spans_lines_then_the_clip_is_read_whole_and_its_pii_redacted_and_muted(csv_run):
    out, proc = csv_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = reviewer_rows(out)
    assert len(rows) == 1 and report_of(out)["outcomes"]["clips_in"] == 1
    text = rows[0]["transcript"]
    # Both halves of the cell are in the one row: the text before the break, and the name and the
    # number after it, redacted (the number's span takes the second line break with it).
    assert text.startswith("alexa call\n") and "<PERSON>" in text and "rosalind" not in text.lower()
    assert len(rows[0]["entities"]) >= 2 and not any(w in text for w in ("five", "nine"))
    assert rows[0]["muted_intervals"], "spoken PII after the line break must be muted"


def test_when_a_manifest_is_jsonl_gz_then_it_runs_like_jsonl(tmp_path):
    folder, audio = make_input(tmp_path, "in")
    rows = [base_row(f"c{i}", audio, transcript=f"alexa play track {n}") for i, n in enumerate(["one", "two"])]
    manifest = folder / "manifest.jsonl.gz"
    manifest.write_bytes(gzip.compress(BOM + "".join(json.dumps(r) + "\n" for r in rows).encode()))
    out = tmp_path / "out"
    proc = run(manifest, out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(r["transcript"] for r in reviewer_rows(out)) == ["alexa play track one", "alexa play track two"]
    assert report_of(out)["leak_check"]["manifest_rows"] == 2


def test_when_a_yaml_key_is_repeated_then_the_run_refuses_to_start(tmp_path):
    folder, audio = make_input(tmp_path, "in")
    manifest = folder / "manifest.jsonl"
    manifest.write_text(json.dumps(base_row("c1", audio, account_id="ACCT-1000000002")) + "\n")
    (tmp_path / "optout.txt").write_text("ACCT-1000000002\n")
    config = write_config(tmp_path, opt_out=[str(tmp_path / "optout.txt")])
    # A second `policy:` section: YAML alone would keep the last one, without the opt-out list.
    with open(config, "a") as handle:
        handle.write("policy:\n  opt_out_lists: []\n")
    out = tmp_path / "out"
    proc = run(manifest, out, config)
    assert proc.returncode == 2 and "key policy (line" in proc.stderr and "given twice" in proc.stderr
    assert not out.exists()


@pytest.mark.parametrize("case", ["output-is-a-file", "output-holds-the-input", "output-is-the-input-folder"])
def test_when_output_is_a_file_or_holds_the_input_then_the_run_refuses_to_start(tmp_path, case):
    """Needs ``check_output_location`` called by ``pipeline.run`` before the run (exit 2)."""
    folder, audio = make_input(tmp_path, "in")
    manifest = folder / "manifest.jsonl"
    manifest.write_text(json.dumps(base_row("c1", audio)) + "\n")
    out = {
        "output-is-a-file": tmp_path / "results.parquet",
        "output-holds-the-input": tmp_path,
        "output-is-the-input-folder": folder,
    }[case]
    if case == "output-is-a-file":
        out.write_bytes(b"PAR1")
    before = sorted(os.listdir(folder))
    proc = run(manifest, out)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "--output" in proc.stderr
    assert sorted(os.listdir(folder)) == before
    if case == "output-is-a-file":
        assert out.read_bytes() == b"PAR1"


@pytest.mark.parametrize("name", ["manifest.txt", "manifest.parquet.gz", "manifest.jsonl.zip"])
def test_when_a_manifest_format_is_unknown_then_the_run_refuses_to_start(tmp_path, name):
    """Needs ``check_manifest`` called by ``pipeline.run`` before the run (exit 2)."""
    folder, audio = make_input(tmp_path, "in")
    (folder / name).write_text(json.dumps(base_row("c1", audio)) + "\n")
    out = tmp_path / "out"
    proc = run(folder / name, out)
    assert proc.returncode == 2 and "unknown format" in proc.stderr, proc.stderr[-2000:]
    assert not glob.glob(f"{out}/reviewer/*")


def test_reviewed_audio_of_the_input_runs_is_real_audio(lists_run):
    out, _, _ = lists_run
    for row in reviewer_rows(out):
        audio, rate = sf.read(io.BytesIO(row["audio"]))
        assert rate == RATE and np.all(np.isfinite(audio))
