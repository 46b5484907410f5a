"""The job on a distributed engine: Beam's portable job service with a separate worker pool.

The same graph runs twice on the bundled samples with the same key file: once on the
DirectRunner, once through ``--runner PortableRunner --job_endpoint embed --environment_type
EXTERNAL`` against ``apache_beam.runners.worker.worker_pool_main`` started here in its own process
group and working directory — SDK workers in separate processes, talking to the runner over the
Fn API (control, data, state and logging over gRPC), the protocol Dataflow Runner v2 uses. The
reviewer rows must be the same: transcripts, pseudonyms and entities equal, audio equal within
tolerance after decoding.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from tests.conftest import SAMPLE_MANIFEST, run_cli

pytestmark = pytest.mark.slow

SAME_COLUMNS = (
    "speaker_pseudonym",
    "pseudonym_epoch",
    "transcript",
    "entities",
    "muted_intervals",
    "sample_rate",
    "duration_s",
    "audio_mime",
    "recorded_date",
    "locale",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker pool exited early with code {proc.returncode}")
        try:
            with socket.create_connection(("localhost", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"worker pool did not listen on port {port} within {timeout} s")


def reviewer_rows(output_dir: str) -> dict[str, dict]:
    """Reviewer rows of a run, keyed by review_id."""
    folder = os.path.join(output_dir, "reviewer")
    rows = []
    for name in sorted(os.listdir(folder)):
        if name.endswith(".parquet"):
            rows.extend(pq.read_table(os.path.join(folder, name)).to_pylist())
    by_id = {row["review_id"]: row for row in rows}
    assert len(by_id) == len(rows), "review_id must be unique"
    return by_id


def decoded(audio: bytes) -> np.ndarray:
    samples, _ = sf.read(io.BytesIO(audio), dtype="float32")
    return samples


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "pseudonym.key"
    path.write_text(secrets.token_hex(32))
    return str(path)


@pytest.fixture
def worker_pool(tmp_path):
    """A Beam worker pool in its own process group and folder; yields (port, log path)."""
    port = free_port()
    folder = tmp_path / "worker_pool"
    folder.mkdir()
    log_path = folder / "worker_pool.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main", "--service_port", str(port)],
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            # The pool starts each SDK worker as plain `python`: make that this interpreter.
            env={**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")},
            start_new_session=True,  # its SDK workers join this group, so they are stopped with it
        )
    try:
        wait_for_port(port, proc)
        yield port, log_path
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_when_run_on_portable_worker_pool_then_rows_equal_direct_runner(tmp_path, key_file, worker_pool):
    port, pool_log = worker_pool
    direct_out, portable_out = str(tmp_path / "direct"), str(tmp_path / "portable")
    common = ["run", "--input", SAMPLE_MANIFEST, "--key-file", key_file]

    direct = run_cli(*common, "--output", direct_out, timeout=300)
    assert direct.returncode == 0, direct.stderr[-3000:]
    portable = run_cli(
        *common,
        "--output",
        portable_out,
        "--runner",
        "PortableRunner",
        "--job_endpoint",
        "embed",
        "--environment_type",
        "EXTERNAL",
        "--environment_config",
        f"localhost:{port}",
        timeout=300,  # a worker that cannot start makes the portable runner wait forever
    )
    assert portable.returncode == 0, portable.stderr[-3000:]

    # The work really ran in the pool's separate SDK worker processes.
    assert "Starting worker with command" in pool_log.read_text()
    with open(os.path.join(portable_out, "run_report.json"), encoding="utf-8") as handle:
        portable_report = json.load(handle)
    with open(os.path.join(direct_out, "run_report.json"), encoding="utf-8") as handle:
        direct_report = json.load(handle)
    assert portable_report["runner"] == "PortableRunner"
    assert portable_report["outcomes"] == direct_report["outcomes"]
    assert portable_report["stages"] == direct_report["stages"]

    direct_rows, portable_rows = reviewer_rows(direct_out), reviewer_rows(portable_out)
    assert len(direct_rows) == direct_report["outcomes"]["reviewer_rows"] > 0
    assert portable_rows.keys() == direct_rows.keys()
    for review_id, want in direct_rows.items():
        got = portable_rows[review_id]
        for column in SAME_COLUMNS:
            assert got[column] == want[column], f"{review_id}: column {column} differs"
        a, b = decoded(want["audio"]), decoded(got["audio"])
        assert a.shape == b.shape
        # Two runs: each clip carries its own run's watermark, so the audio differs by the two marks
        # (about 13 dB below the voice each) and nothing else.
        assert np.corrcoef(a, b)[0, 1] > 0.9, f"{review_id}: audio differs beyond the two runs' watermarks"


@pytest.mark.parametrize(
    "flags, engine",
    [([], "FnApiRunner"), (["--runner=DirectRunner"], "FnApiRunner"), (["--runner=PortableRunner"], None)],
)
def test_the_local_runner_is_pinned_to_the_fn_api_runner_and_others_are_left_to_beam(flags, engine):
    """Beam's DirectRunner would first try to download Prism from GitHub (online laptops get a
    different engine than locked-down workers); the launcher pins the engine the tests run."""
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    from pipeline.run import local_runner

    runner = local_runner(PipelineOptions(flags))
    # the FnApiRunner itself, or pipeline.local_engine's subclass that starts its SDK workers off the console
    assert (FnApiRunner.__name__ if isinstance(runner, FnApiRunner) else runner) == engine
