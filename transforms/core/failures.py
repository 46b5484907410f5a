"""Turning exceptions into PII-free failure records.

In:  an exception raised while a stage handled one clip (or one raw manifest row).
Out: a :class:`transforms.core.records.Failure` with clip id, stage, error type and a sanitised message.

Expected problems raise :class:`ClipError` with a message we wrote ourselves. For anything else
the library's message is scrubbed: the clip's own identifiers, every word of its transcript,
long digit runs, e-mail-like and path-like tokens are removed and the text is cut short. The
raw audio and transcript are never part of a failure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from transforms.core.records import Failure

MAX_MESSAGE_CHARS = 200
_EMAIL = re.compile(r"\S+@\S+")
_PATHISH = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*://|/)[^\s'\"]*")
_DIGITS = re.compile(r"\d{3,}")
_WORD = re.compile(r"\w+", re.UNICODE)


class ClipError(Exception):
    """An expected, per-clip problem. ``message`` must not contain clip data."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def scrub(text: str, sensitive: Iterable[str] = (), transcript: str = "") -> str:
    """Remove anything that could be clip data from a library error message."""
    for value in sorted((v for v in sensitive if v), key=len, reverse=True):
        text = re.sub(re.escape(value), "<redacted>", text, flags=re.IGNORECASE)
    text = _EMAIL.sub("<redacted>", text)
    text = _PATHISH.sub("<path>", text)
    text = _DIGITS.sub("#", text)
    if transcript:
        words = {w.lower() for w in _WORD.findall(transcript) if len(w) > 1}
        text = _WORD.sub(lambda m: "<redacted>" if m.group(0).lower() in words else m.group(0), text)
    text = " ".join(text.split())
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[: MAX_MESSAGE_CHARS - 1] + "…"
    return text


def failure_from(
    exc: BaseException,
    stage: str,
    clip_id: str | None,
    sensitive: Iterable[str] = (),
    transcript: str = "",
) -> Failure:
    """A failure record for ``exc``; the message is ours or scrubbed."""
    if isinstance(exc, ClipError):
        return Failure(clip_id or "", stage, exc.code, exc.message)
    message = scrub(str(exc), sensitive, transcript)
    return Failure(clip_id or "", stage, type(exc).__name__, message)
