"""Where the pseudonym secrets come from, and keys derived from them.

In:  a key file (any Beam filesystem path, e.g. ``gs://bucket/keyring.json``), or the environment
     variable ``VOICEANON_PSEUDONYM_KEY``, or an explicit request for a throw-away key
     (``--ephemeral-key``). The secret is either
     - a keyring: JSON ``{"epochs": {"2026-07": "<hex>", "2027-01": "<hex>"}}`` — one independent
       key per pseudonym epoch. Destroying an epoch's key makes that epoch's pseudonyms, review
       ids, sampling and voice parameters unlinkable for good. This is the production form.
     - a single hex key (at least 32 bytes = 64 hex digits; whitespace around it ignored): epoch keys
       are derived from it, which is convenient but means the single key links every epoch for as
       long as it exists. Nothing else (a passphrase, raw bytes, a truncated hex string, a key whose
       bytes are all the same) is accepted.
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
import stat
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


_HEX = re.compile(rb"^[0-9a-fA-F]+$")
# Whitespace around a key (a trailing newline, CRLF, spaces) is ignored everywhere — file, environment
# variable, keyring values — and nowhere else: a key with whitespace inside is refused.
_AROUND = b" \t\r\n\x0b\x0c"


def parse_keyring(raw: bytes, where: str) -> Keyring:
    """A keyring from key-file bytes: exactly one of the documented forms — a JSON keyring
    ``{"epochs": {"YYYY-MM": "<hex>", ...}}``, or a single hex key of at least 32 bytes."""
    text = raw.strip(_AROUND)
    if text.startswith(b"{"):
        try:
            data = json.loads(text)
            epochs = data["epochs"]
            if set(data) != {"epochs"} or not isinstance(epochs, dict) or not epochs:
                raise ValueError
        except (ValueError, KeyError, TypeError):
            raise KeyUnavailableError(
                f'{where} is not a keyring of the form {{"epochs": {{"YYYY-MM": "<hex>"}}}}'
            ) from None
        keys = {}
        for epoch, value in epochs.items():
            if not _EPOCH.match(str(epoch)):
                raise KeyUnavailableError(f"{where}: epoch names must look like YYYY-MM")
            if not isinstance(value, str):
                raise KeyUnavailableError(f"{where} epoch {epoch}: the key must be a hex string")
            keys[str(epoch)] = _parse_key(value.encode(), f"{where} epoch {epoch}")
        return Keyring(epochs=keys)
    return Keyring(master=_parse_key(raw, where))


def _parse_key(raw: bytes, where: str) -> bytes:
    """A hex key of at least MIN_KEY_BYTES bytes; anything else (a passphrase, raw bytes, a hex
    string with a character missing or whitespace inside, a key whose bytes are all the same) is
    refused. The message never shows the value."""
    text = raw.strip(_AROUND)
    if not _HEX.match(text) or len(text) % 2:
        raise KeyUnavailableError(
            f"{where} is not a hex key (an even number of 0-9/a-f digits, at least {2 * MIN_KEY_BYTES}) "
            "nor a keyring JSON"
        )
    key = binascii.unhexlify(text)
    if len(key) < MIN_KEY_BYTES:
        raise KeyUnavailableError(f"{where} holds a key shorter than {MIN_KEY_BYTES} bytes")
    if len(set(key)) == 1:
        raise KeyUnavailableError(f"{where} holds a trivial key (every byte the same); generate a random one")
    return key


def key_file_exposure(path: str) -> str | None:
    """'world' or 'group' when a local key file can be read by other users (as ssh checks), else None."""
    if "://" in path:
        return None  # object stores: access is the bucket's IAM, not file modes
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None  # unreadable files are refused when the key is loaded
    if mode & stat.S_IROTH:
        return "world"
    if mode & stat.S_IRGRP:
        return "group"
    return None


def resolve_key_source(
    key_file: str | None, ephemeral: bool, environ=os.environ, exposed_key_file: str = "warn"
) -> KeySource:
    """Pick the key source from CLI flags and the environment, and check it loads.

    Exactly one of: a key file, the environment variable, or ``--ephemeral-key``. A local key file
    that other users can read is refused when ``exposed_key_file`` is ``"refuse"``; with ``"warn"``
    the caller reports it (``key_file_exposure``).
    """
    chosen = [name for name, on in (("--key-file", bool(key_file)), ("--ephemeral-key", ephemeral)) if on]
    if len(chosen) > 1:
        raise KeyUnavailableError("use either --key-file or --ephemeral-key, not both")
    if key_file:
        exposure = key_file_exposure(key_file)
        if exposure and exposed_key_file == "refuse":
            raise KeyUnavailableError(
                f"key file {key_file} is readable by {'every user' if exposure == 'world' else 'its group'}; "
                "chmod 600 it (identifiers.exposed_key_file: refuse)"
            )
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
