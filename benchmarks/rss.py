"""Run a command and measure it: wall time, CPU time, peak RSS of every process in its tree.

In:  an argv list (run as a child process).
Out: :class:`Measurement` — wall seconds, CPU seconds of the whole tree (the larger of
     ``RUSAGE_CHILDREN``, which counts descendants that were waited for, and the sum of each
     process's last sampled CPU time), peak RSS per process (psutil, polled every
     ``interval`` s) grouped into the launcher (the child itself) and its Python descendants
     (Beam SDK workers in multi-process mode), and the child's stdout/stderr.
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


def _poll(
    root: psutil.Process,
    peaks: dict[int, tuple[str, int]],
    stop: threading.Event,
    interval: float,
    count,
    timeline,
    cpu_seen,
):
    started = time.perf_counter()
    while not stop.is_set():
        largest = 0
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            procs = [root]
        for proc in procs:
            try:
                rss = proc.memory_info().rss
                name = proc.name()
                times = proc.cpu_times()
            except psutil.Error:
                continue
            cpu_seen[proc.pid] = times.user + times.system
            old = peaks.get(proc.pid, (name, 0))
            peaks[proc.pid] = (name, max(old[1], rss))
            if proc.pid != root.pid and name.startswith("python"):
                largest = max(largest, rss)
        count[0] += 1
        timeline.append((time.perf_counter() - started, largest))
        stop.wait(interval)


def measure(
    argv: list[str], cwd: str | None = None, env: dict | None = None, interval: float = 0.2, ok_codes=(0,)
) -> Measurement:
    """Run ``argv`` to completion and measure it; an exit code outside ``ok_codes`` raises."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=err, text=True)
        peaks: dict[int, tuple[str, int]] = {}
        stop, count, timeline, cpu_seen = threading.Event(), [0], [], {}
        poller = threading.Thread(
            target=_poll, args=(psutil.Process(child.pid), peaks, stop, interval, count, timeline, cpu_seen)
        )
        poller.start()
        code = child.wait()
        wall = time.perf_counter() - started
        stop.set()
        poller.join()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code not in ok_codes:
        raise subprocess.CalledProcessError(code, argv[:4], stdout[-2000:], stderr[-4000:])
    # RUSAGE_CHILDREN misses descendants nobody waited for; the sampled per-process CPU times
    # (last value seen for each process) miss the tail after the last sample. Take the larger.
    waited = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    cpu = max(waited, sum(cpu_seen.values()))
    launcher = peaks.pop(child.pid, ("", 0))[1]
    workers = {pid: rss for pid, (name, rss) in peaks.items() if name.startswith("python")}
    return Measurement(wall, cpu, launcher, workers, stdout, stderr, count[0], code, timeline)


def mib(n_bytes: int) -> float:
    return n_bytes / (1 << 20)
