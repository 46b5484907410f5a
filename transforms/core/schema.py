"""The explicit Arrow schemas of everything the job writes.

The reviewer schema is the contract with reviewers and compliance: every column is listed in
the README. There is deliberately no column for an account id, a first name, a device serial,
the original audio, the original transcript or the audio URI.
"""

import pyarrow as pa

ENTITY = pa.struct([("type", pa.string()), ("start", pa.int32()), ("end", pa.int32())])
INTERVAL = pa.struct([("start_s", pa.float64()), ("end_s", pa.float64())])

REVIEWER_SCHEMA = pa.schema(
    [
        pa.field("review_id", pa.string(), nullable=False),
        pa.field("speaker_pseudonym", pa.string(), nullable=False),
        pa.field("pseudonym_epoch", pa.string(), nullable=False),
        pa.field("expires_at", pa.date32(), nullable=False),
        pa.field("audio", pa.binary(), nullable=False),
        pa.field("audio_mime", pa.string(), nullable=False),
        pa.field("sample_rate", pa.int32(), nullable=False),
        pa.field("duration_s", pa.float64(), nullable=False),
        pa.field("transcript", pa.string(), nullable=False),
        pa.field("entities", pa.list_(ENTITY), nullable=False),
        pa.field("muted_intervals", pa.list_(INTERVAL), nullable=False),
        pa.field("recorded_date", pa.date32(), nullable=False),
        pa.field("locale", pa.string(), nullable=False),
        pa.field("flags", pa.list_(pa.string()), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("config_hash", pa.string(), nullable=False),
        pa.field("pipeline_version", pa.string(), nullable=False),
        pa.field("review_batch", pa.int16(), nullable=True),  # the batch the audio's watermark names
    ]
)
