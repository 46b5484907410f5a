"""Both leak checks on the same outputs: the single-process scan (:mod:`pipeline.verify`) and the
Beam pipeline (:mod:`pipeline.leak_check`), for tests that prove they find the same leaks."""

from __future__ import annotations

import datetime
from typing import NamedTuple

from pipeline.leak_check import check_outputs
from pipeline.verify import list_files, needles_from_rows, normalise, read_manifest_rows, verify_run
from pipeline.verify_columns import review_ids_with


class Both(NamedTuple):
    launcher: list  # sorted Leak records of pipeline.verify
    beam: list  # sorted first findings of the Beam check (all of them when there are at most 50)
    beam_total: int
    launcher_counts: tuple  # (rows, identifiers, skipped names, unscoped names)
    beam_counts: tuple


def both_checks(
    manifest: str, output: str, work_dir: str, key_source=None, extra_files=(), allowed=(), operator_paths=()
) -> Both:
    review = review_ids_with(key_source, 6) if key_source is not None else None
    needles = needles_from_rows(read_manifest_rows(manifest), allowed, review, operator_paths)
    old = verify_run(output, needles, extra_files)
    masks = tuple(sorted({normalise(p) for p in operator_paths if p and len(p) > 1}, key=len, reverse=True))
    paths = list_files(output) + list(extra_files)
    new = check_outputs(manifest, paths, allowed, (key_source, 6) if key_source else None, masks, [], work_dir)
    return Both(
        sorted(old.leaks),
        sorted(new.first),
        new.leaks,
        (needles.rows, needles.count, needles.skipped_names, needles.unscoped_names),
        tuple(new.counts),
    )


def assert_same(both: Both) -> None:
    assert both.beam_total == len(both.launcher)
    assert set(both.beam) <= set(both.launcher)
    assert both.beam == both.launcher or (len(both.launcher) > 50 and len(both.beam) == 50)
    assert both.beam_counts == both.launcher_counts


def write_reviewer_shard(path, rows: list[dict], row_group_size: int | None = None) -> str:
    """A reviewer shard at ``path``: ``rows`` over a valid row of every other column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from transforms.core.schema import REVIEWER_SCHEMA

    base = {
        "speaker_pseudonym": "spk_" + "a" * 32,
        "pseudonym_epoch": "2026-07",
        "expires_at": datetime.date(2027, 7, 1),
        "audio": b"\x00\x01",
        "audio_mime": "audio/flac",
        "sample_rate": 16000,
        "duration_s": 1.0,
        "entities": [],
        "muted_intervals": [],
        "recorded_date": datetime.date(2026, 7, 1),
        "locale": "en-US",
        "flags": [],
        "run_id": "20261122T000000Z-0123abcd",
        "config_hash": "0123456789abcdef",
        "pipeline_version": "0.1.0",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist([{**base, **r} for r in rows], schema=REVIEWER_SCHEMA)
    pq.write_table(table, path, row_group_size=row_group_size)
    return str(path)
