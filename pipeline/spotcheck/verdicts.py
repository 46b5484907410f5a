"""The verdicts a compliance checker gives in the spot-check page, and the file the page exports.

In:  for the page, the run's identity, the sample and the claim (:func:`page_meta`); for
     ``signoff``, the bytes of an exported verdict file (:func:`parse`).
Out: the metadata the page embeds (its script copies it into the export), and a validated
     :class:`VerdictFile`.
Fails: :class:`VerdictFileError` for anything that is not a well-formed verdict file. Messages
     name fields and counts, never a clip or a note.

The verdict file (JSON, ``format`` ``voiceanon-verdicts/1``)::

    {
      "format": "voiceanon-verdicts/1",
      "run_id": "20261128T044325Z-bccbdb6b",
      "config_hash": "370d7e0bfdce1a94",
      "sample": {"mode": "claim", "seed": 11, "size": 8, "population": 8,
                 "review_ids": ["<review id>", ...]},          # page order = draw order
      "claim": {"max_leak_rate": 0.01, "confidence": 0.95},
      "checker": "A. Checker",
      "exported_at": "2026-11-28T05:01:02.345Z",
      "verdicts": [{"review_id": "<review id>", "verdict": "clean", "note": ""}, ...]
    }

``sample.mode`` is ``claim`` when the page was sized from ``--max-leak-rate`` (``size`` is the
computed sample) or ``fixed`` for ``--sample N`` (``size`` is N, and ``claim.max_leak_rate`` is the
rate that sample supports, or null when it supports none). Clips without a verdict are simply
absent from ``verdicts``. Review ids are the reviewer-side keyed ids; notes are the checker's free
text and stay in this file and on the restricted side, never in logs, reports or the audit trail.

How verdicts count for the claim "fewer than p of the reviewer clips leak PII":

- ``clean``: checked, no leak.
- ``pii_transcript``, ``pii_audible``, ``voice_recognisable``: a leak. Any one fails the sign-off.
- ``unsure``: counted as a possible leak, so it fails the sign-off too. Leaving it out of the
  count would be valid only if unsure clips were no likelier to leak than the rest, and they are
  exactly the ones that might; resolve it (a second listen, a second checker) and export again.
- ``needs_escalation`` (distressing or criminal content): checked for leaks (not a leak kind) but
  routed to the restricted side. A clip that both leaks and needs escalation should get the leak
  verdict (leak findings are routed to the restricted side as well), with a note.
- no verdict: not checked; the bound is computed over the checked clips only, so skipping clips
  weakens it and can leave the claim unsupported ("too few clips checked").
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

FORMAT = "voiceanon-verdicts/1"
MAX_CHECKER_CHARS = 100
MAX_NOTE_CHARS = 4000


class Kind(NamedTuple):
    key: str
    label: str
    counts_as: str  # clean | leak | unsure | escalation


KINDS = (
    Kind("clean", "Clean", "clean"),
    Kind("pii_transcript", "PII visible in transcript", "leak"),
    Kind("pii_audible", "PII audible", "leak"),
    Kind("voice_recognisable", "Voice recognisable", "leak"),
    Kind("needs_escalation", "Needs escalation (distressing/criminal)", "escalation"),
    Kind("unsure", "Unsure", "unsure"),
)
KEYS = tuple(k.key for k in KINDS)
LEAKS = frozenset(k.key for k in KINDS if k.counts_as == "leak")
BLOCKING = LEAKS | {"unsure"}  # any of these fails the sign-off
RESTRICTED = BLOCKING | {"needs_escalation"}  # these name a clip on the restricted side


class VerdictFileError(ValueError):
    """Not a usable verdict file; the message names the problem, never a clip or a note."""


class Verdict(NamedTuple):
    kind: str
    note: str


class VerdictFile(NamedTuple):
    run_id: str
    config_hash: str
    mode: str  # claim | fixed
    seed: int
    size: int
    review_ids: tuple[str, ...]
    max_leak_rate: float | None
    confidence: float
    checker: str
    exported_at: str
    verdicts: dict[str, Verdict]  # review id -> verdict, clips with a verdict only


def storage_key(run_id: str, seed: int) -> str:
    """The page's localStorage key: progress is per run and per sample."""
    return f"voiceanon-spotcheck:{run_id}:{seed}"


def page_meta(
    *,
    run_id: str,
    config_hash: str,
    mode: str,
    seed: int,
    size: int,
    population: int,
    review_ids: list[str],
    max_leak_rate: float | None,
    confidence: float,
) -> dict[str, Any]:
    """What the page embeds for its script: everything the export names except the checker's input."""
    return {
        "format": FORMAT,
        "run_id": run_id,
        "config_hash": config_hash,
        "sample": {"mode": mode, "seed": seed, "size": size, "population": population, "review_ids": review_ids},
        "claim": {"max_leak_rate": max_leak_rate, "confidence": confidence},
        "blocking": sorted(BLOCKING),
        "storage_key": storage_key(run_id, seed),
    }


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise VerdictFileError(message)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse(data: bytes) -> VerdictFile:
    """A validated verdict file from its bytes (UTF-8 JSON)."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise VerdictFileError("not a UTF-8 JSON document") from None
    _require(isinstance(doc, dict), "not a JSON object")
    _require(doc.get("format") == FORMAT, f"format is not {FORMAT!r}")
    for name in ("run_id", "config_hash", "exported_at"):
        _require(isinstance(doc.get(name), str) and doc[name], f"{name} missing or not a string")
    checker = doc.get("checker")
    _require(isinstance(checker, str) and checker.strip(), "checker name missing")
    checker = " ".join(checker.split())
    _require(len(checker) <= MAX_CHECKER_CHARS, f"checker name longer than {MAX_CHECKER_CHARS} characters")

    sample = doc.get("sample")
    _require(isinstance(sample, dict), "sample missing")
    _require(sample.get("mode") in ("claim", "fixed"), "sample.mode is neither 'claim' nor 'fixed'")
    for name in ("seed", "size"):
        value = sample.get(name)
        _require(isinstance(value, int) and not isinstance(value, bool) and value >= 0, f"sample.{name} invalid")
    ids = sample.get("review_ids")
    _require(isinstance(ids, list) and all(isinstance(i, str) and i for i in ids), "sample.review_ids invalid")
    _require(len(set(ids)) == len(ids), "sample.review_ids repeats a clip")

    claim = doc.get("claim")
    _require(isinstance(claim, dict), "claim missing")
    rate, confidence = claim.get("max_leak_rate"), claim.get("confidence")
    _require(_number(confidence) and 0 < confidence < 1, "claim.confidence must be between 0 and 1")
    if sample["mode"] == "claim" or rate is not None:
        _require(_number(rate) and 0 < rate < 1, "claim.max_leak_rate must be between 0 and 1")

    entries = doc.get("verdicts")
    _require(isinstance(entries, list), "verdicts missing")
    verdicts: dict[str, Verdict] = {}
    in_sample = set(ids)
    outside = 0
    for entry in entries:
        _require(isinstance(entry, dict), "a verdict is not an object")
        review_id, kind, note = entry.get("review_id"), entry.get("verdict"), entry.get("note", "")
        _require(isinstance(review_id, str), "a verdict has no review_id")
        _require(kind in KEYS, f"a verdict is not one of {', '.join(KEYS)}")
        _require(isinstance(note, str | None), "a note is not a string")
        _require(len(note or "") <= MAX_NOTE_CHARS, f"a note is longer than {MAX_NOTE_CHARS} characters")
        _require(review_id not in verdicts, "two verdicts for the same clip")
        outside += review_id not in in_sample
        verdicts[review_id] = Verdict(kind, note or "")
    _require(not outside, f"{outside} verdict(s) name clips outside the sample")
    return VerdictFile(
        run_id=doc["run_id"],
        config_hash=doc["config_hash"],
        mode=sample["mode"],
        seed=sample["seed"],
        size=sample["size"],
        review_ids=tuple(ids),
        max_leak_rate=float(rate) if rate is not None else None,
        confidence=float(confidence),
        checker=checker,
        exported_at=doc["exported_at"],
        verdicts=verdicts,
    )
