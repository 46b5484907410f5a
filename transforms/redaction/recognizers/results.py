"""What every custom recognizer here shares: one constructor for results, one base for one-entity recognizers.

In:  a span of the written form, its score and why it was found.
Out: Presidio ``RecognizerResult`` s carrying the explanation and recognizer metadata Presidio's own
     recognizers attach (``explain`` and the context enhancer read them).
Fails: never.
"""

from __future__ import annotations

from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult


def make_result(
    name: str, identifier: str, entity: str, start: int, end: int, score: float, why: str
) -> RecognizerResult:
    """A result carrying the explanation and recognizer metadata Presidio's own recognizers attach
    (``explain`` and the context enhancer read them)."""
    return RecognizerResult(
        entity,
        start,
        end,
        score,
        analysis_explanation=AnalysisExplanation(recognizer=name, original_score=score, textual_explanation=why),
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: identifier,
        },
    )


class SingleEntityRecognizer(EntityRecognizer):
    """Base of the rule-based recognizers here: one entity type, nothing to load, results from :func:`make_result`.

    Args:
        supported_entity: The entity type every result carries.
        supported_language: Language this recognizer supports.
        context: Context words that lift a result's score (Presidio's context enhancer).
        name: Recognizer name in results; the class name when omitted.
    """

    def __init__(
        self,
        supported_entity: str,
        supported_language: str = "en",
        context: list[str] | None = None,
        name: str | None = None,
    ):
        super().__init__(
            supported_entities=[supported_entity], name=name, supported_language=supported_language, context=context
        )

    def load(self) -> None:
        pass

    def result(self, start: int, end: int, score: float, why: str) -> RecognizerResult:
        """A result of this recognizer's entity type for ``[start, end)``."""
        return make_result(self.name, self.id, self.supported_entities[0], start, end, score, why)
