"""The clip's own identifiers (account id, first name, device serial) found in its transcript.

In:  the written form of a transcript (already folded: :func:`transforms.core.text.fold`) and the
     clip's identifiers by entity type.
Out: Presidio ``RecognizerResult`` s of score 1.0, named ``ClipMetadata_<ENTITY>``; spans of ``text``.
Fails: never; an empty value matches nothing.

Not a registered recognizer: the values change with every clip, and Presidio's ad-hoc recognizers
built and compiled one per value on every call. Matching is plain substring search instead, over
the text squeezed to one comparison key per character (:func:`transforms.core.text.skeleton_char`:
case-folded, look-alike letters of any script in Latin; 0 read as o), so "Дмитрий", "혜진" and "G09ОXF" (with a
Cyrillic О) are found like "jennifer".

Spelled-out values: separators (spaces, dots, dashes) are skipped, so "j e n n i f e r",
"four eight two nine" (written "4829") and "jen nifer" match. A match that joins several words is
kept only when it is a spelling, not a phrase: every joined word is one character, or the match
holds a digit, or at least one joined word of two or more letters is not an ordinary English word
(SCOWL, :mod:`transforms.redaction.wordlists`) — a million customers include an Ina, and "remind me
in a minute" must not lose "in a"; but a name split into syllables stays one name even when a
syllable is a word ("rose mary", "jen ni fer": the list has "fer").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import NamedTuple

from presidio_analyzer import RecognizerResult

from transforms.core.text import fold, is_ignorable, skeleton_char
from transforms.redaction.recognizers.results import make_result

# Scripts written without spaces between words, where a name runs straight into a particle or a
# surname ("혜진에게", "김혜진", "王伟的"): no word boundary is required around a match.
_UNSPACED_SCRIPTS = ("HANGUL", "CJK", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR")
_SEPARATORS = ".-"
_LETTER_PREFIX = re.compile(r"^[^\W\d_]+")
_NOT_ASCII_ALNUM = re.compile(r"[^0-9a-z]")
_ASCII_SEPARATORS = frozenset(" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f" + _SEPARATORS)  # str.isspace() of ASCII, dots, dashes


class _Squeezed(NamedTuple):
    """One comparison key per kept character (spaces, dots, dashes left out) and where each came from."""

    text: str
    origin: list[int]


def _squeeze(text: str) -> _Squeezed:
    if text.isascii():  # nearly every transcript: the same keys, without a call per character
        origin = [i for i, ch in enumerate(text) if ch not in _ASCII_SEPARATORS]
        return _Squeezed("".join(text[i] for i in origin).lower().replace("0", "o"), origin)
    chars, origin = [], []
    for i, ch in enumerate(text):
        if _is_separator(ch):
            continue
        chars.append(_key(ch))
        origin.append(i)
    return _Squeezed("".join(chars), origin)


def _key(ch: str) -> str:
    """Comparison key of one character: :func:`skeleton_char`, with the digit 0 read as the letter o
    (the spoken-form layer writes "oh" as 0, so a serial's letter O said aloud is a 0)."""
    return "o" if ch == "0" else skeleton_char(ch)


def _is_separator(ch: str) -> bool:
    return ch.isspace() or ch in _SEPARATORS or is_ignorable(ch)


def _is_word_char(ch: str) -> bool:
    """A letter, digit or combining mark of any script (Devanagari vowel signs are marks)."""
    return ch.isalnum() or unicodedata.category(ch).startswith("M")


def metadata_spans(value: str, text: str, squeezed: _Squeezed | None = None) -> list[tuple[int, int]]:
    """``[start, end)`` spans of ``text`` that spell ``value`` or one of its variants, with any
    spaces, dots or dashes between its characters and no letter or digit right before or after
    (in scripts written with spaces), joining several words only as a spelling (module docstring).

    Plain substring search in the squeezed text: no pattern is compiled per value (compiling one
    per clip cost about 1 ms a clip, as nearly every clip brings new identifiers). Spans inside a
    longer span are dropped."""
    squeezed = squeezed or _squeeze(text)
    spans = []
    for variant in _variants(value):
        bounded = not _unspaced(variant)
        at = squeezed.text.find(variant)
        while at >= 0:
            start, end = squeezed.origin[at], squeezed.origin[at + len(variant) - 1] + 1
            if (not bounded or _bounded(text, start, end)) and _spelling(text[start:end]):
                spans.append((start, end))
            at = squeezed.text.find(variant, at + 1)
    kept: list[tuple[int, int]] = []
    for start, end in sorted(set(spans), key=lambda span: (span[0], -span[1])):
        if not kept or end > kept[-1][1]:
            kept.append((start, end))
    return kept


def _bounded(text: str, start: int, end: int) -> bool:
    return (start == 0 or not _is_word_char(text[start - 1])) and (end == len(text) or not _is_word_char(text[end]))


def _unspaced(variant: str) -> bool:
    return not variant.isascii() and any(
        ch.isalpha() and unicodedata.name(ch, "").startswith(_UNSPACED_SCRIPTS) for ch in variant
    )


def _spelling(matched: str) -> bool:
    """One word, or several joined as a spelling: all one character, or with a digit, or not a phrase
    of ordinary words ("jen nifer", "rose mary" yes; "in a", "b ill" no)."""
    words = [w for w in re.split(r"[\s.\-]+", "".join(c for c in matched if not is_ignorable(c))) if w]
    if len(words) <= 1 or all(len(w) == 1 for w in words) or any(c.isdigit() for c in matched):
        return True
    from transforms.redaction.wordlists import dictionary_words

    dictionary = dictionary_words()
    return not all(w.lower() in dictionary for w in words if len(w) > 1)


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
    """The value's comparison keys: its letters and digits (any script), its digits alone and its
    letters-and-digits tail after a letter prefix ("ACCT-"), the last two when they hold four digits."""
    folded = fold(value).text
    if folded.isascii():
        squashed = _NOT_ASCII_ALNUM.sub("", folded.lower())
    else:
        squashed = "".join(skeleton_char(ch) for ch in folded if _is_word_char(ch))
    variants = [squashed] if squashed else []
    digits = "".join(ch for ch in squashed if ch.isdigit())
    alnum_tail = _LETTER_PREFIX.sub("", squashed)
    for extra in (alnum_tail, digits):
        if sum(ch.isdigit() for ch in extra) >= 4 and extra not in variants:
            variants.append(extra)
    return [v.replace("0", "o") for v in variants]  # as _key reads the text


# spaCy's coarse tags of ordinary words (anything but a proper noun, a symbol, punctuation or an unknown)
_ORDINARY_POS = frozenset(
    {"ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "SCONJ", "VERB"}
)


def tagged_as_word(nlp_artifacts, start: int, end: int) -> bool:
    """Whether the written-form span ``[start, end)`` is one ordinary English word (in the dictionary)
    that spaCy tags as such (NOUN, VERB, AUX, ADP…, not PROPN).

    For the clip's own first name: "pay the electricity bill" for a customer named Bill is still
    redacted (privacy first) but counted apart (``transcript/own_name_as_word``), so a run report
    shows how much utility own-name matching costs. The dictionary check keeps out names spaCy's
    small model tags NOUN in lower-case text ("call priyanka"); "my name is bill" still counts.
    ``False`` without spaCy tokens or tags."""
    from transforms.redaction.wordlists import dictionary_words

    doc = getattr(nlp_artifacts, "tokens", None)
    if doc is None:
        return False
    tokens = [t for t in doc if t.idx < end and start < t.idx + len(t.text)]
    if len(tokens) != 1 or tokens[0].pos_ not in _ORDINARY_POS:
        return False
    return tokens[0].text.lower() in dictionary_words()
