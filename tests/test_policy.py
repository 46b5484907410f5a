"""Policy: every drop reason, escalation, keyed sampling, list joins and dedupe in a real pipeline."""

import datetime
import hashlib

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms.core.failures import ClipError
from transforms.core.keys import KeySource
from transforms.core.records import Clip
from transforms.policy import ApplyPolicy, PolicyConfig, compile_lexicon, decide, sample_unit

UTC = datetime.timezone.utc
AS_OF = datetime.datetime(2026, 11, 22, tzinfo=UTC)
KEY = b"s" * 32
KEYSOURCE = KeySource("ephemeral", "", hashlib.sha256(b"policy test key").hexdigest().encode())


def clip(clip_id="c1", account="A1", days_old=10, wake=True, transcript="alexa play music") -> Clip:
    return Clip(
        clip_id=clip_id,
        audio_uri="/x.wav",
        transcript=transcript,
        account_id=account,
        recorded_at=AS_OF - datetime.timedelta(days=days_old),
        wake_word_detected=wake,
    )


@pytest.mark.parametrize(
    "c, listed, config, reason",
    [
        (clip(), frozenset({"opt_out"}), PolicyConfig(), "opt_out"),
        (clip(), frozenset({"opt_out", "deletion_request"}), PolicyConfig(), "deletion_request"),
        (clip(days_old=181), frozenset(), PolicyConfig(), "retention"),
        (clip(days_old=29), frozenset(), PolicyConfig(retention_days=28), "retention"),
        (clip(wake=False), frozenset(), PolicyConfig(), "no_wake_word"),
        (clip(), frozenset(), PolicyConfig(), None),
        (clip(days_old=179), frozenset(), PolicyConfig(), None),
        (clip(wake=None), frozenset(), PolicyConfig(), None),
        (clip(wake=False), frozenset(), PolicyConfig(no_wake_word="keep"), None),
    ],
)
def test_when_a_rule_applies_then_the_clip_is_dropped_for_that_reason(c, listed, config, reason):
    assert decide(c, listed, config, AS_OF, KEY, None).drop_reason == reason


def test_when_no_wake_word_is_flagged_then_the_clip_goes_on_with_a_flag():
    decision = decide(clip(wake=False), frozenset(), PolicyConfig(no_wake_word="flag"), AS_OF, KEY, None)
    assert decision.drop_reason is None and decision.clip.flags == ("no_wake_word",)


def test_when_recorded_in_the_future_then_it_is_an_error_not_a_drop():
    with pytest.raises(ClipError) as info:
        decide(clip(days_old=-2), frozenset(), PolicyConfig(), AS_OF, KEY, None)
    assert info.value.code == "future_timestamp"


@pytest.mark.parametrize(
    "transcript, escalate",
    [
        ("alexa help me he is going to hurt me", True),
        ("please HELP   ME now", True),
        ("alexa call emergency services", True),
        ("alexa play helpme by the band", False),
        ("alexa what is the weather", False),
        ("skills to kill time", True),
    ],
)
def test_when_transcript_matches_the_lexicon_then_the_clip_is_escalated(transcript, escalate):
    lexicon = compile_lexicon(["help me", "emergency", "kill"])
    decision = decide(clip(transcript=transcript), frozenset(), PolicyConfig(), AS_OF, KEY, lexicon)
    assert decision.drop_reason is None and decision.clip.escalate is escalate


def test_sampling_is_deterministic_keyed_and_close_to_the_fraction():
    units = [sample_unit(KEY, f"clip-{i}") for i in range(4000)]
    assert units == [sample_unit(KEY, f"clip-{i}") for i in range(4000)]
    assert units != [sample_unit(b"t" * 32, f"clip-{i}") for i in range(4000)]
    kept = sum(u < 0.1 for u in units) / len(units)
    assert 0.085 < kept < 0.115
    config = PolicyConfig(sampling_fraction=0.1)
    dropped = [decide(clip(f"clip-{i}"), frozenset(), config, AS_OF, KEY, None).drop_reason for i in range(200)]
    assert set(dropped) == {None, "not_sampled"}


def test_apply_policy_joins_lists_dedupes_and_routes_failures(tmp_path):
    opt_out = tmp_path / "optout.txt"
    opt_out.write_text("# opted out\nA2\n\nA9\n")
    deletion = tmp_path / "deletion.txt"
    deletion.write_text("A3\n")
    clips = [
        clip("keep", "A1"),
        clip("opted", "A2"),
        clip("deleted", "A3"),
        clip("dup", "A4"),
        clip("dup", "A4", transcript="alexa stop"),
        clip("old", "A5", days_old=400),
        clip("future", "A6", days_old=-10),
        clip("escalate", "A7", transcript="alexa help me"),
    ]
    config = PolicyConfig(escalation_terms=("help me",))
    lists = {"opt_out": (str(opt_out),), "deletion_request": (str(deletion),)}
    with TestPipeline() as p:
        out = p | beam.Create(clips) | ApplyPolicy(config, lists, AS_OF, KEYSOURCE, 6)
        kept = out.main | "Kept" >> beam.Map(lambda c: (c.clip_id, c.escalate))
        assert_that(kept, equal_to([("keep", False), ("dup", False), ("escalate", True)]), label="main")
        codes = out.failures | "Codes" >> beam.Map(lambda f: (f.clip_id, f.error_type))
        assert_that(codes, equal_to([("dup", "duplicate_clip_id"), ("future", "future_timestamp")]), label="fail")


def test_when_lists_and_manifest_spell_an_id_differently_then_the_clip_is_still_dropped(tmp_path):
    """The join key is the canonical id on both sides: list formatting or manifest spelling never
    lets a listed account through."""
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbfacct-0000000001\n")
    (tmp_path / "utf16.txt").write_bytes("\ufeff  ACCT-0000000002\t# by phone\r\n".encode("utf-16-le"))
    (tmp_path / "extra.csv").write_text('name,account_id\n"Doe, Jane","ACCT-0000000003 "\n')
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "part-0").write_text("'ACCT-0000000004'\n")
    clips = [
        clip("bom", "ACCT-0000000001"),
        clip("utf16", "acct-0000000002"),
        clip("csv", "\u00a0ACCT-0000000003"),
        clip("glob", "ＡＣＣＴ-0000000004"),  # fullwidth letters in the manifest
        clip("zero-width", "ACCT-00000\u200b00001"),
        clip("look-alike", "\u0410CCT-0000000001"),  # Cyrillic А: a different id, kept
        clip("unlisted", "ACCT-0000000009"),
    ]
    lists = [tmp_path / "bom.txt", tmp_path / "utf16.txt", tmp_path / "extra.csv", f"{tmp_path}/parts/part-*"]
    with TestPipeline() as p:
        out = (
            p
            | beam.Create(clips)
            | ApplyPolicy(PolicyConfig(), {"opt_out": tuple(map(str, lists))}, AS_OF, KEYSOURCE, 6)
        )
        assert_that(out.main | beam.Map(lambda c: c.clip_id), equal_to(["look-alike", "unlisted"]))


def test_when_lists_are_case_sensitive_then_only_the_exact_case_matches(tmp_path):
    (tmp_path / "l.txt").write_text(" Acct-1 \n")
    clips = [clip("exact", "Acct-1"), clip("other-case", "ACCT-1")]
    config = PolicyConfig(list_ids_case_sensitive=True)
    with TestPipeline() as p:
        out = p | beam.Create(clips) | ApplyPolicy(config, {"opt_out": (str(tmp_path / "l.txt"),)}, AS_OF, KEYSOURCE, 6)
        assert_that(out.main | beam.Map(lambda c: c.clip_id), equal_to(["other-case"]))


def test_when_a_list_goes_bad_during_the_run_then_the_job_fails_instead_of_reading_part_of_it(tmp_path):
    """The launcher checks every list; a list that changed since is read by the same parser on the
    workers, and its first bad line stops the job (nothing is decided without the whole list)."""
    (tmp_path / "l.txt").write_text("ACCT-0000000001\nACCT-0000000002\tJane Doe\n")
    with pytest.raises(Exception) as info:
        with TestPipeline() as p:
            _ = (
                p
                | beam.Create([clip()])
                | ApplyPolicy(PolicyConfig(), {"opt_out": (str(tmp_path / "l.txt"),)}, AS_OF, KEYSOURCE, 6)
            )
    assert "line 2: not one valid account id" in str(info.value) and "Jane" not in str(info.value)


def _manifest_row(clip_id, transcript="alexa play music", first_name="Ann"):
    return {
        "clip_id": clip_id,
        "audio_uri": "audio/x.wav",
        "transcript": transcript,
        "account_id": "ACCT-0000000001",
        "first_name": first_name,
        "recorded_at": (AS_OF - datetime.timedelta(days=3)).isoformat(),
        "wake_word_detected": True,
    }


def _write_manifest(path, rows, fmt):
    import csv
    import json

    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif fmt == "csv":
        with open(path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=3)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_when_manifest_rows_repeat_a_clip_id_then_the_lowest_fingerprint_then_the_first_row_goes_on(tmp_path, fmt):
    """The job's own wiring (ReadClips, ReadClipKeys, the repeated ids' rows ranked by a third read,
    ApplyPolicy with keys and ranks): copies are told apart by their manifest position, so exactly
    one of identical rows goes on."""
    from transforms.core.dedupe import clip_fingerprint
    from transforms.manifest import ReadClipKeys, ReadClips, parse_clip

    def fingerprint(row):
        return clip_fingerprint(parse_clip(row, str(tmp_path)))

    low, high = sorted(
        ["alexa stop", "alexa play jazz", "alexa pause"], key=lambda t: fingerprint(_manifest_row("d", t))
    )[:2]
    rows = [
        _manifest_row("same"),
        _manifest_row("diff", transcript=high),  # first in the file, but the higher fingerprint
        _manifest_row("same"),
        _manifest_row("tie", first_name="Ann"),  # same fingerprint as the next: the first row wins
        _manifest_row("diff", transcript=low),
        _manifest_row("tie", first_name="Bob"),
        _manifest_row("same"),
        _manifest_row("solo"),
    ]
    path = tmp_path / f"m.{fmt}"
    _write_manifest(path, rows, fmt)
    with TestPipeline() as p:
        clips = p | ReadClips(str(path))
        keys = p | "Keys" >> ReadClipKeys(str(path))
        ranks = p | "Ranks" >> ReadClipKeys(str(path), ranked=True, repeated_in=keys)
        out = clips.main | ApplyPolicy(PolicyConfig(), {}, AS_OF, KEYSOURCE, 6, keys=keys, ranks=ranks)
        kept = out.main | "Kept" >> beam.Map(lambda c: (c.clip_id, c.transcript, c.first_name))
        expected = [
            ("same", "alexa play music", "Ann"),
            ("diff", low, "Ann"),
            ("tie", "alexa play music", "Ann"),
            ("solo", "alexa play music", "Ann"),
        ]
        assert_that(kept, equal_to(expected), label="main")
        codes = out.failures | "Codes" >> beam.Map(lambda f: (f.clip_id, f.stage, f.error_type))
        duplicates = [("same", "policy", "duplicate_clip_id")] * 2 + [
            ("diff", "policy", "duplicate_clip_id"),
            ("tie", "policy", "duplicate_clip_id"),
        ]
        assert_that(codes, equal_to(duplicates), label="failures")


def test_when_the_ranks_hold_an_id_with_one_row_then_its_clip_goes_on():
    """The ranked rows are those whose id hash was seen twice: an id that only shares its hash with
    another (a collision) has one row there, is not repeated, and its clip goes on."""
    keys = [("a", "ACCT-0000000001"), ("b", "ACCT-0000000001")]
    with TestPipeline() as p:
        ranks = p | "Ranks" >> beam.Create([("a", "ACCT-0000000001", b"\x01" * 40 + b"00000@000")])
        out = (
            p
            | beam.Create([clip("a"), clip("b")])
            | ApplyPolicy(PolicyConfig(), {}, AS_OF, KEYSOURCE, 6, keys=p | "Keys" >> beam.Create(keys), ranks=ranks)
        )
        assert_that(out.main | "Kept" >> beam.Map(lambda c: c.clip_id), equal_to(["a", "b"]), label="main")
        assert_that(out.failures, equal_to([]), label="failures")


def test_when_copies_cannot_be_told_apart_then_none_goes_on():
    """Clips built without their manifest position (not read by ReadClips) and equal in every
    fingerprinted field: no copy can be named the survivor, so every copy is quarantined."""
    with TestPipeline() as p:
        out = (
            p
            | beam.Create([clip("twin"), clip("twin"), clip("one")])
            | ApplyPolicy(PolicyConfig(), {}, AS_OF, KEYSOURCE, 6)
        )
        assert_that(out.main | "Kept" >> beam.Map(lambda c: c.clip_id), equal_to(["one"]), label="main")
        codes = out.failures | "Codes" >> beam.Map(lambda f: (f.clip_id, f.error_type))
        assert_that(codes, equal_to([("twin", "duplicate_clip_id")] * 2), label="failures")


# ------------------------------------------------------------------ issue 22: listed accounts without a record per clip


def _old_join(keys, lists: dict, case_sensitive: bool = False) -> list:
    """The side input as the lists' CoGroupByKey with every clip's account computed it (in plain
    Python): {canonical account: sorted reasons} for listed accounts that have clips."""
    from transforms.core.ids import canonical_id
    from transforms.policy_lists import list_entries, list_files

    listed: dict[str, set] = {}
    for reason, paths in lists.items():
        for path in paths:
            for file in list_files(path):
                for account, why in list_entries((reason, file), case_sensitive, "account_id"):
                    listed.setdefault(account, set()).add(why)
    accounts = {canonical_id(key[1], case_sensitive) for key in keys}
    return sorted((account, sorted(listed[account])) for account in accounts & set(listed))


def _listed_lists(tmp_path) -> dict:
    (tmp_path / "optout.txt").write_text("acct-0000000001\nACCT-0000000002\nACCT-0000000077\n")
    (tmp_path / "deletion.txt").write_text("Acct-0000000001\nacct-0000000099\n")
    return {"opt_out": (str(tmp_path / "optout.txt"),), "deletion_request": (str(tmp_path / "deletion.txt"),)}


LISTED_KEYS = [
    ("c1", "ACCT-0000000001"),  # on both lists, spelled in another case
    ("c2", "acct-0000000001"),
    ("c3", "ACCT-0000000002"),
    ("c4", "ACCT-0000000003"),  # not listed; 77 and 99 are listed and have no clips
    ("c5", "ACCT-0000000004"),
]


def test_when_lists_are_configured_then_the_listed_accounts_are_those_the_old_join_gave(tmp_path):
    lists = _listed_lists(tmp_path)
    expected = [("acct-0000000001", ["deletion_request", "opt_out"]), ("acct-0000000002", ["opt_out"])]
    assert _old_join(LISTED_KEYS, lists) == expected
    policy = ApplyPolicy(PolicyConfig(), lists, AS_OF, KEYSOURCE, 6)
    with TestPipeline() as p:
        assert_that(policy._listed_accounts(p | beam.Create(LISTED_KEYS)), equal_to(expected))


@pytest.mark.parametrize("collide", ["one", "all"])
def test_when_an_unlisted_account_shares_a_listed_hash_then_the_exact_join_keeps_its_clip(
    tmp_path, monkeypatch, collide
):
    """The hash set only picks the accounts to join: an unlisted account whose 64-bit hash equals a
    listed one's (forced here) reaches the join, finds no list entry, and its clip goes on."""
    import transforms.policy as policy_module
    from transforms.core.dedupe import id_hash

    def colliding(value: str) -> int:
        if collide == "all":
            return 0
        return id_hash("acct-0000000002" if value == "acct-0000000003" else value)

    import transforms.core.dedupe as dedupe_module

    # Both sides hash alike: the clips' accounts (the policy) and the list ids (the combine).
    monkeypatch.setattr(policy_module, "id_hash", colliding)
    monkeypatch.setattr(dedupe_module, "id_hash", colliding)
    lists = _listed_lists(tmp_path)
    expected = [("acct-0000000001", ["deletion_request", "opt_out"]), ("acct-0000000002", ["opt_out"])]
    with TestPipeline() as p:
        listed = ApplyPolicy(PolicyConfig(), lists, AS_OF, KEYSOURCE, 6)._listed_accounts(p | beam.Create(LISTED_KEYS))
        assert_that(listed, equal_to(expected))
    clips = [clip(clip_id, account) for clip_id, account in LISTED_KEYS]
    with TestPipeline() as p:
        out = p | beam.Create(clips) | ApplyPolicy(PolicyConfig(), lists, AS_OF, KEYSOURCE, 6)
        assert_that(out.main | beam.Map(lambda c: c.clip_id), equal_to(["c4", "c5"]))


def test_when_lists_are_case_sensitive_then_the_listed_accounts_keep_their_case(tmp_path):
    lists = _listed_lists(tmp_path)
    config = PolicyConfig(list_ids_case_sensitive=True)
    expected = [("ACCT-0000000002", ["opt_out"]), ("acct-0000000001", ["opt_out"])]
    assert _old_join(LISTED_KEYS, lists, case_sensitive=True) == expected
    with TestPipeline() as p:
        listed = ApplyPolicy(config, lists, AS_OF, KEYSOURCE, 6)._listed_accounts(p | beam.Create(LISTED_KEYS))
        assert_that(listed, equal_to(expected))


def test_when_the_lists_are_empty_then_no_account_is_listed(tmp_path):
    (tmp_path / "optout.txt").write_text("# nobody yet\n")
    lists = {"opt_out": (str(tmp_path / "optout.txt"),)}
    with TestPipeline() as p:
        listed = ApplyPolicy(PolicyConfig(), lists, AS_OF, KEYSOURCE, 6)._listed_accounts(p | beam.Create(LISTED_KEYS))
        assert_that(listed, equal_to([]))
