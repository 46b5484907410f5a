"""Atomic publish: a run writes under a run-scoped staging folder and is promoted only when it passed.

In:  the output root, the run id, whether earlier outputs may be replaced (``--overwrite``).
Out: while the run works, everything it writes lives under ``<root>/_staging/<run_id>/`` (the same
     layout as a published run); :meth:`Publication.promote` moves it into ``<root>/`` only after
     the counts reconcile and the leak check passed, then writes ``<root>/_SUCCESS`` naming the run.
     A failed run publishes nothing: its files stay in its staging folder, which the error names.
Fails: :class:`PublishError` (the run does not start, exit 2) when the output holds a published run
     and ``--overwrite`` is not given, or another run holds the output's lock; at promotion when the
     lock no longer names this run.

Readers (schedulers copying ``reviewer/``) should wait for ``_SUCCESS`` and check it names the run
they expect: promotion removes it first and writes it last. On object stores promotion is a copy
per file, not one atomic rename, which is why the marker matters there.

The lock (``<root>/_LOCK``, JSON: run id, host, pid, start time) stops a second run from writing
into the same output at the same time. Locally it is created atomically (``O_EXCL``) and a lock
left by a dead process on this host is taken over with a warning; on object stores it is
best-effort (exists-then-create), and promotion re-reads it, so two racing runs cannot both publish.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import posixpath
import socket
from typing import NamedTuple

from pipeline.layout import LOCK_FILE, STAGING_DIR, SUCCESS_FILE, OutputPaths, output_paths

LOG = logging.getLogger("pipeline.publish")


class PublishError(RuntimeError):
    """The output cannot be written or published; the message says why."""


def _fs():
    from apache_beam.io.filesystems import FileSystems

    return FileSystems


def _files_under(root: str, name: str) -> list[str]:
    if "://" not in root:
        top = os.path.join(root, name)
        return sorted(os.path.join(d, f) for d, _, files in os.walk(top) for f in files)
    return sorted(m.path for m in _fs().match([posixpath.join(root, name, "**")])[0].metadata_list)


def run_files(root: str) -> list[str]:
    """The files one run writes under ``root``: its shards, launcher log and report — not what
    outlives runs there (the audit trail, sign-offs and their restricted findings)."""
    fs = _fs()
    paths = output_paths(root)
    prefixes = (paths.reviewer_prefix, paths.escalation_prefix, paths.quarantine_prefix)
    files = [m.path for prefix in prefixes for m in fs.match([prefix + "*"])[0].metadata_list]
    return sorted(files + [path for path in (paths.log, paths.report) if fs.exists(path)])


def published_files(root: str) -> list[str]:
    """The files of the published run under ``root`` (its run files and the ``_SUCCESS`` marker)."""
    marker = posixpath.join(root, SUCCESS_FILE)
    return run_files(root) + ([marker] if _fs().exists(marker) else [])


def _is_local_dead(lock: dict) -> bool:
    if lock.get("host") != socket.gethostname() or not isinstance(lock.get("pid"), int):
        return False
    try:
        os.kill(lock["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Publication(NamedTuple):
    """One run's claim on an output root: where it stages, and how it publishes."""

    root: str
    run_id: str
    staging: OutputPaths  # where the job writes
    final: OutputPaths  # where a passed run ends up

    @property
    def staging_root(self) -> str:
        return self.staging.root

    def promote(self) -> int:
        """Replace the published run (if any) by this run's staged files; returns files moved."""
        fs = _fs()
        if read_lock(self.root).get("run_id") != self.run_id:
            raise PublishError(f"the lock on {self.root} no longer names run {self.run_id}; nothing published")
        marker = posixpath.join(self.root, SUCCESS_FILE)
        old = published_files(self.root)
        if old:
            fs.delete(old)  # the marker goes first
        staged = run_files(self.staging_root)
        targets = [posixpath.join(self.root, posixpath.relpath(path, self.staging_root)) for path in staged]
        for directory in sorted({posixpath.dirname(t) for t in targets}):
            if not fs.exists(directory):
                fs.mkdirs(directory)
        if staged:
            fs.rename(staged, targets)
        with fs.create(marker) as handle:
            handle.write(json.dumps({"run_id": self.run_id, "published_at": _now()}).encode())
        remove_tree(self.staging_root)
        parent = posixpath.dirname(self.staging_root)
        if "://" not in parent and os.path.isdir(parent) and not os.listdir(parent):
            os.rmdir(parent)
        return len(staged)

    def release(self) -> None:
        """Give up the lock (always, whether the run published or not)."""
        lock = read_lock(self.root)
        if lock.get("run_id") == self.run_id:
            _fs().delete([posixpath.join(self.root, LOCK_FILE)])


def remove_tree(root: str) -> None:
    """Delete every file under ``root`` (and, locally, its folders)."""
    files = _files_under(posixpath.dirname(root), posixpath.basename(root))
    if files:
        _fs().delete(files)
    if "://" not in root and os.path.isdir(root):
        for directory, _, _ in sorted(os.walk(root), key=lambda item: -len(item[0])):
            os.rmdir(directory)


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def read_lock(root: str) -> dict:
    path = posixpath.join(root, LOCK_FILE)
    try:
        with _fs().open(path) as handle:
            lock = json.loads(handle.read().decode("utf-8"))
    except Exception:  # noqa: BLE001 - absent or unreadable: no usable lock
        return {}
    return lock if isinstance(lock, dict) else {}


def _take_lock(root: str, run_id: str) -> None:
    record = json.dumps({"run_id": run_id, "host": socket.gethostname(), "pid": os.getpid(), "started": _now()})
    path = posixpath.join(root, LOCK_FILE)
    if "://" in root:
        if _fs().exists(path):
            raise PublishError(_held(root))
        with _fs().create(path) as handle:
            handle.write(record.encode())
        if read_lock(root).get("run_id") != run_id:
            raise PublishError(_held(root))
        return
    os.makedirs(root, exist_ok=True)
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            lock = read_lock(root)
            if lock and not _is_local_dead(lock):
                raise PublishError(_held(root)) from None
            LOG.warning("taking over the lock of run %s, whose process is gone", lock.get("run_id", "?"))
            os.remove(path)
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(record)
        return
    raise PublishError(_held(root))


def _held(root: str) -> str:
    lock = read_lock(root)
    return (
        f"output {root} is in use by run {lock.get('run_id', '?')} (pid {lock.get('pid', '?')} on "
        f"{lock.get('host', '?')}, since {lock.get('started', '?')}); wait for it, or remove "
        f"{posixpath.join(root, LOCK_FILE)} if that run is dead"
    )


def begin(output_dir: str, run_id: str, overwrite: bool) -> Publication:
    """Claim ``output_dir`` for this run: take the lock, refuse to mix runs, prepare staging."""
    root = output_dir.rstrip("/")
    _take_lock(root, run_id)
    try:
        if published_files(root) and not overwrite:
            raise PublishError(f"output {output_dir!r} already holds a run's files; pass --overwrite to replace them")
        staging_parent = posixpath.join(root, STAGING_DIR)
        if overwrite:  # staging folders of earlier failed runs (their errors named them): cleared
            remove_tree(staging_parent)
        staging = output_paths(posixpath.join(staging_parent, run_id))
    except Exception:
        _fs().delete([posixpath.join(root, LOCK_FILE)])
        raise
    return Publication(root, run_id, staging, output_paths(root))
