"""Pseudonym keys: fail closed, never shown, separated per purpose."""

import hashlib
import json
import os

import pytest

from transforms.core.keys import (
    ENV_VAR,
    KeySource,
    KeyUnavailableError,
    derive_key,
    key_file_exposure,
    parse_keyring,
    resolve_key_source,
)

HEX_KEY = hashlib.sha256(b"test key").hexdigest()


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


@pytest.mark.parametrize(
    "raw",
    [
        HEX_KEY,
        HEX_KEY + "\n",
        HEX_KEY + "\r\n",
        "  " + HEX_KEY + "\t ",
        HEX_KEY.upper(),
        HEX_KEY + HEX_KEY[:16],  # longer keys are fine
        json.dumps({"epochs": {"2026-07": HEX_KEY}}),
        json.dumps({"epochs": {"2026-07": " " + HEX_KEY + "\n"}}) + "\n",
    ],
)
def test_when_a_documented_key_form_is_given_then_it_is_accepted(raw):
    ring = parse_keyring(raw.encode(), "key file k")
    assert ring.key_for("2026-07")


@pytest.mark.parametrize(
    "raw, why",
    [
        (HEX_KEY[:-1], "not a hex key"),  # a 63-digit typo
        (HEX_KEY[:62], "shorter than 32 bytes"),
        ("correct horse battery staple and then some more words", "not a hex key"),  # a passphrase
        (HEX_KEY[:32] + " " + HEX_KEY[32:], "not a hex key"),  # whitespace inside
        ("0" * 64, "trivial key"),
        ("ab" * 32, "trivial key"),
        ("", "not a hex key"),
        (json.dumps({"epochs": {"2026-07": "0" * 64}}), "trivial key"),
        (json.dumps({"epochs": {"2026-07": HEX_KEY}, "note": "x"}), "not a keyring"),
        (json.dumps({"epochs": {"2026-07": 12345}}), "must be a hex string"),
    ],
)
def test_when_a_key_is_not_a_documented_form_then_it_is_refused_without_showing_it(raw, why):
    with pytest.raises(KeyUnavailableError, match=why) as info:
        parse_keyring(raw.encode(), "key file k")
    if len(raw) > 8:
        assert raw.strip() not in str(info.value)


@pytest.mark.parametrize("first", [b"", b"{"])  # random bytes that happen to open like JSON are refused too
def test_when_raw_binary_bytes_are_given_then_they_are_refused(first):
    raw = first + bytes(b for b in os.urandom(64) if b not in b"{ \t\r\n")[:31]
    with pytest.raises(KeyUnavailableError, match="not a hex key" if not first else "not a keyring"):
        parse_keyring(raw, "key file k")


@pytest.mark.parametrize("mode, exposure", [(0o600, None), (0o640, "group"), (0o644, "world"), (0o604, "world")])
def test_when_a_key_file_mode_lets_others_read_then_it_is_reported(tmp_path, mode, exposure):
    path = tmp_path / "key"
    path.write_text(HEX_KEY)
    path.chmod(mode)
    assert key_file_exposure(str(path)) == exposure


def test_when_an_exposed_key_file_is_configured_to_refuse_then_the_job_refuses(tmp_path):
    path = tmp_path / "key"
    path.write_text(HEX_KEY)
    path.chmod(0o644)
    with pytest.raises(KeyUnavailableError, match="chmod 600"):
        resolve_key_source(str(path), False, environ={}, exposed_key_file="refuse")
    assert resolve_key_source(str(path), False, environ={}, exposed_key_file="warn").kind == "file"
    path.chmod(0o600)
    assert resolve_key_source(str(path), False, environ={}, exposed_key_file="refuse").kind == "file"
