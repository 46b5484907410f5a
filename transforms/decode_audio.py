"""Audio decoding stage: ``DecodeAudio``.

In:  validated clips with ``audio_uri``.
Out: clips with mono float32 ``samples`` at the configured ``sample_rate``.
Fails: missing, empty, corrupt, too long or NaN-bearing audio, a path that is not a regular file
     (a FIFO would block the worker) or an ffmpeg decode longer than ``decode_timeout_s``
     quarantines the clip (stage ``decode``) with a code from :mod:`transforms.audio_io`.
"""

from __future__ import annotations

import apache_beam as beam

from transforms import audio_io
from transforms.core.records import Clip
from transforms.core.stage import ClipStageFn, StageOutputs, apply_stage


class _DecodeAudioFn(ClipStageFn):
    stage = "decode"

    def __init__(self, config):
        super().__init__()
        self._config = config

    def handle(self, clip: Clip) -> Clip:
        rate = self._config.sample_rate
        config = self._config
        samples = audio_io.load(clip.audio_uri, rate, config.max_duration_s, timeout_s=config.decode_timeout_s)
        self.counters.observe("audio_ms", int(1000 * len(samples) / rate))
        return clip._replace(samples=samples, sample_rate=rate)


class DecodeAudio(beam.PTransform):
    """Decode each clip's audio to mono at the configured rate."""

    def __init__(self, config):
        super().__init__()
        self._fn = _DecodeAudioFn(config)

    def expand(self, clips) -> StageOutputs:
        return apply_stage(clips, "Decode", self._fn)
