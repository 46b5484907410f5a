"""Voice-disguise methods as plain functions (no Beam): the registry, the plug-ins and their DSP.

``transforms.voice.DisguiseVoice`` is the stage that runs them; evaluations and benchmarks call
them directly.
"""

from transforms.disguise.registry import (
    LOUDNESS_DBFS,
    METHODS,
    MIN_ANALYSIS_S,
    PEAK_DBFS,
    VoiceMethod,
    build_params,
    check_method,
    disguise,
    load_method,
    voice_rng,
    voice_seed,
)

__all__ = [
    "LOUDNESS_DBFS",
    "METHODS",
    "MIN_ANALYSIS_S",
    "PEAK_DBFS",
    "VoiceMethod",
    "build_params",
    "check_method",
    "disguise",
    "load_method",
    "voice_rng",
    "voice_seed",
]
