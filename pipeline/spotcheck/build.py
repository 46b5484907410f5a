"""Assemble the spot-check: sample the reviewer rows, plot them, fill the HTML template.

In:  a run's output directory (reviewer side only, see :mod:`pipeline.spotcheck.source`), a
     seed, and either a claim (maximum leak rate and confidence: the sample is sized for it, see
     :mod:`pipeline.spotcheck.claims`) or a sample size (the page states the claim it supports).
Out: one self-contained HTML document (str): audio and images are ``data:`` URIs, styles are
     inline, and a Content-Security-Policy forbids loading anything that is not a ``data:`` URI
     and running any script but the page's own inline one (allowed by its SHA-256). That script
     keeps the checker's verdicts in ``localStorage`` and exports them as a verdict file
     (:mod:`pipeline.spotcheck.verdicts`); it cannot reach the network. Plus a :class:`SpotCheck`
     summary for the terminal.
Fails: :class:`~pipeline.spotcheck.source.SpotCheckError` when there are no reviewer shards;
     ``ValueError`` for a rate or confidence outside (0, 1).
     A clip whose audio does not decode is shown with the error type (and counted as a problem)
     rather than stopping the report.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import re
from collections import Counter
from importlib import resources
from typing import Any, NamedTuple

from pipeline.spotcheck import claims, markup, plots, source, verdicts
from transforms import audio_io

NOT_RECORDED = source.NOT_RECORDED
DURATION_TOLERANCE_S = 0.05
MAX_DECODE_S = 3600.0  # clips longer than this are shown as undecodable (the job caps clips far lower)
# Labels for the outcome keys we know; any other key is shown under its own name.
OUTCOME_LABELS = {
    "clips_in": "clips in",
    "reviewer_rows": "reviewed (rows in reviewer shards)",
    "quarantined": "quarantined",
    "policy_dropped": "policy-dropped",
    "escalated": "escalated (restricted, not sampled)",
}


class Check(NamedTuple):
    name: str
    status: str  # pass | fail | warn | not recorded
    detail: str


class SpotCheck(NamedTuple):
    """What the terminal needs to know about a rendered spot-check."""

    html: str
    sampled: int
    reviewer_rows: int
    seed: int
    checks: list[Check]
    clip_problems: int
    claim: str = ""  # the claim the sample supports (or is sized for), in one sentence


def _data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _label(key: str) -> str:
    return OUTCOME_LABELS.get(key, key.replace("_", " "))


def _scalar(value: Any) -> str:
    if isinstance(value, str | int | float | bool | datetime.date) or value is None:
        return str(value)
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 300 else text[:297] + "..."


def _counts_table(counts: dict | None) -> list[tuple[str, Any]] | None:
    if not isinstance(counts, dict):
        return None
    return sorted(((str(k), v) for k, v in counts.items()), key=lambda kv: kv[0])


def clip_view(clip: source.ClipRow) -> dict[str, Any]:
    """Everything the template shows for one clip; decoding and plotting problems become data."""
    transcript_html, problems = markup.mark_transcript(clip.transcript, list(clip.entities))
    muted = [(float(m["start_s"]), float(m["end_s"])) for m in clip.muted_intervals]
    duration = float(clip.duration_s) if clip.duration_s else 0.0
    for start, end in muted:
        if not 0 <= start < end <= duration + DURATION_TOLERANCE_S:
            problems.append(f"muted interval {start:.2f}-{end:.2f} s outside the clip (0-{duration:.2f} s)")
    image = None
    decoded_s = None
    try:
        samples, rate = audio_io.decode(clip.audio, MAX_DECODE_S)
        decoded_s = samples.size / rate
        if abs(decoded_s - duration) > DURATION_TOLERANCE_S:
            problems.append(f"audio lasts {decoded_s:.2f} s but duration_s says {duration:.2f} s")
        if rate != clip.sample_rate:
            problems.append(f"audio is at {rate} Hz but sample_rate says {clip.sample_rate} Hz")
        image = _data_uri("image/png", plots.spectrogram_png(samples, rate, muted))
    except Exception as exc:  # noqa: BLE001 — any decoder error is shown on the clip's card
        problems.append(f"audio could not be decoded or plotted ({type(exc).__name__})")
    scale = max(duration, decoded_s or 0.0, 1e-6)
    return {
        "review_id": clip.review_id,
        "speaker_pseudonym": clip.speaker_pseudonym,
        "pseudonym_epoch": clip.pseudonym_epoch,
        "locale": clip.locale,
        "recorded_date": str(clip.recorded_date),
        "duration_s": duration,
        "sample_rate": clip.sample_rate,
        "audio_mime": clip.audio_mime,
        "audio_bytes": len(clip.audio),
        "audio_uri": _data_uri(clip.audio_mime, clip.audio),
        "transcript_html": transcript_html,
        "entity_types": Counter(e["type"] for e in clip.entities),
        "muted": [
            {"start": s, "end": e, "left_pct": 100 * s / scale, "width_pct": 100 * max(e - s, 0) / scale}
            for s, e in muted
        ],
        "image_uri": image,
        "extra": [(name, _scalar(value)) for name, value in sorted(clip.extra.items())],
        "problems": problems,
    }


def run_checks(index: source.RunIndex) -> list[Check]:
    """Cross-checks between the run report and what is on disk; absent report keys are 'not recorded'."""
    report = index.report or {}
    outcomes = report.get("outcomes") if isinstance(report.get("outcomes"), dict) else {}
    checks = []

    leak = report.get("leak_check")
    if isinstance(leak, dict) and isinstance(leak.get("passed"), bool):
        detail = ", ".join(f"{k}={_scalar(v)}" for k, v in sorted(leak.items()) if k != "passed")
        checks.append(Check("leak verification", "pass" if leak["passed"] else "fail", detail))
    else:
        checks.append(Check("leak verification", NOT_RECORDED, "the run report has no leak_check result"))

    if "reconciled" in report:
        ok = report["reconciled"] is True
        checks.append(
            Check("clips reconciled (in = out)", "pass" if ok else "fail", f"reconciled={report['reconciled']}")
        )
    else:
        checks.append(Check("clips reconciled (in = out)", NOT_RECORDED, ""))

    rows = len(index.review_ids)
    if "reviewer_rows" in outcomes:
        ok = outcomes["reviewer_rows"] == rows
        checks.append(
            Check("reviewer rows: report vs shards", "pass" if ok else "fail", f"{outcomes['reviewer_rows']} vs {rows}")
        )
    else:
        checks.append(Check("reviewer rows: report vs shards", NOT_RECORDED, f"{rows} rows in shards"))

    for field, counter in (("run_id", index.run_ids), ("config_hash", index.config_hashes)):
        name = f"{field} of every reviewer row matches the report"
        if field not in report:
            checks.append(Check(name, NOT_RECORDED, f"shards hold {len(counter)} distinct value(s)"))
        else:
            ok = set(counter) == {report[field]}
            checks.append(Check(name, "pass" if ok else "fail", f"{len(counter)} distinct value(s) in shards"))

    if len(index.epochs) != 1:
        checks.append(Check("one pseudonym epoch", "warn", f"{len(index.epochs)} epochs in the shards"))

    reported_q = report.get("quarantined_by_stage")
    if isinstance(reported_q, dict) and index.quarantine_by_stage is not None:
        ok = {k: v for k, v in reported_q.items() if v} == dict(index.quarantine_by_stage)
        checks.append(Check("quarantine: report vs records", "pass" if ok else "fail", ""))
    elif isinstance(reported_q, dict) and sum(reported_q.values()):
        checks.append(Check("quarantine: report vs records", "fail", "report counts failures but no records found"))

    if "escalated" in outcomes or index.escalated_rows is not None:
        on_disk = index.escalated_rows or 0
        if "escalated" in outcomes:
            ok = outcomes["escalated"] == on_disk
            detail = f"{outcomes['escalated']} reported vs {on_disk} rows under escalation/"
            checks.append(Check("escalations: report vs restricted output", "pass" if ok else "fail", detail))
        else:
            detail = f"{on_disk} rows under escalation/"
            checks.append(Check("escalations: report vs restricted output", NOT_RECORDED, detail))
    return checks


def run_view(index: source.RunIndex, checks: list[Check]) -> dict[str, Any]:
    """The per-run part of the page."""
    report = index.report or {}
    outcomes = report.get("outcomes") if isinstance(report.get("outcomes"), dict) else None
    shard_entities = Counter(t for types in index.entity_types for t in types)
    reported_entities = report.get("entities_by_type") if isinstance(report.get("entities_by_type"), dict) else None
    entity_rows = [
        (t, (reported_entities or {}).get(t, 0) if reported_entities is not None else None, shard_entities.get(t, 0))
        for t in sorted(set(shard_entities) | set(reported_entities or {}))
    ]
    strata = Counter(index.strata)
    return {
        "run_id": report.get("run_id", NOT_RECORDED),
        "config_hash": report.get("config_hash", NOT_RECORDED),
        "pipeline_version": report.get("pipeline_version", NOT_RECORDED),
        "finished_at": report.get("finished_at", NOT_RECORDED),
        "voice": f"{report.get('voice_preset', NOT_RECORDED)} preset, method {report.get('voice_method', NOT_RECORDED)}",
        "report_problem": index.report_problem,
        "epochs": sorted(index.epochs.items()),
        "outcomes": [(k, _label(k), v) for k, v in outcomes.items()] if outcomes is not None else None,
        "policy_dropped_by_reason": _counts_table(report.get("policy_dropped_by_reason")),
        "quarantined_by_stage": _counts_table(report.get("quarantined_by_stage")),
        "quarantine_records": _counts_table(dict(index.quarantine_by_stage or {})),
        "escalated_rows": index.escalated_rows,
        "entity_rows": entity_rows,
        "entities_recorded": reported_entities is not None,
        "shards": index.shards,
        "strata": sorted(((loc, red), n) for (loc, red), n in strata.items()),
        "histogram_uri": _data_uri("image/png", plots.duration_histogram_png(index.durations)),
        "checks": checks,
        "leak": next(c for c in checks if c.name == "leak verification"),
    }


SCRIPT_HASH_PLACEHOLDER = "__VERDICT_SCRIPT_SHA256__"
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def render(context: dict[str, Any]) -> str:
    """Fill the template; the one inline script is allowed by its hash in the page's CSP."""
    import jinja2

    template_text = resources.files("pipeline.spotcheck").joinpath("template.html.j2").read_text("utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    page = env.from_string(template_text).render(**context)
    scripts = INLINE_SCRIPT.findall(page)
    if len(scripts) != 1:
        raise AssertionError(f"the template must hold exactly one inline script, found {len(scripts)}")
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode("utf-8")).digest()).decode("ascii")
    return page.replace(SCRIPT_HASH_PLACEHOLDER, f"sha256-{digest}")


def plan(
    root: str, sample: int, seed: int, max_leak_rate: float | None, confidence: float
) -> tuple[source.RunIndex, claims.SampleChoice, dict[str, Any]]:
    """The run index, the sample and the verdict metadata the page embeds — everything but the
    rendering (no audio is read)."""
    index = source.read_index(root)
    choice = claims.choose_sample(index.strata, sample, seed, max_leak_rate, confidence)
    report = index.report or {}
    meta = verdicts.page_meta(
        run_id=str(report.get("run_id", NOT_RECORDED)),
        config_hash=str(report.get("config_hash", NOT_RECORDED)),
        mode=choice.mode,
        seed=seed,
        size=choice.size,
        population=len(index.review_ids),
        review_ids=[index.review_ids[i] for i in choice.chosen],
        max_leak_rate=choice.claim.max_leak_rate if choice.claim else None,
        confidence=confidence,
    )
    return index, choice, meta


def spot_check(
    root: str,
    sample: int = 50,
    seed: int | None = None,
    max_leak_rate: float | None = None,
    confidence: float = 0.95,
) -> SpotCheck:
    """Sample, plot and render a run's reviewer output.

    With ``max_leak_rate`` the sample is sized for the claim "fewer than that rate of the reviewer
    clips leak PII" at ``confidence`` (see :mod:`pipeline.spotcheck.claims`) and ``sample`` is
    ignored; otherwise ``sample`` clips are drawn and the page states the claim they support."""
    import secrets

    if seed is None:
        seed = secrets.randbelow(2**31)  # recorded in the page so the same sample can be drawn again
    index, choice, meta = plan(root, sample, seed, max_leak_rate, confidence)
    clips = source.read_clips(root, meta["sample"]["review_ids"])
    views = [clip_view(c) for c in clips]
    checks = run_checks(index)
    problems = sum(1 for v in views if v["problems"])
    if problems:
        checks.append(Check("sampled clips consistent", "fail", f"{problems} of {len(views)} clips have problems"))
    elif views:
        checks.append(
            Check("sampled clips consistent", "pass", f"{len(views)} clips decoded, spans and intervals valid")
        )
    run = run_view(index, checks)
    context = {
        "run": run,
        "clips": views,
        "sample": {
            "requested": choice.size,
            "drawn": len(views),
            "seed": seed,
            "population": len(index.review_ids),
            "strata": sorted(Counter((v["locale"], bool(v["entity_types"])) for v in views).items()),
        },
        "claim": choice.view,
        "reproduce": (
            f"--max-leak-rate {max_leak_rate} --confidence {confidence}"
            if choice.mode == "claim"
            else f"--sample {choice.size}" + (f" --confidence {confidence}" if confidence != 0.95 else "")
        ),
        "verdict_kinds": verdicts.KINDS,
        "meta": meta,
        "generated_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ"),
        "not_recorded": NOT_RECORDED,
    }
    return SpotCheck(
        render(context), len(views), len(index.review_ids), seed, checks, problems, choice.view["statement"]
    )
