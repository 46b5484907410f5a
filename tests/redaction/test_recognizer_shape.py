"""Every custom recognizer has Presidio's EmailRecognizer shape: its entity type and name come from
an overridable ``__init__`` and every result carries them."""

import pytest

from transforms.redaction import recognizers as r

# (factory taking the lexicon and keyword overrides, default entity, a text it finds something in)
CASES = [
    (lambda lex, **kw: r.NameGazetteerRecognizer(lex, **kw), "PERSON", "call amelia watson"),
    (lambda lex, **kw: r.PlaceGazetteerRecognizer(lex, **kw), "LOCATION", "i live in new york"),
    (lambda lex, **kw: r.IntroducedNameRecognizer(lex, **kw), "PERSON", "my name is bekbolat"),
    (lambda lex, **kw: r.StreetAddressRecognizer(lex, **kw), "STREET_ADDRESS", "i live at 12 oak street"),
    (lambda lex, **kw: r.CapitalisedNameRecognizer(**kw), "PROPER_NAME", "I met Bekbolat Musliyevich there."),
    (lambda lex, **kw: r.JobTitleRecognizer(**kw), "TITLE", "she works as a staff nurse in town"),
    (lambda lex, **kw: r.OrganizationContextRecognizer(lex, **kw), "ORGANIZATION", "I work for Credit Karma"),
    (lambda lex, **kw: r.DemonymRecognizer(**kw), "NRP", "I am cambodian"),
]


@pytest.mark.parametrize("make, entity, text", CASES)
def test_when_built_with_defaults_then_named_after_its_class_and_results_carry_its_entity(lexicon, make, entity, text):
    recognizer = make(lexicon)
    assert recognizer.name == type(recognizer).__name__ and recognizer.supported_entities == [entity]
    results = recognizer.analyze(text, [entity])
    assert results and all(x.entity_type == entity for x in results)
    assert all(x.recognition_metadata["recognizer_name"] == recognizer.name for x in results)
    assert all(x.recognition_metadata["recognizer_identifier"] == recognizer.id for x in results)


@pytest.mark.parametrize("make, entity, text", CASES)
def test_when_entity_and_name_overridden_then_results_carry_them(lexicon, make, entity, text):
    recognizer = make(lexicon, supported_entity="OTHER", name="Custom")
    results = recognizer.analyze(text, ["OTHER"])
    assert results and all(x.entity_type == "OTHER" for x in results)
    assert all(x.recognition_metadata["recognizer_name"] == "Custom" for x in results)
