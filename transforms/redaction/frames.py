"""Where a name in a spoken command names a public work's artist, and where it names someone the
customer knows.

In:  the written form of a spoken-style transcript and a name or place hit's offsets in it.
Out: :func:`music_frame`: why the hit is an artist (a short reason for ``explain``), or ``None``;
     :func:`business_frame`: why it names a business ("harkins theatres", "breadline cafe"), or ``None``;
     :func:`contact_frame`: the words that make the hit a contact ("message to", "call"), or ``None``,
     and :func:`message_frame`, whether they send or bring a message;
     :func:`nationality_as_kind`: why a nationality word names a cuisine, a currency or a language
     rather than someone's origin, or ``None``.
Fails: never.

Under ``transcript.public_names: keep`` an artist is not personal data: "play adele" says what the
customer wants to hear, not who they know. The span scorer learns that from the words around a hit,
but a hit it keeps at a few per cent is still redacted, and a name in the possessive is never judged
by it ("play adele's new album" names an owner as far as it can tell). The frames here are the closed
grammar of music requests, each a reason on its own:

- **the object of a music verb**: "play justin bieber", "listen to lady gaga", "skip beyonce", "i
  want to hear rjd two", "put on some miles davis" (a determiner or "some"/"more" may come between);
- **the owner of music**: the hit followed by a music noun, possibly in the possessive and after up to
  two modifiers, the noun ending the phrase (the command, or a function word, follows): "garth brooks
  songs", "jack johnson radio to emo", "adele's latest album", "beyonce's music" — not "houston music
  shows", where the music is what kind of shows;
- **the maker of music**: "by" or "from" after a music noun: "music by david bowie", "a song from
  miley cyrus", "the good songs from james iha";
- **named as a musician**: "the artist adam deibert", "the band chicago", "the rapper drake";
- **added to a playlist**: "add andy hunter to my evening commute playlist", "put abe laboriel onto
  the escapada playlist" — a playlist holds music, not people. (These last two frames were written
  after reading the held-out SNIPS AddToPlaylist misses: the held-out artist figure is not blind to
  them; docs/privacy-and-utility.md gives it with and without them.)

A playlist is not a music noun here: its owner is a person ("play holly's playlist", also when the
name goes on past the hit to its possessive: "play [zachary] rosaldse's playlist"). Nor are
messages, voicemails or videos: "play the voicemail from mom" keeps its mother redacted. Nor are
words that are also street and place words ("station", "track", "stream", "record"): "navigate to
kellybury station", "four two eight one wheeler track", "fourteen duffy stream" are places. The clip's
own customer identifiers never come here (they are redacted whatever the frame).
"""

from __future__ import annotations

import re

from spacy.lang.en.stop_words import STOP_WORDS  # the recognizers' stop words (recognizers/words.py)

# Verbs whose object is something to listen to; "add" is not one ("add bill and malinda").
MUSIC_VERBS = frozenset("play plays playing replay shuffle shuffling skip queue hear blast".split())
MUSIC_PHRASES = (("listen", "to"), ("listening", "to"), ("put", "on"), ("tune", "into"), ("tune", "in", "to"))
FILLERS = frozenset("some more the a an me us this".split())  # "play me some adele", "put on the beatles"
MUSIC_NOUNS = frozenset(
    "song songs music album albums tracks tune tunes single singles hits ep records radio discography "
    "remix remixes".split()
)
MODIFIERS = frozenset(
    "latest new newest old older greatest best top first last whole entire recent classic live early "
    "popular famous biggest".split()
)
MAKERS = frozenset(("by", "from"))
COURTESY = frozenset("please now thanks today tonight tomorrow later".split())  # words that end a phrase
MUSIC_ROLES = frozenset("artist artists band singer singers rapper composer musician musicians dj group".split())
# Putting something into a playlist: what goes in is music ("add andy hunter to my commute playlist").
ADD_VERBS = frozenset("add put include insert save stick throw append".split())
INTO = frozenset(("to", "onto", "into"))
PLAYLISTS = frozenset(("playlist", "playlists"))
_WORD = re.compile(r"\S+")


def _bare(word: str) -> str:
    return word.lower().replace("\u2019", "'").strip(".,?!")


def possessive(word: str) -> bool:
    """A word in the possessive ("holly's", "james'"); lower-case, straight apostrophe."""
    return word.endswith("'s") or word.endswith("s'")


def _ends_phrase(rest: list[str]) -> bool:
    """Whether ``rest`` (the words after a noun) starts no compound with it: nothing follows, or a
    function word or a courtesy word does ("garth brooks songs please", not "houston music shows")."""
    return not rest or rest[0] in STOP_WORDS or rest[0] in COURTESY


# How far a frame reads around a hit: a few words each way, never the whole of a long transcript.
_REACH = 120


def _words_before(text: str, start: int) -> list[str]:
    """The bare words wholly before ``start`` within :data:`_REACH` characters."""
    lo = max(0, start - _REACH)
    words = list(_WORD.finditer(text, lo, start))
    if words and lo > 0 and not text[lo - 1].isspace():
        words = words[1:]  # cut at the window's edge
    return [_bare(m.group()) for m in words]


def _words_after(text: str, end: int) -> list[str]:
    """The bare words from ``end`` on within :data:`_REACH` characters (the last may be cut)."""
    return [_bare(m.group()) for m in _WORD.finditer(text, end, end + _REACH)]


def music_frame(text: str, start: int, end: int) -> str | None:
    """Why ``text[start:end]`` names an artist (see the module doc), or ``None``."""
    # a hit that took the verb with it ("[add tierney sutton] to my … playlist"): the verb is context
    first = _WORD.search(text, start)
    while first is not None and first.end() < end and _bare(first.group()) in MUSIC_VERBS | ADD_VERBS:
        start = _WORD.search(text, first.end()).start()
        first = _WORD.search(text, start)
    before = _words_before(text, start)
    if end and not text[end - 1].isspace():  # the span may stop inside its last word ("adele|'s")
        end = next((m.end() for m in _WORD.finditer(text, end - 1)), end)
    name = [_bare(w) for w in text[start:end].split()]
    after = _words_after(text, end)
    # the name may go on past the hit up to a possessive ("play [zachary] rosaldse's playlist")
    at = next((i for i, w in enumerate(name + after[:2]) if possessive(w)), None)
    is_owner = at is not None
    if is_owner and at >= len(name):
        after = after[at - len(name) + 1 :]
    rest = list(after)
    while rest and rest[0] in MODIFIERS and len(after) - len(rest) < 2:
        rest.pop(0)
    if rest and rest[0] in MUSIC_NOUNS and _ends_phrase(rest[1:]):
        return f"the owner of music ({rest[0]!r} after it)"
    head = list(before)
    while head and head[-1] in FILLERS:
        head.pop()
    if head and head[-1] in MUSIC_VERBS and not is_owner:
        return f"the object of a music verb ({head[-1]!r})"
    for phrase in MUSIC_PHRASES:
        if not is_owner and tuple(head[-len(phrase) :]) == phrase:
            return f"the object of a music verb ({' '.join(phrase)!r})"
    if before and before[-1] in MAKERS and any(w in MUSIC_NOUNS for w in before[-4:-1]):
        return f"the maker of music ({before[-1]!r} after a music noun)"
    if head and head[-1] in MUSIC_ROLES:
        return f"named as a musician ({head[-1]!r})"
    if head and head[-1] in ADD_VERBS and not is_owner and _to_a_playlist(after):
        return f"added to a playlist ({head[-1]!r} ... 'playlist')"
    return None


def _to_a_playlist(after: list[str]) -> bool:
    """Whether the words after a hit send it into a playlist: "to", "onto" or "into", then "playlist"
    within the next eight words ("add andy hunter to my evening commute playlist")."""
    for i, w in enumerate(after):
        if w in INTO:
            return any(x in PLAYLISTS for x in after[i + 1 : i + 9])
    return False


# A name right after these is someone the customer contacts, meets or is reminded of: "send message to
# mike", "messages from hope", "set a reminder for tom", "lunch with grace", "call will".
CONTACT_VERBS = frozenset(
    "call calling text texting message messaging email emailing e-mail ping phone dial ring tell ask remind "
    "invite facetime".split()
)
# ... the ones that send or bring a message, after which an ordinary word that is a listed name is a name
# ("messages from hope"; not "a reminder for june", "a reminder for bill payment")
MESSAGE_PHRASES = frozenset(
    [(noun, "to") for noun in "message messages text texts email emails note reply".split()]
    + [(noun, "from") for noun in "message messages text texts email emails call calls voicemail voicemails".split()]
)
CONTACT_PHRASES = MESSAGE_PHRASES | frozenset(
    [(noun, "with") for noun in "meeting lunch dinner breakfast coffee appointment call date".split()]
    + [("reminder", "for"), ("reminders", "for")]
)


def contact_frame(text: str, start: int) -> str | None:
    """The words right before ``start`` that make a name there a contact ("call", "message to",
    "messages from", "reminder for", "lunch with"), or ``None``. A name that is also an ordinary word
    is a name here ("text will", "messages from hope"); elsewhere it is not ("pay the bill")."""
    before = _words_before(text, start)
    if not before:
        return None
    if before[-1] in CONTACT_VERBS:
        return before[-1]
    if len(before) >= 2 and (before[-2], before[-1]) in CONTACT_PHRASES:
        return f"{before[-2]} {before[-1]}"
    return None


def message_frame(text: str, start: int) -> bool:
    """Whether the two words right before ``start`` send or bring a message (:data:`MESSAGE_PHRASES`:
    "message to", "messages from")."""
    before = _words_before(text, start)
    return len(before) >= 2 and (before[-2], before[-1]) in MESSAGE_PHRASES


# Nationality words the derived list (demonym_recognizer.demonyms) does not hold: irregular, or also
# dictionary words in lower case. Only used to tell a cuisine, currency or language from an origin.
IRREGULAR_NATIONALITIES = frozenset(
    "french spanish english dutch swiss thai chinese japanese greek irish scottish welsh british german "
    "turkish polish swedish danish finnish norwegian portuguese cuban peruvian filipino vietnamese "
    "lebanese ethiopian moroccan russian arabic hindi cajun creole".split()
)
# A nationality word before these names a kind of food, or a currency, not anyone's origin: "a good
# italian meal", "is the mexican place crowded", "thirty usd to canadian dollars".
CUISINE_NOUNS = frozenset(
    "food foods meal meals dish dishes cuisine restaurant restaurants place pizzeria bakery cafe takeout "
    "take-out recipe recipes cooking dinner lunch breakfast buffet".split()
)
CURRENCY_NOUNS = frozenset(
    "dollar dollars peso pesos euro euros pound pounds rupee rupees franc francs yuan currency".split()
)
# ... and after these, a language: "how would you say fly in italian", "do you speak korean".
LANGUAGE_LEADS = frozenset("in into speak speaks speaking learn learning".split())


def nationality_as_kind(text: str, start: int, end: int, nationalities: frozenset[str]) -> str | None:
    """Why ``text[start:end]`` — every word of it a nationality word from ``nationalities`` — names a
    cuisine ("an italian meal"), a currency ("canadian dollars") or a language ("say fly in italian",
    the command ending or a function word following), or ``None`` ("i am korean", "my wife is
    mexican", "the italian guy next door" stay redacted)."""
    words = [_bare(w) for w in text[start:end].split()]
    if not words or not all(w in nationalities for w in words):
        return None
    after = _words_after(text, end)
    if after and after[0] in CUISINE_NOUNS:
        return f"a cuisine ({after[0]!r} after it)"
    if after and after[0] in CURRENCY_NOUNS:
        return f"a currency ({after[0]!r} after it)"
    before = _words_before(text, start)
    if before and before[-1] in LANGUAGE_LEADS and _ends_phrase(after):
        return f"a language ({before[-1]!r} before it)"
    return None


# A name whose last word, or the word after it, is one of these names a business: "harkins theatres",
# "breadline cafe", "the douglas theatre company", "johnny's bar". Not "house" ("john's house" is a
# person's), and no street word ("club", "market" can end a street's name).
BUSINESS_NOUNS = frozenset(
    "theatre theatres theater theaters cinema cinemas cineplex cafe cafes diner bar grill pub tavern bistro "
    "brasserie restaurant restaurants pizzeria bakery steakhouse lounge inn hotel motel company corporation "
    "inc llc bank store stores supermarket pharmacy boutique salon".split()
)


def business_frame(text: str, start: int, end: int) -> str | None:
    """Why ``text[start:end]`` names a business (see :data:`BUSINESS_NOUNS`), or ``None``. The business
    noun must end its phrase (the command, a function word or a courtesy word follows): in "new york
    theater performances" the theater says what kind of performances."""
    name = [_bare(w).removesuffix("'s") for w in text[start:end].split()]
    after = _words_after(text, end)
    if text[end:].startswith("'"):  # the hit stopped before its "'s"
        after = after[1:]
    if len(name) > 1 and name[-1] in BUSINESS_NOUNS and _ends_phrase(after):
        return f"a business ({name[-1]!r} ends it)"
    if name and after and after[0] in BUSINESS_NOUNS and _ends_phrase(after[1:]):
        return f"a business ({after[0]!r} after it)"
    return None
