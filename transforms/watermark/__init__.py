"""The keyed audio watermark as plain functions (no Beam): payload code, embedding, detection,
false-alarm model and the watermark key.

``transforms.watermark_audio.MarkAudio`` is the stage that embeds it; ``python -m pipeline trace``
detects it; ``python -m pipeline evaluate-watermark`` measures it.
"""

from transforms.watermark.code import MAX_BATCHES, PAYLOAD_BITS, Payload
from transforms.watermark.keys import WatermarkKey, batch_of, resolve_watermark_key, run_tag
from transforms.watermark.mark import Detection, Marker, detect, layout
from transforms.watermark.null_model import MAX_FALSE_ALARM, false_alarm

__all__ = [
    "MAX_BATCHES",
    "MAX_FALSE_ALARM",
    "PAYLOAD_BITS",
    "Detection",
    "Marker",
    "Payload",
    "WatermarkKey",
    "batch_of",
    "detect",
    "false_alarm",
    "layout",
    "resolve_watermark_key",
    "run_tag",
]
