"""Calibrated scores for name and place hits in spoken-style transcripts (the span scorer).

In:  the written form of a spoken-style transcript and Presidio's results for it (every recognizer's
     hits, before thresholds), plus the weights file ``transforms/redaction/models/span_scorer.json``
     (trained by ``python -m pipeline.training.span_scorer`` on the tune sources of the real command sets
     and the tune families of the spoken generators).
Out: the same results, each PERSON / LOCATION hit's score replaced by a probability
     that it is personal data (logistic regression; its original score kept in the result's
     ``recognition_metadata["original_score"]``), and the per-entity thresholds the weights were
     chosen with (:attr:`SpanScorer.thresholds`).
Fails: ``FileNotFoundError`` / ``ValueError`` when the weights file is missing or malformed (a packaging
     error: the stage must not run without it); never on text.

Why: the spoken NER model gives every span one score (0.60) and the name lists score by list
membership, so no threshold could trade recall for over-redaction ("clear my calendar" → "<PERSON> my
calendar"). The scorer reads what tells a customer's contact from a command word or a public name:
which recognizers agree, the word's own form (an ordinary word, a listed first name, a word no
dictionary holds), the words just before and after ("text ___", "play ___", "weather in ___") and the
command's other words ("remind", "play", "navigate"). Two weight sets: ``keep`` (default policy: an
artist, title, app or business in a non-contact frame is not personal data: "play adele") and ``redact``
(public names are redacted as well: "play adele" → "play <PERSON>").
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources

from transforms.core.caches import process_cache

# Dates and street addresses are not judged, the recognizers' scores stand: a full date with a year
# ("march third nineteen eighty five") may be a date of birth said alone, with no context word to tell it
# from an appointment (judged by the scorer, EVI's spoken dates of birth fell from 0.83 to 0.34 of words
# redacted); judged street addresses fell from 0.994 to 0.932 of characters on the multi-locale set's
# held-out families (the tune families' addresses all scored high, so no threshold chosen there held).
ENTITIES = ("PERSON", "LOCATION")
POLICIES = ("keep", "redact")
_WORD = re.compile(r"\S+")


def packaged_weights_path() -> str:
    return str(resources.files("transforms.redaction.models").joinpath("span_scorer.json"))


@process_cache(maxsize=4)
def load_weights(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    for policy in POLICIES:
        if policy not in data.get("policies", {}):
            raise ValueError(f"{path}: no weights for public_names policy {policy!r}")
    return data


def _bare(word: str) -> str:
    return word.lower().removesuffix("'s").strip("'.,?!")


class WordClasses:
    """What a word is, from the stage's word lists: ordinary English, a listed first / last name, a
    listed place word, a number word, a stop word."""

    def __init__(self, lexicon=None):
        from transforms.redaction.recognizers.words import STOP_WORDS
        from transforms.redaction.spoken import NUMBER_WORDS, ORDINALS
        from transforms.redaction.wordlists import CALENDAR_WORDS, english_words

        self.stop = frozenset(STOP_WORDS)
        self.ordinary = english_words() | self.stop | CALENDAR_WORDS
        self.numbers = frozenset(NUMBER_WORDS) | frozenset(ORDINALS)
        self.calendar = CALENDAR_WORDS
        self.first = frozenset(lexicon.first_names) if lexicon is not None else frozenset()
        self.last = frozenset(lexicon.last_names) if lexicon is not None else frozenset()
        self.places = frozenset(w for p in lexicon.places for w in p.split()) if lexicon is not None else frozenset()


def span_features(
    words: Sequence[tuple[int, int, str]],
    start: int,
    end: int,
    entity: str,
    recognizer: str,
    score: float,
    agree: int,
    classes: WordClasses,
    vocabulary: frozenset[str],
) -> dict[str, float]:
    """Features of one hit ``[start, end)`` of ``entity`` (written-form offsets) among ``words``
    ((start, end, lower-case word) of the written form). Context words outside ``vocabulary`` share one
    feature per position (``p1=?``) so a rare word says only that it is rare."""
    inside = [w for s, e, w in words if s < end and e > start]
    before = [w for s, e, w in words if e <= start]
    after = [w for s, e, w in words if s >= end]
    n = max(1, len(inside))
    bare = [_bare(w) for w in inside]
    feats: dict[str, float] = {
        "bias": 1.0,
        f"rec={recognizer}": 1.0,
        f"ent={entity}": 1.0,
        f"rec_ent={recognizer}|{entity}": 1.0,
        "score": score,
        f"len={min(len(inside), 3)}": 1.0,
        "agree": float(min(agree, 3)),
        "ordinary_share": sum(w in classes.ordinary for w in bare) / n,
        "unknown": float(any(w not in classes.ordinary and not w.isdigit() and w not in classes.numbers for w in bare)),
        "first_name": float(any(w in classes.first for w in bare)),
        "last_name": float(any(w in classes.last for w in bare)),
        "place_word": float(any(w in classes.places for w in bare)),
        "number": float(any(w.isdigit() or w in classes.numbers for w in bare)),
        "calendar": float(any(w in classes.calendar for w in bare)),
        "stop_edge": float(bool(bare) and (bare[0] in classes.stop or bare[-1] in classes.stop)),
        "ordinary_first_name": float(any(w in classes.first and w in classes.ordinary for w in bare)),
    }
    for name, pos in (("p1", -1), ("p2", -2)):
        w = _bare(before[pos]) if len(before) >= -pos else "<s>"
        feats[f"{name}={w if w in vocabulary or w == '<s>' else '?'}"] = 1.0
    w = _bare(after[0]) if after else "</s>"
    feats[f"n1={w if w in vocabulary or w == '</s>' else '?'}"] = 1.0
    if before:
        feats[f"p1_ordinary={_bare(before[-1]) in classes.ordinary}"] = 1.0
    for w in {_bare(x) for x in before[:-2] + after[1:]}:
        if w in vocabulary:
            feats[f"s={w}"] = 1.0
    return feats


def logistic(weights: Mapping[str, float], feats: Mapping[str, float]) -> float:
    z = sum(weights.get(k, 0.0) * v for k, v in feats.items())
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def written_words(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text)]


def agreement(results: Sequence, i: int) -> int:
    """How many other hits overlap hit ``i`` (other recognizers finding the same words)."""
    r = results[i]
    return sum(1 for j, o in enumerate(results) if j != i and o.start < r.end and o.end > r.start)


def recognizer_name(result) -> str:
    return (result.recognition_metadata or {}).get("recognizer_name", "")


class SpanScorer:
    """Rescoring of name and place hits with one of the trained weight sets (see the module doc)."""

    def __init__(self, lexicon=None, policy: str = "keep", path: str | None = None):
        if policy not in POLICIES:
            raise ValueError(f"public_names must be one of {POLICIES}")
        data = load_weights(path or packaged_weights_path())
        chosen = data["policies"][policy]
        self.policy = policy
        self.weights: dict[str, float] = chosen["weights"]
        self.thresholds: dict[str, float] = chosen["thresholds"]
        self.vocabulary = frozenset(data["vocabulary"])
        self.entities = frozenset(data.get("entities", ENTITIES))
        self.classes = WordClasses(lexicon)

    def scored(self, result) -> bool:
        name = recognizer_name(result)
        return result.entity_type in self.entities and not name.startswith("ClipMetadata")

    def probabilities(self, text: str, results: Sequence) -> list[float | None]:
        """P(personal data) per hit (None for hits the scorer does not judge)."""
        words = written_words(text)
        out: list[float | None] = []
        for i, r in enumerate(results):
            if not self.scored(r):
                out.append(None)
                continue
            feats = span_features(
                words, r.start, r.end, r.entity_type, recognizer_name(r), float(r.score),
                agreement(results, i), self.classes, self.vocabulary,
            )  # fmt: skip
            out.append(logistic(self.weights, feats))
        return out

    def rescore(self, text: str, results: Iterable) -> list:
        """``results`` with calibrated scores on the hits the scorer judges (original score kept in the
        result's metadata as ``original_score``)."""
        results = list(results)
        for r, p in zip(results, self.probabilities(text, results), strict=True):
            if p is not None:
                meta = r.recognition_metadata if r.recognition_metadata is not None else {}
                meta["original_score"] = float(r.score)
                r.recognition_metadata = meta
                r.score = p
        return results
