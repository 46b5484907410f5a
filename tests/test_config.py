"""Config loading: defaults validate, anything unknown or bad stops the run."""

import pytest
import yaml

from pipeline.config import ConfigError, config_hash, load_config, parse_config
from tests.conftest import REPO

CONFIGS = f"{REPO}/configs"


def test_when_default_config_is_loaded_then_it_validates_and_hashes(job_config):
    assert job_config.audio.sample_rate == 16000
    assert len(config_hash(job_config)) == 16


@pytest.mark.parametrize(
    "data, message",
    [
        ({"audio": {"sample_rat": 16000}}, "sample_rat"),
        ({"audio": {"sample_rate": 1000}}, "sample_rate"),
        ({"audio": {"output_format": "wav"}}, "output_format"),
        ({"pseudonym_key": "deadbeef"}, "pseudonym_key"),
        ({"identifiers": {"key": "deadbeef"}}, "key"),
        ({"transcript": {"score_threshold": 2}}, "score_threshold"),
        ({"transcript": {"analyzer_conf": "missing.yaml"}}, "analyzer_conf"),
        ({"voice": {"method": "nope"}}, "unknown method"),
        ({"voice": {"params": {"no_such_param": 1}}}, "no_such_param"),
    ],
)
def test_when_config_has_unknown_key_or_bad_value_then_it_raises(data, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(data, CONFIGS)


def test_when_config_file_is_not_yaml_then_it_raises_clearly(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("audio: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(str(path))


def test_when_config_file_is_missing_then_it_raises_clearly(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(str(tmp_path / "none.yaml"))


def test_when_a_value_changes_then_the_config_hash_changes(tmp_path):
    with open(f"{CONFIGS}/default.yaml") as handle:
        data = yaml.safe_load(handle)
    base = config_hash(parse_config(data, CONFIGS))
    data["audio"]["sample_rate"] = 22050
    assert config_hash(parse_config(data, CONFIGS)) != base
