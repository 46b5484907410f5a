# Thin targets over `python -m pipeline`. Each target sets up the virtual environment it needs.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
OUT    ?= out/samples
BEAM_ARGS ?=

.PHONY: setup run test lint clean spotcheck evaluate-redaction

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

evaluate-redaction: $(STAMP)  ## redaction recall/precision on the spoken set and, if present, the written set
	$(PY) -m pipeline evaluate-redaction --labels data/eval/spoken_pii.jsonl
	if [ -f ../shared/data/pii/presidio_synth_v2.jsonl ]; then \
		$(PY) -m pipeline evaluate-redaction --labels ../shared/data/pii/presidio_synth_v2.jsonl; fi

lint: $(STAMP)
	$(VENV)/bin/ruff check pipeline transforms tests
	$(VENV)/bin/ruff format --check pipeline transforms tests

clean:
	rm -rf out .pytest_cache
