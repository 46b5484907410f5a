"""Rules, model and both on the multi-locale spoken set: what each part of redaction contributes.

In:  ``data/eval/spoken_multilocale.jsonl`` (or another set of the same shape), a detector choice:
     ``rules`` (the configured stage detector without the spoken NER recognizer), ``model`` (the spoken
     NER model alone, on the stage's written form, cut as the recognizer cuts its spans, mapped back and
     widened to whole words; ``model-raw``: without the cut),
     ``both`` (the configured stage detector: rules and model through Presidio) or ``union`` (rules'
     and the model's spans put together outside Presidio).
Out: printed tables (and ``--json``): character recall / precision per split and gold label
     (:func:`pipeline.evaluation.redaction.format_table`), word recall per gold label and word /
     character precision per predicted type (:func:`format_word_table`), and recall broken down by
     place kind and name kind, by Faker-listed vs novel names, and by tune vs held-out locale.
Run: ``python -m pipeline.training.evaluate_spoken --detector both [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence

from pipeline.evaluation.redaction import (
    DEFAULT_LABEL_MAP,
    Example,
    format_table,
    format_word_table,
    score,
    score_words,
)
from pipeline.training.spoken_data import REPO, load_generator
from pipeline.training.spoken_ner import MODEL_DIR

DEFAULT_SET = os.path.join(REPO, "data", "eval", "spoken_multilocale.jsonl")
DETECTORS = ("rules", "model", "model-raw", "both", "union")
NER_RECOGNIZER = "SpokenNerRecognizer"


def load_rows(path: str = DEFAULT_SET) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def examples(rows: Sequence[dict], split=lambda r: r.get("split", ""), label=lambda s: s["label"]) -> list[Example]:
    return [
        Example(
            r["id"],
            r["text"],
            [(s["start"], s["end"], DEFAULT_LABEL_MAP.get(label(s), label(s))) for s in r["spans"]],
            split(r),
        )
        for r in rows
    ]


class ModelSpans:
    """The spoken NER model alone: written form → ``nlp.pipe`` → spans in original offsets, whole words;
    ``filtered``: cut as the stage's recognizer cuts them (:meth:`SpokenNerRecognizer.keep`)."""

    def __init__(self, path: str = MODEL_DIR, batch_size: int = 64, filtered: bool = True):
        import spacy

        self.nlp = spacy.load(path)
        self.batch_size = batch_size
        self.recognizer = None
        if filtered:
            from transforms.redaction.lexicon import build_lexicon
            from transforms.redaction.recognizers.spoken_ner_recognizer import SpokenNerRecognizer

            self.recognizer = SpokenNerRecognizer(build_lexicon(()))

    def predict(self, texts: Sequence[str]) -> list[list[tuple[int, int, str]]]:
        from transforms.redaction.engine import widen_to_words
        from transforms.redaction.spoken import normalize

        norms = [normalize(t) for t in texts]
        out = []
        for norm, doc in zip(norms, self.nlp.pipe([n.text for n in norms], batch_size=self.batch_size), strict=True):
            spans = []
            for ent in doc.ents:
                kept = self.recognizer.keep(ent) if self.recognizer else (ent.start_char, ent.end_char)
                if not kept:
                    continue
                start, end = norm.to_original(*kept)
                spans.append((*widen_to_words(norm.original, start, end), ent.label_))
            out.append(spans)
        return out


def _engines(without_model: bool):
    from pipeline.config import DEFAULT_CONFIG_PATH, load_config
    from transforms.transcript import Engines, read_presidio_files

    config = load_config(DEFAULT_CONFIG_PATH)
    base = getattr(config, "base_dir", config)  # older read_presidio_files took the job config itself
    engines = Engines(read_presidio_files(config.transcript, base), config.transcript)
    if without_model:
        registry = engines.analyzer.registry
        if any(r.name == NER_RECOGNIZER for r in registry.recognizers):
            registry.remove_recognizer(NER_RECOGNIZER)
    return engines, config.transcript.batch_size


def predict(detector: str, texts: Sequence[str], model_path: str = MODEL_DIR) -> list[list[tuple[int, int, str]]]:
    if detector not in DETECTORS:
        raise ValueError(f"detector must be one of {DETECTORS}")
    if detector in ("model", "model-raw"):
        return ModelSpans(model_path, filtered=detector == "model").predict(texts)
    engines, batch = _engines(without_model=detector in ("rules", "union"))
    out = []
    for i in range(0, len(texts), batch):
        chunk = list(texts[i : i + batch])
        found = engines.detector.detect_batch(chunk, [{} for _ in chunk])
        out += [[(d.start, d.end, d.entity_type) for d in dets] for dets in found]
    if detector == "union":
        model = ModelSpans(model_path).predict(texts)
        out = [a + b for a, b in zip(out, model, strict=True)]
    return out


def _kind(span: dict) -> str:
    if span["label"] in ("PERSON", "LOCATION"):
        return f"{span['label']}:{span.get('kind') or '-'}"
    return DEFAULT_LABEL_MAP.get(span["label"], span["label"])


def _novel(span: dict) -> str:
    if span["label"] in ("PERSON", "LOCATION"):
        return f"{span['label']}:{'novel' if span.get('novel') else 'faker-listed'}"
    return "other"


def breakdown(rows: Sequence[dict], predictions) -> str:
    """Char / word recall per split for name and place kinds, novel names, and locale groups."""
    heldout_locales = set(load_generator().HELDOUT_LOCALES)

    def locale_split(r: dict) -> str:
        return f"{r['split']}:{'heldout-locale' if r['locale'] in heldout_locales else 'tune-locale'}"

    lines = []
    for title, exs in (
        ("by kind", examples(rows, label=_kind)),
        ("by name source", examples(rows, label=_novel)),
        ("by locale group", examples(rows, split=locale_split)),
    ):
        chars = score(exs, predictions)
        words = score_words(exs, predictions)
        groups = sorted({e.split for e in exs})
        lines += ["", f"recall {title}: char / word (gold words)", f"{'':<24}" + "".join(f"{g:>30}" for g in groups)]
        for label in sorted({lab for _, lab in chars.leak_by_split_label}):
            cells = []
            for g in groups:
                c, w = chars.leak_by_split_label.get((g, label)), words.recall.get((g, label))
                cells.append(f"{c.recall:>10.4f} {w.recall:>8.4f} ({w.gold:>5})" if c and w else f"{'-':>30}")
            lines.append(f"{label:<24}" + "".join(cells))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labels", default=DEFAULT_SET)
    parser.add_argument("--detector", choices=DETECTORS, default="both")
    parser.add_argument("--model", default=MODEL_DIR, help="spoken NER model directory (model / union)")
    parser.add_argument("--json", dest="json_path", default=None)
    args = parser.parse_args(argv)
    rows = load_rows(args.labels)
    predictions = predict(args.detector, [r["text"] for r in rows], args.model)
    exs = examples(rows)
    report, words = score(exs, predictions, worst=20), score_words(exs, predictions)
    print(f"detector: {args.detector}   set: {os.path.relpath(args.labels, REPO)}")
    print(format_table(report))
    print()
    print(format_word_table(words))
    print(breakdown(rows, predictions))
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as handle:
            json.dump({"detector": args.detector, **report.to_dict(), **words.to_dict()}, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
