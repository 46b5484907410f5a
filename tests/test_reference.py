"""The documentation's reference tables are generated from the code: every config key with its
default, every reviewer column, every subcommand and make target; a field added to a config
dataclass appears without anyone writing it down, and one without a meaning stops the build.
The README's commands table names every subcommand and make target."""

from __future__ import annotations

import dataclasses
import re

import pytest
from pydantic import Field
from pydantic.dataclasses import dataclass

from pipeline import reference
from pipeline.config import JobConfig
from tests.conftest import REPO
from transforms.core.schema import REVIEWER_SCHEMA


def _leaf_fields(cls, prefix=""):
    """(dotted key, default) of every leaf field, walked with dataclasses, not with the generator."""
    default = cls()
    for field in dataclasses.fields(cls):
        if field.name in reference.INTERNAL_FIELDS:
            continue
        value = getattr(default, field.name)
        if dataclasses.is_dataclass(value):
            yield from _leaf_fields(type(value), f"{prefix}{field.name}.")
        else:
            yield f"{prefix}{field.name}", value


def _rows(table: str) -> dict[str, list[str]]:
    """First cell (without backticks) -> the row's cells, for a generated Markdown table."""
    rows = {}
    for line in table.splitlines():
        if line.startswith("| `"):
            cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
            rows[cells[0].strip("`")] = cells
    return rows


def test_when_the_config_reference_is_generated_then_every_key_is_there_with_its_default_and_a_meaning():
    rows = _rows(reference.config_table())
    expected = dict(_leaf_fields(JobConfig))
    assert len(expected) > 50
    assert set(rows) == set(expected)
    for key, default in expected.items():
        cells = rows[key]
        assert cells[3] == f"`{reference._cell(reference._yaml(default))}`", key
        assert len(cells[5]) > 5, f"{key} has no meaning"
    assert rows["audio.sample_rate"][2] == "≥ 8000, ≤ 48000" and rows["audio.sample_rate"][3] == "`16000`"
    assert rows["policy.retention_days"][3] == "`180`" and rows["transcript.spacy_disable"][3] == "`[parser]`"
    assert rows["transcript.operators"][3] == "`{default: tag}`" and rows["watermark.key_file"][3] == '`""`'
    assert rows["policy.no_wake_word"][1] == "`drop` \\| `flag` \\| `keep`"
    # What configs/default.yaml sets, where it differs from the dataclass default.
    assert rows["voice.preset"][3:5] == ["`null`", "`fast`"]
    assert rows["audio.sample_rate"][4] == "(default)"
    assert "base_dir" not in reference.config_table()


@dataclass(frozen=True)
class _Section:
    """A section someone added."""

    # How loud the new thing is.
    brand_new_key: float = Field(0.25, ge=0.0, le=1.0)
    other: str = "x"  # a trailing comment counts too


@dataclass(frozen=True)
class _Root:
    extra: _Section = Field(default_factory=_Section)


@dataclass(frozen=True)
class _Undocumented:
    silent: int = 3


def test_when_a_field_is_added_to_a_dataclass_then_it_appears_in_the_reference():
    table = reference.config_table(_Root, shipped={"extra": {"other": "y"}})
    rows = _rows(table)
    assert rows["extra.brand_new_key"] == [
        "`extra.brand_new_key`", "float", "≥ 0.0, ≤ 1.0", "`0.25`", "(default)", "How loud the new thing is.",
    ]  # fmt: skip
    assert rows["extra.other"][3:] == ["`x`", "`y`", "a trailing comment counts too"]
    assert "### `extra`" in table and "A section someone added." in table


def test_when_a_field_has_no_comment_then_the_reference_refuses_to_build():
    with pytest.raises(reference.ReferenceError, match="'silent'"):
        reference.config_table(_Undocumented, shipped={})


def test_when_the_reviewer_schema_is_generated_then_every_column_is_there_with_its_arrow_type():
    rows = _rows(reference.reviewer_schema_table())
    assert list(rows) == REVIEWER_SCHEMA.names
    for field in REVIEWER_SCHEMA:
        assert rows[field.name][1] == f"`{field.type}`"
        assert len(rows[field.name][3]) > 3
    assert rows["review_batch"][2] == "yes" and rows["audio"][2] == "no"


def test_when_a_marker_names_no_table_then_expand_raises_and_known_markers_are_replaced():
    page = "# Page\n\n<!-- reference: commands -->\n"
    out = reference.expand(page)
    assert "<!--" not in out and "`python -m pipeline run`" in out
    with pytest.raises(reference.ReferenceError, match="no-such-table"):
        reference.expand("<!-- reference: no-such-table -->", where="x.md")


@pytest.mark.parametrize("text, cell", [
    ("tag (<PERSON>) | mask", "tag (&lt;PERSON&gt;) \\| mask"),
    ("`a|b` and <x>", "`a|b` and &lt;x&gt;"),
    ("see :mod:`transforms.x`", "see `transforms.x`"),
])  # fmt: skip
def test_when_text_goes_into_a_table_cell_then_html_and_pipes_are_escaped_outside_code(text, cell):
    assert reference._cell(text) == cell


def test_the_readme_commands_table_names_every_subcommand_and_make_target():
    with open(f"{REPO}/README.md", encoding="utf-8") as handle:
        readme = handle.read()
    table = readme[readme.index("## Commands") : readme.index("## Documentation")]
    for module in reference.command_modules():
        assert f"`python -m pipeline {module.NAME} " in table or f"`python -m pipeline {module.NAME}`" in table
    targets = reference.make_targets()
    assert {"run", "test", "lint", "docs", "docs-serve", "docs-screenshot"} <= set(targets)
    for target in targets:
        assert re.search(rf"`make {re.escape(target)}`", table), target
    # The two first commands, and the one CI runs.
    with open(f"{REPO}/.ci/run", encoding="utf-8") as handle:
        ci = handle.read().split()
    assert "make run" in readme and "make test" in readme and "test" in ci and "lint" in ci
