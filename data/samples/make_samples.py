#!/usr/bin/env python3
"""Generate the bundled synthetic voice-assistant sample clips and manifests.

Run from the repository root:

    python data/samples/make_samples.py            # generate + verify
    python data/samples/make_samples.py --check    # verify the committed files only

What it does
------------
* Every WORD of every transcript is synthesised separately with espeak-ng
  (``espeak-ng -v VOICE -s SPEED -p PITCH -w word.wav WORD``), its leading and
  trailing silence is trimmed, and the words are concatenated with short gaps
  (80-150 ms) plus a little leading/trailing silence.  Because the clip is
  assembled sample by sample, the per-word ``start_s``/``end_s`` timings in the
  manifest are exact (to the sample, rounded to 1 ms).
* Clips are written in several containers / sample rates (WAV 8/16/44.1 kHz,
  FLAC, MP3, Ogg Vorbis) to exercise the pipeline's audio decoder.
* ``manifest.jsonl``, ``manifest.csv`` and ``manifest.parquet`` describe them.

ALL personal data below (names, phone numbers, e-mail addresses, street
addresses, account ids, device serials) is invented.  Phone numbers use ranges
reserved for fiction (NANP 555-01xx, Ofcom drama range 07700 900xxx) and the
e-mail domain is the reserved ``example.com``.

Determinism: the only randomness comes from ``random.Random(SEED).random()``
and ``numpy.random.RandomState(SEED)`` (both have frozen, documented streams);
MP3/Ogg are encoded with ffmpeg in bit-exact mode.  Given the same espeak-ng
version (developed with 1.51) the output is byte-for-byte reproducible.

Requirements: espeak-ng on PATH, plus numpy, soundfile, soxr, pyarrow and
imageio-ffmpeg (for the bundled ffmpeg binary used to encode MP3 / Ogg).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

HERE = Path(__file__).resolve().parent
AUDIO_DIR = HERE / "audio"
SEED = 20261120
ESPEAK_RATE = 22050  # espeak-ng always writes 22.05 kHz mono 16-bit WAV

# Reference instant: all recordings fall in the 60 days before this.
REFERENCE_TIME = dt.datetime(2026, 11, 20, 0, 0, 0, tzinfo=dt.timezone.utc)

# Silence (seconds) inserted around/between words.
GAP_RANGE = (0.080, 0.150)
LEAD_RANGE = (0.200, 0.350)
TRAIL_RANGE = (0.250, 0.450)
NOISE_STD = 0.0005          # ~ -66 dBFS background hiss so "silence" is not digital zero
PEAK_LEVEL = 0.70           # clip peak after normalisation (~ -3 dBFS)


# --------------------------------------------------------------------------
# Fake speakers.  Names, accounts and serials are invented.
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Speaker:
    key: str
    first_name: str
    voice: str
    pitch: int
    speed: int
    locale: str
    account_id: str
    device_serial: str
    device_type: str
    app_version: str


SPEAKERS = {
    # Jennifer and Marcus are one household: they share an account.
    "jennifer": Speaker("jennifer", "Jennifer", "en-us+f3", 62, 190, "en-US",
                        "ACCT-4829105573", "G090XF0731945822", "echo-dot", "2.14.0"),
    "marcus": Speaker("marcus", "Marcus", "en-us+m3", 38, 170, "en-US",
                      "ACCT-4829105573", "G0A1KP6620194437", "echo-show-8", "2.14.0"),
    "oliver": Speaker("oliver", "Oliver", "en-gb-x-rp", 48, 235, "en-GB",
                      "ACCT-7310458826", "G090XF9K4T2Q7751", "echo-studio", "2.13.2"),
    "amelia": Speaker("amelia", "Amelia", "en-gb+f2", 70, 185, "en-GB",
                      "ACCT-2056391748", "G2B7MZ3308615094", "echo-dot", "2.13.2"),
    "daniel": Speaker("daniel", "Daniel", "en-us", 52, 210, "en-US",
                      "ACCT-9147062385", "GTX4WN8815502367", "fire-tv-stick", "3.1.5"),
}


@dataclass(frozen=True)
class ClipSpec:
    clip_id: str
    speaker: str
    transcript: str
    fmt: str            # wav | flac | mp3 | ogg
    rate: int
    channels: int
    wake_word_detected: bool
    pii: tuple[str, ...]  # PII kinds spoken in the transcript (for the README table)


# Transcripts: lower case, no punctuation, numbers as words.
CLIPS = [
    ClipSpec("clip-0001", "jennifer",
             "alexa this is jennifer call five five five zero one four two",
             "wav", 16000, 1, True, ("first_name", "phone")),
    ClipSpec("clip-0002", "marcus",
             "alexa call me marcus",
             "wav", 44100, 2, True, ("first_name",)),
    ClipSpec("clip-0003", "oliver",
             "computer my name is oliver and i live at twelve oak street springfield",
             "flac", 22050, 1, True, ("first_name", "address")),
    ClipSpec("clip-0004", "amelia",
             "alexa this is amelia email john dot smith at example dot com",
             "mp3", 22050, 1, True, ("first_name", "email", "third_party_name")),
    ClipSpec("clip-0005", "daniel",
             "alexa what's the weather tomorrow",
             "ogg", 16000, 1, True, ()),
    ClipSpec("clip-0006", "jennifer",
             "computer account number four eight two nine one zero five five seven three",
             "wav", 8000, 1, True, ("account_number",)),
    ClipSpec("clip-0007", "oliver",
             "alexa serial g zero nine zero x f nine k four t two q seven seven five one",
             "wav", 16000, 1, True, ("device_serial",)),
    ClipSpec("clip-0008", "amelia",
             "this is amelia ring oh seven seven oh oh nine oh oh one two three",
             "mp3", 44100, 2, False, ("first_name", "phone")),
    ClipSpec("clip-0009", "daniel",
             "alexa this is daniel play my morning playlist",
             "flac", 16000, 1, True, ("first_name",)),
    ClipSpec("clip-0010", "marcus",
             "computer this is marcus set a timer for ten minutes",
             "ogg", 48000, 1, False, ("first_name",)),
]

FORMAT_LABEL = {"wav": "WAV PCM16", "flac": "FLAC 16-bit", "mp3": "MP3 64 kbit/s",
                "ogg": "Ogg Vorbis"}


# --------------------------------------------------------------------------
# Deterministic helpers
# --------------------------------------------------------------------------
def uniform(rng: random.Random, lo: float, hi: float) -> float:
    # Only rng.random() has a stream guaranteed stable across Python versions.
    return lo + (hi - lo) * rng.random()


def require_espeak() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        sys.exit("ERROR: espeak-ng not found on PATH. Install it (e.g. "
                 "`apt-get install espeak-ng`) to regenerate the samples; the "
                 "generated audio is committed, so the pipeline itself does not need it.")
    return exe


def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # pragma: no cover - fallback to a system ffmpeg
        exe = shutil.which("ffmpeg")
        if exe is None:
            sys.exit("ERROR: ffmpeg not found (install imageio-ffmpeg or ffmpeg).")
        return exe


def synth_word(espeak: str, word: str, spk: Speaker, tmp: Path) -> np.ndarray:
    """Synthesise one word and return trimmed float32 mono audio at 22.05 kHz."""
    out = tmp / "word.wav"
    subprocess.run([espeak, "-v", spk.voice, "-s", str(spk.speed), "-p", str(spk.pitch),
                    "-w", str(out), word], check=True, capture_output=True)
    audio, sr = sf.read(out, dtype="float32", always_2d=False)
    if sr != ESPEAK_RATE or audio.ndim != 1:
        raise RuntimeError(f"unexpected espeak-ng output {sr} Hz ndim={audio.ndim}")
    return trim(audio, sr)


def trim(x: np.ndarray, sr: int) -> np.ndarray:
    """Cut leading/trailing silence (below -40 dB re peak), keep 5 ms, fade 3 ms."""
    peak = float(np.max(np.abs(x)))
    if peak <= 0:
        raise RuntimeError("espeak-ng produced silence")
    idx = np.flatnonzero(np.abs(x) > 0.01 * peak)
    pad = int(0.005 * sr)
    start = max(int(idx[0]) - pad, 0)
    end = min(int(idx[-1]) + 1 + pad, len(x))
    y = x[start:end].copy()
    fade = min(int(0.003 * sr), len(y) // 2)
    ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
    y[:fade] *= ramp
    y[len(y) - fade:] *= ramp[::-1]
    return y


def resample(x: np.ndarray, sr_out: int) -> np.ndarray:
    if sr_out == ESPEAK_RATE:
        return x
    return soxr.resample(x, ESPEAK_RATE, sr_out, quality="HQ").astype(np.float32)


def build_clip(espeak: str, spec: ClipSpec, rng: random.Random, tmp: Path):
    """Return (mono float32 audio at spec.rate, words with exact timings, duration_s)."""
    spk = SPEAKERS[spec.speaker]
    sr = spec.rate
    words = spec.transcript.split(" ")
    pieces: list[np.ndarray] = []
    timings = []
    pos = int(round(uniform(rng, *LEAD_RANGE) * sr))
    pieces.append(np.zeros(pos, dtype=np.float32))
    for i, w in enumerate(words):
        if i:
            gap = int(round(uniform(rng, *GAP_RANGE) * sr))
            pieces.append(np.zeros(gap, dtype=np.float32))
            pos += gap
        seg = resample(synth_word(espeak, w, spk, tmp), sr)
        timings.append({"word": w, "start_s": round(pos / sr, 3),
                        "end_s": round((pos + len(seg)) / sr, 3)})
        pieces.append(seg)
        pos += len(seg)
    trail = int(round(uniform(rng, *TRAIL_RANGE) * sr))
    pieces.append(np.zeros(trail, dtype=np.float32))
    audio = np.concatenate(pieces)
    audio *= PEAK_LEVEL / float(np.max(np.abs(audio)))
    # Seeded low-level hiss (legacy RandomState stream is frozen across numpy versions).
    noise_rng = np.random.RandomState(SEED + int(spec.clip_id[-4:]))
    audio = audio + (NOISE_STD * noise_rng.standard_normal(len(audio))).astype(np.float32)
    return audio.astype(np.float32), timings, len(audio) / sr


def write_audio(spec: ClipSpec, mono: np.ndarray, tmp: Path) -> Path:
    if spec.channels == 2:
        # Right channel slightly quieter so the two channels are not identical.
        data = np.stack([mono, 0.85 * mono], axis=1)
    else:
        data = mono
    data = np.clip(data, -1.0, 1.0)
    dest = AUDIO_DIR / f"{spec.clip_id}.{spec.fmt}"
    if spec.fmt == "wav":
        sf.write(dest, data, spec.rate, subtype="PCM_16", format="WAV")
    elif spec.fmt == "flac":
        sf.write(dest, data, spec.rate, subtype="PCM_16", format="FLAC")
    elif spec.fmt in ("mp3", "ogg"):
        src = tmp / "clip.wav"
        sf.write(src, data, spec.rate, subtype="PCM_16", format="WAV")
        codec = ["-c:a", "libmp3lame", "-b:a", "64k"] if spec.fmt == "mp3" else \
                ["-c:a", "libvorbis", "-q:a", "3"]
        subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
                        "-i", str(src), "-map_metadata", "-1", *codec,
                        "-fflags", "+bitexact", "-flags:a", "+bitexact",
                        str(dest)], check=True)
    else:
        raise ValueError(spec.fmt)
    return dest


def recorded_at(rng: random.Random) -> str:
    seconds_back = int(uniform(rng, 3600, 60 * 86400 - 3600))
    t = REFERENCE_TIME - dt.timedelta(seconds=seconds_back)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------
# Manifests
# --------------------------------------------------------------------------
FIELDS = ["clip_id", "audio_uri", "transcript", "words", "account_id", "first_name",
          "device_serial", "recorded_at", "locale", "wake_word_detected",
          "app_version", "device_type"]


def write_manifests(rows: list[dict]) -> None:
    rows = sorted(rows, key=lambda r: r["clip_id"])
    with open(HERE / "manifest.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps({k: r[k] for k in FIELDS}, ensure_ascii=False) + "\n")

    with open(HERE / "manifest.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(FIELDS)
        for r in rows:
            out = []
            for k in FIELDS:
                v = r[k]
                if k == "words":
                    v = json.dumps(v, ensure_ascii=False)
                elif isinstance(v, bool):
                    v = "true" if v else "false"
                out.append(v)
            w.writerow(out)

    import pyarrow as pa
    import pyarrow.parquet as pq
    word_t = pa.struct([("word", pa.string()), ("start_s", pa.float64()),
                        ("end_s", pa.float64())])
    schema = pa.schema([
        ("clip_id", pa.string()), ("audio_uri", pa.string()), ("transcript", pa.string()),
        ("words", pa.list_(word_t)), ("account_id", pa.string()),
        ("first_name", pa.string()), ("device_serial", pa.string()),
        ("recorded_at", pa.string()), ("locale", pa.string()),
        ("wake_word_detected", pa.bool_()), ("app_version", pa.string()),
        ("device_type", pa.string()),
    ])
    table = pa.Table.from_pylist([{k: r[k] for k in FIELDS} for r in rows], schema=schema)
    pq.write_table(table, HERE / "manifest.parquet", compression="zstd")


def write_readme(rows: list[dict], info: dict[str, dict]) -> None:
    lines = []
    for r in sorted(rows, key=lambda r: r["clip_id"]):
        spec = next(c for c in CLIPS if c.clip_id == r["clip_id"])
        i = info[r["clip_id"]]
        pii = ", ".join(spec.pii) if spec.pii else "none"
        lines.append(f"| {r['clip_id']} | {FORMAT_LABEL[spec.fmt]} | {spec.rate} | "
                     f"{spec.channels} | {i['duration']:.2f} | {SPEAKERS[spec.speaker].voice} | "
                     f"{len(r['words'])} | {str(r['wake_word_detected']).lower()} | {pii} | "
                     f"{r['transcript']} |")
    table = "\n".join(lines)
    text = README_TEMPLATE.format(table=table, seed=SEED)
    (HERE / "README.md").write_text(text, encoding="utf-8")


README_TEMPLATE = """\
# Synthetic sample clips

This folder holds ten short, **fully synthetic** voice-assistant style clips
with matching manifests. They are small test fixtures for the anonymization
pipeline (decoder, transcript/word-timing handling, PII detection and
redaction, metadata scrubbing) and for the examples in the documentation.

| File | Contents |
|------|----------|
| `audio/clip-00NN.*` | the audio clips (WAV, FLAC, MP3, Ogg Vorbis) |
| `manifest.jsonl` | one JSON object per clip |
| `manifest.csv` | same rows; `words` is a JSON-encoded string column, booleans are `true`/`false` |
| `manifest.parquet` | same rows; `words` is `list<struct<word: string, start_s: double, end_s: double>>` |
| `make_samples.py` | the script that generated everything in this folder |

## Manifest fields

`clip_id`, `audio_uri` (relative to the manifest), `transcript` (lower case,
no punctuation, numbers spoken as words), `words` (`word`, `start_s`, `end_s`
in seconds, 3 decimals, in transcript order), `account_id`, `first_name`,
`device_serial`, `recorded_at` (ISO 8601, UTC, within the 60 days before
2026-11-20), `locale` (`en-US` / `en-GB`), `wake_word_detected`, and the extra
metadata columns `app_version` and `device_type`.

## How they were made

`make_samples.py` synthesises **each word separately** with
[espeak-ng](https://github.com/espeak-ng/espeak-ng) (`espeak-ng -v VOICE -s
SPEED -p PITCH -w word.wav WORD`), trims each word's leading and trailing
silence (below -40 dB relative to its peak, keeping 5 ms and a 3 ms fade),
resamples it to the clip's sample rate with soxr, and concatenates the words
with 80-150 ms gaps plus 0.20-0.35 s leading and 0.25-0.45 s trailing
silence. A very quiet seeded hiss (about -66 dBFS) is added so the silence is
not digital zero. Because the clip is assembled sample by sample, the word
timings in the manifests are **exact** (to the sample, rounded to 1 ms) for the
lossless formats. For MP3 and Ogg Vorbis they are exact for the audio before
encoding; libsndfile 1.2.2 (`soundfile`) and ffmpeg both honour the encoder
delay/padding information and decode them to exactly the original length
and timeline (checked: word onsets line up within a few ms).

Five pseudo-speakers are made from different espeak-ng voices, pitches and
speeds (`en-us+f3`, `en-us+m3`, `en-gb-x-rp`, `en-gb+f2`, `en-us`). Two of
them (Jennifer and Marcus) are one household and share an `account_id`.

Regenerate with (from the repository root; needs espeak-ng, developed with
espeak-ng 1.51):

    python data/samples/make_samples.py          # generate and verify
    python data/samples/make_samples.py --check  # only verify the committed files

All randomness is seeded (seed `{seed}`) and MP3/Ogg are encoded by ffmpeg in
bit-exact mode, so with the same espeak-ng version the output is reproducible.
The script also checks that every file decodes with `soundfile`, that the
duration and word count match the manifest, and that the signal level is high
inside word intervals and low in the gaps.

## All personal data is fake

Every name, phone number, e-mail address, street address, account number and
device serial in the transcripts and manifests was **invented** for these
samples. None of it belongs to a real person, account or device:

* phone numbers use ranges reserved for fiction (US `555-01xx`, UK Ofcom drama
  range `07700 900xxx`);
* the e-mail domain is the reserved `example.com`;
* account ids (`ACCT-` + 10 digits) and 16-character device serials are made
  up, as are the names and the street address.

The voices are espeak-ng's formant synthesiser; no human voice was recorded.

## License

The clips and manifests are generated by this project's `make_samples.py` and
are released together with the project, under the project's license. They
are synthetic test data made with espeak-ng (GPL-3.0-or-later); espeak-ng is
only used as a tool to produce them. Its license covers the program, not the
speech it outputs, and no espeak-ng code or data files are included here.

## Clips

Duration in seconds; `pii` lists the kinds of (fake) personal data that are
*spoken* in the clip (every clip also has fake PII in its metadata columns).
The account number spoken in clip-0006 and the serial spoken in clip-0007 are
the same values as those clips' `account_id` / `device_serial` columns, and
the speaker's own `first_name` is spoken in seven of the ten clips, so
transcript redaction can be cross-checked against the metadata. clip-0005 has
no spoken PII. clip-0004 also names a third party (john smith).

| clip | format | rate (Hz) | channels | duration | voice | words | wake_word_detected | pii | transcript |
|------|--------|-----------|----------|----------|-------|-------|--------------------|-----|------------|
{table}
"""


# --------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------
def rms_db(x: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12)


def verify() -> dict[str, dict]:
    """Decode every clip and check it against the manifest. Returns per-clip info."""
    rows = [json.loads(line) for line in
            (HERE / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    import pyarrow.parquet as pq
    pq_rows = pq.read_table(HERE / "manifest.parquet").to_pylist()
    with open(HERE / "manifest.csv", encoding="utf-8", newline="") as f:
        csv_rows = list(csv.DictReader(f))
    assert len(rows) == len(pq_rows) == len(csv_rows) == len(CLIPS), "row count mismatch"
    problems = []
    info = {}
    for r, p, c in zip(rows, pq_rows, csv_rows):
        cid = r["clip_id"]
        assert list(r) == FIELDS, (cid, list(r))
        assert p == r, f"{cid}: parquet row differs"
        assert json.loads(c["words"]) == r["words"], f"{cid}: csv words differ"
        assert c["transcript"] == r["transcript"] and c["account_id"] == r["account_id"]
        spec = next(s for s in CLIPS if s.clip_id == cid)
        words = r["transcript"].split(" ")
        assert [w["word"] for w in r["words"]] == words, f"{cid}: words != transcript"
        path = HERE / r["audio_uri"]
        data, sr = sf.read(path, dtype="float32", always_2d=True)
        dur = data.shape[0] / sr
        if sr != spec.rate or data.shape[1] != spec.channels:
            problems.append(f"{cid}: got {sr} Hz x{data.shape[1]}")
        mono = data.mean(axis=1)
        last_end = r["words"][-1]["end_s"]
        trail = dur - last_end
        lead = r["words"][0]["start_s"]
        # MP3 decoders may add up to ~1 frame of padding; allow slack for lossy formats.
        slack = 0.06 if spec.fmt == "mp3" else 0.002
        if not (TRAIL_RANGE[0] - 0.001 <= trail <= TRAIL_RANGE[1] + slack):
            problems.append(f"{cid}: trailing silence {trail:.3f}s out of range")
        if not (LEAD_RANGE[0] - 0.001 <= lead <= LEAD_RANGE[1] + 0.001):
            problems.append(f"{cid}: leading silence {lead:.3f}s out of range")
        if not 2.0 <= dur <= 8.0:
            problems.append(f"{cid}: duration {dur:.2f}s not in 2-8 s")
        # Energy inside words vs in the gaps.
        word_db, gap_db = [], []
        bounds = [(0.0, r["words"][0]["start_s"])]
        for a, b in zip(r["words"], r["words"][1:]):
            bounds.append((a["end_s"], b["start_s"]))
        bounds.append((last_end, dur))
        for w in r["words"]:
            seg = mono[int(w["start_s"] * sr):int(w["end_s"] * sr)]
            word_db.append(rms_db(seg))
        for a, b in bounds:
            # Stay 10 ms away from word edges (fades, lossy codec smear).
            seg = mono[int((a + 0.01) * sr):int((b - 0.01) * sr)]
            if len(seg):
                gap_db.append(rms_db(seg))
        if min(word_db) < -40 or max(gap_db) > -50 or min(word_db) - max(gap_db) < 20:
            problems.append(f"{cid}: weak word/gap contrast words>={min(word_db):.1f} dB "
                            f"gaps<={max(gap_db):.1f} dB")
        info[cid] = {"duration": dur, "rate": sr, "channels": data.shape[1],
                     "min_word_db": min(word_db), "max_gap_db": max(gap_db),
                     "trail": trail, "bytes": path.stat().st_size}
    # Metadata sanity.
    accounts = [r["account_id"] for r in rows]
    assert len(set(accounts)) < len(accounts), "expected some shared account_id"
    for r in rows:
        assert len(r["device_serial"]) == 16 and r["device_serial"].isalnum() \
            and r["device_serial"] == r["device_serial"].upper()
        t = dt.datetime.strptime(r["recorded_at"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=dt.timezone.utc)
        assert REFERENCE_TIME - dt.timedelta(days=60) <= t < REFERENCE_TIME
    total = sum(p.stat().st_size for p in HERE.rglob("*") if p.is_file())
    if total > 2_000_000:
        problems.append(f"folder is {total} bytes (> 2 MB)")
    print(f"{'clip':10} {'sr':>6} {'ch':>2} {'dur':>5} {'trail':>5} {'word dB':>7} "
          f"{'gap dB':>7} {'bytes':>7}")
    for cid, i in info.items():
        print(f"{cid:10} {i['rate']:6d} {i['channels']:2d} {i['duration']:5.2f} "
              f"{i['trail']:5.3f} {i['min_word_db']:7.1f} {i['max_gap_db']:7.1f} "
              f"{i['bytes']:7d}")
    print(f"total folder size: {total} bytes")
    if problems:
        print("PROBLEMS:\n  " + "\n  ".join(problems), file=sys.stderr)
        sys.exit(1)
    print("verification OK")
    return info


# --------------------------------------------------------------------------
def generate() -> None:
    espeak = require_espeak()
    rng = random.Random(SEED)
    if AUDIO_DIR.exists():
        for p in AUDIO_DIR.iterdir():
            if p.name.startswith("clip-"):
                p.unlink()
    AUDIO_DIR.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        for spec in sorted(CLIPS, key=lambda c: c.clip_id):
            spk = SPEAKERS[spec.speaker]
            mono, words, dur = build_clip(espeak, spec, rng, tmp)
            dest = write_audio(spec, mono, tmp)
            rows.append({
                "clip_id": spec.clip_id,
                "audio_uri": dest.relative_to(HERE).as_posix(),
                "transcript": spec.transcript,
                "words": words,
                "account_id": spk.account_id,
                "first_name": spk.first_name,
                "device_serial": spk.device_serial,
                "recorded_at": recorded_at(rng),
                "locale": spk.locale,
                "wake_word_detected": spec.wake_word_detected,
                "app_version": spk.app_version,
                "device_type": spk.device_type,
            })
            print(f"wrote {dest.relative_to(HERE)} ({dur:.2f} s)")
    write_manifests(rows)
    # README table uses durations measured from the decoded files.
    info = verify()
    write_readme(rows, info)
    print("wrote manifest.jsonl, manifest.csv, manifest.parquet, README.md")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="only verify the existing files against the manifests")
    args = ap.parse_args()
    if args.check:
        verify()
    else:
        generate()


if __name__ == "__main__":
    main()
