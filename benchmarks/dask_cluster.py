"""A Dask cluster for the benchmark: a scheduler and N worker processes, until SIGTERM.

In:  ``--workers N`` (one thread each, as Dataflow runs one SDK process per vCPU) and
     ``--address-file PATH``.
Out: the scheduler's address written to PATH (atomically) once all N workers have joined; the
     cluster then serves until SIGTERM or SIGINT and closes its workers.
Fails: exit 1 when the workers do not join within ``--timeout`` seconds.

Its workers start as ``docs/SCALE_OUT.md`` tells operators to start theirs
(``pipeline.dask_runner.worker_environment``: glibc and Arrow allocator bounds, Dask's profiler off).

The benchmark starts one per measured run and measures its process tree with the job
(:func:`benchmarks.rss.measure`, ``also=``), so the workers' CPU time and memory count; starting
the cluster itself (spawning N interpreters) is not part of the run, as for a standing cluster.

    python -m benchmarks.dask_cluster --workers 2 --address-file /tmp/scheduler.txt
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--address-file", required=True)
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args(argv)

    from dask.distributed import Client, LocalCluster

    from pipeline.dask_runner import starting_workers

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with (
        starting_workers(),
        LocalCluster(n_workers=args.workers, processes=True, threads_per_worker=1, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        try:
            client.wait_for_workers(args.workers, timeout=args.timeout)
        except TimeoutError:
            print(f"error: {args.workers} workers did not join within {args.timeout:.0f} s", file=sys.stderr)
            return 1
        partial = args.address_file + ".part"
        with open(partial, "w", encoding="utf-8") as handle:
            handle.write(cluster.scheduler_address)
        os.replace(partial, args.address_file)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
