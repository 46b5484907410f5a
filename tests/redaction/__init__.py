"""Tests of transforms/redaction: recognizers one module each, word lists, the detector's span helpers."""


def found(results, text: str) -> list[str]:
    """The texts of the results' spans, sorted."""
    return sorted(text[r.start : r.end] for r in results)
