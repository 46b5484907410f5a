"""Recording conditions for the voice evaluation: speech as a voice assistant across a room hears it.

In:  :class:`~pipeline.evaluation.voice_material.Item` lists of clean 16 kHz speech, a condition
     name, and noise material (other speakers' speech for babble).
Out: the same items, degraded (same length, float32, peak ≤ 1); ``clean`` returns them unchanged.
Fails: ``ValueError`` for an unknown condition; ``ImportError`` naming the ``eval`` extra when
     pyroomacoustics is missing.

Conditions (every draw is seeded by the condition, the speaker and the item, so a run repeats):
- ``clean``: the folder's audio as it is.
- ``far_field``: per item (utterance piece) a shoebox room from ``pyroomacoustics``' image method,
  3-8 × 3-6 × 2.4-3.2 m, RT60 0.2-0.6 s, the talker 0.5-4 m from the microphone; then background
  noise at 5-20 dB SNR — babble of 3-6 other speakers, stationary noise (coloured noise with a
  random spectral slope and an appliance hum), or both; then **per speaker** one microphone and
  channel response (a high-pass at 60-250 Hz, a low-pass at 5-7.5 kHz, two peaking bands of
  ±6 dB), the same on all of that speaker's items as their own device would give; then a gain.
- ``far_field_phone``: ``far_field``, then a telephone band: 8 kHz, 300-3,400 Hz, G.711 μ-law,
  and back to 16 kHz.

The evaluation degrades every item it uses — enrolment, trials and the attacker's training speech
— so attackers enrol on degraded originals (the customer's own device and rooms) and word error is
measured against Whisper on the *same degraded original*: it counts only what the anonymiser loses.
"""

from __future__ import annotations

import hashlib

import numpy as np

from pipeline.evaluation.voice_material import RATE, Item

CONDITIONS = ("clean", "far_field", "far_field_phone")

ROOM_M = ((3.0, 8.0), (3.0, 6.0), (2.4, 3.2))
RT60_S = (0.2, 0.6)
DISTANCE_M = (0.5, 4.0)
SNR_DB = (5.0, 20.0)
BABBLE_TALKERS = (3, 6)
MAX_IMAGE_ORDER = 40  # image-source order cap: RT60 0.6 s in a small room asks ~80 and costs 0.5 s per RIR


def check_condition(condition: str) -> str:
    if condition not in CONDITIONS:
        raise ValueError(f"unknown recording condition {condition!r}: use one of {', '.join(CONDITIONS)}")
    return condition


def seeded_rng(*parts: str) -> np.random.Generator:
    """A generator seeded by ``parts`` (public: the conditions are part of the protocol, not a secret)."""
    digest = hashlib.sha256("\x1f".join(("voice-condition",) + parts).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def room_impulse_response(rng: np.random.Generator) -> np.ndarray:
    """A shoebox room's impulse response from talker to microphone, its direct path at index 0."""
    try:
        import pyroomacoustics as pra
    except ImportError as exc:
        raise ImportError(f"the far-field condition needs the 'eval' extra (pyroomacoustics): {exc}") from None

    dim = np.array([rng.uniform(lo, hi) for lo, hi in ROOM_M])
    absorption, order = pra.inverse_sabine(rng.uniform(*RT60_S), dim)
    room = pra.ShoeBox(dim, fs=RATE, materials=pra.Material(absorption), max_order=min(order, MAX_IMAGE_ORDER))
    margin = 0.3
    mic = np.array([rng.uniform(margin, d - margin) for d in dim[:2]] + [rng.uniform(0.7, 1.5)])
    for _ in range(200):  # a talker position inside the room at the drawn distance
        distance = rng.uniform(*DISTANCE_M)
        azimuth = rng.uniform(0, 2 * np.pi)
        source = mic + np.array([distance * np.cos(azimuth), distance * np.sin(azimuth), rng.uniform(-0.4, 0.6)])
        if np.all(source > margin) and np.all(source < dim - margin):
            break
    else:  # the drawn room is too small for every drawn distance: the room's far corner
        source = np.where(mic > dim / 2, margin, dim - margin)
    room.add_source(source)
    room.add_microphone(mic)
    room.compute_rir()
    rir = np.asarray(room.rir[0][0], dtype=np.float64)
    start = max(int(np.argmax(np.abs(rir))) - 8, 0)  # keep the talker's timing: no propagation delay
    return rir[start:]


def reverberate(samples: np.ndarray, rir: np.ndarray) -> np.ndarray:
    from scipy.signal import fftconvolve

    return fftconvolve(samples.astype(np.float64), rir)[: len(samples)]


def stationary_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Coloured noise (1/f^a, a in 0-2: from hiss to rumble) plus a fan or fridge hum."""
    spectrum = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    spectrum *= np.maximum(freqs, 20.0) ** (-rng.uniform(0.0, 2.0) / 2)
    noise = np.fft.irfft(spectrum, n)
    noise /= np.std(noise) + 1e-12
    hum_hz = rng.uniform(50.0, 120.0)
    t = np.arange(n) / RATE
    hum = sum(np.sin(2 * np.pi * hum_hz * h * t + rng.uniform(0, 2 * np.pi)) / h for h in (1, 2, 3))
    return noise + rng.uniform(0.0, 1.0) * hum / np.sqrt(2)


def babble(rng: np.random.Generator, n: int, pool: list[np.ndarray]) -> np.ndarray:
    """Several other talkers at equal level, each from a random place in a random utterance."""
    if not pool:
        raise ValueError("babble noise needs other speakers' speech")
    mixture = np.zeros(n)
    for _ in range(int(rng.integers(BABBLE_TALKERS[0], BABBLE_TALKERS[1] + 1))):
        source = pool[int(rng.integers(len(pool)))]
        reps = int(np.ceil(n / len(source))) + 1
        looped = np.tile(source, reps)
        offset = int(rng.integers(len(source)))
        piece = looped[offset : offset + n].astype(np.float64)
        mixture += piece / (np.std(piece) + 1e-9)
    return mixture


def add_noise(rng: np.random.Generator, speech: np.ndarray, pool: list[np.ndarray]) -> np.ndarray:
    kind = rng.choice(("babble", "stationary", "both"))
    n = len(speech)
    if kind == "babble":
        noise = babble(rng, n, pool)
    elif kind == "stationary":
        noise = stationary_noise(rng, n)
    else:
        noise = babble(rng, n, pool) / np.sqrt(2) + stationary_noise(rng, n) / np.sqrt(2)
    snr_db = rng.uniform(*SNR_DB)
    scale = np.sqrt(np.mean(speech**2) / (np.mean(noise**2) + 1e-12)) * 10 ** (-snr_db / 20)
    return speech + scale * noise


def peaking(freq: float, gain_db: float, q: float) -> np.ndarray:
    """One RBJ peaking-EQ biquad as a second-order section."""
    a = 10 ** (gain_db / 40)
    w = 2 * np.pi * freq / RATE
    alpha = np.sin(w) / (2 * q)
    b = np.array([1 + alpha * a, -2 * np.cos(w), 1 - alpha * a])
    den = np.array([1 + alpha / a, -2 * np.cos(w), 1 - alpha / a])
    return np.concatenate([b / den[0], den / den[0]])[None, :]


def channel_response(speaker: str, condition: str) -> np.ndarray:
    """The speaker's microphone and channel as second-order sections (the same on every item)."""
    from scipy.signal import butter

    rng = seeded_rng(condition, "channel", speaker)
    sections = [
        butter(2, rng.uniform(60.0, 250.0), "highpass", fs=RATE, output="sos"),
        butter(4, rng.uniform(5000.0, 7500.0), "lowpass", fs=RATE, output="sos"),
    ]
    for _ in range(2):
        sections.append(
            peaking(np.exp(rng.uniform(np.log(300.0), np.log(5000.0))), rng.uniform(-6, 6), rng.uniform(0.7, 2.0))
        )
    return np.concatenate(sections)


def telephone_band(samples: np.ndarray) -> np.ndarray:
    """8 kHz, 300-3,400 Hz, 8-bit μ-law (G.711), back to 16 kHz."""
    from scipy.signal import butter, resample_poly, sosfilt

    narrow = resample_poly(samples, 1, 2)
    narrow = sosfilt(butter(4, (300.0, 3400.0), "bandpass", fs=RATE // 2, output="sos"), narrow)
    narrow = np.clip(narrow, -1.0, 1.0)
    mu = 255.0
    coded = np.sign(narrow) * np.log1p(mu * np.abs(narrow)) / np.log1p(mu)
    coded = np.round((coded + 1) / 2 * 255) / 255 * 2 - 1
    decoded = np.sign(coded) * np.expm1(np.abs(coded) * np.log1p(mu)) / mu
    return resample_poly(decoded, 2, 1)[: len(samples)]


def degrade(item: Item, condition: str, pool: list[np.ndarray]) -> Item:
    """``item`` as recorded under ``condition`` (see the module docstring)."""
    from scipy.signal import sosfilt

    if check_condition(condition) == "clean":
        return item
    rng = seeded_rng(condition, item.speaker, item.role, item.name)
    speech = reverberate(item.samples, room_impulse_response(rng))
    mixed = add_noise(rng, speech, pool)
    mixed = sosfilt(channel_response(item.speaker, condition), mixed)
    peak = np.max(np.abs(mixed)) + 1e-9
    mixed *= min(10 ** (rng.uniform(-20.0, -3.0) / 20) / peak, 1.0 / peak)  # device gain, never clipping
    if condition == "far_field_phone":
        mixed = telephone_band(mixed)
    return item._replace(samples=np.clip(mixed, -1.0, 1.0).astype(np.float32))


def degrade_all(items: list[Item], condition: str, pool: list[np.ndarray]) -> list[Item]:
    return [degrade(i, condition, pool) for i in items]
