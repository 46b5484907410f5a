"""The explicit Arrow schemas of everything the job writes.

The reviewer schema is the contract with reviewers and compliance: every column has a meaning in
:data:`COLUMN_MEANINGS`, and the documentation's schema page is generated from both
(``pipeline/reference.py``). There is deliberately no column for an account id, a first name, a device serial,
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

# What each reviewer column holds, for the documentation (the escalation output has the same schema).
COLUMN_MEANINGS = {
    "review_id": "per-row id: keyed hash of the clip id — random to reviewers, stable across reruns with the same key",
    "speaker_pseudonym": "`spk_…` HMAC of the account under the epoch's key (`clp_…` in per-clip mode)",
    "pseudonym_epoch": "`YYYY-MM`, first month of the pseudonym epoch",
    "expires_at": (
        "epoch end + retention: by then every clip of the epoch is past retention and the epoch key is due for "
        "destruction"
    ),
    "audio": "disguised (and PII-muted) audio, FLAC (default) or Ogg Vorbis",
    "audio_mime": "`audio/flac` or `audio/ogg`",
    "sample_rate": "Hz (default 16000)",
    "duration_s": "seconds",
    "transcript": "redacted transcript (`<PERSON>`, `<PHONE_NUMBER>`, … or the configured operator)",
    "entities": "redacted spans (entity type, start, end), offsets in `transcript`",
    "muted_intervals": "audio intervals (start_s, end_s) replaced because PII was spoken there",
    "recorded_date": "`recorded_at` coarsened to a date",
    "locale": "from the manifest (BCP 47, standardised; `und` when absent or invalid)",
    "flags": "e.g. `no_wake_word` when the policy flags instead of dropping",
    "run_id": "provenance: the run that wrote the row",
    "config_hash": "provenance: fingerprint of the validated config and the Presidio YAML it names",
    "pipeline_version": "provenance: the job's version",
    "review_batch": (
        "the reviewer batch (0..`watermark.batches`-1) the clip's audio watermark names; hand batches to reviewers "
        "by this column"
    ),
}
