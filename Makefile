# Thin targets over `python -m pipeline`. Each target sets up the virtual environment it needs.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
OUT    ?= out/samples
BEAM_ARGS ?=
# Material for MkDocs prints a banner about MkDocs 2 on every build; it says nothing about this site.
MKDOCS := NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs

EVAL_VENV ?= .venv-eval
EVAL_STAMP := $(EVAL_VENV)/.installed
SPEECH ?= ../shared/data/speech
KEY_DRAWS ?= 3

WATERMARK_ARGS ?=
BENCH_CLIPS ?= 2400
BENCH_ARGS ?=

.PHONY: setup run test lint docs docs-serve docs-screenshot clean spotcheck evaluate-redaction evaluate-voice evaluate-watermark build-voice-bank bench train-ner train-ner-commands train-scorer

$(STAMP): setup.py constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip "setuptools<81" wheel
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)  ## create .venv with the job and its test tools

run: $(STAMP)  ## run the job on the bundled samples (DirectRunner, throw-away key)
	$(PY) -m pipeline run --input data/samples/manifest.jsonl --output $(OUT) \
		--ephemeral-key --overwrite $(BEAM_ARGS)

test: $(STAMP)  ## the test suite (CI runs exactly this)
	$(PY) -m pytest -q

spotcheck: $(STAMP)  ## compliance spot-check page for the last `make run`
	$(PY) -m pipeline spotcheck --output $(OUT) --report $(OUT)/spotcheck.html

evaluate-redaction: $(STAMP)  ## redaction recall/precision on the spoken set and, if present, the written set and the real commands (privacy beside utility)
	$(PY) -m pipeline evaluate-redaction --labels data/eval/spoken_pii.jsonl
	if [ -f ../shared/data/pii/presidio_synth_v2.jsonl ]; then \
		$(PY) -m pipeline evaluate-redaction --labels ../shared/data/pii/presidio_synth_v2.jsonl; fi
	if [ -d ../shared/data/commands ]; then $(PY) -m pipeline evaluate-redaction --commands; fi

train-ner-commands: $(STAMP)  ## train the second spoken NER model, with real assistant commands (spoken_ner_commands; CPU, ~13 min)
	$(PY) -m pipeline train-ner --real-commands --output transforms/redaction/models/spoken_ner_commands

train-scorer: $(STAMP)  ## fit the span scorer (calibrated name/place/date scores, thresholds per entity) on the tune split of the real commands
	$(PY) -m pipeline.training.span_scorer

train-ner: $(STAMP)  ## train the spoken-text NER model shipped in transforms/redaction/models/spoken_ner (CPU, ~5 min)
	$(PY) -m pipeline train-ner --output transforms/redaction/models/spoken_ner

$(EVAL_STAMP): setup.py constraints.txt
	$(PYTHON) -m venv $(EVAL_VENV)
	$(EVAL_VENV)/bin/python -m pip install --quiet --upgrade pip wheel
	$(EVAL_VENV)/bin/python -m pip install --quiet torch==2.13.0
	$(EVAL_VENV)/bin/python -m pip install --quiet -e ".[eval,strong]"
	$(EVAL_VENV)/bin/python -m pip install --quiet "setuptools<81"
	touch $(EVAL_STAMP)

evaluate-voice: $(EVAL_STAMP)  ## voice privacy against three attackers over 3 key draws (EER, top-1) + ASR word error, test speakers, clean and far-field
	$(EVAL_VENV)/bin/python -m pipeline evaluate-voice --speech-dir $(SPEECH) --key-draws $(KEY_DRAWS) \
		--method world_shift --method mcadams --method knn_vc --method 'knn_vc={"blend": 0.3}' \
		--output out/voice_eval
	$(EVAL_VENV)/bin/python -m pipeline evaluate-voice --speech-dir $(SPEECH) --key-draws $(KEY_DRAWS) \
		--no-config-method --method pseudo_voice --method knn_vc \
		--condition clean --condition far_field --condition far_field_phone --output out/voice_eval_far_field

evaluate-watermark: $(STAMP)  ## watermark: payload recovered per attack (real ffmpeg codecs) on 3 s excerpts, quality, cost, test speakers (~15 min)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[watermark-eval]"
	$(PY) -m pipeline evaluate-watermark --speech-dir $(SPEECH) --output out/watermark_eval $(WATERMARK_ARGS)

build-voice-bank: $(EVAL_STAMP)  ## rebuild transforms/disguise/data/voice_bank.npz from the dev speech folder's bank speakers (~10 min)
	$(EVAL_VENV)/bin/python -m pipeline build-voice-bank --speech-dir $(SPEECH)

bench: $(STAMP)  ## naive vs I/O floor vs the job, and a cost model (~8 min); BENCH_ARGS="--runner dask --workers 2 --worker-series 1,2"
	$(PY) -m pip install --quiet -c constraints.txt -e ".[bench,dask]"
	$(PY) -m benchmarks.bench --clips $(BENCH_CLIPS) $(BENCH_ARGS)

lint: $(STAMP)  ## ruff (style), import-linter (imports run job -> stages -> core, see pyproject.toml), the docs site built strictly
	$(VENV)/bin/ruff check pipeline transforms tests benchmarks docs/tooling
	$(VENV)/bin/ruff format --check pipeline transforms tests benchmarks docs/tooling
	$(VENV)/bin/lint-imports
	$(MKDOCS) build --strict  # not --quiet: it hides the warnings --strict counts

docs: $(STAMP)  ## build the documentation site into site/ (open site/index.html; no network needed)
	$(MKDOCS) build --strict

docs-serve: $(STAMP)  ## serve the documentation on http://127.0.0.1:8000, rebuilt on every edit
	$(MKDOCS) serve

docs-screenshot: run  ## regenerate docs/images/spotcheck.png: the spot-check page of `make run`, in headless Chromium
	$(PY) -m pipeline spotcheck --output $(OUT) --report $(OUT)/spotcheck.html --max-leak-rate 0.01 --seed 11
	$(PY) docs/tooling/spotcheck_screenshot.py $(OUT)/spotcheck.html docs/images/spotcheck.png \
		--clip docs/images/spotcheck-clip.png

clean:
	rm -rf out site .pytest_cache
