"""Atomic publish and the output lock: a run stages its files and publishes them only when it passed;
two runs never write into one output at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from pipeline import publish
from pipeline.layout import LOCK_FILE, STAGING_DIR, SUCCESS_FILE


def _stage(publication: publish.Publication, text: str) -> None:
    for prefix in (publication.staging.reviewer_prefix, publication.staging.quarantine_prefix):
        os.makedirs(os.path.dirname(prefix), exist_ok=True)
        with open(prefix + "-00000-of-00001.x", "w", encoding="utf-8") as handle:
            handle.write(text)
    with open(publication.staging.report, "w", encoding="utf-8") as handle:
        handle.write("{}")


def test_when_a_run_is_promoted_then_its_files_replace_the_old_run_and_the_marker_names_it(tmp_path):
    root = str(tmp_path / "out")
    first = publish.begin(root, "run-1", overwrite=False)
    _stage(first, "one")
    first.promote()
    first.release()
    assert json.load(open(os.path.join(root, SUCCESS_FILE)))["run_id"] == "run-1"
    assert not os.path.exists(os.path.join(root, STAGING_DIR, "run-1"))
    assert not os.path.exists(os.path.join(root, LOCK_FILE))

    with pytest.raises(publish.PublishError, match="--overwrite"):
        publish.begin(root, "run-2", overwrite=False)
    second = publish.begin(root, "run-2", overwrite=True)
    _stage(second, "two")
    published = open(os.path.join(root, "reviewer", "part-00000-of-00001.x")).read()
    assert published == "one"  # the old run stays published while the new one works
    second.promote()
    second.release()
    assert open(os.path.join(root, "reviewer", "part-00000-of-00001.x")).read() == "two"
    assert json.load(open(os.path.join(root, SUCCESS_FILE)))["run_id"] == "run-2"


def test_when_a_run_is_not_promoted_then_nothing_it_wrote_is_published(tmp_path):
    root = str(tmp_path / "out")
    run = publish.begin(root, "run-1", overwrite=False)
    _stage(run, "staged")
    run.release()
    assert not os.path.exists(os.path.join(root, "reviewer"))
    assert os.path.exists(os.path.join(run.staging_root, "reviewer", "part-00000-of-00001.x"))


def test_when_another_live_run_holds_the_output_then_a_second_run_is_refused(tmp_path):
    root = str(tmp_path / "out")
    holder = publish.begin(root, "run-1", overwrite=True)
    with pytest.raises(publish.PublishError, match="in use by run run-1"):
        publish.begin(root, "run-2", overwrite=True)
    holder.release()
    publish.begin(root, "run-3", overwrite=True).release()


def test_when_the_lock_holder_is_dead_then_its_lock_is_taken_over(tmp_path):
    root = tmp_path / "out"
    root.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock = {"run_id": "crashed", "host": os.uname().nodename, "pid": int(dead.stdout), "started": "x"}
    (root / LOCK_FILE).write_text(json.dumps(lock))
    run = publish.begin(str(root), "run-2", overwrite=True)
    assert publish.read_lock(str(root))["run_id"] == "run-2"
    run.release()


def test_when_the_lock_was_taken_from_a_run_then_it_cannot_publish(tmp_path):
    root = str(tmp_path / "out")
    run = publish.begin(root, "run-1", overwrite=False)
    _stage(run, "x")
    with open(os.path.join(root, LOCK_FILE), "w", encoding="utf-8") as handle:
        json.dump({"run_id": "intruder", "host": "elsewhere", "pid": 1}, handle)
    with pytest.raises(publish.PublishError, match="no longer names run run-1"):
        run.promote()
    assert not os.path.exists(os.path.join(root, "reviewer"))
