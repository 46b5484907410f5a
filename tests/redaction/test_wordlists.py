"""The shipped English dictionary, the words derived from it, and the script that writes it."""

import gzip
import runpy
from fnmatch import fnmatch
from importlib import resources
from pathlib import Path
from unittest import mock

import pytest

from tests.conftest import REPO
from transforms.redaction import wordlists
from transforms.redaction.lexicon import build_lexicon, common_words, is_common


@pytest.mark.parametrize(
    "entry, english",
    [
        ("zucchini", True),
        ("éclair", True),  # accented letters are letters
        ("ed", False),  # two letters: too short to tell from an initial or a name
        ("people's", False),  # possessives and contractions are not words of their own
        ("iPod", False),  # not all lower case
    ],
)
def test_when_entry_checked_then_only_lower_case_words_of_three_letters_are_english(entry, english):
    assert wordlists.is_english_word(entry) is english


@pytest.mark.parametrize(
    "word, dictionary, common",
    [
        ("will", {"will"}, True),  # a first name the dictionary lists in lower case
        ("street", {"street"}, True),
        ("people's", {"people's"}, True),  # a possessive entry counts: why the whole lower-case list ships
        ("jo", set(), True),  # one or two characters: common whatever the dictionary says
        ("x", set(), True),
        ("priyanka", {"will"}, False),
        ("Will", {"will"}, False),  # Faker words arrive lower-cased; the rule does not fold case
        ("june", set(), True),  # months and weekdays: the dictionary capitalises them
    ],
)
def test_when_faker_word_checked_then_common_if_listed_or_at_most_two_characters(word, dictionary, common):
    assert is_common(word, frozenset(dictionary)) is common


@pytest.mark.parametrize(
    "word, common",
    [("will", True), ("may", True), ("bill", True), ("street", True), ("jo", True), ("people's", True)]
    + [("priyanka", False), ("amelia", False), ("london", False)],
)
def test_when_common_words_derived_then_faker_words_follow_the_rules(word, common):
    assert (word in common_words()) is common


@pytest.mark.parametrize("word", ["come", "age", "visa", "june", "sunday", "per"])
def test_when_a_faker_name_folds_to_an_ordinary_word_then_that_spelling_is_common(word):
    # "Côme", "Âge", "Vísa" fold to English words: "will you come tomorrow" names no one
    lexicon = build_lexicon()
    assert word in lexicon.common and word in (lexicon.first_names | lexicon.last_names | lexicon.places)


def test_when_common_words_derived_then_every_one_is_a_faker_word_that_follows_the_rules():
    dictionary = wordlists.dictionary_words()
    assert all(is_common(w, dictionary) for w in common_words())
    assert build_lexicon(("en",)).common is build_lexicon().common is common_words()  # one set for every locale


@pytest.mark.parametrize(
    "lines, entries",
    [
        (
            ["apple\n", "Apple\n", "apple's\n", "Zurich\n", "b\n", "\n", "zoo\n", "apple\n"],
            ["apple", "apple's", "b", "zoo"],
        ),
        (["Émile\n", "éclair\n", "  \n"], ["éclair"]),
    ],
)
def test_when_word_list_read_then_lower_case_entries_kept_sorted_once(lines, entries):
    assert wordlists.lower_case_entries(lines) == entries


def test_when_words_written_twice_then_same_bytes_and_they_read_back(tmp_path):
    first, second = tmp_path / "a.txt.gz", tmp_path / "b.txt.gz"
    wordlists.write_words(["a", "éclair", "zoo"], str(first))
    with mock.patch("time.time", return_value=2_000_000_000.0):
        wordlists.write_words(["a", "éclair", "zoo"], str(second))
    assert first.read_bytes() == second.read_bytes()
    assert gzip.decompress(first.read_bytes()).decode("utf-8") == "a\néclair\nzoo\n"


def test_when_script_runs_on_a_dictionary_then_it_writes_the_data_file(tmp_path):
    source, out = tmp_path / "words", tmp_path / "english_words.txt.gz"
    source.write_text("Aaron\naardvark\naardvark's\nAbby\nzoo\n", encoding="utf-8")
    assert wordlists.main([str(source), "--out", str(out)]) == 0
    assert gzip.decompress(out.read_bytes()).decode("utf-8").splitlines() == ["aardvark", "aardvark's", "zoo"]


def test_when_shipped_file_read_then_sorted_unique_lower_case_utf8():
    raw = resources.files("transforms.redaction").joinpath("data").joinpath(wordlists.ENGLISH_FILE).read_bytes()
    lines = gzip.decompress(raw).decode("utf-8").splitlines()
    assert lines == sorted(set(lines)) and all(w[:1].islower() for w in lines)
    assert wordlists.dictionary_words() == frozenset(lines)


def test_when_loaded_twice_then_read_once():
    assert wordlists.dictionary_words() is wordlists.dictionary_words()
    assert wordlists.english_words() is wordlists.english_words()
    assert wordlists.english_words() <= wordlists.dictionary_words()
    assert all(wordlists.is_english_word(w) for w in wordlists.english_words())


def test_when_packaged_then_package_data_covers_every_data_file():
    with mock.patch("setuptools.setup") as setup:
        runpy.run_path(str(Path(REPO) / "setup.py"))
    patterns = setup.call_args.kwargs["package_data"]["transforms.redaction"]
    data = Path(REPO) / "transforms" / "redaction" / "data"
    files = [p.relative_to(data.parent).as_posix() for p in data.iterdir() if p.is_file()]
    assert files and all(any(fnmatch(f, pattern) for pattern in patterns) for f in files), (files, patterns)


def test_when_the_shipped_lexicon_is_read_then_it_equals_a_live_build_from_the_installed_faker():
    # Fails when Faker, the dictionary or the derivation changed without `python -m transforms.redaction.lexicon`.
    from transforms.redaction import lexicon

    lexicon._cached_lexicon.cache_clear()
    shipped = lexicon._cached_lexicon()
    assert shipped is not None, "data/faker_lexicon.json.gz is missing or keyed to another Faker/dictionary"
    assert shipped == lexicon._live_lexicon((), lexicon._live_common())


def test_when_the_shipped_lexicon_was_built_from_something_else_then_it_is_built_live(monkeypatch):
    from transforms.redaction import lexicon

    monkeypatch.setattr(lexicon, "cache_key", lambda: {"faker": "0.0.0", "dictionary_sha256": "", "format": 0})
    lexicon._cached_lexicon.cache_clear()
    try:
        assert lexicon._cached_lexicon() is None
    finally:
        lexicon._cached_lexicon.cache_clear()
