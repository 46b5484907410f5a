import pytest

from transforms.redaction.lexicon import build_lexicon


@pytest.fixture(scope="session")
def lexicon():
    """Faker's names and places of every locale (the job's default)."""
    return build_lexicon()
