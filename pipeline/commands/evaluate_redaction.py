"""``python -m pipeline evaluate-redaction``: measure transcript redaction on a labelled JSONL set."""

from __future__ import annotations

import json

from pipeline.commands import add_config_flag, job_config

NAME = "evaluate-redaction"
HELP = "character-level recall/precision of transcript redaction on a labelled set"
DESCRIPTION = (
    "Run the transcript stage's detector over a labelled JSONL set "
    '({"id","text","spans":[{"start","end","label"}]}) and report type-agnostic character recall '
    "(1 - leak rate) and precision, per-label leak shares, typed precision/recall/F2, and the worst misses."
)


def add_arguments(parser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--labels", help="labelled JSONL file")
    source.add_argument(
        "--commands", nargs="?", const="default", metavar="DIR",
        help="the real command sets (default ../shared/data/commands): PII word recall beside utility "
        "(ordinary words kept, commands with a wrongly removed word, kept share per non-personal slot kind)",
    )  # fmt: skip
    parser.add_argument("--per-source", type=int, default=600, help="commands per TOPv2 domain (others scaled)")
    add_config_flag(parser)
    parser.add_argument(
        "--label-map", action="append", default=[], metavar="GOLD=OURS",
        help="map a gold label to an entity type (repeatable; adds to the built-in GPE=LOCATION etc.)",
    )  # fmt: skip
    parser.add_argument(
        "--split-by", choices=("field", "template-parity"), default="field",
        help="how examples split: their 'split' field, or even/odd 'template_id' (templated sets such as "
        "presidio_synth_v2: tune on one half, report the other)",
    )  # fmt: skip
    parser.add_argument("--split", default=None, help="only examples of this split (e.g. tune, heldout, even, odd)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N examples (0 = all)")
    parser.add_argument("--json", dest="json_path", default=None, help="also write the report as JSON here")
    parser.add_argument("--worst", type=int, default=10, help="how many worst misses to list")


def predict(detector, texts, batch_size: int) -> list[list[tuple[int, int, str]]]:
    """The job's detection (``Detector.detect_batch``, the stage's own call) over ``texts``."""
    out = []
    for i in range(0, len(texts), batch_size):
        chunk = texts[i : i + batch_size]
        found = detector.detect_batch(chunk, [{} for _ in chunk])
        out += [[(d.start, d.end, d.entity_type) for d in dets] for dets in found]
    return out


def run_commands(args) -> int:
    from pipeline.evaluation.commands import COMMANDS_DIR, command_rows, to_examples
    from pipeline.evaluation.redaction import format_utility, score_utility
    from transforms.transcript import Engines

    root = COMMANDS_DIR if args.commands == "default" else args.commands
    config = job_config(args)
    rows = command_rows(root, args.per_source)
    if args.split:
        rows = [r for r in rows if r["split"] == args.split]
    if args.limit:
        rows = rows[: args.limit]
    engines = Engines.from_config(config.transcript, config.base_dir)
    examples = to_examples(rows)
    predictions = predict(engines.detector, [e.text for e in examples], config.transcript.batch_size)
    report = score_utility(examples, predictions, [r["source"] for r in rows], worst=args.worst)
    print(format_utility(report))
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as handle:
            json.dump(report.to_dict(), handle, indent=2)
    return 0


def run(args, extra) -> int:
    if args.commands:
        return run_commands(args)
    from pipeline.evaluation.redaction import DEFAULT_LABEL_MAP, evaluate, format_table, load_examples
    from transforms.transcript import Engines

    label_map = dict(DEFAULT_LABEL_MAP)
    for item in args.label_map:
        gold, _, ours = item.partition("=")
        if not gold or not ours:
            raise SystemExit(f"--label-map expects GOLD=OURS, got {item!r}")
        label_map[gold] = ours
    config = job_config(args)
    examples = load_examples(args.labels, label_map, split_by=args.split_by)
    if args.split:
        examples = [e for e in examples if e.split == args.split]
    if args.limit:
        examples = examples[: args.limit]
    engines = Engines.from_config(config.transcript, config.base_dir)
    report = evaluate(engines.detector, examples, batch_size=config.transcript.batch_size, worst=args.worst)
    print(format_table(report))
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as handle:
            json.dump(report.to_dict(), handle, indent=2)
    return 0
