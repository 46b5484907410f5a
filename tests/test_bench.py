"""Smoke tests of the benchmark harness (``benchmarks/``): workload, measurement, one 3-clip bench.

No timing is asserted here — figures come from ``make bench``. These check that the workload is a
valid manifest with PII-bearing transcripts, that child processes' memory and CPU are counted, and
that one bench run over 3 clips produces a row for each approach.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from benchmarks import bench, workload
from benchmarks.rss import measure, mib

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_workload(tmp_path_factory):
    folder = tmp_path_factory.mktemp("workload")
    manifest = workload.generate(str(folder), clips=5, min_s=0.5, max_s=1.0, distinct_audio=3, source="samples")
    with open(manifest, encoding="utf-8") as handle:
        return manifest, [json.loads(line) for line in handle]


def test_when_workload_is_generated_then_every_row_is_a_valid_clip(small_workload):
    from transforms import audio_io
    from transforms.manifest import parse_clip

    manifest, rows = small_workload
    assert len(rows) == 5
    assert len({row["clip_id"] for row in rows}) == 5
    assert len({row["audio_uri"] for row in rows}) == 3  # audio reused round-robin beyond distinct_audio
    for row in rows:
        clip = parse_clip(row, os.path.dirname(manifest))
        samples = audio_io.load(clip.audio_uri, 16000, 60.0)
        assert abs(len(samples) / 16000 - row["duration_s"]) < 0.002
        assert [w.word for w in clip.words] == clip.transcript.split()
        assert clip.transcript == clip.transcript.lower() and not any(c.isdigit() for c in clip.transcript)


@pytest.mark.parametrize(
    "value, spoken",
    [("555-0142", "five five five zero one four two"), ("ACCT-90", "nine zero")],
)
def test_when_digits_are_spoken_then_each_becomes_a_word(value, spoken):
    assert workload.spoken_digits(value) == spoken


def test_when_child_spawns_worker_then_its_memory_and_cpu_are_measured():
    # The launcher spawns a child that holds ~150 MB and burns CPU: the child must be seen as a worker.
    child = (
        "import time\n"
        "block = bytearray(150 << 20)\n"
        "block[::4096] = b'x' * len(block[::4096])\n"
        "start = time.process_time()\n"
        "while time.process_time() - start < 0.4:\n"
        "    pass\n"
        "time.sleep(0.5)\n"
    )
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}], check=True)"
    m = measure([sys.executable, "-c", parent], interval=0.05)
    assert len(m.worker_peak_rss) == 1
    assert mib(m.max_worker_rss) > 140
    assert mib(m.launcher_peak_rss) < 140
    assert m.cpu_s >= 0.4
    assert m.wall_s >= 0.9


# A launcher that prints the time, then grows itself or has its child (a worker) grow, which waits
# for the launcher's word on its stdin.
_GROW = "block = bytearray(150 << 20)\nblock[::4096] = b'x' * len(block[::4096])\ntime.sleep(0.6)\n"
_CHILD = "import sys, time\nsys.stdin.readline()\n" + _GROW
_GROWS_LATE = {
    "launcher": "import time\ntime.sleep(0.6)\nprint(time.time(), flush=True)\n" + _GROW,
    "worker": (
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-c', {_CHILD!r}], stdin=subprocess.PIPE)\n"
        "time.sleep(0.6)\n"
        "print(time.time(), flush=True)\n"
        "child.communicate(b'grow\\n')\n"
    ),
}


@pytest.mark.parametrize("who", ["launcher", "worker"])
def test_when_a_process_grows_late_then_its_peak_until_a_time_excludes_the_growth(who):
    # What bench reports "before the leak check" for the launcher and the largest worker (on Dask the
    # check runs in the job's workers): samples up to a real time only.
    m = measure([sys.executable, "-c", _GROWS_LATE[who]], interval=0.05)
    before = float(m.stdout.split()[0])
    peak, peak_until, timeline = {
        "launcher": (m.launcher_peak_rss, m.launcher_peak_until, m.launcher_timeline),
        "worker": (m.max_worker_rss, m.worker_peak_until, m.timeline),
    }[who]
    assert mib(peak) > 140
    assert 0 < mib(peak_until(before)) < 100
    assert peak_until(float("inf")) == max(rss for _, rss in timeline)


def test_when_bench_runs_on_three_clips_then_each_approach_has_figures(tmp_path, capsys):
    code = bench.main(
        ["--clips", "3", "--source", "samples", "--min-s", "0.5", "--max-s", "1.0", "--out", str(tmp_path)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    for name in ("floor", "naive", "ours"):
        assert f"\n{name} " in printed
    assert "ours/naive:" in printed and "ours/floor:" in printed
    with open(tmp_path / "bench.json", encoding="utf-8") as handle:
        rows = {row["approach"]: row for row in json.load(handle)["rows"]}
    assert set(rows) == {"floor", "naive", "ours"}
    for row in rows.values():
        assert row["clips"] == 3
        assert row["xrt_per_core"] > 0 and row["clips_per_s"] > 0 and row["worker_peak_rss_mib"] > 0
    assert rows["ours"]["workers"] >= 1  # multi-process DirectRunner: SDK workers are child processes
    assert "cost model: 1,000,000 clips" in printed and "n2-standard-4 worker-hours" in printed
    with open(tmp_path / "bench.json", encoding="utf-8") as handle:
        cost = json.load(handle)["cost_model"]
    assert cost["clips"] == 1_000_000 and cost["price_per_hour"] == bench.N2_STANDARD_4_PER_HOUR
    assert cost["vcpu_hours"] == pytest.approx(cost["worker_hours"] * 4) and cost["cost"] > 0


def test_when_bench_runs_on_dask_then_the_cluster_workers_are_measured_with_the_job(tmp_path, capsys):
    argv = ["--clips", "3", "--source", "samples", "--min-s", "0.5", "--max-s", "1.0", "--out", str(tmp_path)]
    code = bench.main([*argv, "--runner", "dask", "--worker-series", "2"])  # one run: the suite stays short
    assert code == 0
    printed = capsys.readouterr().out
    assert "speed-up" in printed and "cost model:" in printed
    with open(tmp_path / "bench.json", encoding="utf-8") as handle:
        rows = json.load(handle)["rows"]
    assert [(row["runner"], row["workers_asked"]) for row in rows] == [("DaskRunner", 2)]
    for row in rows:
        # The cluster's worker processes are measured with the job: their memory, and CPU time
        # beyond the launcher's own (which only builds the graph and checks the outputs).
        assert row["workers"] == row["workers_asked"] and row["worker_peak_rss_mib"] > 100
        assert row["clips"] == 3 and row["cpu_s"] > 0


@pytest.mark.parametrize(
    "audio_s_per_cpu_s, mean_clip_s, price, vcpu_hours, cost",
    [
        (100.0, 3.6, 0.2809, 10.0, 10.0 / 4 * 0.2809),  # 3.6 M audio s / 100 = 36,000 CPU s = 10 vCPU-h
        (200.0, 3.6, 0.2809, 5.0, 5.0 / 4 * 0.2809),  # twice the rate: half the hours
        (100.0, 1.8, 1.0, 5.0, 5.0 / 4),  # half the clip length: half the hours
    ],
)
def test_when_cpu_per_audio_second_is_known_then_a_million_clips_cost_follows(
    audio_s_per_cpu_s, mean_clip_s, price, vcpu_hours, cost
):
    model = bench.cost_model(audio_s_per_cpu_s, mean_clip_s, price)
    assert model["vcpu_hours"] == pytest.approx(vcpu_hours)
    assert model["worker_hours"] == pytest.approx(vcpu_hours / 4)
    assert model["cost"] == pytest.approx(cost)


@pytest.mark.parametrize(
    "runner, workers, given, expected",
    [
        ("direct", 3, [], ["--direct_running_mode=multi_processing", "--direct_num_workers=3"]),
        ("direct", 3, ["--direct_num_workers=1"], ["--direct_num_workers=1"]),  # given flags win, as before
        ("dask", 2, ["--dask_npartitions", "8"], ["--runner", "DaskRunner", "--dask_npartitions", "8"]),
    ],
)
def test_when_a_runner_and_workers_are_asked_then_the_job_gets_their_flags(runner, workers, given, expected):
    assert bench.job_args(runner, workers, given) == expected


def test_when_the_default_engine_is_asked_then_the_job_gets_no_runner_flags_and_the_launchers_cores():
    from pipeline.local_engine import MIN_CLIPS_FOR_WORKERS, usable_cores

    assert bench.job_args("direct", 2, [], default_engine=True) == []
    assert bench._cores([], clips=MIN_CLIPS_FOR_WORKERS - 1) == 1  # the launcher runs it in one process
    assert bench._cores([], clips=20000) == min(usable_cores(), os.cpu_count() or 1)


def test_worker_series_table_shows_speed_up_over_the_fewest_workers():
    rows = [
        {"workers_asked": 1, "runner": "DaskRunner", "cores": 1, "wall_s": 40.0, "cpu_s": 30.0, "clips_per_s": 1.0},
        {"workers_asked": 2, "runner": "DaskRunner", "cores": 2, "wall_s": 25.0, "cpu_s": 32.0, "clips_per_s": 1.6},
    ]
    last = bench.worker_series_table(rows).splitlines()[-1].split()
    assert last[0] == "2" and last[-2] == "1.60x" and last[-1] == "80%"


def test_steady_state_separates_start_up_from_the_rate_per_audio_second():
    small = {"clips": 10, "audio_s": 10.0, "wall_s": 6.0, "cpu_s": 8.0, "cores": 2}
    big = {"clips": 110, "audio_s": 110.0, "wall_s": 16.0, "cpu_s": 28.0, "cores": 2}
    st = bench.steady_state(big, small)
    assert st["startup_wall_s"] == 5.0 and st["startup_cpu_s"] == 6.0
    assert st["xrt_per_core"] == 100.0 / 10.0 / 2 and st["audio_s_per_cpu_s"] == 5.0
    # A larger run that is not longer is noise: no rate is made up from it.
    assert bench.steady_state({**big, "wall_s": 5.9}, small) is None


def test_first_rows_manifest_keeps_the_audio_paths(small_workload):
    subset = workload.first(small_workload[0], 2)
    assert workload.manifest_stats(subset)[0] == 2
    with open(subset, encoding="utf-8") as handle:
        for row in map(json.loads, handle):
            assert os.path.exists(os.path.join(os.path.dirname(subset), row["audio_uri"]))


def test_when_the_check_is_timed_at_two_worker_counts_then_the_table_shows_the_speed_up_and_the_cost_scales():
    rows = [
        {
            "clips": 1000,
            "runner": "dask",
            "workers_asked": w,
            "wall_s": s,
            "cpu_s": 20.0,
            "launcher_peak_rss_mib": 200.0,
        }
        | {"worker_peak_rss_mib": 300.0, "worker_rss_mib_at_quartiles": [290.0, 295.0, 300.0, 300.0]}
        for w, s in ((1, 20.0), (2, 10.0))
    ]
    table = bench.check_table(rows).splitlines()
    assert "2.00x" in table[-1] and "1.00x" in table[-2]
    assert "20.00 CPU ms per clip" in bench.check_cost(rows, 1_000_000, 0.28)[0]
    assert "5.6 vCPU-hours" in bench.check_cost(rows, 1_000_000, 0.28)[1]  # 20,000 CPU s


def test_when_two_workers_compute_in_overlapping_tasks_then_the_summary_says_how_long_both_ran():
    from benchmarks.check_tasks import task_summary

    def task(worker, key, start, stop):
        return {"worker": worker, "key": key, "startstops": [{"action": "compute", "start": start, "stop": stop}]}

    stream = [
        task("a", ("_run_bundle.CheckLeaks/Scan-1f2e", 0), 0.0, 4.0),
        task("a", ("_run_bundle.CheckLeaks/Scan-1f2e", 1), 5.0, 6.0),
        task("b", "_run_bundle.CheckLeaks/Needles-9a9a", 3.0, 5.5),
        {"worker": "b", "key": "x-1", "startstops": [{"action": "transfer", "start": 0.0, "stop": 9.0}]},
    ]
    summary = task_summary(stream)
    assert summary["worker_s"] == [5.0, 2.5]
    assert summary["together_s"] == 1.5  # 3-4 and 5-5.5
    assert summary["steps"] == [("_run_bundle.CheckLeaks/Scan", 5.0), ("_run_bundle.CheckLeaks/Needles", 2.5)]


def test_when_the_workload_is_csv_with_an_opt_out_list_then_the_job_reads_the_same_rows_and_the_list_names_them(
    small_workload, tmp_path
):
    from transforms.manifest import iter_manifest_rows, parse_clip
    from transforms.policy_lists import iter_list_ids

    manifest = workload.generate(str(tmp_path), 5, 0.5, 1.0, 3, "samples", manifest_format="csv", opt_out_share=0.5)
    assert manifest.endswith("manifest.csv")
    rows = list(iter_manifest_rows(manifest))  # the job's own reader
    assert [parse_clip(r, str(tmp_path)).clip_id for r in rows] == [r["clip_id"] for r in small_workload[1]]
    assert workload.manifest_stats(manifest) == workload.manifest_stats(small_workload[0])
    listed = set(iter_list_ids(workload.opt_out_list(manifest), False, "account_id"))
    accounts = {r["account_id"].lower() for r in rows}
    assert listed & accounts and listed - accounts  # some accounts with clips, some without
    assert workload.opted_out(manifest) == sum(1 for r in rows if r["account_id"].lower() in listed)
    assert workload.manifest_stats(workload.first(manifest, 2))[0] == 2
