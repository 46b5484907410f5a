"""The one way this project opens a Parquet file for reading: pyarrow's own filesystems.

Local paths and ``gs://`` (and the other schemes pyarrow knows: ``s3://``, ``hdfs://``) are
opened by pyarrow natively. pyarrow's reader over a Python file object (a Beam ``FileSystems``
handle) aborted the interpreter at exit (exit 134) in this project's runs, so no reader here
takes one: a scheme pyarrow does not know is read through Beam into memory first.
"""

from __future__ import annotations

import os


def open_parquet(path: str):
    """A ``pyarrow.parquet.ParquetFile`` for ``path`` (use it as a context manager)."""
    import pyarrow as pa
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    if "://" not in path:
        return pq.ParquetFile(os.path.abspath(path))
    try:
        filesystem, inner = pafs.FileSystem.from_uri(path)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        from apache_beam.io.filesystems import FileSystems

        with FileSystems.open(path) as handle:
            return pq.ParquetFile(pa.BufferReader(handle.read()))
    return pq.ParquetFile(inner, filesystem=filesystem)


def iter_batches(path: str, rows: int, columns=None):
    """Record batches of ``rows`` rows, read on this thread only."""
    with open_parquet(path) as parquet:
        yield from parquet.iter_batches(batch_size=rows, columns=columns, use_threads=False)


def num_rows(path: str) -> int:
    """Row count from the footer; no page is read."""
    with open_parquet(path) as parquet:
        return parquet.metadata.num_rows
