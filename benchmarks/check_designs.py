"""The leak check's id search, by design: what a scanner must hold and how fast it scans.

In:  ``--manifest M`` (any manifest the job reads), ``--mb N`` megabytes of random bytes and of
     reviewer-like text to scan, ``--shards 1,4`` needle shard counts for the Aho-Corasick design.
Out: a table on stdout, one line per design, with the ``uptime`` load:

     - *automaton, all ids* (the launcher check, :mod:`pipeline.verify`): every id in two
       Aho-Corasick automata in one process; RSS it adds, build time, scan rate.
     - *automaton, S shards*: the ids split by hash over S automata (each worker holds one);
       every text must meet every shard, so the scan work is S times one pass (or the text is
       shuffled S times).
     - *hash sketch + keyed join* (:mod:`pipeline.leak_check`): a scanner holds 8 bytes per id
       (sorted hashes of whole ids and their first characters, with a 2 MB bitmap each) and
       probes only spans whose hash is an id's; the ids themselves meet the probes in a join.
Fails: a manifest that cannot be read stops it with the reader's error.

    python -m benchmarks.check_designs --manifest M --mb 32 --shards 1,4
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np


def _mib(n: float) -> float:
    return n / (1 << 20)


def _rows(manifest: str) -> list[dict]:
    from pipeline.verify import read_manifest_rows

    keep = ("account_id", "device_serial")
    return [{k: r.get(k) for k in keep} for r in read_manifest_rows(manifest) if isinstance(r, dict)]


def _payloads(mb: int, seed: int = 7) -> tuple[bytes, list[str]]:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=mb << 20, dtype=np.uint8).tobytes()
    words = ["alexa", "play", "some", "jazz", "call", "<person>", "at", "five", "the", "lights", "tomorrow"]
    texts = [" ".join(rng.choice(words, size=12)) for _ in range((mb << 20) // 64)]
    return data, texts


def automaton_design(rows: list[dict], data: bytes, texts: list[str], shards: int) -> dict:
    """Ids split by hash over ``shards`` automata; every byte and text scanned by each."""
    from pipeline.verify import needles_from_rows

    started = time.perf_counter()
    parts = [
        needles_from_rows([r if hash(str(r.get("account_id"))) % shards == s else {} for r in rows])
        for s in range(shards)
    ]
    built = time.perf_counter() - started
    # what one worker holds: the largest shard's two automata (pyahocorasick's own count of its bytes)
    held = max(sum(a.get_stats()["total_size"] for a in (p.ids, p.raw_ids) if a is not None) for p in parts)
    started = time.perf_counter()
    lowered = data.decode("latin-1").lower()
    for part in parts:
        if part.raw_ids is None:
            continue
        for _ in part.raw_ids.iter(lowered):
            pass
        for text in texts:
            for _ in part.ids.iter(text):
                pass
    scanned = time.perf_counter() - started
    ids = 2 * len(rows) / shards
    return {
        "design": f"automaton, {shards} shard(s)",
        "per_worker": held,
        "ids": ids,
        "build_s": built,
        "scan_s": scanned,
    }


def sketch_design(rows: list[dict], data: bytes, texts: list[str]) -> dict:
    from pipeline.leak_keys import batch_probes, build_sketch, byte_probes, row_needles, sketch_entry

    started = time.perf_counter()
    entries = [e for n, r in enumerate(rows, 1) for e in row_needles(n, r, frozenset(), frozenset(), None)[0]]
    sketch = build_sketch(e for entry in entries if (e := sketch_entry(*entry)))
    built = time.perf_counter() - started
    held = sum(a.nbytes for a in (sketch.keyed.full, sketch.raw.full))
    held += sum(h.nbytes + b.nbytes for ids in (sketch.keyed, sketch.raw) for h, b in ids.prefixes.values())
    started = time.perf_counter()
    list(byte_probes(data, sketch, "f", "bytes"))
    for first in range(0, len(texts), 256):
        batch = texts[first : first + 256]
        list(batch_probes(batch, sketch, "f", ["t"] * len(batch), (), [[]] * len(batch), names=False))
    scanned = time.perf_counter() - started
    ids = 2 * len(rows)
    return {"design": "hash sketch + keyed join", "per_worker": held, "ids": ids, "build_s": built, "scan_s": scanned}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--mb", type=int, default=32, help="megabytes of random bytes (and of text) to scan")
    parser.add_argument("--shards", default="1,4")
    args = parser.parse_args(argv)
    rows = _rows(args.manifest)
    data, texts = _payloads(args.mb)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {len(rows)} manifest rows; ")
    print(f"scanning {args.mb} MB of random bytes and {len(texts)} texts ({args.mb} MB)")
    results = [sketch_design(rows, data, texts)]
    results += [automaton_design(rows, data, texts, int(s)) for s in args.shards.split(",") if s]
    print(f"{'design':<28} {'held per worker':>16} {'per id':>8} {'build s':>8} {'scan s':>8}")
    for r in results:
        per_id = r["per_worker"] / max(1.0, r["ids"])
        print(
            f"{r['design']:<28} {_mib(r['per_worker']):>12.1f} MiB {per_id:>6.0f} B "
            f"{r['build_s']:>8.1f} {r['scan_s']:>8.1f}"
        )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
