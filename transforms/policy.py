"""Policy stage: ``ApplyPolicy`` — before any audio is decoded, so dropped clips cost nothing.

In:  validated clips; opt-out and deletion-request lists (files or globs on any Beam filesystem,
     in the strict format of :mod:`transforms.policy_lists`; millions of rows are fine: they are
     joined with the clips by key, never loaded into memory). Ids are matched in their canonical
     form (:func:`transforms.core.ids.canonical_id`) on both sides, so a listed customer is
     found however the list or the manifest spelled the id.
Out: the clips that may be reviewed, with ``flags`` (e.g. ``no_wake_word``) and ``escalate``
     (transcript matches the escalation lexicon: route to the restricted escalation output).
     Dropped clips are counted per reason (``policy/dropped_<reason>``) and go nowhere else.
Fails: a duplicate ``clip_id`` (all but one copy), a timestamp in the future beyond the
     tolerance, or a clip whose epoch key is gone becomes a quarantine record (stage ``policy``).
     A list line that is not one valid id fails the whole job (``ListFormatError``); the launcher
     checks every list before the run, so this happens only if a list changes during the run.

Drop reasons, checked in this order (a clip is counted once, under the first that applies):
``deletion_request``, ``opt_out``, ``retention`` (older than ``retention_days`` before the run's
``as_of`` time), ``no_wake_word`` (when ``no_wake_word: drop``), ``not_sampled`` (a keyed hash of
the clip id is above ``sampling_fraction``: deterministic, so a rerun samples the same clips).
"""

from __future__ import annotations

import datetime
import hashlib
import re
from typing import Literal, NamedTuple

import apache_beam as beam
from apache_beam import pvalue
from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass

from transforms.core.epochs import epoch_of
from transforms.core.failures import ClipError
from transforms.core.ids import canonical_id
from transforms.core.keys import derive_key, keyed_hex
from transforms.core.records import Clip
from transforms.core.stage import FAILURES, ClipStageFn, StageCounters, StageOutputs, clip_failure, guarded
from transforms.policy_lists import DEFAULT_ID_COLUMN, list_entries, list_files

STAGE = "policy"
DELETION, OPT_OUT = "deletion_request", "opt_out"
_STRICT = ConfigDict(extra="forbid")


@dataclass(config=_STRICT, frozen=True)
class PolicyConfig:
    """Governance policy. List and lexicon paths are relative to the config file or absolute/URIs."""

    # Files or globs (any Beam filesystem) of account ids whose clips are never reviewed: one id per
    # line, or a .csv/.tsv with an id column. Every line is checked before the run; one that is not
    # exactly one account id stops it (exit 2).
    opt_out_lists: tuple[str, ...] = ()
    deletion_lists: tuple[str, ...] = ()  # same form; matching clips are dropped on every run and rerun
    # Clips recorded longer ago than this (before --as-of) are dropped.
    retention_days: int = Field(180, ge=1, le=3650)
    # Share of clips reviewed, by a keyed hash of clip_id: reruns pick the same clips.
    sampling_fraction: float = Field(1.0, gt=0.0, le=1.0)
    # Clips with wake_word_detected = false: dropped, flagged (kept, flags column says no_wake_word) or kept.
    no_wake_word: Literal["drop", "flag", "keep"] = "drop"
    # A transcript with any of these terms goes to the restricted escalation output, not to reviewers.
    escalation_terms: tuple[str, ...] = ()
    # A clip recorded more than this after --as-of is quarantined (future_timestamp).
    future_tolerance_hours: float = Field(24.0, ge=0.0)
    # Ids are case-folded before matching unless the account ids of this system differ by case alone.
    list_ids_case_sensitive: bool = False
    list_id_column: str = Field(DEFAULT_ID_COLUMN, min_length=1, max_length=200)  # the id column of .csv lists


class Decision(NamedTuple):
    """What policy does with one clip: kept (``drop_reason`` None, ``clip`` carries its flags) or
    dropped for ``drop_reason``."""

    clip: Clip
    drop_reason: str | None = None


def compile_lexicon(terms) -> re.Pattern | None:
    """One case-insensitive whole-word pattern for all escalation terms (phrases allowed)."""
    cleaned = sorted({" ".join(t.lower().split()) for t in terms if t.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    alternatives = "|".join(r"\s+".join(map(re.escape, term.split())) for term in cleaned)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def sample_unit(key: bytes, clip_id: str) -> float:
    """Keyed, uniform in [0, 1): the same clip always gets the same value under the same key."""
    return int(keyed_hex(key, clip_id, 13), 16) / float(16**13)


def decide(
    clip: Clip,
    listed: frozenset[str],
    config: PolicyConfig,
    as_of: datetime.datetime,
    sample_key: bytes,
    lexicon: re.Pattern | None,
) -> Decision:
    """The policy decision for one clip (pure). Raises ClipError for a future timestamp."""
    if clip.recorded_at > as_of + datetime.timedelta(hours=config.future_tolerance_hours):
        raise ClipError("future_timestamp", "field 'recorded_at' is in the future")
    for reason in (DELETION, OPT_OUT):
        if reason in listed:
            return Decision(clip, reason)
    if as_of - clip.recorded_at > datetime.timedelta(days=config.retention_days):
        return Decision(clip, "retention")
    flags = list(clip.flags)
    if clip.wake_word_detected is False:
        if config.no_wake_word == "drop":
            return Decision(clip, "no_wake_word")
        if config.no_wake_word == "flag":
            flags.append("no_wake_word")
    if config.sampling_fraction < 1.0 and sample_unit(sample_key, clip.clip_id) >= config.sampling_fraction:
        return Decision(clip, "not_sampled")
    escalate = bool(lexicon and lexicon.search(clip.transcript))
    return Decision(clip._replace(flags=tuple(flags), escalate=escalate))


def clip_fingerprint(clip: Clip) -> str:
    """Deterministic order among duplicates, independent of read order."""
    text = f"{clip.audio_uri}\x1f{clip.recorded_at.isoformat()}\x1f{clip.account_id}\x1f{clip.transcript}"
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


class _DedupeFn(ClipStageFn):
    """(clip_id, [clips]) → the first clip by fingerprint; the rest are quarantined."""

    stage = STAGE

    def process(self, element):
        _, clips = element
        ordered = sorted(clips, key=clip_fingerprint)
        yield ordered[0]
        for duplicate in ordered[1:]:
            yield from guarded(
                self.counters, self._duplicate, lambda exc, clip=duplicate: clip_failure(exc, STAGE, clip)
            )

    @staticmethod
    def _duplicate():
        raise ClipError("duplicate_clip_id", "another manifest row has the same clip_id")


class _DecideFn(ClipStageFn):
    """clip (+ side input {canonical account id: reasons}) → kept clip; drops counted; errors quarantined."""

    stage = STAGE
    count_received = False  # counted on entry, by _SplitRepeatedFn

    def __init__(self, config: PolicyConfig, as_of: datetime.datetime, key_source, epoch_months: int):
        super().__init__()
        self._config = config
        self._as_of = as_of
        self._key_source = key_source
        self._epoch_months = epoch_months

    def setup(self):
        self._keyring = self._key_source.keyring()
        self._lexicon = compile_lexicon(self._config.escalation_terms)

    def handle(self, clip: Clip, listed) -> Clip | None:
        sample_key = b""
        if self._config.sampling_fraction < 1.0:
            epoch_key = self._keyring.key_for(epoch_of(clip.recorded_at, self._epoch_months))
            sample_key = derive_key(epoch_key, "sampling")
        reasons = frozenset(listed.get(canonical_id(clip.account_id, self._config.list_ids_case_sensitive), ()))
        decision = decide(clip, reasons, self._config, self._as_of, sample_key, self._lexicon)
        if decision.drop_reason:
            self.counters.count(f"dropped_{decision.drop_reason}")
            return None
        if decision.clip.escalate:
            self.counters.count("escalated")
        return decision.clip


class _SplitRepeatedFn(beam.DoFn):
    """Clips whose id occurs more than once go to the ``repeated`` output for deduplication.

    The stage's entry: ``policy/received`` counts every clip here, so received = succeeded +
    failed (duplicates, bad timestamps) + dropped."""

    def __init__(self):
        self.counters = StageCounters(STAGE)

    def process(self, clip, repeated):
        self.counters.received.inc()
        if clip.clip_id in repeated:
            yield pvalue.TaggedOutput("repeated", (clip.clip_id, clip))
        else:
            yield clip


def _affected(element):
    """(account_id, {clips, listed}) → (account_id, reasons) for listed accounts that have clips."""
    account, grouped = element
    if grouped["clips"] and grouped["listed"]:
        yield account, sorted(set(grouped["listed"]))


class ApplyPolicy(beam.PTransform):
    """Dedupe clip ids, join the opt-out/deletion lists, apply retention, wake-word, sampling and
    escalation rules."""

    def __init__(
        self, config: PolicyConfig, list_paths: dict[str, tuple[str, ...]], as_of, key_source, epoch_months, keys=None
    ):
        """``keys``: (clip_id, account_id) of the same clips, from a separate read (``ReadClipKeys``);
        without it they are taken from the clips, which then wait in the runner for the side inputs."""
        super().__init__()
        self._keys = keys
        self._epoch_months = epoch_months
        self._config = config
        self._lists = list_paths  # {"opt_out": (...), "deletion_request": (...)}, resolved paths
        self._as_of = as_of
        self._key_source = key_source

    def expand(self, clips) -> StageOutputs:
        keys = self._keys
        if keys is None:
            keys = clips | "ClipKeys" >> beam.Map(lambda c: (c.clip_id, c.account_id))
        # Deduplicate on keys only: just the records of repeated clip ids are shuffled.
        repeated = (
            keys
            | "ClipIds" >> beam.Map(lambda kv: (kv[0], 1))
            | "CountIds" >> beam.CombinePerKey(sum)
            | "Repeated" >> beam.Filter(lambda kv: kv[1] > 1)
        )
        split = clips | "SplitRepeated" >> beam.ParDo(_SplitRepeatedFn(), beam.pvalue.AsDict(repeated)).with_outputs(
            "repeated", main="unique"
        )
        deduped = (
            split.repeated
            | "GroupRepeated" >> beam.GroupByKey()
            | "Dedupe" >> beam.ParDo(_DedupeFn()).with_outputs(FAILURES, main="main")
        )
        kept = (split.unique, deduped.main) | "AllUnique" >> beam.Flatten()
        decided = kept | "Decide" >> beam.ParDo(
            _DecideFn(self._config, self._as_of, self._key_source, self._epoch_months),
            beam.pvalue.AsDict(self._listed_accounts(keys)),
        ).with_outputs(FAILURES, main="main")
        failures = (deduped[FAILURES], decided[FAILURES]) | "PolicyFailures" >> beam.Flatten()
        return StageOutputs(decided.main, failures)

    def _listed_accounts(self, keys):
        """{canonical account id: reasons} for accounts that are on a list AND have clips in this run.

        The lists (possibly millions of ids) and the clips' accounts are joined by key in a
        shuffle; only the (usually small) intersection becomes a side input. The list files are
        read with the launcher's parser (Beam's text reads cannot decode UTF-16 or drop a BOM),
        one file per element, after a reshuffle so that the files of a glob are read in parallel."""
        p = keys.pipeline
        sources = [(reason, path) for reason, paths in sorted(self._lists.items()) for path in paths]
        if not sources:
            return p | "NoListedAccounts" >> beam.Create([])
        case_sensitive, column = self._config.list_ids_case_sensitive, self._config.list_id_column
        listed = (
            p
            | "ListPaths" >> beam.Create(sources)
            | "ListFiles" >> beam.FlatMap(lambda source: ((source[0], f) for f in list_files(source[1])))
            | "SpreadListFiles" >> beam.Reshuffle()
            | "ReadListIds" >> beam.FlatMap(list_entries, case_sensitive, column)
        )
        accounts = keys | "ClipAccounts" >> beam.Map(lambda kv, cs: (canonical_id(kv[1], cs), True), case_sensitive)
        return (
            {"clips": accounts, "listed": listed}
            | "JoinLists" >> beam.CoGroupByKey()
            | "ListedWithClips" >> beam.FlatMap(_affected)
        )
