"""Evaluation maths (EER, top-1, WER), attackers (LDA), key-draw summaries, enrolment/trial splits and the
speaker partition, on synthetic data; no torch needed."""

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
    from pipeline.evaluation.voice_material import cut_segments

    pieces = cut_segments(np.arange(16000 * 10), 16000, 3, 4.0)
    assert [len(p) for p in pieces] == [64000, 64000, 32000]  # 4 s, 4 s, then a 2 s remainder (>= half)
    assert pieces[1][0] == 64000 and pieces[2][0] == 128000
    assert [len(p) for p in cut_segments(np.arange(16000 * 9), 16000, 3, 4.0)] == [64000, 64000]
    assert [len(p) for p in cut_segments(np.zeros(16000 * 3), 16000, 3, 4.0)] == [48000]
    assert cut_segments(np.zeros(16000), 16000, 3, 4.0) == []


def _summary(mean, lo, hi):
    return {"mean": mean, "min": lo, "max": hi, "draws": [lo, mean, hi]}


def test_markdown_table_has_a_summary_row_and_one_table_per_method_with_ranges():
    from pipeline.evaluation.voice import markdown_table

    cond = {"eer": _summary(0.4, 0.35, 0.45), "top1": _summary(0.1, 0.05, 0.15), "n_models": 40, "n_trials": 40}
    result = {
        "test_speakers": ["1", "2"],
        "test_speaker_set": "test",
        "split": "halves",
        "enrol_items": 2,
        "enrol_audio_s": 12.0,
        "trial_items": 2,
        "trial_audio_s": 12.0,
        "attacker_speakers": 60,
        "attacker_speaker_set": "attacker",
        "attacker_training_pieces": 200,
        "key_draws": 3,
        "baseline": {"unaware": {"eer": 0.01, "top1": 1.0, "n_models": 40}, "semi_informed": {"eer": 0.0, "top1": 1.0}},
        "methods": {
            "m": {
                "conditions": {"unaware": cond, "lazy_informed": cond, "semi_informed": cond, "same_key": cond},
                "wer_vs_original": _summary(0.05, 0.04, 0.06),
                "cpu_s_per_audio_s": _summary(0.01, 0.01, 0.01),
            }
        },
    }
    table = markdown_table(result)
    assert "| none (original) | 1.0 % / 100.0 % | – | 0.0 % / 100.0 % | 0 % | 0 |" in table
    assert "| m | 40.0 % / 10.0 % | 40.0 % / 10.0 % | 40.0 % / 10.0 % | 5.0 % | 0.0100 |" in table
    assert "#### m" in table and "Mean (range) over 3 key draws." in table
    assert "| 40.0 % (35.0 %–45.0 %) | 10.0 % (5.0 %–15.0 %) of 40 |" in table
    assert "WER vs original: 5.0 % (4.0 %–6.0 %)" in table and "chance 2.5 %" in table


def test_manifest_reader_keeps_rows_with_path_and_speaker(tmp_path):
    from pipeline.evaluation.voice_material import read_manifest

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


# ------------------------------------------------------------------ attackers and key draws


def _clusters(speakers: int, per_speaker: int, spread: float, seed: int, dims: int = 32):
    """Embeddings around one random centre per speaker (``spread`` = noise relative to the centres)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((speakers, dims))
    labels = np.repeat(np.arange(speakers), per_speaker).astype(str)
    x = centres[labels.astype(int)] + spread * rng.standard_normal((speakers * per_speaker, dims))
    return x, labels


def test_when_speakers_are_separable_then_every_attacker_finds_them():
    from pipeline.evaluation import voice_attackers as va

    x, labels = _clusters(10, 4, 0.2, seed=0)
    result = va.score(x[::4], labels[::4], x[1::4], labels[1::4])
    assert result["eer"] == pytest.approx(0.0, abs=1e-9) and result["top1"] == 1.0
    assert (result["n_models"], result["n_trials"]) == (10, 10)


def test_when_an_lda_is_trained_on_other_speakers_then_it_removes_a_shared_nuisance_and_finds_the_speaker():
    from pipeline.evaluation import voice_attackers as va

    # Speaker identity lives in a weak subspace; a strong per-sample nuisance (a "key") dominates cosine.
    rng = np.random.default_rng(3)
    dims, weak = 40, 5

    def speech(speakers, per_speaker, seed):
        r = np.random.default_rng(seed)
        centres = np.zeros((speakers, dims))
        centres[:, :weak] = r.standard_normal((speakers, weak))
        labels = np.repeat(np.arange(speakers), per_speaker)
        noise = np.zeros((len(labels), dims))
        noise[:, weak:] = 3.0 * r.standard_normal((len(labels), dims - weak))
        return centres[labels] + noise + 0.1 * r.standard_normal((len(labels), dims)), labels

    train_x, train_y = speech(60, 6, 1)
    test_x, test_y = speech(20, 2, 2)
    enrol, trials = test_x[::2], test_x[1::2]
    plain = va.score(enrol, test_y[::2], trials, test_y[1::2])
    lda = va.LdaAttacker().fit(train_x, train_y)
    informed = va.score(lda.transform(enrol), test_y[::2], lda.transform(trials), test_y[1::2])
    assert plain["eer"] > 0.2
    assert informed["eer"] < 0.2 and informed["top1"] >= 0.6 and informed["eer"] < plain["eer"] / 2
    del rng


def test_when_speakers_are_indistinguishable_then_the_lda_attacker_stays_near_chance():
    from pipeline.evaluation import voice_attackers as va

    rng = np.random.default_rng(5)
    train = rng.standard_normal((300, 24))
    lda = va.LdaAttacker().fit(train, np.repeat(np.arange(50), 6))
    enrol, trials = rng.standard_normal((40, 24)), rng.standard_normal((40, 24))
    speakers = np.arange(40).astype(str)
    result = va.score(lda.transform(enrol), speakers, lda.transform(trials), speakers)
    assert 0.3 < result["eer"] < 0.7 and result["top1"] <= 0.15


def test_when_the_lda_attacker_has_one_training_speaker_then_it_refuses():
    from pipeline.evaluation import voice_attackers as va

    with pytest.raises(ValueError, match="2 training speakers"):
        va.LdaAttacker().fit(np.ones((4, 8)), ["a"] * 4)


def test_speaker_models_are_the_mean_of_unit_embeddings_in_first_seen_order():
    from pipeline.evaluation import voice_attackers as va

    models, names = va.speaker_models(np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 3.0]]), ["b", "a", "b"])
    assert list(names) == ["b", "a"]
    assert np.allclose(models, [[0.5, 0.5], [0.0, 1.0]])


def test_key_draws_are_summarised_as_mean_and_range():
    from pipeline.evaluation import voice_attackers as va

    summary = va.summarise_draws([0.2, 0.4, 0.3])
    assert (summary["mean"], summary["min"], summary["max"]) == pytest.approx((0.3, 0.2, 0.4))
    assert summary["draws"] == [0.2, 0.4, 0.3]
    draws = [{"unaware": {"eer": e, "top1": t, "n_models": 40, "n_trials": 40}} for e, t in [(0.3, 0.1), (0.5, 0.2)]]
    summary = va.summarise_conditions(draws)
    assert summary["unaware"]["eer"]["mean"] == pytest.approx(0.4)
    assert summary["unaware"]["top1"]["max"] == pytest.approx(0.2)
    assert summary["unaware"]["n_models"] == 40
    with pytest.raises(ValueError):
        va.summarise_draws([])


# ------------------------------------------------------------------ enrolment / trial material


def test_when_an_utterance_is_halved_then_both_halves_cover_it_or_it_is_too_short():
    from pipeline.evaluation.voice_material import split_halves

    first, second = split_halves(np.arange(16000 * 9), 16000, 3.0)
    assert len(first) == len(second) == 72000 and second[0] == 72000
    assert split_halves(np.arange(16000 * 5), 16000, 3.0) is None


def _speech_folder(tmp_path, utterances: dict[str, int], seconds: float = 8.0):
    import soundfile as sf

    rows = []
    for speaker, count in utterances.items():
        for i in range(count):
            name = f"{speaker}-{i}.flac"
            sf.write(tmp_path / name, np.full(int(seconds * 16000), 0.01 * (i + 1), np.float32), 16000)
            rows.append({"path": name, "speaker": speaker, "utt_id": f"{speaker}-{i}"})
    (tmp_path / "manifest.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return str(tmp_path)


def test_when_speakers_have_one_utterance_then_auto_split_enrols_on_first_halves(tmp_path):
    from pipeline.evaluation.voice_material import enrolment_and_trials

    folder = _speech_folder(tmp_path, {"1": 1, "2": 1, "3": 1})
    enrol, trials, split = enrolment_and_trials(folder, ["1", "2", "3"])
    assert split == "halves"
    assert [i.speaker for i in enrol] == ["1", "2", "3"] and [i.speaker for i in trials] == ["1", "2", "3"]
    assert all(len(i.samples) == 64000 for i in enrol + trials)


def test_when_speakers_have_several_utterances_then_auto_split_enrols_on_three_and_tries_the_rest(tmp_path):
    from pipeline.evaluation.voice_material import enrolment_and_trials

    folder = _speech_folder(tmp_path, {"1": 5, "2": 4, "3": 3}, seconds=1.0)
    enrol, trials, split = enrolment_and_trials(folder, ["1", "2", "3"])
    assert split == "utterances"
    assert [i.name for i in enrol] == ["1-0", "1-1", "1-2", "2-0", "2-1", "2-2"]  # speaker 3 has no trial left
    assert [i.name for i in trials] == ["1-3", "1-4", "2-3"]


def test_when_fewer_than_two_speakers_have_trials_then_the_split_refuses(tmp_path):
    from pipeline.evaluation.voice_material import enrolment_and_trials

    folder = _speech_folder(tmp_path, {"1": 1, "2": 1}, seconds=4.0)  # halves of 2 s are below 3 s
    with pytest.raises(ValueError, match="at least 2 speakers"):
        enrolment_and_trials(folder, ["1", "2"])


def test_speaker_choices_name_sets_first_n_or_all_and_exclude_the_test_speakers():
    from pipeline.evaluation.voice_material import choose_speakers
    from pipeline.evaluation.voice_speakers import ATTACKER, TEST

    rows = [{"speaker": s} for s in (TEST[0], ATTACKER[0], "x", TEST[1])]
    assert choose_speakers(rows, "test") == [TEST[0], TEST[1]]
    assert choose_speakers(rows, "attacker") == [ATTACKER[0]]
    assert choose_speakers(rows, "first:2", exclude=frozenset(TEST)) == [ATTACKER[0], "x"]
    assert choose_speakers(rows, "all") == [TEST[0], ATTACKER[0], "x", TEST[1]]
    with pytest.raises(ValueError, match="unknown speaker choice"):
        choose_speakers(rows, "everyone")
    with pytest.raises(ValueError, match="names no speaker"):
        choose_speakers([{"speaker": "x"}], "tune")


def test_speaker_sets_are_disjoint_and_gender_balanced_sizes():
    from pipeline.evaluation import voice_speakers as vs

    sets = [set(s) for s in vs.SETS.values()]
    assert sum(len(s) for s in sets) == len(set().union(*sets)) == 251
    assert (len(vs.TEST), len(vs.TUNE), len(vs.ATTACKER), len(vs.BANK)) == (40, 30, 60, 121)


def test_when_the_development_speech_is_present_then_it_derives_the_written_out_partition():
    import os

    from pipeline.evaluation import voice_speakers as vs
    from pipeline.evaluation.voice_material import read_manifest

    folder = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "speech")
    if not os.path.isfile(os.path.join(folder, "manifest.jsonl")):
        pytest.skip("development speech folder ../shared/data/speech is absent")
    vs.check_partition(read_manifest(folder))
