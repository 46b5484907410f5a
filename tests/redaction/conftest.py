import os

import pytest

from transforms.redaction.lexicon import build_lexicon

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def lexicon():
    """Faker's names and places of every locale (the job's default)."""
    return build_lexicon()


@pytest.fixture(scope="session")
def detectors():
    import dataclasses

    from pipeline.config import load_config
    from transforms.transcript import Engines

    config = load_config(os.path.join(ROOT, "configs", "default.yaml"))
    keep = Engines.from_config(config.transcript, config.base_dir)
    redact = Engines.from_config(dataclasses.replace(config.transcript, public_names="redact"), config.base_dir)
    utility = Engines.from_config(dataclasses.replace(config.transcript, scorer_thresholds=UTILITY), config.base_dir)
    return {"keep": keep.detector, "redact": redact.detector, "utility": utility.detector}


# the utility operating point docs/privacy-and-utility.md measures (configs/default.yaml, scorer_thresholds)
UTILITY = {"PERSON": 0.10, "LOCATION": 0.15}


def hidden(detector, text):
    (found,) = detector.detect_batch([text], [{}])
    return [text[d.start : d.end] for d in found]
