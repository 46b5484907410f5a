"""Both leak checks on the same outputs: the single-process scan (:mod:`pipeline.verify`) and the
Beam pipeline (:mod:`pipeline.leak_check`), for tests that prove they find the same leaks."""

from __future__ import annotations

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
