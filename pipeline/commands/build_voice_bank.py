"""``python -m pipeline build-voice-bank``: build the target bank of the content-based voice method.

Needs the ``strong`` extra (the Whisper encoder). Reads the development speech folder (LibriSpeech,
CC BY 4.0), checks that its speakers still split into the documented sets
(``pipeline.evaluation.voice_speakers``) and builds the bank from the ``bank`` set only — speakers
in none of the evaluation sets — into ``transforms/disguise/data/voice_bank.npz`` (package data).
Deterministic: no randomness beyond the fixed partition (seed 13) and the recording conditions'
seeded draws; a rebuild from the same folder gives the same bank up to floating-point summation
order. ``--key-map`` adds the noise-robust query map (``transforms.disguise.bank.fit_key_map``),
fitted on the bank audio played clean and under the named conditions of
``pipeline.evaluation.voice_conditions``; ``--map-only BANK`` fits it for an existing bank.
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
    parser.add_argument(
        "--key-map",
        default="",
        metavar="CONDITION[,CONDITION]",
        help="fit a noise-robust query map (source frames with context -> clean bank keys) on the clean bank "
        "audio plus --key-map-copies degraded copies per condition (pipeline.evaluation.voice_conditions)",
    )
    parser.add_argument("--key-map-copies", type=int, default=2, help="degraded copies per utterance and condition")
    parser.add_argument("--key-map-context", type=int, default=1, help="± encoder frames the map reads")
    parser.add_argument(
        "--key-map-clean-copies",
        type=int,
        default=1,
        help="times each clean utterance counts in the map's fit (as many as the degraded copies: a clean "
        "source mapped loses as little as a noisy one gains)",
    )
    parser.add_argument("--key-map-ridge", type=float, default=0.01, help="ridge weight (× the mean input power)")
    parser.add_argument(
        "--map-only",
        default=None,
        metavar="BANK",
        help="keep this bank's frames and only fit its key map (writes --output)",
    )
    parser.add_argument(
        "--key-condition",
        default="clean",
        choices=("clean", "far_field", "far_field_phone"),
        help="noise-matched keys: content keys from copies of the bank audio recorded under this condition "
        "(pipeline.evaluation.voice_conditions; babble from the other bank speakers), synthesis from the clean audio",
    )


def run(args, extra) -> int:
    from pipeline.evaluation import voice_speakers
    from pipeline.evaluation.voice_conditions import check_condition
    from pipeline.evaluation.voice_material import choose_speakers, load_audio, read_manifest
    from transforms.disguise.bank import CONTENT_LAYER, DEFAULT_BANK, build_bank, load_bank, save_bank
    from transforms.disguise.content import content_encoder

    conditions = [check_condition(c) for c in args.key_map.split(",") if c]
    rows = read_manifest(args.speech_dir)
    voice_speakers.check_partition(rows)
    wanted = set(choose_speakers(rows, args.speakers))
    chosen = [r for r in rows if str(r["speaker"]) in wanted]
    utterances = [(str(r["speaker"]), str(r.get("gender", "?")), load_audio(args.speech_dir, r)) for r in chosen]
    if args.map_only:
        bank = load_bank(args.map_only)
        encoder = content_encoder(layer=int(bank.layer))
    else:
        key_audio = None
        if args.key_condition != "clean":
            key_audio = noise_matched_audio(chosen, utterances, args.key_condition)
        encoder = content_encoder(layer=CONTENT_LAYER if args.layer is None else args.layer)
        bank = build_bank(utterances, encoder, args.dims, args.ceps, log=print, key_audio=key_audio)
    if conditions:
        bank = bank._replace(
            key_map=key_map_for(
                bank,
                chosen,
                utterances,
                encoder,
                conditions,
                args.key_map_copies,
                args.key_map_context,
                args.key_map_ridge,
                args.key_map_clean_copies,
            )
        )
    output = args.output or DEFAULT_BANK
    save_bank(bank, output)
    size = os.path.getsize(output)
    print(f"bank: {len(bank.speaker_ids)} speakers, {len(bank.keys)} frames, {size / 1e6:.1f} MB -> {output}")
    return 0


def noise_matched_audio(rows: list[dict], utterances: list, condition: str) -> list:
    """Each bank utterance as recorded under ``condition``, babble from the *other* bank speakers."""
    from pipeline.evaluation.voice_conditions import degrade
    from pipeline.evaluation.voice_material import Item

    out = []
    for row, (speaker, _, samples) in zip(rows, utterances, strict=True):
        pool = [s for other, _, s in utterances if other != speaker][:24]
        item = Item(f"bank:{speaker}", "bank", str(row.get("utt_id", row["path"])), samples)
        out.append(degrade(item, condition, pool).samples)
    return out


def key_map_for(
    bank, rows, utterances, encoder, conditions, copies: int, context: int, ridge: float, clean_copies: int = 1
):
    """The bank's noise-robust query map: every bank utterance clean and ``copies`` times under each
    condition (another room and noise per copy), its encoder frames mapped to its clean keys.
    The bank's keys are in utterance order, so each utterance's rows are the next ``len(frames)``."""
    import numpy as np

    from pipeline.evaluation.voice_conditions import degrade
    from pipeline.evaluation.voice_material import Item
    from transforms.disguise.bank import fit_key_map

    pairs = []
    start = 0
    for row, (speaker, _, samples) in zip(rows, utterances, strict=True):
        clean = encoder.encode(samples)
        keys = np.asarray(bank.keys[start : start + len(clean)], np.float64)
        start += len(clean)
        pairs.append((clean, keys, clean_copies))
        pool = [s for other, _, s in utterances if other != speaker][:24]
        name = str(row.get("utt_id", row["path"]))
        for condition in conditions:
            for copy in range(copies):
                item = Item(f"bank:{speaker}", "map", f"{name}#{copy}", samples)
                pairs.append((encoder.encode(degrade(item, condition, pool).samples), keys))
        print(f"key map: utterance {len(pairs) // (1 + copies * len(conditions))}/{len(utterances)}")
    if start != len(bank.keys):
        raise ValueError("the bank's frames do not follow these utterances; rebuild the bank")
    return fit_key_map(pairs, context, ridge)
