"""The I/O floor: decode + encode + Parquet write, nothing else, one process.

In:  a workload manifest (``benchmarks.workload``), an output Parquet path.
Out: one Parquet file of FLAC-encoded audio, written in row groups of 256 clips (streaming, so
     memory stays flat); prints ``clips=N audio_s=S`` on the last line.
Fails: any clip error stops the script.

Decoding and encoding use the job's own functions (:mod:`transforms.audio_io`), so the floor is
what the job's audio I/O costs with every anonymisation step taken out.

    python -m benchmarks.floor --manifest M --output out.parquet
"""

from __future__ import annotations

import json
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.script import baseline_main

SCHEMA = pa.schema([("clip_id", pa.string()), ("audio", pa.binary()), ("duration_s", pa.float64())])
ROW_GROUP = 256


def run(manifest: str, output: str, rate: int = 16000) -> tuple[int, float]:
    from transforms import audio_io

    base = os.path.dirname(os.path.abspath(manifest))
    count, seconds = 0, 0.0
    batch: list[dict] = []
    with pq.ParquetWriter(output, SCHEMA, compression="snappy") as writer, open(manifest, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            clip = json.loads(line)
            samples = audio_io.load(os.path.join(base, clip["audio_uri"]), rate, 600.0)
            audio, _ = audio_io.encode(samples, rate, "flac")
            batch.append({"clip_id": clip["clip_id"], "audio": audio, "duration_s": len(samples) / rate})
            count += 1
            seconds += len(samples) / rate
            if len(batch) >= ROW_GROUP:
                writer.write_table(pa.Table.from_pylist(batch, SCHEMA))
                batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, SCHEMA))
    return count, seconds


def main(argv=None) -> int:
    return baseline_main(run, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
