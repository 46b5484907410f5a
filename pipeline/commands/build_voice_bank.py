"""``python -m pipeline build-voice-bank``: build the target bank of the content-based voice method.

Needs the ``strong`` extra (the Whisper encoder). Reads the development speech folder (LibriSpeech,
CC BY 4.0), checks that its speakers still split into the documented sets
(``pipeline.evaluation.voice_speakers``) and builds the bank from the ``bank`` set only — speakers
in none of the evaluation sets — into ``transforms/disguise/data/voice_bank.npz`` (package data).
Deterministic: no randomness beyond the fixed partition (seed 13); a rebuild from the same folder
gives the same bank up to floating-point summation order.
"""

from __future__ import annotations

import os

NAME = "build-voice-bank"
HELP = "build the content-based voice method's target bank from licensed speech"
DESCRIPTION = (
    "Whisper encoder keys + WORLD envelopes of the 'bank' speakers of a LibriSpeech folder "
    "(manifest.jsonl with path, speaker, gender) → a float16 .npz shipped as package data."
)


def add_arguments(parser) -> None:
    # No heavy import here: every CLI start builds every command's parser.
    parser.add_argument("--speech-dir", default=os.path.join("..", "shared", "data", "speech"))
    parser.add_argument("--output", default=None, help="bank file (.npz; default: the packaged bank)")
    parser.add_argument("--speakers", default="bank", help="speaker set of pipeline.evaluation.voice_speakers")
    parser.add_argument("--dims", type=int, default=64, help="PCA dimensions of the content keys")
    parser.add_argument("--ceps", type=int, default=40, help="cepstral coefficients per envelope")
    parser.add_argument("--layer", type=int, default=None, help="encoder block of the content keys (default: 2)")


def run(args, extra) -> int:
    from pipeline.evaluation import voice_speakers
    from pipeline.evaluation.voice_material import choose_speakers, load_audio, read_manifest
    from transforms.disguise.bank import CONTENT_LAYER, DEFAULT_BANK, build_bank, save_bank
    from transforms.disguise.content import content_encoder

    rows = read_manifest(args.speech_dir)
    voice_speakers.check_partition(rows)
    wanted = set(choose_speakers(rows, args.speakers))
    chosen = [r for r in rows if str(r["speaker"]) in wanted]
    utterances = [(str(r["speaker"]), str(r.get("gender", "?")), load_audio(args.speech_dir, r)) for r in chosen]
    encoder = content_encoder(layer=CONTENT_LAYER if args.layer is None else args.layer)
    bank = build_bank(utterances, encoder, args.dims, args.ceps, log=print)
    output = args.output or DEFAULT_BANK
    save_bank(bank, output)
    size = os.path.getsize(output)
    print(f"bank: {len(bank.speaker_ids)} speakers, {len(bank.keys)} frames, {size / 1e6:.1f} MB -> {output}")
    return 0
