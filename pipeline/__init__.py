"""Voice-clip anonymization job: raw voice-assistant clips in, reviewer-safe Parquet shards out."""

__version__ = "0.1.0"
