"""Word lists for lower-case name and place recognition, built from Faker's locale providers.

In:  Faker's person and address providers (every locale Faker ships).
Out: :class:`Lexicon` — lower-cased first names, last names, places (cities, states, countries)
     and street suffixes, plus the set of those words that are also ordinary English words
     (``common_words.COMMON``), which only count as names with context.
Fails: ImportError if Faker is missing (it is a hard dependency of the transcript stage).

``python -m transforms.redaction.lexicon [--english] DICT`` regenerates ``common_words.py`` (or
``english_words.py``, every lower-case word of the list) from a word list
with one word per line where proper nouns are capitalised (Debian's ``wamerican``
``/usr/share/dict/american-english``, SCOWL): a Faker name or place that appears there in lower
case is an ordinary word ("will", "may", "bill", "street").
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import sys
from dataclasses import dataclass

ENGLISH_LOCALES = ("en", "en_US", "en_GB", "en_IE", "en_NZ", "en_CA", "en_AU")


def _values(value) -> list[str]:
    if isinstance(value, dict):
        value = list(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [v for v in value if isinstance(v, str)]
    return []


def _fold(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _words(values) -> set[str]:
    """Lower-cased values plus their accent-free spelling (ASR writes "dabrowa", not "dąbrowa")."""
    out = set()
    for v in values:
        v = v.strip().lower()
        if v:
            out.add(v)
            folded = _fold(v)
            if folded and folded != v:
                out.add(folded)
    return out


@dataclass(frozen=True)
class Lexicon:
    first_names: frozenset[str]
    last_names: frozenset[str]
    english_names: frozenset[str]  # first names from English-speaking locales
    places: frozenset[str]  # may be several words ("new york", "czech republic")
    street_suffixes: frozenset[str]
    common: frozenset[str]
    street_words: frozenset[str] = frozenset()  # every locale's street prefixes, suffixes, street names
    street_endings: frozenset[str] = frozenset()  # suffixes that end compound names ("koski|katu")

    def street_like(self, word: str) -> bool:
        """Is ``word`` a street word in some language ("Via", "Rua", "ul.", "Koskikatu", "Schachterlweg")?"""
        w = word.lower().strip(".,")
        if w in self.street_words:
            return True
        return any(w[-k:] in self.street_endings for k in range(3, min(len(w) - 2, 9)))


@functools.lru_cache(maxsize=4)
def build_lexicon(locales: tuple[str, ...] = ()) -> Lexicon:
    """Names and places from Faker's providers (all locales when ``locales`` is empty)."""
    from faker.providers import address, person

    from transforms.redaction.common_words import COMMON

    def modules(package):
        names = [m.name for m in pkgutil.iter_modules(package.__path__)]
        return [n for n in names if not locales or n in locales or n.split("_")[0] in locales]

    first, last, english = set(), set(), set()
    for name in modules(person):
        provider = importlib.import_module(f"{person.__name__}.{name}").Provider
        names = set()
        for attr in ("first_names", "first_names_male", "first_names_female"):
            names |= _words(_values(getattr(provider, attr, None)))
        first |= names
        if name in ENGLISH_LOCALES:
            english |= names
        last |= _words(_values(getattr(provider, "last_names", None)))
    places, suffixes, street = set(), set(), set()
    for name in modules(address):
        provider = importlib.import_module(f"{address.__name__}.{name}").Provider
        for attr in ("cities", "city_names", "states", "provinces", "regions", "countries"):
            places |= _words(_values(getattr(provider, attr, None)))
        suffixes |= _words(_values(getattr(provider, "street_suffixes", None)))
        for attr in dir(provider):
            if attr.startswith(("street_suffixes", "street_prefixes", "streets", "street_names", "street_titles")):
                for value in _words(_values(getattr(provider, attr, None))):
                    street |= {w.strip(".,") for w in value.split() if len(w.strip(".,")) >= 2}
    endings = {s.strip(".") for s in suffixes if len(s.strip(".")) >= 3 and " " not in s}
    return Lexicon(
        frozenset(first),
        frozenset(last),
        frozenset(english),
        frozenset(places),
        frozenset(suffixes),
        COMMON,
        frozenset(street | {s.strip(".") for s in suffixes}),
        frozenset(endings),
    )


def _generate(dict_path: str) -> None:
    from transforms.redaction import common_words

    lex = build_lexicon()
    with open(dict_path, encoding="utf-8") as handle:
        lower = {line.strip() for line in handle if line.strip() and line[0].islower()}
    vocab = set(lex.first_names | lex.last_names | lex.street_suffixes)
    for place in lex.places:
        vocab |= set(place.split())
    common = sorted(w for w in vocab if w in lower or len(w) <= 2)
    body = "\n".join(f"    {w!r}," for w in common)
    with open(common_words.__file__, "w", encoding="utf-8") as handle:
        handle.write(
            '"""Faker name/place words that are also ordinary English words (generated by\n'
            "``python -m transforms.redaction.lexicon /usr/share/dict/american-english``; word list:\n"
            'SCOWL via Debian wamerican). They count as names only with context."""\n\n'
            f"COMMON = frozenset(\n  (\n{body}\n  )\n)\n"
        )


def _generate_english(dict_path: str) -> None:
    import textwrap

    from transforms.redaction import english_words

    with open(dict_path, encoding="utf-8") as handle:
        words = sorted({w for w in (line.strip() for line in handle) if w.isalpha() and w.islower() and len(w) >= 3})
    body = "\n".join(textwrap.wrap(" ".join(words), 116))
    with open(english_words.__file__, "w", encoding="utf-8") as handle:
        handle.write(
            '"""Lower-case English words (SCOWL word list via Debian ``wamerican``; proper nouns there are '
            "capitalised,\nso names are not in it). Generated by ``python -m transforms.redaction.lexicon --english\n"
            '/usr/share/dict/american-english``. Used to tell a capitalised ordinary word ("Guilty Pleasures") from a\n'
            'name in written text."""\n\n'
            f'ENGLISH = frozenset(\n    """\n{body}\n""".split()\n)\n'
        )


if __name__ == "__main__":
    if sys.argv[1] == "--english":
        _generate_english(sys.argv[2])
    else:
        _generate(sys.argv[1])
