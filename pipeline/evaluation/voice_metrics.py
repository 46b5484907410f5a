"""Pure maths of the voice evaluation: equal error rate, top-1 identification, word error rate.

In:  score arrays / matrices and word sequences.
Out: floats (rates in [0, 1]) and small tuples.
Fails: ``ValueError`` on empty or mismatched inputs (a rate over nothing is not zero).
No torch, no models: these functions are tested in the main environment.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Trials(NamedTuple):
    """Verification trials: one score per (test segment, enrolled speaker) pair."""

    target: np.ndarray  # scores of same-speaker pairs
    nontarget: np.ndarray  # scores of different-speaker pairs


def cosine_matrix(tests: np.ndarray, models: np.ndarray) -> np.ndarray:
    """Cosine similarity of every test embedding (rows) with every speaker model (columns)."""
    a = tests / np.maximum(np.linalg.norm(tests, axis=1, keepdims=True), 1e-12)
    b = models / np.maximum(np.linalg.norm(models, axis=1, keepdims=True), 1e-12)
    return a @ b.T


def split_trials(scores: np.ndarray, test_speaker: np.ndarray, model_speaker: np.ndarray) -> Trials:
    """Target and non-target scores of a (tests × models) score matrix."""
    same = np.asarray(test_speaker)[:, None] == np.asarray(model_speaker)[None, :]
    return Trials(scores[same], scores[~same])


def equal_error_rate(target: np.ndarray, nontarget: np.ndarray) -> tuple[float, float]:
    """(EER, threshold): the rate where false acceptance equals false rejection.

    Accept when score >= threshold. Sweeps every distinct score; between the two nearest
    operating points the crossing is interpolated linearly.
    """
    target = np.asarray(target, dtype=np.float64)
    nontarget = np.asarray(nontarget, dtype=np.float64)
    if target.size == 0 or nontarget.size == 0:
        raise ValueError("EER needs at least one target and one non-target score")
    thresholds = np.unique(np.concatenate([target, nontarget, [np.inf]]))
    frr = np.searchsorted(np.sort(target), thresholds, side="left") / target.size
    far = 1.0 - np.searchsorted(np.sort(nontarget), thresholds, side="left") / nontarget.size
    diff = far - frr  # decreasing from >= 0 to <= 0 as the threshold rises
    i = int(np.argmax(diff <= 0))
    if i == 0 or diff[i] == 0:
        return float((far[i] + frr[i]) / 2.0), float(thresholds[i])
    w = diff[i - 1] / (diff[i - 1] - diff[i])
    eer = (1 - w) * (far[i - 1] + frr[i - 1]) / 2.0 + w * (far[i] + frr[i]) / 2.0
    return float(eer), float(thresholds[i - 1] + w * (thresholds[i] - thresholds[i - 1]))


def top1_rate(scores: np.ndarray, test_speaker: np.ndarray, model_speaker: np.ndarray) -> float:
    """Share of test segments whose best-scoring speaker model is their own speaker."""
    if scores.size == 0:
        raise ValueError("top-1 needs a non-empty score matrix")
    best = np.asarray(model_speaker)[np.argmax(scores, axis=1)]
    return float(np.mean(best == np.asarray(test_speaker)))


def word_errors(reference: list[str], hypothesis: list[str]) -> int:
    """Levenshtein distance in words (substitutions + deletions + insertions)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, 1):
        current = [i] + [0] * len(hypothesis)
        for j, hyp_word in enumerate(hypothesis, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word))
        previous = current
    return previous[-1]


def normalise_words(text: str) -> list[str]:
    """Lower-case words without punctuation (Whisper writes punctuation and casing)."""
    cleaned = "".join(ch if ch.isalnum() or ch in " '" else " " for ch in text.lower())
    return [w.strip("'") for w in cleaned.split() if w.strip("'")]


def corpus_wer(references: list[str], hypotheses: list[str]) -> float:
    """Word error rate over a corpus: total word errors / total reference words."""
    if len(references) != len(hypotheses):
        raise ValueError("references and hypotheses differ in length")
    errors = words = 0
    for ref, hyp in zip(references, hypotheses, strict=True):
        r, h = normalise_words(ref), normalise_words(hyp)
        errors += word_errors(r, h)
        words += len(r)
    if words == 0:
        raise ValueError("WER needs at least one reference word")
    return errors / words
