"""Redaction quality on a labelled set: how many PII characters would reach a reviewer.

In:  a JSONL file of ``{"id", "text", "spans": [{"start", "end", "label"}]}`` (optionally
     ``split``), a label mapping (gold label → our entity type) and a built detector.
Out: :class:`RedactionReport` — type-agnostic character-level recall (1 − leak rate) and
     precision over non-space characters; per gold entity, the share of its characters redacted by
     any type (leak view) and typed precision / recall / F2 (typed view); per split the same
     headline figures; the worst misses as (id, label, missed characters) — the missed characters
     only, cut to ``snippet_chars``, never the whole transcript.
Fails: ``ValueError`` on a malformed line (names the line number, not its text).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# Gold labels of presidio-research's synthetic sets → this project's entity types.
DEFAULT_LABEL_MAP = {
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "DOMAIN_NAME": "URL",
    "DATE_OF_BIRTH": "DATE_TIME",
    "ACCOUNT_NUMBER": "ID_NUMBER",
    "PER": "PERSON",
    "ORG": "ORGANIZATION",
}


@dataclass
class Example:
    id: str
    text: str
    spans: list[tuple[int, int, str]]
    split: str = ""


SPLIT_BY = ("field", "template-parity")


def load_examples(path: str, label_map: Mapping[str, str] | None = None, split_by: str = "field") -> list[Example]:
    """Labelled examples. ``split_by="field"`` takes each row's ``split``; ``"template-parity"`` splits a
    templated set (presidio-research's ``template_id``) into ``even`` / ``odd`` templates, so tuning on
    one half and reporting the other never shares a sentence frame."""
    if split_by not in SPLIT_BY:
        raise ValueError(f"split_by must be one of {SPLIT_BY}")
    label_map = DEFAULT_LABEL_MAP if label_map is None else label_map
    examples = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                spans = [(int(s["start"]), int(s["end"]), label_map.get(s["label"], s["label"])) for s in row["spans"]]
                split = row.get("split", "")
                if split_by == "template-parity":
                    split = "even" if int(row["template_id"]) % 2 == 0 else "odd"
                examples.append(Example(str(row["id"]), row["text"], spans, split))
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}:{number}: bad labelled example ({type(exc).__name__})") from None
    return examples


@dataclass
class Counts:
    gold: int = 0
    predicted: int = 0
    hit: int = 0

    def add(self, gold: int, predicted: int, hit: int) -> None:
        self.gold += gold
        self.predicted += predicted
        self.hit += hit

    @property
    def recall(self) -> float:
        return self.hit / self.gold if self.gold else 1.0

    @property
    def precision(self) -> float:
        return self.hit / self.predicted if self.predicted else 1.0

    def f(self, beta: float = 2.0) -> float:
        p, r = self.precision, self.recall
        return (1 + beta**2) * p * r / (beta**2 * p + r) if p + r else 0.0


@dataclass
class RedactionReport:
    overall: Counts = field(default_factory=Counts)
    by_split: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    leak_by_label: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    leak_by_split_label: dict[tuple[str, str], Counts] = field(default_factory=lambda: defaultdict(Counts))
    typed: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    misses: list[tuple[int, str, str, str]] = field(default_factory=list)
    documents: int = 0

    def to_dict(self) -> dict:
        def fig(c: Counts, typed: bool = False) -> dict:
            out = {"recall": round(c.recall, 4), "precision": round(c.precision, 4), "gold_chars": c.gold}
            if typed:
                out["f2"] = round(c.f(), 4)
                out["predicted_chars"] = c.predicted
            return out

        return {
            "documents": self.documents,
            "char_recall": round(self.overall.recall, 4),
            "char_precision": round(self.overall.precision, 4),
            "leak_rate": round(1 - self.overall.recall, 4),
            "by_split": {k: fig(v) for k, v in sorted(self.by_split.items())},
            "leak_by_gold_label": {k: fig(v) for k, v in sorted(self.leak_by_label.items())},
            "leak_by_split_and_gold_label": {
                split: {lab: fig(v) for (sp, lab), v in sorted(self.leak_by_split_label.items()) if sp == split}
                for split in sorted(self.by_split)
            },
            "typed": {k: fig(v, typed=True) for k, v in sorted(self.typed.items())},
            "worst_misses": [{"id": i, "label": lab, "missed": m} for _, i, lab, m in self.misses],
        }


def _chars(text: str, spans: Iterable[tuple[int, int, str]]) -> dict[int, str]:
    """Character index → label, for non-space characters inside the spans."""
    out: dict[int, str] = {}
    for start, end, label in spans:
        for i in range(max(0, start), min(end, len(text))):
            if not text[i].isspace():
                out[i] = label
    return out


def score(
    examples: Sequence[Example],
    predictions: Sequence[Sequence[tuple[int, int, str]]],
    worst: int = 10,
    snippet_chars: int = 24,
) -> RedactionReport:
    """Compare predicted spans (original offsets) with the gold spans, character by character."""
    report = RedactionReport()
    for example, predicted in zip(examples, predictions, strict=True):
        report.documents += 1
        gold = _chars(example.text, example.spans)
        pred = _chars(example.text, predicted)
        hit = len(gold.keys() & pred.keys())
        report.overall.add(len(gold), len(pred), hit)
        report.by_split[example.split or "all"].add(len(gold), len(pred), hit)
        for start, end, label in example.spans:
            idx = [i for i in range(start, min(end, len(example.text))) if not example.text[i].isspace()]
            found = sum(1 for i in idx if i in pred)
            report.leak_by_label[label].add(len(idx), 0, found)
            report.leak_by_split_label[(example.split or "all", label)].add(len(idx), 0, found)
            missed = "".join(example.text[i] if i not in pred else "_" for i in range(start, end))
            if found < len(idx):
                snippet = " ".join(missed.split()).strip("_ ")[:snippet_chars]
                report.misses.append((len(idx) - found, example.id, label, snippet))
        labels = set(gold.values()) | set(pred.values())
        for label in labels:
            g = {i for i, lab in gold.items() if lab == label}
            p = {i for i, lab in pred.items() if lab == label}
            report.typed[label].add(len(g), len(p), len(g & p))
    report.misses = sorted(report.misses, key=lambda m: -m[0])[:worst]
    return report


def format_table(report: RedactionReport) -> str:
    d = report.to_dict()
    lines = [
        f"documents {d['documents']}   char recall {d['char_recall']:.4f}   char precision "
        f"{d['char_precision']:.4f}   leak rate {d['leak_rate']:.4f}",
        "",
        f"{'split':<12}{'recall':>8}{'precision':>11}{'gold chars':>12}",
    ]
    lines += [
        f"{k:<12}{v['recall']:>8.4f}{v['precision']:>11.4f}{v['gold_chars']:>12}" for k, v in d["by_split"].items()
    ]
    lines += [
        "",
        f"{'gold label':<20}{'redacted':>9}{'gold chars':>12}   (share of its characters redacted by any type)",
    ]
    splits = sorted(d["by_split"])
    if len(splits) > 1:
        lines[-1] = f"{'gold label':<20}{'redacted':>9}{'gold chars':>12}" + "".join(f"{s:>10}" for s in splits)
        lines[-1] += "   (share of its characters redacted by any type; per split)"
        per = d["leak_by_split_and_gold_label"]
        for k, v in d["leak_by_gold_label"].items():
            cells = "".join(f"{per[s][k]['recall']:>10.4f}" if k in per[s] else f"{'-':>10}" for s in splits)
            lines.append(f"{k:<20}{v['recall']:>9.4f}{v['gold_chars']:>12}{cells}")
    else:
        lines += [f"{k:<20}{v['recall']:>9.4f}{v['gold_chars']:>12}" for k, v in d["leak_by_gold_label"].items()]
    lines += ["", f"{'entity (typed)':<20}{'precision':>10}{'recall':>8}{'F2':>8}{'gold':>8}{'pred':>8}"]
    lines += [
        f"{k:<20}{v['precision']:>10.4f}{v['recall']:>8.4f}{v['f2']:>8.4f}{v['gold_chars']:>8}{v['predicted_chars']:>8}"
        for k, v in d["typed"].items()
    ]
    if d["worst_misses"]:
        lines += ["", "worst misses (missed characters only; '_' = redacted):"]
        lines += [f"  {m['id']:<28}{m['label']:<18}{m['missed']}" for m in d["worst_misses"]]
    return "\n".join(lines)


def evaluate(detector, examples: Sequence[Example], batch_size: int = 64, **kwargs) -> RedactionReport:
    """Run ``detector`` (a :class:`transforms.redaction.engine.Detector`) over the examples."""
    predictions = []
    for i in range(0, len(examples), batch_size):
        chunk = examples[i : i + batch_size]
        found = detector.detect_batch([e.text for e in chunk], [{} for _ in chunk])
        predictions += [[(d.start, d.end, d.entity_type) for d in dets] for dets in found]
    return score(examples, predictions, **kwargs)


# --- word level -------------------------------------------------------------------------------
# What a reviewer reads is words: a word is left visible when any of its PII characters is not
# redacted, and a word is over-redacted when it is hidden without holding any PII character.


@dataclass
class WordReport:
    """Word-level figures per (group, label). ``recall[(group, gold label)]``: gold PII words and how
    many were wholly redacted; ``precision[(group, predicted type)]``: words the detector hid (``predicted``)
    and how many held PII (``hit``); ``char_precision`` the same over non-space characters. Group ``"all"``
    holds every example; the others are the examples' splits."""

    recall: dict[tuple[str, str], Counts] = field(default_factory=lambda: defaultdict(Counts))
    precision: dict[tuple[str, str], Counts] = field(default_factory=lambda: defaultdict(Counts))
    char_precision: dict[tuple[str, str], Counts] = field(default_factory=lambda: defaultdict(Counts))

    def groups(self) -> list[str]:
        found = {g for g, _ in self.recall} | {g for g, _ in self.precision}
        return ["all"] + sorted(found - {"all"})

    def to_dict(self) -> dict:
        def table(counts: dict, attr: str) -> dict:
            return {
                group: {
                    label: {attr: round(getattr(c, attr), 4), "n": c.gold if attr == "recall" else c.predicted}
                    for (g, label), c in sorted(counts.items())
                    if g == group
                }
                for group in self.groups()
            }

        return {
            "word_recall": table(self.recall, "recall"),
            "word_precision": table(self.precision, "precision"),
            "char_precision_by_type": table(self.char_precision, "precision"),
        }


_ANY = "*"  # label of the overall row


def score_words(examples: Sequence[Example], predictions: Sequence[Sequence[tuple[int, int, str]]]) -> WordReport:
    """Word-level recall per gold label and word/character precision per predicted type, overall and per split."""
    import re

    report = WordReport()
    for example, predicted in zip(examples, predictions, strict=True):
        gold = _chars(example.text, example.spans)
        pred = _chars(example.text, predicted)
        groups = ("all", example.split) if example.split else ("all",)
        for match in re.finditer(r"\S+", example.text):
            idx = range(match.start(), match.end())
            gold_idx = [i for i in idx if i in gold]
            pred_idx = [i for i in idx if i in pred]
            for group in groups:
                if gold_idx:
                    hit = int(all(i in pred for i in gold_idx))
                    for label in (gold[gold_idx[0]], _ANY):
                        report.recall[(group, label)].add(1, 0, hit)
                if pred_idx:
                    for label in (pred[pred_idx[0]], _ANY):
                        report.precision[(group, label)].add(0, 1, int(bool(gold_idx)))
        for i, label in pred.items():
            for group in groups:
                for key in (label, _ANY):
                    report.char_precision[(group, key)].add(0, 1, int(i in gold))
    return report


def format_word_table(report: WordReport) -> str:
    """Word recall per gold label and word precision per predicted type, one column per group."""
    groups = report.groups()
    head = f"{'':<22}" + "".join(f"{g:>16}" for g in groups)

    def rows(counts: dict, attr: str) -> list[str]:
        labels = sorted({label for _, label in counts}, key=lambda lab: (lab == _ANY, lab))
        out = []
        for label in labels:
            cells = []
            for group in groups:
                c = counts.get((group, label))
                n = (c.gold if attr == "recall" else c.predicted) if c else 0
                cells.append(f"{getattr(c, attr):>9.4f} ({n:>4})" if c else f"{'-':>16}")
            out.append(f"{'all types' if label == _ANY else label:<22}" + "".join(cells))
        return out

    lines = ["word recall by gold label (wholly redacted PII words / PII words)", head]
    lines += rows(report.recall, "recall")
    lines += ["", "word precision by predicted type (hidden words that hold PII / hidden words)", head]
    lines += rows(report.precision, "precision")
    lines += ["", "character precision by predicted type", head]
    lines += rows(report.char_precision, "precision")
    return "\n".join(lines)


# --- utility: what the reviewer keeps ------------------------------------------------------------
# Labelled command sets (:mod:`pipeline.evaluation.commands`) mark PII spans with entity labels, words
# the reviewer needs with ``keep:<KIND>`` and words whose redaction is not judged with ``neutral:<KIND>``;
# every other word is an ordinary word. Privacy: share of PII words wholly redacted. Utility: share of
# ordinary words and of each keep kind left readable, and share of commands with a wrongly removed word.

KEEP, NEUTRAL, ORDINARY = "keep:", "neutral:", "ordinary"


@dataclass
class UtilityReport:
    """Per group (``all`` and each split): word counts per gold kind (``PERSON``, ``keep:ARTIST``,
    ``ordinary``...) as ``Counts(gold=words, hit=words redacted)``; commands and commands with a wrongly
    removed ordinary word / ordinary-or-keep word; worst examples (id, kind, rendered text with removed
    words in brackets) — public command sets only, never a customer's transcript."""

    words: dict[tuple[str, str], Counts] = field(default_factory=lambda: defaultdict(Counts))
    commands: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    spoiled: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    spoiled_any: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    by_source: dict[str, dict[str, Counts]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(Counts)))
    over: list[tuple[str, str, str]] = field(default_factory=list)
    leaks: list[tuple[str, str, str]] = field(default_factory=list)

    def groups(self) -> list[str]:
        return ["all"] + sorted(set(self.commands) - {"all"})

    def share_kept(self, group: str, kind: str) -> float | None:
        c = self.words.get((group, kind))
        return None if c is None or not c.gold else 1 - c.hit / c.gold

    def recall(self, group: str, kind: str) -> float | None:
        c = self.words.get((group, kind))
        return None if c is None or not c.gold else c.hit / c.gold

    def to_dict(self) -> dict:
        out = {}
        for g in self.groups():
            kinds = sorted({k for gg, k in self.words if gg == g})
            out[g] = {
                "commands": self.commands[g],
                "commands_with_ordinary_word_removed": self.spoiled[g],
                "commands_with_non_pii_word_removed": self.spoiled_any[g],
                "pii_word_recall": {
                    k: {"recall": round(self.recall(g, k), 4), "words": self.words[(g, k)].gold}
                    for k in kinds
                    if not k.startswith((KEEP, NEUTRAL)) and k != ORDINARY
                },
                "kept": {
                    k: {"kept": round(self.share_kept(g, k), 4), "words": self.words[(g, k)].gold}
                    for k in kinds
                    if k.startswith((KEEP, NEUTRAL)) or k == ORDINARY
                },
            }
        out["by_source"] = {
            src: {
                k: {"redacted": round(c.hit / c.gold, 4), "words": c.gold} for k, c in sorted(kinds.items()) if c.gold
            }
            for src, kinds in sorted(self.by_source.items())
        }
        out["worst_over_redaction"] = [{"id": i, "kind": k, "text": t} for i, k, t in self.over]
        out["worst_leaks"] = [{"id": i, "kind": k, "text": t} for i, k, t in self.leaks]
        return out


def _is_pii(label: str) -> bool:
    return not label.startswith((KEEP, NEUTRAL))


def score_utility(
    examples: Sequence[Example],
    predictions: Sequence[Sequence[tuple[int, int, str]]],
    sources: Sequence[str] | None = None,
    worst: int = 15,
) -> UtilityReport:
    """Word-level privacy and utility of predicted spans against a command set's labels.

    A PII word counts as redacted when all its characters are; any other word counts as removed when any
    of its characters is (a half-hidden word is lost to the reviewer)."""
    import re

    report = UtilityReport()
    over, leaks = [], []
    for n, (example, predicted) in enumerate(zip(examples, predictions, strict=True)):
        gold = _chars(example.text, example.spans)
        pred = _chars(example.text, predicted)
        groups = ("all", example.split) if example.split else ("all",)
        source = sources[n] if sources else example.split or "all"
        wrong_ordinary = wrong_any = 0
        marked, missed = [], []
        for match in re.finditer(r"\S+", example.text):
            idx = range(match.start(), match.end())
            labels = {gold[i] for i in idx if i in gold}
            kind = next(iter(sorted(labels, key=lambda lab: (not _is_pii(lab), lab)))) if labels else ORDINARY
            if _is_pii(kind) and kind != ORDINARY:
                hit = all(i in pred for i in idx if i in gold)
                if not hit:
                    missed.append(kind)
            else:
                hit = any(i in pred for i in idx)
                if hit and kind == ORDINARY:
                    wrong_ordinary += 1
                if hit and (kind == ORDINARY or kind.startswith(KEEP)):
                    wrong_any += 1
            word = match.group()
            marked.append(f"[{word}]" if any(i in pred for i in idx) else word)
            for g in groups:
                report.words[(g, kind)].add(1, 0, int(hit))
            report.by_source[source][kind].add(1, 0, int(hit))
        for g in groups:
            report.commands[g] += 1
            report.spoiled[g] += int(wrong_ordinary > 0)
            report.spoiled_any[g] += int(wrong_any > 0)
        if wrong_any:
            over.append((wrong_any, example.id, "over-redacted", " ".join(marked)))
        if missed:
            leaks.append((len(missed), example.id, ",".join(sorted(set(missed))), " ".join(marked)))
    report.over = [(i, k, t) for _, i, k, t in sorted(over, key=lambda o: (-o[0], o[1]))[:worst]]
    report.leaks = [(i, k, t) for _, i, k, t in sorted(leaks, key=lambda o: (-o[0], o[1]))[:worst]]
    return report


def format_utility(report: UtilityReport) -> str:
    """Privacy beside utility, one column per group, then the worst examples."""
    groups = report.groups()
    head = f"{'':<34}" + "".join(f"{g:>18}" for g in groups)
    kinds = sorted({k for _, k in report.words})
    pii = [k for k in kinds if _is_pii(k) and k != ORDINARY]
    keep = [ORDINARY] + [k for k in kinds if k.startswith(KEEP)]
    neutral = [k for k in kinds if k.startswith(NEUTRAL)]

    def row(name: str, values: list[tuple[float | None, int]]) -> str:
        cells = "".join(f"{v:>10.4f} ({n:>5})" if v is not None else f"{'-':>18}" for v, n in values)
        return f"{name:<34}{cells}"

    def cells(kind: str, fn) -> list[tuple[float | None, int]]:
        return [(fn(g, kind), report.words[(g, kind)].gold if (g, kind) in report.words else 0) for g in groups]

    lines = ["PII words wholly redacted (recall; words)", head]
    lines += [row(k, cells(k, report.recall)) for k in pii]
    lines += ["", "words kept readable (utility; words)", head]
    lines += [row(k, cells(k, report.share_kept)) for k in keep]
    lines += ["", "not judged, kept readable (words)", head]
    lines += [row(k, cells(k, report.share_kept)) for k in neutral]
    lines += ["", "commands", head]
    lines.append(row("commands", [(None, 0)] * 0) + "".join(f"{report.commands[g]:>18}" for g in groups))
    for name, counts in (
        ("with an ordinary word removed", report.spoiled),
        ("with a non-PII word removed", report.spoiled_any),
    ):
        lines.append(
            f"{name:<34}"
            + "".join(
                f"{counts[g] / report.commands[g] if report.commands[g] else 0:>10.4f} ({counts[g]:>5})" for g in groups
            )
        )
    lines += ["", "worst over-redaction ([word] = removed):"]
    lines += [f"  {i:<30}{t}" for i, _, t in report.over]
    lines += ["", "worst leaks ([word] = removed):"]
    lines += [f"  {i:<30}{k:<16}{t}" for i, k, t in report.leaks]
    return "\n".join(lines)
