"""Evaluation maths (EER, top-1, WER) on synthetic scores, and segmenting; no torch needed."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.evaluation import voice_metrics as vm


@pytest.mark.parametrize(
    "target, nontarget, expected",
    [
        ([0.9, 0.8, 0.7], [0.1, 0.2, 0.3], 0.0),  # perfectly separated
        ([0.1, 0.2, 0.3], [0.7, 0.8, 0.9], 1.0),  # perfectly inverted
        ([0.6, 0.4, 0.9, 0.8], [0.5, 0.1, 0.2, 0.3], 0.25),  # one target below one impostor
    ],
)
def test_when_scores_are_known_then_eer_is_exact(target, nontarget, expected):
    eer, _ = vm.equal_error_rate(np.array(target), np.array(nontarget))
    assert eer == pytest.approx(expected, abs=1e-9)


def test_when_target_and_impostor_scores_share_a_distribution_then_eer_is_near_half():
    rng = np.random.default_rng(0)
    eer, _ = vm.equal_error_rate(rng.normal(0, 1, 20000), rng.normal(0, 1, 20000))
    assert eer == pytest.approx(0.5, abs=0.02)


def test_when_gaussians_are_two_sigma_apart_then_eer_matches_theory():
    rng = np.random.default_rng(1)
    eer, threshold = vm.equal_error_rate(rng.normal(2, 1, 50000), rng.normal(0, 1, 50000))
    assert eer == pytest.approx(0.1587, abs=0.005)  # Phi(-1)
    assert threshold == pytest.approx(1.0, abs=0.05)


def test_when_no_impostor_scores_then_eer_refuses():
    with pytest.raises(ValueError):
        vm.equal_error_rate(np.array([0.5]), np.array([]))


def test_when_scores_are_a_matrix_then_trials_and_top1_follow_the_labels():
    scores = np.array([[0.9, 0.1, 0.2], [0.3, 0.2, 0.8], [0.1, 0.7, 0.6], [0.5, 0.4, 0.6]])
    tests = np.array(["a", "b", "b", "c"])
    models = np.array(["a", "b", "c"])
    trials = vm.split_trials(scores, tests, models)
    assert sorted(trials.target) == [0.2, 0.6, 0.7, 0.9]
    assert len(trials.nontarget) == 8
    assert vm.top1_rate(scores, tests, models) == pytest.approx(3 / 4)  # row 1 picks c, not b


def test_cosine_matrix_is_scale_invariant():
    a = np.array([[1.0, 0.0], [1.0, 1.0]])
    b = np.array([[2.0, 0.0], [0.0, 5.0]])
    assert np.allclose(vm.cosine_matrix(a, b), [[1.0, 0.0], [np.sqrt(0.5), np.sqrt(0.5)]])


@pytest.mark.parametrize(
    "ref, hyp, errors",
    [
        ("the cat sat", "the cat sat", 0),
        ("the cat sat", "the bat sat", 1),
        ("the cat sat", "the cat", 1),
        ("the cat", "the cat sat down", 2),
        ("", "extra", 1),
    ],
)
def test_word_errors_count_substitutions_deletions_insertions(ref, hyp, errors):
    assert vm.word_errors(ref.split(), hyp.split()) == errors


def test_corpus_wer_ignores_case_and_punctuation_and_pools_words():
    refs = [" Hello, world.", "It's a test"]
    hyps = ["hello world", "it's the test!"]
    assert vm.corpus_wer(refs, hyps) == pytest.approx(1 / 5)


def test_when_references_are_empty_then_wer_refuses():
    with pytest.raises(ValueError):
        vm.corpus_wer([""], ["x"])


def test_segments_cover_consecutive_pieces_and_keep_a_long_enough_remainder():
    from pipeline.evaluation.voice import cut_segments

    pieces = cut_segments(np.arange(16000 * 10), 16000, 3, 4.0)
    assert [len(p) for p in pieces] == [64000, 64000, 32000]  # 4 s, 4 s, then a 2 s remainder (>= half)
    assert pieces[1][0] == 64000 and pieces[2][0] == 128000
    assert [len(p) for p in cut_segments(np.arange(16000 * 9), 16000, 3, 4.0)] == [64000, 64000]
    assert [len(p) for p in cut_segments(np.zeros(16000 * 3), 16000, 3, 4.0)] == [48000]
    assert cut_segments(np.zeros(16000), 16000, 3, 4.0) == []


def test_markdown_table_lists_baseline_and_methods():
    from pipeline.evaluation.voice import markdown_table

    cond = {"eer": 0.4, "top1": 0.1}
    result = {
        "speakers": 2,
        "test_segments": 4,
        "segment_s": 4.0,
        "segments_per_speaker": 3,
        "baseline": {"eer": 0.01, "top1": 1.0},
        "methods": {
            "m": {
                "unaware": cond,
                "informed": cond,
                "informed_same_key": cond,
                "wer_vs_original": 0.05,
                "cpu_s_per_audio_s": 0.01,
            }
        },
    }
    table = markdown_table(result)
    assert "| none (original vs original) | 1.0 % | 100.0 % |" in table
    assert "| m | 40.0 % | 10.0 % | 40.0 % | 10.0 % | 40.0 % | 5.0 % | 0.0100 |" in table


def test_manifest_reader_keeps_rows_with_path_and_speaker(tmp_path):
    from pipeline.evaluation.voice import read_manifest

    rows = [{"path": "a.flac", "speaker": "1"}, {"path": "b.flac"}, {"path": "c.flac", "speaker": 2}]
    (tmp_path / "manifest.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert [r["path"] for r in read_manifest(str(tmp_path))] == ["a.flac", "c.flac"]


def test_method_specs_parse_name_params_and_per_clip_prefix():
    from pipeline.commands.evaluate_voice import parse_method

    spec = parse_method('per_clip:mcadams={"lpc_order": 16}')
    assert (spec.method, spec.params, spec.per_clip) == ("mcadams", {"lpc_order": 16}, True)
    assert parse_method("world_shift").per_clip is False
    with pytest.raises(ValueError, match="lpc_order"):
        parse_method('mcadams={"lpc_order": 2}')
