"""``python -m pipeline explain "text"``: which recognizer found what in one transcript, and why."""

from __future__ import annotations

from pipeline.commands import add_config_flag, job_config

NAME = "explain"
HELP = "show which recognizer found which entity in a text, with scores and context"
DESCRIPTION = (
    "Run the transcript stage's detector on TEXT (your own input; nothing is logged) exactly as the job "
    "does for the text's style, and print the written form it analysed, the path it took, every hit "
    "with recognizer, score (after the span scorer) and original score, the threshold it needed, the "
    "context word that lifted it, what became of it (kept, merged, or why dropped) and the redaction."
)


def add_arguments(parser) -> None:
    parser.add_argument("text", help="a transcript to analyse")
    add_config_flag(parser)
    parser.add_argument("--first-name", default="", help="pretend this is the clip's first_name")
    parser.add_argument("--account-id", default="", help="pretend this is the clip's account_id")
    parser.add_argument("--device-serial", default="", help="pretend this is the clip's device_serial")


def style_path(detector, text: str) -> str:
    """Which spaCy path the job takes for ``text`` (the same test as the stage: ``is_spoken_style``)."""
    from transforms.redaction.engine import SPOKEN_SKIP, is_spoken_style

    if is_spoken_style(text):
        scorer = "on" if detector.scorer is not None else "off"
        return (
            f"spoken style (no capital but a first letter and 'I'): the spoken NER model runs, the host model's "
            f"{', '.join(SPOKEN_SKIP)} do not (no SpacyRecognizer hits); span scorer {scorer}"
            + (f", public_names: {detector.scorer.policy}" if detector.scorer is not None else "")
        )
    return "written style (capital letters): the host model's tagger and NER run, the spoken NER model does not"


def explain_lines(engines, text: str, metadata: dict[str, str], operators) -> list[str]:
    """Human-readable explanation of the detection on ``text``: exactly the job's path (the batch NLP step
    for the text's style, Presidio, the span scorer, thresholds, allow list, merge) and, for every hit,
    what became of it."""
    from transforms.core.records import Span
    from transforms.redaction.operators import apply_operators
    from transforms.redaction.spoken import normalize

    detector = engines.detector
    norm = normalize(text)
    (artifacts,) = detector.nlp_batch([norm])
    kept, decisions = detector.decide(norm, metadata, artifacts, explain=True)
    lines = [f"written form: {norm.text}", f"path: {style_path(detector, norm.text)}", ""]
    lines.append(
        f"{'entity':<16}{'score':>6}{'orig':>6}{'need':>6}  {'recognizer':<28}{'context':<12}{'text':<24}verdict"
    )
    for d in sorted(decisions, key=lambda d: (d.start, d.end)):
        r, ex = d.result, d.result.analysis_explanation
        meta = r.recognition_metadata or {}
        original = meta.get("original_score", ex.original_score if ex else r.score)
        lines.append(
            f"{r.entity_type:<16}{r.score:>6.2f}{original:>6.2f}{d.threshold:>6.2f}  "
            f"{meta.get('recognizer_name', '?'):<28}{(ex.supportive_context_word if ex else '') or '':<12}"
            f"{text[d.start : d.end]!r:<24}{d.verdict}"
        )
    redacted, _ = apply_operators(
        engines.anonymizer, text, [Span(d.entity_type, d.start, d.end) for d in kept], operators, "explain"
    )
    lines += ["", f"kept: {len(kept)}", f"redacted: {redacted}"]
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
