"""How a local run uses the machine: the DirectRunner's mode and worker count when none is asked for.

In:  the Beam flags the operator passed, the manifest's row count (or None if unknown) and the
     cores this process may use (its CPU affinity, bounded by a cgroup CPU quota).
Out: the Beam flags to run with and one sentence for the run's first line saying what will run.
     Without runner flags: one SDK worker process per core
     (``--direct_running_mode=multi_processing --direct_num_workers=<cores>``) once the manifest
     has :data:`MIN_CLIPS_FOR_WORKERS` rows; below that, or on one core, the in-memory engine
     in the launcher's own process (workers would spend longer starting — each loads spaCy and
     Presidio — than they save). Any runner or ``--direct_*`` flag of the operator's wins and is
     passed on untouched.
Fails: never; an unreadable affinity or quota counts as what ``os.cpu_count`` says.
"""

from __future__ import annotations

import math
import os

# Where two worker processes start to pay, on the project's 2-core machine (docs/SCALE_OUT.md, "All
# cores by default", measured while other work loaded it): at 1,500 clips they won in all three
# rounds (1.17-1.20x), at 400 and 800 clips the in-memory engine won four runs of five (the workers'
# start-up, about 5-9 s more, is not paid back).
MIN_CLIPS_FOR_WORKERS = 1000

_RUNNER_FLAGS = ("--runner",)
_DIRECT_FLAGS = ("--direct_running_mode", "--direct_num_workers")
_LOCAL_RUNNERS = (None, "DirectRunner", "direct")


CGROUP_CPU_MAX = "/sys/fs/cgroup/cpu.max"


def usable_cores(cpu_max: str = CGROUP_CPU_MAX) -> int:
    """Cores this process may run on: its CPU affinity (``taskset``, cpusets), bounded by a cgroup
    v2 CPU quota (``cpu_max``: "<quota> <period>" or "max <period>", as containers set it), at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        with open(cpu_max, encoding="ascii") as handle:
            quota, period = handle.read().split()[:2]
        if quota != "max":
            cores = min(cores, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def _flag_value(beam_args: list[str], flag: str) -> str | None:
    """The value of ``flag`` (``--flag=value`` or ``--flag value``), the last one given, or None."""
    value = None
    for index, arg in enumerate(beam_args):
        if arg == flag and index + 1 < len(beam_args):
            value = beam_args[index + 1]
        elif arg.startswith(flag + "="):
            value = arg.split("=", 1)[1]
    return value


def _given(beam_args: list[str], flags: tuple[str, ...]) -> bool:
    return any(arg.split("=", 1)[0] in flags for arg in beam_args)


def choose(beam_args: list[str], clips: int | None, cores: int) -> tuple[list[str], str]:
    """``(beam_args to run with, what will run)`` for a run of ``clips`` manifest rows."""
    runner = _flag_value(beam_args, "--runner")
    if runner not in _LOCAL_RUNNERS:
        return beam_args, f"runner {runner}"
    if _given(beam_args, _DIRECT_FLAGS):
        mode = _flag_value(beam_args, "--direct_running_mode") or "in_memory"
        workers = _flag_value(beam_args, "--direct_num_workers") or "1"
        return beam_args, f"DirectRunner, {mode}, direct_num_workers={workers} (as asked)"
    if cores < 2:
        return beam_args, "DirectRunner in this process (1 core available)"
    if clips is not None and clips < MIN_CLIPS_FOR_WORKERS:
        return beam_args, (
            f"DirectRunner in this process: {clips:,} clips are too few for {cores} worker processes to pay for "
            f"their start-up (from {MIN_CLIPS_FOR_WORKERS:,}; --direct_num_workers to choose)"
        )
    flags = ["--direct_running_mode=multi_processing", f"--direct_num_workers={cores}"]
    return [*beam_args, *flags], f"DirectRunner, {cores} worker processes, one per core ({' '.join(flags)})"


WORKER_MODULE = "pipeline.sdk_worker"


def local_fn_api_runner():
    """Beam's FnApiRunner whose multi-processing SDK workers start through
    :mod:`pipeline.sdk_worker` instead of Beam's ``sdk_worker_main``: the same worker, but its own
    log lines go to the launcher's log (over the Fn API, as before) and not, a second time and
    unfiltered, to the console the progress line is drawn on."""
    import sys

    from apache_beam.portability import python_urns
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    beams = f"{sys.executable} -m apache_beam.runners.worker.sdk_worker_main".encode()
    ours = f"{sys.executable} -m {WORKER_MODULE}".encode()

    class LocalFnApiRunner(FnApiRunner):
        def run_via_runner_api(self, pipeline_proto, options):
            for environment in pipeline_proto.components.environments.values():
                if environment.urn == python_urns.SUBPROCESS_SDK and environment.payload == beams:
                    environment.payload = ours
            return super().run_via_runner_api(pipeline_proto, options)

    return LocalFnApiRunner()
