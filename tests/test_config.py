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


# ------------------------------------------------------------------ issue 12: duplicate keys, strict lists


@pytest.mark.parametrize(
    "text, key",
    [
        (
            "policy:\n  opt_out_lists: [a.txt]\n  retention_days: 30\n  opt_out_lists: []\n",
            "policy.opt_out_lists (line 4",
        ),
        ("policy: {}\naudio: {}\npolicy:\n  opt_out_lists: []\n", "policy (line 3, first at line 1)"),
        ("voice:\n  params:\n    cms_hi: 30\n    cms_hi: 20\n", "voice.params.cms_hi"),
        ("transcript:\n  operators:\n    default: tag\n    'default': mask\n", "transcript.operators.default"),
        ("policy:\n  escalation_terms:\n    - {a: 1, a: 2}\n", "policy.escalation_terms[0].a"),
    ],
)
def test_when_a_yaml_key_is_given_twice_then_the_config_is_refused_naming_it(tmp_path, text, key):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="given twice") as info:
        load_config(str(path))
    assert key in str(info.value)


def test_when_yaml_merges_or_repeats_anchors_then_that_is_not_a_repeated_key(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("x-common: &common {retention_days: 30}\npolicy:\n  <<: *common\n  retention_days: 40\n")
    with pytest.raises(ConfigError, match="x-common"):  # an unknown section, not a repeated key
        load_config(str(path))


def lists_config(tmp_path, **policy) -> dict:
    return {"policy": policy, "transcript": {n: f"{CONFIGS}/presidio/{f}" for n, f in PRESIDIO.items()}}


PRESIDIO = {"analyzer_conf": "analyzer.yaml", "nlp_conf": "nlp.yaml", "recognizers_conf": "recognizers.yaml"}


@pytest.mark.parametrize(
    "name, data, where",
    [
        ("second.txt", b"ACCT-0000000001\nACCT-4829105573\tJane Doe\n", "second.txt, line 2: not one valid account id"),
        ("latin1.txt", "ACCT-1\nMüller-4829105573\n".encode("latin-1"), "latin1.txt, line 2: not UTF-8 text"),
        ("noheader.csv", b"ACCT-4829105573,Jane\n", "noheader.csv, line 1: header row has no 'account_id' column"),
    ],
)
def test_when_a_list_has_a_bad_line_then_the_config_is_refused_naming_file_and_line(tmp_path, name, data, where):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(ConfigError) as info:
        parse_config(lists_config(tmp_path, deletion_lists=[name]), str(tmp_path))
    message = str(info.value)
    assert "policy.deletion_lists" in message and where in message
    assert "4829105573" not in message and "Jane" not in message and "Müller" not in message


def test_when_a_list_is_a_directory_then_the_config_is_refused_with_a_hint(tmp_path):
    (tmp_path / "optout").mkdir()
    with pytest.raises(ConfigError, match="is a directory; name the list files or a glob"):
        parse_config(lists_config(tmp_path, opt_out_lists=["optout"]), str(tmp_path))


def test_when_lists_are_well_formed_then_the_config_loads_with_the_list_options(tmp_path):
    (tmp_path / "optout.csv").write_text("Customer,name\nACCT-1,x\n")
    config = parse_config(
        lists_config(tmp_path, opt_out_lists=["optout.csv"], list_id_column="customer", list_ids_case_sensitive=True),
        str(tmp_path),
    )
    assert config.policy.list_id_column == "customer" and config.policy.list_ids_case_sensitive is True
    with pytest.raises(ConfigError, match="list_id_column"):
        parse_config(lists_config(tmp_path, list_id_column=""), str(tmp_path))
