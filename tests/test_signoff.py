"""Sign-off over a synthetic run: the verdict file is checked against the run (never trusted),
verdicts count as documented, findings that name a clip reach only the restricted side, and the
page embeds exactly the sample and claim the sign-off draws again.

The real job, the real page in Chromium and the audit trail after two runs are covered in
``test_spotcheck_browser.py``.
"""

from __future__ import annotations

import json
import re

import pytest

from pipeline import audit
from pipeline.cli import main
from pipeline.spotcheck import signoff, verdicts
from pipeline.spotcheck.build import plan, spot_check
from tests.conftest import run_cli
from tests.test_spotcheck import FULL_REPORT, LAYOUT, write_run

CLAIM = {"max_leak_rate": 0.2, "confidence": 0.9}
SEED = 5


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("signoff") / "run"
    write_run(root, FULL_REPORT)
    return root


@pytest.fixture(scope="module")
def page(run_dir):
    """The rendered page, with a stub for the spectrograms (``test_spotcheck.py`` checks the real ones)."""
    from pipeline.spotcheck import plots

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plots, "spectrogram_png", lambda samples, rate, muted, title="": b"\x89PNG stub")
        return spot_check(str(run_dir), seed=SEED, **CLAIM)


@pytest.fixture(scope="module")
def meta(run_dir):
    """What the page embeds for its script, without rendering the page (the first test checks it is)."""
    return plan(str(run_dir), 50, SEED, CLAIM["max_leak_rate"], CLAIM["confidence"])[2]


def page_meta(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="spotcheck-meta">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


def verdict_file(meta: dict, kinds: dict[int, str] | None = None, skip=(), **overrides) -> bytes:
    """A verdict file as the page exports it: every sampled clip clean unless ``kinds`` says otherwise."""
    ids = meta["sample"]["review_ids"]
    doc = {key: meta[key] for key in ("format", "run_id", "config_hash", "sample", "claim")}
    doc.update(
        checker="Test Checker",
        exported_at="2026-11-28T05:00:00.000Z",
        verdicts=[
            {"review_id": rid, "verdict": (kinds or {}).get(i, "clean"), "note": f"note {i}"}
            for i, rid in enumerate(ids)
            if i not in skip
        ],
    )
    doc.update(overrides)
    return json.dumps(doc).encode()


def test_the_page_embeds_the_sample_and_claim_signoff_draws_again(page, run_dir, meta):
    assert page_meta(page.html) == meta
    assert meta["run_id"] == FULL_REPORT["run_id"] and meta["config_hash"] == FULL_REPORT["config_hash"]
    assert meta["claim"] == CLAIM
    assert meta["sample"]["mode"] == "claim" and meta["sample"]["seed"] == SEED
    articles = re.findall(r'<article class="clip[^"]*" id="clip-\d+" data-review-id="([^"]+)"', page.html)
    assert meta["sample"]["review_ids"] == articles
    # 24 clips in 5 strata, 20 % at 90 %: 11 for an unlimited population, 9 for a simple random sample of
    # 24, 10 for the stratified draw's worst case.
    assert meta["sample"]["size"] == len(articles) == 10
    assert "fewer than 20 % of the 24 reviewer clips" in page.claim
    assert "would need 9, an unlimited population 11" in page.claim
    assert signoff.evaluate(str(run_dir), verdict_file(meta)).supported


def test_every_clip_has_labelled_keyboard_usable_verdicts_and_a_note(page):
    clips = re.findall(r"<article .*?</article>", page.html, re.S)
    assert len(clips) == 10
    for clip in clips:
        radios = re.findall(r'<input type="radio"[^>]*id="([^"]+)"[^>]*value="([^"]+)"', clip)
        assert [value for _, value in radios] == list(verdicts.KEYS)
        for radio_id, _ in radios:
            assert re.search(f'<label class="verdict-choice [a-z]+" for="{radio_id}">', clip), radio_id
        note = re.search(r'<textarea class="verdict-note" id="([^"]+)"', clip).group(1)
        assert f'<label for="{note}">' in clip
        assert "<legend>Verdict for clip" in clip
    assert '<label for="checker-name">' in page.html


def test_when_every_sampled_clip_is_clean_then_the_claim_is_supported(meta, run_dir):
    result = signoff.evaluate(str(run_dir), verdict_file(meta))
    record = result.record
    assert result.supported and record["checked"] == 10 and record["verdicts"]["clean"] == 10
    assert record["bound"]["upper_leak_rate"] < CLAIM["max_leak_rate"]
    assert record["bound"]["clopper_pearson_upper"] > record["bound"]["upper_leak_rate"]  # finite population helps
    assert result.restricted == []


@pytest.mark.parametrize(
    "kinds, leaks, unsure",
    [
        ({3: "pii_audible"}, 1, 0),
        ({0: "pii_transcript", 1: "voice_recognisable"}, 2, 0),
        ({4: "unsure"}, 0, 1),
    ],
)
def test_when_a_clip_leaks_or_is_unsure_then_the_claim_is_not_supported(meta, run_dir, kinds, leaks, unsure):
    result = signoff.evaluate(str(run_dir), verdict_file(meta, kinds))
    assert not result.supported
    assert (result.record["leaks"], result.record["unsure"]) == (leaks, unsure)
    named = {meta["sample"]["review_ids"][i] for i in kinds}
    assert {r["review_id"] for r in result.restricted} == named
    assert {r["note"] for r in result.restricted} == {f"note {i}" for i in kinds}
    dumped = json.dumps(result.record)
    assert not any(rid in dumped for rid in meta["sample"]["review_ids"]), "signoff.json names a clip"
    assert "note " not in dumped


def test_when_a_clip_needs_escalation_then_it_is_routed_but_counts_as_checked(meta, run_dir):
    result = signoff.evaluate(str(run_dir), verdict_file(meta, {2: "needs_escalation"}))
    assert result.supported and result.record["escalations"] == 1
    assert [r["review_id"] for r in result.restricted] == [meta["sample"]["review_ids"][2]]


def test_when_clips_are_skipped_then_too_few_were_checked(meta, run_dir):
    result = signoff.evaluate(str(run_dir), verdict_file(meta, skip=range(5)))
    assert not result.supported
    assert result.record["checked"] == 5 and result.record["not_checked"] == 5
    assert result.record["reason"].startswith("too few clips checked")


def test_when_the_run_leak_check_failed_then_the_claim_is_not_supported(tmp_path):
    write_run(tmp_path / "run", {**FULL_REPORT, "leak_check": {"passed": False, "leaks": 1}})
    meta = plan(str(tmp_path / "run"), 50, SEED, CLAIM["max_leak_rate"], CLAIM["confidence"])[2]
    result = signoff.evaluate(str(tmp_path / "run"), verdict_file(meta))
    assert not result.supported and "leak verification failed" in result.record["reason"]


def _other_sample(meta):
    """The same sample with its first clip swapped for one that was not drawn (verdicts follow)."""
    others = [f"rev_{i:04d}" for i in range(len(LAYOUT))]
    swapped = [r for r in others if r not in meta["sample"]["review_ids"]][:1] + meta["sample"]["review_ids"][1:]
    return {**meta, "sample": {**meta["sample"], "review_ids": swapped}}


@pytest.mark.parametrize(
    "tamper, message",
    [
        (lambda m: (m, {"run_id": "20260101T000000Z-other"}), "another run"),
        (lambda m: (m, {"config_hash": "0000000000000000"}), "config hash"),
        (lambda m: (m, {"sample": {**m["sample"], "seed": SEED + 1}}), "not the run's sample"),
        (lambda m: (_other_sample(m), {}), "not the run's sample"),
        (lambda m: (m, {"sample": {**m["sample"], "size": 3}}), "needs a sample of 10"),
        (lambda m: (m, {"claim": {"max_leak_rate": 0.5, "confidence": 0.9}}), "needs a sample"),
        (lambda m: (m, {"format": "something-else"}), "format"),
        (lambda m: (m, {"checker": "  "}), "checker"),
        (lambda m: (m, {"verdicts": [{"review_id": "rev_9999", "verdict": "clean"}]}), "outside the sample"),
        (lambda m: (m, {"verdicts": [{"review_id": m["sample"]["review_ids"][0], "verdict": "ok"}]}), "not one of"),
    ],
)
def test_when_the_verdict_file_does_not_match_the_run_then_it_is_rejected(meta, run_dir, tamper, message):
    tampered, overrides = tamper(meta)
    with pytest.raises(signoff.SignoffError, match=message):
        signoff.evaluate(str(run_dir), verdict_file(tampered, **overrides))


def test_when_the_sample_was_fixed_then_signoff_checks_the_claim_it_supports(run_dir):
    meta = plan(str(run_dir), 20, SEED, None, 0.95)[2]
    assert meta["sample"]["mode"] == "fixed" and len(meta["sample"]["review_ids"]) == 20
    result = signoff.evaluate(str(run_dir), verdict_file(meta))
    assert result.supported and result.record["claim"]["max_leak_rate"] == meta["claim"]["max_leak_rate"]
    lax = {**meta["claim"], "max_leak_rate": 0.5}
    with pytest.raises(signoff.SignoffError, match="not the one its sample supports"):
        signoff.evaluate(str(run_dir), verdict_file(meta, claim=lax))


def test_cli_writes_signoff_restricted_findings_and_audit_but_prints_no_clip(tmp_path, capsys):
    write_run(tmp_path / "run", FULL_REPORT)
    meta = plan(str(tmp_path / "run"), 50, SEED, CLAIM["max_leak_rate"], CLAIM["confidence"])[2]
    ids = meta["sample"]["review_ids"]
    clean = tmp_path / "clean.json"
    clean.write_bytes(verdict_file(meta))
    leak = tmp_path / "leak.json"
    leak.write_bytes(verdict_file(meta, {1: "pii_audible", 6: "needs_escalation"}))
    bad = tmp_path / "bad.json"
    bad.write_bytes(verdict_file(meta, run_id="20260101T000000Z-other"))

    assert main(["signoff", "--output", str(tmp_path / "run"), "--verdicts", str(clean)]) == 0
    ok = capsys.readouterr()
    assert "SUPPORTED" in ok.out and "fewer than 20 %" in ok.out
    report = json.loads((tmp_path / "run" / "signoff.json").read_text())
    assert report["supported"] is True and report["run_id"] == FULL_REPORT["run_id"]

    failed = run_cli("signoff", "--output", str(tmp_path / "run"), "--verdicts", str(leak))
    assert failed.returncode == 1, failed.stderr[-2000:]
    assert "NOT SUPPORTED" in failed.stdout and "2 clip(s) routed to the restricted side" in failed.stdout
    for stream in (failed.stdout, failed.stderr, ok.out, ok.err):
        assert not any(rid in stream for rid in ids), "a clip was named outside the restricted side"
    (restricted,) = (tmp_path / "run" / "escalation" / "signoff").glob("findings-*.jsonl")
    lines = [json.loads(line) for line in restricted.read_text().splitlines()]
    assert {(r["review_id"], r["verdict"]) for r in lines} == {(ids[1], "pii_audible"), (ids[6], "needs_escalation")}
    assert json.loads((tmp_path / "run" / "signoff.json").read_text())["supported"] is False

    assert main(["signoff", "--output", str(tmp_path / "run"), "--verdicts", str(bad)]) == 2
    assert "another run" in capsys.readouterr().err

    records = audit.read(audit.default_audit_path(str(tmp_path / "run")))
    assert [(r["kind"], r["supported"]) for r in records] == [("signoff", True), ("signoff", False)]
    trail = (tmp_path / "run" / "audit.jsonl").read_text()
    assert not any(rid in trail for rid in ids) and "note " not in trail
