"""Ordinary assistant phrases stay readable; the same words still go when they name someone (issue 14).

Each phrase is one kind of false positive the stage produced: the spoken NER model on rates, times,
titles, app names and route words; the name gazetteer on a month after "in" and on English words that
are foreign first names once their accents are folded; rules on banking words, amounts before "to" and
ordinary-word group names. The whole stage runs (rules, the model and Presidio), as in the job.

Not here, still over-redacted by the shipped model: song titles ("play holly jolly christmas"), app
names used as verbs ("whatsapp the photos to the office group"), "the fastest route home", "netflix
... per month". Training with PII-free commands as negatives fixes them at a recall cost on the
held-out families (``pipeline/training/spoken_data.py``, ``COMMANDS``), so it is off.
"""

import pytest

ORDINARY = [
    "alexa how much is it per month",  # Per: a Faker first name; "per": a stop word
    "remind me in a minute",
    "set a timer for a minute and a half",
    "alexa what's on in june",  # June: a first name; after "in", a month
    "is the pharmacy open on sunday",
    "will you come tomorrow",  # Côme folds to "come"
    "what's the age limit for the gym",  # Âge
    "do i need a visa",  # Vísa; also a credit card context word
    "alexa will it rain tomorrow",
    "alexa mark this as done",
    "alexa can you turn the lights off",
    "alexa pay the electricity bill",
    "convert ten miles to km",  # "to" is a Faker street suffix
    "transfer five thousand to my savings",
    "what is an iban",  # Iban: a first name; a frame word of the IBAN recognizer
    "post this photo in the family group",  # an ordinary word before an ordinary company suffix
    "send a text asking about dinner",  # "asking" after "text"
    "add card to my wallet",
    "find a recipe with sage and basil",
    "it's sunny today",
    "my zip code is",
    "rock concerts next week",  # the model's PERSON hit ends in a plural common noun
    "job fairs near me",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_when_phrase_is_ordinary_then_nothing_is_redacted(engines, text):
    (found,) = engines.detector.detect_batch([text], [{}])
    assert [text[d.start : d.end] for d in found] == []


@pytest.mark.parametrize(
    "text, name",
    [
        ("call june now", "june"),
        ("text bill that i am running late", "bill"),
        ("my name is grace", "grace"),
        ("send kimohn a text asking about dinner", "kimohn"),
        ("how much does priyanka owe me per month", "priyanka"),
        # a possessive names an owner: the span scorer's "play ___" frame may not drop it
        ("play holly's playlist", "holly"),
        ("play marcus' workout mix", "marcus"),
    ],
)
def test_when_the_same_words_name_someone_then_they_are_redacted(engines, text, name):
    (found,) = engines.detector.detect_batch([text], [{}])
    assert name in [text[d.start : d.end] for d in found] or any(
        d.start <= text.index(name) and d.end >= text.index(name) + len(name) for d in found
    ), found


@pytest.mark.parametrize(
    "text, name, word",
    [
        ("alexa call jennifer tonight", "jennifer", "tonight"),
        ("call mark tonight", "mark", "tonight"),
        ("text john now please", "john", "now"),
        ("call priyanka tomorrow", "priyanka", "tomorrow"),
    ],
)
def test_when_a_time_word_follows_a_name_then_only_the_name_is_redacted(engines, text, name, word):
    (found,) = engines.detector.detect_batch([text], [{}])
    redacted = [text[d.start : d.end] for d in found]
    assert name in " ".join(redacted) and not any(word in r for r in redacted), redacted


@pytest.mark.parametrize(
    "text, names",
    [
        ("add bill and malinda", ["bill", "malinda"]),  # "bill" alone is an ordinary word the lists score low
        ("book a table for me rebecca and loraine tonight", ["rebecca", "loraine"]),
    ],
)
def test_when_names_are_joined_by_and_then_each_is_a_person(engines, text, names):
    (found,) = engines.detector.detect_batch([text], [{}])
    redacted = " ".join(text[d.start : d.end] for d in found)
    assert all(n in redacted for n in names), redacted


@pytest.mark.parametrize(
    "text, kept",
    [
        ("pay the bill and call malinda", "bill"),  # a determiner before it: a thing
        ("find a recipe with sage and basil", "sage"),  # no name on either side
    ],
)
def test_when_a_word_beside_and_is_a_thing_then_it_stays(engines, text, kept):
    (found,) = engines.detector.detect_batch([text], [{}])
    assert not any(kept in text[d.start : d.end] for d in found), found


@pytest.mark.parametrize(
    "text, name, word",
    [
        ("please make sure kiera knows that dinner is at six", "kiera", "knows"),
        ("call tyra banks", "tyra banks", None),  # a family name that is also a plural noun is listed
        ("directions to palm springs", "palm springs", None),  # after a place preposition: maybe a place
    ],
)
def test_when_a_name_hit_ends_in_a_plural_word_then_the_name_still_goes(engines, text, name, word):
    (found,) = engines.detector.detect_batch([text], [{}])
    redacted = [text[d.start : d.end] for d in found]
    assert name in " ".join(redacted) and (word is None or not any(word in r for r in redacted)), redacted


@pytest.mark.parametrize(
    "text, city",
    [
        ("what type of music events are going on in manchester this month", "manchester"),
        ("looking for something fun to do in miami on saturday", "miami"),
    ],
)
def test_when_a_city_follows_a_place_preposition_then_the_commands_other_words_cannot_keep_it(engines, text, city):
    (found,) = engines.detector.detect_batch([text], [{}])
    assert city in [text[d.start : d.end] for d in found], found


@pytest.mark.parametrize(
    "text",
    [
        "play some symphony music from david lindley",  # a city's name as a first name: an artist
        "play songs by chicago",  # "by": authorship, a band
    ],
)
def test_when_a_city_word_names_an_artist_then_the_place_frame_does_not_claim_it(engines, text):
    (found,) = engines.detector.detect_batch([text], [{}])
    assert not [d for d in found if d.entity_type == "LOCATION"], found


@pytest.mark.parametrize(
    "text", ["s seven seven nine y e", "my postcode is s w one a one a a", "it's e c one a one b b"]
)
def test_when_a_uk_postcode_is_spelled_out_then_it_is_redacted_without_a_context_word(engines, text):
    (found,) = engines.detector.detect_batch([text], [{}])
    assert found and found[-1].end == len(text), found


@pytest.mark.parametrize(
    "text, place, unit",
    [
        ("temperature next week in tokyo fahrenheit", "tokyo", "fahrenheit"),
        ("is it going to be below twenty two in degrees celsius new york", "new york", "celsius"),
    ],
)
def test_when_a_unit_of_measure_borders_a_place_then_only_the_place_goes(engines, text, place, unit):
    (found,) = engines.detector.detect_batch([text], [{}])
    redacted = [text[d.start : d.end] for d in found]
    assert place in redacted and not any(unit in r for r in redacted), redacted


@pytest.mark.parametrize(
    "text, name",
    [
        ("book a doctor's appointment for kelvin on the first of april", "kelvin"),
        ("send a message to michael foot", "foot"),  # a listed family name: never trimmed as a unit
    ],
)
def test_when_a_unit_is_also_a_listed_name_then_it_is_not_a_unit(engines, text, name):
    (found,) = engines.detector.detect_batch([text], [{}])
    assert any(name in text[d.start : d.end] for d in found), found
