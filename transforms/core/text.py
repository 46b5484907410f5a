"""Text folding for PII detection and leak verification: what a reader sees, not how it is encoded.

In:  any text (a transcript, a manifest value, a line of an output file).
Out: :func:`fold` — a :class:`Folded` text in which invisible characters are gone, compatibility
     forms are plain (NFKC: "ｊｅｎ" → "jen", "ﬁ" → "fi"; vulgar fractions excepted), decimal
     digits of any script are ASCII digits, and a token that mixes Latin with look-alike letters
     of another script ("SERIАL", Cyrillic А), or digits with non-Latin letters ("АВ12"), is
     written in Latin — plus, for every folded character, the ``[start, end)`` of the original
     characters it came from, so a detection in the folded text maps back onto the original,
     including any invisible characters inside it.
     :func:`skeleton` — a comparison key without offsets: folded, case-folded, accents removed and
     every look-alike letter mapped to Latin, so ``skeleton(needle) in skeleton(haystack)`` finds
     a raw value however it was disguised (for the leak verifier). :func:`skeleton_char` — the
     same per character, one character out for one in (for matchers that keep offsets).
Fails: never.

Why each step (issue 12, class 5): a zero-width space inside a name ("jen\\u200bnifer") or a
Cyrillic letter inside a device serial passed both redaction and verification, because every
matcher compared code points. Removed are the Unicode default-ignorable code points: format
characters (category Cf: zero-width space/joiners, bidi marks, soft hyphen, BOM, tag characters)
and the other invisibles (variation selectors, the combining grapheme joiner, Hangul fillers).
NFKC runs per grapheme cluster (a base character with its combining marks), so "e" + U+0301
becomes "é" and maps back to both original characters. Look-alikes are folded only inside
mixed-script tokens, so a genuinely Cyrillic, Greek or Korean transcript keeps its letters
("Дмитрий" stays "Дмитрий"); the table comes from Unicode's confusables data as shipped by the
``confusable_homoglyphs`` package.

ASCII text — nearly every transcript — is returned as it is, without building a map.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from transforms.core.caches import process_cache

# Default-ignorable code points that are not format characters (Cf is removed by category):
# combining grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian variation selectors,
# variation selectors (and their supplement).
_IGNORABLE_RANGES = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xE0000, 0xE0FFF),
)
# Hangul conjoining vowels and final consonants compose with the preceding jamo under NFKC.
_HANGUL_JOINING = ((0x1161, 0x11FF), (0xD7B0, 0xD7FF))
_NOT_MIXING = frozenset({"COMMON", "INHERITED", "Unknown"})


@dataclass(frozen=True)
class Folded:
    """Folded text and, per folded character, the original ``[start, end)`` it came from.

    ``starts``/``ends`` are ``None`` when the text did not change (identity map).
    """

    text: str
    original: str
    starts: tuple[int, ...] | None = None
    ends: tuple[int, ...] | None = None

    @property
    def identity(self) -> bool:
        return self.starts is None

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Original span covering the folded span ``[start, end)`` (and anything removed inside it)."""
        if self.starts is None or self.ends is None:
            return start, end
        if not self.text:
            return 0, 0
        start = max(0, min(start, len(self.text) - 1))
        end = max(start + 1, min(end, len(self.text)))
        return self.starts[start], self.ends[end - 1]


def is_ignorable(char: str) -> bool:
    """A default-ignorable code point: rendered as nothing (zero-width space, joiners, bidi marks,
    soft hyphen, variation selectors, …)."""
    if unicodedata.category(char) == "Cf":
        return True
    code = ord(char)
    return any(lo <= code <= hi for lo, hi in _IGNORABLE_RANGES)


def fold(text: str) -> Folded:
    """Fold ``text`` for detection: invisibles removed, NFKC per grapheme cluster, digits ASCII,
    look-alike letters of mixed-script tokens in Latin; with a map back to ``text``."""
    if text.isascii():
        return Folded(text, text)
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for cluster, first, last in _clusters(text):
        # vulgar fractions stay ("½" would become "1⁄2", a house number to the address recognizer)
        fraction = unicodedata.decomposition(cluster[0]).startswith("<fraction>")
        for char in cluster if fraction else unicodedata.normalize("NFKC", cluster):
            if not char.isascii() and unicodedata.category(char) == "Nd":
                char = str(unicodedata.decimal(char))
            chars.append(char)
            starts.append(first)
            ends.append(last + 1)
    folded = _fold_mixed_tokens(chars)
    if folded == text:
        return Folded(text, text)
    return Folded(folded, text, tuple(starts), tuple(ends))


def skeleton(text: str) -> str:
    """Comparison key: :func:`fold`, case-folded, accents removed, look-alike letters in Latin.

    No offsets; equal skeletons read the same. Use ``skeleton(value) in skeleton(line)`` to find a
    raw value that was disguised by invisible characters, compatibility forms, case, accents or
    homoglyphs ("José" is found in "JOSE", "Jennifer" in "јеnnifеr").
    """
    latin = _latin_lookalikes()
    # case-fold first, so a capital and a small letter of one script meet the same table entry
    bare = "".join(c for c in unicodedata.normalize("NFD", fold(text).text.casefold()) if not _is_mark(c))
    return unicodedata.normalize("NFC", "".join(latin.get(c, c) for c in bare).casefold())


def skeleton_char(char: str) -> str:
    """One character's comparison key, always a single character, so offsets stay 1:1 (a matcher
    that squeezes text character by character uses it on both the value and the text).

    Like :func:`skeleton` for one already-folded character, except that a character whose case
    fold is longer ("ß" → "ss") is lower-cased instead.
    """
    if char.isascii():
        return char.lower()
    latin = _latin_lookalikes()
    low = _base(_one_char_fold(char))
    return _one_char_fold(latin.get(low, low))


def _base(char: str) -> str:
    """A precomposed letter without its marks ("é" → "e", "й" → "и"); Hangul syllables stay whole."""
    parts = unicodedata.normalize("NFD", char)
    return parts[0] if len(parts) > 1 and all(_is_mark(c) for c in parts[1:]) else char


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def _one_char_fold(char: str) -> str:
    low = char.casefold()
    return low if len(low) == 1 else char.lower() if len(char.lower()) == 1 else char


def _clusters(text: str):
    """(cluster, index of its first, index of its last original character) with ignorables left out:
    a base character with the marks (and Hangul jamo) that NFKC composes with it."""
    cluster, first, last = "", -1, -1
    for i, char in enumerate(text):
        if is_ignorable(char):
            continue
        if cluster and _extends(cluster, char):
            cluster += char
            last = i
            continue
        if cluster:
            yield cluster, first, last
        cluster, first, last = char, i, i
    if cluster:
        yield cluster, first, last


def _extends(cluster: str, char: str) -> bool:
    if char.isascii() and cluster[-1].isascii():
        return False
    if unicodedata.category(char).startswith("M"):
        return True
    code = ord(char)
    if any(lo <= code <= hi for lo, hi in _HANGUL_JOINING):
        return True
    nfkc = unicodedata.normalize
    return nfkc("NFKC", cluster + char) != nfkc("NFKC", cluster) + nfkc("NFKC", char)


def _is_token_char(char: str) -> bool:
    return char.isalnum() or _is_mark(char)


def _fold_mixed_tokens(chars: list[str]) -> str:
    """Look-alike letters in Latin inside each token that mixes scripts (or digits with non-Latin letters)."""
    latin = _latin_lookalikes()
    out = list(chars)
    i = 0
    while i < len(chars):
        if not _is_token_char(chars[i]):
            i += 1
            continue
        j = i
        while j < len(chars) and _is_token_char(chars[j]):
            j += 1
        token = chars[i:j]
        if any(c in latin for c in token) and _mixed(token):
            out[i:j] = [latin.get(c, c) for c in token]
        i = j
    return "".join(out)


def _mixed(token: list[str]) -> bool:
    """Letters of more than one script, or digits with letters of a script other than Latin ("АВ12")."""
    from confusable_homoglyphs.categories import alias

    scripts = {alias(c) for c in token if c.isalpha()} - _NOT_MIXING
    if len(scripts) > 1:
        return True
    return bool(scripts) and scripts != {"LATIN"} and any(c.isdigit() for c in token)


@process_cache(maxsize=1)
def _latin_lookalikes() -> dict[str, str]:
    """Letter of a non-Latin script → the ASCII letter (else digit) it is confusable with.

    From Unicode's confusables data (``confusable_homoglyphs``). Where several Latin letters look
    alike, a letter is preferred to a digit and one of the same case to one of the other.
    """
    from confusable_homoglyphs.categories import alias
    from confusable_homoglyphs.confusables import confusables_data

    table = {}
    for char, entries in confusables_data.items():
        if len(char) != 1 or alias(char) in ("LATIN", "COMMON"):
            continue
        candidates = [e["c"] for e in entries if len(e["c"]) == 1 and e["c"].isascii() and e["c"].isalnum()]
        if candidates:
            best = min(candidates, key=lambda c: (not c.isalpha(), c.isupper() != char.isupper()))
            # Unicode's prototype for a vertical stroke is "l"; a capital stroke (Cyrillic "І", Greek
            # "Ι") reads as "I" in a serial or a name.
            table[char] = "I" if best == "l" and char.isupper() else best
    return table
