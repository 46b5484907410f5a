"""``python -m pipeline evaluate-voice``: measure voice privacy (EER, top-1) and utility (WER).

Needs the optional ``eval`` extra (``pip install -e '.[eval]'`` after ``pip install torch==2.13.0``).
The configured voice method (from ``--config``) is always evaluated; ``--method`` adds more.
"""

from __future__ import annotations

import json
import os

from pipeline.commands import add_config_flag, job_config

DEFAULT_SPEECH = os.path.join("..", "shared", "data", "speech")


NAME = "evaluate-voice"
HELP = "measure how well the voice disguise defeats speaker recognition and keeps words"
DESCRIPTION = (
    "Speaker-verification attack (Resemblyzer) and ASR word error (Whisper tiny.en) on a speech "
    "folder with manifest.jsonl (path, speaker). Writes voice_eval.json/.md/.png."
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
    parser.add_argument("--max-speakers", type=int, default=40, help="first N speakers of the manifest (0 = all)")
    parser.add_argument("--segments", type=int, default=3, help="segments cut from each utterance")
    parser.add_argument("--segment-s", type=float, default=4.0, help="segment length in seconds")


def parse_method(text: str):
    """``[per_clip:]NAME[=JSON-params]`` → MethodSpec (validated by the plug-in).

    The ``per_clip:`` prefix draws a new pseudo-voice for every segment (config ``per_clip: true``).
    """
    from pipeline.evaluation.voice import MethodSpec
    from transforms.disguise import build_params

    per_clip = text.startswith("per_clip:")
    name, _, raw = text.removeprefix("per_clip:").partition("=")
    params = json.loads(raw) if raw else {}
    if not isinstance(params, dict):
        raise ValueError(f"--method {name}: parameters must be a JSON object")
    build_params(name, params)
    return MethodSpec(text, name, params, per_clip)


def run(args, extra) -> int:
    from pipeline.evaluation.voice import MethodSpec, evaluate, markdown_table, write_reports

    voice = job_config(args).voice
    specs = [MethodSpec(f"{voice.method} (config)", voice.method, dict(voice.params), voice.per_clip)]
    specs += [parse_method(m) for m in args.method]
    result = evaluate(args.speech_dir, specs, args.max_speakers, args.segments, args.segment_s)
    paths = write_reports(result, args.output)
    print(markdown_table(result))
    print("written:", ", ".join(paths.values()))
    return 0
