"""What the leak verifier knows about reviewer rows: the fixed form of each structured column, and
how a manifest row maps to the ``review_id`` of the row the job wrote for it.

A reviewer column with a fixed form (ids, pseudonyms, epoch, MIME type, locale, flags, entity
types, provenance) is checked against that form rather than searched for names: a value that breaks
it is a finding, so no free text can hide there, and "fil-PH" is not flagged for a customer called
Fil. ``review_id`` is a keyed hash of the clip id under its epoch's key, recomputed here from the
run's key so each first name can be checked in its own clip's row.
"""

from __future__ import annotations

import re
from collections.abc import Callable


def _pattern(regex: str) -> Callable[[str], bool]:
    compiled = re.compile(regex)
    return lambda text: compiled.fullmatch(text) is not None


def _locale(text: str) -> bool:
    import langcodes

    return text == "und" or langcodes.tag_is_valid(text)


# Reviewer columns with a fixed form: checked against it (a value that breaks it is a finding), so
# a name cannot hide there; they are not searched for names, which would flag "fil-PH" for a Fil.
CONTRACTS: dict[str, Callable[[str], bool]] = {
    "review_id": _pattern(r"rev_[0-9a-f]{32}"),
    "speaker_pseudonym": _pattern(r"(?:spk|clp)_[0-9a-f]{16,64}"),
    "pseudonym_epoch": _pattern(r"\d{4}-\d{2}"),
    "audio_mime": _pattern(r"audio/(?:flac|ogg)"),
    "locale": _locale,
    "flags": _pattern(r"\[(?:\"[a-z_]+\"(?:, (?=\"))?)*\]"),
    "entities": _pattern(r"\[(?:\{\"type\": \"[A-Z_]+\", \"start\": \d+, \"end\": \d+\}(?:, (?=\{))?)*\]"),
    "run_id": _pattern(r"\d{8}T\d{6}Z-[0-9a-f]{8}"),
    "config_hash": _pattern(r"[0-9a-f]{16}"),
    "pipeline_version": _pattern(r"\d+(?:\.\d+)*(?:[.+-][0-9A-Za-z.]+)?"),
}
# Columns that are not text at all (numbers, dates, intervals) and binary columns: no names there.
NOT_TEXT = {"expires_at", "sample_rate", "duration_s", "muted_intervals", "recorded_date"}


def review_ids_with(key_source, epoch_months: int) -> Callable[[dict], str | None]:
    """``review_id`` of a manifest row as the job computes it, or None for a row the job could not
    have written (unparseable, no key for its epoch)."""
    from transforms.core.epochs import epoch_of
    from transforms.core.failures import ClipError
    from transforms.core.keys import KeyUnavailableError, derive_key
    from transforms.manifest import parse_clip
    from transforms.write_shards import review_id

    keyring = key_source.keyring()

    def review_id_of(row: dict) -> str | None:
        try:
            clip = parse_clip(row, ".")
            epoch_key = keyring.key_for(epoch_of(clip.recorded_at, epoch_months))
        except (ClipError, KeyUnavailableError, ValueError):
            return None
        return review_id(derive_key(epoch_key, "review_id"), clip.clip_id)

    return review_id_of
