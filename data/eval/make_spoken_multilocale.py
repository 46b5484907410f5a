"""Generate the multi-locale spoken-style PII set, split by sentence family so tuning cannot over-fit.

Out: ``data/eval/spoken_multilocale.jsonl`` — one voice-assistant transcript per line, in the record
     shape of ``spoken_pii.jsonl`` plus three fields: ``{"id", "text", "spans": [{"start", "end",
     "label", "kind", "novel"?}], "split", "family", "locale"}``. Lower case, no punctuation, numbers,
     e-mail addresses, dates and codes said as words (the helpers of ``make_spoken_pii.py``).

Design:
- ``FAMILIES``: 52 template families, each one kind of sentence (call, text, weather, navigation,
  "near ...", "i work in ...", deliveries, bookings, banking, introductions, reminders, names as
  subject / object / possessive / after a preposition / at the end, PII-free commands, and ordinary
  words that are also names or places: "will it rain", "pay the bill", "mark this as done"). Each
  family is assigned by hand to ``tune`` or ``heldout`` (the letter in its row), fixed before anything
  was measured, so that every entity type and every place kind occurs in both. Rules and training
  see only ``tune`` families; ``heldout`` families are only reported.
- Locales: ``tune`` families take names and places from ``TUNE_LOCALES``; ``heldout`` families from
  those and, in half of their sentences, from ``HELDOUT_LOCALES``, which nothing tuned on ever sees
  (the "locale-held-out" report: ``split == "heldout"`` and ``locale in HELDOUT_LOCALES``).
- Places are built from each locale's Faker providers (cities, states, street names, last and first
  names) plus that region's place nouns: localities ("singh nagar", "lake view colony", "barangay
  tabayoc", "colonia rojas"), landmarks ("shimla bus stand", "okonkwo roundabout"), roads without a
  house number ("m g road", "kaur marg", "avenida crespo"), villages, districts, states and cities.
  Span ``kind`` says which (person: first / full; location: city, state, locality, landmark, road,
  village, district).
- ``novel``: a quarter of person names and place stems are NOT in any Faker list (a character
  trigram model of the locale's names, rejecting every Faker name / place word and every English
  word), because real transcripts bring names no gazetteer holds; such spans carry ``"novel": true``.

Run: ``python data/eval/make_spoken_multilocale.py`` (seed 7, 80 sentences per family). The training
recipe (``pipeline/training/spoken_ner.py``) imports :func:`generate` with another seed and the tune
families and locales only.
"""

from __future__ import annotations

import functools
import json
import os
import random
import sys
from collections import defaultdict
from typing import NamedTuple

from faker import Faker

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(os.path.dirname(HERE))]  # make_spoken_pii; the repo (Faker word lists)
from make_spoken_pii import ascii_lower, below_100, cardinal, digits, ordinal, render, year  # noqa: E402

MONTHS = "january february march april may june july august september october november december".split()
TUNE_LOCALES = ("en_US", "en_GB", "en_IN", "en_AU", "en_CA", "en_IE", "en_NZ")
HELDOUT_LOCALES = ("en_NG", "en_PH", "es_MX", "en_KE", "en_PK")
SEED = 7
PER_FAMILY = 80
NOVEL_SHARE = 0.25
WAKE_WORDS = ("alexa", "hey google", "ok google", "hey siri", "computer")


class Family(NamedTuple):
    name: str
    split: str  # "tune" | "heldout"
    templates: tuple[str, ...]


def _f(name: str, split: str, *templates: str) -> Family:
    return Family(name, {"T": "tune", "H": "heldout"}[split], templates)


# Slots: {PERSON} first or full name, {FIRST}, {FULL}; places {CITY} {STATE} {LOCALITY} {LANDMARK}
# {ROAD} {VILLAGE} {DISTRICT} {PLACE} (any of locality, landmark, road, city); {PHONE} {EMAIL} {CARD}
# {DOB} {DATE} {ADDRESS} {SSN} {IBAN} {ZIP} {ACCOUNT}.
FAMILIES = (
    # ---- tune ----
    _f("call_contact", "T", "call {PERSON}", "call {PERSON} on {PHONE}", "give {FIRST} a call", "please call {FULL} now",
       "can you call {PERSON} for me"),
    _f("text_message", "T", "text {PERSON} that i am on my way", "send a message to {PERSON} saying i will be late",
       "message {FIRST} ok see you soon", "send {PERSON} a text asking about dinner"),
    _f("weather_city", "T", "what's the weather in {CITY}", "will it rain in {CITY} tomorrow",
       "how hot is it in {CITY} today", "weather forecast for {CITY} please"),
    _f("navigate_landmark", "T", "navigate to {LANDMARK}", "take me to {LANDMARK}", "directions to {LANDMARK} please",
       "start navigation to {LANDMARK}"),
    _f("near_place", "T", "find a petrol pump near {PLACE}", "any good restaurants near {LANDMARK}",
       "is there an atm near {LOCALITY}", "show hotels near {PLACE}"),
    _f("i_live_in", "T", "i live in {LOCALITY}", "i stay in {LOCALITY} in {CITY}", "we live near {LANDMARK}",
       "my house is in {LOCALITY}"),
    _f("intro_name", "T", "my name is {PERSON}", "i am {FULL}", "this is {PERSON} speaking", "hello my name is {FULL}"),
    _f("email_send", "T", "send the report to {EMAIL}", "my email id is {EMAIL}", "email it to {EMAIL} please"),
    _f("card_payment", "T", "pay with my card {CARD}", "my card number is {CARD}", "add card {CARD} to my wallet"),
    _f("dob", "T", "my date of birth is {DOB}", "i was born on {DOB}", "update my birth date to {DOB}"),
    _f("delivery_address", "T", "deliver it to {ADDRESS}", "my address is {ADDRESS}",
       "ship my order to {ADDRESS}"),
    _f("reminder_person", "T", "remind me to pick up {FIRST} at five", "remind me to wish {PERSON} happy birthday",
       "set a reminder to pay {FIRST} back tomorrow"),
    _f("possessive", "T", "what's {FIRST}'s number", "play {PERSON}'s playlist", "when is {FIRST}'s birthday",
       "open {FULL}'s contact card"),
    _f("book_cab", "T", "book a cab from {PLACE} to {PLACE}", "book an auto to {LANDMARK}",
       "get me a taxi to {LOCALITY}"),
    _f("work_in", "T", "i work in {LOCALITY}", "my office is in {LOCALITY}", "i work near {LANDMARK}",
       "i work in {CITY}"),
    _f("road_traffic", "T", "how is the traffic on {ROAD}", "is {ROAD} jammed right now",
       "any road work on {ROAD} today"),
    _f("bank_account", "T", "my account number is {ACCOUNT}", "check the balance of account {ACCOUNT}"),
    _f("ssn", "T", "my social security number is {SSN}", "the ssn is {SSN}"),
    _f("zip", "T", "my zip code is {ZIP}", "the pin code is {ZIP}"),
    _f("meeting_with", "T", "set up a meeting with {PERSON} on {DATE}", "schedule lunch with {FIRST} next week",
       "add a call with {FULL} to my calendar"),
    _f("name_at_end", "T", "the parcel is for {PERSON}", "this message is from {FULL}", "it was sent by {FIRST}",
       "the table is booked under {PERSON}"),
    _f("name_subject", "T", "{FIRST} is coming home late today", "{PERSON} will pick up the kids",
       "{FULL} wants to reschedule"),
    _f("native_place", "T", "my native place is {VILLAGE}", "i am from {VILLAGE} in {DISTRICT}",
       "my parents live in {VILLAGE}"),
    _f("phone_only", "T", "my number is {PHONE}", "note down this number {PHONE}", "my mobile number is {PHONE}"),
    _f("flight_city", "T", "book a flight from {CITY} to {CITY} on {DATE}", "flights to {CITY} this friday",
       "cheapest train from {CITY} to {CITY}"),
    _f("meet_at_place", "T", "meet me at {LANDMARK} at six", "let's meet at {LOCALITY} tomorrow",
       "i'm waiting at {LANDMARK}"),
    _f("ordinary_words_a", "T"),  # sentences in ORDINARY["a"]
    _f("assistant_plain_a", "T"),  # sentences in PLAIN["a"]
    # ---- heldout ----
    _f("ring_contact", "H", "ring {PERSON}", "phone {FIRST} now", "connect me to {PERSON} on {PHONE}",
       "dial {FULL}"),
    _f("whatsapp", "H", "whatsapp {PERSON} the location", "tell {FIRST} i'll be late",
       "let {PERSON} know the meeting is cancelled"),
    _f("forecast", "H", "{CITY} weather this weekend", "is it going to be sunny in {CITY}",
       "temperature in {CITY} right now"),
    _f("drive_to", "H", "drive to {PLACE}", "how far is {LANDMARK} from here", "how long to reach {LOCALITY}",
       "route to {LANDMARK} avoiding tolls"),
    _f("nearby_shop", "H", "show me pharmacies around {LOCALITY}", "where's the nearest bank to {LANDMARK}",
       "coffee shops close to {PLACE}"),
    _f("moved_to", "H", "we just shifted to {LOCALITY}", "my family lives in {VILLAGE}",
       "we moved from {CITY} to {LOCALITY} last year"),
    _f("self_intro_var", "H", "hi i'm {PERSON} from {CITY}", "{FIRST} here", "you are talking to {FULL}",
       "it's {FIRST} calling"),
    _f("email_share", "H", "share this with {EMAIL}", "mail the invoice to {EMAIL} please",
       "you can reach me at {EMAIL}"),
    _f("card_use", "H", "use card {CARD} for this order", "charge it to {CARD}", "the card is {CARD}"),
    _f("birthday", "H", "my birthday is on {DOB}", "dob {DOB}", "born {DOB}"),
    _f("ship_to", "H", "send the package to {ADDRESS}", "change my address to {ADDRESS}",
       "the pickup is from {ADDRESS}"),
    _f("person_object", "H", "how do i get to {FIRST}'s house", "add {PERSON} to the family group",
       "block {FULL}", "share my location with {FIRST}"),
    _f("commute", "H", "fastest route from {LOCALITY} to {ROAD}", "avoid {ROAD} on the way home",
       "is {ROAD} closed today"),
    _f("bank_transfer", "H", "transfer five thousand to account {ACCOUNT}",
       "send money to {FIRST} account number {ACCOUNT}"),
    _f("iban", "H", "my iban is {IBAN}", "pay into {IBAN}"),
    _f("drop_at", "H", "drop me at {LANDMARK}", "order food to {LOCALITY}", "pick me up from {LANDMARK}"),
    _f("office_at", "H", "our office is at {LOCALITY} near {LANDMARK}", "i work in {PLACE}",
       "the shop is on {ROAD}"),
    _f("appointment", "H", "book a doctor's appointment for {PERSON} on {DATE}", "move my dentist visit to {DATE}",
       "is {FULL} free on {DATE}"),
    _f("contact_save", "H", "save {PHONE} as {PERSON}", "add a new contact {PERSON} {PHONE}",
       "update {FIRST}'s number to {PHONE}"),
    _f("district_state", "H", "which district is {LOCALITY} in", "news from {STATE}", "{DISTRICT} election results",
       "schools in {DISTRICT}"),
    _f("name_with_prep", "H", "i'm going out with {FIRST} tonight", "buy a gift for {PERSON}",
       "is there any mail from {FULL}", "split the bill with {FIRST} and {FIRST}"),
    _f("ordinary_words_b", "H"),
    _f("assistant_plain_b", "H"),
)  # fmt: skip

# PII-free sentences whose words are also names or places in Faker's lists (precision).
ORDINARY = {
    "a": (
        "will it rain tomorrow", "pay the bill", "mark this as done", "may i know the time", "what is the grace period",
        "add rose water to the shopping list", "play some summer hits", "how many miles did i walk today",
        "turn on the hall light", "set an alarm for dawn", "what is the price of gold today", "i hope it is sunny",
        "will the bank be open on sunday", "can you jack up the volume", "mark the meeting as important",
        "bill me later", "pay my electricity bill", "is it going to snow this evening", "play the news from the bbc",
        "add honey and ginger to my list", "set the mood lighting to amber", "what does the word faith mean",
        "turn the fan speed to high", "read my messages", "call me a taxi", "how do i reset the router",
        "may the force be with you", "order a dozen roses", "find a recipe with sage and basil",
        "how long does it take to cook rice", "show me the way home", "set a timer for the cake",
        "is the park open today", "play rain sounds", "what's the time in the lake district",
    ),
    "b": (
        "will you remind me later", "pay the gas bill online", "mark all as read", "may i ask a question",
        "is there a grace period on late fees", "turn the heater to warm", "play something by the rolling stones",
        "how many miles is a marathon", "add olive oil to the list", "wake me up at dawn tomorrow",
        "will it be windy this afternoon", "what is the capital of france", "is there a chance of rain",
        "set the bedroom light to ivy green", "play the summer playlist", "pay rent on the first",
        "what's my bill this month", "show me my steps for the week", "find a crystal clear photo filter",
        "turn the brightness down", "how do you spell necessary", "read the latest headline",
        "set a reminder to water the plants", "what's the score of the cricket match", "play a song for a rainy day",
        "order more dog food", "is the pharmacy open late", "mark this email as spam", "can i get a hand with this",
        "what's a good name for a cat", "hope you are doing well", "switch off the porch light", "play the blues",
        "call my voicemail", "who won the match last night",
    ),
}  # fmt: skip
# PII-free assistant commands full of numbers (times, amounts, quantities): precision of the number rules.
PLAIN = {
    "a": (
        "set a timer for twenty minutes", "wake me up at six thirty", "what's twenty five times four",
        "turn the volume to seven", "remind me in two hours", "play the top fifty songs", "convert ten miles to km",
        "set the thermostat to twenty two degrees", "how much is a hundred dollars in rupees", "snooze for five minutes",
        "add two litres of milk", "what's the score", "skip to track three", "open the camera",
        "call me at eight in the morning", "turn off the lights in the kitchen",
    ),
    "b": (
        "set an alarm for five forty five", "what's nineteen plus twenty three", "lower the volume to three",
        "remind me in fifteen minutes", "play the next episode", "how many grams in a pound", "pause for ten seconds",
        "set the ac to twenty four", "order three kilos of onions", "what is two to the power of ten",
        "read chapter eleven", "turn on do not disturb until seven", "how far is the moon", "repeat the last song",
        "show me photos from last year", "start a workout for thirty minutes",
    ),
}  # fmt: skip

SLOT_LABELS = {
    "PERSON": ("PERSON", None), "FIRST": ("PERSON", "first"), "FULL": ("PERSON", "full"),
    "CITY": ("LOCATION", "city"), "STATE": ("LOCATION", "state"), "LOCALITY": ("LOCATION", "locality"),
    "LANDMARK": ("LOCATION", "landmark"), "ROAD": ("LOCATION", "road"), "VILLAGE": ("LOCATION", "village"),
    "DISTRICT": ("LOCATION", "district"), "PLACE": ("LOCATION", None),
    "PHONE": ("PHONE_NUMBER", "phone"), "EMAIL": ("EMAIL_ADDRESS", "email"), "CARD": ("CREDIT_CARD", "card"),
    "DOB": ("DATE_OF_BIRTH", "dob"), "DATE": ("DATE_TIME", "date"), "ADDRESS": ("STREET_ADDRESS", "address"),
    "SSN": ("US_SSN", "ssn"), "IBAN": ("IBAN_CODE", "iban"), "ZIP": ("ZIP_CODE", "zip"),
    "ACCOUNT": ("ACCOUNT_NUMBER", "account"),
}  # fmt: skip

# Place nouns by region ("IN": India and Pakistan, "AF": Nigeria and Kenya, "PH", "MX", "EN": the rest).
LOCALITY_NOUNS = {
    "IN": ("nagar", "colony", "layout", "puram", "ganj", "bagh", "vihar", "enclave", "extension", "pet", "halli",
           "wadi", "basti", "town"),
    "AF": ("estate", "close", "layout", "crescent", "quarters", "phase two", "gra", "town", "extension"),
    "PH": ("village", "subdivision", "heights", "homes", "hills", "district", "proper"),
    "MX": ("del valle", "centro", "norte", "sur", "de arriba", "las flores"),
    "EN": ("heights", "park", "green", "hill", "gardens", "village", "end", "common", "estate", "vale", "grove",
           "fields", "cross"),
}  # fmt: skip
LOCALITY_PREFIXES = {"PH": ("barangay", "san"), "MX": ("colonia", "lomas de", "san", "santa", "villa")}
DESCRIPTIVE = ("lake view", "hill view", "river side", "green", "silver oak", "palm grove", "sunrise", "royal",
               "old town", "new town", "garden", "model", "civil", "park view", "sea view", "east end")  # fmt: skip
LANDMARK_NOUNS = {
    "IN": ("lake", "temple", "mandir", "masjid", "mall", "bus stand", "railway station", "hospital", "stadium",
           "fort", "gate", "circle", "junction", "market", "chowk", "maidan", "bridge", "clock tower", "metro station"),
    "AF": ("roundabout", "bus stop", "market", "junction", "stadium", "plaza", "mall", "hospital", "bridge",
           "park", "motor park"),
    "PH": ("church", "mall", "plaza", "market", "terminal", "park", "cathedral", "hospital", "bridge", "port"),
    "MX": ("mercado", "parque", "plaza", "catedral", "glorieta", "estadio", "hospital", "terminal"),
    "EN": ("square", "park", "bridge", "station", "cathedral", "museum", "lake", "market", "stadium", "memorial",
           "hospital", "pier", "bay", "creek", "library", "mall"),
}  # fmt: skip
ROAD_NOUNS = {
    "IN": ("road", "marg", "main road", "street", "lane", "cross road", "highway", "path", "salai"),
    "AF": ("road", "street", "avenue", "way", "close", "crescent", "expressway"),
    "PH": ("street", "avenue", "road", "highway", "extension", "boulevard"),
    "MX": ("avenida", "calle", "calzada", "boulevard", "periferico", "callejon"),
    "EN": ("road", "street", "lane", "avenue", "way", "drive", "high street", "close", "boulevard", "row"),
}  # fmt: skip
VILLAGE_SUFFIXES = {"IN": ("pur", "gaon", "palli", "halli", "pura", "wadi", "garh", "abad")}
REGION = {"en_IN": "IN", "en_PK": "IN", "en_NG": "AF", "en_KE": "AF", "en_PH": "PH", "es_MX": "MX"}
EMAIL_DOMAINS = ("gmail", "yahoo", "outlook", "hotmail", "rediffmail", "icloud", "protonmail", "ymail", "live")
EMAIL_TLDS = {"IN": ("com", "co dot in", "in"), "AF": ("com", "com dot ng", "co dot ke"), "PH": ("com", "com dot ph"),
              "MX": ("com", "com dot mx"), "EN": ("com", "co dot uk", "net", "com dot au", "ca", "ie")}  # fmt: skip


def region(locale: str) -> str:
    return REGION.get(locale, "EN")


def _english_words() -> frozenset[str]:
    try:  # the dictionary the recognizers read (moved from ``english_words.py`` into a data file)
        from transforms.redaction.wordlists import dictionary_words

        return dictionary_words()
    except ImportError:
        from transforms.redaction.english_words import ENGLISH

        return ENGLISH


@functools.lru_cache(maxsize=1)
def known_words() -> frozenset[str]:
    """Every word of every Faker locale's name and place lists, plus English words: what a novel name
    must avoid (so no gazetteer built from Faker can know it)."""
    import importlib
    import pkgutil

    from faker.providers import address, person

    words: set[str] = set()
    for package, attrs in (
        (person, ("first_names", "first_names_male", "first_names_female", "last_names")),
        (address, ("cities", "city_names", "states", "provinces", "regions", "countries", "street_names")),
    ):
        for module in pkgutil.iter_modules(package.__path__):
            provider = importlib.import_module(f"{package.__name__}.{module.name}").Provider
            for attr in attrs:
                values = getattr(provider, attr, None)
                if not isinstance(values, (dict, list, tuple, set, frozenset)):
                    continue  # some locales define these as properties or functions
                for value in values:
                    if isinstance(value, str):
                        words |= set(ascii_lower(value).split()) | set(value.lower().split())
    return frozenset(words | _english_words())


class NovelNames:
    """Character-trigram model of a locale's Faker names: pronounceable names that no Faker list holds."""

    def __init__(self, names: list[str]):
        self.next: dict[str, list[str]] = defaultdict(list)
        for name in names:
            padded = "^^" + name + "$"
            for i in range(len(padded) - 2):
                self.next[padded[i : i + 2]].append(padded[i + 2])

    def sample(self, rng: random.Random, tries: int = 200) -> str | None:
        known = known_words()
        for _ in range(tries):
            out, state = "", "^^"
            while len(out) < 12:
                ch = rng.choice(self.next[state])
                if ch == "$":
                    break
                out += ch
                state = state[1] + ch
            if 4 <= len(out) <= 10 and out not in known:
                return out
        return None


class LocaleSource:
    """Faker for one locale plus its novel-name models; renders every slot kind."""

    def __init__(self, locale: str, seed: int):
        self.locale = locale
        self.region = region(locale)
        self.fake = Faker(locale)
        self.fake.seed_instance(seed)
        self.en = Faker("en_US")
        self.en.seed_instance(seed + 1)
        # the locale's name lists, seen through Faker itself (some locales borrow another's provider)
        lister = Faker(locale)
        lister.seed_instance(0)
        firsts = sorted({ascii_lower(lister.first_name()) for _ in range(3000)})
        lasts = sorted({ascii_lower(lister.last_name()) for _ in range(3000)})
        self.novel_first = NovelNames([n for n in firsts if n.isalpha()])
        self.novel_last = NovelNames([n for n in lasts if n.isalpha()])

    def word(self, rng: random.Random, text: str, kind: str) -> tuple[str, bool]:
        """A Faker value, or a novel one of the same kind with probability ``NOVEL_SHARE``."""
        if rng.random() < NOVEL_SHARE:
            novel = (self.novel_first if kind == "first" else self.novel_last).sample(rng)
            if novel:
                return novel, True
        return ascii_lower(text), False

    def first(self, rng):
        return self.word(rng, self.fake.first_name(), "first")

    def last(self, rng):
        return self.word(rng, self.fake.last_name(), "last")

    def stem(self, rng) -> tuple[str, bool]:
        """A place-name stem: a surname, a given name, or a one-word city of this locale."""
        pick = rng.random()
        if pick < 0.45:
            return self.last(rng)
        if pick < 0.7:
            return self.first(rng)
        city = ascii_lower(self.fake.city())
        if len(city.split()) == 1:
            return self.word(rng, city, "last")
        return self.last(rng)

    def person(self, rng, kind: str | None) -> tuple[str, bool, str]:
        kind = kind or ("first" if rng.random() < 0.55 else "full")
        first, novel = self.first(rng)
        if kind == "first":
            return first.split()[0] if rng.random() < 0.8 else first, novel, kind
        last, novel_last = self.last(rng)
        return f"{first} {last}", novel or novel_last, kind

    def city(self, rng) -> tuple[str, bool]:
        city = ascii_lower(self.fake.city())
        if rng.random() < NOVEL_SHARE and len(city.split()) == 1:
            return self.word(rng, city, "last")
        return city, False

    def state(self) -> str:
        for attr in ("state", "province", "county", "administrative_unit"):
            if hasattr(self.fake, attr):
                return ascii_lower(getattr(self.fake, attr)())
        return ascii_lower(self.en.state())

    def place(self, rng, kind: str) -> tuple[str, bool]:
        reg, stem_novel = self.region, False
        if kind == "city":
            return self.city(rng)
        if kind == "state":
            return self.state(), False
        stem, stem_novel = self.stem(rng)
        if kind == "locality":
            r = rng.random()
            if r < 0.15:
                return f"{rng.choice(DESCRIPTIVE)} {rng.choice(LOCALITY_NOUNS[reg])}", False
            if r < 0.4 and reg in LOCALITY_PREFIXES:
                return f"{rng.choice(LOCALITY_PREFIXES[reg])} {stem}", stem_novel
            if r < 0.5 and reg == "IN":
                return f"sector {cardinal(rng.randrange(1, 80), rng)}", False
            return f"{stem} {rng.choice(LOCALITY_NOUNS[reg])}", stem_novel
        if kind == "landmark":
            noun = rng.choice(LANDMARK_NOUNS[reg])
            if reg == "MX":
                return f"{noun} {stem}", stem_novel
            if rng.random() < 0.2:  # a landmark named after the town: "shimla bus stand"
                return f"{self.city(rng)[0]} {noun}", False
            if reg == "EN" and rng.random() < 0.15:
                return f"st {self.first(rng)[0].split()[0]}'s {rng.choice(('church', 'hospital', 'park'))}", False
            return f"{stem} {noun}", stem_novel
        if kind == "road":
            r = rng.random()
            if r < 0.3:  # Faker's own street name for the locale, without a house number
                street = ascii_lower(self.fake.street_name())
                if any(c.isdigit() for c in street):
                    street = f"{stem} {rng.choice(ROAD_NOUNS[reg])}"
                return street, False
            if reg == "IN" and r < 0.45:  # initials: "m g road", "s v road"
                letters = " ".join(rng.choice("abcdegjklmnprstv") for _ in range(rng.choice((2, 2, 3))))
                return f"{letters} {rng.choice(('road', 'marg', 'main road'))}", False
            if reg == "IN" and r < 0.55:
                return f"{ordinal(rng.randrange(1, 20))} {rng.choice(('cross', 'main', 'cross road'))}", False
            if reg == "MX":
                return f"{rng.choice(ROAD_NOUNS[reg])} {stem}", stem_novel
            return f"{stem} {rng.choice(ROAD_NOUNS[reg])}", stem_novel
        if kind == "village":
            if reg in VILLAGE_SUFFIXES and rng.random() < 0.5:
                return stem.split()[-1] + rng.choice(VILLAGE_SUFFIXES[reg]), True
            return (f"{stem} village" if rng.random() < 0.4 else stem), stem_novel
        if kind == "district":
            city = self.city(rng)[0]
            return (f"{city} district" if rng.random() < 0.6 else self.state()), False
        raise ValueError(kind)

    def phone(self, rng) -> str:
        def d(n: int) -> str:
            return "".join(str(rng.randrange(10)) for _ in range(n))

        reg = self.region
        if reg == "IN":
            number = rng.choice("6789") + d(9)
            prefix = rng.choice(("", "", "plus nine one ", "zero "))
        elif reg == "AF":
            number = rng.choice(("080", "081", "070", "090", "071", "072")) + d(8)
            prefix = rng.choice(("", "", "plus two three four "))
            if prefix:
                number = number[1:]
        elif reg == "PH":
            number = "09" + rng.choice("1234") + d(8)
            prefix = ""
        elif reg == "MX":
            number, prefix = rng.choice("2345589") + d(9), rng.choice(("", "plus five two "))
        elif self.locale in ("en_GB", "en_IE"):
            number, prefix = "07" + d(9), ""
        elif self.locale in ("en_AU", "en_NZ"):
            number, prefix = "04" + d(8), ""
        else:
            number, prefix = rng.choice("23456789") + d(9), rng.choice(("", "", "plus one "))
        if rng.random() < 0.15:  # pairs said as numbers: "ninety eight forty five ..."
            pairs = [number[i : i + 2] for i in range(0, len(number), 2)]
            spoken = " ".join(below_100(int(p)) if len(p) == 2 and p[0] != "0" else digits(p, rng) for p in pairs)
            return prefix + spoken
        return prefix + digits(number, rng)

    def email(self, rng) -> str:
        first, last = self.first(rng)[0].split()[0], self.last(rng)[0].split()[0]
        local = rng.choice(
            (f"{first} dot {last}", f"{first}{last}", f"{first} underscore {last}", first + " " + digits(
                str(rng.randrange(10, 9999)), rng), f"{first[0]} {last}", f"{last} {first}")
        )  # fmt: skip
        at = "at the rate" if self.region == "IN" and rng.random() < 0.1 else "at"
        tld = rng.choice(EMAIL_TLDS[self.region])
        return f"{local} {at} {rng.choice(EMAIL_DOMAINS)} dot {tld}"

    def dob(self, rng) -> str:
        d = self.fake.date_of_birth(minimum_age=18, maximum_age=90)
        style = rng.random()
        if style < 0.35:
            return f"{MONTHS[d.month - 1]} {ordinal(d.day)} {year(d.year, rng)}"
        if style < 0.7:
            return f"the {ordinal(d.day)} of {MONTHS[d.month - 1]} {year(d.year, rng)}"
        return f"{ordinal(d.day)} {MONTHS[d.month - 1]} {year(d.year, rng)}"

    def date(self, rng) -> str:
        month, day = rng.randrange(12), rng.randrange(1, 29)
        return rng.choice(
            (
                f"{MONTHS[month]} {ordinal(day)}",
                f"the {ordinal(day)} of {MONTHS[month]}",
                f"{ordinal(day)} {MONTHS[month]}",
            )
        )

    def address(self, rng) -> str:
        number = rng.choice((rng.randrange(1, 100), rng.randrange(100, 1000), rng.randrange(1000, 9999)))
        street = ascii_lower(self.fake.street_name())
        if any(c.isdigit() for c in street) or len(street.split()) > 5:
            street = f"{self.stem(rng)[0]} {rng.choice(ROAD_NOUNS[self.region])}"
        parts = [cardinal(number, rng), street]
        if self.region == "IN" and rng.random() < 0.4:
            parts = [f"flat {cardinal(rng.randrange(101, 999), rng)}", self.place(rng, "locality")[0], street]
        if rng.random() < 0.5:
            parts.append(self.city(rng)[0])
        return " ".join(parts)

    def render(self, slot: str, rng: random.Random) -> tuple[str, str, str | None, bool]:
        """(value, label, kind, novel) for one slot."""
        label, kind = SLOT_LABELS[slot]
        if label == "PERSON":
            value, novel, kind = self.person(rng, kind)
            return value, label, kind, novel
        if label == "LOCATION":
            kind = kind or rng.choice(("locality", "landmark", "road", "city"))
            value, novel = self.place(rng, kind)
            return value, label, kind, novel
        simple = {"PHONE": self.phone, "EMAIL": self.email, "DOB": self.dob, "DATE": self.date, "ADDRESS": self.address}
        if slot in simple:
            return simple[slot](rng), label, kind, False
        legacy = {
            "CARD": "CREDIT_CARD",
            "SSN": "US_SSN",
            "IBAN": "IBAN_CODE",
            "ZIP": "ZIP_CODE",
            "ACCOUNT": "ACCOUNT_NUMBER",
        }
        if slot == "ZIP" and self.region == "IN":  # six-digit pin code
            return digits(str(rng.randrange(110000, 855999)), rng), label, kind, False
        return render(legacy[slot], self.fake, rng), label, kind, False


def fill(template: str, source: LocaleSource, rng: random.Random) -> tuple[str, list[dict]]:
    text, spans, pos = "", [], 0
    while True:
        open_ = template.find("{", pos)
        if open_ < 0:
            text += template[pos:]
            break
        close = template.index("}", open_)
        text += template[pos:open_]
        value, label, kind, novel = source.render(template[open_ + 1 : close], rng)
        span = {"start": len(text), "end": len(text) + len(value), "label": label, "kind": kind}
        if novel:
            span["novel"] = True
        spans.append(span)
        text += value
        pos = close + 1
    return text, spans


def family_sentences(family: Family) -> tuple[str, ...]:
    if family.templates:
        return family.templates
    kind, letter = family.name.rsplit("_", 1)
    return (ORDINARY if kind.startswith("ordinary") else PLAIN)[letter]


def generate(
    seed: int = SEED,
    per_family: int = PER_FAMILY,
    splits: tuple[str, ...] = ("tune", "heldout"),
    tune_locales: tuple[str, ...] = TUNE_LOCALES,
    heldout_locales: tuple[str, ...] = HELDOUT_LOCALES,
    id_prefix: str = "ml",
) -> list[dict]:
    """Rows of every family in ``splits``; tune families draw from ``tune_locales`` only."""
    rng = random.Random(seed)
    Faker.seed(seed)  # the shared generator behind make_spoken_pii's unseeded Faker("en_US") calls (SSN, IBAN, ZIP)
    sources = {loc: LocaleSource(loc, seed * 1000 + i) for i, loc in enumerate(tune_locales + heldout_locales)}
    rows = []
    for family in FAMILIES:
        if family.split not in splits:
            continue
        sentences = family_sentences(family)
        for i in range(per_family):
            if family.split == "heldout" and heldout_locales and rng.random() < 0.5:
                locale = rng.choice(heldout_locales)
            else:
                locale = rng.choice(tune_locales)
            template = sentences[i % len(sentences)] if not family.templates else rng.choice(sentences)
            text, spans = fill(template, sources[locale], rng)
            if rng.random() < 0.1:
                wake = rng.choice(WAKE_WORDS) + " "
                text = wake + text
                for span in spans:
                    span["start"] += len(wake)
                    span["end"] += len(wake)
            rows.append(
                {
                    "id": f"{id_prefix}_{family.name}_{i:03d}",
                    "text": text,
                    "spans": spans,
                    "split": family.split,
                    "family": family.name,
                    "locale": locale,
                }
            )
    return rows


def main() -> None:
    rows = generate()
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "spoken_multilocale.jsonl")
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    by_split = defaultdict(int)
    for row in rows:
        by_split[row["split"]] += 1
    print(f"wrote {len(rows)} transcripts to {path} ({dict(by_split)})")


if __name__ == "__main__":
    main()
