"""Spoken-form normaliser: ASR words → written form, with an offset map back to the original.

In:  a transcript as an ASR system writes it ("call five five five dash zero one four two",
     "sachin dot rao at rediffmail dot com", "born on march third nineteen eighty five").
Out: :class:`Normalized` — the written form ("call 555-0142", "sachin.rao@rediffmail.com",
     "born on march 3rd 1985") plus, for every character of it, the original characters it came
     from, so a span found in the written form maps back onto the words the speaker said.
Fails: never; text that is not spoken-form passes through unchanged (identity map) apart from
     folding, so written transcripts ("Here's my SSN: 460-89-9847") keep every character and offset.

Text is folded first (:mod:`transforms.core.text`): zero-width characters, compatibility forms and
homoglyphs inside mixed-script tokens do not hide a word from the recognizers.

Only alphabetic words are rewritten; digits, punctuation and whitespace between them are copied,
so regex recognizers built for written text keep working on written input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from transforms.core.text import fold

UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
}  # fmt: skip
TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
    "twentieth": 20, "thirtieth": 30,
}  # fmt: skip
REPEATS = {"double": 2, "triple": 3}
ZERO_WORDS = {"oh", "o", "nought"}
MONTHS = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
}  # fmt: skip
SYMBOLS = {"dot": ".", "point": ".", "dash": "-", "hyphen": "-", "underscore": "_", "slash": "/"}
TLDS = {
    "com", "org", "net", "edu", "gov", "io", "co", "uk", "us", "info", "biz", "de", "fr", "es", "it", "nl", "ca",
    "au", "in", "me", "tv", "ie", "eu", "ch", "se", "no", "dk", "fi", "pl", "be", "at", "nz", "jp", "br", "mx",
    "ru", "app", "dev", "ai", "xyz", "online", "hu", "cz", "pt", "ee", "name", "mil", "int",
}  # fmt: skip
# Words that frame an e-mail address rather than start one ("my email is ...", "send it to ...").
NOT_LOCAL_PART = {
    "is", "to", "at", "email", "mail", "address", "me", "my", "it", "send", "forward", "write", "and", "or",
    "the", "a", "an", "was", "its", "it's", "from", "cc", "copy", "reply", "contact", "number", "on", "via",
    "id", "share", "reach", "emails", "report", "invoice",
}  # fmt: skip
NUMBER_WORDS = set(UNITS) | set(TEENS) | set(TENS) | {"hundred", "thousand"}
# How "@" is said: "at", and in Indian English "at the rate" (of) ("priya at the rate gmail dot com").
AT_SIGNS = (("at", "the", "rate", "of"), ("at", "the", "rate"), ("at",))
PHONE_PLUS_DIGITS = 6  # "plus" starts a number only before this many digits ("plus nine one ...", not "plus 23")

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|\d+")


@dataclass(frozen=True)
class Normalized:
    """Written form of a transcript and, per character, the original ``[start, end)`` it came from."""

    text: str
    original: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Original character span covering the written-form span ``[start, end)``."""
        if not self.text:
            return 0, 0
        start = max(0, min(start, len(self.text) - 1))
        end = max(start + 1, min(end, len(self.text)))
        return min(self.starts[start:end]), max(self.ends[start:end])


@dataclass
class _Tok:
    text: str  # written form
    start: int  # original offsets
    end: int
    kind: str = "word"  # word | num | sym | merged


def normalize(text: str) -> Normalized:
    """Rewrite spoken numbers, letters-and-digits codes, e-mail addresses, domains and ordinal dates.

    The text is folded first (:func:`transforms.core.text.fold`: invisible characters removed, NFKC,
    look-alike letters of mixed-script tokens in Latin), so detection sees what a reader sees; the
    offset map runs through both steps back to ``text``, so a span covers any invisible character
    inside the original words ("jen\u200bnifer" is one word)."""
    folded = fold(text)
    written = _written(folded.text)
    if folded.identity:
        return written
    starts = tuple(folded.starts[s] for s in written.starts)
    ends = tuple(folded.ends[e - 1] for e in written.ends)
    return Normalized(written.text, text, starts, ends)


def _written(text: str) -> Normalized:
    toks = [_Tok(m.group(), m.start(), m.end(), "num" if m.group().isdigit() else "word") for m in _WORD.finditer(text)]
    toks = _numbers(text, toks)
    toks = _ordinal_dates(text, toks)
    toks = _codes(text, toks)
    toks = _addresses_online(text, toks)
    return _render(text, toks)


def _lower(tok: _Tok) -> str:
    return tok.text.lower()


def _joined(text: str, a: _Tok, b: _Tok) -> bool:
    """Two tokens separated only by spaces (or a hyphen, as in "twenty-one")."""
    gap = text[a.end : b.start]
    return gap.strip(" ") in ("", "-") and "\n" not in gap


def _numbers(text: str, toks: list[_Tok]) -> list[_Tok]:
    """Collapse runs of number words into digit strings ("nineteen eighty five" → "1985")."""
    out: list[_Tok] = []
    i = 0
    while i < len(toks):
        j, digits = _number_run(text, toks, i)
        if j > i:
            out.append(_Tok(digits, toks[i].start, toks[j - 1].end, "num"))
            i = j
        else:
            out.append(toks[i])
            i += 1
    return out


def _is_digitish(w: str) -> bool:
    return w in UNITS or w in TEENS or w in TENS


def _number_run(text: str, toks: list[_Tok], i: int) -> tuple[int, str]:
    """Longest run of number words from ``i``: (end index, digits); (i, "") when none."""
    parts: list[str] = []
    j = i
    while j < len(toks):
        if j > i and not _joined(text, toks[j - 1], toks[j]):
            break
        w = _lower(toks[j])
        nxt = _lower(toks[j + 1]) if j + 1 < len(toks) and _joined(text, toks[j], toks[j + 1]) else ""
        if w in REPEATS and (nxt in UNITS or nxt in ZERO_WORDS):
            digit = "0" if nxt in ZERO_WORDS else str(UNITS[nxt])
            parts.append(digit * REPEATS[w])
            j += 2
            continue
        if w in ZERO_WORDS and (parts or nxt in UNITS or nxt in ZERO_WORDS or nxt in REPEATS):
            parts.append("0")
            j += 1
            continue
        if _is_digitish(w):
            k, value = _cardinal(text, toks, j)
            parts.append(value)
            j = k
            continue
        break
    return j, "".join(parts)


def _cardinal(text: str, toks: list[_Tok], i: int) -> tuple[int, str]:
    """One number phrase from ``i`` ("four hundred and twelve", "twenty one", "seven")."""

    def word(k: int) -> str:
        return _lower(toks[k]) if k < len(toks) and _joined(text, toks[k - 1], toks[k]) else ""

    w = _lower(toks[i])
    total, j = 0, i + 1
    if w in TENS:
        total = TENS[w]
        if word(j) in UNITS and UNITS[word(j)] > 0:
            total += UNITS[word(j)]
            j += 1
        return j, str(total)
    total = UNITS.get(w, TEENS.get(w, 0))
    if w == "zero":
        return j, "0"
    if word(j) == "thousand":
        total *= 1000
        j += 1
        if word(j) == "and":
            j += 1
        if word(j) in UNITS and word(j + 1) == "hundred":
            total += UNITS[word(j)] * 100
            j += 2
            if word(j) == "and":
                j += 1
        j, total = _below_hundred(toks, j, total, word)
        return j, str(total)
    if word(j) == "hundred":
        total *= 100
        j += 1
        if word(j) == "and":
            j += 1
        j, total = _below_hundred(toks, j, total, word)
        return j, str(total)
    return j, str(total)


def _below_hundred(toks, j, total, word):
    w = word(j) if j < len(toks) else ""
    if w in TENS:
        total += TENS[w]
        j += 1
        if word(j) in UNITS and UNITS[word(j)] > 0:
            total += UNITS[word(j)]
            j += 1
    elif w in TEENS:
        total += TEENS[w]
        j += 1
    elif w in UNITS and UNITS[w] > 0:
        total += UNITS[w]
        j += 1
    return j, total


def _ordinal_dates(text: str, toks: list[_Tok]) -> list[_Tok]:
    """Ordinals next to a month name ("march third", "the twenty first of june") → "3rd", "21st"."""
    out: list[_Tok] = []
    i = 0
    while i < len(toks):
        w = _lower(toks[i])
        value, j = None, i + 1
        if w in ORDINALS:
            value = ORDINALS[w]
        elif w in TENS and j < len(toks) and _lower(toks[j]) in ORDINALS and ORDINALS[_lower(toks[j])] < 10:
            value = TENS[w] + ORDINALS[_lower(toks[j])]
            j += 1
        elif w.isdigit() and j < len(toks) and _lower(toks[j]) in ORDINALS and ORDINALS[_lower(toks[j])] < 10:
            # "twenty first" → number "20" followed by "first"
            if len(w) == 2 and w.endswith("0") and w[0] in "23":
                value = int(w) + ORDINALS[_lower(toks[j])]
                j += 1
        if value is not None and _near_month(toks, i, j):
            suffix = "th" if 10 < value % 100 < 14 else {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")
            out.append(_Tok(f"{value}{suffix}", toks[i].start, toks[j - 1].end, "ord"))
            i = j
            continue
        out.append(toks[i])
        i += 1
    return out


def _near_month(toks: list[_Tok], i: int, j: int) -> bool:
    before = [_lower(t) for t in toks[max(0, i - 2) : i]]
    after = [_lower(t) for t in toks[j : j + 2]]
    return (bool(before) and before[-1] in MONTHS) or (bool(after) and (after[0] in MONTHS or after[-1] in MONTHS))


def _codes(text: str, toks: list[_Tok]) -> list[_Tok]:
    """Join spelled codes: single letters and digit groups said one after another
    ("g zero nine zero x f" → "g090xf", "five five five dash zero one" → "555-01")."""
    out: list[_Tok] = []
    i = 0
    while i < len(toks):
        j = i
        pieces: list[str] = []
        while j < len(toks):
            if j > i and text[toks[j - 1].end : toks[j].start].strip(" "):
                break
            tok = toks[j]
            w = _lower(tok)
            # "plus nine one ..." is "+91...", unless "plus" is a sum ("nineteen plus twenty three")
            if not pieces and w == "plus" and j + 1 < len(toks) and toks[j + 1].kind == "num":
                if _joined(text, tok, toks[j + 1]) and (i == 0 or toks[i - 1].kind != "num"):
                    pieces.append("+")
                    j += 1
                    continue
            if tok.kind == "num" or (len(w) == 1 and w.isalpha()):
                pieces.append(tok.text)
                j += 1
                continue
            # a dash / dot between two code parts ("five five five dash zero one")
            if w in ("dash", "hyphen", "dot", "point") and pieces and j + 1 < len(toks) and toks[j + 1].kind == "num":
                if _joined(text, tok, toks[j + 1]):
                    pieces.append(SYMBOLS[w])
                    j += 1
                    continue
            break
        run = toks[i:j]
        digits = sum(c.isdigit() for c in "".join(pieces))
        spoken = any(t.text != text[t.start : t.end] or len(t.text) == 1 for t in run)
        needed = PHONE_PLUS_DIGITS if pieces[:1] == ["+"] else 2
        if len(run) > 1 and digits >= needed and spoken and not _bad_letter_edges(run):
            out.append(_Tok("".join(pieces), run[0].start, run[-1].end, "num"))
            i = j
        else:
            out.append(toks[i])
            i += 1
    return out


def _bad_letter_edges(run: list[_Tok]) -> bool:
    """A run must not start or end with the words "a" / "i" ("i live at 12", "set a 5 minute"); a long
    spelled code may end in one ("s w one a one a a": SW1A 1AA), five pieces or more with two digits."""
    if _lower(run[0]) in ("a", "i"):
        return True
    long_code = len(run) >= 5 and sum(t.kind == "num" for t in run) >= 2
    return _lower(run[-1]) in ("a", "i") and not long_code


def _addresses_online(text: str, toks: list[_Tok]) -> list[_Tok]:
    """E-mail addresses and domains: "john dot smith at example dot com" → "john.smith@example.com"."""
    i = 0
    out: list[_Tok] = []
    while i < len(toks):
        end, domain = _domain(text, toks, i)
        if end > i:
            # "<local> at <domain>": fold the local part already emitted into an e-mail address
            at = _at_sign(text, out)
            if at and len(out) > at and _joined(text, out[-at - 1], out[-at]):
                local_end = len(out) - at
                local_start = _local_start(text, out, local_end)
                if local_start < local_end:
                    local = "".join(t.text for t in out[local_start:local_end])
                    merged = _Tok(f"{local}@{domain}".lower(), out[local_start].start, toks[end - 1].end, "merged")
                    del out[local_start:]
                    out.append(merged)
                    i = end
                    continue
            out.append(_Tok(domain.lower(), toks[i].start, toks[end - 1].end, "merged"))
            i = end
            continue
        out.append(toks[i])
        i += 1
    return out


def _at_sign(text: str, out: list[_Tok]) -> int:
    """How many of the last tokens of ``out`` say "@" (0: none), longest form first."""
    for words in AT_SIGNS:
        n = len(words)
        tail = out[-n:]
        if len(tail) == n and tuple(_lower(t) for t in tail) == words:
            if all(_joined(text, a, b) for a, b in zip(tail, tail[1:], strict=False)):
                return n
    return 0


def _domain(text: str, toks: list[_Tok], i: int) -> tuple[int, str]:
    """``label (dot label)+`` ending in a known TLD, from ``i``: (end index, "a.b.com")."""
    labels = [toks[i].text]
    j = i + 1
    best = (i, "")
    while j + 1 < len(toks) and _lower(toks[j]) in ("dot", "point") and _joined(text, toks[j - 1], toks[j]):
        if not _joined(text, toks[j], toks[j + 1]):
            break
        labels.append(toks[j + 1].text)
        j += 2
        if _lower(toks[j - 1]) in TLDS:
            best = (j, ".".join(labels))
    if _lower(toks[i]) in SYMBOLS or _lower(toks[i]) == "at":
        return i, ""
    return best


def _local_start(text: str, out: list[_Tok], local_end: int) -> int:
    """First token of an e-mail local part ending before ``local_end`` ("john dot smith")."""
    k = local_end - 1
    if k < 0 or _lower(out[k]) in SYMBOLS:
        return local_end
    out[k] = _Tok(out[k].text, out[k].start, out[k].end, out[k].kind)
    # "eric nine six at ...": digits said after a word are the end of a local part ("eric96"), not
    # the whole of it; without this the name before them stayed readable.
    if (
        out[k].kind == "num"
        and k >= 1
        and out[k - 1].kind == "word"
        and out[k - 1].text.isalpha()
        and _lower(out[k - 1]) not in NOT_LOCAL_PART
        and _lower(out[k - 1]) not in NUMBER_WORDS
        and _joined(text, out[k - 1], out[k])
    ):
        k -= 1
    while k >= 2 and _lower(out[k - 1]) in SYMBOLS and _joined(text, out[k - 2], out[k - 1]):
        out[k - 1] = _Tok(SYMBOLS[_lower(out[k - 1])], out[k - 1].start, out[k - 1].end, "sym")
        k -= 2
    # "j duncan at ...", "grampson renee at ...": a local part said as two words (an initial, or first
    # and last name run together in writing). One word more, when it cannot be the frame's own word.
    if k == local_end - 1 and k >= 1 and out[k].kind == "word" and _local_word(out[k - 1]):
        if _joined(text, out[k - 1], out[k]):
            k -= 1
    return k


def _local_word(tok: _Tok) -> bool:
    from spacy.lang.en.stop_words import STOP_WORDS

    w = _lower(tok)
    return (
        tok.kind == "word"
        and w.isalpha()
        and w not in NOT_LOCAL_PART
        and w not in NUMBER_WORDS
        and (len(w) == 1 or w not in STOP_WORDS)
    )


def _render(text: str, toks: list[_Tok]) -> Normalized:
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for tok in toks:
        if tok.start < pos:
            continue
        for c in range(pos, tok.start):  # the gap is copied verbatim
            parts.append(text[c])
            starts.append(c)
            ends.append(c + 1)
        if tok.text == text[tok.start : tok.end]:
            for c in range(tok.start, tok.end):
                parts.append(text[c])
                starts.append(c)
                ends.append(c + 1)
        else:
            parts.append(tok.text)
            starts.extend([tok.start] * len(tok.text))
            ends.extend([tok.end] * len(tok.text))
        pos = tok.end
    for c in range(pos, len(text)):
        parts.append(text[c])
        starts.append(c)
        ends.append(c + 1)
    return Normalized("".join(parts), text, tuple(starts), tuple(ends))
