"""Typed job configuration, loaded from YAML and validated before the graph is built.

In:  a YAML file (``configs/default.yaml``) whose keys mirror the dataclasses below.
Out: a frozen :class:`JobConfig`; ``config_hash`` fingerprints it (and the Presidio YAML it
     points to) for the reviewer rows and the run report.
Fails: :class:`ConfigError` on an unreadable file, a key given twice (YAML would keep the last
     one silently: a second ``opt_out_lists:`` once disabled the first), an unknown key, a wrong
     type, a bad value, or an opt-out/deletion list that is missing or has a line that is not
     one valid account id. A privacy tool must not fall back to defaults on a bad file, so
     nothing here does.

Secrets never live here: pseudonym keys come from a file or an environment variable (see
``transforms.core.keys``); a ``key``/``secret`` field in YAML is rejected as an unknown key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from typing import Any, Literal

import yaml
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from pydantic.dataclasses import dataclass

# Each stage owns the dataclass of its own config section.
from transforms.mute_audio import MuteConfig
from transforms.policy import PolicyConfig
from transforms.transcript import TranscriptConfig
from transforms.voice import VoiceConfig
from transforms.watermark_audio import WatermarkConfig

_STRICT = ConfigDict(extra="forbid")

DEFAULT_CONFIG_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "configs", "default.yaml")


class ConfigError(ValueError):
    """The configuration cannot be used; the message says which key and why."""


@dataclass(config=_STRICT, frozen=True)
class AudioConfig:
    """Decoding and encoding of clip audio."""

    sample_rate: int = Field(16000, ge=8000, le=48000)  # Hz; every clip is converted to mono at this rate
    # Longer clips are quarantined; the length is read from the header first, so memory stays bounded.
    max_duration_s: float = Field(600.0, gt=0)
    output_format: Literal["flac", "ogg"] = "flac"  # the reviewer audio's codec: FLAC or Ogg Vorbis
    # ffmpeg (formats libsndfile cannot read) is killed after this long; the clip is quarantined
    # (audio_timeout). Other bounds on a clip's decoding: transforms/audio_io.py.
    decode_timeout_s: float = Field(60.0, gt=0, le=3600)


@dataclass(config=_STRICT, frozen=True)
class IdentifierConfig:
    """Pseudonymisation of account identifiers."""

    # "epoch": one pseudonym per account per epoch (HMAC under the epoch's key); "per_clip": a new
    # pseudonym for every clip, no linkage at all.
    mode: Literal["epoch", "per_clip"] = "epoch"
    # Pseudonyms change every epoch; destroying an epoch's key unlinks its pseudonyms for good.
    epoch_months: int = Field(6, ge=1, le=120)
    pseudonym_hex_chars: int = Field(32, ge=16, le=64)  # hex digits of the HMAC kept in a pseudonym
    # A local --key-file other users can read: "warn" (the run goes on and its report says so) or
    # "refuse" (exit 2, as ssh refuses an exposed private key). Warn by default: secret volumes are
    # often mounted 0644 (Kubernetes' default mode), and the file's directory may still be private.
    exposed_key_file: Literal["warn", "refuse"] = "warn"


@dataclass(config=_STRICT, frozen=True)
class OutputConfig:
    """Reviewer shard layout."""

    num_shards: int = Field(0, ge=0, le=10000)  # reviewer Parquet files per run; 0 = the runner decides
    parquet_codec: Literal["snappy", "gzip", "zstd", "none"] = "snappy"  # Parquet compression
    # A writer holds at most one row group plus one record batch of rows in memory (Beam's default
    # is 64 MB + 1,000 rows, which is most of a worker's memory growth with audio rows).
    row_group_mb: float = Field(8.0, ge=0.5, le=512.0)
    record_batch_rows: int = Field(64, ge=1, le=10000)  # rows converted to Arrow at a time
    # A run that quarantines more than this share of its clips fails (exit 1) and publishes nothing.
    max_quarantined_share: float = Field(0.5, ge=0.0, le=1.0)
    # The append-only audit trail (one line per run and per sign-off): "" = <output>/audit.jsonl;
    # any Beam filesystem path, relative paths to this config file.
    audit_trail: str = ""


@dataclass(config=_STRICT, frozen=True)
class JobConfig:
    """The whole job's configuration."""

    audio: AudioConfig = Field(default_factory=AudioConfig)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    voice: VoiceConfig = Field(default_factory=VoiceConfig)
    mute: MuteConfig = Field(default_factory=MuteConfig)
    transcript: TranscriptConfig = Field(default_factory=TranscriptConfig)
    identifiers: IdentifierConfig = Field(default_factory=IdentifierConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    watermark: WatermarkConfig = Field(default_factory=WatermarkConfig)
    # Directory the relative paths above are resolved against (set by load_config).
    base_dir: str = ""

    @field_validator("base_dir")
    @classmethod
    def _base_dir_exists(cls, value: str) -> str:
        if value and not os.path.isdir(value):
            raise ValueError(f"base_dir {value!r} is not a directory")
        return value

    def resolve(self, relative: str) -> str:
        """Absolute path of a file named relative to the config file."""
        return relative if os.path.isabs(relative) else os.path.join(self.base_dir, relative)

    def resolve_uri(self, path: str) -> str:
        """Like ``resolve``, but a URI such as ``gs://bucket/list.txt`` is kept as it is."""
        return path if "://" in path else self.resolve(path)


_ADAPTER = TypeAdapter(JobConfig)


def parse_config(data: dict[str, Any] | None, base_dir: str) -> JobConfig:
    """Validate a config mapping; raises ConfigError naming every bad key."""
    data = dict(data or {})
    if "base_dir" in data:
        raise ConfigError("config: 'base_dir' is set by the loader, not in YAML")
    data["base_dir"] = base_dir
    try:
        config = _ADAPTER.validate_python(_lists_to_tuples(data))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid config: {problems}") from None
    _check_files(config)
    _check_voice(config)
    _check_policy(config)
    return config


def _lists_to_tuples(value: Any) -> Any:
    # YAML has lists; the frozen config holds tuples (hashable, immutable).
    if isinstance(value, dict):
        return {key: _lists_to_tuples(item) for key, item in value.items()}
    if isinstance(value, list):
        return tuple(_lists_to_tuples(item) for item in value)
    return value


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader; ``load_yaml`` checks the composed document for repeated keys first."""


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _repeated_key(node: yaml.Node, path: str = "", visited: set[int] | None = None) -> str | None:
    """'policy.opt_out_lists (line 14, first at line 11)' for the first key given twice, at any depth."""
    visited = set() if visited is None else visited
    if id(node) in visited:  # an alias of a node already checked (or a recursive one)
        return None
    visited.add(id(node))
    children: list[tuple[str, yaml.Node]] = []
    if isinstance(node, yaml.SequenceNode):
        children = [(f"{path}[{index}]", item) for index, item in enumerate(node.value)]
    elif isinstance(node, yaml.MappingNode):
        first_line: dict[str, int] = {}
        for key, value in node.value:
            label = str(key.value) if isinstance(key, yaml.ScalarNode) else "<complex key>"
            name = f"{path}.{label}" if path else label
            if isinstance(key, yaml.ScalarNode) and key.tag != _MERGE_TAG:
                line = key.start_mark.line + 1
                if label in first_line:
                    return f"{name} (line {line}, first at line {first_line[label]})"
                first_line[label] = line
            children.append((name, value))
    for name, child in children:
        found = _repeated_key(child, name, visited)
        if found:
            return found
    return None


def load_yaml(handle, where: str) -> Any:
    """One YAML document (safe types only); ConfigError if any mapping repeats a key."""
    loader = _StrictLoader(handle)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        repeated = _repeated_key(node)
        if repeated:
            raise ConfigError(f"config {where!r}: key {repeated} is given twice; remove one")
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_config(path: str = DEFAULT_CONFIG_PATH) -> JobConfig:
    """Read and validate a YAML config file."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = load_yaml(handle, path)
    except OSError as exc:
        raise ConfigError(f"cannot read config {path!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config {path!r} is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config {path!r} is not valid YAML: {exc}") from None
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f"config {path!r} must be a mapping at the top level")
    return parse_config(data, os.path.dirname(os.path.abspath(path)))


def _check_files(config: JobConfig) -> None:
    t = config.transcript
    for name in ("analyzer_conf", "nlp_conf", "recognizers_conf"):
        path = config.resolve(getattr(t, name))
        if not os.path.isfile(path):
            raise ConfigError(f"invalid config: transcript.{name}: file {path!r} not found")


def _check_policy(config: JobConfig) -> None:
    """Every opt-out and deletion list is read once now, with the parser the job uses: a missing
    list, or a line that is not exactly one account id, would let a listed customer's clips
    through, so it stops the run instead. Streamed (about 2 CPU s per million lines); the
    message names the file and line number, never a listed id."""
    from transforms.policy_lists import ListFormatError, check_list

    policy = config.policy
    for name in ("opt_out_lists", "deletion_lists"):
        for path in getattr(policy, name):
            try:
                check_list(config.resolve_uri(path), policy.list_ids_case_sensitive, policy.list_id_column)
            except ListFormatError as exc:
                raise ConfigError(f"invalid config: policy.{name}: {exc}") from None


def _check_voice(config: JobConfig) -> None:
    from transforms.voice import validate_voice_config

    try:
        validate_voice_config(config.voice)
    except ValueError as exc:
        raise ConfigError(f"invalid config: voice: {exc}") from None


def config_to_dict(config: JobConfig) -> dict[str, Any]:
    """Plain-dict form (without the machine-specific base_dir)."""
    data = dataclasses.asdict(config)
    data.pop("base_dir", None)
    return data


def config_hash(config: JobConfig) -> str:
    """SHA-256 over the validated config and the contents of the Presidio files it names."""
    digest = hashlib.sha256()
    digest.update(json.dumps(config_to_dict(config), sort_keys=True, default=list).encode())
    t = config.transcript
    for name in ("analyzer_conf", "nlp_conf", "recognizers_conf"):
        with open(config.resolve(getattr(t, name)), "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()[:16]
