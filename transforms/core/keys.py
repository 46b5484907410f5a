"""Where the pseudonym secrets come from, and keys derived from them.

In:  a key file (any Beam filesystem path, e.g. ``gs://bucket/keyring.json``), or the environment
     variable ``VOICEANON_PSEUDONYM_KEY``, or an explicit request for a throw-away key
     (``--ephemeral-key``). The secret is either
     - a keyring: JSON ``{"epochs": {"2026-07": "<hex>", "2027-01": "<hex>"}}`` — one independent
       key per pseudonym epoch. Destroying an epoch's key makes that epoch's pseudonyms, review
       ids, sampling and voice parameters unlinkable for good. This is the production form.
     - a single key (hex or raw bytes, at least 32 bytes): epoch keys are derived from it, which
       is convenient but means the single key links every epoch for as long as it exists.
Out: a picklable :class:`KeySource` that DoFns load in ``setup()`` (``keyring()``); ``derive_key``
     separates keys per purpose (pseudonyms, review ids, voice parameters, sampling) so one output
     reveals nothing about another.
Fails: :class:`KeyUnavailableError` when no source is given or the key is unusable — the job refuses to
     start. Keys never appear in ``repr``, logs, reports or error messages.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass, field

ENV_VAR = "VOICEANON_PSEUDONYM_KEY"
MIN_KEY_BYTES = 32


class KeyUnavailableError(RuntimeError):
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

    def keyring(self) -> Keyring:
        """The per-epoch keyring; raises KeyUnavailableError with a key-free message."""
        raw, where = self._raw()
        return parse_keyring(raw, where)

    def load(self) -> bytes:
        """A single key for purposes that are not per epoch; a keyring source has none."""
        raw, where = self._raw()
        if raw.strip().startswith(b"{"):
            raise KeyUnavailableError(f"{where} is a keyring; use keyring().key_for(epoch)")
        return _parse_key(raw, where)

    def _raw(self) -> tuple[bytes, str]:
        if self.kind == "ephemeral":
            assert self._ephemeral is not None
            return self._ephemeral, "ephemeral key"
        if self.kind == "env":
            raw = os.environ.get(self.ref, "")
            if not raw:
                raise KeyUnavailableError(f"environment variable {self.ref} is not set")
            return raw.encode(), f"environment variable {self.ref}"
        if self.kind == "file":
            from apache_beam.io.filesystems import FileSystems

            try:
                with FileSystems.open(self.ref) as handle:
                    raw = handle.read()
            except Exception as exc:  # noqa: BLE001 - any filesystem error means no key
                raise KeyUnavailableError(f"cannot read key file {self.ref}: {type(exc).__name__}") from None
            return raw, f"key file {self.ref}"
        raise KeyUnavailableError(f"unknown key source kind {self.kind!r}")


_EPOCH = re.compile(r"^\d{4}-\d{2}$")


class Keyring:
    """Per-epoch keys. ``key_for(epoch)`` raises KeyUnavailableError for an epoch whose key is gone."""

    def __init__(self, epochs: dict[str, bytes] | None = None, master: bytes | None = None):
        self._epochs = dict(epochs or {})
        self._master = master

    def __repr__(self) -> str:
        return f"Keyring(epochs={sorted(self._epochs)}, master={'yes' if self._master else 'no'})"

    @property
    def epochs(self) -> list[str]:
        return sorted(self._epochs)

    def key_for(self, epoch: str) -> bytes:
        if epoch in self._epochs:
            return self._epochs[epoch]
        if self._master is not None:
            return derive_key(self._master, f"epoch/{epoch}")
        raise KeyUnavailableError(f"no key for pseudonym epoch {epoch} in the keyring")


def parse_keyring(raw: bytes, where: str) -> Keyring:
    """A keyring from key-file bytes: JSON keyring, or a single key (hex or raw)."""
    text = raw.strip()
    if text.startswith(b"{"):
        try:
            data = json.loads(text)
            epochs = data["epochs"]
            if not isinstance(epochs, dict) or not epochs:
                raise ValueError
        except (ValueError, KeyError, TypeError):
            raise KeyUnavailableError(
                f'{where} is not a keyring of the form {{"epochs": {{"YYYY-MM": "<hex>"}}}}'
            ) from None
        keys = {}
        for epoch, value in epochs.items():
            if not _EPOCH.match(str(epoch)):
                raise KeyUnavailableError(f"{where}: epoch names must look like YYYY-MM")
            keys[str(epoch)] = _parse_key(str(value).encode(), f"{where} epoch {epoch}")
        return Keyring(epochs=keys)
    return Keyring(master=_parse_key(raw, where))


def _parse_key(raw: bytes, where: str) -> bytes:
    text = raw.strip()
    try:
        key = binascii.unhexlify(text)
    except (binascii.Error, ValueError):
        key = raw
    if len(key) < MIN_KEY_BYTES:
        raise KeyUnavailableError(f"{where} holds a key shorter than {MIN_KEY_BYTES} bytes")
    return key


def resolve_key_source(key_file: str | None, ephemeral: bool, environ=os.environ) -> KeySource:
    """Pick the key source from CLI flags and the environment, and check it loads.

    Exactly one of: a key file, the environment variable, or ``--ephemeral-key``.
    """
    chosen = [name for name, on in (("--key-file", bool(key_file)), ("--ephemeral-key", ephemeral)) if on]
    if len(chosen) > 1:
        raise KeyUnavailableError("use either --key-file or --ephemeral-key, not both")
    if key_file:
        source = KeySource("file", key_file)
    elif ephemeral:
        source = KeySource("ephemeral", "", secrets.token_hex(MIN_KEY_BYTES).encode())
    elif environ.get(ENV_VAR):
        source = KeySource("env", ENV_VAR)
    else:
        raise KeyUnavailableError(
            f"no pseudonym key: pass --key-file PATH, set {ENV_VAR}, or pass --ephemeral-key "
            "for a throw-away key (pseudonyms then change every run)"
        )
    source.keyring()  # fail closed before anything runs
    return source


def derive_key(master: bytes, purpose: str) -> bytes:
    """A separate key per purpose (HMAC-SHA256 as a PRF over the purpose label)."""
    return hmac.new(master, b"voiceanon/" + purpose.encode(), hashlib.sha256).digest()


def keyed_hex(key: bytes, message: str, hex_chars: int = 32) -> str:
    """HMAC-SHA256 of ``message`` under ``key``, as ``hex_chars`` hex digits."""
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()[:hex_chars]
