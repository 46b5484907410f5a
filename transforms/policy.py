"""Policy stage: ``ApplyPolicy`` — before any audio is decoded, so dropped clips cost nothing.

In:  validated clips; opt-out and deletion-request lists (files or globs on any Beam filesystem,
     in the strict format of :mod:`transforms.policy_lists`; millions of rows are fine: they are
     joined by key with the few clips' accounts whose 64-bit hash is listed, and a worker holds
     only those hashes, 8 bytes per distinct listed id). Ids are matched in their canonical
     form (:func:`transforms.core.ids.canonical_id`) on both sides, so a listed customer is
     found however the list or the manifest spelled the id.
Out: the clips that may be reviewed, with ``flags`` (e.g. ``no_wake_word``) and ``escalate``
     (transcript matches the escalation lexicon: route to the restricted escalation output).
     Dropped clips are counted per reason (``policy/dropped_<reason>``) and go nowhere else.
Fails: a duplicate ``clip_id`` (all but one copy: the one kept has the lowest fingerprint, then
     the lowest manifest position), a timestamp in the future beyond the tolerance, or a clip
     whose epoch key is gone becomes a quarantine record (stage ``policy``).
     A list line that is not one valid id fails the whole job (``ListFormatError``); the launcher
     checks every list before the run, so this happens only if a list changes during the run.

Drop reasons, checked in this order (a clip is counted once, under the first that applies):
``deletion_request``, ``opt_out``, ``retention`` (older than ``retention_days`` before the run's
``as_of`` time), ``no_wake_word`` (when ``no_wake_word: drop``), ``not_sampled`` (a keyed hash of
the clip id is above ``sampling_fraction``: deterministic, so a rerun samples the same clips).
"""

from __future__ import annotations

import datetime
import re
from typing import Literal, NamedTuple

import apache_beam as beam
import numpy as np
from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass

from transforms.core.dedupe import (  # noqa: F401 - clip_fingerprint re-exported
    DistinctIdHashes,
    clip_fingerprint,
    hash_in,
    id_hash,
    survivor_rank,
)
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


class _SurvivorFn(beam.CombineFn):
    """The ranks of one clip id's rows → (rows, lowest rank, rows with that rank)."""

    def create_accumulator(self):
        return 0, b"", 0

    def add_input(self, accumulator, rank):
        return self.merge_accumulators([accumulator, (1, rank, 1)])

    def merge_accumulators(self, accumulators):
        rows, best, ties = 0, b"", 0
        for count, rank, at_rank in accumulators:
            if not count:
                continue
            if not rows or rank < best:
                best, ties = rank, at_rank
            elif rank == best:
                ties += at_rank
            rows += count
        return rows, best, ties

    def extract_output(self, accumulator):
        return accumulator


def _repeated(element):
    """(clip_id, (rows, rank, ties)) → (clip_id, (rank, ties)) for an id on more than one row."""
    clip_id, (rows, rank, ties) = element
    if rows > 1:
        yield clip_id, (rank, ties)


class _DecideFn(ClipStageFn):
    """clip (+ side input {canonical account id: reasons}) → kept clip; drops counted; errors quarantined."""

    stage = STAGE
    count_received = False  # counted on entry, by _DedupeFn

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


class _DedupeFn(beam.DoFn):
    """Of the rows of a repeated clip id, the one with the lowest survivor rank
    (:func:`transforms.core.dedupe.survivor_rank`: fingerprint, then position) goes on; the others
    are quarantined (``duplicate_clip_id``). Side input: {repeated clip id: (lowest rank, rows
    with it)} — only ids that occur more than once, so it stays small. Clips stream through: no
    copy waits for another.

    The stage's entry: ``policy/received`` counts every clip here, so received = succeeded +
    failed (duplicates, bad timestamps) + dropped."""

    def __init__(self):
        self.counters = StageCounters(STAGE)

    def process(self, clip, survivors):
        self.counters.received.inc()
        survivor = survivors.get(clip.clip_id)
        # Two rows with the same rank would be one row read twice, or clips built without their
        # manifest position: none can be told to be the one, so none goes on (fail closed).
        if survivor is None or (survivor == (survivor_rank(clip), 1)):
            yield clip
            return
        yield from guarded(self.counters, self._duplicate, lambda exc: clip_failure(exc, STAGE, clip))

    @staticmethod
    def _duplicate():
        raise ClipError("duplicate_clip_id", "another manifest row has the same clip_id")


def _affected(element):
    """(account_id, {clips, listed}) → (account_id, reasons) for listed accounts that have clips."""
    account, grouped = element
    if grouped["clips"] and grouped["listed"]:
        yield account, sorted(set(grouped["listed"]))


def _maybe_listed(key, hashes: np.ndarray, case_sensitive: bool):
    """(clip_id, account_id, ...) → (canonical account, True) when the account's hash is listed."""
    account = canonical_id(key[1], case_sensitive)
    if hash_in(hashes, id_hash(account)):
        yield account, True


class ApplyPolicy(beam.PTransform):
    """Dedupe clip ids, join the opt-out/deletion lists, apply retention, wake-word, sampling and
    escalation rules."""

    def __init__(
        self,
        config: PolicyConfig,
        list_paths: dict[str, tuple[str, ...]],
        as_of,
        key_source,
        epoch_months,
        keys=None,
        ranks=None,
    ):
        """``keys``: (clip_id, account_id, ...) of the same clips, from a separate read
        (``ReadClipKeys``); without it they are taken from the clips, which then wait in the runner
        for the side inputs. ``ranks``: (clip_id, account_id, survivor rank) of at least every row
        of every repeated clip id (``ReadClipKeys(..., ranked=True, repeated_in=keys)`` gives only
        those); without it, the ranks are taken from ``keys`` (then ranked: every row is ranked
        per id, a shuffle with a record per clip) or from the clips."""
        super().__init__()
        self._keys = keys
        self._ranks = ranks
        self._epoch_months = epoch_months
        self._config = config
        self._lists = list_paths  # {"opt_out": (...), "deletion_request": (...)}, resolved paths
        self._as_of = as_of
        self._key_source = key_source

    def expand(self, clips) -> StageOutputs:
        keys = self._keys
        if keys is None:
            keys = clips | "ClipKeys" >> beam.Map(lambda c: (c.clip_id, c.account_id, survivor_rank(c)))
        ranks = keys if self._ranks is None else self._ranks
        # Deduplicate on keys only: the survivor of each repeated id is chosen from the keys, and
        # each clip is kept or quarantined as it passes. No clip is shuffled or waits for another.
        survivors = (
            ranks
            | "RankById" >> beam.Map(lambda key: (key[0], key[2]))
            | "LowestRank" >> beam.CombinePerKey(_SurvivorFn())
            | "Repeated" >> beam.FlatMap(_repeated)
        )
        deduped = clips | "Dedupe" >> beam.ParDo(_DedupeFn(), beam.pvalue.AsDict(survivors)).with_outputs(
            FAILURES, main="main"
        )
        decided = deduped.main | "Decide" >> beam.ParDo(
            _DecideFn(self._config, self._as_of, self._key_source, self._epoch_months),
            beam.pvalue.AsDict(self._listed_accounts(keys)),
        ).with_outputs(FAILURES, main="main")
        failures = (deduped[FAILURES], decided[FAILURES]) | "PolicyFailures" >> beam.Flatten()
        return StageOutputs(decided.main, failures)

    def _listed_accounts(self, keys):
        """{canonical account id: reasons} for accounts that are on a list AND have clips in this run.

        No shuffle carries a record per clip: the lists' ids (possibly millions) are first combined
        into a sorted array of their 64-bit hashes (:class:`transforms.core.dedupe.DistinctIdHashes`,
        one compact array per bundle), and with it as a side input only the clips whose account's hash is listed go on,
        one record per account and bundle after a combine. Those few accounts are then joined by
        key with the list entries, exactly: a hash shared by an unlisted account and a listed one
        only sends the unlisted account to the join, which finds no list entry for it, so the side
        input is the same as joining every clip's account. The list files are read with the
        launcher's parser (Beam's text reads cannot decode UTF-16 or drop a BOM), one file per
        element, after a reshuffle so that the files of a glob are read in parallel."""
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
        hashes = (
            listed
            | "ListedIds" >> beam.Map(lambda entry: entry[0])
            | "ListedIdHashes" >> beam.CombineGlobally(DistinctIdHashes())
        )
        accounts = (
            keys
            | "MaybeListedAccounts" >> beam.FlatMap(_maybe_listed, beam.pvalue.AsSingleton(hashes), case_sensitive)
            # A listed account with many clips: one record per bundle (the combine is lifted), not per clip.
            | "OncePerAccount" >> beam.CombinePerKey(all)
        )
        return (
            {"clips": accounts, "listed": listed}
            | "JoinLists" >> beam.CoGroupByKey()
            | "ListedWithClips" >> beam.FlatMap(_affected)
        )
