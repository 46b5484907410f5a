"""Hard negatives of the spoken NER model, mined from the tune sources' real commands
(``python -m pipeline.training.hard_negatives``).

In:  the tune sources' TRAINING files of the real command sets (:func:`pipeline.evaluation.commands.
     training_rows`: TOPv2 messaging / navigation / alarm / music, SNIPS tune intents, CLINC150 tune
     intents; never an evaluation row, never a held-out source) and the transcript stage as shipped
     (``configs/default.yaml``, both spoken NER models, the span scorer).
Out: ``data/training/spoken_ner_hard_negatives.json``: the ids of the commands in which the stage removes
     an ordinary word (a word in no labelled slot) through a span of the model ``--model`` (default the
     synthetic ``spoken_ner``), each with the character offsets of the words removed, and the recipe
     that mined them. Ids only: the command sets' texts are
     not copied into the repository. :func:`pipeline.training.spoken_data.hard_negative_examples` reads
     them back (text and gold spans from the same training rows: the PII they hold stays a positive).
Fails: ``FileNotFoundError`` when the command sets are absent.

Why: on real commands most over-redaction is the synthetic model's ("edit", "forget", "saga", "run"):
it never saw a real command, and the second model (trained on them) tags few command words. Training
``spoken_ner`` with these commands (``python -m pipeline train-ner --hard-negatives ...``) was measured
and dropped: every variant lowered a privacy figure (``docs/privacy-and-utility.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections import Counter
from collections.abc import Sequence

from pipeline.training.spoken_data import REPO

OUT = os.path.join(REPO, "data", "training", "spoken_ner_hard_negatives.json")


def mine(
    rows: Sequence[dict], model_name: str = "spoken_ner", batch: int = 64
) -> tuple[dict[str, list[tuple[int, int]]], Counter]:
    """Per id of ``rows`` in which the stage removes a word outside every labelled span through a spoken
    NER span that the model ``model_name`` (one of the packaged ones) itself finds: those words' offsets;
    and the words so removed, counted."""
    from pipeline.config import DEFAULT_CONFIG_PATH, load_config
    from transforms.redaction.recognizers.spoken_ner_recognizer import load_model, packaged_model_paths
    from transforms.transcript import Engines

    config = load_config(DEFAULT_CONFIG_PATH)
    detector = Engines.from_config(config.transcript, config.base_dir).detector
    (path,) = [p for p in packaged_model_paths() if os.path.basename(p) == model_name]
    model = load_model(path)
    ids: dict[str, list[tuple[int, int]]] = {}
    words = Counter()
    for i in range(0, len(rows), batch):
        chunk = rows[i : i + batch]
        norms = detector.normalize_batch([r["text"] for r in chunk])
        found = detector.detect_batch([r["text"] for r in chunk], [{} for _ in chunk])
        docs = model.pipe([n.text for n in norms])
        for row, norm, dets, doc in zip(chunk, norms, found, docs, strict=True):
            own = [norm.to_original(e.start_char, e.end_char) for e in doc.ents]
            removed = []
            for m in re.finditer(r"\S+", row["text"]):
                if any(s["start"] < m.end() and s["end"] > m.start() for s in row["spans"]):
                    continue
                by_model = any(s < m.end() and e > m.start() for s, e in own)
                by_stage = any(
                    d.recognizer == "SpokenNerRecognizer" and d.start < m.end() and d.end > m.start() for d in dets
                )
                if by_model and by_stage:
                    removed.append((m.start(), m.end()))
            if removed:
                ids[row["id"]] = removed
                words.update(row["text"][s:e] for s, e in removed)
    return ids, words


def main(argv: Sequence[str] | None = None) -> int:
    from pipeline.evaluation.commands import COMMANDS_DIR, training_rows
    from pipeline.training.spoken_data import DATA_SEED

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="spoken_ner", help="packaged model whose spans are mined")
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args(argv)
    rows = training_rows(COMMANDS_DIR, DATA_SEED)
    ids, words = mine(rows, args.model)
    record = {
        "mined_with": f"the stage as shipped (configs/default.yaml), spans of {args.model}",
        "from": "pipeline.evaluation.commands.training_rows (tune sources' training files), seed "
        f"{DATA_SEED}: {len(rows)} commands",
        "commands": len(ids),
        "most_removed_words": dict(words.most_common(40)),
        "ids": {i: [list(w) for w in ws] for i, ws in ids.items()},
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=1)
        handle.write("\n")
    print(f"{len(ids)} of {len(rows)} commands; {words.most_common(20)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
