"""``python -m pipeline inspect``: schema, rows per shard, a few rows, never audio bytes or
restricted rows; and no command module is named like a standard-library module."""

from __future__ import annotations

import base64
import re
import sys

import pytest

from pipeline.spotcheck.summary import summarize
from tests.conftest import run_cli
from tests.test_spotcheck import CONFIG_HASH, ESCALATED_MARKER, FULL_REPORT, LAYOUT, RAW_CLIP_ID, RUN_ID, write_run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("inspect") / "run"
    write_run(root, FULL_REPORT)
    return root


def test_cli_prints_schema_rows_per_shard_and_counts(run_dir):
    proc = run_cli("inspect", str(run_dir), "--rows", "2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert re.search(r"^\s+review_id\s+string\s+not null$", out, re.M)
    assert re.search(r"^\s+audio\s+binary\s+not null$", out, re.M)
    assert "MISSING" not in out and "not in REVIEWER_SCHEMA" not in out
    assert re.search(r"part-00000-of-00002\.parquet\s+12 rows", out)
    assert re.search(r"part-00001-of-00002\.parquet\s+12 rows", out)
    assert re.search(rf"total\s+{len(LAYOUT)} rows", out)
    assert len(re.findall(r"^\s+row \d+:$", out, re.M)) == 2
    assert RUN_ID in out and CONFIG_HASH in out
    assert "quarantine: 3 record(s) (decode=2, transcript=1)" in out
    assert "escalation: 3 row(s)" in out


def test_audio_is_shown_as_its_size_never_its_bytes(run_dir):
    import pyarrow.parquet as pq

    out = summarize(str(run_dir), rows=3)
    first = pq.read_table(next(iter(sorted((run_dir / "reviewer").glob("*.parquet"))))).to_pylist()[0]
    assert f"<{len(first['audio'])} bytes {first['audio_mime']}>" in out
    assert "fLaC" not in out and "\\x" not in out and "b'" not in out
    assert base64.b64encode(first["audio"][:30]).decode()[:20] not in out


def test_restricted_and_raw_side_data_are_not_printed(run_dir):
    out = summarize(str(run_dir), rows=50)
    assert RAW_CLIP_ID not in out
    assert ESCALATED_MARKER.decode() not in out


def test_a_schema_drift_is_called_out(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "reviewer").mkdir()
    pq.write_table(pa.table({"review_id": ["r1"], "surprise": ["x"]}), tmp_path / "reviewer" / "part-0.parquet")
    out = summarize(str(tmp_path), rows=0)
    assert re.search(r"surprise .*not in REVIEWER_SCHEMA", out)
    assert re.search(r"audio\s+MISSING", out)
    assert "run report: run_report.json not found" in out


def test_cli_without_shards_exits_2(tmp_path):
    proc = run_cli("inspect", str(tmp_path))
    assert proc.returncode == 2
    assert "no reviewer shards" in proc.stderr


def test_when_commands_are_listed_then_no_module_is_named_like_a_standard_library_module():
    import pkgutil

    from pipeline import cli, commands

    names = [m.name for m in pkgutil.iter_modules(commands.__path__)]
    assert "inspect_output" in names
    assert not set(names) & set(sys.stdlib_module_names)
    parser = cli.build_parser()
    assert parser.parse_args(["inspect", "out"]).func.__module__ == "pipeline.commands.inspect_output"
