"""Faker-style town names ("michaelchester", "new emilyburgh"), shared by the place and address recognizers.

In:  a word and the :class:`~transforms.redaction.lexicon.Lexicon`.
Out: whether the word is a name plus a town suffix.
Fails: never.
"""

from __future__ import annotations

from transforms.redaction.lexicon import Lexicon

CITY_SUFFIXES = (
    "burgh", "borough", "bury", "chester", "fort", "furt", "haven", "land", "mouth", "port", "shire", "side",
    "stad", "ton", "town", "view", "ville", "berg", "field", "ford", "ham", "wick", "wood", "stadt", "dorf",
)  # fmt: skip
CITY_PREFIXES = ("north", "south", "east", "west", "new", "lake", "port", "fort", "mount", "saint", "st")


def city_like(lexicon: Lexicon, word: str) -> bool:
    """Faker-style town names: a name plus a town suffix ("michaelchester", "new emilyburgh")."""
    w = word.lower()
    for suffix in CITY_SUFFIXES:
        if w.endswith(suffix) and len(w) > len(suffix) + 2:
            stem = w[: -len(suffix)]
            if stem in lexicon.first_names or stem in lexicon.last_names or stem.rstrip("s") in lexicon.last_names:
                return True
    return False
