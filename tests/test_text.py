"""Text folding (transforms.core.text): what is folded, what is left alone, offsets back to the original."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.core.text import fold, is_ignorable, skeleton, skeleton_char

ZWSP, ZWJ, ZWNJ, SHY = "\u200b", "\u200d", "\u200c", "\u00ad"  # zero-width space / joiner / non-joiner, soft hyphen
BOM, LRM, VS16, CGJ = "\ufeff", "\u200e", "\ufe0f", "\u034f"  # BOM, left-to-right mark, variation selector, CGJ


@pytest.mark.parametrize(
    "text, folded",
    [
        # invisible characters inside a word are removed
        (f"jen{ZWSP}nifer", "jennifer"),
        (f"SERIALX1{ZWJ}23", "SERIALX123"),
        (f"ro{SHY}sa{BOM}lind{LRM}", "rosalind"),
        (f"jen{VS16}ni{CGJ}fer", "jennifer"),
        (f"a{ZWNJ}b", "ab"),
        # compatibility forms (NFKC)
        ("ｊｅｎｎｉｆｅｒ", "jennifer"),
        ("ﬁve", "five"),
        ("𝐣𝐞𝐧", "jen"),
        ("①②", "12"),
        ("call\u00a0me", "call me"),
        # combining marks compose with their base (per grapheme cluster)
        ("jose\u0301", "josé"),
        ("a\u0323\u0302", "ậ"),
        # decomposed Hangul jamo compose into syllables
        ("\u1112\u1168\u110c\u1175\u11ab", "혜진"),
        # digits of any script are ASCII digits
        ("٤٨٢٩", "4829"),
        ("४८२९", "4829"),
        # a token mixing Latin with Cyrillic / Greek look-alikes is written in Latin
        ("G09\u041eXF0731", "G09OXF0731"),  # Cyrillic О
        ("\u0458ennifer", "jennifer"),  # Cyrillic ј
        ("SERI\u0391LX", "SERIALX"),  # Greek Α
        ("SER\u0406ALX", "SERIALX"),  # Cyrillic І: a capital stroke reads as I
        ("\u0410\u041212", "AB12"),  # Cyrillic letters with digits: a code, not a word
    ],
)
def test_when_text_is_disguised_then_fold_shows_what_a_reader_sees(text, folded):
    assert fold(text).text == folded


@pytest.mark.parametrize(
    "text",
    [
        "call jennifer on five five five",
        "Дмитрий",  # a genuinely Cyrillic name is not transliterated
        "позвони маме",
        "혜진에게 전화해",
        "καλημέρα",
        "東京タワー",  # Han + Katakana in one run: no Latin look-alikes folded
        "alexa 🎵 play שלום עולם مرحبا",
        "café",
        "expires soon ½ when",  # a fraction is not folded into digits ("1⁄2" reads as a house number)
        "",
    ],
)
def test_when_text_is_ordinary_then_fold_leaves_it_alone(text):
    result = fold(text)
    assert result.text == text
    assert result.to_original(0, len(text)) == (0, len(text))


@pytest.mark.parametrize(
    "text, needle, original",
    [
        (f"call jen{ZWSP}nifer now", "jennifer", f"jen{ZWSP}nifer"),
        (f"my serial is G09\u041eXF{ZWJ}07", "G09OXF07", f"G09\u041eXF{ZWJ}07"),
        ("ﬁve o'clock", "fi", "ﬁ"),
        ("say jose\u0301 twice", "josé", "jose\u0301"),
    ],
)
def test_when_a_folded_span_maps_back_then_it_covers_the_original_characters(text, needle, original):
    result = fold(text)
    start = result.text.index(needle)
    a, b = result.to_original(start, start + len(needle))
    assert text[a:b] == original


@pytest.mark.parametrize(
    "needle, haystack",
    [
        ("Jennifer", f"call JEN{ZWSP}NIFER"),
        ("Jennifer", "call \u0458\u0435nnif\u0435r"),  # Cyrillic ј, е in an otherwise Latin word
        ("G090XF0731945822", "serial ｇ090ｘｆ0731945822"),
        ("SERIALX123", "serial\u0405\u0415R\u0406\u0410LX123"),  # a fully look-alike prefix
        ("Дмитрий", "звонил ДМИТРИЙ вчера"),
        ("혜진", "\u1112\u1168\u110c\u1175\u11ab에게"),
        ("ACCT-4829", "acct-٤٨٢٩"),
        ("José", "call JOSE"),  # accents do not matter, either way
        ("Jose", "call josé"),
    ],
)
def test_when_a_value_is_disguised_then_its_skeleton_is_still_found(needle, haystack):
    assert skeleton(needle) in skeleton(haystack)


@pytest.mark.parametrize(
    "char, key",
    [
        ("A", "a"),
        ("\u0410", "a"),
        ("\u0406", "i"),
        ("é", "e"),
        ("Й", "и"),
        ("ß", "ß"),
        ("혜", "혜"),
        ("İ", "i"),
        ("7", "7"),
    ],
)
def test_skeleton_char_is_one_character_per_character(char, key):
    assert skeleton_char(char) == key


@pytest.mark.parametrize(
    "char, ignorable", [(ZWSP, True), (ZWJ, True), (SHY, True), (VS16, True), ("a", False), (" ", False)]
)
def test_is_ignorable_names_invisible_characters(char, ignorable):
    assert is_ignorable(char) is ignorable


PIECES = st.sampled_from(
    ["jen", "nifer", "G09", "XF", "Дмитрий", "혜진", "\u1112\u1168", "\u11ab", "e\u0301", "ﬁ", "٤٨", " ", ".", "-"]
    + ["\u041e", "\u0458", "\u0391", ZWSP, ZWJ, SHY, VS16, CGJ, "①", "ｊ", "🎵", "\u00a0"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=12))
def test_when_any_text_then_the_map_is_monotonic_and_covers_every_visible_character(pieces):
    text = "".join(pieces)
    result = fold(text)
    if result.identity:
        assert result.text == text
        return
    assert len(result.starts) == len(result.ends) == len(result.text)
    for i in range(len(result.text)):
        assert 0 <= result.starts[i] < result.ends[i] <= len(text)
        if i:
            assert result.starts[i - 1] <= result.starts[i] and result.ends[i - 1] <= result.ends[i]
    covered = {c for s, e in zip(result.starts, result.ends, strict=True) for c in range(s, e)}
    assert all(i in covered for i, ch in enumerate(text) if not is_ignorable(ch))
    assert not any(is_ignorable(ch) for ch in result.text)
    # folding twice changes nothing more
    assert fold(result.text).text == result.text
