"""Live progress of a run on the console: clips done of the manifest's total, per outcome.

In:  the manifest's row count (:func:`count_rows`, the job's own reader), the runner, and, while
     the job runs, the counts its workers write (:mod:`transforms.core.progress`, the stage
     counters mirrored to a folder this module makes and names in ``VOICEANON_PROGRESS_DIR``);
     at the end, the run's Beam metrics.
Out: on stderr, for local runs (the DirectRunner in either mode, Dask with a cluster it starts):
     on a terminal one line redrawn in place twice a second (``rich``); otherwise (CI, cron, a log
     file) a plain line through the log every ``--progress-every`` seconds (default 10), which
     ``logs/launcher.log`` keeps too. A line: clips done of the total (%), reviewed, escalated,
     dropped and quarantined so far, clips/s over the last 30 s, time left at that rate. The last
     line is the job's own Beam metrics once it has finished. On Dataflow the job's console URL,
     on Dask the dashboard link. Counts only: never a clip id, transcript, name or path.
Fails: never the run: the display stops on an error of its own and the job goes on.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import deque
from typing import NamedTuple

from transforms.core import progress as tally

LOG = logging.getLogger("pipeline.progress")
TERMINAL_REFRESH_S = 0.5
RATE_WINDOW_S = 30.0


class Counts(NamedTuple):
    """Clips that reached an outcome so far."""

    reviewed: int = 0
    escalated: int = 0
    dropped: int = 0
    quarantined: int = 0

    @property
    def done(self) -> int:
        return self.reviewed + self.escalated + self.dropped + self.quarantined


def counts_from(totals: dict[str, int]) -> Counts:
    """Outcomes from ``{"stage/name": count}``, by the counters the run report reconciles: shard
    rows encoded (``encode``, ``encode_escalation``), policy drops, quarantine records."""
    return Counts(
        reviewed=totals.get("encode/succeeded", 0),
        escalated=totals.get("encode_escalation/succeeded", 0),
        dropped=sum(value for key, value in totals.items() if key.startswith("policy/dropped_")),
        quarantined=totals.get("quarantine/total", 0),
    )


def totals_from_result(result) -> dict[str, int]:
    """``{"stage/name": count}`` from a finished run's Beam metrics, summed over steps."""
    from apache_beam.metrics.metric import MetricsFilter

    totals: dict[str, int] = {}
    for item in result.metrics().query(MetricsFilter())["counters"]:
        value = item.committed if item.committed is not None else item.attempted
        key = f"{item.key.metric.namespace}/{item.key.metric.name}"
        totals[key] = totals.get(key, 0) + int(value or 0)
    return totals


def count_rows(manifest: str) -> int | None:
    """The manifest's rows as the job counts them (``manifest/rows``): non-blank lines of a JSON Lines
    file, CSV records after the header, Parquet rows from the footer. No row is parsed. None when
    the file cannot be read through (a CSV quote never closed, a cut-off archive): the job itself
    then fails on it, with its own message."""
    from transforms.manifest_rows import iter_raw_rows, manifest_format

    try:
        if manifest_format(manifest) == "parquet":
            from pipeline.parquet_io import num_rows

            return num_rows(manifest)
        return sum(1 for _ in iter_raw_rows(manifest))
    except Exception:  # noqa: BLE001 - a total is a nicety; the job reports a broken manifest itself
        return None


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class Rate:
    """Clips per second over the last :data:`RATE_WINDOW_S` seconds in which clips were done (so
    the workers' start-up does not count), and the time left at that rate."""

    def __init__(self, window_s: float = RATE_WINDOW_S):
        self._window = window_s
        self._samples: deque[tuple[float, int]] = deque()
        self._idle_until: float | None = None  # the last look at which no clip was done yet

    def add(self, now: float, done: int) -> None:
        if done == 0:
            self._idle_until = now
            return
        if not self._samples:  # the first clips were done since the last look that saw none
            self._samples.append((now if self._idle_until is None else self._idle_until, 0))
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self._window:
            self._samples.popleft()

    def per_s(self) -> float | None:
        if len(self._samples) < 2:
            return None
        (t0, d0), (t1, d1) = self._samples[0], self._samples[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 else None

    def left_s(self, done: int, total: int | None) -> float | None:
        rate = self.per_s()
        if not rate or total is None:
            return None
        return max(0, total - done) / rate


def format_line(counts: Counts, total: int | None, elapsed_s: float, rate: float | None, left_s: float | None) -> str:
    """One progress line: counts, rate and time only."""
    done = counts.done
    of = f"{done:,} of {total:,} clips ({done / total:.0%})" if total else f"{done:,} clips"
    outcomes = (
        f"reviewed {counts.reviewed:,}, escalated {counts.escalated:,}, dropped {counts.dropped:,}, "
        f"quarantined {counts.quarantined:,}"
    )
    pace = f"{rate:.1f} clips/s" if rate else "starting"
    if left_s is not None:
        pace += f", about {_duration(left_s)} left"
    return f"{of}; {outcomes}; {pace}; {_duration(elapsed_s)} elapsed"


def format_compact(counts: Counts, total: int | None, rate: float | None, left_s: float | None) -> str:
    """The terminal's line beside the bar: what matters most first, as a narrow terminal cuts the end."""
    done = counts.done
    parts = [f"{done:,}/{total:,} clips {done / total:.0%}" if total else f"{done:,} clips"]
    parts.append(f"{rate:.1f} clips/s" if rate else "starting")
    if left_s is not None:
        parts.append(f"{_duration(left_s)} left")
    parts.append(
        f"reviewed {counts.reviewed:,}, escalated {counts.escalated:,}, dropped {counts.dropped:,}, "
        f"quarantined {counts.quarantined:,}"
    )
    return " · ".join(parts)


def format_final(counts: Counts, total: int | None, elapsed_s: float) -> str:
    done = counts.done
    of = f"{done:,} of {total:,} clips ({done / total:.0%})" if total else f"{done:,} clips"
    rate = f", {done / elapsed_s:.1f} clips/s" if elapsed_s > 0 else ""
    return (
        f"{of}; reviewed {counts.reviewed:,}, escalated {counts.escalated:,}, dropped {counts.dropped:,}, "
        f"quarantined {counts.quarantined:,}; finished in {_duration(elapsed_s)}{rate}"
    )


def dataflow_console_url(project: str | None, region: str | None, job_id: str) -> str:
    """The Cloud Console page of a Dataflow job."""
    url = f"https://console.cloud.google.com/dataflow/jobs/{region or '-'}/{job_id}"
    return f"{url}?project={project}" if project else url


def is_local(runner, options) -> bool:
    """Whether the workers of this run share this machine (and so the progress folder): the
    FnApiRunner, or the project's DaskRunner with the LocalCluster it starts itself."""
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    if isinstance(runner, FnApiRunner):
        return True
    if type(runner).__module__ == "pipeline.dask_runner":  # not imported otherwise: dask is an extra
        from apache_beam.runners.dask.dask_runner import DaskOptions

        dask = options.view_as(DaskOptions)
        return not (dask.address or getattr(dask, "scheduler_file", None))
    return False


class Watch:
    """The progress display around one run (a context manager). ``started(result)`` once the job
    is submitted, ``finish(result)`` once it has finished."""

    def __init__(self, total: int | None, live: bool, every_s: float = 10.0, stream=None):
        self.total = total
        self.live = live and every_s > 0
        self.every_s = every_s
        self._stream = stream or sys.stderr
        self._folder: str | None = None
        self._previous_env: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start = time.monotonic()
        self._rate = Rate()
        self._bar = None
        self._task = None
        self._swapped: list[tuple[logging.StreamHandler, object]] = []

    # -- life cycle -------------------------------------------------------------------------------

    def __enter__(self) -> Watch:
        if not self.live:
            return self
        self._folder = tempfile.mkdtemp(prefix="voiceanon-progress-")
        self._previous_env = os.environ.get(tally.ENV_DIR)
        os.environ[tally.ENV_DIR] = self._folder  # read by this process and inherited by local workers
        self._start = time.monotonic()
        try:
            self._open_display()
        except Exception:  # noqa: BLE001 - a display problem must not stop the run
            LOG.warning("progress display unavailable; the run goes on", exc_info=True)
            self._bar = None
        self._thread = threading.Thread(target=self._loop, name="voiceanon-progress-display", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._close_display()
        if self._folder is not None:
            if self._previous_env is None:
                os.environ.pop(tally.ENV_DIR, None)
            else:
                os.environ[tally.ENV_DIR] = self._previous_env
            shutil.rmtree(self._folder, ignore_errors=True)

    def started(self, result, options) -> None:
        """Where to watch a run this display cannot follow: Dataflow's console page, Dask's dashboard."""
        link = getattr(result, "dashboard_link", None)
        if link:
            LOG.info("Dask dashboard: %s", link)
        job_id = getattr(result, "job_id", None)
        if callable(job_id) and type(result).__name__.startswith("Dataflow"):
            from apache_beam.options.pipeline_options import GoogleCloudOptions

            cloud = options.view_as(GoogleCloudOptions)
            LOG.info("Dataflow job: %s", dataflow_console_url(cloud.project, cloud.region, job_id()))

    def finish(self, result) -> None:
        """The last line, from the job's own metrics (what the run report reads)."""
        if not self.live:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        tally.flush()  # in-memory runs: this process's own last counts
        live, workers = self._read()
        try:
            counts = counts_from(totals_from_result(result))
        except Exception:  # noqa: BLE001 - no metrics from this runner: the live counts are the last word
            counts = live
        self._close_display()
        elapsed = time.monotonic() - self._start
        LOG.info("progress: %s", format_final(counts, self.total, elapsed))
        if workers:
            behind = counts.done - live.done
            agreement = "agree with the job's metrics" if behind == 0 else f"were {behind:,} clips behind at the end"
            LOG.info("progress: live counts from %d worker process(es) %s", workers, agreement)

    # -- the display ------------------------------------------------------------------------------

    def _read(self) -> tuple[Counts, int]:
        totals, workers = tally.read_totals(self._folder) if self._folder else ({}, 0)
        return counts_from(totals), workers

    def _open_display(self) -> None:
        from rich.console import Console

        console = Console(file=self._stream, stderr=self._stream is sys.stderr)
        if not console.is_terminal:
            self._line(Counts(), 0.0)
            return
        from rich.progress import BarColumn, Progress, TextColumn
        from rich.table import Column

        self._bar = Progress(  # a narrow terminal keeps the bar and cuts the line's end
            BarColumn(bar_width=20, table_column=Column(min_width=20, no_wrap=True)),
            TextColumn("{task.fields[line]}", markup=False, table_column=Column(no_wrap=True, overflow="ellipsis")),
            console=console,
            refresh_per_second=1 / TERMINAL_REFRESH_S,
            transient=True,  # the final line is logged when the run ends
            redirect_stderr=True,
            redirect_stdout=True,
        )
        self._bar.start()
        self._task = self._bar.add_task(
            "clips", total=self.total, line=format_compact(Counts(), self.total, None, None)
        )
        # Log lines printed while the bar is shown go above it, not through it.
        for handler in logging.getLogger().handlers:
            if type(handler) is logging.StreamHandler and handler.stream in (sys.__stderr__, self._stream):
                self._swapped.append((handler, handler.setStream(sys.stderr)))

    def _close_display(self) -> None:
        for handler, stream in self._swapped:
            handler.setStream(stream)
        self._swapped = []
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def _loop(self) -> None:
        period = TERMINAL_REFRESH_S if self._bar is not None else self.every_s
        try:
            while not self._stop.wait(period):
                counts, _ = self._read()
                now = time.monotonic()
                self._rate.add(now, counts.done)
                if self._bar is not None:
                    line = format_compact(
                        counts, self.total, self._rate.per_s(), self._rate.left_s(counts.done, self.total)
                    )
                    self._bar.update(self._task, completed=counts.done, line=line)
                else:
                    self._line(counts, now - self._start)
        except Exception:  # noqa: BLE001 - the display stops, the run does not
            LOG.warning("progress display stopped; the run goes on", exc_info=True)

    def _line(self, counts: Counts, elapsed: float) -> None:
        line = format_line(counts, self.total, elapsed, self._rate.per_s(), self._rate.left_s(counts.done, self.total))
        LOG.info("progress: %s", line)
