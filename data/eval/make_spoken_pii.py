"""Generate the spoken-style labelled PII set: Faker values rendered the way ASR writes them.

Out: ``data/eval/spoken_pii.jsonl`` — one transcript per line, ``{"id", "text", "spans":
     [{"start", "end", "label"}], "split"}``; lower case, no punctuation, numbers, e-mail
     addresses, dates and codes said as words.

Two splits so tuning cannot overfit the report: ``tune`` (seed 1, frame set A, names from en_US /
en_GB) is what recognizers were tuned on; ``heldout`` (seed 2, frame set B — different sentence
frames — and names and places also from locales the tuning split never used: en_IE, en_AU, de_DE,
fr_FR, es_ES, it_IT, pl_PL, nl_NL) is only reported. Run: ``python data/eval/make_spoken_pii.py``.
"""

from __future__ import annotations

import json
import os
import random
import unicodedata

from faker import Faker

ONES = "zero one two three four five six seven eight nine".split()
TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
ORD = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh", 8: "eighth",
       9: "ninth", 10: "tenth", 11: "eleventh", 12: "twelfth", 13: "thirteenth", 14: "fourteenth",
       15: "fifteenth", 16: "sixteenth", 17: "seventeenth", 18: "eighteenth", 19: "nineteenth", 20: "twentieth",
       30: "thirtieth"}  # fmt: skip
MONTHS = "january february march april may june july august september october november december".split()

FRAMES = {
    "A": [
        "my name is {PERSON}",
        "call {PERSON} on {PHONE_NUMBER}",
        "this is {PERSON} my number is {PHONE_NUMBER}",
        "send it to {EMAIL_ADDRESS}",
        "my email is {EMAIL_ADDRESS} thanks",
        "i live at {STREET_ADDRESS}",
        "ship the order to {STREET_ADDRESS} please",
        "my card number is {CREDIT_CARD}",
        "pay with card {CREDIT_CARD}",
        "my social security number is {US_SSN}",
        "my iban is {IBAN_CODE}",
        "the zip code is {ZIP_CODE}",
        "i was born on {DATE_OF_BIRTH}",
        "what's the weather in {LOCATION}",
        "text {PERSON} that i'm running late",
        "remind me to call {PERSON} tomorrow",
        "my account number is {ACCOUNT_NUMBER}",
        "set a timer for ten minutes",
        "play some jazz in the kitchen",
        "what time is it",
        "turn off the lights in the living room",
        "add milk and eggs to my shopping list",
    ],
    "B": [
        "alexa ring {PERSON} at {PHONE_NUMBER}",
        "hey computer it's {PERSON} here",
        "can you message {PERSON} and say i will be there at six",
        "the number to dial is {PHONE_NUMBER}",
        "forward the receipt to {EMAIL_ADDRESS} and to me",
        "the delivery address is {STREET_ADDRESS}",
        "we moved to {STREET_ADDRESS} last week",
        "use the visa ending {CREDIT_CARD}",
        "charge {CREDIT_CARD} for the groceries",
        "social is {US_SSN}",
        "transfer fifty pounds from {IBAN_CODE}",
        "postcode {ZIP_CODE}",
        "my date of birth is {DATE_OF_BIRTH}",
        "book a flight to {LOCATION} for friday",
        "navigate to {LOCATION}",
        "tell {PERSON} i love her",
        "my kid's name is {PERSON} and he is eight",
        "the customer reference is {ACCOUNT_NUMBER}",
        "how long will it take to get to work",
        "read me the news",
        "play the next episode on the tv",
        "what's seven times eight",
    ],
}

LOCALES = {
    "tune": ["en_US", "en_GB"],
    "heldout": ["en_IE", "en_AU", "de_DE", "fr_FR", "es_ES", "it_IT", "pl_PL", "nl_NL"],
}
EMAIL_DOMAINS = ["gmail", "yahoo", "outlook", "hotmail", "rediffmail", "protonmail", "example", "icloud"]
TLDS = ["com", "co dot uk", "net", "org", "de", "ie"]


def ascii_lower(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join("".join(c if c.isalnum() or c == " " else " " for c in text.lower()).split())


def below_100(n: int) -> str:
    if n < 10:
        return ONES[n]
    if n < 20:
        return TEENS[n - 10]
    return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])


def cardinal(n: int, rng: random.Random) -> str:
    if n < 100:
        return below_100(n)
    if n < 1000:
        rest = n % 100
        return f"{ONES[n // 100]} hundred" + (
            "" if not rest else (" and " if rng.random() < 0.5 else " ") + below_100(rest)
        )
    if 1000 < n < 10000 and n % 1000 >= 100 and rng.random() < 0.6:  # "twelve thirty four"
        return f"{below_100(n // 100)} {below_100(n % 100) if n % 100 >= 10 else 'oh ' + ONES[n % 100]}"
    return " ".join(ONES[int(c)] for c in str(n))


def digits(text: str, rng: random.Random, groups: bool = True) -> str:
    out = []
    ds = [c for c in text if c.isdigit()]
    i = 0
    zero = "oh" if rng.random() < 0.4 else "zero"
    while i < len(ds):
        if i + 1 < len(ds) and ds[i] == ds[i + 1] and rng.random() < 0.3:
            out.append("double " + (zero if ds[i] == "0" else ONES[int(ds[i])]))
            i += 2
            continue
        out.append(zero if ds[i] == "0" else ONES[int(ds[i])])
        i += 1
    return " ".join(out)


def year(y: int, rng: random.Random) -> str:
    if 2000 <= y < 2010:
        return "two thousand" + ("" if y == 2000 else " and " + ONES[y - 2000])
    return f"{below_100(y // 100)} {below_100(y % 100) if y % 100 >= 10 else 'oh ' + ONES[y % 100]}"


def ordinal(d: int) -> str:
    if d in ORD:
        return ORD[d]
    return f"{TENS[d // 10]} {ORD[d % 10]}"


def render(kind: str, fake: Faker, rng: random.Random) -> str:
    if kind == "PERSON":
        return ascii_lower(fake.first_name() if rng.random() < 0.55 else f"{fake.first_name()} {fake.last_name()}")
    if kind == "PHONE_NUMBER":
        number = "".join(rng.choice("23456789") for _ in range(3)) + "".join(str(rng.randrange(10)) for _ in range(7))
        if rng.random() < 0.4:
            number = "07" + "".join(str(rng.randrange(10)) for _ in range(9))
        return digits(number, rng)
    if kind == "EMAIL_ADDRESS":
        first, last = ascii_lower(fake.first_name()).split()[0], ascii_lower(fake.last_name()).split()[0]
        local = rng.choice(
            [
                f"{first} dot {last}",
                f"{first}{last}",
                f"{first} underscore {last}",
                first + " " + digits(str(rng.randrange(10, 99)), rng),
            ]
        )
        return f"{local} at {rng.choice(EMAIL_DOMAINS)} dot {rng.choice(TLDS)}"
    if kind == "STREET_ADDRESS":
        en = Faker("en_US")
        en.seed_instance(rng.randrange(10**9))
        number = rng.choice([rng.randrange(1, 100), rng.randrange(100, 1000), rng.randrange(1000, 99999)])
        street = ascii_lower(f"{en.street_name()}")
        parts = [cardinal(number, rng) if number < 10000 else digits(str(number), rng), street]
        if rng.random() < 0.3:
            parts.append(f"apartment {cardinal(rng.randrange(1, 999), rng)}")
        if rng.random() < 0.6:
            parts.append(ascii_lower(en.city()))
            if rng.random() < 0.5:
                parts.append(ascii_lower(en.state()))
            if rng.random() < 0.5:
                parts.append(digits(en.zipcode(), rng))
        return " ".join(parts)
    if kind == "CREDIT_CARD":
        return digits(fake.credit_card_number(card_type=rng.choice(["visa16", "mastercard", "amex", "discover"])), rng)
    if kind == "US_SSN":
        ssn = Faker("en_US").ssn()
        return " dash ".join(digits(g, rng) for g in ssn.split("-")) if rng.random() < 0.3 else digits(ssn, rng)
    if kind == "IBAN_CODE":
        iban = Faker("en_GB").iban().lower()
        return " ".join(c if c.isalpha() else ONES[int(c)] for c in iban)
    if kind == "ZIP_CODE":
        return digits(Faker("en_US").zipcode(), rng) if rng.random() < 0.6 else ascii_lower(Faker("en_GB").postcode())
    if kind == "DATE_OF_BIRTH":
        d = fake.date_of_birth(minimum_age=18, maximum_age=90)
        if rng.random() < 0.5:
            return f"{MONTHS[d.month - 1]} {ordinal(d.day)} {year(d.year, rng)}"
        return f"the {ordinal(d.day)} of {MONTHS[d.month - 1]} {year(d.year, rng)}"
    if kind == "LOCATION":
        return ascii_lower(rng.choice([fake.city(), fake.country(), Faker("en_US").state()]))
    if kind == "ACCOUNT_NUMBER":
        return digits("".join(str(rng.randrange(10)) for _ in range(rng.choice([8, 10, 12]))), rng)
    raise ValueError(kind)


def generate(split: str, seed: int, frames: list[str], n: int) -> list[dict]:
    rng = random.Random(seed)
    fakers = [Faker(loc) for loc in LOCALES[split]]
    for i, f in enumerate(fakers):
        f.seed_instance(seed * 100 + i)
    rows = []
    for i in range(n):
        frame = rng.choice(frames)
        fake = rng.choice(fakers)
        text, spans, pos = "", [], 0
        while True:
            open_ = frame.find("{", pos)
            if open_ < 0:
                text += frame[pos:]
                break
            close = frame.index("}", open_)
            text += frame[pos:open_]
            kind = frame[open_ + 1 : close]
            value = render(kind, fake, rng)
            spans.append({"start": len(text), "end": len(text) + len(value), "label": kind})
            text += value
            pos = close + 1
        rows.append({"id": f"spoken_{split}_{i:04d}", "text": text, "spans": spans, "split": split})
    return rows


def main() -> None:
    rows = generate("tune", 1, FRAMES["A"], 600) + generate("heldout", 2, FRAMES["B"], 600)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "spoken_pii.jsonl")
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    print(f"wrote {len(rows)} transcripts to {path}")


if __name__ == "__main__":
    main()
