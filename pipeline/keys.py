"""Where the pseudonym secret comes from, and keys derived from it.

In:  a key file (any Beam filesystem path, e.g. ``gs://bucket/key``; hex or raw bytes, at least
     32 bytes), or the environment variable ``VOICEANON_PSEUDONYM_KEY`` (hex), or an explicit
     request for a throw-away key (``--ephemeral-key``).
Out: a picklable :class:`KeySource` that DoFns load in ``setup()``; ``derive_key`` separates
     keys per purpose (pseudonyms, review ids, voice parameters) so one output reveals nothing
     about another.
Fails: :class:`KeyError_` when no source is given or the key is unusable — the job refuses to
     start. Keys never appear in ``repr``, logs, reports or error messages.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field

ENV_VAR = "VOICEANON_PSEUDONYM_KEY"
MIN_KEY_BYTES = 32


class KeyError_(RuntimeError):
    """No usable pseudonym key. The message never contains key material."""


@dataclass(frozen=True)
class KeySource:
    """Describes how to obtain the secret; holds key bytes only for an ephemeral key.

    The ephemeral key travels inside the pickled pipeline (it must: every worker needs the same
    key within one run). It exists for laptop and test runs; production runs use a key file.
    """

    kind: str  # "file" | "env" | "ephemeral"
    ref: str = ""
    _ephemeral: bytes | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        return f"KeySource(kind={self.kind!r}, ref={self.ref!r})"

    def load(self) -> bytes:
        """The key bytes; raises KeyError_ with a key-free message."""
        if self.kind == "ephemeral":
            assert self._ephemeral is not None
            return self._ephemeral
        if self.kind == "env":
            raw = os.environ.get(self.ref, "")
            if not raw:
                raise KeyError_(f"environment variable {self.ref} is not set")
            return _parse_key(raw.encode(), f"environment variable {self.ref}")
        if self.kind == "file":
            from apache_beam.io.filesystems import FileSystems

            try:
                with FileSystems.open(self.ref) as handle:
                    raw = handle.read()
            except Exception as exc:  # noqa: BLE001 - any filesystem error means no key
                raise KeyError_(f"cannot read key file {self.ref}: {type(exc).__name__}") from None
            return _parse_key(raw, f"key file {self.ref}")
        raise KeyError_(f"unknown key source kind {self.kind!r}")


def _parse_key(raw: bytes, where: str) -> bytes:
    text = raw.strip()
    try:
        key = binascii.unhexlify(text)
    except (binascii.Error, ValueError):
        key = raw
    if len(key) < MIN_KEY_BYTES:
        raise KeyError_(f"{where} holds a key shorter than {MIN_KEY_BYTES} bytes")
    return key


def resolve_key_source(key_file: str | None, ephemeral: bool, environ=os.environ) -> KeySource:
    """Pick the key source from CLI flags and the environment, and check it loads.

    Exactly one of: a key file, the environment variable, or ``--ephemeral-key``.
    """
    chosen = [name for name, on in (("--key-file", bool(key_file)), ("--ephemeral-key", ephemeral)) if on]
    if len(chosen) > 1:
        raise KeyError_("use either --key-file or --ephemeral-key, not both")
    if key_file:
        source = KeySource("file", key_file)
    elif ephemeral:
        source = KeySource("ephemeral", "", secrets.token_bytes(MIN_KEY_BYTES))
    elif environ.get(ENV_VAR):
        source = KeySource("env", ENV_VAR)
    else:
        raise KeyError_(
            f"no pseudonym key: pass --key-file PATH, set {ENV_VAR}, or pass --ephemeral-key "
            "for a throw-away key (pseudonyms then change every run)"
        )
    source.load()  # fail closed before anything runs
    return source


def derive_key(master: bytes, purpose: str) -> bytes:
    """A separate key per purpose (HMAC-SHA256 as a PRF over the purpose label)."""
    return hmac.new(master, b"voiceanon/" + purpose.encode(), hashlib.sha256).digest()


def keyed_hex(key: bytes, message: str, hex_chars: int = 32) -> str:
    """HMAC-SHA256 of ``message`` under ``key``, as ``hex_chars`` hex digits."""
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()[:hex_chars]
