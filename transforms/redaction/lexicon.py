"""Word lists for lower-case name and place recognition, built from Faker's locale providers.

In:  Faker's person and address providers (every locale Faker ships) and the English dictionary of
     :mod:`transforms.redaction.wordlists`.
Out: :class:`Lexicon` — lower-cased first names, last names, places (cities, states, countries)
     and street suffixes, plus :func:`common_words`, the Faker words that are also ordinary English
     words, which only count as names with context.
Fails: ImportError if Faker is missing (it is a hard dependency of the transcript stage).

A Faker name or place word that the dictionary lists in lower case is an ordinary word ("will",
"may", "bill", "street"); so is any word of one or two characters ("al", "jo"), and a month or
weekday name (:data:`transforms.redaction.wordlists.CALENDAR_WORDS`: the dictionary capitalises them,
yet "what's on in june" names no one). The test runs on every spelling the recognizers compare with:
the word as Faker writes it and its accent-free fold, so "Côme" (folded "come") is as common as "come".
Both sets are derived here when first used, from the Faker installed (``constraints.txt`` pins it).

The all-locale lexicon (the job's default, ``gazetteer_locales: []``) also ships pre-built as
``data/faker_lexicon.json.gz``, keyed by the Faker version, the dictionary's SHA-256 and
:data:`LEXICON_FORMAT`: every worker process read it in about 0.1 s instead of importing Faker's
~100 locale providers and folding 150,000 words (0.95 s CPU). When the key does not match (another
Faker, another dictionary) the lexicon is built live as before, so a stale file costs time, never
correctness; a test checks the shipped file equals the live build. ``python -m
transforms.redaction.lexicon`` rewrites it.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import importlib
import json
import pkgutil
import sys
from dataclasses import dataclass
from importlib import resources
from typing import NamedTuple

from transforms.core.caches import process_cache

ENGLISH_LOCALES = ("en", "en_US", "en_GB", "en_IE", "en_NZ", "en_CA", "en_AU")
FIRST_NAME_ATTRS = ("first_names", "first_names_male", "first_names_female")
PLACE_ATTRS = ("cities", "city_names", "states", "provinces", "regions", "countries")


def _values(value) -> list[str]:
    if isinstance(value, dict):
        value = list(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [v for v in value if isinstance(v, str)]
    return []


def _fold(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _lowered(values) -> set[str]:
    return {v.strip().lower() for v in values if v.strip()}


def _with_folds(words: frozenset[str]) -> frozenset[str]:
    """Words plus their accent-free spelling (ASR writes "dabrowa", not "dąbrowa")."""
    folded = {_fold(w) for w in words}
    return frozenset(words | {f for f in folded if f})


@dataclass(frozen=True)
class Lexicon:
    first_names: frozenset[str]
    last_names: frozenset[str]
    english_names: frozenset[str]  # first names from English-speaking locales
    places: frozenset[str]  # may be several words ("new york", "czech republic")
    street_suffixes: frozenset[str]
    common: frozenset[str]
    # accent-free spellings no Faker list writes itself ("come" from "Côme", "dabrowa" from "dąbrowa")
    folds_only: frozenset[str] = frozenset()


class _FakerValues(NamedTuple):
    """Faker's values, lower-cased as written (no accent folding)."""

    first_names: frozenset[str]
    last_names: frozenset[str]
    english_names: frozenset[str]
    places: frozenset[str]
    street_suffixes: frozenset[str]


@process_cache(maxsize=4)
def _faker_values(locales: tuple[str, ...]) -> _FakerValues:
    from faker.providers import address, person

    def providers(package):
        names = [m.name for m in pkgutil.iter_modules(package.__path__)]
        for name in names:
            if not locales or name in locales or name.split("_")[0] in locales:
                yield name, importlib.import_module(f"{package.__name__}.{name}").Provider

    first, last, english, places, suffixes = set(), set(), set(), set(), set()
    for name, provider in providers(person):
        names = set()
        for attr in FIRST_NAME_ATTRS:
            names |= _lowered(_values(getattr(provider, attr, None)))
        first |= names
        if name in ENGLISH_LOCALES:
            english |= names
        last |= _lowered(_values(getattr(provider, "last_names", None)))
    for _, provider in providers(address):
        for attr in PLACE_ATTRS:
            places |= _lowered(_values(getattr(provider, attr, None)))
        suffixes |= _lowered(_values(getattr(provider, "street_suffixes", None)))
    return _FakerValues(*(frozenset(s) for s in (first, last, english, places, suffixes)))


def is_common(word: str, dictionary: frozenset[str]) -> bool:
    """A Faker word that is also an ordinary word: the dictionary lists it in lower case, it is a month or
    weekday name, or it has at most two characters (too short to tell a name from a word: "al", "jo", "de")."""
    from transforms.redaction.wordlists import CALENDAR_WORDS

    return len(word) <= 2 or word in dictionary or word in CALENDAR_WORDS


def _faker_words(values: _FakerValues) -> set[str]:
    """Every first name, last name, street suffix and word of a place name, as Faker writes them."""
    words = set(values.first_names | values.last_names | values.street_suffixes)
    for place in values.places:
        words.update(place.split())
    return words


@process_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Faker words of every locale that are also ordinary words (:func:`is_common`), in each spelling the
    lexicon holds: as Faker writes them and accent-free (:func:`_with_folds`). A fold that is an ordinary
    word counts whatever accent the Faker word had ("côme" → "come", "âge" → "age", "vísa" → "visa"):
    without that, 142 English words were foreign first names."""
    cached = _cached_lexicon()
    return cached.common if cached is not None else _live_common()


@process_cache(maxsize=1)
def _live_common() -> frozenset[str]:
    from transforms.redaction.wordlists import dictionary_words

    dictionary = dictionary_words()
    return frozenset(w for w in _with_folds(frozenset(_faker_words(_faker_values(())))) if is_common(w, dictionary))


@process_cache(maxsize=4)
def build_lexicon(locales: tuple[str, ...] = ()) -> Lexicon:
    """Names and places from Faker's providers (all locales when ``locales`` is empty: read from the
    shipped file when it was built from the same Faker and dictionary)."""
    if not locales:
        cached = _cached_lexicon()
        if cached is not None:
            return cached
    return _live_lexicon(tuple(locales))


def _live_lexicon(locales: tuple[str, ...], common: frozenset[str] | None = None) -> Lexicon:
    """Derived from Faker; ``common`` defaults to :func:`common_words` (one set for every locale)."""
    values = _faker_values(locales)
    written = frozenset(_faker_words(values))
    return Lexicon(
        first_names=_with_folds(values.first_names),
        last_names=_with_folds(values.last_names),
        english_names=_with_folds(values.english_names),
        places=_with_folds(values.places),
        street_suffixes=_with_folds(values.street_suffixes),
        common=common_words() if common is None else common,
        folds_only=_with_folds(written) - written,
    )


# --- the shipped all-locale lexicon -------------------------------------------------------------------

LEXICON_FORMAT = 1  # raise when the derivation above changes (the test comparing with a live build fails until then)
CACHE_FILE = "faker_lexicon.json.gz"


def cache_key() -> dict:
    """What the shipped lexicon was built from: Faker's version, the dictionary file's SHA-256, the format."""
    import faker

    from transforms.redaction.wordlists import DATA_DIR, ENGLISH_FILE

    dictionary = resources.files("transforms.redaction").joinpath(DATA_DIR).joinpath(ENGLISH_FILE).read_bytes()
    return {
        "faker": faker.VERSION,
        "dictionary_sha256": hashlib.sha256(dictionary).hexdigest(),
        "format": LEXICON_FORMAT,
    }


@process_cache(maxsize=1)
def _cached_lexicon() -> Lexicon | None:
    """The shipped all-locale lexicon, or None when it is absent or was built from something else."""
    from transforms.redaction.wordlists import DATA_DIR

    try:
        raw = resources.files("transforms.redaction").joinpath(DATA_DIR).joinpath(CACHE_FILE).read_bytes()
    except FileNotFoundError:
        return None
    document = json.loads(gzip.decompress(raw))
    if document.get("key") != cache_key():
        return None
    return Lexicon(**{name: frozenset(words) for name, words in document["fields"].items()})


def write_cache(path: str) -> None:
    """Build the all-locale lexicon live and write it with its key (sorted lists; the same bytes on a rerun)."""
    from transforms.redaction.wordlists import write_gzip

    lexicon = _live_lexicon((), _live_common())
    fields = {f.name: sorted(getattr(lexicon, f.name)) for f in dataclasses.fields(Lexicon)}
    body = json.dumps({"key": cache_key(), "fields": fields}, ensure_ascii=False, separators=(",", ":"))
    write_gzip(body.encode("utf-8"), path)


if __name__ == "__main__":
    import os

    from transforms.redaction.wordlists import DATA_DIR

    target = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), DATA_DIR, CACHE_FILE)
    write_cache(target)
    print(f"wrote {target}")
