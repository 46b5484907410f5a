"""The watermark key: where it comes from, and what is derived from it.

In:  the environment variable ``VOICEANON_WATERMARK_KEY`` or a key file (``watermark.key_file`` in
     the job config; ``--key-file`` of ``python -m pipeline trace``): a hex key of at least 32 bytes,
     the same form as a single pseudonym key. Without either, the job's own key source.
Out: a picklable :class:`WatermarkKey` whose ``load()`` gives the key bytes in a worker's
     ``setup()``; :func:`run_tag` (the 23-bit run tag the mark carries) and :func:`batch_of`
     (a clip's reviewer batch).
Fails: :class:`transforms.core.keys.KeyUnavailableError`, with a message naming no key material.

Why its own key, and how long it lives. Pseudonym keys are destroyed at the end of their epoch so
that old pseudonyms become unlinkable; a leaked clip must stay traceable for as long as the audit
trail is kept (years). So the watermark key is separate — kind ``file``/``env`` — and is kept, and
destroyed, with the audit trail. Destroying it makes every mark made under it unreadable: the
clips stay marked, but nobody, us included, can say which run or batch a clip came from any more,
and nobody can forge a mark under it either. It reveals nothing about speakers: the payload names
a run and a batch, never a speaker, a pseudonym or a clip.

Fallbacks, recorded as the key's ``kind``: with no watermark key, a job run with a single hex key
derives it under the label ``watermark`` (kind ``derived``: that single key must then be kept as
long as the audit trail); a job run with a keyring or ``--ephemeral-key`` gets a throw-away key
(kind ``ephemeral``): its clips are marked, but nobody can trace them after the run.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field

from transforms.core.keys import KeySource, KeyUnavailableError, _parse_key, derive_key
from transforms.watermark.code import MAX_BATCHES, TAG_BITS

ENV_VAR = "VOICEANON_WATERMARK_KEY"
LABEL = "watermark"
KINDS = ("file", "env", "derived", "ephemeral")


@dataclass(frozen=True)
class WatermarkKey:
    """How to obtain the watermark key; holds bytes only for an ephemeral key."""

    kind: str  # one of KINDS
    ref: str = ""
    job_key: KeySource | None = None
    _ephemeral: bytes | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        return f"WatermarkKey(kind={self.kind!r}, ref={self.ref!r})"

    def load(self) -> bytes:
        if self.kind == "ephemeral":
            assert self._ephemeral is not None
            return self._ephemeral
        if self.kind == "derived":
            assert self.job_key is not None
            return derive_key(self.job_key.load(), LABEL)
        if self.kind == "env":
            raw = os.environ.get(self.ref, "")
            if not raw:
                raise KeyUnavailableError(f"environment variable {self.ref} is not set")
            return _parse_key(raw.encode(), f"environment variable {self.ref}")
        if self.kind == "file":
            return read_key_file(self.ref)
        raise KeyUnavailableError(f"unknown watermark key kind {self.kind!r}")


def read_key_file(path: str) -> bytes:
    """A hex key from a file on any Beam filesystem (the message never shows the value)."""
    from apache_beam.io.filesystems import FileSystems

    try:
        with FileSystems.open(path) as handle:
            raw = handle.read()
    except Exception as exc:  # noqa: BLE001 - any filesystem error means no key
        raise KeyUnavailableError(f"cannot read watermark key file {path}: {type(exc).__name__}") from None
    if raw.strip().startswith(b"{"):
        raise KeyUnavailableError(f"{path} is a keyring; the watermark key is a single hex key")
    return _parse_key(raw, f"watermark key file {path}")


def resolve_watermark_key(key_file: str, job_key: KeySource | None, environ=os.environ) -> WatermarkKey:
    """The watermark key source for a run (see the module docstring), checked to load."""
    if key_file:
        chosen = WatermarkKey("file", key_file)
    elif environ.get(ENV_VAR):
        chosen = WatermarkKey("env", ENV_VAR)
    elif job_key is not None and job_key.kind != "ephemeral" and _is_single_key(job_key):
        chosen = WatermarkKey("derived", "", job_key)
    else:
        chosen = WatermarkKey("ephemeral", "", None, secrets.token_bytes(32))
    chosen.load()
    return chosen


def _is_single_key(job_key: KeySource) -> bool:
    try:
        job_key.load()
    except KeyUnavailableError:
        return False  # a keyring: no key outlives its epoch to derive from
    return True


def run_tag(key: bytes, run_id: str) -> int:
    """The run's 23-bit tag: a keyed hash of its run id (looked up in the audit trail when traced)."""
    digest = hmac.new(key, b"voiceanon/watermark/run/" + run_id.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big") >> (32 - TAG_BITS)


def batch_of(key: bytes, run_id: str, clip_id: str, batches: int) -> int:
    """A clip's reviewer batch in ``0..batches-1``: a keyed hash of run and clip, so batches are
    balanced, stable across a rerun of the same run id, and say nothing about the clip."""
    if not 1 <= batches <= MAX_BATCHES:
        raise ValueError(f"batches must be in 1..{MAX_BATCHES}")
    digest = hmac.new(key, f"voiceanon/watermark/batch/{run_id}\x1f{clip_id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % batches
