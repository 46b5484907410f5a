"""Live progress: the workers' side channel, the line's content, and a captured run through the CLI."""

import json
import os
import re
import subprocess
import sys

import pytest

from pipeline import local_engine, progress
from tests.conftest import REPO, SAMPLE_MANIFEST, run_cli
from transforms.core import progress as tally

LINE = re.compile(
    r"progress: ([\d,]+) of ([\d,]+) clips \(\d+%\); reviewed ([\d,]+), escalated ([\d,]+), "
    r"dropped ([\d,]+), quarantined ([\d,]+); "
)


def parse_lines(text: str) -> list[tuple[int, ...]]:
    """(done, total, reviewed, escalated, dropped, quarantined) of every progress line, in order."""
    return [tuple(int(g.replace(",", "")) for g in m.groups()) for m in LINE.finditer(text)]


# ---- the workers' side channel --------------------------------------------------------------------


def test_when_the_launcher_names_a_folder_then_counts_noted_in_two_processes_add_up(tmp_path, monkeypatch):
    monkeypatch.setenv(tally.ENV_DIR, str(tmp_path))
    monkeypatch.setenv(tally.ENV_FLUSH, "0")  # write-through: the file holds every increment
    tally.note("encode/succeeded", 3)
    tally.note("policy/dropped_opt_out")
    code = "from transforms.core import progress as p; p.note('encode/succeeded', 4); p.note('quarantine/total', 2)"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, env=dict(os.environ), check=True, timeout=60)
    totals, workers = tally.read_totals(str(tmp_path))
    assert workers == 2
    assert totals == {"encode/succeeded": 7, "policy/dropped_opt_out": 1, "quarantine/total": 2}
    assert progress.counts_from(totals) == progress.Counts(reviewed=7, escalated=0, dropped=1, quarantined=2)


def test_when_no_folder_is_named_then_noting_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv(tally.ENV_DIR, raising=False)
    tally.note("encode/succeeded", 5)
    assert tally.read_totals(str(tmp_path)) == ({}, 0)


def test_when_the_folder_is_not_on_this_machine_then_the_job_is_not_stopped(tmp_path, monkeypatch):
    monkeypatch.setenv(tally.ENV_DIR, str(tmp_path / "elsewhere"))
    monkeypatch.setenv(tally.ENV_FLUSH, "0")
    tally.note("encode/succeeded")  # no exception: progress is a nicety, the clip is not
    tally.note("encode/succeeded")
    assert not (tmp_path / "elsewhere").exists()


# ---- what a line says --------------------------------------------------------------------------


def test_a_line_carries_counts_rate_and_time_left():
    counts = progress.Counts(reviewed=1200, escalated=4, dropped=20, quarantined=10)
    line = progress.format_line(counts, 20000, 95.0, 45.25, 415.0)
    assert line == (
        "1,234 of 20,000 clips (6%); reviewed 1,200, escalated 4, dropped 20, quarantined 10; "
        "45.2 clips/s, about 6 min 55 s left; 1 min 35 s elapsed"
    )
    assert parse_lines("progress: " + line) == [(1234, 20000, 1200, 4, 20, 10)]


def test_the_rate_leaves_out_start_up_and_gives_the_time_left():
    rate = progress.Rate(window_s=30)
    rate.add(10.0, 0)  # workers still starting: no rate yet
    assert rate.per_s() is None
    rate.add(20.0, 100)
    rate.add(30.0, 300)
    assert rate.per_s() == pytest.approx(15.0)  # 300 clips since the start-up ended at t=10 s
    assert rate.left_s(300, 1200) == pytest.approx(60.0)
    rate.add(60.0, 900)  # the window moves on: only the last 30 s or so count
    assert rate.per_s() == pytest.approx(20.0)


def test_the_outcomes_are_the_counters_the_report_reconciles():
    totals = {
        "manifest/rows": 10,
        "encode/succeeded": 6,
        "encode_escalation/succeeded": 1,
        "policy/dropped_no_wake_word": 2,
        "policy/dropped_opt_out": 1,
        "quarantine/decode": 1,
        "quarantine/total": 1,
        "voice/succeeded": 7,
    }
    assert progress.counts_from(totals) == progress.Counts(reviewed=6, escalated=1, dropped=3, quarantined=1)


def test_the_dataflow_console_url():
    assert progress.dataflow_console_url("my-proj", "europe-west1", "2026-12-06_01_02_03-123") == (
        "https://console.cloud.google.com/dataflow/jobs/europe-west1/2026-12-06_01_02_03-123?project=my-proj"
    )


def test_the_manifest_is_counted_as_the_job_counts_it(tmp_path):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text('{"clip_id": "a"}\n\n{"clip_id": "b"}\nnot json\n   \n')
    assert progress.count_rows(str(manifest)) == 3  # blank lines are not rows; a bad row is
    assert progress.count_rows(SAMPLE_MANIFEST) == 10
    broken = tmp_path / "m.csv"
    broken.write_text('clip_id,audio_uri,transcript,account_id,recorded_at\n"a,b\n')
    assert progress.count_rows(str(broken)) is None  # the job reports it; no total, no crash


def test_on_a_terminal_the_line_is_drawn_in_place_by_rich(tmp_path, monkeypatch):
    import pty
    import select

    monkeypatch.setenv(tally.ENV_FLUSH, "0")
    master, slave = pty.openpty()
    with os.fdopen(slave, "w", encoding="utf-8") as terminal:
        with progress.Watch(total=1500, live=True, every_s=10, stream=terminal) as watch:
            assert watch._bar is not None  # the terminal got the rich display, not plain log lines
            tally.note("encode/succeeded", 3)
        drawn = b""
        while select.select([master], [], [], 0.5)[0]:
            chunk = os.read(master, 65536)
            if not chunk:
                break
            drawn += chunk
    os.close(master)
    text = drawn.decode("utf-8", "replace")
    assert "0/1,500 clips 0%" in text and "\x1b[?25l" in text  # the first frame, cursor hidden to redraw it
    assert "progress:" not in text
    assert os.environ.get(tally.ENV_DIR) is None  # the folder is named only while the run lasts


# ---- which engine a local run gets -------------------------------------------------------------

MANY = local_engine.MIN_CLIPS_FOR_WORKERS


@pytest.mark.parametrize(
    ("beam_args", "clips", "cores", "expected_args", "says"),
    [
        ([], MANY, 2, ["--direct_running_mode=multi_processing", "--direct_num_workers=2"], "2 worker processes"),
        ([], 20000, 8, ["--direct_running_mode=multi_processing", "--direct_num_workers=8"], "one per core"),
        ([], MANY - 1, 2, [], "too few"),
        ([], 20000, 1, [], "1 core"),
        (["--direct_num_workers=1"], 20000, 2, ["--direct_num_workers=1"], "as asked"),
        (
            ["--direct_running_mode", "in_memory"],
            20000,
            2,
            ["--direct_running_mode", "in_memory"],
            "in_memory, direct_num_workers=1 (as asked)",
        ),
        (["--runner=DaskRunner"], 20000, 2, ["--runner=DaskRunner"], "runner DaskRunner"),
        (["--runner", "DataflowRunner"], 20000, 2, ["--runner", "DataflowRunner"], "runner DataflowRunner"),
        (
            ["--runner=DirectRunner"],
            20000,
            2,
            ["--runner=DirectRunner", "--direct_running_mode=multi_processing", "--direct_num_workers=2"],
            "one per core",
        ),
    ],
)
def test_when_no_runner_flags_are_given_then_a_big_manifest_gets_a_worker_per_core(
    beam_args, clips, cores, expected_args, says
):
    args, sentence = local_engine.choose(beam_args, clips, cores)
    assert args == expected_args
    assert says in sentence


def test_without_a_quota_the_usable_cores_are_the_processes_affinity(tmp_path):
    assert local_engine.usable_cores(str(tmp_path / "absent")) == len(os.sched_getaffinity(0))


def test_when_affinity_is_unavailable_then_the_cpu_count_is_used(tmp_path, monkeypatch):
    def unavailable(_pid):
        raise OSError("no affinity here")

    monkeypatch.setattr(os, "sched_getaffinity", unavailable)
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert local_engine.usable_cores(str(tmp_path / "absent")) == 6
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert local_engine.usable_cores(str(tmp_path / "absent")) == 1


@pytest.mark.parametrize(
    "cpu_max, bound",
    [("150000 100000\n", 2), ("50000 100000\n", 1), ("max 100000\n", None), ("garbage", None)],
)
def test_when_a_cgroup_quota_is_set_then_the_cores_are_bounded_by_it(tmp_path, monkeypatch, cpu_max, bound):
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(8)))
    quota = tmp_path / "cpu.max"
    quota.write_text(cpu_max)
    assert local_engine.usable_cores(str(quota)) == (bound or 8)
    assert local_engine.usable_cores(str(tmp_path / "absent")) == 8


# ---- a real run, its output captured -----------------------------------------------------------


@pytest.fixture(scope="module")
def captured_run(tmp_path_factory):
    """The sample manifest through the CLI with two worker processes (the engine a big manifest
    gets by default), progress every 0.2 s, workers' counts written through on every increment."""
    out = tmp_path_factory.mktemp("progress") / "out"
    proc = run_cli(
        "run",
        "--input",
        SAMPLE_MANIFEST,
        "--output",
        str(out),
        "--ephemeral-key",
        "--progress-every",
        "0.2",
        "--direct_running_mode=multi_processing",
        "--direct_num_workers=2",
        env={tally.ENV_FLUSH: "0"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc, json.loads((out / "run_report.json").read_text()), out


def test_a_captured_run_shows_counts_that_only_grow_and_end_at_the_manifests_total(captured_run):
    proc, report, _ = captured_run
    lines = parse_lines(proc.stderr)
    assert len(lines) >= 2, proc.stderr[-3000:]
    assert all(total == 10 for _, total, *_ in lines)
    for before, after in zip(lines, lines[1:], strict=False):
        assert all(b <= a for b, a in zip(before, after, strict=True)), (before, after)
    for done, _, *outcomes in lines:
        assert done == sum(outcomes)
    out = report["outcomes"]
    assert lines[0][0] == 0
    assert lines[-1] == (10, 10, out["reviewer_rows"], out["escalated"], out["policy_dropped"], out["quarantined"])
    assert lines[-1] == (10, 10, 8, 0, 2, 0)
    assert "finished in" in proc.stderr


def test_the_live_counts_came_from_the_worker_processes_and_agree_with_the_metrics(captured_run):
    proc, _, _ = captured_run
    assert re.search(r"live counts from [12] worker process\(es\) agree with the job's metrics", proc.stderr)


def test_the_first_line_says_how_the_run_uses_the_machine(captured_run):
    proc, _, _ = captured_run
    first = proc.stderr.splitlines()[0]
    assert "DirectRunner, multi_processing, direct_num_workers=2 (as asked)" in first


def test_the_progress_lines_and_console_carry_no_clip_value(captured_run, sample_rows):
    proc, _, out = captured_run
    console = (proc.stdout + proc.stderr).lower()
    progress_lines = "\n".join(line for line in console.splitlines() if "progress" in line)
    for row in sample_rows:
        assert row["clip_id"].lower() not in progress_lines
        for value in (row["account_id"], row["device_serial"], row["first_name"], row["transcript"]):
            assert str(value).lower() not in console
    # the workers' own log lines are kept off the console (they reach logs/launcher.log over the Fn API)
    assert "INFO:" not in proc.stderr and "sdk harness" not in console
    assert "Python sdk harness starting" in (out / "logs" / "launcher.log").read_text()
