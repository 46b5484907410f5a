"""``python -m pipeline trace``: a marked clip, re-encoded by real ffmpeg, traced to its run and
batch through the audit trail; unmarked and unreadable files; the trace's audit record."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from pipeline import audit
from pipeline.evaluation import watermark_attacks as wa
from tests.conftest import SAMPLES, run_cli
from transforms import audio_io
from transforms.watermark import Marker, Payload, run_tag
from transforms.watermark.mark import RATE

KEY_HEX = "3c" * 8 + "a1" * 8 + "5e" * 8 + "07" * 8
RUN_ID = "20261206T231400Z-abcd1234"


def _encode(samples: np.ndarray, args: list[str], container: str) -> bytes:
    raw = np.asarray(samples, dtype="<f4").tobytes()
    return wa._ffmpeg(
        ["-f", "f32le", "-ar", str(RATE), "-ac", "1", "-i", "pipe:0", *args, "-f", container, "pipe:1"], raw
    )


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    root = tmp_path_factory.mktemp("trace")
    key_file = root / "watermark.key"
    key_file.write_text(KEY_HEX + "\n")
    trail = str(root / "audit.jsonl")
    report = {
        "run_id": RUN_ID,
        "config_hash": "0" * 16,
        "pipeline_version": "0.1.0",
        "finished_at": "2026-12-06T23:20:00+00:00",
    }
    audit.append(trail, audit.run_record(report, manifest_fingerprint="sha256:" + "1" * 64, key_kind="file", epochs=[]))
    speech = audio_io.load(os.path.join(SAMPLES, "audio", "clip-0001.wav"), RATE, 600)
    key = bytes.fromhex(KEY_HEX)
    marked = Marker(key, Payload(run_tag(key, RUN_ID), False, 7)).embed(speech)
    leak = root / "voice-note.ogg"  # what a messaging app sends: Opus in Ogg, 24 kbit/s, cut at 1.3 s
    leak.write_bytes(_encode(marked[int(1.3 * RATE) :], ["-c:a", "libopus", "-b:a", "24k"], "ogg"))
    clean = root / "unmarked.mp3"
    clean.write_bytes(_encode(speech, ["-c:a", "libmp3lame", "-b:a", "64k"], "mp3"))
    broken = root / "notes.m4a"
    broken.write_bytes(b"this is not audio at all" * 20)
    return {"key": str(key_file), "trail": trail, "leak": str(leak), "clean": str(clean), "broken": str(broken)}


def test_when_a_marked_voice_note_is_traced_then_its_run_time_and_batch_are_named(case):
    proc = run_cli("trace", case["leak"], "--key-file", case["key"], "--audit", case["trail"], "--tracer", "dpo")
    assert proc.returncode == 0, proc.stderr
    assert f"FOUND run {RUN_ID} (run at 2026-12-06T23:20:00+00:00), reviewer batch 7" in proc.stdout
    last = audit.read(case["trail"])[-1]
    assert last["kind"] == "trace" and last["tracer"] == "dpo" and last["found"] == 1
    entry = last["results"][0]
    assert entry["run_id"] == RUN_ID and entry["batch"] == 7 and entry["false_alarm"] <= 1e-6
    with open(case["leak"], "rb") as handle:
        import hashlib

        assert entry["sha256"] == "sha256:" + hashlib.sha256(handle.read()).hexdigest()
    with open(case["trail"], encoding="utf-8") as handle:
        assert "voice-note" not in handle.read()  # no file name, no path in the trail


def test_when_a_file_carries_no_mark_then_it_is_not_found(case):
    proc = run_cli("trace", case["clean"], "--key-file", case["key"], "--audit", case["trail"], "--json")
    assert proc.returncode == 1, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["found"] is False and result["run_id"] is None
    assert audit.read(case["trail"])[-1]["found"] == 0


def test_when_a_file_is_unreadable_then_the_exit_code_says_so(case):
    proc = run_cli("trace", case["leak"], case["broken"], "--key-file", case["key"], "--audit", case["trail"])
    assert proc.returncode == 2
    assert "unreadable" in proc.stderr and "FOUND" in proc.stdout  # the readable file is still traced


def test_when_the_key_is_wrong_then_nothing_is_found(case, tmp_path):
    wrong = tmp_path / "wrong.key"
    wrong.write_text("9d41" * 16)
    proc = run_cli("trace", case["leak"], "--key-file", str(wrong))
    assert proc.returncode == 1 and "not found" in proc.stdout


def test_when_a_trace_record_is_built_then_only_known_fields_of_known_shape_go_in():
    good = {"sha256": "sha256:" + "2" * 64, "found": False}
    record = audit.trace_record("dpo", [{**good, "path": "/home/x/leak.ogg"}])
    assert record["files"] == 1 and "path" not in record["results"][0]  # copied from a fixed list
    with pytest.raises(audit.AuditError):
        audit.trace_record("dpo", [{**good, "sha256": "leak.ogg"}])  # not a digest
    with pytest.raises(audit.AuditError):
        audit.check_record({**record, "results": [{**good, "path": "/home/x/leak.ogg"}]})


def test_when_the_trail_is_printed_then_the_trace_shows_who_traced_and_what(case):
    run_cli("trace", case["leak"], "--key-file", case["key"], "--audit", case["trail"], "--tracer", "dpo")
    proc = run_cli("audit", "--audit", case["trail"])
    assert proc.returncode == 0
    line = [row for row in proc.stdout.splitlines() if " trace " in row][-1]
    assert f"{RUN_ID}/reviewer/7" in line and "traced by dpo" in line


def test_when_the_job_runs_then_a_reviewer_clip_exported_from_parquet_traces_to_its_run_and_batch(tmp_path):
    import pyarrow.parquet as pq

    from tests.conftest import SAMPLE_MANIFEST

    out = tmp_path / "out"
    env = {"VOICEANON_WATERMARK_KEY": KEY_HEX}
    proc = run_cli("run", "--input", SAMPLE_MANIFEST, "--output", str(out), "--ephemeral-key", env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    run = [r for r in audit.read(str(out / "audit.jsonl")) if r["kind"] == "run"][-1]
    assert run["watermark"] == {"key": "env", "batches": 16}
    rows = pq.read_table(next((out / "reviewer").glob("*.parquet"))).to_pylist()
    row = max(rows, key=lambda r: r["duration_s"])  # the longest reviewer clip, as a reviewer would save it
    leak = tmp_path / "saved.flac"
    leak.write_bytes(row["audio"])
    key_file = tmp_path / "wm.key"
    key_file.write_text(KEY_HEX)
    traced = run_cli("trace", str(leak), "--key-file", str(key_file), "--audit", str(out / "audit.jsonl"), "--json")
    assert traced.returncode == 0, traced.stdout + traced.stderr
    result = json.loads(traced.stdout.strip().splitlines()[-1])
    assert result["run_id"] == row["run_id"] == run["run_id"]
    assert result["output"] == "reviewer" and result["batch"] == row["review_batch"]
