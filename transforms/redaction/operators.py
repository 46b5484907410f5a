"""Per-entity redaction operators, applied with Presidio's AnonymizerEngine.

In:  the original transcript, non-overlapping detected spans (original offsets), the operator
     named for each entity type in config (``tag`` | ``surrogate`` | ``mask`` | ``hash``), the
     clip id (seeds the surrogates) and, for ``hash``, a key.
Out: the redacted text and the spans of the replacements in it.
Fails: ``ValueError`` for an unknown operator; ``hash`` without a key raises (fail closed).

``surrogate`` replaces a value by a Faker value of the same kind, consistent within one clip (the
same name becomes the same fake name every time it is said) and different across clips;
``hash`` writes ``<TYPE_1a2b3c4d>`` from HMAC-SHA256 under a key derived from the job secret, so a
value can be linked across clips of one run without being readable.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence

from transforms.core.records import Span

# Faker providers used for surrogates; other entity types fall back to a tag.
_SURROGATES = {
    "PERSON": "first_name",
    "LOCATION": "city",
    "PHONE_NUMBER": "msisdn",
    "EMAIL_ADDRESS": "email",
    "STREET_ADDRESS": "street_address",
    "ORGANIZATION": "company",
    "CREDIT_CARD": "credit_card_number",
    "DATE_TIME": "date",
}


def operator_for(operators: Mapping[str, str], entity: str) -> str:
    return operators.get(entity, operators.get("default", "tag"))


class _Surrogates:
    """Fake values for one clip: same (type, value) → same fake value."""

    def __init__(self, seed: str):
        from faker import Faker

        self._faker = Faker("en_US")
        self._faker.seed_instance(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big"))
        self._memo: dict[tuple[str, str], str] = {}

    def get(self, entity: str, value: str) -> str:
        key = (entity, value.lower())
        if key not in self._memo:
            provider = _SURROGATES.get(entity)
            fake = str(getattr(self._faker, provider)()) if provider else f"<{entity}>"
            if value.islower():
                fake = fake.lower()
            self._memo[key] = fake
        return self._memo[key]


def keyed_tag(key: bytes, entity: str, value: str) -> str:
    digest = hmac.new(key, f"{entity}\x00{value.lower()}".encode(), hashlib.sha256).hexdigest()[:8]
    return f"<{entity}_{digest}>"


def apply_operators(
    anonymizer,
    text: str,
    spans: Sequence[Span],
    operators: Mapping[str, str],
    clip_id: str,
    key: bytes | None = None,
) -> tuple[str, tuple[Span, ...]]:
    """Redact ``spans`` (non-overlapping, original offsets) with each entity's operator."""
    from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

    if not spans:
        return text, ()
    surrogates = None
    configs = {}
    for entity in {s.entity_type for s in spans}:
        name = operator_for(operators, entity)
        if name == "tag":
            configs[entity] = OperatorConfig("replace", {"new_value": f"<{entity}>"})
        elif name == "mask":
            configs[entity] = OperatorConfig("mask", {"masking_char": "*", "chars_to_mask": 10**6, "from_end": False})
        elif name == "surrogate":
            surrogates = surrogates or _Surrogates(clip_id)
            configs[entity] = OperatorConfig("custom", {"lambda": _bind(surrogates.get, entity)})
        elif name == "hash":
            if not key:
                raise ValueError("hash operator configured but no key available")
            configs[entity] = OperatorConfig("custom", {"lambda": _bind_key(key, entity)})
        else:
            raise ValueError(f"unknown operator {name!r} for {entity}")
    results = [RecognizerResult(s.entity_type, s.start, s.end, 1.0) for s in spans]
    outcome = anonymizer.anonymize(text=text, analyzer_results=results, operators=configs)
    entities = tuple(
        sorted((Span(i.entity_type, i.start, i.end) for i in outcome.items), key=lambda s: (s.start, s.end))
    )
    return outcome.text, entities


def _bind(fn, entity):
    return lambda value: fn(entity, value)


def _bind_key(key, entity):
    return lambda value: keyed_tag(key, entity, value)
