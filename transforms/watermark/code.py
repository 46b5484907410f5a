"""The watermark's payload and its channel code, as plain functions (no audio, no Beam).

In:  a 32-bit payload — a run tag (23 bits, a keyed hash of the run id), an escalation flag
     (1 bit) and the reviewer batch number (8 bits) — or soft values read back from audio.
Out: ``encode``: 124 coded bits (payload + CRC-24, rate-1/2 convolutional code, constraint length
     7, generators 133/171 octal, terminated with 6 zero bits). ``decode``: the payload recovered by
     soft-decision Viterbi decoding, and whether its CRC-24 matched.
Fails: ``ValueError`` for a batch or tag out of range.

The payload never carries a speaker, a pseudonym or a clip: every clip of a batch carries the same
bits. The CRC is the error detection; the convolutional code corrects scattered bit errors (its
free distance is 10).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

TAG_BITS, ESC_BITS, BATCH_BITS = 23, 1, 8
PAYLOAD_BITS = TAG_BITS + ESC_BITS + BATCH_BITS  # 32
CRC_BITS = 24
INFO_BITS = PAYLOAD_BITS + CRC_BITS  # 56
_K = 7
_G = (0o133, 0o171)
_MEMORY = _K - 1
CODED_BITS = 2 * (INFO_BITS + _MEMORY)  # 124
MAX_BATCHES = 1 << BATCH_BITS


class Payload(NamedTuple):
    """What a mark says: which run (by its tag), reviewer or escalation output, and which batch."""

    run_tag: int
    escalation: bool
    batch: int

    def to_int(self) -> int:
        if not 0 <= self.run_tag < (1 << TAG_BITS):
            raise ValueError("run tag out of range")
        if not 0 <= self.batch < MAX_BATCHES:
            raise ValueError(f"batch must be in 0..{MAX_BATCHES - 1}")
        return (self.run_tag << (ESC_BITS + BATCH_BITS)) | (int(self.escalation) << BATCH_BITS) | self.batch

    @classmethod
    def from_int(cls, value: int) -> Payload:
        return cls(value >> (ESC_BITS + BATCH_BITS), bool((value >> BATCH_BITS) & 1), value & (MAX_BATCHES - 1))


def _bits(value: int, n: int) -> np.ndarray:
    return np.array([(value >> (n - 1 - i)) & 1 for i in range(n)], dtype=np.uint8)


def _int(bits) -> int:
    out = 0
    for b in bits:
        out = (out << 1) | int(b)
    return out


def crc24(bits: np.ndarray) -> int:
    """CRC-24/OPENPGP (polynomial 0x864CFB, initial value 0xB704CE) over a bit sequence, MSB first."""
    crc = 0xB704CE
    for b in bits:
        top = ((crc >> 23) & 1) ^ int(b)
        crc = (crc << 1) & 0xFFFFFF
        if top:
            crc ^= 0x864CFB
    return crc


def _parity(x: int) -> int:
    return bin(x).count("1") & 1


# Trellis tables: for each next state and each of its two predecessors, the predecessor and the two
# output bits. State = the last 6 input bits (newest in bit 5); register = input << 6 | state.
_NEXT = np.arange(1 << _MEMORY)
_PRED = np.stack([((_NEXT << 1) | lsb) & ((1 << _MEMORY) - 1) for lsb in (0, 1)], axis=1)  # (64, 2)
_OUT = np.zeros((1 << _MEMORY, 2, 2), dtype=np.float64)  # (next state, which predecessor, output) as ±1
for _ns in range(1 << _MEMORY):
    for _lsb in (0, 1):
        _reg = (_ns << 1) | _lsb
        for _o, _g in enumerate(_G):
            _OUT[_ns, _lsb, _o] = 1.0 - 2.0 * _parity(_reg & _g)


def encode(payload: Payload) -> np.ndarray:
    """The 124 coded bits (0/1) of a payload: payload bits, CRC-24, 6 tail zeros, convolutionally coded."""
    bits = _bits(payload.to_int(), PAYLOAD_BITS)
    info = np.concatenate([bits, _bits(crc24(bits), CRC_BITS), np.zeros(_MEMORY, dtype=np.uint8)])
    state, out = 0, []
    for u in info:
        reg = (int(u) << _MEMORY) | state
        out.extend(_parity(reg & g) for g in _G)
        state = reg >> 1
    return np.array(out, dtype=np.uint8)


def decode(soft: np.ndarray) -> tuple[Payload, bool]:
    """(payload, CRC matched) from 124 soft values, positive meaning bit 0 (soft-decision Viterbi)."""
    soft = np.asarray(soft, dtype=np.float64).reshape(-1, 2)
    steps = soft.shape[0]
    metric = np.full(1 << _MEMORY, -np.inf)
    metric[0] = 0.0
    choices = np.zeros((steps, 1 << _MEMORY), dtype=np.uint8)
    for t in range(steps):
        branch = _OUT @ soft[t]  # (64, 2): each next state's two incoming branches
        cand = metric[_PRED] + branch
        pick = np.argmax(cand, axis=1)
        choices[t] = pick
        metric = cand[_NEXT, pick]
    state, bits = 0, []
    for t in range(steps - 1, -1, -1):
        bits.append(state >> (_MEMORY - 1))
        state = int(_PRED[state, choices[t, state]])
    info = np.array(bits[::-1][:INFO_BITS], dtype=np.uint8)
    payload_bits, crc_bits = info[:PAYLOAD_BITS], info[PAYLOAD_BITS:]
    return Payload.from_int(_int(payload_bits)), crc24(payload_bits) == _int(crc_bits)
