"""The leak check alone on a fresh Dask cluster, with where its time went: per worker, per step.

In:  ``--out FOLDER``, a benchmark folder kept by ``python -m benchmarks.bench --series N --out
     FOLDER`` (its key, config, ``workload-N/manifest.jsonl`` and the last run's output ``job/``);
     ``--clips N`` (which workload's manifest goes with ``job/``) and ``--workers 1,2``.
Out: for each worker count, ``python -m pipeline verify`` over ``job/`` on a fresh
     ``benchmarks.dask_cluster``: wall and CPU seconds (launcher, scheduler and workers), the
     launcher's and the largest worker's peak RSS, and from Dask's task stream the seconds each
     worker spent computing, how long both computed at once, and the compute seconds per chain of
     fused Beam steps (bundle tasks are named ``_run_bundle.<label of the chain's first step>`` by
     ``pipeline/dask_runner.py``).
Fails: ``SystemExit`` when the check finds a leak or the folder lacks what it needs.

Task seconds are wall seconds inside tasks: on a machine shared with other work they include
waiting for a core, so compare how they are spread, not their sum with the CPU seconds.

    python -m benchmarks.check_tasks --out /tmp/bench --clips 100000 --workers 1,2
"""

from __future__ import annotations

import argparse
import collections
import os
import sys

from benchmarks.bench import REPO, _load, dask_cluster
from benchmarks.rss import measure, mib


def _merged(intervals: list[tuple[float, float]]) -> list[list[float]]:
    out: list[list[float]] = []
    for start, stop in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], stop)
        else:
            out.append([start, stop])
    return out


def task_summary(stream: list[dict]) -> dict:
    """Compute seconds per worker and per step, and the seconds every worker computed at once."""
    per_worker: dict[str, list] = collections.defaultdict(list)
    per_step: dict[str, float] = collections.Counter()
    for task in stream:
        key = task["key"][0] if isinstance(task["key"], tuple) else task["key"]
        step = str(key).rsplit("-", 1)[0]
        for part in task["startstops"]:
            if part["action"] == "compute":
                per_worker[task["worker"]].append((part["start"], part["stop"]))
                per_step[step] += part["stop"] - part["start"]
    busy = [_merged(intervals) for intervals in per_worker.values()]
    together = 0.0
    if len(busy) == 2:
        together = sum(max(0.0, min(b1, b2) - max(a1, a2)) for a1, b1 in busy[0] for a2, b2 in busy[1])
    return {
        "worker_s": sorted((round(sum(b - a for a, b in w), 1) for w in busy), reverse=True),
        "together_s": round(together, 1),
        "steps": sorted(per_step.items(), key=lambda item: -item[1]),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="a kept benchmark folder (bench --out)")
    parser.add_argument("--clips", type=int, required=True, help="the workload whose output is in job/")
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args(argv)
    from dask.distributed import Client, get_task_stream

    folder = os.path.abspath(args.out)
    manifest = os.path.join(folder, f"workload-{args.clips}", "manifest.jsonl")
    config = os.path.join(folder, "configs", "default.yaml")
    output = os.path.join(folder, "job")
    for path in (manifest, config, output, os.path.join(folder, "bench.key")):
        if not os.path.exists(path):
            raise SystemExit(f"{path}: missing (run benchmarks.bench --series {args.clips} --out {args.out})")
    argv_check = [sys.executable, "-m", "pipeline", "verify", "--manifest", manifest, "--output", output]
    argv_check += ["--config", config, "--key-file", os.path.join(folder, "bench.key"), "--runner", "DaskRunner"]
    for workers in (int(n) for n in args.workers.split(",") if n):
        before = _load()
        with dask_cluster(workers, folder) as (pid, address), Client(address) as client:
            with get_task_stream(client) as stream:
                m = measure([*argv_check, "--dask_client_address", address], cwd=REPO, also=pid)
            tasks = task_summary(stream.data)
        if " 0 leaks" not in m.stdout:
            raise SystemExit(f"the leak check found leaks in a clean benchmark run:\n{m.stdout[-2000:]}")
        print(
            f"check@{args.clips} on Dask, {workers} worker(s): {m.wall_s:.1f} s wall, {m.cpu_s:.1f} s CPU, "
            f"launcher {mib(m.launcher_peak_rss):.0f} MiB, largest worker {mib(m.max_worker_rss):.0f} MiB; "
            f"{before} -> {_load()}"
        )
        print(f"  compute s per worker: {tasks['worker_s']}; every worker at once: {tasks['together_s']} s")
        for step, seconds in tasks["steps"][:8]:
            print(f"  {seconds:7.1f} s  {step}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
