"""``make bench``: naive baseline vs I/O floor vs the job, on one generated workload; prints a table.

In:  ``--clips N`` (default 2,400; and clip lengths) for :mod:`benchmarks.workload`; the naive
     script runs on the first ``--naive-clips`` (300) of them, as its rate does not depend on the
     size; which approaches to run;
     Beam flags for the job (default: DirectRunner, ``--direct_running_mode=multi_processing
     --direct_num_workers=2``); optional config overrides (``--set voice.params.f0_method=dio``).
Out: a table on stdout — audio seconds per wall second per core (× real time), audio seconds per
     CPU second, clips/s, transcripts/s, peak RSS per worker — the ratios ours/naive and
     ours/floor, the targets of issue 7 with a yes/no each, and the same figures as JSON
     (``<out>/bench.json``). Floor and job also run on the first ``--steady-from`` (100) clips:
     the two sizes separate each one's fixed start-up (imports, model loads, worker start, the
     final leak scan) from its steady-state rate, which is what a long scheduled batch sees.
     ``--series 1000,20000`` instead measures only the job at several sizes, for the
     memory-flatness check (with ``--check-workers 1,2``, also the leak check alone over each
     size's output, with each worker count: its wall time per clip, speed-up, memory and cost);
     ``--worker-series 1,2`` only the job at several worker counts, for the scaling.
     ``--default-engine`` passes the job no runner flags, so the launcher picks the engine as for
     an operator's plain ``pipeline run`` (``pipeline/local_engine.py``); compare it with
     ``--direct_running_mode=in_memory``, the engine a plain run had before.
     ``--manifest-format csv`` writes the workload's manifest as CSV (the job only: naive and
     floor read JSON Lines) and ``--opt-out-share S`` puts that share of its accounts on an
     opt-out list the job is configured with (their clips are dropped: the run must write the
     others), for the launcher's memory with a CSV manifest and a list join.
     ``--runner dask --workers N`` runs the job on a Dask cluster of N worker
     processes started for each measured run (:mod:`benchmarks.dask_cluster`; its CPU time and
     memory count with the job's) instead of the multi-process DirectRunner.
     A cost model closes the output: from the job's measured CPU seconds per audio second
     (steady state when measured), the vCPU-hours and Dataflow cost of ``--cost-clips``
     (1,000,000) clips of the workload's mean length, at ``--price-per-hour`` per
     n2-standard-4 worker (see :data:`N2_STANDARD_4_PER_HOUR`).
Fails: a non-zero exit of any approach stops the benchmark with its stderr tail; a job run whose
     report does not reconcile or does not write every clip is an error, not a figure.

Every approach runs as a child process; CPU time counts the whole process tree, peak RSS is
sampled per process (:mod:`benchmarks.rss`). The machine is shared: ``uptime`` load is printed
with the figures, and "per core" divides by the cores the approach may use (1 for the naive
script and the floor, ``min(direct_num_workers, cpu_count)`` for the job).

    python -m benchmarks.bench                       # make bench
    python -m benchmarks.bench --runner dask --workers 2 --worker-series 1,2 --clips 600
    python -m benchmarks.bench --series 1000,20000 --set voice.params.f0_method=dio --min-s 0.4 --max-s 0.8
    python -m benchmarks.bench --series 1500,20000 --default-engine   # vs ... --direct_running_mode=in_memory
    python -m benchmarks.bench --series 10000,50000 --manifest-format csv --opt-out-share 0.05 --min-s 0.25 --max-s 0.35 --distinct-audio 2000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import yaml

from benchmarks import workload
from benchmarks.rss import Measurement, measure, mib
from pipeline.config import load_yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = {"xrt_per_core": 50.0, "vs_naive": 5.0, "vs_floor": 1 / 4, "worker_rss_mib": 1024.0}
# One Dataflow batch worker on n2-standard-4 (4 vCPU, 16 GB), per hour: the list prices for
# us-central1 on cloud.google.com/dataflow/pricing as of 2024 (vCPU $0.056/h, memory
# $0.003557/GB-h; 4 x 0.056 + 16 x 0.003557), not re-checked when measured on 2026-11-28 (no
# internet on the bench machine). Excludes disk ($0.000054/GB-h standard PD), Dataflow Shuffle,
# Cloud Storage and discounts. Pass --price-per-hour with the price that applies to you.
N2_STANDARD_4_PER_HOUR = 0.2809
N2_STANDARD_4_VCPUS = 4


def job_args(runner: str, workers: int, beam_args: list[str], default_engine: bool = False) -> list[str]:
    """The job's Beam flags: given ones win for the DirectRunner (as before); Dask adds its runner
    (the cluster's address comes per run); ``default_engine``: none, the launcher chooses."""
    if runner == "dask":
        return ["--runner", "DaskRunner", *beam_args]
    if default_engine:
        return beam_args
    return beam_args or ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"]


def _cores(beam_args: list[str], runner: str = "direct", workers: int = 1, clips: int | None = None) -> int:
    if runner == "dask":
        return max(1, min(workers, os.cpu_count() or 1))
    if not beam_args:  # the launcher's own choice (--default-engine)
        from pipeline.local_engine import choose, usable_cores

        beam_args = choose([], clips, usable_cores())[0]
    workers = 1
    for arg in beam_args:
        if arg.startswith("--direct_num_workers="):
            workers = int(arg.split("=", 1)[1])
    mode = next((a.split("=", 1)[1] for a in beam_args if a.startswith("--direct_running_mode=")), "in_memory")
    if mode == "in_memory":
        workers = 1
    return max(1, min(workers, os.cpu_count() or 1))


def config_with_overrides(overrides: list[str], folder: str) -> str:
    """Copy configs/ to ``folder`` and apply ``dotted.key=yaml_value`` overrides to default.yaml."""
    target = os.path.join(folder, "configs")
    shutil.copytree(os.path.join(REPO, "configs"), target, dirs_exist_ok=True)
    path = os.path.join(target, "default.yaml")
    with open(path, encoding="utf-8") as handle:
        data = load_yaml(handle, path) or {}  # a repeated key is an error here too, not "last one wins"
    for item in overrides:
        dotted, _, raw = item.partition("=")
        node = data
        *parents, leaf = dotted.split(".")
        for name in parents:
            if not isinstance(node.get(name), dict):
                raise SystemExit(f"--set {dotted}: no section {name!r} in the config")
            node = node[name]
        node[leaf] = yaml.safe_load(raw)
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(data, handle, sort_keys=False)
    return path


def _row(name: str, m: Measurement, clips: int, transcripts: int, audio_s: float, cores: int) -> dict:
    return {
        "approach": name,
        "clips": clips,
        "audio_s": round(audio_s, 2),
        "wall_s": round(m.wall_s, 2),
        "cpu_s": round(m.cpu_s, 2),
        "cores": cores,
        "xrt_per_core": audio_s / m.wall_s / cores,
        "audio_s_per_cpu_s": audio_s / m.cpu_s if m.cpu_s else float("nan"),
        "clips_per_s": clips / m.wall_s,
        "transcripts_per_s": transcripts / m.wall_s,
        "worker_peak_rss_mib": round(mib(m.max_worker_rss), 1),
        "launcher_peak_rss_mib": round(mib(m.launcher_peak_rss), 1),
        "workers": len(m.worker_peak_rss),
        # Largest worker's RSS at 25/50/75/100 % of the run: flat memory means these stay level.
        "worker_rss_mib_at_quartiles": [round(mib(m.rss_at(f)), 1) for f in (0.25, 0.5, 0.75, 1.0)],
    }


def _parse_counts(stdout: str) -> tuple[int, float]:
    last = [line for line in stdout.splitlines() if line.startswith("clips=")][-1]
    fields = dict(part.split("=") for part in last.split())
    return int(fields["clips"]), float(fields["audio_s"])


def run_simple(module: str, manifest: str, folder: str) -> tuple[Measurement, int, float]:
    out = os.path.join(folder, f"{module}.parquet")
    m = measure([sys.executable, "-m", f"benchmarks.{module}", "--manifest", manifest, "--output", out], cwd=REPO)
    clips, audio_s = _parse_counts(m.stdout)
    return m, clips, audio_s


@contextlib.contextmanager
def dask_cluster(workers: int, folder: str, timeout: float = 180.0):
    """A fresh Dask cluster (``benchmarks.dask_cluster``) for one run; yields (pid, address)."""
    address_file = os.path.join(folder, f"dask-scheduler-{secrets.token_hex(4)}.txt")
    log_path = address_file.replace(".txt", ".log")
    argv = [sys.executable, "-m", "benchmarks.dask_cluster", "--workers", str(workers)]
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [*argv, "--address-file", address_file], cwd=REPO, stdout=log, stderr=log, start_new_session=True
        )
    try:
        deadline = time.monotonic() + timeout
        while not os.path.exists(address_file):
            if proc.poll() is not None or time.monotonic() > deadline:
                with open(log_path, encoding="utf-8") as handle:
                    raise SystemExit(f"the Dask cluster did not start:\n{handle.read()[-3000:]}")
            time.sleep(0.2)
        with open(address_file, encoding="utf-8") as handle:
            yield proc.pid, handle.read().strip()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def run_job(
    manifest: str,
    folder: str,
    config: str,
    beam_args: list[str],
    key_file: str,
    runner: str = "direct",
    workers: int = 2,
) -> tuple[Measurement, dict]:
    out = os.path.join(folder, "job")
    argv = [sys.executable, "-m", "pipeline", "run", "--input", manifest, "--output", out, "--config", config]
    argv += ["--key-file", key_file, "--overwrite", *beam_args]
    # Exit 3 = the end-of-run leak scan found a raw identifier: still a complete run, reported below.
    if runner == "dask":
        with dask_cluster(workers, folder) as (pid, address):
            m = measure([*argv, "--dask_client_address", address], cwd=REPO, ok_codes=(0, 3), also=pid)
    else:
        m = measure(argv, cwd=REPO, ok_codes=(0, 3))
    with open(os.path.join(out, "run_report.json"), encoding="utf-8") as handle:
        report = json.load(handle)
    return m, report


def run_check(
    manifest: str, folder: str, config: str, beam_args: list[str], key_file: str, runner: str, workers: int
) -> dict:
    """``python -m pipeline verify`` (the Beam leak check) over the job's last output, measured on
    its own: wall, CPU, launcher and largest worker RSS."""
    out = os.path.join(folder, "job")
    argv = [sys.executable, "-m", "pipeline", "verify", "--manifest", manifest, "--output", out]
    argv += ["--config", config, "--key-file", key_file, *beam_args]
    if runner == "dask":
        with dask_cluster(workers, folder) as (pid, address):
            m = measure([*argv, "--dask_client_address", address], cwd=REPO, also=pid)
    else:
        m = measure(argv, cwd=REPO)
    if " 0 leaks" not in m.stdout:
        raise SystemExit(f"the leak check found leaks in a clean benchmark run:\n{m.stdout[-2000:]}")
    clips, _ = workload.manifest_stats(manifest)
    row = {
        "clips": clips,
        "runner": runner,
        "workers_asked": workers,
        "wall_s": round(m.wall_s, 2),
        "cpu_s": round(m.cpu_s, 2),
        "launcher_peak_rss_mib": round(mib(m.launcher_peak_rss), 1),
        "worker_peak_rss_mib": round(mib(m.max_worker_rss), 1),
        "worker_rss_mib_at_quartiles": [round(mib(m.rss_at(f)), 1) for f in (0.25, 0.5, 0.75, 1.0)],
    }
    print(
        f"  check@{clips} ({runner}, {workers} workers): {m.wall_s:.1f} s wall, {m.cpu_s:.1f} s CPU, "
        f"launcher {row['launcher_peak_rss_mib']:.0f} MiB, largest worker {row['worker_peak_rss_mib']:.0f} MiB",
        flush=True,
    )
    return row


def check_table(rows: list[dict]) -> str:
    """The check's wall time per size and worker count: linear in rows, divided across workers."""
    head = (
        f"{'clips':>8} {'workers':>7} {'wall s':>8} {'CPU s':>8} {'us/clip':>8} {'speed-up':>8} "
        f"{'launcher':>9} {'worker':>8} {'worker at quartiles':>22}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        base = next((b for b in rows if b["clips"] == r["clips"]), r)
        quartiles = "/".join(f"{v:.0f}" for v in r["worker_rss_mib_at_quartiles"])
        lines.append(
            f"{r['clips']:>8} {r['workers_asked']:>7} {r['wall_s']:>8.1f} {r['cpu_s']:>8.1f} "
            f"{r['wall_s'] / r['clips'] * 1e6:>8.0f} {base['wall_s'] / r['wall_s']:>7.2f}x "
            f"{r['launcher_peak_rss_mib']:>5.0f} MiB {r['worker_peak_rss_mib']:>4.0f} MiB {quartiles:>22}"
        )
    return "\n".join(lines)


def check_cost(rows: list[dict], clips: int, price_per_hour: float) -> list[str]:
    """The check's share of the cost model: its CPU seconds per clip (largest size measured, fewest
    workers) for ``clips`` clips, in vCPU-hours and Dataflow worker-hours."""
    if not rows:
        return []
    largest = max(r["clips"] for r in rows)
    row = min((r for r in rows if r["clips"] == largest), key=lambda r: r["workers_asked"])
    cpu_s = row["cpu_s"] / row["clips"] * clips
    worker_hours = cpu_s / 3600 / N2_STANDARD_4_VCPUS
    return [
        f"leak check: {row['cpu_s'] / row['clips'] * 1000:.2f} CPU ms per clip ({row['runner']}, {row['clips']} clips, "
        f"{row['workers_asked']} workers, start-up included)",
        f"  {clips:,} clips: {cpu_s / 3600:,.1f} vCPU-hours = {worker_hours:,.2f} n2-standard-4 worker-hours, "
        f"${worker_hours * price_per_hour:,.2f}",
    ]


def _report_rows(report: dict) -> tuple[int, int, int]:
    """(clips in, reviewer rows, transcripts redacted) from a run report, whatever its layout."""
    outcomes = report.get("outcomes", {})
    stages = report.get("stages", {})
    transcript = stages.get("transcript", {}) if isinstance(stages, dict) else {}
    return (
        int(outcomes.get("clips_in", 0)),
        int(outcomes.get("reviewer_rows", 0)),
        int(transcript.get("succeeded", outcomes.get("reviewer_rows", 0))),
    )


def run_approach(
    name: str,
    manifest: str,
    folder: str,
    config: str,
    beam_args: list[str],
    key_file: str,
    runner: str = "direct",
    workers: int = 2,
) -> dict:
    """One measured run of ``name`` (floor, naive or ours) on ``manifest``; its table row."""
    clips, audio_s = workload.manifest_stats(manifest)
    if name == "ours":
        m, report = run_job(manifest, folder, config, beam_args, key_file, runner, workers)
        clips_in, written, transcripts = _report_rows(report)
        expected = clips - workload.opted_out(manifest)
        if clips_in != clips or written != expected:
            raise SystemExit(f"job run wrote {written} of {expected} clips (report: {clips_in} in)")
        row = _row("ours", m, written, transcripts, audio_s, _cores(beam_args, runner, workers, clips))
        row["runner"] = report.get("runner", runner)
        row["workers_asked"] = workers
        row["leak_findings"] = int(report.get("leak_check", {}).get("leaks", 0))
        row["check_wall_s"] = float(report.get("leak_check", {}).get("wall_s", 0.0))
        # The launcher while the job's own pipeline ran (until the report's finished_at, before the
        # leak check starts): the dedupe and the report apart from the check's shuffles.
        row["launcher_job_peak_rss_mib"] = round(mib(m.launcher_peak_until(_epoch(report.get("finished_at")))), 1)
        # The same for the largest worker: on Dask the check runs in the job's worker processes.
        row["worker_job_peak_rss_mib"] = round(mib(m.worker_peak_until(_epoch(report.get("finished_at")))), 1)
        if m.exit_code:
            print(f"  ours: exit {m.exit_code}; leak scan findings: {row['leak_findings']} (see run_report.json)")
    else:
        m, done, done_s = run_simple(name, manifest, folder)
        row = _row(name, m, done, done, done_s, 1)
    check = f", leak check {row['check_wall_s']:.1f} s of it" if row.get("check_wall_s") else ""
    launcher = ""
    if "launcher_job_peak_rss_mib" in row:
        launcher = (
            f"; launcher {row['launcher_peak_rss_mib']:.0f} MiB "
            f"({row['launcher_job_peak_rss_mib']:.0f} MiB before the leak check)"
        )
    print(f"  {name}@{row['clips']}: {row['wall_s']:.1f} s wall, {row['cpu_s']:.1f} s CPU{check}{launcher}", flush=True)
    return row


def _epoch(iso: str | None) -> float:
    """A report's ISO timestamp as ``time.time()`` seconds (infinity when it has none: the whole run)."""
    import datetime

    return datetime.datetime.fromisoformat(iso).timestamp() if iso else float("inf")


def steady_state(big: dict, small: dict) -> dict | None:
    """Start-up and steady-state figures from two runs of different sizes (a straight line through
    wall and CPU time against audio seconds): what a long scheduled batch sees per clip. None when
    the larger run is not measurably longer (too few clips: noise, not a rate)."""
    d_audio = big["audio_s"] - small["audio_s"]
    d_wall = big["wall_s"] - small["wall_s"]
    d_cpu = big["cpu_s"] - small["cpu_s"]
    if min(d_audio, d_wall, d_cpu) <= 0:
        return None
    return {
        "from_clips": [small["clips"], big["clips"]],
        "startup_wall_s": round(small["wall_s"] - small["audio_s"] * d_wall / d_audio, 2),
        "startup_cpu_s": round(small["cpu_s"] - small["audio_s"] * d_cpu / d_audio, 2),
        "xrt_per_core": d_audio / d_wall / big["cores"],
        "audio_s_per_cpu_s": d_audio / d_cpu,
    }


def format_table(rows: list[dict]) -> str:
    head = (
        f"{'approach':<10} {'clips':>7} {'audio s':>9} {'wall s':>8} {'CPU s':>8} {'cores':>5} "
        f"{'xRT/core':>9} {'audio/CPU':>9} {'clips/s':>8} {'transcr/s':>9} {'RSS/worker':>11} {'launcher':>9}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['approach']:<10} {r['clips']:>7} {r['audio_s']:>9.1f} {r['wall_s']:>8.1f} {r['cpu_s']:>8.1f} "
            f"{r['cores']:>5} {r['xrt_per_core']:>9.2f} {r['audio_s_per_cpu_s']:>9.2f} {r['clips_per_s']:>8.2f} "
            f"{r['transcripts_per_s']:>9.2f} {r['worker_peak_rss_mib']:>8.0f} MiB {r['launcher_peak_rss_mib']:>5.0f} MiB"
        )
    return "\n".join(lines)


def verdicts(by: dict[str, dict], steady: dict[str, dict] | None = None) -> list[str]:
    lines = []
    T = TARGETS
    ours = by.get("ours")
    if not ours:
        return lines
    ok = lambda flag: "yes" if flag else "NO"  # noqa: E731
    lines.append(
        f"target >= {T['xrt_per_core']:.0f}x real time per core: {ok(ours['xrt_per_core'] >= T['xrt_per_core'])} "
        f"({ours['xrt_per_core']:.2f}x)"
    )
    if "naive" in by:
        per_core = ours["xrt_per_core"] / by["naive"]["xrt_per_core"]
        wall = ours["wall_s"] and by["naive"]["wall_s"] / ours["wall_s"] * ours["clips"] / by["naive"]["clips"]
        cpu = ours["audio_s_per_cpu_s"] / by["naive"]["audio_s_per_cpu_s"]
        lines.append(
            f"ours/naive: {per_core:.2f}x per core, {wall:.2f}x wall clock, {cpu:.2f}x per CPU second "
            f"(target >= {T['vs_naive']:.0f}x per core: {ok(per_core >= T['vs_naive'])})"
        )
    if "floor" in by:
        per_core = ours["xrt_per_core"] / by["floor"]["xrt_per_core"]
        lines.append(
            f"ours/floor: {per_core:.4f} per core (floor is {1 / per_core:.1f}x faster; "
            f"target within {1 / T['vs_floor']:.0f}x: {ok(per_core >= T['vs_floor'])})"
        )
    for name, st in sorted((steady or {}).items()):
        lines.append(
            f"{name} start-up per run: {st['startup_wall_s']:.1f} s wall, {st['startup_cpu_s']:.1f} s CPU; "
            f"steady state ({st['from_clips'][0]} -> {st['from_clips'][1]} clips): {st['xrt_per_core']:.1f}x real time "
            f"per core, {st['audio_s_per_cpu_s']:.1f} audio s per CPU s"
        )
    if steady and {"ours", "floor"} <= set(steady):
        ratio = steady["ours"]["xrt_per_core"] / steady["floor"]["xrt_per_core"]
        lines.append(
            f"ours/floor in steady state: {ratio:.4f} per core (floor is {1 / ratio:.1f}x faster; "
            f"target within {1 / T['vs_floor']:.0f}x: {ok(ratio >= T['vs_floor'])})"
        )
    lines.append(
        f"peak RSS per worker: {ours['worker_peak_rss_mib']:.0f} MiB over {ours['workers']} worker processes "
        f"(target <= {T['worker_rss_mib']:.0f} MiB: {ok(ours['worker_peak_rss_mib'] <= T['worker_rss_mib'])})"
    )
    return lines


def cost_model(
    audio_s_per_cpu_s: float,
    mean_clip_s: float,
    price_per_hour: float = N2_STANDARD_4_PER_HOUR,
    clips: int = 1_000_000,
    vcpus_per_worker: int = N2_STANDARD_4_VCPUS,
) -> dict:
    """What ``clips`` clips of ``mean_clip_s`` seconds cost at the measured CPU per audio second:
    CPU seconds, vCPU-hours, worker-hours (the worker's vCPUs all busy) and their price."""
    audio_s = clips * mean_clip_s
    cpu_s = audio_s / audio_s_per_cpu_s
    vcpu_hours = cpu_s / 3600
    worker_hours = vcpu_hours / vcpus_per_worker
    return {
        "clips": clips,
        "mean_clip_s": mean_clip_s,
        "audio_hours": audio_s / 3600,
        "cpu_s_per_audio_s": 1 / audio_s_per_cpu_s,
        "vcpu_hours": vcpu_hours,
        "worker_hours": worker_hours,
        "price_per_hour": price_per_hour,
        "cost": worker_hours * price_per_hour,
    }


def format_cost(model: dict, basis: str, utilisation: float | None = None) -> list[str]:
    m = model
    lines = [
        f"cost model: {m['clips']:,} clips x {m['mean_clip_s']:.2f} s = {m['audio_hours']:,.0f} audio hours; "
        f"{m['cpu_s_per_audio_s'] * 1000:.2f} CPU ms per audio s ({basis})",
        f"  compute: {m['vcpu_hours']:,.1f} vCPU-hours = {m['worker_hours']:,.1f} n2-standard-4 worker-hours with "
        f"every vCPU busy",
        f"  Dataflow: {m['worker_hours']:,.1f} h x ${m['price_per_hour']:.4f}/h = ${m['cost']:,.2f} "
        f"(list price, --price-per-hour; without disk, Shuffle, storage, worker start-up)",
    ]
    if utilisation and 0 < utilisation < 1:
        lines.append(
            f"  at the CPU use measured here ({utilisation:.0%} of the cores the job had): "
            f"{m['worker_hours'] / utilisation:,.1f} worker-hours, ${m['cost'] / utilisation:,.2f}"
        )
    return lines


def worker_series_table(rows: list[dict]) -> str:
    """Wall time against worker count, with the speed-up over the first (fewest-worker) run."""
    base = rows[0]
    head = f"{'workers':>7} {'runner':>12} {'cores':>5} {'wall s':>8} {'CPU s':>8} {'clips/s':>8} {'speed-up':>8} {'per worker':>10}"
    lines = [head, "-" * len(head)]
    for r in rows:
        speedup = base["wall_s"] / r["wall_s"]
        efficiency = speedup / (r["workers_asked"] / base["workers_asked"])
        lines.append(
            f"{r['workers_asked']:>7} {r['runner']:>12} {r['cores']:>5} {r['wall_s']:>8.1f} {r['cpu_s']:>8.1f} "
            f"{r['clips_per_s']:>8.2f} {speedup:>7.2f}x {efficiency:>9.0%}"
        )
    return "\n".join(lines)


def _load() -> str:
    try:
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def main(argv=None) -> int:
    try:
        return _main(argv)
    except subprocess.CalledProcessError as exc:  # show why a child failed, not only that it did
        print(f"error: {exc}\n--- stderr tail ---\n{exc.stderr or ''}", file=sys.stderr)
        raise


def _main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=2400)
    parser.add_argument(
        "--naive-clips", type=int, default=300, help="the naive script runs on the first N clips (it is slow)"
    )
    parser.add_argument(
        "--steady-from",
        type=int,
        default=100,
        help="also run floor and job on the first N clips; the difference gives start-up and steady state (0 = off)",
    )
    parser.add_argument("--min-s", type=float, default=1.5)
    parser.add_argument("--max-s", type=float, default=4.0)
    parser.add_argument("--distinct-audio", type=int, default=1000)
    parser.add_argument("--source", choices=("auto", "speech", "samples"), default="auto")
    parser.add_argument("--approaches", default="floor,naive,ours", help="comma list of floor, naive, ours")
    parser.add_argument("--series", default="", help="comma list of clip counts: run only the job at each size")
    parser.add_argument(
        "--runner",
        type=str.lower,
        choices=("direct", "dask"),
        default="direct",
        help="the job on the multi-process DirectRunner, or on a Dask cluster of --workers processes",
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the job (default 2)")
    parser.add_argument(
        "--default-engine",
        action="store_true",
        help="the job without runner flags: the launcher picks the engine, as for an operator's plain `pipeline run`",
    )
    parser.add_argument(
        "--worker-series", default="", help="comma list of worker counts: run only the job with each (the scaling)"
    )
    parser.add_argument(
        "--price-per-hour",
        type=float,
        default=N2_STANDARD_4_PER_HOUR,
        help=f"Dataflow price of one n2-standard-4 batch worker per hour (default ${N2_STANDARD_4_PER_HOUR}: "
        "us-central1 list price, 2024)",
    )
    parser.add_argument("--cost-clips", type=int, default=1_000_000, help="clips the cost model prices (1,000,000)")
    parser.add_argument(
        "--check-workers",
        default="",
        help="comma list of worker counts: after each --series run, also time the leak check alone with each",
    )
    parser.add_argument(
        "--manifest-format", choices=("jsonl", "csv"), default="jsonl", help="the workload's manifest (csv: job only)"
    )
    parser.add_argument(
        "--opt-out-share", type=float, default=0.0, help="share of the workload's accounts on an opt-out list (0: none)"
    )
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="config override a.b=value")
    parser.add_argument("--out", default="", help="working folder (default: a temporary one, removed)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    args, extra_beam_args = parser.parse_known_args(argv)
    beam_args = job_args(args.runner, args.workers, extra_beam_args, args.default_engine)
    worker_counts = [int(n) for n in args.worker_series.split(",") if n]

    folder = args.out or tempfile.mkdtemp(prefix="voiceanon-bench-")
    os.makedirs(folder, exist_ok=True)
    try:
        config = config_with_overrides(args.overrides, folder)
        key_file = os.path.join(folder, "bench.key")
        with open(key_file, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_hex(32))
        engine = f"{args.runner}, {args.workers} workers" if not worker_counts else args.runner
        print(
            f"{_load()}; cpu_count {os.cpu_count()}; job on {engine}; job flags: {' '.join(beam_args) or '(none: the launcher chooses)'}"
        )
        if args.overrides:
            print("config overrides: " + ", ".join(args.overrides))
        sizes = [int(s) for s in args.series.split(",") if s] or [args.clips]
        only_job = bool(args.series or worker_counts)
        approaches = ["ours"] if only_job else [a.strip() for a in args.approaches.split(",") if a.strip()]
        if args.manifest_format != "jsonl" and approaches != ["ours"]:
            raise SystemExit("--manifest-format csv: only the job reads CSV (use --series or --approaches ours)")
        rows = []
        check_rows: list[dict] = []
        check_counts = [int(n) for n in args.check_workers.split(",") if n]
        costed: tuple[dict, str, float | None] | None = None  # (row, basis, utilisation) the cost model uses
        for size in sizes:
            work = os.path.join(folder, f"workload-{size}")
            manifest = workload.generate(
                work,
                size,
                args.min_s,
                args.max_s,
                args.distinct_audio,
                args.source,
                manifest_format=args.manifest_format,
                opt_out_share=args.opt_out_share,
            )
            clips, audio_s = workload.manifest_stats(manifest)
            listed = workload.opt_out_list(manifest)
            dropped = f", {workload.opted_out(manifest)} of them opted out ({listed})" if listed else ""
            print(f"workload: {clips} clips, {audio_s:.1f} s of audio ({manifest}){dropped}", flush=True)
            if listed:  # this size's list: the config names it
                config = config_with_overrides([*args.overrides, f"policy.opt_out_lists={json.dumps([listed])}"], work)
            if worker_counts:
                series = []
                for count in worker_counts:
                    flags = job_args(args.runner, count, extra_beam_args)
                    series.append(run_approach("ours", manifest, folder, config, flags, key_file, args.runner, count))
                rows.extend(series)
                print()
                print(worker_series_table(series))
                first = series[0]
                costed = (first, f"{first['workers_asked']} worker(s), whole run", _use(first))
                continue
            by: dict[str, dict] = {}
            small: dict[str, dict] = {}
            if args.series and check_counts:
                rows.append(
                    run_approach("ours", manifest, folder, config, beam_args, key_file, args.runner, args.workers)
                )
                for count in check_counts:
                    flags = job_args(args.runner, count, extra_beam_args)
                    check_rows.append(run_check(manifest, folder, config, flags, key_file, args.runner, count))
                continue
            for name in approaches:
                subset = name == "naive" and 0 < args.naive_clips < clips
                source = workload.first(manifest, args.naive_clips) if subset else manifest
                by[name] = run_approach(name, source, folder, config, beam_args, key_file, args.runner, args.workers)
                rows.append(by[name])
                if name in ("floor", "ours") and not args.series and 0 < args.steady_from < clips:
                    small[name] = run_approach(
                        name,
                        workload.first(manifest, args.steady_from),
                        folder,
                        config,
                        beam_args,
                        key_file,
                        args.runner,
                        args.workers,
                    )
            if "ours" in by:
                costed = (by["ours"], "whole run", _use(by["ours"]))
            if not args.series:
                print()
                print(format_table(rows + [{**r, "approach": f"{r['approach']}@{r['clips']}"} for r in small.values()]))
                print()
                steady = {name: steady_state(by[name], small[name]) for name in small}
                steady = {name: figures for name, figures in steady.items() if figures is not None}
                if len(steady) < len(small):
                    print("steady state: the runs are too short to separate it from start-up")
                for name, figures in steady.items():
                    by[name]["steady_state"] = figures  # the same dicts as in rows, so bench.json has them
                if "ours" in steady:
                    costed = ({**by["ours"], **steady["ours"]}, "steady state, start-up excluded", _use(by["ours"]))
                print("\n".join(verdicts(by, steady)))
        if args.series:
            print()
            print(format_table([{**r, "approach": f"ours@{r['clips']}"} for r in rows]))
            peaks = [r["worker_peak_rss_mib"] for r in rows]
            print(f"\npeak RSS per worker across sizes: {', '.join(f'{p:.0f}' for p in peaks)} MiB")
            launchers = [r["launcher_peak_rss_mib"] for r in rows]
            spread = (max(launchers) - min(launchers)) / min(launchers) if min(launchers) else 0.0
            print(
                f"launcher peak RSS across sizes: {', '.join(f'{p:.0f}' for p in launchers)} MiB "
                f"(spread {spread:.0%}; target <= 400 MiB and within 10 %)"
            )
            before = [r.get("launcher_job_peak_rss_mib", 0.0) for r in rows]
            print(f"launcher peak RSS before the leak check: {', '.join(f'{p:.0f}' for p in before)} MiB")
            workers_before = [r.get("worker_job_peak_rss_mib", 0.0) for r in rows]
            print(
                f"largest worker's peak RSS before the leak check: {', '.join(f'{p:.0f}' for p in workers_before)} MiB"
            )
            checks = [(r["clips"], r.get("check_wall_s", 0.0)) for r in rows]
            print(
                "leak check wall time: "
                + ", ".join(f"{s:.1f} s at {c} clips ({s / c * 1e6:.0f} us per clip)" for c, s in checks if c)
            )
        for r in rows:
            if r["approach"] == "ours":
                quartiles = ", ".join(f"{v:.0f}" for v in r["worker_rss_mib_at_quartiles"])
                print(f"ours@{r['clips']}: largest worker RSS at 25/50/75/100 % of the run: {quartiles} MiB")
        if check_rows:
            print()
            print(check_table(check_rows))
        cost = None
        if costed:
            row, basis, utilisation = costed
            cost = cost_model(
                row["audio_s_per_cpu_s"], row["audio_s"] / row["clips"], args.price_per_hour, args.cost_clips
            )
            print()
            print("\n".join(format_cost(cost, f"{row['runner']}, {basis}", utilisation)))
        if check_rows:
            print("\n".join(check_cost(check_rows, args.cost_clips, args.price_per_hour)))
        print(_load())
        with open(os.path.join(folder, "bench.json"), "w", encoding="utf-8") as handle:
            summary = {
                "rows": rows,
                "check_rows": check_rows,
                "beam_args": beam_args,
                "overrides": args.overrides,
                "cost_model": cost,
            }
            json.dump(summary, handle, indent=2)
    finally:
        if not args.keep and not args.out:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


def _use(row: dict) -> float:
    """The share of the job's cores its CPU time filled over the whole run (start-up included)."""
    return row["cpu_s"] / (row["wall_s"] * row["cores"])


if __name__ == "__main__":
    sys.exit(main())
