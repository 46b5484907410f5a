"""MkDocs hook (``hooks:`` in ``mkdocs.yml``): fills the generated reference tables into the pages.

In:  every page's Markdown. Out: the same Markdown with each ``<!-- reference: NAME -->`` marker
replaced by the table :mod:`pipeline.reference` generates from the code (config keys, voice
plug-in parameters, the reviewer schema, the subcommands, the make targets). Fails: the build stops
when a marker names no table or a config field has no meaning.
"""

from __future__ import annotations

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def on_config(config):
    # This checkout's code, even where another checkout of the package is installed (editable
    # installs map `pipeline` and `transforms` to their own folder). Set here, not at import: MkDocs
    # restores sys.path after loading a hook module.
    if sys.path[:1] != [REPO]:
        sys.path.insert(0, REPO)
    return config


def on_page_markdown(markdown, page, config, files):
    from pipeline import reference

    return reference.expand(markdown, where=page.file.src_path)
