"""Training data of the spoken-text NER model: sources, spoken and written forms, augmentation.

In:  - the multi-locale spoken generator (``data/eval/make_spoken_multilocale.py``), TUNE families and
       tune locales only, with a seed of its own (``DATA_SEED``; the evaluation set uses another);
     - ``data/eval/spoken_pii.jsonl``, its ``tune`` split only;
     - ``../shared/data/pii/presidio_synth_v2.jsonl`` (presidio-research, MIT), EVEN template ids only,
       lower-cased, punctuation dropped and numbers said as words, spans mapped through every change
       (skipped with a message when the file is absent).
Out: (text, spans) examples with the model's labels ("" for other PII) and the recipe that counts
     them (:func:`build_training_data`); every sentence is used twice when the two differ: as said
     (spoken form) and as the redaction stage's spoken-form layer writes it
     (``transforms.redaction.spoken.normalize``), which is the text spaCy sees inside the stage.
Fails: ``FileNotFoundError`` if the generator is missing (run from a repository checkout).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import random
import re
import unicodedata
from collections.abc import Iterable, Sequence

LOG = logging.getLogger(__name__)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL_DIR = os.path.join(REPO, "transforms", "redaction", "models", "spoken_ner")
GENERATOR = os.path.join(REPO, "data", "eval", "make_spoken_multilocale.py")
SPOKEN_PII = os.path.join(REPO, "data", "eval", "spoken_pii.jsonl")
PRESIDIO_SYNTH = os.path.join(os.path.dirname(REPO), "shared", "data", "pii", "presidio_synth_v2.jsonl")

LABELS = ("PERSON", "LOCATION", "STREET_ADDRESS")
# gold labels of the sources → the model's labels; any other label is "not an entity" for the model
LABEL_MAP = {"PERSON": "PERSON", "PER": "PERSON", "LOCATION": "LOCATION", "GPE": "LOCATION", "LOC": "LOCATION",
             "STREET_ADDRESS": "STREET_ADDRESS"}  # fmt: skip
DATA_SEED = 101  # the evaluation set is seed 7
PER_FAMILY = 150
SALADS = 6000
# PII-free assistant commands (negative examples): off in the shipped model. Measured with
# `evaluate_spoken --detector both` on the held-out families (seed 13): 0 -> char recall 0.986,
# precision 0.958; 1,000 -> 0.982 / 0.970; 4,000 -> 0.976 / 0.975. Precision gained, recall lost
# (PERSON 0.972 -> 0.957 -> 0.943): recall comes first here.
COMMANDS = 0
WORD_SHARE = 0.3  # of which names that are also words said as words ("what does rose mean")

Span = tuple[int, int, str]


# --- sources ------------------------------------------------------------------------------------


def load_generator():
    """``data/eval/make_spoken_multilocale.py`` as a module (``data/`` is not a package)."""
    if not os.path.exists(GENERATOR):
        raise FileNotFoundError(f"{GENERATOR}: train-ner runs from a repository checkout")
    spec = importlib.util.spec_from_file_location("make_spoken_multilocale", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _mapped(spans: Iterable[dict]) -> list[Span]:
    return [(int(s["start"]), int(s["end"]), LABEL_MAP.get(s["label"], "")) for s in spans]


def generator_examples(
    seed: int, per_family: int, exclude: Sequence[str] = (), only: Sequence[str] = ()
) -> list[tuple[str, list[Span]]]:
    """Tune families (less ``exclude``, or just ``only``), tune locales only (no held-out locale either)."""
    gen = load_generator()
    rows = gen.generate(seed=seed, per_family=per_family, splits=("tune",), heldout_locales=(), id_prefix="train")
    return [
        (row["text"], _mapped(row["spans"]))
        for row in rows
        if row["family"] not in exclude and (not only or row["family"] in only)
    ]


def spoken_pii_examples(path: str = SPOKEN_PII) -> list[tuple[str, list[Span]]]:
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [(r["text"], _mapped(r["spans"])) for r in rows if r.get("split") == "tune"]


def presidio_examples(path: str = PRESIDIO_SYNTH, seed: int = DATA_SEED) -> list[tuple[str, list[Span]]]:
    """presidio_synth_v2's even templates, said the way an ASR system writes them."""
    if not os.path.exists(path):
        LOG.warning("%s not found: training without presidio_synth_v2", path)
        return []
    rng = random.Random(seed)
    out = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if int(row["template_id"]) % 2:
                continue
            text, spans = verbalise(row["text"], _mapped(row["spans"]), rng)
            if text:
                out.append((text, spans))
    return out


# --- written text → spoken form, spans carried along ---------------------------------------------

_PIECE = re.compile(r"(\d+)|([^\W\d_]+(?:'[^\W\d_]+)?)|(@)|([.](?=\w))|(&)|(\s+)|(.)", re.S)


def _fold(word: str) -> str:
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode().lower()


def verbalise(text: str, spans: Sequence[Span], rng: random.Random) -> tuple[str, list[Span]]:
    """Lower case, accents folded, punctuation dropped, "@" / "." / "&" said, numbers said as words;
    each gold span maps onto the words that now stand for its characters."""
    gen = load_generator_helpers()
    chars: list[str] = []
    origin: list[int] = []  # original index of each output character (-1: inserted)

    def emit(piece: str, start: int, end: int) -> None:
        for i, ch in enumerate(piece):
            chars.append(ch)
            origin.append(-1 if ch == " " else min(start + i, end - 1))

    for m in _PIECE.finditer(text):
        digits_, word, at, dot, amp, space, other = m.groups()
        start, end = m.span()
        if digits_:
            n = int(digits_)
            if len(digits_) >= 5 or digits_.startswith("0"):
                spoken = gen.digits(digits_, rng)
            elif 1900 <= n < 2100 and rng.random() < 0.7:
                spoken = gen.year(n, rng)
            else:
                spoken = gen.cardinal(n, rng)
            emit(f" {spoken} ", start, end)
        elif word:
            emit(_fold(word), start, end)
        elif at:
            emit(" at ", start, end)
        elif dot:
            emit(" dot ", start, end)
        elif amp:
            emit(" and ", start, end)
        else:
            emit(" ", start, end)
    # squeeze spaces
    out_chars, out_origin = [], []
    for ch, o in zip(chars, origin, strict=True):
        if ch == " " and (not out_chars or out_chars[-1] == " "):
            continue
        out_chars.append(ch)
        out_origin.append(o)
    while out_chars and out_chars[-1] == " ":
        out_chars.pop()
        out_origin.pop()
    new_text = "".join(out_chars)
    new_spans = []
    for s, e, label in spans:
        idx = [i for i, o in enumerate(out_origin) if s <= o < e]
        if idx:
            new_spans.append((idx[0], idx[-1] + 1, label))
    return new_text, new_spans


_HELPERS = None


def load_generator_helpers():
    """``make_spoken_pii``'s verbalisation helpers (digits, cardinal, year), via the multi-locale generator."""
    global _HELPERS
    if _HELPERS is None:
        _HELPERS = load_generator()
    return _HELPERS


def written_form(text: str, spans: Sequence[Span]) -> tuple[str, list[Span]]:
    """The text as the stage's spoken-form layer writes it ("five five five" → "555"), spans mapped."""
    from transforms.redaction.spoken import normalize

    norm = normalize(text)
    out = []
    for s, e, label in spans:
        idx = [
            i for i in range(len(norm.text)) if norm.starts[i] < e and norm.ends[i] > s and not norm.text[i].isspace()
        ]
        if idx:
            out.append((idx[0], idx[-1] + 1, label))
    return norm.text, out


def both_forms(examples: Iterable[tuple[str, list[Span]]]) -> list[tuple[str, list[Span]]]:
    out = []
    for text, spans in examples:
        out.append((text, spans))
        written, wspans = written_form(text, spans)
        if written != text:
            out.append((written, wspans))
    return out


# --- augmentation: the same entities in contexts no template wrote ---------------------------------


def _rebuild(words: list[tuple[str, str | None]]) -> tuple[str, list[Span]]:
    """Text and spans from (piece, label-or-None) pieces joined by single spaces."""
    text, spans = "", []
    for piece, label in words:
        if not piece:
            continue
        if text:
            text += " "
        if label is not None:
            spans.append((len(text), len(text) + len(piece), label))
        text += piece
    return text, spans


def _pieces(text: str, spans: Sequence[Span]) -> list[tuple[str, str | None]]:
    """The text cut into entity spans (label) and the single words between them (None)."""
    out, pos = [], 0
    for s, e, label in sorted(spans):
        if s < pos:
            continue  # nested or overlapping gold span: the outer one stands
        out += [(w, None) for w in text[pos:s].split()]
        out.append((text[s:e], label))
        pos = e
    out += [(w, None) for w in text[pos:].split()]
    return out


def replace_mentions(examples, seed: int, copies: int) -> list[tuple[str, list[Span]]]:
    """Each sentence with PERSON / LOCATION again ``copies`` times, those mentions replaced by names and
    places of the generator's TUNE locales (novel names included): presidio's varied sentence frames
    carry the names and place kinds of spoken transcripts."""
    gen = load_generator()
    rng = random.Random(seed)
    sources = [gen.LocaleSource(loc, seed + i) for i, loc in enumerate(gen.TUNE_LOCALES)]
    kinds = ("city", "locality", "landmark", "road", "village", "city", "state")
    out = []
    for text, spans in examples:
        if not any(label in ("PERSON", "LOCATION") for _, _, label in spans):
            continue
        for _ in range(copies):
            source = rng.choice(sources)
            pieces = []
            for piece, label in _pieces(text, spans):
                if label == "PERSON":
                    piece = source.person(rng, None)[0]
                elif label == "LOCATION":
                    piece = source.place(rng, rng.choice(kinds))[0]
                pieces.append((piece, label))
            out.append(_rebuild(pieces))
    return out


def context_vocabulary(examples) -> list[str]:
    """Words outside every gold span, in the order first seen (ordinary words of commands and prose)."""
    seen: dict[str, None] = {}
    for text, spans in examples:
        for piece, label in _pieces(text, spans):
            if label is None and piece.isalpha():
                seen.setdefault(piece, None)
    return list(seen)


def perturb_context(examples, vocabulary: Sequence[str], seed: int, share: float = 0.3):
    """Each sentence again with about ``share`` of its words outside the spans replaced by random ordinary
    words or dropped: a name is found by its own form and nearby words, not by a template's exact frame."""
    rng = random.Random(seed)
    out = []
    for text, spans in examples:
        pieces = []
        for piece, label in _pieces(text, spans):
            if label is None and rng.random() < share:
                if rng.random() < 0.25:
                    continue
                piece = rng.choice(vocabulary)
            pieces.append((piece, label))
        out.append(_rebuild(pieces))
    return out


def random_context(vocabulary: Sequence[str], seed: int, n: int) -> list[tuple[str, list[Span]]]:
    """``n`` word salads of ordinary words with one or two names or places at random positions: the
    entity's own form has to carry it. Names that are also English words ("will", "grace") are left out
    here; they appear only in real sentence frames."""
    gen = load_generator()
    english = gen._english_words()
    rng = random.Random(seed)
    sources = [gen.LocaleSource(loc, seed + 50 + i) for i, loc in enumerate(gen.TUNE_LOCALES)]
    kinds = ("city", "locality", "landmark", "road", "village")
    out = []
    while len(out) < n:
        source = rng.choice(sources)
        pieces: list[tuple[str, str | None]] = [(rng.choice(vocabulary), None) for _ in range(rng.randrange(2, 9))]
        for _ in range(rng.choice((1, 1, 2))):
            if rng.random() < 0.5:
                value, label = source.person(rng, None)[0], "PERSON"
            else:
                value, label = source.place(rng, rng.choice(kinds))[0], "LOCATION"
            if any(w in english for w in value.split()) and label == "PERSON":
                continue
            pieces.insert(rng.randrange(len(pieces) + 1), (value, label))
        if any(label for _, label in pieces):
            out.append(_rebuild(pieces))
    return out


# --- negative examples: PII-free assistant commands --------------------------------------------------
# Hand-written frames and fillers, none taken from the evaluation set's families. They hold what the model
# read as names or places in round 1: amounts of time and rates ("in a minute", "per month"), song and
# holiday titles, app names used as verbs ("whatsapp the photos"), route words, months after "in", and
# names that are also words ("rose", "mark", "holly") in the roles words have.

_FILL = {
    "TIME": ("in a minute", "in a second", "in an hour", "in half an hour", "in a few minutes", "in ten minutes",
             "tomorrow", "tonight", "at noon", "this evening", "later today", "next week", "on the weekend",
             "every morning", "at half past six", "at 7", "in twenty minutes", "after lunch", "before bed"),
    "RATE": ("per month", "per week", "a month", "a year", "per year", "per day", "an hour", "per hour", "each",
             "per person", "per kilo", "per night"),
    "SONG": ("holly jolly christmas", "jingle bells", "silent night", "let it snow", "happy birthday",
             "summer hits", "rainy day jazz", "the top forty", "morning acoustic", "deep focus", "chill vibes",
             "rock classics", "some love songs", "feliz navidad", "white christmas", "auld lang syne",
             "the nutcracker", "lullabies", "workout mix", "dance party", "old school hip hop", "sweet caroline"),
    "APP": ("whatsapp", "spotify", "netflix", "youtube", "instagram", "telegram", "uber", "zoom", "gmail",
            "google maps", "prime video", "paytm", "gpay", "phonepe", "swiggy", "zomato", "facebook",
            "snapchat", "tiktok", "skype", "teams", "slack", "kindle", "audible", "alexa app"),
    "MONTH": ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
              "november", "december"),
    "DAY": ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
    "THING": ("the photos", "this video", "the document", "my location", "the link", "the recipe", "the list",
              "the receipt", "this song", "the playlist", "the tickets", "my notes", "the bill", "the file"),
    "GROUP": ("the family group", "the office group", "the school group", "my team", "the class chat",
              "the group chat", "my contacts", "the neighbours group"),
    "ITEM": ("milk", "eggs", "bread", "rice", "butter", "apples", "coffee", "tea bags", "dish soap",
             "paper towels", "onions", "tomatoes", "yogurt", "cereal", "batteries", "dog food"),
    "PLACE": ("home", "work", "the office", "the airport", "the station", "the gym", "school", "the mall",
              "the nearest hospital", "the beach", "downtown", "the city centre"),
    "DEVICE": ("the lights", "the fan", "the heater", "the tv", "the ac", "the speaker", "the porch light",
               "the kitchen lights", "the bedroom lamp", "the coffee maker"),
}  # fmt: skip
_FRAMES = (
    "remind me {TIME}", "remind me to call back {TIME}", "set a timer for {TIME}", "wake me up {TIME}",
    "snooze {TIME}", "how much is it {RATE}", "how much does {APP} cost {RATE}", "what does it cost {RATE}",
    "is that charged {RATE}", "play {SONG}", "play {SONG} on {APP}", "add {SONG} to my playlist",
    "put on {SONG}", "open {APP}", "{APP} {THING} to {GROUP}", "share {THING} on {APP}",
    "send {THING} to {GROUP}", "post {THING} in {GROUP}", "add {ITEM} to my list", "add {ITEM} and {ITEM}",
    "add {ITEM} to the cart", "add an event {TIME}", "add a meeting {TIME}", "add that to {GROUP}",
    "what's the fastest route to {PLACE}", "fastest way to {PLACE}", "how long to get to {PLACE}",
    "show the route to {PLACE}", "avoid tolls on the way to {PLACE}", "what's on in {MONTH}",
    "what's on this {DAY}", "is the shop open on {DAY}", "book it for {DAY}", "any holidays in {MONTH}",
    "turn off {DEVICE}", "turn on {DEVICE} {TIME}", "dim {DEVICE}", "mark {THING} as done",
    "mark it as read", "pay the bill {TIME}", "will it rain {TIME}", "will you come {TIME}",
    "will it snow in {MONTH}", "may i ask something", "can you read {THING}", "what's the age limit",
    "do i need a visa", "what is my iban", "what's an iban number", "what's my zip code", "check my bill",
)  # fmt: skip
_WORD_FRAMES = (
    "what does {WORD} mean", "how do you spell {WORD}", "add {WORD} to the shopping list", "define {WORD}",
    "is {WORD} a noun", "a synonym for {WORD}", "buy some {WORD}", "search for {WORD}",
)  # fmt: skip


def _ordinary_name_words() -> list[str]:
    """English-locale first names that are also ordinary words ("rose", "mark", "holly")."""
    from transforms.redaction.lexicon import build_lexicon

    lex = build_lexicon(())
    return sorted(w for w in lex.english_names if w in lex.common and w.isalpha() and len(w) > 3)


def plain_commands(seed: int, n: int) -> list[tuple[str, list[Span]]]:
    """``n`` PII-free assistant commands (no spans): frames filled with ordinary fillers, and names that
    are also words said as words; a wake word in front of one in ten."""
    rng = random.Random(seed)
    words = _ordinary_name_words()
    out = []
    while len(out) < n:
        if rng.random() < WORD_SHARE:
            text = rng.choice(_WORD_FRAMES).replace("{WORD}", rng.choice(words))
        else:
            text = rng.choice(_FRAMES)
            while "{" in text:
                slot = text[text.index("{") + 1 : text.index("}")]
                text = text.replace("{" + slot + "}", rng.choice(_FILL[slot]), 1)
        if rng.random() < 0.1:
            text = rng.choice(("alexa", "hey google", "ok google", "hey siri", "computer")) + " " + text
        out.append((text, []))
    return out


# Real command slots → the model's labels. Public names (artists, titles, apps, businesses), states and
# countries, landmarks and free text (reminder and message bodies, which hold unlabelled names) are
# MISSING: the model is told nothing about them, so it keeps finding names by their form and the
# redaction stage decides by context whether a name is a customer's contact or a public one.
MISSING = "-"
COMMAND_LABELS = {"PERSON": "PERSON", "LOCATION": "LOCATION"}


def command_label(label: str) -> str | None:
    """Model label of a command-set gold label: PERSON / LOCATION, MISSING, or None (outside)."""
    if label in COMMAND_LABELS:
        return COMMAND_LABELS[label]
    if label.startswith("keep:") and label != "keep:DATE_TIME" and label != "keep:RELATION":
        return MISSING
    if label in ("neutral:REGION", "neutral:POI", "neutral:FREE_TEXT"):
        return MISSING
    return None


def real_command_examples(seed: int = DATA_SEED) -> list[tuple[str, list[Span]]]:
    """Real assistant commands of the TUNE sources' training files (:func:`pipeline.evaluation.commands.
    training_rows`), as ASR writes them: contacts, attendees and places as positives, everything else
    (alarm, timer, music, messaging and CLINC150 requests) as negatives. Empty when the sets are absent."""
    from pipeline.evaluation.commands import COMMANDS_DIR, training_rows

    if not os.path.isdir(COMMANDS_DIR):
        LOG.warning("%s absent: training without real commands", COMMANDS_DIR)
        return []
    out = []
    for row in training_rows(COMMANDS_DIR, seed):
        spans = []
        for s in row["spans"]:
            label = command_label(s["label"])
            if label is not None:
                spans.append((s["start"], s["end"], label))
        out.append((row["text"], spans))
    return out


HARD_NEGATIVE_WORDS = ("command", "removed-any", "removed", "ordinary")


def hard_negative_examples(path: str, seed: int = DATA_SEED, words: str = "removed") -> list[tuple[str, list[Span]]]:
    """The real commands ``path`` lists (:mod:`pipeline.training.hard_negatives`: tune training commands
    the stage over-redacts through this model), their PII labelled as :func:`real_command_examples`
    labels it (positives), and as negatives, by ``words``:

    - ``command``: every other word (the whole command, as the second model's real commands);
    - ``removed-any``: only the words the stage removed that are ordinary English or stop words and
      no listed name, place or street word;
    - ``removed``: only the words the stage removed that are ordinary English and none of: a stop word
      (they frame names: "from", "at"; "will" is one), a number word (part of addresses), a listed
      name, place or street word;
    - ``ordinary``: every word of the command of that last kind, removed or not.

    Every word that is neither PII nor a negative is MISSING: the model is told nothing about it. Each
    variant was measured and dropped (``docs/privacy-and-utility.md``): all cost recall on the
    multi-locale held-out families beyond what another training seed moves."""
    from pipeline.evaluation.commands import COMMANDS_DIR, training_rows
    from transforms.redaction.lexicon import build_lexicon
    from transforms.redaction.recognizers.words import STOP_WORDS
    from transforms.redaction.spoken import NUMBER_WORDS, ORDINALS
    from transforms.redaction.wordlists import english_words

    if words not in HARD_NEGATIVE_WORDS:
        raise ValueError(f"words must be one of {HARD_NEGATIVE_WORDS}")
    with open(path, encoding="utf-8") as handle:
        mined = {i: {tuple(w) for w in removed} for i, removed in json.load(handle)["ids"].items()}
    if not os.path.isdir(COMMANDS_DIR):
        LOG.warning("%s absent: training without hard negatives", COMMANDS_DIR)
        return []
    lexicon = build_lexicon(())
    listed = lexicon.first_names | lexicon.last_names | lexicon.street_suffixes
    listed |= {w for p in lexicon.places for w in p.split()}
    stop, ordinary = frozenset(STOP_WORDS), english_words()
    never = stop | frozenset(NUMBER_WORDS) | frozenset(ORDINALS) | listed

    def negative(word: str, removed: bool) -> bool:
        w = word.lower().removesuffix("'s").strip("'")
        if words == "command":
            return True
        if words == "removed-any":
            return removed and (w in stop or (w in ordinary and w not in listed))
        return (removed or words == "ordinary") and w in ordinary and w not in never

    out = []
    for row in training_rows(COMMANDS_DIR, seed):
        if row["id"] not in mined:
            continue
        text = row["text"]
        spans = [(s["start"], s["end"], lab) for s in row["spans"] if (lab := command_label(s["label"])) is not None]
        for m in re.finditer(r"\S+", text):
            if any(s < m.end() and e > m.start() for s, e, _ in spans):
                continue
            if not negative(m.group(), (m.start(), m.end()) in mined[row["id"]]):
                spans.append((m.start(), m.end(), MISSING))
        out.append((text, sorted(spans)))
    return out


def build_training_data(
    seed: int = DATA_SEED,
    per_family: int = PER_FAMILY,
    presidio_path: str = PRESIDIO_SYNTH,
    exclude_families: Sequence[str] = (),
    salads: int = 0,
    commands: int = 0,
    real_commands: bool = False,
    hard_negatives: str | None = None,
    hard_negative_words: str = "removed",
):
    """(examples, recipe): examples are (text, spans with the model's labels, "" for other PII, MISSING
    for words the model is told nothing about)."""
    generated = generator_examples(seed, per_family, exclude=exclude_families)
    presidio = presidio_examples(presidio_path, seed)
    spoken_pii = spoken_pii_examples()
    vocabulary = context_vocabulary(generated + presidio + spoken_pii)
    sources = {
        "multilocale generator, tune families and tune locales": generated,
        "same, a third of the words outside spans replaced or dropped": perturb_context(generated, vocabulary, seed),
        "spoken_pii.jsonl tune split": spoken_pii,
        "presidio_synth_v2 even templates, verbalised": presidio,
        "same, PERSON/LOCATION replaced by tune-locale names and places (4 copies)": replace_mentions(
            presidio, seed, 4
        ),
    }
    if salads:
        sources[f"{salads} word salads with tune-locale names and places"] = random_context(vocabulary, seed, salads)
    if commands:
        sources[f"{commands} PII-free assistant commands (negatives)"] = plain_commands(seed + 1, commands)
    if real_commands:
        real = real_command_examples(seed)
        if real:
            sources["real commands: TOPv2 messaging/navigation/alarm/music, SNIPS tune intents, CLINC150 tune "
                    "intents (training files)"] = real  # fmt: skip
    if hard_negatives:
        mined = hard_negative_examples(hard_negatives, seed, hard_negative_words)
        if mined:
            sources["hard negatives: real tune training commands the stage over-redacted through this model "
                    f"({os.path.basename(hard_negatives)}, negatives: {hard_negative_words})"] = mined  # fmt: skip
    examples, recipe = [], {}
    for name, rows in sources.items():
        forms = both_forms(rows)
        recipe[name] = {"sentences": len(rows), "with written forms": len(forms)}
        examples += forms
    return examples, recipe
