"""Pseudonym keys: fail closed, never shown, separated per purpose."""

import pytest

from transforms.core.keys import ENV_VAR, KeySource, KeyUnavailableError, derive_key, resolve_key_source

HEX_KEY = "ab" * 32


def test_when_no_key_source_is_given_then_the_job_refuses():
    with pytest.raises(KeyUnavailableError, match="no pseudonym key"):
        resolve_key_source(None, False, environ={})


def test_when_env_var_holds_a_hex_key_then_it_is_used(monkeypatch):
    monkeypatch.setenv(ENV_VAR, HEX_KEY)
    source = resolve_key_source(None, False)
    assert source.kind == "env"
    assert source.load() == bytes.fromhex(HEX_KEY)


def test_when_key_file_is_short_then_it_is_refused_without_showing_it(tmp_path):
    path = tmp_path / "key"
    path.write_text("abcd")
    with pytest.raises(KeyUnavailableError) as info:
        resolve_key_source(str(path), False, environ={})
    assert "abcd" not in str(info.value)


def test_when_key_file_is_missing_then_it_is_refused(tmp_path):
    with pytest.raises(KeyUnavailableError, match="cannot read key file"):
        resolve_key_source(str(tmp_path / "absent"), False, environ={})


def test_when_key_file_is_valid_then_it_loads_bytes(tmp_path):
    path = tmp_path / "key"
    path.write_text(HEX_KEY + "\n")
    assert resolve_key_source(str(path), False, environ={}).load() == bytes.fromhex(HEX_KEY)


def test_when_both_file_and_ephemeral_are_given_then_it_refuses(tmp_path):
    with pytest.raises(KeyUnavailableError, match="not both"):
        resolve_key_source(str(tmp_path / "k"), True, environ={})


def test_ephemeral_key_is_random_and_never_in_repr():
    first = resolve_key_source(None, True, environ={})
    second = resolve_key_source(None, True, environ={})
    assert first.load() != second.load()
    assert first.load().hex() not in repr(first)
    assert first.load().hex() not in str(first)


def test_derived_keys_differ_per_purpose():
    master = bytes.fromhex(HEX_KEY)
    assert derive_key(master, "pseudonym") != derive_key(master, "review_id")
    assert len(derive_key(master, "voice")) == 32


def test_env_source_without_variable_fails_on_load(monkeypatch):
    monkeypatch.delenv("SOME_UNSET_VAR", raising=False)
    with pytest.raises(KeyUnavailableError, match="not set"):
        KeySource("env", "SOME_UNSET_VAR").load()
