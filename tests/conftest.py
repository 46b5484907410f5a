"""Shared fixtures: repo paths, a real Presidio engine (session-scoped), a CLI runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(REPO, "data", "samples")
SAMPLE_MANIFEST = os.path.join(SAMPLES, "manifest.jsonl")
SHARED_DATA = os.path.join(os.path.dirname(REPO), "shared", "data")


@pytest.fixture(scope="session")
def job_config():
    from pipeline.config import load_config

    return load_config()


@pytest.fixture(scope="session")
def engines(job_config):
    """Real Presidio analyzer + anonymizer with the project's Presidio YAML and spaCy model."""
    from transforms.transcript import Engines

    return Engines.from_config(job_config.transcript, job_config.base_dir)


@pytest.fixture(scope="session")
def sample_rows():
    with open(SAMPLE_MANIFEST, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def run_cli(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run `python -m pipeline ...` as a user would, capturing all output."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
