"""Reading an input file's bytes exactly: decompressed by its suffix, and never silently cut short.

In:  a path on any Beam filesystem; ``.gz``, ``.bz2``, ``.xz``/``.lzma``, ``.zst``/``.zstd`` or
     ``.deflate`` (zlib) are decompressed — the suffixes of Beam's ``CompressionTypes.AUTO``.
Out: a binary stream (``io.BufferedReader``) of the file's content, to be used as a context manager.
Fails: :class:`TruncatedInputError` (an OSError) on a compressed stream that is corrupt or ends
     early; OSError from the filesystem.

Why not Beam's ``CompressedFile``: it returns end-of-file on a truncated or corrupt stream
instead of an error, so a cut-off ``optout.txt.gz`` would silently become a shorter list. The
standard library's readers and an explicit end-of-stream check below do raise.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib

COMPRESSED_SUFFIXES = (".gz", ".bz2", ".deflate", ".zst", ".zstd", ".xz", ".lzma")
_READ_BYTES = 1 << 20


class TruncatedInputError(OSError):
    """A compressed input that is corrupt or ends before its end-of-stream marker."""


def compression_suffix(path: str) -> str:
    """The compression suffix of ``path`` ('' when it has none)."""
    lower = path.lower()
    return next((suffix for suffix in COMPRESSED_SUFFIXES if lower.endswith(suffix)), "")


class _Inflating:
    """``read(n)`` over a decompressor object (zlib or zstandard) that must reach its end marker."""

    def __init__(self, raw, decompressor):
        self._raw = raw
        self._decompressor = decompressor
        self._buffer = b""
        self._done = False

    def read(self, size: int) -> bytes:
        while len(self._buffer) < size and not self._done:
            data = self._raw.read(_READ_BYTES)
            try:
                if data:
                    self._buffer += self._decompressor.decompress(data)
                    continue
                if not self._decompressor.eof:
                    raise TruncatedInputError("compressed input ends before its end-of-stream marker")
            except (zlib.error, ValueError) as exc:
                raise TruncatedInputError(f"compressed input is corrupt ({type(exc).__name__})") from None
            self._done = True
        chunk, self._buffer = self._buffer[:size], self._buffer[size:]
        return chunk


class _Stream(io.RawIOBase):
    """Raw I/O over anything with ``read(n)``; closing it closes every underlying handle."""

    def __init__(self, reader, *handles):
        super().__init__()
        self._reader = reader
        self._handles = (reader, *handles)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self._reader.read(len(buffer))
        except (EOFError, gzip.BadGzipFile, lzma.LZMAError, zlib.error) as exc:
            raise TruncatedInputError(f"compressed input is corrupt or cut short ({type(exc).__name__})") from None
        except OSError as exc:
            if "Invalid data stream" in str(exc):  # bz2
                raise TruncatedInputError("compressed input is corrupt (bz2)") from None
            raise
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            for handle in self._handles:
                close = getattr(handle, "close", None)
                if close:
                    close()
        super().close()


def open_input(path: str) -> io.BufferedReader:
    """The content of ``path``, decompressed by its suffix (see the module docstring)."""
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    raw = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
    suffix = compression_suffix(path)
    if suffix == ".gz":
        reader = gzip.GzipFile(fileobj=raw, mode="rb")
    elif suffix == ".bz2":
        reader = bz2.BZ2File(raw, mode="rb")
    elif suffix in (".xz", ".lzma"):
        reader = lzma.LZMAFile(raw, mode="rb")
    elif suffix == ".deflate":
        reader = _Inflating(raw, zlib.decompressobj())
    elif suffix:
        import zstandard

        reader = _Inflating(raw, zstandard.ZstdDecompressor(max_window_size=1 << 31).decompressobj())
    else:
        return io.BufferedReader(_Stream(raw), _READ_BYTES)
    return io.BufferedReader(_Stream(reader, raw), _READ_BYTES)
