"""The naive baseline: the script a user would write by hand, one clip at a time, one process.

In:  a workload manifest (``benchmarks.workload``), an output Parquet path.
Out: one Parquet file (pandas ``to_parquet``) with disguised FLAC audio and redacted transcripts;
     prints ``clips=N audio_s=S`` on the last line.
Fails: any clip error stops the script (as a hand-written loop would).

Steps per clip: pydub load (ffmpeg from the ``imageio-ffmpeg`` wheel) → mono 16 kHz → pyworld
harvest + cheaptrick + d4c → F0 × 2^(4/12) → synthesize → Presidio ``analyze`` on this one
transcript → ``anonymize``. Presidio uses the project's own YAML (same spaCy model, same
recognizers), so the comparison measures how the work is organised, not which model is used.

    python -m benchmarks.naive --manifest M --output out.parquet
"""

from __future__ import annotations

import io
import json
import os
import sys
import warnings

import numpy as np

from benchmarks.script import baseline_main

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESIDIO = os.path.join(REPO, "configs", "presidio")


def run(manifest: str, output: str, shift_semitones: float = 4.0) -> tuple[int, float]:
    import imageio_ffmpeg
    import pandas as pd
    import pyworld
    import soundfile as sf
    from presidio_analyzer import AnalyzerEngineProvider
    from presidio_anonymizer import AnonymizerEngine

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        from pydub import AudioSegment
    AudioSegment.converter = imageio_ffmpeg.get_ffmpeg_exe()

    from transforms.transcript import configure_tldextract_offline  # no network on this machine

    configure_tldextract_offline()
    analyzer = AnalyzerEngineProvider(
        os.path.join(PRESIDIO, "analyzer.yaml"),
        os.path.join(PRESIDIO, "nlp.yaml"),
        os.path.join(PRESIDIO, "recognizers.yaml"),
    ).create_engine()
    anonymizer = AnonymizerEngine()

    base = os.path.dirname(os.path.abspath(manifest))
    rows, seconds = [], 0.0
    with open(manifest, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            clip = json.loads(line)
            path = os.path.join(base, clip["audio_uri"])
            fmt = os.path.splitext(path)[1][1:]
            # codec given: pydub then skips its ffprobe call (no ffprobe in the ffmpeg wheel; also
            # the generous choice for the baseline — one fewer process per clip).
            segment = AudioSegment.from_file(path, format=fmt, codec=fmt)
            segment = segment.set_channels(1).set_frame_rate(16000)
            x = np.array(segment.get_array_of_samples(), dtype=np.float64) / float(1 << (8 * segment.sample_width - 1))
            f0, times = pyworld.harvest(x, 16000)
            envelope = pyworld.cheaptrick(x, f0, times, 16000)
            aperiodicity = pyworld.d4c(x, f0, times, 16000)
            y = pyworld.synthesize(f0 * 2.0 ** (shift_semitones / 12.0), envelope, aperiodicity, 16000)
            y = y / max(1e-6, float(np.max(np.abs(y)))) * 0.89
            buffer = io.BytesIO()
            sf.write(buffer, y, 16000, format="FLAC", subtype="PCM_16")
            results = analyzer.analyze(text=clip["transcript"], language="en")
            redacted = anonymizer.anonymize(text=clip["transcript"], analyzer_results=results).text
            seconds += len(x) / 16000
            rows.append({"clip_id": clip["clip_id"], "audio": buffer.getvalue(), "transcript": redacted})
    pd.DataFrame(rows).to_parquet(output)
    return len(rows), seconds


def main(argv=None) -> int:
    return baseline_main(run, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
