"""``python -m benchmarks.bench_voice``: CPU cost of each voice-disguise option, × real time per core.

In:  ``--speech-dir`` (default ``../shared/data/speech``; its first ``--clips`` utterances) or,
     when that folder is absent, synthetic vowel-like clips; ``--variant NAME[=JSON]`` to add
     options (defaults: every plug-in plus the WORLD speed variants named in the research notes;
     ``knn_vc`` needs the ``strong`` extra).
Out: one line per option — CPU seconds per audio second on one core (the issue's target is
     ≤ 0.02; the default ``pseudo_voice`` aims at ≤ 0.002 so the whole job stays near its I/O
     floor), the same as CPU milliseconds per 2.7 s clip (the job's typical clip), and how many
     times faster than real time that is — plus the machine load.
Fails: an option that raises stops the benchmark with its error.

CPU time is ``time.process_time`` of this single-threaded process (BLAS/OpenMP pinned to one
thread before NumPy loads), so it is per core even on a busy shared machine; wall time would not be.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from transforms import disguise as voice  # noqa: E402

RATE = 16000
TARGET = 0.02
TYPICAL_CLIP_S = 2.7
DEFAULT_SPEECH = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "data", "speech"
)
DEFAULT_VARIANTS = [
    "pseudo_voice",
    "knn_vc",
    'knn_vc={"blend": 0.5}',
    "mcadams",
    'world_pseudo={"f0_method": "dio", "frame_period_ms": 10}',
    "world_pseudo",
    "world_shift",
    'world_shift={"f0_method": "dio"}',
    'world_shift={"f0_method": "dio", "frame_period_ms": 10}',
]


def load_clips(speech_dir: str, count: int) -> list[np.ndarray]:
    """The first ``count`` utterances of the speech folder, or synthetic clips if it is absent."""
    manifest = os.path.join(speech_dir, "manifest.jsonl")
    if os.path.isfile(manifest):
        import soundfile as sf

        clips = []
        with open(manifest, encoding="utf-8") as handle:
            for line in handle:
                if len(clips) >= count:
                    break
                row = json.loads(line)
                audio, rate = sf.read(os.path.join(speech_dir, row["path"]), dtype="float32")
                if rate == RATE:
                    clips.append(audio if audio.ndim == 1 else audio.mean(axis=1))
        return clips
    rng = np.random.default_rng(0)
    t = np.arange(5 * RATE) / RATE
    return [
        (0.3 * np.sin(2 * np.pi * np.cumsum(np.full_like(t, f0)) / RATE) + 0.01 * rng.standard_normal(len(t))).astype(
            np.float32
        )
        for f0 in rng.uniform(90, 250, count)
    ]


def cost(clips: list[np.ndarray], variant: str) -> float:
    """CPU seconds per audio second of one variant over all clips."""
    name, _, raw = variant.partition("=")
    params = voice.build_params(name, json.loads(raw) if raw else {})
    voice.load_method(name, params)  # models and data load once per worker, not per clip: not timed
    key = b"b" * 32
    cpu = 0.0
    for i, clip in enumerate(clips):
        rng = voice.voice_rng(key, f"speaker-{i}", "bench")
        start = time.process_time()
        voice.disguise(clip, RATE, name, params, rng)
        cpu += time.process_time() - start
    return cpu / (sum(len(c) for c in clips) / RATE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speech-dir", default=DEFAULT_SPEECH)
    parser.add_argument("--clips", type=int, default=10)
    parser.add_argument("--variant", action="append", default=[], metavar="NAME[=JSON]")
    args = parser.parse_args(argv)
    clips = load_clips(args.speech_dir, args.clips)
    audio_s = sum(len(c) for c in clips) / RATE
    print(f"{len(clips)} clips, {audio_s:.1f} s of audio; load average {os.getloadavg()[0]:.2f}")
    clip_ms = f"ms / {TYPICAL_CLIP_S:g} s clip"
    print(f"{'option':<60} {'CPU s / audio s':>16} {clip_ms:>16} {'× faster than RT':>17}  target ≤ {TARGET}")
    for variant in args.variant or DEFAULT_VARIANTS:
        c = cost(clips, variant)
        print(
            f"{variant:<60} {c:>16.4f} {c * TYPICAL_CLIP_S * 1000:>16.1f} {1 / c:>17.1f}  {'yes' if c <= TARGET else 'no'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
