"""Word shapes and word sets the recognizers share.

In:  nothing (constants); spaCy's English stop words.
Out: :data:`WORD` (a word with an optional apostrophe part), :data:`CONTRACTION`, :data:`STOP_WORDS`,
     :data:`SKIP_WORDS` (capitalised words that are never names) and :func:`is_capitalised`.
Fails: never.
"""

from __future__ import annotations

import re

from spacy.lang.en.stop_words import STOP_WORDS

__all__ = ["CONTRACTION", "SKIP_WORDS", "STOP_WORDS", "WORD", "is_capitalised"]

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
CONTRACTION = re.compile(r"['’](?:s|re|ll|ve|d|m|t)$|n['’]t$")

# Capitalised in written text without naming anyone: the pronoun, weekdays, months, titles, interjections.
SKIP_WORDS = frozenset(
    "i i'm i'll i've i'd monday tuesday wednesday thursday friday saturday sunday january february march april "
    "may june july august september october november december mr mrs ms dr oh ok hi c'mon asap atm".split()
)


def is_capitalised(word: str) -> bool:
    """Title case ("Amelia"), not all capitals ("NASA") and not lower case."""
    return word[:1].isupper() and not word.isupper()
