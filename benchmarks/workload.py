"""Benchmark workload generator: a manifest of N voice-assistant clips with PII-bearing transcripts.

In:  real speech — ``../shared/data/speech`` (LibriSpeech excerpts, 16 kHz FLAC) when present,
     else the project's own ``data/samples`` clips — and a seed.
Out: ``<out>/manifest.jsonl`` (or ``manifest.csv`` with ``--manifest-format csv``: the same rows,
     ``words`` as a JSON cell) and ``<out>/audio/*.flac``; with ``--opt-out-share S``, also
     ``<out>/optout.txt``, an opt-out list naming that share of the workload's accounts (their clips
     are dropped by the job) and as many ids that have no clip. Each clip's
     audio is a short segment (``--min-s``..``--max-s`` seconds) cut from the source speech; its
     transcript is a spoken-style (lower case, digits said as words) utterance built with Faker
     that speaks a name, phone number, e-mail, account number or street address, with evenly
     spread word timings over the clip. ``first_name``/``account_id``/``device_serial`` metadata
     are fake and consistent with what is spoken.
Fails: ``SystemExit`` when no source speech can be found.

At most ``--distinct-audio`` audio files are written; further clips reuse them round-robin (each
clip still has its own id, transcript and metadata). This keeps a 100k-clip manifest to a few
hundred MB of disk while every clip is still decoded, disguised and encoded by the job.

    python -m benchmarks.workload --out /tmp/wl --clips 1000
    python -m benchmarks.workload --out /tmp/wl --clips 1000 --manifest-format csv --opt-out-share 0.05
"""

from __future__ import annotations

import argparse
import csv
import datetime
import itertools
import json
import os
import random

import numpy as np
import soundfile as sf

from transforms.manifest_rows import iter_manifest_rows

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_SPEECH = os.path.join(os.path.dirname(REPO), "shared", "data", "speech")
SAMPLES = os.path.join(REPO, "data", "samples")
RATE = 16000
_DIGITS = "zero one two three four five six seven eight nine".split()
_WAKE = ("alexa", "computer", "echo")
# Real city names: Faker's invented towns ("East Jasmine") embed first names, which the job's
# end-of-run leak scan rightly reports when another row has that first name.
_CITIES = ("boston", "denver", "seattle", "leeds", "bristol", "glasgow", "austin", "phoenix", "dublin", "oxford")


def source_audio(source: str = "auto", max_files: int = 60) -> list[np.ndarray]:
    """Mono float32 16 kHz signals of real (or sample) speech to cut clips from."""
    if source in ("auto", "speech") and os.path.isdir(SHARED_SPEECH):
        with open(os.path.join(SHARED_SPEECH, "manifest.jsonl"), encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
        paths = [os.path.join(SHARED_SPEECH, row["path"]) for row in rows[:max_files]]
    elif source in ("auto", "samples"):
        with open(os.path.join(SAMPLES, "manifest.jsonl"), encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
        paths = [os.path.join(SAMPLES, row["audio_uri"]) for row in rows]
    else:
        raise SystemExit(f"no source speech for source={source!r}")
    from transforms.audio_io import load  # the job's decoder: any format, mono, resampled

    return [load(path, RATE, 600.0) for path in paths]


def spoken_digits(text: str) -> str:
    return " ".join(_DIGITS[int(c)] for c in text if c.isdigit())


def spoken_chars(text: str) -> str:
    """Letters and digits said one by one, as ASR writes a spelled serial."""
    return " ".join(_DIGITS[int(c)] if c.isdigit() else c.lower() for c in text if c.isalnum())


def utterance(fake, first: str, account: str, serial: str, rng: random.Random) -> str:
    """A spoken-style transcript carrying one or two kinds of (fake) PII."""
    last = fake.last_name().lower()
    wake = rng.choice(_WAKE)
    templates = [
        lambda: f"{wake} this is {first.lower()} call {spoken_digits(fake.numerify('555-01##'))}",
        lambda: f"{wake} email {first.lower()} dot {last} at example dot com",
        lambda: f"{wake} my account number is {spoken_digits(account)}",
        lambda: (
            f"{wake} my name is {first.lower()} {last} and i live at "
            f"{spoken_digits(fake.building_number())} {fake.street_name().lower()}"
        ),
        lambda: f"{wake} send a message to {fake.first_name().lower()} saying i will be late",
        lambda: f"{wake} what's the weather in {rng.choice(_CITIES)} tomorrow",
        lambda: f"{wake} serial {spoken_chars(serial)}",
    ]
    return rng.choice(templates)()


def word_timings(transcript: str, duration: float) -> list[dict]:
    words = transcript.split()
    step = duration / (len(words) + 1)
    return [
        {"word": w, "start_s": round(step * (i + 0.5), 3), "end_s": round(step * (i + 1.3), 3)}
        for i, w in enumerate(words)
    ]


def generate(
    out_dir: str,
    clips: int,
    min_s: float = 1.5,
    max_s: float = 4.0,
    distinct_audio: int = 1000,
    source: str = "auto",
    seed: int = 7,
    manifest_format: str = "jsonl",
    opt_out_share: float = 0.0,
) -> str:
    """Write the workload; returns the manifest path. The rows do not depend on the format or the
    opt-out share (the list is drawn from its own random stream)."""
    from faker import Faker

    rng = random.Random(seed)
    fake = Faker("en_US")
    Faker.seed(seed)
    signals = source_audio(source)
    audio_dir = os.path.join(out_dir, "audio")
    os.makedirs(audio_dir, exist_ok=True)
    pool: list[tuple[str, float]] = []
    for index in range(min(clips, distinct_audio)):
        signal = signals[index % len(signals)]
        length = min(len(signal), int(rng.uniform(min_s, max_s) * RATE))
        start = rng.randrange(0, len(signal) - length + 1)
        name = f"audio/w-{index:06d}.flac"
        sf.write(os.path.join(out_dir, name), signal[start : start + length], RATE, format="FLAC", subtype="PCM_16")
        pool.append((name, length / RATE))
    accounts = [f"ACCT-{rng.randrange(10**9, 10**10)}" for _ in range(max(1, clips // 3))]
    base = datetime.datetime(2026, 11, 20, tzinfo=datetime.timezone.utc)
    manifest = os.path.join(out_dir, f"manifest.{manifest_format}")
    with open(manifest, "w", encoding="utf-8", newline="") as handle:
        writer = None
        for index in range(clips):
            uri, duration = pool[index % len(pool)]
            first = fake.first_name()
            account = rng.choice(accounts)
            serial = "G" + "".join(rng.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(15))
            transcript = utterance(fake, first, account, serial, rng)
            row = {
                "clip_id": f"bench-{index:07d}",
                "audio_uri": uri,
                "transcript": transcript,
                "words": word_timings(transcript, duration),
                "account_id": account,
                "first_name": first,
                "device_serial": serial,
                "recorded_at": (base - datetime.timedelta(seconds=rng.randrange(60 * 86400))).isoformat(),
                "locale": rng.choice(("en-US", "en-GB")),
                "wake_word_detected": True,
                "duration_s": round(duration, 3),
            }
            if manifest_format == "jsonl":
                handle.write(json.dumps(row) + "\n")
                continue
            if writer is None:
                writer = csv.DictWriter(handle, list(row))
                writer.writeheader()
            writer.writerow({**row, "words": json.dumps(row["words"]), "wake_word_detected": "true"})
    list_path = os.path.join(out_dir, "optout.txt")
    if os.path.exists(list_path):
        os.remove(list_path)
    if opt_out_share > 0:
        picker = random.Random(seed + 1)
        listed = picker.sample(accounts, max(1, round(len(accounts) * opt_out_share)))
        others = [f"ACCT-{picker.randrange(10**9, 10**10)}" for _ in listed]  # listed, no clips
        ids = [a.lower() if i % 2 else a for i, a in enumerate(listed)] + [o for o in others if o not in accounts]
        picker.shuffle(ids)
        with open(list_path, "w", encoding="utf-8") as handle:
            handle.write("".join(f"{account}\n" for account in ids))
    return manifest


def opt_out_list(manifest: str) -> str | None:
    """The workload's opt-out list beside ``manifest``, if it has one."""
    path = os.path.join(os.path.dirname(manifest), "optout.txt")
    return path if os.path.exists(path) else None


def opted_out(manifest: str) -> int:
    """How many of the manifest's clips the workload's opt-out list drops (0 without a list)."""
    path = opt_out_list(manifest)
    if path is None:
        return 0
    with open(path, encoding="utf-8") as handle:
        listed = {line.strip().lower() for line in handle if line.strip()}
    return sum(1 for row in iter_manifest_rows(manifest) if row["account_id"].lower() in listed)


def first(manifest: str, clips: int) -> str:
    """A manifest of the first ``clips`` rows beside ``manifest`` (same audio, same relative paths)."""
    suffix = ".csv" if manifest.endswith(".csv") else ".jsonl"
    path = os.path.join(os.path.dirname(manifest), f"first-{clips}{suffix}")
    with (
        open(manifest, encoding="utf-8", newline="") as source,
        open(path, "w", encoding="utf-8", newline="") as target,
    ):
        if suffix == ".csv":
            reader = csv.DictReader(source)
            writer = csv.DictWriter(target, reader.fieldnames or [])
            writer.writeheader()
            writer.writerows(itertools.islice(reader, clips))
        else:
            target.writelines(itertools.islice((row for row in source if row.strip()), clips))
    return path


def manifest_stats(manifest: str) -> tuple[int, float]:
    """(clips, total audio seconds) of a workload manifest."""
    count, seconds = 0, 0.0
    for row in iter_manifest_rows(manifest):
        count += 1
        seconds += float(row["duration_s"])
    return count, seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--clips", type=int, default=1000)
    parser.add_argument("--min-s", type=float, default=1.5)
    parser.add_argument("--max-s", type=float, default=4.0)
    parser.add_argument("--distinct-audio", type=int, default=1000)
    parser.add_argument("--source", choices=("auto", "speech", "samples"), default="auto")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--manifest-format", choices=("jsonl", "csv"), default="jsonl")
    parser.add_argument("--opt-out-share", type=float, default=0.0, help="share of accounts on an opt-out list")
    args = parser.parse_args(argv)
    path = generate(
        args.out,
        args.clips,
        args.min_s,
        args.max_s,
        args.distinct_audio,
        args.source,
        args.seed,
        args.manifest_format,
        args.opt_out_share,
    )
    count, seconds = manifest_stats(path)
    dropped = opted_out(path)
    print(f"{path}: {count} clips, {seconds:.1f} s of audio" + (f"; {dropped} opted out" if dropped else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
