"""Redacted transcript → HTML with entity tags highlighted, plus consistency problems.

In:  a redacted transcript and its entity spans (``{type, start, end}``, character offsets into
     that transcript).
Out: escaped HTML (``markupsafe.Markup``) in which each span is a ``<mark class="ent">`` and any
     ``<TAG>``-shaped text no span accounts for is a ``<mark class="ent untracked">``; and a list
     of problems (span out of range, overlapping, or not covering its ``<TYPE>`` tag).
Fails: never; a bad span is reported as a problem and left unhighlighted.

A problem message never quotes the transcript: it names the entity's index and type only.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

TAG = re.compile(r"<[A-Z][A-Z0-9_]*>")


def _mark(text: str, entity_type: str, extra_class: str = "") -> Markup:
    cls = "ent" + (f" {extra_class}" if extra_class else "")
    return Markup('<mark class="{}" data-type="{}" title="{}">{}</mark>').format(cls, entity_type, entity_type, text)


def mark_transcript(text: str, entities: list[dict]) -> tuple[Markup, list[str]]:
    """Highlight entity spans and untracked tags; return ``(html, problems)``."""
    problems: list[str] = []
    spans: list[tuple[int, int, str, str]] = []  # start, end, type, extra class
    last_end = 0
    ordered = sorted(enumerate(entities), key=lambda item: (item[1]["start"], item[1]["end"]))
    for number, entity in ordered:
        start, end, kind = int(entity["start"]), int(entity["end"]), str(entity["type"])
        label = f"entity {number + 1} ({kind})"
        if not 0 <= start < end <= len(text):
            problems.append(f"{label}: offsets {start}-{end} outside the transcript (length {len(text)})")
            continue
        if start < last_end:
            problems.append(f"{label}: overlaps the previous entity")
            continue
        if text[start:end] != f"<{kind}>":
            problems.append(f"{label}: span does not cover a <{kind}> tag")
        spans.append((start, end, kind, ""))
        last_end = end
    covered = [(s, e) for s, e, _, _ in spans]
    for match in TAG.finditer(text):
        if not any(s <= match.start() and match.end() <= e for s, e in covered):
            if any(s < match.end() and match.start() < e for s, e in covered):
                continue  # partly inside a (reported) mismatched span; do not nest marks
            spans.append((match.start(), match.end(), match.group()[1:-1], "untracked"))
            problems.append(f"tag {match.group()} at {match.start()} has no entity record")
    spans.sort()
    parts: list[Markup] = []
    position = 0
    for start, end, kind, extra in spans:
        parts.append(escape(text[position:start]))
        parts.append(_mark(text[start:end], kind, extra))
        position = end
    parts.append(escape(text[position:]))
    return Markup("").join(parts), problems
