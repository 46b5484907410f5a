"""The one partition of the development speech folder's speakers (``../shared/data/speech``).

In:  nothing at run time: the sets below were derived once from that folder's ``manifest.jsonl``
     (251 LibriSpeech train-clean-100 speakers, one utterance each) by :func:`derive_partition`,
     and are written out here so a fresh clone without the data still knows them.
Out: four disjoint speaker sets, each half female, half male (the bank: 60 F / 61 M):

- ``TEST`` (40): the only speakers figures are reported on; never used to tune or build anything.
  The first 20 female and first 20 male speakers in manifest order whose utterance lasts at least
  8 s (so each half is ≥ 4 s: the attacker enrols on the first half and is tried on the second).
- ``TUNE`` (30): where voice-method parameters are chosen.
- ``ATTACKER`` (60): the semi-informed attacker's training speakers (its LDA is fitted on them).
- ``BANK`` (121): every other speaker, short utterances included: the target bank of the
  content-based ``knn_vc`` method is built from them (``python -m pipeline build-voice-bank``).

TUNE and ATTACKER come from the ≥ 8 s speakers that are not TEST, ordered by SHA-256 of
``"voice-partition\x1f13\x1f" + speaker`` (seed 13) and taken 50/50 by gender.
Fails: :func:`check_partition` raises ``ValueError`` if a manifest no longer gives these sets.
"""

from __future__ import annotations

import hashlib

MIN_TEST_S = 8.0
SEED = 13

TEST = tuple(
    """
    103 125 150 163 196 198 200 229 233 1040 1069 1081 1088 1098 1116 1235 1246 1263 1334 1355 1502 1553 1578 1594
    1723 1737 1743 1841 1867 1898 1926 1970 1992 2002 2136 2159 2289 2384 2436 2514
    """.split()
)
TUNE = tuple(
    """
    40 78 89 226 322 887 2007 2391 2989 3168 3664 3807 4014 4640 5463 5652 5750 6078 6437 6454 6476 6925 7226 7302
    7505 7800 8098 8108 8312 8630
    """.split()
)
ATTACKER = tuple(
    """
    27 60 248 250 289 302 445 446 587 2092 2196 2691 2817 2843 2893 2911 2952 3242 3259 3374 3436 3723 3857 3879
    4018 4088 4137 4195 4297 4397 4853 4898 5049 5163 5192 5789 5808 5867 6209 6272 6367 6531 6836 6848 7067 7148
    7178 7402 7447 7517 7635 7780 8051 8095 8123 8324 8425 8580 8770 8975
    """.split()
)
BANK = tuple(
    """
    19 26 32 39 83 87 118 201 211 254 298 307 311 328 332 374 403 405 412 426 441 458 460 481 625 669 696 730 831
    839 909 911 1034 1183 1363 1447 1455 1624 1963 2182 2416 2518 2764 2836 2910 3112 3214 3235 3240 3440 3486
    3526 3607 3699 3830 3947 3982 3983 4051 4160 4214 4267 4340 4362 4406 4441 4481 4680 4788 4813 4830 4859 5022
    5104 5322 5339 5390 5393 5456 5514 5561 5678 5688 5703 5778 6000 6019 6064 6081 6147 6181 6385 6415 6529 6563
    6818 6880 7059 7078 7113 7190 7264 7278 7312 7367 7511 7794 7859 8014 8063 8088 8226 8238 8419 8465 8468 8609
    8629 8747 8797 8838
    """.split()
)

SETS = {"test": TEST, "tune": TUNE, "attacker": ATTACKER, "bank": BANK}


def derive_partition(rows: list[dict]) -> dict[str, tuple[str, ...]]:
    """The sets above from manifest rows (``speaker``, ``gender``, ``duration``), by the rule in
    the module docstring; each set sorted by speaker number."""
    eligible = [r for r in rows if float(r["duration"]) >= MIN_TEST_S]

    def by(gender: str, pool: list[dict], n: int) -> list[dict]:
        return [r for r in pool if r["gender"] == gender][:n]

    test = by("F", eligible, 20) + by("M", eligible, 20)
    used = {r["speaker"] for r in test}
    rest = sorted(
        (r for r in eligible if r["speaker"] not in used),
        key=lambda r: hashlib.sha256(f"voice-partition\x1f{SEED}\x1f{r['speaker']}".encode()).hexdigest(),
    )
    tune = by("F", rest, 15) + by("M", rest, 15)
    used |= {r["speaker"] for r in tune}
    rest = [r for r in rest if r["speaker"] not in used]
    attacker = by("F", rest, 30) + by("M", rest, 30)
    used |= {r["speaker"] for r in attacker}
    bank = [r for r in rows if r["speaker"] not in used]
    sets = {"test": test, "tune": tune, "attacker": attacker, "bank": bank}
    return {name: tuple(sorted((str(r["speaker"]) for r in chosen), key=int)) for name, chosen in sets.items()}


def check_partition(rows: list[dict]) -> None:
    """Raise ``ValueError`` when ``rows`` no longer derive the sets written out above."""
    derived = derive_partition(rows)
    for name, speakers in SETS.items():
        if derived[name] != speakers:
            raise ValueError(f"speaker set {name!r} differs from the one written out in voice_speakers.py")
