"""Run report: counts per stage and outcome, reconciled against what was actually written.

In:  the Beam metrics of a finished run and the files it wrote.
Out: ``run_report.json`` in the output directory and a short table for the terminal.
Fails: :func:`reconcile` raises :class:`ReconciliationError` when clips in ≠ reviewer rows +
     escalated + policy-dropped + quarantined, or when the counters disagree with the files on
     disk. The job then exits non-zero: a clip that vanished is a bug, not a statistic.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

STAGES = (
    "manifest",
    "policy",
    "identifiers",
    "transcript",
    "decode",
    "voice",
    "mute",
    "watermark",
    "encode",
    "encode_escalation",
)


class ReconciliationError(RuntimeError):
    """Clips in and clips out do not add up."""


def counters_from_result(result) -> dict[str, dict[str, int]]:
    """``{namespace: {name: value}}`` summed over steps, from a PipelineResult."""
    from apache_beam.metrics.metric import MetricsFilter

    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in result.metrics().query(MetricsFilter())["counters"]:
        value = item.committed if item.committed is not None else item.attempted
        totals[item.key.metric.namespace][item.key.metric.name] += int(value or 0)
    return {ns: dict(names) for ns, names in totals.items()}


def count_written(paths) -> dict[str, int]:
    """Rows actually on disk: Parquet row counts (from footers) and quarantine lines."""
    from apache_beam.io.filesystems import FileSystems

    from pipeline.parquet_io import num_rows

    def files(prefix: str) -> list[str]:
        found = FileSystems.match([prefix + "*"])[0].metadata_list
        return sorted(m.path for m in found)

    def parquet_rows(paths_found: list[str]) -> int:
        return sum(num_rows(path) for path in paths_found)

    reviewer_files = files(paths.reviewer_prefix)
    escalation_files = files(paths.escalation_prefix)
    quarantine_rows = 0
    quarantine_files = files(paths.quarantine_prefix)
    for path in quarantine_files:
        with FileSystems.open(path) as handle:  # streamed: a large quarantine is not held in the launcher
            quarantine_rows += sum(1 for line in handle if line.strip())
    return {
        "reviewer_rows": parquet_rows(reviewer_files),
        "reviewer_files": len(reviewer_files),
        "escalation_rows": parquet_rows(escalation_files),
        "escalation_files": len(escalation_files),
        "quarantine_rows": quarantine_rows,
        "quarantine_files": len(quarantine_files),
    }


def build_report(counters: dict, written: dict[str, int], meta, extra: dict[str, Any]) -> dict[str, Any]:
    """The report dict: per-stage counts, quarantine by stage, entities by type, reconciliation."""
    stages = {
        stage: {k: counters.get(stage, {}).get(k, 0) for k in ("received", "succeeded", "failed")} for stage in STAGES
    }
    stages["manifest"]["received"] = counters.get("manifest", {}).get("rows", 0)
    quarantine = {k: v for k, v in sorted(counters.get("quarantine", {}).items()) if k != "total"}
    entities = {
        name.removeprefix("entity_"): value
        for name, value in sorted(counters.get("transcript", {}).items())
        if name.startswith("entity_")
    }
    clips_in = stages["manifest"]["received"]
    dropped = {
        name.removeprefix("dropped_"): value
        for name, value in sorted(counters.get("policy", {}).items())
        if name.startswith("dropped_")
    }
    return {
        "run_id": meta.run_id,
        "config_hash": meta.config_hash,
        "pipeline_version": meta.pipeline_version,
        **extra,
        "stages": stages,
        "quarantined_by_stage": quarantine,
        "entities_by_type": entities,
        # the clip's own first name redacted where it reads as an ordinary word ("pay the bill" for a
        # Bill): still redacted (privacy first), counted apart as a measure of over-redaction
        "own_name_as_word": counters.get("transcript", {}).get("own_name_as_word", 0),
        # locales that were not valid BCP 47: written as "und", never quarantined
        "locale_invalid": counters.get("manifest", {}).get("locale_invalid", 0),
        "policy_dropped_by_reason": dropped,
        "outcomes": {
            "clips_in": clips_in,
            "reviewer_rows": written["reviewer_rows"],
            "escalated": written["escalation_rows"],
            "policy_dropped": sum(dropped.values()),
            "quarantined": written["quarantine_rows"],
        },
        "written": written,
    }


def reconcile(report: dict[str, Any]) -> None:
    """Raise unless every clip is accounted for exactly once, in counters and on disk."""
    out = report["outcomes"]
    accounted = sum(v for k, v in out.items() if k != "clips_in")
    problems = []
    if out["clips_in"] != accounted:
        problems.append(f"clips in ({out['clips_in']}) != accounted for ({accounted}: {out})")
    for stage, key in (("encode", "reviewer_rows"), ("encode_escalation", "escalated")):
        counted = report["stages"][stage]["succeeded"]
        if counted != out[key]:
            problems.append(f"{key} counted ({counted}) != rows in shards ({out[key]})")
    counted_failures = sum(report["quarantined_by_stage"].values())
    if counted_failures != out["quarantined"]:
        problems.append(f"failures counted ({counted_failures}) != quarantine records ({out['quarantined']})")
    report["reconciled"] = not problems
    if problems:
        raise ReconciliationError("; ".join(problems))


def check_quarantine_share(report: dict[str, Any], ceiling: float) -> str | None:
    """Why the run fails for quarantining too many of its clips, or None. A run whose clips are
    mostly quarantined is broken input or a broken job, not a result (and it used to exit 0)."""
    out = report["outcomes"]
    clips_in = out["clips_in"]
    share = out["quarantined"] / clips_in if clips_in else 0.0
    report["quarantined_share"] = round(share, 4)
    if share > ceiling:
        return (
            f"{out['quarantined']} of {clips_in} clips quarantined ({share:.0%}), above the ceiling of {ceiling:.0%} "
            "(output.max_quarantined_share); see quarantine/ for the reasons"
        )
    return None


def write_report(report: dict[str, Any], path: str) -> None:
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.create(path) as handle:
        handle.write(json.dumps(report, indent=2, sort_keys=True, default=str).encode())


def format_table(report: dict[str, Any]) -> str:
    """A short terminal summary."""
    lines = [f"run {report['run_id']}  config {report['config_hash']}  version {report['pipeline_version']}"]
    lines.append(f"{'stage':<18}{'received':>10}{'ok':>10}{'failed':>10}")
    for stage, c in report["stages"].items():
        lines.append(f"{stage:<18}{c['received']:>10}{c['succeeded']:>10}{c['failed']:>10}")
    out = report["outcomes"]
    lines.append("outcomes: " + ", ".join(f"{k}={v}" for k, v in out.items()))
    if report.get("policy_dropped_by_reason"):
        lines.append("policy drops: " + ", ".join(f"{k}={v}" for k, v in report["policy_dropped_by_reason"].items()))
    if report["entities_by_type"]:
        lines.append("entities redacted: " + ", ".join(f"{k}={v}" for k, v in report["entities_by_type"].items()))
    if report.get("own_name_as_word"):
        lines.append(f"own first name redacted where it reads as an ordinary word: {report['own_name_as_word']}")
    lines.append("reconciled: " + ("yes" if report.get("reconciled") else "NO"))
    check = report.get("leak_check")
    if check:
        verdict = "passed" if check["passed"] else f"FAILED ({check['leaks']} leaks)"
        lines.append(f"leak check: {verdict} over {check['files_scanned']} files")
    return "\n".join(lines)
