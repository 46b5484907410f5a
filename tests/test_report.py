"""Run report reconciliation: a vanished clip fails the run."""

import pytest

from pipeline.report import ReconciliationError, build_report, format_table, reconcile
from transforms.core.records import RunMeta

META = RunMeta("r", "c", "v")


def counters(rows=5, encoded=3, quarantined=2):
    return {
        "manifest": {"rows": rows, "succeeded": rows, "failed": 0},
        "encode": {"received": encoded, "succeeded": encoded, "failed": 0},
        "quarantine": {"decode": quarantined, "total": quarantined},
    }


def written(reviewer=3, quarantine=2, escalated=0):
    return {
        "reviewer_rows": reviewer,
        "reviewer_files": 1,
        "escalation_rows": escalated,
        "escalation_files": 1,
        "quarantine_rows": quarantine,
        "quarantine_files": 1,
    }


def test_when_policy_drops_and_escalations_are_counted_then_they_reconcile():
    c = counters(rows=9)
    c["policy"] = {"dropped_opt_out": 2, "dropped_retention": 1}
    c["encode_escalation"] = {"received": 1, "succeeded": 1, "failed": 0}
    report = build_report(c, written(escalated=1), META, {})
    reconcile(report)
    assert report["outcomes"]["policy_dropped"] == 3
    assert report["policy_dropped_by_reason"] == {"opt_out": 2, "retention": 1}


def test_when_every_clip_is_accounted_for_then_it_reconciles():
    report = build_report(counters(), written(), META, {})
    reconcile(report)
    assert report["reconciled"] is True
    assert "reconciled: yes" in format_table(report)


@pytest.mark.parametrize(
    "c, w, message",
    [
        (counters(rows=6), written(), "clips in"),
        (counters(encoded=4), written(), "reviewer_rows counted"),
        (counters(quarantined=1), written(), "failures counted"),
        (counters(), written(reviewer=2), "clips in"),
        (counters(), written(escalated=1), "escalated counted"),
    ],
)
def test_when_counts_disagree_then_reconcile_raises(c, w, message):
    report = build_report(c, w, META, {})
    with pytest.raises(ReconciliationError, match=message):
        reconcile(report)
    assert report["reconciled"] is False


def test_when_own_names_are_redacted_as_ordinary_words_then_the_report_counts_them_apart():
    c = counters()
    c["transcript"] = {"own_name_as_word": 2, "entity_PERSON": 4}
    c["manifest"]["locale_invalid"] = 1
    report = build_report(c, written(), META, {})
    assert (
        report["locale_invalid"] == 1
        and report["own_name_as_word"] == 2
        and report["entities_by_type"] == {"PERSON": 4}
    )
    assert "ordinary word: 2" in format_table({**report, "reconciled": True})


@pytest.mark.parametrize(
    "quarantined, ceiling, fails", [(2, 0.5, False), (3, 0.5, True), (5, 1.0, False), (1, 0.0, True)]
)
def test_when_too_many_clips_are_quarantined_then_the_ceiling_fails_the_run(quarantined, ceiling, fails):
    from pipeline.report import check_quarantine_share

    report = build_report(
        counters(rows=5, encoded=5 - quarantined, quarantined=quarantined),
        written(reviewer=5 - quarantined, quarantine=quarantined),
        META,
        {},
    )
    assert (check_quarantine_share(report, ceiling) is not None) is fails
