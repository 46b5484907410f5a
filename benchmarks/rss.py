"""Run a command and measure it: wall time, CPU time, peak RSS of every process in its tree.

In:  an argv list (run as a child process); optionally a running process whose tree also works
     for it (``also``: a Dask cluster the child submits to).
Out: :class:`Measurement` — wall seconds, CPU seconds of the whole tree (the larger of
     ``RUSAGE_CHILDREN``, which counts descendants that were waited for, and the sum of each
     process's last sampled CPU time) plus what the ``also`` tree spent during the run, peak RSS
     per process (psutil, polled every ``interval`` s) grouped into the launcher (the child
     itself) and its Python descendants or the ``also`` tree's (Beam SDK workers in multi-process
     mode, Dask workers), and the child's stdout/stderr.
Fails: ``subprocess.CalledProcessError`` when the command exits non-zero (its stderr tail attached).

RSS is sampled, so a peak shorter than ``interval`` can be missed.
"""

from __future__ import annotations

import resource
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field

import psutil


@dataclass
class Measurement:
    wall_s: float
    cpu_s: float
    launcher_peak_rss: int
    worker_peak_rss: dict[int, int] = field(default_factory=dict)
    stdout: str = ""
    stderr: str = ""
    samples: int = 0
    exit_code: int = 0
    timeline: list[tuple[float, int]] = field(default_factory=list)  # (seconds, largest worker RSS)
    launcher_timeline: list[tuple[float, int]] = field(default_factory=list)  # (seconds, launcher RSS)
    started_at: float = 0.0  # time.time() when the command started: places the timelines in real time

    def launcher_peak_until(self, epoch_s: float) -> int:
        """The launcher's peak RSS over the samples taken before ``epoch_s`` (a ``time.time()``)."""
        return self._peak_until(self.launcher_timeline, epoch_s)

    def worker_peak_until(self, epoch_s: float) -> int:
        """The largest worker's peak RSS over the samples taken before ``epoch_s`` (a ``time.time()``)."""
        return self._peak_until(self.timeline, epoch_s)

    def _peak_until(self, timeline: list[tuple[float, int]], epoch_s: float) -> int:
        until = epoch_s - self.started_at
        return max((rss for t, rss in timeline if t <= until), default=0)

    def rss_at(self, fraction: float) -> int:
        """Largest worker RSS seen in the sample nearest ``fraction`` of the run (0..1)."""
        if not self.timeline:
            return 0
        target = fraction * self.wall_s
        return min(self.timeline, key=lambda item: abs(item[0] - target))[1]

    @property
    def max_worker_rss(self) -> int:
        """Peak RSS of the largest worker; the launcher itself when there are no worker processes."""
        return max(self.worker_peak_rss.values(), default=self.launcher_peak_rss)


def _tree(root: psutil.Process | None) -> list[psutil.Process]:
    if root is None:
        return []
    try:
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return [root]


def _cpu_times(procs: list[psutil.Process]) -> dict[int, float]:
    seen = {}
    for proc in procs:
        try:
            times = proc.cpu_times()
        except psutil.Error:
            continue
        seen[proc.pid] = times.user + times.system
    return seen


def _poll(
    root: psutil.Process,
    peaks: dict[int, tuple[str, int]],
    stop: threading.Event,
    interval: float,
    count,
    timeline,
    cpu_seen,
    also: psutil.Process | None = None,
    launcher_timeline=None,
):
    started = time.perf_counter()
    helpers: dict[int, bool] = {}  # multiprocessing's resource tracker is Python too, but no worker
    while not stop.is_set():
        largest, launcher = 0, 0
        procs = _tree(root) + _tree(also)
        for proc in procs:
            try:
                rss = proc.memory_info().rss
                name = proc.name()
                times = proc.cpu_times()
                if proc.pid not in helpers:
                    helpers[proc.pid] = "resource_tracker" in " ".join(proc.cmdline())
            except psutil.Error:
                continue
            if helpers[proc.pid]:
                cpu_seen[proc.pid] = times.user + times.system
                continue
            cpu_seen[proc.pid] = times.user + times.system
            old = peaks.get(proc.pid, (name, 0))
            peaks[proc.pid] = (name, max(old[1], rss))
            if proc.pid == root.pid:
                launcher = rss
            if proc.pid not in (root.pid, also and also.pid) and name.startswith("python"):
                largest = max(largest, rss)
        count[0] += 1
        timeline.append((time.perf_counter() - started, largest))
        if launcher_timeline is not None:
            launcher_timeline.append((timeline[-1][0], launcher))
        stop.wait(interval)


def measure(
    argv: list[str],
    cwd: str | None = None,
    env: dict | None = None,
    interval: float = 0.2,
    ok_codes=(0,),
    also: int | None = None,
) -> Measurement:
    """Run ``argv`` to completion and measure it; an exit code outside ``ok_codes`` raises.

    ``also``: the pid of a running process (a Dask cluster) whose tree works for ``argv``: its
    CPU time during the run is added, its Python children count as workers, and its root is
    neither launcher nor worker (a scheduler)."""
    other = psutil.Process(also) if also else None
    other_before = _cpu_times(_tree(other))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started, started_at = time.perf_counter(), time.time()
        child = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=err, text=True)
        peaks: dict[int, tuple[str, int]] = {}
        stop, count, timeline, cpu_seen, launcher_timeline = threading.Event(), [0], [], {}, []
        poller = threading.Thread(
            target=_poll,
            args=(
                psutil.Process(child.pid),
                peaks,
                stop,
                interval,
                count,
                timeline,
                cpu_seen,
                other,
                launcher_timeline,
            ),
        )
        poller.start()
        code = child.wait()
        wall = time.perf_counter() - started
        stop.set()
        poller.join()
        other_after = _cpu_times(_tree(other))
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code not in ok_codes:
        raise subprocess.CalledProcessError(code, argv[:4], stdout[-2000:], stderr[-4000:])
    # RUSAGE_CHILDREN misses descendants nobody waited for; the sampled per-process CPU times
    # (last value seen for each process) miss the tail after the last sample. Take the larger.
    waited = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    own = {pid: cpu for pid, cpu in cpu_seen.items() if pid not in other_after}
    cpu = max(waited, sum(own.values()))
    # The other tree lives on after the run: its CPU time during the run is exact, end minus start.
    cpu += sum(value - other_before.get(pid, 0.0) for pid, value in other_after.items())
    if other:
        peaks.pop(other.pid, None)
    launcher = peaks.pop(child.pid, ("", 0))[1]
    workers = {pid: rss for pid, (name, rss) in peaks.items() if name.startswith("python")}
    return Measurement(
        wall, cpu, launcher, workers, stdout, stderr, count[0], code, timeline, launcher_timeline, started_at
    )


def mib(n_bytes: int) -> float:
    return n_bytes / (1 << 20)
