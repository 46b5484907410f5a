"""The real entry point on data/samples: Parquet read back, nothing raw anywhere, counts reconcile."""

import glob
import json
import os
import shutil

import pyarrow.parquet as pq
import pytest
import soundfile as sf

from pipeline.verify import needles_from_rows, scan_file, scan_outputs
from tests.conftest import SAMPLE_MANIFEST, SAMPLES, run_cli
from transforms.core.schema import REVIEWER_SCHEMA


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e") / "out"
    proc = run_cli("run", "--input", SAMPLE_MANIFEST, "--output", str(out), "--ephemeral-key")
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = out.parent / "captured.log"
    log.write_text(proc.stdout + proc.stderr)
    return out, log


def read_reviewer(out):
    files = sorted(glob.glob(f"{out}/reviewer/*.parquet"))
    assert files, "no reviewer shards written"
    return [pq.read_table(f) for f in files]


def woken(rows):
    """Sample clips the default policy lets through (no_wake_word: drop)."""
    return [r for r in rows if r["wake_word_detected"]]


def test_reviewer_shards_have_the_explicit_schema_and_every_clip(sample_run, sample_rows):
    out, _ = sample_run
    tables = read_reviewer(out)
    for table in tables:
        assert table.schema.equals(REVIEWER_SCHEMA, check_metadata=False)
    rows = [row for t in tables for row in t.to_pylist()]
    assert len(rows) == len(woken(sample_rows)) == 8
    assert len({r["review_id"] for r in rows}) == len(rows)
    assert len({r["run_id"] for r in rows}) == 1
    by_account = {}
    for row in rows:
        assert row["audio_mime"] == "audio/flac" and row["sample_rate"] == 16000
        audio, rate = sf.read(__import__("io").BytesIO(row["audio"]))
        assert rate == 16000 and abs(len(audio) / rate - row["duration_s"]) < 0.01
        for entity in row["entities"]:
            assert row["transcript"][entity["start"] : entity["end"]] == f"<{entity['type']}>"
        by_account.setdefault(row["speaker_pseudonym"], 0)
    # Clips of one account within one epoch share one pseudonym; different accounts never do.
    accounts = {r["account_id"] for r in woken(sample_rows)}
    assert len(by_account) == len(accounts)


def test_no_raw_identifier_appears_in_any_output_byte_or_log(sample_run, sample_rows):
    out, log = sample_run
    needles = needles_from_rows(sample_rows)
    assert needles.count == 3 * len(sample_rows)
    assert scan_outputs(str(out), needles, extra_files=[str(log)]) == []


def test_no_raw_transcript_appears_in_the_captured_log(sample_run, sample_rows):
    _, log = sample_run
    text = log.read_text().lower()
    for row in sample_rows:
        assert row["transcript"].lower() not in text


def test_the_scanner_finds_a_planted_leak(sample_run, sample_rows, tmp_path):
    planted = tmp_path / "planted.txt"
    planted.write_text(f"oops {sample_rows[3]['device_serial'].lower()} and {sample_rows[0]['first_name'].upper()}!")
    leaks = scan_file(str(planted), needles_from_rows(sample_rows))
    assert {(leak.kind, leak.row) for leak in leaks} >= {("device_serial", 4), ("first_name", 1)}


def test_the_run_report_reconciles(sample_run, sample_rows):
    out, _ = sample_run
    report = json.loads((out / "run_report.json").read_text())
    assert report["reconciled"] is True
    assert report["outcomes"] == {
        "clips_in": 10,
        "reviewer_rows": 8,
        "escalated": 0,
        "policy_dropped": 2,
        "quarantined": 0,
    }
    assert report["policy_dropped_by_reason"] == {"no_wake_word": 2}
    assert report["leak_check"]["passed"] is True and report["leak_check"]["files_scanned"] >= 4
    assert report["entities_by_type"].get("PERSON", 0) >= 4
    # every clip that reaches a reviewer went through the watermark stage, and the run table shows it
    assert report["stages"]["watermark"] == {"received": 8, "succeeded": 8, "failed": 0}


def test_bad_rows_land_in_quarantine_and_counts_reconcile(tmp_path, sample_rows):
    raw = tmp_path / "in"  # the raw input's folder; the outputs go outside it
    shutil.copytree(f"{SAMPLES}/audio", raw / "audio")
    (raw / "audio" / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk")
    base = woken(sample_rows)
    bad = [
        {**base[0], "clip_id": "bad-missing-file", "audio_uri": "audio/ACCT-secret-missing.wav"},
        {**base[1], "clip_id": "bad-corrupt", "audio_uri": "audio/corrupt.wav"},
        {k: v for k, v in base[2].items() if k != "account_id"} | {"clip_id": "bad-no-account"},
    ]
    good = woken(sample_rows)[:4]
    lines = [json.dumps(r) for r in good + bad] + ['{"clip_id": "bad-json", "transcript": "call jennifer']
    manifest = raw / "manifest.jsonl"
    manifest.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    proc = run_cli("run", "--input", str(manifest), "--output", str(out), "--ephemeral-key")
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = [json.loads(line) for f in glob.glob(f"{out}/quarantine/*.jsonl") for line in open(f) if line.strip()]
    got = {(r["clip_id"], r["stage"], r["error_type"]) for r in records}
    assert got == {
        ("bad-missing-file", "decode", "audio_missing"),
        ("bad-corrupt", "decode", "audio_unreadable"),
        ("bad-no-account", "manifest", "missing_field"),
        ("bad-json", "manifest", "unparseable_row"),
    }
    assert not glob.glob(f"{out}/reviewer/*quarantine*")
    report = json.loads((out / "run_report.json").read_text())
    assert report["outcomes"] == {
        "clips_in": 8,
        "reviewer_rows": 4,
        "escalated": 0,
        "policy_dropped": 0,
        "quarantined": 4,
    }
    assert report["reconciled"] is True
    needles = needles_from_rows(good + bad)
    assert scan_outputs(str(out), needles) == []
    assert "jennifer" not in open(glob.glob(f"{out}/quarantine/*.jsonl")[0]).read().lower()


def test_without_a_key_the_job_refuses_to_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "VOICEANON_PSEUDONYM_KEY"}
    proc = run_cli("run", "--input", SAMPLE_MANIFEST, "--output", str(tmp_path / "o"), env=env)
    assert proc.returncode == 2 and "no pseudonym key" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_with_a_bad_config_the_job_refuses_to_start(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("audio:\n  sample_rate: 16000\n  bogus: 1\n")
    proc = run_cli(
        "run", "--input", SAMPLE_MANIFEST, "--output", str(tmp_path / "o"), "--ephemeral-key", "--config", str(config)
    )
    assert proc.returncode == 2 and "bogus" in proc.stderr


def test_an_existing_output_needs_overwrite(sample_run):
    out, _ = sample_run
    proc = run_cli("run", "--input", SAMPLE_MANIFEST, "--output", str(out), "--ephemeral-key")
    assert proc.returncode == 2 and "--overwrite" in proc.stderr


def test_help_lists_the_job_flags():
    proc = run_cli("run", "--help")
    assert proc.returncode == 0
    for flag in ("--input", "--output", "--config", "--key-file", "--ephemeral-key", "--overwrite"):
        assert flag in proc.stdout


def test_the_console_shows_the_projects_progress_and_the_log_file_keeps_everything(sample_run):
    out, captured = sample_run
    console = captured.read_text()
    assert "INFO pipeline.run" in console and "leak check: passed" in console
    # Beam's and Presidio's INFO chatter (and Beam's import notice) stay off the console...
    assert "INFO apache_beam" not in console and "apitools not found" not in console
    assert "INFO presidio" not in console
    # ...but the run's log file keeps them, for data engineers and for the leak check.
    log = (out / "logs" / "launcher.log").read_text()
    assert "INFO pipeline.run" in log and "apache_beam" in log
