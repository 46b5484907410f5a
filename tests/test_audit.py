"""The audit trail: record shapes (nothing but known, typed fields), append-only writing on a local
disk and on an object store, reading back in order, and the ``audit`` table."""

from __future__ import annotations

import hashlib
import io
import json
import threading

import pytest
from apache_beam.io.filesystem import FileMetadata, FileSystem

from pipeline import audit
from pipeline.commands.audit import table

REPORT = {
    "run_id": "20261128T044325Z-bccbdb6b",
    "config_hash": "370d7e0bfdce1a94",
    "pipeline_version": "0.1.0",
    "finished_at": "2026-11-28T04:43:44.262891+00:00",
    "key_source": "file",
    "outcomes": {"clips_in": 10, "reviewer_rows": 8, "escalated": 0, "policy_dropped": 2, "quarantined": 0},
    "policy_dropped_by_reason": {"no_wake_word": 2},
    "quarantined_by_stage": {},
    "reconciled": True,
    "leak_check": {
        "passed": False,
        "leaks": 1,
        "files_scanned": 5,
        "findings": ["account_id of manifest row 3 found in /out/reviewer/part-0.parquet (transcript)"],
    },
    "entities_by_type": {"PERSON": 5},
}
FINGERPRINT = "sha256:" + "ab" * 32
SIGNOFF = {
    "signed_at": "2026-11-28T05:00:00.000001+00:00",
    "run_id": REPORT["run_id"],
    "config_hash": REPORT["config_hash"],
    "checker": "Ana Checker-Müller",
    "verdict_sha256": "sha256:" + "cd" * 32,
    "claim": {"max_leak_rate": 0.01, "confidence": 0.95},
    "sample": {"mode": "claim", "seed": 11, "size": 8, "population": 8, "drawn": 8},
    "checked": 8,
    "verdicts": {"clean": 7, "pii_audible": 1, "needs_escalation": 0},
    "bound": {"upper_leak_rate": 0.125},
    "run_leak_check_passed": True,
    "supported": False,
    "reason": "1 leak(s) and 0 unsure verdict(s) among 8 checked clips",
}


def run_record(**overrides):
    return audit.run_record(
        {**REPORT, **overrides}, manifest_fingerprint=FINGERPRINT, key_kind="file", epochs=["2026-07", "2026-01"]
    )


def test_run_record_copies_counts_and_results_but_not_findings():
    record = run_record()
    assert record["kind"] == "run" and record["time"] == REPORT["finished_at"]
    assert record["epochs"] == ["2026-01", "2026-07"] and record["key_source"] == "file"
    assert record["outcomes"] == REPORT["outcomes"]
    assert record["leak_check"] == {"passed": False, "leaks": 1, "files_scanned": 5}
    assert "manifest row" not in json.dumps(record)  # the finding text (paths, row numbers) stays in the report
    assert "entities_by_type" not in record


def test_signoff_record_names_no_clip_and_no_note():
    record = audit.signoff_record(SIGNOFF)
    assert record["kind"] == "signoff" and record["supported"] is False
    assert record["verdicts"]["pii_audible"] == 1 and record["checker"] == "Ana Checker-Müller"
    assert set(record) == {"kind"} | set(audit._SIGNOFF_FIELDS)


@pytest.mark.parametrize(
    "overrides, problem",
    [
        ({"run_id": "run with a transcript: call john on 555 0100"}, "run_id"),
        ({"config_hash": "not-hex"}, "config_hash"),
        ({"outcomes": {"clips_in": "ten"}}, "outcomes"),
        ({"outcomes": {"Jane Doe": 1}}, "outcomes"),
        ({"policy_dropped_by_reason": {"no_wake_word": -1}}, "policy_dropped_by_reason"),
    ],
)
def test_when_a_run_field_has_the_wrong_shape_then_the_record_is_refused(overrides, problem):
    with pytest.raises(audit.AuditError, match=problem):
        run_record(**overrides)


@pytest.mark.parametrize(
    "change, problem",
    [
        (lambda r: r.update(note="heard ACC-55501"), "unknown audit field"),
        (lambda r: r.update(review_id="rev_0001"), "unknown audit field"),
        (lambda r: r.update(epochs=["2026-07", "deadbeef" * 8]), "epochs"),
        (lambda r: r.update(manifest_sha256="ab" * 32), "manifest_sha256"),  # a bare 64-hex string could be a key
        (lambda r: r.update(key_source="file:/secrets/key"), "key_source"),
        (lambda r: r.update(kind="note"), "kind"),
    ],
)
def test_when_a_record_carries_anything_else_then_append_refuses_it(tmp_path, change, problem):
    record = run_record()
    change(record)
    with pytest.raises(audit.AuditError, match=problem):
        audit.append(str(tmp_path / "audit.jsonl"), record)
    assert not (tmp_path / "audit.jsonl").exists()


def test_when_key_kind_is_unknown_then_run_record_raises():
    with pytest.raises(audit.AuditError):
        audit.run_record(REPORT, manifest_fingerprint=FINGERPRINT, key_kind="hsm", epochs=[])


@pytest.mark.parametrize("checker", ["a\nb", "", "x" * 101])
def test_when_checker_name_is_not_one_line_then_signoff_record_raises(checker):
    with pytest.raises(audit.AuditError, match="checker"):
        audit.signoff_record({**SIGNOFF, "checker": checker})


def test_local_trail_appends_in_order_and_reads_back(tmp_path):
    path = str(tmp_path / "nested" / "audit.jsonl")
    assert audit.read(path) == []
    first, second = run_record(), audit.signoff_record(SIGNOFF)
    assert audit.append(path, first) == path
    audit.append(path, second)
    assert audit.read(path) == [first, second]
    lines = (tmp_path / "nested" / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and all(json.loads(line) for line in lines)


def test_when_a_crash_left_half_a_line_then_the_next_record_starts_on_its_own_line(tmp_path):
    path = tmp_path / "audit.jsonl"
    audit.append(str(path), run_record())
    with open(path, "ab") as handle:
        handle.write(b'{"kind": "run", "time": "2026-')  # torn write, no newline
    audit.append(str(path), audit.signoff_record(SIGNOFF))
    records = audit.read(str(path))
    assert [r["kind"] for r in records] == ["run", "unreadable", "signoff"]
    assert records[1]["line"] == 2


def test_concurrent_appends_never_interleave(tmp_path):
    path = str(tmp_path / "audit.jsonl")

    def writer(number):
        for i in range(20):
            audit.append(path, run_record(run_id=f"run-{number}-{i}"))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = audit.read(path)
    assert len(records) == 80 and all(r["kind"] == "run" for r in records)
    assert len({r["run_id"] for r in records}) == 80


class _MemoryObjectStore(FileSystem):
    """An object store for the test: no append, no directories; counts writes per object."""

    objects: dict[str, bytes] = {}
    writes: dict[str, int] = {}

    @classmethod
    def scheme(cls):
        return "auditmem"

    def join(self, basepath, *paths):
        return "/".join([basepath.rstrip("/"), *paths])

    def split(self, path):
        head, _, tail = path.rpartition("/")
        return head, tail

    def mkdirs(self, path):
        pass

    def has_dirs(self):
        return False

    def _list(self, dir_or_prefix):
        for path, data in sorted(self.objects.items()):
            if path.startswith(dir_or_prefix):
                yield FileMetadata(path, len(data))

    def create(self, path, mime_type="application/octet-stream", compression_type=None):
        store = self

        class _Upload(io.BytesIO):
            def close(self):
                if not self.closed:
                    store.objects[path] = self.getvalue()  # appears whole, at close
                    store.writes[path] = store.writes.get(path, 0) + 1
                super().close()

        return _Upload()

    def open(self, path, mime_type="application/octet-stream", compression_type=None):
        return io.BytesIO(self.objects[path])

    def copy(self, source_file_names, destination_file_names):
        raise NotImplementedError

    def rename(self, source_file_names, destination_file_names):
        raise NotImplementedError

    def exists(self, path):
        return path in self.objects

    def size(self, path):
        return len(self.objects[path])

    def last_updated(self, path):
        return 0.0

    def checksum(self, path):
        return hashlib.md5(self.objects[path]).hexdigest()

    def metadata(self, path):
        return FileMetadata(path, len(self.objects[path]))

    def delete(self, paths):
        raise NotImplementedError


def test_object_store_trail_is_one_object_per_record_read_back_in_order():
    _MemoryObjectStore.objects.clear()
    _MemoryObjectStore.writes.clear()
    path = audit.default_audit_path("auditmem://bucket/out/samples/")
    assert path == "auditmem://bucket/out/samples/audit.jsonl"
    records = [run_record(run_id=f"run-{i}") for i in range(3)] + [audit.signoff_record(SIGNOFF)]
    written = [audit.append(path, r) for r in records]
    assert all(w.startswith("auditmem://bucket/out/samples/audit/") and w.endswith(".json") for w in written)
    assert sorted(_MemoryObjectStore.objects) == sorted(written) == written  # names sort in write order
    assert set(_MemoryObjectStore.writes.values()) == {1}, "an object was overwritten"
    assert audit.read(path) == records
    assert "-signoff-" in written[-1] and "-run-" in written[0]


def test_manifest_fingerprint_is_sha256_of_the_bytes(tmp_path):
    manifest = tmp_path / "manifest.jsonl"
    data = b"".join(b'{"clip_id": "c%d"}\n' % i for i in range(50_000))  # several read chunks
    manifest.write_bytes(data)
    assert audit.manifest_fingerprint(str(manifest)) == "sha256:" + hashlib.sha256(data).hexdigest()


def test_table_shows_runs_and_signoffs():
    text = table([run_record(), audit.signoff_record(SIGNOFF), {"kind": "unreadable", "line": 3}])
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["time", "kind", "run"]
    assert "run" in lines[1] and "in=10 rev=8 esc=0 drop=2 quar=0" in lines[1] and "FAILED (1)" in lines[1]
    assert "signoff" in lines[2] and "NOT supported <1 % @95 % (Ana Checker-Müller)" in lines[2]
    assert "pii_audible=1" in lines[2]
    assert "line 3" in lines[3]
