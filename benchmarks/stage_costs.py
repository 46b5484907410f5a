"""``python -m benchmarks.stage_costs``: CPU milliseconds per clip of every stage's plain function.

In:  a manifest (e.g. the benchmark workload, ``benchmarks.workload``) and ``--clips N``.
Out: one line per stage — CPU ms per clip and its share — run in one process in the job's order
     (parse → policy → pseudonym → transcript (batches of the configured size) → decode → voice →
     mute → watermark → reviewer row (FLAC encode) → Arrow/Parquet), plus the total. Subtract the total from
     the job's steady-state CPU per clip (``make bench``) and what is left is the runner's own cost
     (coders, bundles, per-element overhead): the breakdown table in ``docs/SCALE_OUT.md``.
Fails: a clip that fails a stage stops the benchmark (use a clean workload).

CPU time is ``time.process_time`` of this single-threaded process (BLAS pinned to one thread),
so the figures are per core even on a busy machine. Start-up (imports, model loads) is measured
separately and excluded from the per-clip figures: the first batch warms every engine up.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import collections  # noqa: E402
import datetime  # noqa: E402
import io  # noqa: E402
import itertools  # noqa: E402
import time  # noqa: E402


class Clock:
    """CPU seconds per named step."""

    def __init__(self):
        self.spent: collections.Counter = collections.Counter()

    def run(self, name: str, fn, *args):
        start = time.process_time()
        result = fn(*args)
        self.spent[name] += time.process_time() - start
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--manifest", required=True, help="a workload manifest (JSON Lines)")
    parser.add_argument("--clips", type=int, default=600)
    parser.add_argument("--config", default=None, help="job config (default: configs/default.yaml)")
    args = parser.parse_args(argv)

    start = time.process_time()
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.config import DEFAULT_CONFIG_PATH, load_config
    from transforms.core.epochs import epoch_of
    from transforms.core.keys import derive_key
    from transforms.core.records import RunMeta
    from transforms.core.schema import REVIEWER_SCHEMA
    from transforms.disguise import build_params, disguise, voice_rng
    from transforms.identifiers import pseudonym
    from transforms.manifest import iter_manifest_rows, parse_clip
    from transforms.mute_audio import mute_clip_audio
    from transforms.policy import compile_lexicon, decide
    from transforms.transcript import Engines, clip_metadata, redact_clip
    from transforms.watermark_audio import mark_clip
    from transforms.write_shards import to_reviewer_row

    config = load_config(args.config or DEFAULT_CONFIG_PATH)
    engines = Engines.from_config(config.transcript, config.base_dir)
    params = build_params(config.voice.method, dict(config.voice.params))
    imports_s = time.process_time() - start

    key = b"stage-costs-key-0123456789abcdef"
    as_of = datetime.datetime.now(datetime.timezone.utc)
    lexicon = compile_lexicon(config.policy.escalation_terms)
    meta = RunMeta("bench", "bench", "0")
    manifest_dir = os.path.dirname(os.path.abspath(args.manifest))
    rows = list(itertools.islice(iter_manifest_rows(args.manifest), args.clips))
    batch = config.transcript.batch_size
    clock = Clock()
    # Warm-up: the first batch compiles regexes, fills caches and loads lazily built tables.
    warm = [parse_clip(r, manifest_dir) for r in rows[:batch]]
    engines.detector.detect_batch([c.transcript for c in warm], [clip_metadata(c) for c in warm])

    out_rows, audio_s, markers = [], 0.0, {}
    for offset in range(0, len(rows), batch):
        clips = [
            clock.run("manifest: parse + validate", parse_clip, r, manifest_dir) for r in rows[offset : offset + batch]
        ]
        clips = [
            clock.run("policy: decide", decide, c, frozenset(), config.policy, as_of, b"", lexicon).clip for c in clips
        ]
        months = config.identifiers.epoch_months
        clips = [
            c._replace(speaker_pseudonym=clock.run("identifiers", pseudonym, key, epoch_of(c.recorded_at, months), c.account_id),
                       pseudonym_epoch=epoch_of(c.recorded_at, months))
            for c in clips
        ]  # fmt: skip
        found = clock.run(
            "transcript: detect (batch)",
            engines.detector.detect_batch,
            [c.transcript for c in clips],
            [clip_metadata(c) for c in clips],
        )
        clips = [
            clock.run("transcript: operators", redact_clip, engines, c, config.transcript, f, key)
            for c, f in zip(clips, found, strict=True)
        ]
        for clip in clips:
            from transforms import audio_io

            samples = clock.run("decode", audio_io.load, clip.audio_uri, config.audio.sample_rate, 600.0)
            audio_s += len(samples) / config.audio.sample_rate
            clip = clip._replace(samples=samples, sample_rate=config.audio.sample_rate)
            rng = voice_rng(derive_key(key, "voice"), clip.account_id, clip.pseudonym_epoch)
            clip = clip._replace(
                samples=clock.run("voice", disguise, clip.samples, clip.sample_rate, config.voice.method, params, rng)
            )
            muted, intervals = clock.run("mute", mute_clip_audio, clip, config.mute)
            clip = clip._replace(samples=muted, muted_intervals=intervals, pseudonym_expires=datetime.date(2030, 1, 1))
            clip = clock.run("watermark", mark_clip, clip, key, meta.run_id, config.watermark.batches, markers)
            out_rows.append(clock.run("encode: FLAC + reviewer row", to_reviewer_row, clip, meta, key, "flac"))

    def write(rows_):
        sink = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(rows_, schema=REVIEWER_SCHEMA), sink)

    clock.run("Arrow + Parquet write", write, out_rows)
    total = sum(clock.spent.values())
    n = len(rows)
    print(f"{n} clips, {audio_s:.1f} s of audio ({audio_s / n:.2f} s per clip); load average {os.getloadavg()[0]:.2f}")
    print(f"start-up in this process (imports, config, engines): {imports_s:.2f} CPU s")
    print(f"{'stage':<34}{'CPU ms/clip':>12}{'share':>8}")
    for name, spent in clock.spent.most_common():
        print(f"{name:<34}{1000 * spent / n:>12.2f}{spent / total:>8.0%}")
    print(f"{'total':<34}{1000 * total / n:>12.2f}   ({audio_s / total:.0f} audio s per CPU s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
