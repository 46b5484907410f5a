"""Real voice-assistant commands as ASR writes them, labelled for privacy AND utility.

In:  the openly licensed command sets under ``../shared/data/commands/`` (see its README): TOPv2
     (CC BY-SA 4.0), SNIPS 2017 (CC0), CLINC150 (CC BY 3.0), PolyAI EVI and Restaurants-8k (CC BY 4.0).
Out: :class:`pipeline.evaluation.redaction.Example` s (or JSONL rows) whose text is rendered the way an
     ASR system writes it (lower case, accents folded, punctuation dropped, numbers said as words) and
     whose spans carry one of three kinds of label:
     - PII the stage must hide: ``PERSON`` (name words of a person slot), ``LOCATION`` (name words of a
       place below state level, HIPAA Safe Harbor), ``DATE_OF_BIRTH``, ``POSTCODE``;
     - ``keep:<KIND>``: words that are not personal data and that the reviewer needs (``ARTIST``,
       ``SONG``, ``PLAYLIST``, ``APP``, ``RADIO``, ``BUSINESS``, ``WORK``, ``DATE_TIME``, ``RELATION``);
     - ``neutral:<KIND>``: words whose redaction is neither counted right nor wrong (``REGION``: a state
       or country, larger than HIPAA's unit; ``POI``: a named landmark or shop as a destination;
       ``FREE_TEXT``: reminder and message bodies, which may hold unlabelled names; ``PERSON_REF`` /
       ``PLACE_REF``: "my", "mom", "downtown" inside a person or place slot).
     Every word in no span is an ordinary word (intent words, devices, weather words...).
     Each example has ``split`` (``tune`` / ``heldout``, by source and domain, never by sentence) and
     ``source`` (e.g. ``topv2/reminder``).
Fails: ``FileNotFoundError`` when the commands directory is absent (callers skip or say so).

Which word of a person or place slot is a name: a word that is not a stop word and is either a listed
name or place word (Faker's, :mod:`transforms.redaction.lexicon`) or no ordinary English word (a name
nobody listed: "malinda"). So "bill" in "add bill and malinda" is a name (it is a person slot's word and a
listed first name), "my" and "mom" in "text my mom" are not (``PERSON_REF``).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import random
import re
from collections.abc import Iterable, Iterator, Sequence

from pipeline.evaluation.redaction import Example

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMMANDS_DIR = os.path.join(os.path.dirname(REPO), "shared", "data", "commands")

# Split by source and domain: tune on one part, report the other. Person slots: messaging (tune) vs
# reminder / event / Restaurants-8k / EVI (held-out); places: navigation + SNIPS weather (tune) vs TOPv2
# weather / event + SNIPS restaurants (held-out); artists: TOPv2 music + SNIPS PlayMusic (tune) vs SNIPS
# AddToPlaylist (held-out); CLINC150 by intent (even / odd in sorted order).
TOPV2_SPLIT = {
    "messaging": "tune", "navigation": "tune", "alarm": "tune", "music": "tune",
    "reminder": "heldout", "event": "heldout", "weather": "heldout", "timer": "heldout",
}  # fmt: skip
SNIPS_SPLIT = {
    "PlayMusic": "tune", "GetWeather": "tune", "RateBook": "tune", "SearchScreeningEvent": "tune",
    "AddToPlaylist": "heldout", "BookRestaurant": "heldout", "SearchCreativeWork": "heldout",
}  # fmt: skip
HELDOUT_ONLY = ("evi", "restaurant8k")

PERSON_SLOTS = frozenset(
    "RECIPIENT CONTACT ATTENDEE SENDER PERSON_REMINDED PERSON_REMINDED_ADDED PERSON_REMINDED_REMOVED "
    "ATTENDEE_EVENT ORGANIZER_EVENT CONTACT_RELATED playlist_owner party_size_description".split()
)
PLACE_SLOTS = frozenset("LOCATION SOURCE DESTINATION WAYPOINT LOCATION_HOME city".split())
KEEP_SLOTS = {
    "MUSIC_ARTIST_NAME": "ARTIST", "artist": "ARTIST",
    "MUSIC_TRACK_TITLE": "SONG", "MUSIC_ALBUM_TITLE": "SONG", "track": "SONG", "album": "SONG",
    "entity_name": "SONG",
    "MUSIC_PLAYLIST_TITLE": "PLAYLIST", "playlist": "PLAYLIST",
    "MUSIC_PROVIDER_NAME": "APP", "service": "APP",
    "MUSIC_RADIO_ID": "RADIO",
    "restaurant_name": "BUSINESS", "location_name": "BUSINESS",
    "object_name": "WORK", "movie_name": "WORK",
    "DATE_TIME": "DATE_TIME", "DATE_TIME_DEPARTURE": "DATE_TIME", "DATE_TIME_ARRIVAL": "DATE_TIME",
    "DATE_TIME_RECURRING": "DATE_TIME", "DATE_TIME_NEW": "DATE_TIME", "timeRange": "DATE_TIME",
    "TYPE_RELATION": "RELATION",
}  # fmt: skip
NEUTRAL_SLOTS = {
    "POINT_ON_MAP": "POI", "geographic_poi": "POI", "poi": "POI", "facility": "POI",
    "state": "REGION", "country": "REGION",
    "TODO": "FREE_TEXT", "TODO_NEW": "FREE_TEXT", "CONTENT_EXACT": "FREE_TEXT", "NAME_EVENT": "FREE_TEXT",
    "GROUP": "FREE_TEXT", "TAG_MESSAGE": "FREE_TEXT", "ALARM_NAME": "FREE_TEXT", "TIMER_NAME": "FREE_TEXT",
    "MUTUAL_EMPLOYER": "FREE_TEXT",
}  # fmt: skip
PII_LABELS = ("PERSON", "LOCATION", "DATE_OF_BIRTH", "POSTCODE")
US_STATES = frozenset(
    """alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii idaho
    illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota mississippi
    missouri montana nebraska nevada ohio oklahoma oregon pennsylvania tennessee texas utah vermont virginia
    wisconsin wyoming""".split()
)
# State abbreviations said as letters; "ny", "la" and "dc" left out: said alone they mostly mean a city.
US_STATE_CODES = frozenset(
    "ak az ar ca co ct fl ga ia ks ky md mi mn ms mo mt ne nv nh nj nm nc nd ok pa ri sc sd tn tx ut vt va wa wv "
    "wi wy".split()
)
US_STATE_PHRASES = ("new hampshire", "new jersey", "new mexico", "new york state", "north carolina", "north dakota",
                    "rhode island", "south carolina", "south dakota", "west virginia", "washington state")  # fmt: skip

# Words that refer to a person or place without naming one; English word lists miss some ("mom") and
# Faker's first-name lists hold others ("sister", "boss").
PERSON_REF_WORDS = frozenset(
    """mom mommy mum mother dad daddy father sister sis brother bro wife husband hubby wifey son daughter aunt
    auntie uncle grandma grandpa granny grandmother grandfather nana papa cousin niece nephew boss friend friends
    family team everyone everybody group kids kid children child parents girlfriend boyfriend fiance fiancee
    coworker coworkers colleague colleagues roommate neighbor neighbour babysitter doctor teacher manager babe
    baby honey sweetie partner guys all contacts contact ex hun bae""".split()
)
PLACE_REF_WORDS = frozenset(
    """downtown uptown midtown airport station home work office house apartment school university college mall
    city town area nearby bank store shop market supermarket park hospital restaurant church library gym beach
    stadium center centre theater theatre museum zoo hotel cafe bar pharmacy building place""".split()
)

Span = tuple[int, int, str]


@functools.lru_cache(maxsize=1)
def _region_words_cached() -> frozenset[str]:
    return _region_words()


@functools.lru_cache(maxsize=1)
def _words():
    """(stop words, ordinary English words, listed name words, listed place words)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    from transforms.redaction.lexicon import build_lexicon
    from transforms.redaction.wordlists import english_words

    lexicon = build_lexicon(())
    names = lexicon.first_names | lexicon.last_names
    places = frozenset(w for p in lexicon.places for w in p.split())
    return frozenset(STOP_WORDS), english_words(), frozenset(names), places


def _region_words() -> frozenset[str]:
    from faker.providers.address.en_US import Provider

    countries = {w for c in Provider.countries for w in c.lower().split()}
    # words of two-word state names that name the state ("carolina", "jersey"; not "new", "york": New York
    # City is said more often than the state) and "washington" (the state after a city: "seattle washington")
    phrase_words = {w for p in US_STATE_PHRASES for w in p.split()} - {"new", "north", "south", "west", "york",
                                                                        "state", "island"}  # fmt: skip
    return US_STATES | US_STATE_CODES | countries | phrase_words | {"washington"}


def word_label(word: str, slot: str | None, kind: str) -> str:
    """The gold label of one rendered word of a slot (see the module doc); "" for an ordinary word."""
    stop, ordinary, names, places = _words()
    w = word.lower().removesuffix("'s").strip("'")
    if kind == "person":
        named = w not in stop | PERSON_REF_WORDS and (w in names or w not in ordinary) and not w.isdigit()
        return "PERSON" if named else "neutral:PERSON_REF"
    if kind == "place":
        if w in _region_words_cached():
            return "neutral:REGION"
        named = w not in stop | PLACE_REF_WORDS and (w in places or w not in ordinary) and not w.isdigit()
        return "LOCATION" if named else "neutral:PLACE_REF"
    return kind


def _slot_kind(slot: str) -> str:
    if slot in PERSON_SLOTS:
        return "person"
    if slot in PLACE_SLOTS:
        return "place"
    if slot in KEEP_SLOTS:
        return f"keep:{KEEP_SLOTS[slot]}"
    if slot in NEUTRAL_SLOTS:
        return f"neutral:{NEUTRAL_SLOTS[slot]}"
    return ""


def _kind_of(stack: Sequence[str]) -> str:
    """The kind of a word from its slot stack (outermost first): a person slot anywhere wins; else the
    innermost slot that has a kind (a LOCATION wrapping a POINT_ON_MAP is a POI)."""
    if any(s in PERSON_SLOTS for s in stack):
        return "person"
    for slot in reversed(stack):
        kind = _slot_kind(slot)
        if kind:
            return kind
    return ""


def parse_topv2(parse: str) -> list[tuple[str, str]]:
    """TOPv2 ``semantic_parse`` → [(token, kind)] (kind as :func:`_kind_of`)."""
    out, stack = [], []
    for tok in parse.split():
        if tok.startswith("[IN:"):
            stack.append("")
        elif tok.startswith("[SL:"):
            stack.append(tok[4:])
        elif tok == "]":
            if stack:
                stack.pop()
        else:
            out.append((tok, _kind_of([s for s in stack if s])))
    return out


def _join(pieces: Iterable[tuple[str, str]]) -> tuple[str, list[Span]]:
    """Tokens → text (clitics such as "'s" joined) and one span per labelled token."""
    text, spans = "", []
    for tok, kind in pieces:
        clitic = tok.startswith("'") or tok in ",.?!"
        if text and not clitic:
            text += " "
        start = len(text)
        text += tok
        if clitic and spans and spans[-1][1] == start and tok.startswith("'"):
            spans[-1] = (spans[-1][0], len(text), spans[-1][2])  # "steven 's": one word, the name's kind
        elif kind and not clitic:
            spans.append((start, len(text), kind))
    return text, spans


_TOKEN = re.compile(r"\S+")
_ORDINAL = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b", re.I)
_CLOCK = re.compile(r"\b(\d{1,2}):(\d{2})\b")
_AMPM = re.compile(r"\b(\d{1,2})(am|pm|a\.m\.|p\.m\.)", re.I)


def _say_ordinal(match: re.Match) -> str:
    gen = _generator()
    n = int(match.group(1))
    return gen.ordinal(n) if 0 < n < 40 else match.group(0)


def _say_clock(match: re.Match) -> str:
    gen = _generator()
    hour, minute = int(match.group(1)), int(match.group(2))
    if minute == 0:
        return gen.below_100(hour)
    if hour > 99 or minute > 59:
        return match.group(0)
    return f"{gen.below_100(hour)} {gen.below_100(minute) if minute >= 10 else 'oh ' + gen.below_100(minute)}"


@functools.lru_cache(maxsize=1)
def _generator():
    from pipeline.training.spoken_data import load_generator_helpers

    return load_generator_helpers()


def say_times(text: str) -> str:
    """How ASR writes ordinals and clock times: "19th" → "nineteenth", "7:30" → "seven thirty",
    "8am" → "8 am" (the number is said by :func:`verbalise`)."""
    text = _ORDINAL.sub(_say_ordinal, text)
    text = _CLOCK.sub(_say_clock, text)
    return _AMPM.sub(lambda m: f"{m.group(1)} {m.group(2).replace('.', '').lower()}", text)


def _rewrite(text: str, spans: Sequence[Span]) -> tuple[str, list[Span]]:
    """:func:`say_times` piece by piece between span edges, so every span keeps its words."""
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    new, moved = "", {}
    for a, b in zip(cuts, cuts[1:], strict=False):
        moved[a] = len(new)
        new += say_times(text[a:b])
    moved[len(text)] = len(new)
    return new, [(moved[s], moved[e], label) for s, e, label in spans]


def render(text: str, spans: Sequence[Span], seed: str) -> tuple[str, list[Span]]:
    """ASR form of a labelled text (verbalised as the model's training data is) with word-level labels:
    person and place slots get a label per word (:func:`word_label`), other kinds cover their words."""
    from pipeline.training.spoken_data import verbalise

    rng = random.Random(int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16))
    text, spans = _rewrite(text, spans)
    spoken, mapped = verbalise(text, spans, rng)
    out: list[Span] = []
    for start, end, kind in mapped:
        for m in _TOKEN.finditer(spoken, start, end):
            label = word_label(m.group(), None, kind)
            if label:
                out.append((m.start(), m.end(), label))
    return spoken, _merge(out)


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for s, e, label in sorted(spans):
        if merged and merged[-1][2] == label and s - merged[-1][1] <= 1:
            merged[-1] = (merged[-1][0], e, label)
        else:
            merged.append((s, e, label))
    return merged


def _sample(rows: list, n: int, key: str) -> list:
    if n <= 0 or len(rows) <= n:
        return rows
    rng = random.Random(key)
    return rng.sample(rows, n)


def topv2_rows(
    root: str, per_domain: int, files: Sequence[str] = ("test",), only: Sequence[str] = ()
) -> Iterator[dict]:
    for domain, split in TOPV2_SPLIT.items():
        if only and domain not in only:
            continue
        rows = []
        for part in files:
            with gzip.open(os.path.join(root, "topv2", f"{domain}_{part}.tsv.gz"), "rt", encoding="utf-8") as handle:
                next(handle)
                rows += [line.rstrip("\n").split("\t") for line in handle if line.strip()]
        for i, (_, _, parse) in enumerate(_sample(rows, per_domain, f"topv2/{domain}")):
            text, spans = _join(parse_topv2(parse))
            yield _row(f"topv2-{domain}-{i}", text, spans, split, f"topv2/{domain}")


def snips_rows(root: str, per_intent: int, train: bool = False, key: str = "") -> Iterator[dict]:
    for intent, split in SNIPS_SPLIT.items():
        name = f"train_{intent}_full.json.gz" if train else f"validate_{intent}.json.gz"
        with gzip.open(os.path.join(root, "snips", name), "rt", encoding="latin-1") as handle:
            data = json.load(handle)[intent]
        for i, item in enumerate(_sample(data, per_intent, f"snips{key}/{intent}")):
            text, spans = "", []
            for chunk in item["data"]:
                start = len(text)
                text += chunk["text"]
                kind = _slot_kind(chunk.get("entity", ""))
                if kind:
                    spans.append((start, len(text), kind))
            yield _row(f"snips-{intent}-{i}", text, spans, split, f"snips/{intent}")


def clinc_rows(root: str, n: int, part: str = "test") -> Iterator[dict]:
    with gzip.open(os.path.join(root, "clinc150", "data_full.json.gz"), "rt", encoding="utf-8") as handle:
        data = json.load(handle)
    intents = sorted({intent for _, intent in data["test"]})
    parity = {intent: ("tune" if i % 2 == 0 else "heldout") for i, intent in enumerate(intents)}
    for i, (text, intent) in enumerate(_sample(data[part], n, f"clinc150/{part}")):
        yield _row(f"clinc-{intent}-{i}", text, unlabelled_entities(text), parity[intent], f"clinc150/{parity[intent]}")


_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|march|mar|april|apr|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_DATES = re.compile(rf"\b(?:{_MONTH}\s+{_DAY}|(?:the\s+)?{_DAY}\s+of\s+{_MONTH})\b")


def unlabelled_entities(text: str) -> list[Span]:
    """CLINC150 has intents but no slots, so its names, places and dates would count as ordinary words
    ("text dave", "flights from orlando", "rent a car for may 8th"). Marked blind to any detector, from
    fixed word lists: a world city (GeoNames, every word of a two- or three-word name: "san francisco")
    or a listed name word that is no ordinary English word, and a country or state -> not judged
    (``neutral:UNLABELLED`` / ``neutral:REGION``); a month with a day number -> ``keep:DATE_TIME``, as
    the other sets' date slots are. A city or name that is also an English word ("mobile", "bill") stays
    an ordinary word."""
    from transforms.redaction.wordlists import world_cities

    stop, ordinary, names, _ = _words()
    cities, regions = world_cities(), _region_words_cached()
    words = [
        (m.start(), m.end(), m.group().lower().removesuffix("'s").strip("'.,?!")) for m in re.finditer(r"\S+", text)
    ]
    spans: list[Span] = [(m.start(), m.end(), "keep:DATE_TIME") for m in _DATES.finditer(text.lower())]
    words = [w for w in words if not any(s <= w[0] < e for s, e, _ in spans)]  # "april" of a date: a month
    i = 0
    while i < len(words):
        for n in (3, 2, 1):
            phrase = " ".join(w for _, _, w in words[i : i + n])
            listed = phrase in cities or f"{phrase} city" in cities  # "new york", "mexico"
            if len(words[i : i + n]) == n and listed and (n > 1 or phrase not in ordinary):
                spans.append((words[i][0], words[i + n - 1][1], "neutral:UNLABELLED"))
                i += n
                break
        else:
            start, end, w = words[i]
            if w in regions and w not in stop and w not in ordinary:  # Faker's countries hold "and", "new"
                spans.append((start, end, "neutral:REGION"))
            elif w in names and w not in ordinary and w not in stop and w.isalpha():
                spans.append((start, end, "neutral:UNLABELLED"))
            i += 1
    return _merge(sorted(spans))


EVI_ITEMS = {"name": "person", "postcode": "POSTCODE", "dob": "DATE_OF_BIRTH"}


def evi_rows(root: str, n: int) -> Iterator[dict]:
    """EVI: real phone-call ASR of people saying their name, postcode or date of birth (the whole
    utterance is the value; first attempt of each item only)."""
    import csv

    rows = []
    with gzip.open(os.path.join(root, "evi", "dialogues.en.tsv.gz"), "rt", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["attempt_num"] == "0" and row["item"] in EVI_ITEMS and row["transcription"].strip():
                rows.append(row)
    for i, row in enumerate(_sample(rows, n, "evi")):
        text = row["transcription"].strip()
        yield _row(f"evi-{row['item']}-{i}", text, [(0, len(text), EVI_ITEMS[row["item"]])], "heldout", "evi")


def restaurant8k_rows(root: str, n: int) -> Iterator[dict]:
    """PolyAI Restaurants-8k test set: replies to a booking agent (names, dates, times, party sizes)."""
    kinds = {"first_name": "person", "last_name": "person", "date": "keep:DATE_TIME", "time": "keep:DATE_TIME"}
    with open(os.path.join(root, "polyai", "span_extraction", "restaurant8k", "test.json"), encoding="utf-8") as f:
        data = json.load(f)
    for i, item in enumerate(_sample(data, n, "restaurant8k")):
        text = item["userInput"]["text"]
        spans = []
        for label in item.get("labels", []):
            kind = kinds.get(label["slot"])
            span = label.get("valueSpan", {})
            if kind:
                spans.append((span.get("startIndex", 0), span["endIndex"], kind))
        yield _row(f"restaurant8k-{i}", text, spans, "heldout", "restaurant8k")


NLUPP_KINDS = {"person_name": "person", "company_name": "keep:BUSINESS", "date": "keep:DATE_TIME",
               "time": "keep:DATE_TIME"}  # fmt: skip


def nlupp_rows(root: str) -> Iterator[dict]:
    """PolyAI NLU++ (hotels and banking, CC BY 4.0): requests to a booking or banking agent with person
    and company names ("i have a table booked under christyne tauber"). A TUNE source (the span scorer's
    training data only); Restaurants-8k, of the same genre, stays held out."""
    import glob

    for path in sorted(glob.glob(os.path.join(root, "polyai", "nlupp", "data", "*", "fold*.json"))):
        domain = os.path.basename(os.path.dirname(path))
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        for i, item in enumerate(data):
            spans = []
            for slot, value in (item.get("slots") or {}).items():
                kind = NLUPP_KINDS.get(slot)
                if kind and "span" in value:
                    spans.append((value["span"][0], value["span"][1], kind))
            name = os.path.basename(path).removesuffix(".json")
            yield _row(f"nlupp-{domain}-{name}-{i}", item["text"], spans, "tune", f"nlupp/{domain}")


def _row(row_id: str, text: str, spans: Sequence[Span], split: str, source: str) -> dict:
    spoken, labelled = render(text, spans, row_id)
    return {
        "id": row_id,
        "text": spoken,
        "spans": [{"start": s, "end": e, "label": label} for s, e, label in labelled],
        "split": split,
        "source": source,
    }


def command_rows(root: str = COMMANDS_DIR, per_source: int = 600) -> list[dict]:
    """Every source's evaluation rows (test / validation files only; training files stay for training)."""
    if not os.path.isdir(root):
        raise FileNotFoundError(f"{root}: the command sets are not here (see ../shared/data/README.md)")
    rows = list(topv2_rows(root, per_source))
    rows += snips_rows(root, per_source // 2)
    rows += clinc_rows(root, per_source * 2)
    rows += evi_rows(root, per_source // 2)
    rows += restaurant8k_rows(root, per_source // 2)
    return [r for r in rows if r["text"]]


TRAINING_SIZES = {"messaging": 5000, "navigation": 4000, "alarm": 1200, "music": 2500}


def training_rows(root: str = COMMANDS_DIR, seed: int = 101) -> list[dict]:
    """Tune sources' TRAINING files only (TOPv2 ``*_train``, SNIPS ``train_*_full``, CLINC150 ``train``):
    never a held-out domain, never an evaluation row."""
    rows = []
    for domain, n in TRAINING_SIZES.items():
        rows += [r for r in topv2_rows(root, n, ("train",), only=(domain,))]
    rows += [r for r in snips_rows(root, 700, train=True) if r["split"] == "tune"]
    rows += [r for r in clinc_rows(root, 6000, "train") if r["split"] == "tune"]
    return [r for r in rows if r["text"]]


def to_examples(rows: Iterable[dict]) -> list[Example]:
    return [
        Example(r["id"], r["text"], [(s["start"], s["end"], s["label"]) for s in r["spans"]], r["split"]) for r in rows
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Write the rendered command set as JSONL (for inspection; not shipped: the sources are licensed)."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=COMMANDS_DIR)
    parser.add_argument("--per-source", type=int, default=600)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    with open(args.out, "w", encoding="utf-8") as handle:
        for row in command_rows(args.root, args.per_source):
            handle.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
