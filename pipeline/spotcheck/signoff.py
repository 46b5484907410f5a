"""Sign-off: check a verdict file against its run, bound the leak rate, record the result.

In:  a run's output directory (reviewer shards and ``run_report.json``) and a verdict file
     exported from its spot-check page (:mod:`pipeline.spotcheck.verdicts`).
Out: ``signoff.json`` beside the run report (written atomically), one line in the audit trail
     (:mod:`pipeline.audit`), and — when any clip was found leaking, unsure or in need of
     escalation — a restricted file ``escalation/signoff/findings-<run id>-<time>.jsonl`` naming
     those clips (review id, verdict, note). Nothing that names a clip goes anywhere else: not
     ``signoff.json``, not the audit trail, not stdout, not a log.
Fails: :class:`SignoffError` (the CLI exits 2) when the verdict file is malformed or does not
     belong to the run: another run id or config hash, or a sample other than the one the run's
     index and the file's seed and claim give — the sample is drawn again here, never taken from
     the file.

The claim is supported (exit 0) only when all of these hold: no checked clip is a leak or unsure;
the checked clips, with none leaking, bound the leak rate below the claimed rate (worst case over
strata, see :mod:`pipeline.spotcheck.claims`); and the run's own leak verification passed. For
information the record also gives the Clopper-Pearson and hypergeometric bounds.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import os
import posixpath
import secrets
from collections import Counter
from typing import Any, NamedTuple

from pipeline import audit
from pipeline.layout import ESCALATION_DIR, SIGNOFF_FILE, SIGNOFF_FINDINGS_DIR
from pipeline.spotcheck import claims, sampling, source, verdicts

SIGNOFF_FORMAT = "voiceanon-signoff/1"


class SignoffError(RuntimeError):
    """The verdict file or the run is not fit for a sign-off; the message names no clip."""


class Signoff(NamedTuple):
    record: dict[str, Any]  # what signoff.json holds
    restricted: list[dict[str, Any]]  # findings naming a clip: restricted side only
    signoff_path: str = ""
    restricted_path: str | None = None
    audit_path: str = ""

    @property
    def supported(self) -> bool:
        return bool(self.record["supported"])


def _read_bytes(path: str) -> bytes:
    from apache_beam.io.filesystems import FileSystems

    try:
        with FileSystems.open(path, compression_type="uncompressed") as handle:
            return handle.read()
    except Exception as exc:  # noqa: BLE001 — any filesystem error means no verdict file
        raise SignoffError(f"cannot read the verdict file ({type(exc).__name__})") from None


def _same_sample(index: source.RunIndex, file: verdicts.VerdictFile) -> tuple[list[int], claims.Claim | None]:
    """The sample drawn again from the run and the file's seed and claim; raises unless it is the file's."""
    try:
        choice = claims.choose_sample(index.strata, file.size, file.seed, file.max_leak_rate if file.mode == "claim" else None,
                               file.confidence)  # fmt: skip
    except ValueError as exc:
        raise SignoffError(f"the verdict file's claim is invalid: {exc}") from None
    if file.mode == "claim" and choice.size != file.size:
        raise SignoffError(f"the claim needs a sample of {choice.size} clips, the verdict file says {file.size}")
    ids = tuple(index.review_ids[i] for i in choice.chosen)
    if ids != file.review_ids:
        common = len(set(ids) & set(file.review_ids))
        raise SignoffError(
            f"the verdict file's sample is not the run's sample for seed {file.seed}: {len(file.review_ids)} clips "
            f"in the file, {len(ids)} drawn again, {common} in common"
        )
    if file.mode == "fixed":
        expected = choice.claim.max_leak_rate if choice.claim else None
        if (expected is None) != (file.max_leak_rate is None) or (
            expected is not None and not math.isclose(expected, file.max_leak_rate, rel_tol=1e-12)
        ):
            raise SignoffError("the verdict file's claim is not the one its sample supports")
    return list(choice.chosen), choice.claim


def evaluate(root: str, data: bytes, signed_at: str | None = None) -> Signoff:
    """Validate ``data`` (a verdict file) against the run under ``root`` and compute the result."""
    try:
        file = verdicts.parse(data)
    except verdicts.VerdictFileError as exc:
        raise SignoffError(f"invalid verdict file: {exc}") from None
    try:
        index = source.read_index(root)
    except source.SpotCheckError as exc:
        raise SignoffError(str(exc)) from None
    report = index.report
    if report is None:
        raise SignoffError(f"the run has no readable report: {index.report_problem}")
    if file.run_id != report.get("run_id") or set(index.run_ids) != {file.run_id}:
        raise SignoffError("the verdict file is for another run (run id differs from the run report or shards)")
    if file.config_hash != report.get("config_hash") or set(index.config_hashes) != {file.config_hash}:
        raise SignoffError("the verdict file names another config hash than the run")
    chosen, claim = _same_sample(index, file)

    keys = index.strata
    population = len(keys)
    position = {index.review_ids[i]: i for i in chosen}
    kinds = Counter(v.kind for v in file.verdicts.values())
    counts = {k: kinds.get(k, 0) for k in verdicts.KEYS}
    checked = len(file.verdicts)
    leaks = sum(counts[k] for k in verdicts.LEAKS)
    unsure = counts["unsure"]
    blocking = leaks + unsure
    checked_idx = [position[r] for r in file.verdicts]
    tally = sampling.stratum_tally(keys, checked_idx)
    confidence = file.confidence
    upper_count = claims.stratified_upper_count([s for s, _ in tally], [c for _, c in tally], confidence)
    bound = {
        "method": "stratified worst case, zero findings (exact)" if not blocking else "hypergeometric (exact)",
        "upper_leak_rate": (
            upper_count / population
            if not blocking
            else claims.hypergeometric_upper(blocking, checked, population, confidence)
        )
        if population
        else 0.0,
        "hypergeometric_upper": claims.hypergeometric_upper(blocking, checked, population, confidence)
        if population
        else 0.0,
        "clopper_pearson_upper": claims.clopper_pearson_upper(blocking, checked, confidence) if checked else 1.0,
    }
    leak_check = report.get("leak_check")
    run_leak_passed = leak_check.get("passed") if isinstance(leak_check, dict) else None

    rate = claim.max_leak_rate if claim else None
    if rate is None:
        supported, reason = False, "the sample supports no claim: too few clips"
    elif blocking:
        supported = False
        reason = f"{leaks} leak(s) and {unsure} unsure verdict(s) among {checked} checked clips"
    elif population and upper_count >= claims.min_leaking(rate, population):
        supported = False
        reason = (
            f"too few clips checked: {checked} of {len(chosen)} sampled clips have a verdict; with none leaking "
            f"they bound the leak rate at {claims.percent(upper_count / population)}, "
            f"not below {claims.percent(rate)}"
        )
    elif run_leak_passed is not True:
        supported = False
        reason = "the run's own leak verification " + ("failed" if run_leak_passed is False else "was not recorded")
    else:
        supported = True
        reason = (
            f"no leak in {checked} checked clips: fewer than {claims.percent(rate)} of the {population} "
            f"reviewer clips leak PII, at {claims.percent(confidence)} confidence"
        )
    signed_at = signed_at or audit.now_iso()
    record = {
        "format": SIGNOFF_FORMAT,
        "signed_at": signed_at,
        "run_id": file.run_id,
        "config_hash": file.config_hash,
        "pipeline_version": report.get("pipeline_version"),
        "checker": file.checker,
        "verdicts_exported_at": file.exported_at,
        "verdict_sha256": "sha256:" + hashlib.sha256(data).hexdigest(),
        "claim": {"max_leak_rate": rate, "confidence": confidence},
        "sample": {
            "mode": file.mode,
            "seed": file.seed,
            "size": file.size,
            "population": population,
            "drawn": len(chosen),
        },
        "checked": checked,
        "not_checked": len(chosen) - checked,
        "verdicts": counts,
        "leaks": leaks,
        "unsure": unsure,
        "escalations": counts["needs_escalation"],
        "bound": bound,
        "run_leak_check_passed": run_leak_passed,
        "supported": supported,
        "reason": reason,
    }
    restricted = [
        {
            "run_id": file.run_id,
            "signed_at": signed_at,
            "checker": file.checker,
            "review_id": review_id,
            "verdict": verdict.kind,
            "note": verdict.note,
        }
        for review_id, verdict in file.verdicts.items()
        if verdict.kind in verdicts.RESTRICTED
    ]
    return Signoff(record, restricted)


def write_atomic(path: str, data: bytes) -> None:
    """Local: a temporary file renamed over ``path``. Object stores: one object upload, which
    appears whole or not at all."""
    if "://" in path:
        from apache_beam.io.filesystems import FileSystems

        with FileSystems.create(path) as handle:
            handle.write(data)
        return
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    partial = f"{path}.{secrets.token_hex(4)}.partial"
    with open(partial, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def _stamp(iso: str) -> str:
    return datetime.datetime.fromisoformat(iso).strftime("%Y%m%dT%H%M%S%fZ")


def sign_off(root: str, verdict_path: str, audit_path: str | None = None) -> Signoff:
    """Evaluate, then write the restricted findings, ``signoff.json`` and the audit line, in that order."""
    root = root.rstrip("/")
    result = evaluate(root, _read_bytes(verdict_path))
    record = result.record
    restricted_path = None
    if result.restricted:
        restricted_path = posixpath.join(
            root,
            ESCALATION_DIR,
            SIGNOFF_FINDINGS_DIR,
            f"findings-{record['run_id']}-{_stamp(record['signed_at'])}.jsonl",
        )
        lines = "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in result.restricted)
        write_atomic(restricted_path, lines.encode("utf-8"))
    record["restricted_findings"] = len(result.restricted)
    signoff_path = posixpath.join(root, SIGNOFF_FILE)
    write_atomic(signoff_path, (json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode())
    trail = audit_path or audit.default_audit_path(root)
    audit.append(trail, audit.signoff_record(record))
    return result._replace(signoff_path=signoff_path, restricted_path=restricted_path, audit_path=trail)
