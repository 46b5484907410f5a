"""The music, business, contact and nationality frames (``transforms/redaction/frames.py``), the verb "miss", and what
the stage does with them."""

from __future__ import annotations

import pytest

from tests.redaction.conftest import hidden
from transforms.redaction.frames import business_frame, contact_frame, music_frame, nationality_as_kind


def _frame(text: str, span: str) -> str | None:
    start = text.index(span)
    return music_frame(text, start, start + len(span))


@pytest.mark.parametrize(
    "text, span, reason",
    [
        ("play justin bieber", "justin bieber", "music verb"),
        ("put on some miles davis", "miles davis", "music verb"),
        ("i want to listen to lady gaga", "lady gaga", "music verb"),
        ("find garth brooks songs", "garth brooks", "owner of music"),
        ("play adele's latest album", "adele", "owner of music"),  # the hit stops before its "'s"
        ("play justin bieber's new single", "justin", "owner of music"),  # the name goes on to its possessive
        ("switch from jack johnson radio to emo", "jack johnson", "owner of music"),
        ("find music by david bowie", "david bowie", "maker of music"),
        ("a song from miley cyrus please", "miley cyrus", "maker of music"),
        ("add the artist pete murray to my relaxing playlist", "pete murray", "musician"),
        ("add andy hunter to my evening commute playlist", "andy hunter", "playlist"),
        ("add tierney sutton to my reggae playlist", "add tierney sutton", "playlist"),  # the hit took the verb
    ],
)
def test_when_a_name_is_what_a_music_request_is_about_then_the_frame_says_why(text, span, reason):
    assert reason in (_frame(text, span) or "")


@pytest.mark.parametrize(
    "text, span",
    [
        ("play holly's playlist", "holly"),  # a playlist's owner is a person
        ("play zachary rosaldse's playlist", "zachary"),
        ("play john's voicemail", "john"),
        ("play the voicemail from sarah", "sarah"),  # a message's sender, not a music maker
        ("play sarah's favourite songs", "sarah"),  # whose favourites: not a modifier of the music
        ("add bill and malinda to the meeting", "bill"),  # "add" alone is how contacts are added
        ("add mom's number to my contacts", "mom"),
        ("navigate to kellybury station", "kellybury"),  # a station, a track, a stream are places too
        ("my address is four two eight one wheeler track", "wheeler"),
        ("houston music shows next friday", "houston"),  # the music says what kind of shows
        ("call adele", "adele"),
    ],
)
def test_when_a_name_is_someone_the_customer_knows_or_a_place_then_no_frame(text, span):
    assert _frame(text, span) is None


@pytest.mark.parametrize(
    "text, artist",
    [
        ("play miles davis", "miles davis"),  # the place list's "davis" inside the name goes with it
        ("i want to listen to katy perry", "katy perry"),
        ("add michael wittig music to my country playlist", "michael wittig"),
        ("play j cole", "j cole"),
    ],
)
def test_when_keep_policy_then_a_whole_artist_name_stays_and_redact_policy_hides_it(detectors, text, artist):
    assert not any(w in " ".join(hidden(detectors["keep"], text)).split() for w in artist.split())
    assert any(w in " ".join(hidden(detectors["redact"], text)).split() for w in artist.split())


@pytest.mark.parametrize(
    "text, name",
    [
        ("play holly's playlist", "holly"),
        ("play the voicemail from sarah", "sarah"),
        ("navigate to kellybury station", "kellybury"),
        ("houston music shows next friday", "houston"),
    ],
)
def test_when_no_music_frame_then_the_name_or_place_is_stillhidden(detectors, text, name):
    assert any(name in h for h in hidden(detectors["keep"], text))


def test_when_explained_then_the_artist_verdict_gives_the_frame(detectors):
    from transforms.redaction.spoken import normalize

    _, decisions = detectors["keep"].decide(normalize("play miles davis"), {})
    verdicts = [d.verdict for d in decisions]
    assert any("the object of a music verb ('play')" in v for v in verdicts)
    assert any("part of a public name ('miles davis')" in v for v in verdicts)


@pytest.mark.parametrize(
    "text",
    ["don't let me miss it", "if i miss one credit card payment", "i don't want to miss movie club at seven"],
)
def test_when_miss_is_the_verb_then_no_title_is_redacted(detectors, text):
    assert hidden(detectors["keep"], text) == []


@pytest.mark.parametrize(
    "text, title", [("a letter for miss rebecca smith", "miss"), ("tell miss adeyemi i am late", "miss")]
)
def test_when_miss_comes_before_a_name_then_the_title_is_still_redacted(detectors, text, title):
    assert title in hidden(detectors["keep"], text)


@pytest.mark.parametrize(
    "text, name, frame",
    [
        ("send message to mike asking if i can play in the golf tournament", "mike", "message to"),
        ("read yesterday's messages from hope", "hope", "messages from"),
        ("set a reminder for tom to pick up the boys", "tom", "reminder for"),
        ("text will that i am late", "will", "text"),
        ("pay the bill", "bill", None),
        ("add bill and malinda", "bill", None),
    ],
)
def test_when_words_before_a_name_send_or_bring_a_message_then_they_are_its_contact_frame(text, name, frame):
    assert contact_frame(text, text.index(name)) == frame


@pytest.mark.parametrize(
    "text, name",
    [
        # the command's other words ("play", "golf") made the span scorer veto the model's "mike"
        ("send message to mike asking if i can play in the golf tournament", "mike"),
        # "hope" is an ordinary word: only a lead makes it a name, and "messages from" is one
        ("read yesterday's messages from hope", "hope"),
    ],
)
def test_when_a_name_is_in_a_contact_frame_then_the_scorer_cannot_veto_it(detectors, text, name):
    assert name in hidden(detectors["keep"], text)


@pytest.mark.parametrize(
    "text", ["set a reminder for june", "set a reminder for bill payment", "i need to pay the bill"]
)
def test_when_an_ordinary_word_follows_a_reminder_then_it_stays(detectors, text):
    assert hidden(detectors["keep"], text) == []


def test_when_explained_then_a_contact_verdict_names_its_frame(detectors):
    from transforms.redaction.spoken import normalize

    text = "send message to mike asking if i can play in the golf tournament"
    _, decisions = detectors["keep"].decide(normalize(text), {})
    assert any("a contact ('message to' before it)" in d.verdict for d in decisions)


@pytest.mark.parametrize(
    "text",
    [
        "what's a good italian meal",
        "is the mexican place crowded at night",
        "can you please convert thirty usd to canadian dollars",
        "how would you say fly in italian",
    ],
)
def test_when_a_nationality_names_a_cuisine_currency_or_language_then_it_stays(detectors, text):
    assert hidden(detectors["keep"], text) == []


@pytest.mark.parametrize(
    "text, word",
    [("i am korean", "korean"), ("my wife is mexican", "mexican"), ("the italian guy next door", "italian")],
)
def test_when_a_nationality_is_someones_then_it_is_hidden(detectors, text, word):
    assert word in hidden(detectors["keep"], text)


def test_when_a_nationality_word_is_not_alone_in_the_hit_then_it_is_no_kind():
    nationalities = frozenset({"italian"})
    text = "book the italian meal"
    assert "cuisine" in nationality_as_kind(text, text.index("italian"), text.index(" meal"), nationalities)
    assert nationality_as_kind(text, text.index("the"), text.index(" meal"), nationalities) is None


@pytest.mark.parametrize(
    "text, span, found",
    [
        ("show me the movies at harkins theatres", "harkins theatres", True),  # the noun ends the hit
        ("show me the movies at harkins theatres", "harkins", True),  # ... or follows it
        ("meet me at johnny's bar tonight", "johnny", True),
        ("new york theater performances for new years", "new york", False),  # the theater is a kind of show
        ("meet me at johnny's house", "johnny", False),  # a person's house is no business
        ("email jenny hotel booking details", "jenny", False),
    ],
)
def test_when_a_business_noun_ends_the_name_then_it_names_a_business(text, span, found):
    start = text.index(span)
    assert (business_frame(text, start, start + len(span)) is not None) is found


@pytest.mark.parametrize(
    "text, hidden_words",
    [
        ("show me the movies at harkins theatres", []),
        ("book a table at the dome edinburgh cafe", ["edinburgh"]),  # a city inside a business name stays a city
        ("meet me at johnny's house", ["johnny's"]),
    ],
)
def test_when_keep_policy_then_a_business_name_stays_but_its_city_does_not(detectors, text, hidden_words):
    assert hidden(detectors["keep"], text) == hidden_words
