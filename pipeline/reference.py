"""Reference tables for the documentation site, generated from the code so they cannot drift.

In:  the frozen config dataclasses (:class:`pipeline.config.JobConfig` and the section dataclasses
     the stages own, plus each voice plug-in's parameter dataclass), ``configs/default.yaml``, the
     reviewer Arrow schema (:data:`transforms.core.schema.REVIEWER_SCHEMA`), the subcommands in
     :mod:`pipeline.commands` and the Makefile's documented targets.
Out: Markdown. :func:`expand` replaces ``<!-- reference: NAME -->`` markers in a page with the
     table named (``config``, ``voice-params``, ``reviewer-schema``, ``commands``,
     ``make-targets``); the MkDocs hook
     (``docs/tooling/mkdocs_hooks.py``) calls it for every page at build time.
Fails: :class:`ReferenceError` when a config field has no comment saying what it means, a reviewer
     column has no meaning, or a page names a table that does not exist, so ``mkdocs build
     --strict`` (``make lint``) stops instead of publishing a reference with holes.

A field's meaning is the comment written with it in the dataclass: the ``#`` lines right above the
field and any ``#`` comment on its own lines. Types, ranges and defaults come from the pydantic
fields themselves.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import io
import os
import pkgutil
import re
import textwrap
import tokenize
import types
import typing
from collections.abc import Callable
from typing import Any

import yaml

MARKER = re.compile(r"<!--\s*reference:\s*([a-z-]+)\s*-->")

# Set by the loader (the config file's folder), refused in YAML: not a key an operator writes.
INTERNAL_FIELDS = frozenset({"base_dir"})


class ReferenceError(ValueError):
    """The reference cannot be generated completely; the message says what is missing."""


@dataclasses.dataclass(frozen=True)
class Key:
    """One config key as the reference shows it."""

    path: str  # dotted, e.g. "audio.sample_rate"
    type: str
    bounds: str
    default: Any
    meaning: str


def field_comments(cls: type) -> dict[str, str]:
    """Field name -> its comment (the ``#`` lines just above it and on its own lines), over the MRO."""
    comments: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass is object or not dataclasses.is_dataclass(klass):
            continue
        try:
            lines, _ = inspect.getsourcelines(klass)
        except (OSError, TypeError):
            continue
        comments.update(_class_comments(textwrap.dedent("".join(lines))))
    return comments


def _class_comments(source: str) -> dict[str, str]:
    by_line: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            by_line[token.start[0]] = token.string.lstrip("#").strip()
    lines = source.splitlines()
    (node,) = ast.parse(source).body
    comments = {}
    for item in node.body:
        if not (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)):
            continue
        above = []
        line = item.lineno - 1
        while line >= 1 and lines[line - 1].strip().startswith("#"):
            above.insert(0, by_line[line])
            line -= 1
        inline = [by_line[n] for n in range(item.lineno, item.end_lineno + 1) if n in by_line]
        text = " ".join(part for part in above + inline if part)
        if text:
            comments[item.target.id] = text
    return comments


def type_name(annotation: Any) -> str:
    """A YAML reader's name for a field type: ``int``, ``list of str``, ``"drop" | "flag"``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return " | ".join(f"`{_yaml(arg)}`" for arg in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join("`null`" if arg is type(None) else type_name(arg) for arg in args)
    if origin is tuple:
        return f"list of {type_name(args[0])}"
    if origin is dict:
        return f"mapping {type_name(args[0])} → {type_name(args[1])}"
    if annotation is Any:
        return "any"
    return getattr(annotation, "__name__", str(annotation))


def bounds(metadata: list[Any]) -> str:
    """``≥ 8000, ≤ 48000`` from pydantic's annotated-types constraints."""
    symbols = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<", "min_length": "length ≥", "max_length": "length ≤"}
    parts = []
    for item in metadata:
        for attr, symbol in symbols.items():
            value = getattr(item, attr, None)
            if value is not None:
                parts.append(f"{symbol} {value}")
    return ", ".join(parts)


def _yaml(value: Any) -> str:
    if isinstance(value, tuple):
        value = list(value)
    if value is None:
        return "null"
    if isinstance(value, str):
        return yaml.safe_dump(value, default_style=None).splitlines()[0] if value else '""'
    return yaml.safe_dump(value, default_flow_style=True, width=10**6).strip().removesuffix("\n...").strip()


def _fields(cls: type) -> dict[str, Any]:
    # pydantic dataclasses keep their FieldInfo (annotation, constraints) here.
    return dict(cls.__pydantic_fields__)


def _is_section(annotation: Any) -> bool:
    return isinstance(annotation, type) and dataclasses.is_dataclass(annotation)


def keys(cls: type, prefix: str = "", require_meaning: bool = True) -> list[Key]:
    """Every key of ``cls`` (nested sections flattened), with its default from ``cls()``."""
    comments = field_comments(cls)
    default = cls()
    found = []
    for name, info in _fields(cls).items():
        if name in INTERNAL_FIELDS:
            continue
        path = f"{prefix}{name}"
        if _is_section(info.annotation):
            found.extend(keys(info.annotation, f"{path}.", require_meaning))
            continue
        meaning = comments.get(name, "")
        if require_meaning and not meaning:
            raise ReferenceError(f"config key {path!r} ({cls.__name__}.{name}) has no comment saying what it means")
        found.append(Key(path, type_name(info.annotation), bounds(info.metadata), getattr(default, name), meaning))
    return found


def _cell(text: str) -> str:
    """A table cell: one line, no raw HTML outside code spans ("<PERSON>" is text), no Sphinx roles."""
    parts = re.sub(r":[a-z]+:`", "`", text).replace("\n", " ").split("`")
    # Outside code spans (even parts) pipes and angle brackets are escaped; inside, Markdown keeps them.
    escaped = (part.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;") for part in parts[::2])
    parts[::2] = list(escaped)
    return "`".join(parts)


def _lookup(data: Any, path: str) -> tuple[bool, Any]:
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return False, None
        data = data[part]
    return True, data


def config_table(cls: type | None = None, shipped: dict[str, Any] | None = None) -> str:
    """One table per section: key, type, allowed range, default, value in ``configs/default.yaml``, meaning."""
    if cls is None:
        from pipeline.config import JobConfig

        cls = JobConfig
    if shipped is None:
        shipped = _shipped_config()
    out = []
    section = None
    for key in keys(cls):
        head = key.path.split(".")[0] if "." in key.path else ""
        if head != section:
            section = head
            doc = _section_doc(cls, head)
            out += ["", f"### `{head}`" if head else "### top level", ""]
            if doc:
                out += [doc, ""]
            out += [
                "| key | type | allowed | default | default.yaml sets | meaning |",
                "|---|---|---|---|---|---|",
            ]
        present, value = _lookup(shipped, key.path)
        ships = f"`{_cell(_yaml(value))}`" if present and value != _plain(key.default) else "(default)"
        out.append(
            f"| `{key.path}` | {_cell(key.type)} | {key.bounds} | `{_cell(_yaml(key.default))}` | {ships} "
            f"| {_cell(key.meaning)} |"
        )
    return "\n".join(out).strip() + "\n"


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _section_doc(cls: type, name: str) -> str:
    if not name:
        return ""
    doc = inspect.getdoc(_fields(cls)[name].annotation) or ""
    return _cell(doc.split("\n\n")[0]).replace("\\|", "|")


def _shipped_config() -> dict[str, Any]:
    from pipeline.config import DEFAULT_CONFIG_PATH

    with open(DEFAULT_CONFIG_PATH, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def voice_params_table() -> str:
    """``voice.params`` for each plug-in in ``transforms.disguise.METHODS`` (comments where written)."""
    from transforms.disguise import METHODS
    from transforms.voice import PRESETS

    presets = {method: name for name, (method, _) in PRESETS.items()}
    out = []
    for method, plugin in METHODS.items():
        preset = f" (preset `{presets[method]}`)" if method in presets else ""
        out += ["", f"#### `{method}`{preset}", "", "| parameter | type | allowed | default | meaning |"]
        out.append("|---|---|---|---|---|")
        for key in keys(plugin.params_type, require_meaning=False):
            out.append(
                f"| `{key.path}` | {_cell(key.type)} | {key.bounds} | `{_cell(_yaml(key.default))}` "
                f"| {_cell(key.meaning)} |"
            )
    return "\n".join(out).strip() + "\n"


def reviewer_schema_table() -> str:
    """The reviewer Parquet columns from the Arrow schema the job writes, with their meanings."""
    from transforms.core.schema import COLUMN_MEANINGS, REVIEWER_SCHEMA

    missing = [field.name for field in REVIEWER_SCHEMA if field.name not in COLUMN_MEANINGS]
    stale = sorted(set(COLUMN_MEANINGS) - set(REVIEWER_SCHEMA.names))
    if missing or stale:
        raise ReferenceError(f"reviewer columns without a meaning: {missing}; meanings of no column: {stale}")
    out = ["| column | Arrow type | nullable | meaning |", "|---|---|---|---|"]
    for field in REVIEWER_SCHEMA:
        nullable = "yes" if field.nullable else "no"
        out.append(f"| `{field.name}` | `{field.type}` | {nullable} | {_cell(COLUMN_MEANINGS[field.name])} |")
    return "\n".join(out) + "\n"


def command_modules() -> list[Any]:
    """The subcommand modules of ``python -m pipeline``, by name (as ``pipeline.cli`` finds them)."""
    from pipeline import commands

    found = [
        importlib.import_module(f"{commands.__name__}.{info.name}") for info in pkgutil.iter_modules(commands.__path__)
    ]
    return sorted((module for module in found if hasattr(module, "NAME")), key=lambda module: module.NAME)


def commands_table() -> str:
    """Every subcommand with its one-line help, as ``python -m pipeline --help`` gives it."""
    out = ["| command | what it does |", "|---|---|"]
    for module in command_modules():
        out.append(f"| `python -m pipeline {module.NAME}` | {_cell(module.HELP)} |")
    return "\n".join(out) + "\n"


MAKEFILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Makefile")
_TARGET = re.compile(r"^([a-z][a-z0-9-]*):[^=#]*##\s*(.+)$")


def make_targets(makefile: str = MAKEFILE) -> dict[str, str]:
    """Target -> its ``## help`` comment, for every documented target of the Makefile."""
    with open(makefile, encoding="utf-8") as handle:
        return {m.group(1): m.group(2).strip() for m in map(_TARGET.match, handle) if m}


def make_targets_table() -> str:
    """Every documented make target with its help comment."""
    out = ["| target | what it does |", "|---|---|"]
    out += [f"| `make {name}` | {_cell(text)} |" for name, text in make_targets().items()]
    return "\n".join(out) + "\n"


TABLES: dict[str, Callable[[], str]] = {
    "config": config_table,
    "voice-params": voice_params_table,
    "reviewer-schema": reviewer_schema_table,
    "commands": commands_table,
    "make-targets": make_targets_table,
}


def expand(markdown: str, where: str = "page") -> str:
    """``markdown`` with every ``<!-- reference: NAME -->`` marker replaced by its table."""

    def table(match: re.Match) -> str:
        name = match.group(1)
        if name not in TABLES:
            raise ReferenceError(f"{where}: no reference table {name!r}; known: {sorted(TABLES)}")
        return TABLES[name]()

    return MARKER.sub(table, markdown)
