"""The reviewer row: exactly the schema's columns, nothing raw."""

import datetime
import glob
import hashlib

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.test_pipeline import TestPipeline

from pipeline.config import OutputConfig
from transforms.core.keys import KeySource
from transforms.core.records import Clip, RunMeta, Span
from transforms.core.schema import REVIEWER_SCHEMA
from transforms.write_shards import WriteReviewerShards, review_id, to_reviewer_row

KEY = b"r" * 32
META = RunMeta("run-1", "cfg", "0.1.0")


def make_clip() -> Clip:
    return Clip(
        clip_id="clip-1",
        audio_uri="/raw/ACCT-4829105573/clip-1.wav",
        transcript="this is jennifer",
        account_id="ACCT-4829105573",
        recorded_at=datetime.datetime(2026, 11, 3, 14, 22, 5, tzinfo=datetime.timezone.utc),
        first_name="Jennifer",
        device_serial="G090XF0731945822",
        locale="en-US",
        redacted_transcript="this is <PERSON>",
        entities=(Span("PERSON", 8, 16),),
        samples=np.zeros(1600, np.float32),
        sample_rate=16000,
        muted_intervals=((0.5, 0.9),),
        speaker_pseudonym="spk_abc",
        pseudonym_epoch="2026-07",
        pseudonym_expires=datetime.date(2027, 6, 30),
        flags=("no_wake_word",),
    )


def test_row_has_exactly_the_schema_columns_and_converts():
    row = to_reviewer_row(make_clip(), META, KEY, "flac")
    assert set(row) == set(REVIEWER_SCHEMA.names)
    table = pa.Table.from_pylist([row], schema=REVIEWER_SCHEMA)
    assert table.num_rows == 1
    assert row["recorded_date"] == datetime.date(2026, 11, 3)
    assert row["duration_s"] == 0.1


def test_row_carries_no_raw_value():
    clip = make_clip()
    row = to_reviewer_row(clip, META, KEY, "flac")
    text = repr({k: v for k, v in row.items() if k != "audio"})
    for raw in (clip.account_id, clip.first_name, clip.device_serial, clip.audio_uri, clip.transcript, "14:22"):
        assert raw.lower() not in text.lower()


def test_review_id_is_keyed_and_stable():
    assert review_id(KEY, "c1") == review_id(KEY, "c1")
    assert review_id(KEY, "c1") != review_id(b"s" * 32, "c1")


@pytest.mark.parametrize("row_group_mb, expect_several", [(0.5, True), (8.0, False)])
def test_shard_writer_buffers_at_most_the_configured_row_group(tmp_path, row_group_mb, expect_several):
    """Beam's default buffers 64 MB of rows per writer; the configured bound keeps workers flat."""
    rng = np.random.default_rng(0)
    clips = [
        make_clip()._replace(clip_id=f"c{i}", samples=(0.3 * rng.standard_normal(16000)).astype(np.float32))
        for i in range(60)
    ]
    output = OutputConfig(num_shards=1, row_group_mb=row_group_mb, record_batch_rows=8)
    key = KeySource("ephemeral", "", hashlib.sha256(b"shard test key").hexdigest().encode())
    with TestPipeline() as p:
        _ = p | beam.Create(clips) | WriteReviewerShards(str(tmp_path / "reviewer" / "part"), META, key, "flac", output)
    files = glob.glob(str(tmp_path / "reviewer" / "*.parquet"))
    assert len(files) == 1
    parquet = pq.ParquetFile(files[0])
    assert parquet.metadata.num_rows == 60
    largest = max(parquet.metadata.row_group(i).total_byte_size for i in range(parquet.num_row_groups))
    assert (parquet.num_row_groups > 1) == expect_several
    assert largest <= (row_group_mb + 0.5) * 1024 * 1024
