"""The clip's own identifiers (account id, first name, device serial) found in its transcript.

In:  the written form of a transcript and the clip's identifiers by entity type.
Out: Presidio ``RecognizerResult`` s of score 1.0, named ``ClipMetadata_<ENTITY>``; spans of ``text``.
Fails: never; an empty value matches nothing.

Not a registered recognizer: the values change with every clip, and Presidio's ad-hoc recognizers
built and compiled one per value on every call. Matching is plain substring search instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from presidio_analyzer import RecognizerResult

from transforms.redaction.recognizers.results import make_result


class _Squeezed(NamedTuple):
    """Lower-cased text without spaces, dots and dashes, and where each kept character came from."""

    text: str
    origin: list[int]


def _squeeze(text: str) -> _Squeezed:
    chars, origin = [], []
    for i, ch in enumerate(text):
        if ch.isspace() or ch in ".-":
            continue
        low = ch.casefold()
        chars.append(low if len(low) == 1 else "\0")  # keep offsets 1:1 ("ß".casefold() is "ss")
        origin.append(i)
    return _Squeezed("".join(chars), origin)


def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def metadata_spans(value: str, text: str, squeezed: _Squeezed | None = None) -> list[tuple[int, int]]:
    """``[start, end)`` spans of ``text`` that spell ``value`` or one of its variants, with any
    spaces, dots or dashes between its characters and no letter or digit right before or after.

    Plain substring search in the squeezed text: no pattern is compiled per value (compiling one
    per clip cost about 1 ms a clip, as nearly every clip brings new identifiers). Spans inside a
    longer span are dropped."""
    squeezed = squeezed or _squeeze(text)
    spans = []
    for variant in _variants(value):
        at = squeezed.text.find(variant)
        while at >= 0:
            start, end = squeezed.origin[at], squeezed.origin[at + len(variant) - 1] + 1
            if (start == 0 or not _is_ascii_alnum(text[start - 1])) and (
                end == len(text) or not _is_ascii_alnum(text[end])
            ):
                spans.append((start, end))
            at = squeezed.text.find(variant, at + 1)
    kept: list[tuple[int, int]] = []
    for start, end in sorted(set(spans), key=lambda span: (span[0], -span[1])):
        if not kept or end > kept[-1][1]:
            kept.append((start, end))
    return kept


def clip_metadata_results(values: Mapping[str, str], text: str) -> list[RecognizerResult]:
    """Hits of one clip's own identifiers in ``text`` (the written form), written or spelled out.

    ``values`` maps an entity type to a raw value (``{"ACCOUNT_ID": "ACCT-4829105573"}``). Each
    value matches case-insensitively with any spaces, dots or dashes between its characters (the
    spoken form "four eight two nine ..." is "4829105573" after normalisation), and so does its
    digit core (the account number without its "ACCT-" prefix) when it has at least four digits.
    Score 1.0: these are the clip's own identifiers, never subject to thresholds or context."""
    results = []
    squeezed = _squeeze(text)
    for entity, value in values.items():
        name = f"ClipMetadata_{entity}"
        for start, end in metadata_spans(value, text, squeezed):
            results.append(make_result(name, name, entity, start, end, 1.0, "clip's own metadata"))
    return results


def _variants(value: str) -> list[str]:
    squashed = re.sub(r"[^0-9a-z]", "", value.lower())
    variants = [squashed] if squashed else []
    digits = re.sub(r"\D", "", value)
    alnum_tail = re.sub(r"^[a-z]+", "", squashed)
    for extra in (alnum_tail, digits):
        if len(re.sub(r"\D", "", extra)) >= 4 and extra not in variants:
            variants.append(extra)
    return variants
