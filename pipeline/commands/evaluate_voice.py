"""``python -m pipeline evaluate-voice``: measure voice privacy (EER, top-1) and utility (WER).

Needs the optional ``eval`` extra (``pip install -e '.[eval]'`` after ``pip install torch==2.13.0``).
The configured voice method (from ``--config``) is always evaluated; ``--method`` adds more.
"""

from __future__ import annotations

import json
import os
import sys

from pipeline.commands import add_config_flag, job_config

DEFAULT_SPEECH = os.path.join("..", "shared", "data", "speech")
CONDITION_CHOICES = ("clean", "far_field", "far_field_phone")  # pipeline.evaluation.voice_conditions.CONDITIONS


NAME = "evaluate-voice"
HELP = "measure how well the voice disguise defeats speaker recognition and keeps words"
DESCRIPTION = (
    "Speaker-verification attackers (Resemblyzer; unaware, lazy-informed, semi-informed with an LDA "
    "trained on anonymised speech of other speakers) over several key draws, and ASR word error "
    "(Whisper tiny.en), on a speech folder with manifest.jsonl (path, speaker). "
    "Writes voice_eval.json/.md/.png."
)


def add_arguments(parser) -> None:
    parser.add_argument("--speech-dir", default=DEFAULT_SPEECH, help="folder with manifest.jsonl and audio")
    parser.add_argument("--output", default=os.path.join("out", "voice_eval"), help="report folder")
    add_config_flag(parser, "job config whose voice method is evaluated")
    parser.add_argument(
        "--method",
        action="append",
        default=[],
        metavar="NAME[=JSON]",
        help="extra method to compare, e.g. world_shift, per_clip:pseudo_voice or "
        "'mcadams={\"coefficient_min\": 0.7}' (repeatable)",
    )
    parser.add_argument(
        "--test-speakers",
        default="test",
        help="speakers reported on: a set of pipeline.evaluation.voice_speakers (test, tune, ...), all, or first:N",
    )
    parser.add_argument(
        "--attacker-speakers",
        default="attacker",
        help="the semi-informed attacker's training speakers (a set name, all, first:N; never the test speakers) "
        "or none",
    )
    parser.add_argument("--max-speakers", type=int, default=0, help="only the first N test speakers (0 = all)")
    parser.add_argument(
        "--split",
        choices=("auto", "halves", "utterances"),
        default="auto",
        help="halves: enrol on the first half of each utterance, try the second; utterances: enrol on "
        "--enrol-utterances utterances, try each other one; auto: utterances when speakers have more",
    )
    parser.add_argument("--enrol-utterances", type=int, default=3, help="enrolment utterances per speaker")
    parser.add_argument("--key-draws", type=int, default=3, help="independent key draws (figures: mean and range)")
    parser.add_argument("--no-config-method", action="store_true", help="evaluate only the --method options")
    parser.add_argument(
        "--condition",
        action="append",
        default=[],
        choices=CONDITION_CHOICES,
        help="recording condition (repeatable; default clean): far_field renders every utterance as an assistant "
        "across a room hears it (reverberation, noise at 5-20 dB SNR, a microphone response per speaker); "
        "far_field_phone adds a telephone band",
    )
    parser.add_argument(
        "--leaked-key", action="store_true", help="also score an attacker who enrols under the system's own key"
    )


def parse_method(text: str):
    """``[per_clip:][watermark:]NAME[=JSON-params]`` → MethodSpec (validated by the plug-in).

    The ``per_clip:`` prefix draws a new pseudo-voice for every segment (config ``per_clip: true``);
    ``watermark:`` marks the disguised audio as the job does (the same mark on every clip).
    """
    from pipeline.evaluation.voice import MethodSpec
    from transforms.disguise import build_params

    per_clip = text.startswith("per_clip:")
    rest = text.removeprefix("per_clip:")
    watermark = rest.startswith("watermark:")
    name, _, raw = rest.removeprefix("watermark:").partition("=")
    params = json.loads(raw) if raw else {}
    if not isinstance(params, dict):
        raise ValueError(f"--method {name}: parameters must be a JSON object")
    build_params(name, params)
    return MethodSpec(text, name, params, per_clip, watermark)


def run(args, extra) -> int:
    from pipeline.evaluation.voice import MethodSpec, conditions_table, evaluate, markdown_table, write_reports

    specs = []
    if not args.no_config_method:
        voice = job_config(args).voice
        specs.append(MethodSpec(f"{voice.method} (config)", voice.method, dict(voice.params), voice.per_clip))
    specs += [parse_method(m) for m in args.method]
    if not specs:
        print("error: no method to evaluate", file=sys.stderr)
        return 2
    results = []
    written = []
    for condition in args.condition or ["clean"]:
        result = evaluate(
            args.speech_dir,
            specs,
            test_speakers=args.test_speakers,
            attacker_speakers=args.attacker_speakers,
            split=args.split,
            enrol_utterances=args.enrol_utterances,
            key_draws=args.key_draws,
            max_speakers=args.max_speakers,
            checkpoint_dir=args.output,
            leaked_key=args.leaked_key,
            condition=condition,
        )
        written += write_reports(result, args.output).values()
        print(markdown_table(result))
        results.append(result)
    if len(results) > 1:
        path = os.path.join(args.output, "voice_eval_conditions.md")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(conditions_table(results))
        print(conditions_table(results))
        written.append(path)
    print("written:", ", ".join(written))
    return 0
