"""The attackers of the voice evaluation and how their results over several key draws are summed up.

In:  speaker embeddings (rows; Resemblyzer d-vectors in practice, anything fixed-length here) with
     their true speakers.
Out: per attacker condition a dict with EER, top-1 (and how many speakers / trials it is over);
     across key draws a mean and range per figure.
Fails: ``ValueError`` when an attacker has fewer than two training speakers or a condition has no
     target or no impostor trials.

Attackers (VoicePrivacy 2024 terms; the speech the system anonymises is always under key A):
- unaware (OA): speaker models from original speech.
- lazy-informed: speaker models from the attacker's own anonymisation of the enrolment speech
  (the system run with the attacker's key B, which cannot reproduce key A's draws).
- semi-informed: like lazy-informed, but enrolment and trials are first mapped into a
  speaker-discriminant space (LDA-style within-speaker whitening, scikit-learn) that the attacker
  fitted on *other* speakers' anonymised speech under several attacker keys, labelled with the
  true speakers: it learns what of a speaker varies with the key and discounts it.
No torch and no models: these functions are tested in the main environment.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.evaluation import voice_metrics as vm


def speaker_models(embeddings: np.ndarray, speakers) -> tuple[np.ndarray, np.ndarray]:
    """(models, model speakers): one model per speaker, the mean of its (unit-length) embeddings,
    in order of first appearance."""
    speakers = np.asarray(speakers)
    order = list(dict.fromkeys(speakers.tolist()))
    unit = _unit(np.asarray(embeddings, dtype=np.float64))
    return np.stack([unit[speakers == s].mean(axis=0) for s in order]), np.asarray(order)


def score(enrol: np.ndarray, enrol_speakers, trials: np.ndarray, trial_speakers) -> dict[str, Any]:
    """EER and top-1 of trials against speaker models built from ``enrol``.

    ``n_models`` is the number of enrolled speakers (top-1 by chance = 1 / n_models); the private
    ``_trials`` keeps the scores for plotting.
    """
    models, model_speakers = speaker_models(enrol, enrol_speakers)
    scores = vm.cosine_matrix(np.asarray(trials, dtype=np.float64), models)
    split = vm.split_trials(scores, np.asarray(trial_speakers), model_speakers)
    eer, _ = vm.equal_error_rate(split.target, split.nontarget)
    return {
        "eer": eer,
        "top1": vm.top1_rate(scores, np.asarray(trial_speakers), model_speakers),
        "n_models": int(len(model_speakers)),
        "n_trials": int(len(scores)),
        "_trials": split,
    }


class LdaAttacker:
    """Speaker-discriminant scoring space fitted on anonymised speech of training speakers.

    Embeddings are length-normalised and centred on the training mean, then whitened by the pooled
    within-speaker covariance (shrunk by ``shrinkage`` toward a scaled identity, scikit-learn): the
    directions in which one speaker's anonymised speech varies (across keys and pieces) are
    down-weighted, the rest kept; then length-normalised again for cosine scoring. This is LDA's
    within-class whitening without its projection onto the training speakers' between-class span:
    with 60 training speakers that projection (≤ 59 dimensions) lost most of what tells *unseen*
    speakers apart (on original speech a projected attacker fell from 0 % to 35 % EER), while the
    whitening keeps it (the attacker is never weaker than cosine on original speech).
    """

    def __init__(self, shrinkage: float = 0.01):
        self.shrinkage = shrinkage
        self._mean = None
        self._whiten = None

    def fit(self, embeddings: np.ndarray, speakers) -> LdaAttacker:
        from sklearn.covariance import shrunk_covariance

        x = _unit(np.asarray(embeddings, dtype=np.float64))
        labels = np.asarray(speakers)
        names = np.unique(labels)
        if len(names) < 2:
            raise ValueError(f"the LDA attacker needs at least 2 training speakers, got {len(names)}")
        within = np.concatenate([x[labels == s] - x[labels == s].mean(axis=0) for s in names])
        covariance = shrunk_covariance(within.T @ within / len(within), self.shrinkage)
        values, vectors = np.linalg.eigh(covariance)
        self._whiten = vectors / np.sqrt(np.maximum(values, values.max() * 1e-6))
        self._mean = x.mean(axis=0)
        return self

    def transform(self, embeddings: np.ndarray) -> np.ndarray:
        if self._whiten is None:
            raise ValueError("fit the LDA attacker first")
        x = _unit(np.asarray(embeddings, dtype=np.float64))
        return _unit((x - self._mean) @ self._whiten)


def summarise_draws(values: list[float]) -> dict[str, Any]:
    """Mean, min and max of one figure over independent key draws (and the draws themselves)."""
    if not values:
        raise ValueError("no key draws to summarise")
    arr = np.asarray(values, dtype=np.float64)
    return {
        "mean": float(arr.mean()),
        "min": float(arr.min()),
        "max": float(arr.max()),
        "draws": [float(v) for v in arr],
    }


def summarise_conditions(draws: list[dict[str, Any]]) -> dict[str, Any]:
    """Per attacker condition and figure (eer, top1), the summary over draws; the counts of the
    first draw (every draw scores the same trials)."""
    out: dict[str, Any] = {}
    for condition in draws[0]:
        first = draws[0][condition]
        out[condition] = {
            "eer": summarise_draws([d[condition]["eer"] for d in draws]),
            "top1": summarise_draws([d[condition]["top1"] for d in draws]),
            "n_models": first["n_models"],
            "n_trials": first["n_trials"],
        }
    return out


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)
