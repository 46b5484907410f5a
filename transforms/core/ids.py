"""Canonical account ids: the one form in which opt-out/deletion lists and clips are matched.

In:  an account id as a list file or a manifest spells it — with a byte-order mark, padding
     (spaces, NBSP, tabs), invisible characters (zero-width space, soft hyphen), fullwidth
     digits or another letter case.
Out: ``canonical_id(value)``: Unicode NFKC, every format character (category Cf) removed,
     whitespace stripped at both ends, case-folded unless the lists are configured
     case-sensitive. ``valid_id(canonical)`` says whether that is one id a list can name.
Fails: nothing raises here; callers refuse (lists) or quarantine (clips) what is not valid.

Both sides of the opt-out join go through ``canonical_id``, so a listed customer matches however
either file spelled the id. Only the join key is canonical: pseudonyms and everything else keep
the clip's own ``account_id``. Look-alike letters of other scripts (Cyrillic "А" for Latin "A")
are different characters and stay different ids: NFKC does not fold confusables, and folding
them would merge real, distinct ids.
"""

from __future__ import annotations

import re
import unicodedata

MAX_ID_CHARS = 256

# Inside an id: no whitespace, no separator a list line would use for a second column or a
# comment, no quote (an unbalanced quote is a formatting mistake, not part of an id).
_FORBIDDEN_ASCII = re.compile(r"[\x00-\x20\x7f,;|#\"']")


def canonical_id(value: str, case_sensitive: bool = False) -> str:
    """The matching form of an account id (see the module docstring). Idempotent."""
    if value.isascii():  # the common case: NFKC and format characters cannot change it
        value = value.strip()
        return value if case_sensitive else value.lower()
    value = "".join(ch for ch in unicodedata.normalize("NFKC", value) if unicodedata.category(ch) != "Cf").strip()
    if not case_sensitive:
        # casefold() can leave text that is not NFKC ("ǰ" → "ǰ"): normalise again.
        value = unicodedata.normalize("NFKC", value.casefold())
    return value


def valid_id(canonical: str) -> bool:
    """True for one non-empty id of at most 256 characters without whitespace, control, format,
    separator or unassigned characters, and without ``, ; | # " '`` (what a second column, a
    comment or broken quoting leaves in a list line)."""
    if not canonical or len(canonical) > MAX_ID_CHARS or _FORBIDDEN_ASCII.search(canonical):
        return False
    if canonical.isascii():
        return True
    return not any(ch.isspace() or unicodedata.category(ch)[0] in "CZ" for ch in canonical)


def invalid_reason(canonical: str) -> str:
    """Why ``valid_id(canonical)`` is False, in words that never quote the value."""
    if not canonical:
        return "no id"
    if len(canonical) > MAX_ID_CHARS:
        return f"longer than {MAX_ID_CHARS} characters"
    if any(ch in ",;|\t" or ch.isspace() for ch in canonical):
        return "more than one field (whitespace, comma, semicolon, bar or tab inside the id)"
    if "#" in canonical:
        return "'#' inside the id (a comment must follow whitespace)"
    if any(ch in "\"'" for ch in canonical):
        return "unbalanced or inner quotes"
    return "a control, invisible or unassigned character"
