"""``python -m pipeline explain "text"``: which recognizer found what in one transcript, and why."""

from __future__ import annotations

from pipeline.commands import add_config_flag, job_config

NAME = "explain"
HELP = "show which recognizer found which entity in a text, with scores and context"
DESCRIPTION = (
    "Run the transcript stage's detector on TEXT (your own input; nothing is logged) and "
    "print the written form it analysed, every Presidio result with recognizer, score before/after "
    "context, the context word that lifted it, and the final redaction."
)


def add_arguments(parser) -> None:
    parser.add_argument("text", help="a transcript to analyse")
    add_config_flag(parser)
    parser.add_argument("--first-name", default="", help="pretend this is the clip's first_name")
    parser.add_argument("--account-id", default="", help="pretend this is the clip's account_id")
    parser.add_argument("--device-serial", default="", help="pretend this is the clip's device_serial")


def explain_lines(engines, text: str, metadata: dict[str, str], operators) -> list[str]:
    """Human-readable explanation of the detection on ``text``."""
    from transforms.redaction.operators import apply_operators
    from transforms.redaction.spoken import normalize

    detector = engines.detector
    norm = normalize(text)
    lines = [f"written form: {norm.text}", ""]
    results = sorted(detector.analyze(norm, metadata, explain=True), key=lambda r: (r.start, r.end))
    lines.append(f"{'entity':<16}{'score':>6}{'orig':>6}  {'recognizer':<28}{'context':<12}text")
    for r in results:
        ex = r.analysis_explanation
        start, end = norm.to_original(r.start, r.end)
        lines.append(
            f"{r.entity_type:<16}{r.score:>6.2f}{(ex.original_score if ex else r.score):>6.2f}  "
            f"{(ex.recognizer if ex else '?'):<28}{(ex.supportive_context_word if ex else '') or '':<12}"
            f"{text[start:end]!r}"
        )
    kept = detector.detect(norm, metadata)
    spans = [(d.entity_type, d.start, d.end) for d in kept]
    from transforms.core.records import Span

    redacted, _ = apply_operators(engines.anonymizer, text, [Span(*s) for s in spans], operators, "explain")
    lines += ["", f"kept after thresholds/allow-list/merge: {len(kept)}", f"redacted: {redacted}"]
    return lines


def run(args, extra) -> int:
    from transforms.transcript import Engines

    config = job_config(args)
    engines = Engines.from_config(config.transcript, config.base_dir)
    metadata = {
        k: v
        for k, v in (
            ("PERSON", args.first_name),
            ("ACCOUNT_ID", args.account_id),
            ("DEVICE_SERIAL", args.device_serial),
        )
        if v
    }
    operators = {k: ("tag" if v == "hash" else v) for k, v in config.transcript.operators.items()}
    print("\n".join(explain_lines(engines, args.text, metadata, operators)))
    return 0
