"""Where ``--output`` may go: never onto a file, never onto (or above) the raw manifest's folder."""

import os

import pytest

from pipeline.layout import OutputLocationError, check_output_location


@pytest.fixture()
def tree(tmp_path):
    (tmp_path / "in" / "audio").mkdir(parents=True)
    (tmp_path / "in" / "manifest.jsonl").write_text("")
    (tmp_path / "afile").write_text("")
    os.symlink(tmp_path / "in", tmp_path / "link-to-in")
    return tmp_path


@pytest.mark.parametrize(
    "output, refused",
    [
        ("out", None),
        ("in-sibling", None),  # shares a prefix with 'in', is not inside it
        ("out/nested/deeper", None),
        ("in/out", None),  # a new folder inside the input's: nothing raw lies under it
        ("in/audio/out", None),
        ("out/../in/run", None),
        ("in", "holds, the folder of the input manifest"),
        ("in/", "holds, the folder of the input manifest"),
        ("out/../in", "holds, the folder of the input manifest"),
        ("link-to-in", "holds, the folder of the input manifest"),  # the same folder by another name
        (".", "holds, the folder of the input manifest"),  # the raw input would lie inside the outputs
        ("afile", "is a file"),
        ("afile/run", "lies inside a file"),
        ("in/manifest.jsonl", "is a file"),
    ],
)
def test_when_output_is_a_file_or_holds_the_input_folder_then_it_is_refused(tree, output, refused):
    manifest, out = str(tree / "in" / "manifest.jsonl"), str(tree / output) + ("/" if output.endswith("/") else "")
    if refused is None:
        check_output_location(manifest, out)
        return
    with pytest.raises(OutputLocationError, match=refused):
        check_output_location(manifest, out)


@pytest.mark.parametrize(
    "manifest, output, refused",
    [
        ("gs://bucket/raw/manifest.jsonl", "gs://bucket/anon/run1", False),
        ("gs://bucket/raw/manifest.jsonl", "gs://bucket/raw-anon/run1", False),
        ("gs://bucket/raw/manifest.jsonl", "gs://bucket/raw/anon", False),
        ("gs://bucket/raw/manifest.jsonl", "gs://bucket/raw", True),
        ("gs://bucket/raw/manifest.jsonl", "GS://bucket//raw/./", True),
        ("gs://bucket/raw/manifest.jsonl", "gs://bucket/x/../raw", True),
        ("gs://bucket/raw/manifest.jsonl", "gs://bucket", True),
        ("gs://bucket/raw/manifest.jsonl", "s3://bucket/raw/anon", False),
    ],
)
def test_when_paths_are_uris_then_normalised_prefixes_are_compared(manifest, output, refused):
    if refused:
        with pytest.raises(OutputLocationError):
            check_output_location(manifest, output)
    else:
        check_output_location(manifest, output)
