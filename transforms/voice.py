"""Voice disguise stage: ``DisguiseVoice``.

In:  clips with decoded mono float32 ``samples`` and their pseudonym epoch.
Out: the same clips with disguised ``samples`` (see :func:`transforms.disguise.disguise` for what
     every method guarantees: same length, finite, loudness-normalised, silence stays silent).
Fails: a DSP error quarantines the clip (stage ``voice``); a clip is never passed on undisguised.
     A clip without a pseudonym epoch (the identifier stage has not run) is quarantined.

The method is a plug-in of :mod:`transforms.disguise`, chosen directly (``method`` + ``params``) or
through a privacy ``preset`` (:data:`PRESETS`): ``fast`` = ``pseudo_voice`` (signal processing,
≈ 250× real time per core), ``strong`` = ``knn_vc`` (content-based conversion against a bank of
licensed voices; needs the ``strong`` extra; slower, far more private). Its
parameters are drawn from a NumPy generator seeded by HMAC(voice key of the clip's pseudonym epoch,
epoch + account id) — or, with ``per_clip: true``, by HMAC(that key, clip id) — so a speaker keeps
one pseudo-voice inside an epoch, gets a new one in the next, and nobody without the key can redraw
or undo the parameters. Destroying an epoch's key in the keyring makes its draws unrecoverable.
"""

from __future__ import annotations

from typing import Any, Literal

import apache_beam as beam
from pydantic import ConfigDict, Field, model_validator
from pydantic.dataclasses import dataclass
from pydantic_core import ArgsKwargs

from transforms.core.keys import derive_key
from transforms.core.records import Clip
from transforms.core.stage import ClipStageFn, StageOutputs, apply_stage
from transforms.disguise import LOUDNESS_DBFS, build_params, check_method, disguise, load_method, voice_rng

_STRICT = ConfigDict(extra="forbid")

# Privacy presets: a method and its parameters, measured by `python -m pipeline evaluate-voice` (the
# figures are in docs/privacy-and-utility.md). ``params`` in the config override single
# parameters of the preset.
PRESETS: dict[str, tuple[str, dict[str, Any]]] = {
    "fast": ("pseudo_voice", {}),
    "strong": ("knn_vc", {}),
}


@dataclass(config=_STRICT, frozen=True)
class VoiceConfig:
    """Voice disguise: a ``preset`` (``fast`` | ``strong``, see :data:`PRESETS`) or a ``method``
    naming a plug-in in ``transforms.disguise.METHODS``; ``params`` are that plug-in's parameters
    (over the preset's), validated by the plug-in's own dataclass. With a preset, ``method`` is
    filled in from it (naming another method as well is an error).

    ``per_clip`` draws fresh parameters for every clip instead of one pseudo-voice per speaker
    and epoch (more private against an attacker who can link clips, less consistent to hear).
    """

    # Privacy preset: "fast" = pseudo_voice (signal processing), "strong" = knn_vc (content-based
    # conversion; needs the 'strong' extra). Leave it out to name a method directly.
    preset: Literal["fast", "strong"] | None = None
    # The voice plug-in (transforms.disguise.METHODS); filled in from the preset, or pseudo_voice.
    method: str = ""
    # The plug-in's parameters, over the preset's; validated by the plug-in's own dataclass.
    params: dict[str, Any] = Field(default_factory=dict)
    # True: a new pseudo-voice per clip instead of one per speaker and pseudonym epoch.
    per_clip: bool = False
    # Speech RMS after disguise; peaks stay below -1 dBFS.
    loudness_dbfs: float = Field(LOUDNESS_DBFS, ge=-40.0, le=-6.0)

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if isinstance(data, ArgsKwargs):  # VoiceConfig(...) called directly
            if data.args:
                return data
            return ArgsKwargs((), cls._apply_preset(dict(data.kwargs or {})))
        if not isinstance(data, dict):
            return data
        data = dict(data)
        preset = data.get("preset")
        if preset in PRESETS:
            method, params = PRESETS[preset]
            if data.get("method") not in (None, "", method):
                raise ValueError(f"preset {preset!r} is method {method!r}; do not also set method {data['method']!r}")
            data["method"] = method
            data["params"] = {**params, **dict(data.get("params") or {})}
        elif not data.get("method"):
            data["method"] = "pseudo_voice"
        return data


def validate_voice_config(voice_config) -> None:
    """Config-time check (called by ``pipeline.config``): the parameters, and that what the method
    needs at run time is installed (the ``strong`` preset's extra and bank) — a ``ValueError``
    naming what is missing, before any worker starts."""
    params = build_params(voice_config.method, voice_config.params)
    try:
        check_method(voice_config.method, params)
    except (ImportError, OSError) as exc:
        raise ValueError(str(exc)) from None


class _DisguiseVoiceFn(ClipStageFn):
    stage = "voice"

    def __init__(self, voice_config, key_source):
        super().__init__()
        self._config = voice_config
        self._key_source = key_source

    def setup(self):
        self._params = build_params(self._config.method, dict(self._config.params))
        load_method(self._config.method, self._params)  # models and data once per worker process
        self._keyring = self._key_source.keyring()

    def handle(self, clip: Clip) -> Clip:
        # PseudonymizeIds runs first, so the clip carries its epoch; each epoch has its own key.
        epoch = clip.pseudonym_epoch
        if not epoch:
            raise ValueError("clip has no pseudonym epoch: the voice key is per epoch")
        key = derive_key(self._keyring.key_for(epoch), "voice")
        rng = voice_rng(key, clip.account_id, epoch, clip.clip_id if self._config.per_clip else None)
        samples = disguise(
            clip.samples, clip.sample_rate, self._config.method, self._params, rng, self._config.loudness_dbfs
        )
        return clip._replace(samples=samples)


class DisguiseVoice(beam.PTransform):
    """Disguise every clip's voice with the configured plug-in."""

    def __init__(self, voice_config, key_source):
        super().__init__()
        self._fn = _DisguiseVoiceFn(voice_config, key_source)

    def expand(self, clips) -> StageOutputs:
        return apply_stage(clips, "Disguise", self._fn)
