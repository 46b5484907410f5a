"""Fault injection, issue 12 classes 1 (over-redaction), 4 (audio that cannot be muted), 5 (Unicode
evasion) and 6 (the hash operator with a keyring): one real run of the CLI with a keyring key file
and a config that hashes account numbers. Each clip ends where it must — quarantined with its code,
or reviewed with no raw identifier left in its transcript (compared on skeletons: invisible
characters, case, accents and homoglyphs do not count) — and ordinary clips still go through.

Every case here failed before: timings past the end and partly timed spans were reviewed unmuted,
a FIFO hung the whole job, disguised identifiers and non-Latin names passed redaction, "in a" was
redacted for a customer named Ina, and the hash operator failed every worker with a keyring.
"""

import glob
import json
import os

import pyarrow.parquet as pq
import pytest
import soundfile as sf
import yaml

from pipeline.config import DEFAULT_CONFIG_PATH
from tests.conftest import run_cli
from tests.test_fault_injection import AS_OF, RATE, base_row, speechlike, timed
from transforms.core.text import skeleton

SECONDS = 1.5
ZWSP, ZWJ = "\u200b", "\u200d"
ACCOUNT = "ACCT-5678912340"
SPOKEN_ACCOUNT = "five six seven eight nine one two three four zero"
HASHED = "ACCT-3141592653"
SPOKEN_HASHED = "three one four one five nine two six five three"


def _timed_without(transcript: str, *dropped: str) -> dict:
    """Word timings for every word but the ``dropped`` ones (the ASR lost them)."""
    row = timed(transcript, SECONDS)
    row["words"] = [w for w in row["words"] if w["word"] not in dropped]
    return row


def _timed_past_the_end(transcript: str, shift_s: float) -> dict:
    row = timed(transcript, SECONDS)
    row["words"] = [{**w, "start_s": w["start_s"] + shift_s, "end_s": w["end_s"] + shift_s} for w in row["words"]]
    return row


def _cases(ok: str, fifo: str) -> dict:
    """clip_id: (manifest row, fate)."""

    def row(clip_id, transcript, **over):
        return base_row(clip_id, ok, **{**timed(transcript, SECONDS), **over})

    june = "2026-06-10T12:00:00Z"  # pseudonym epoch 2026-01 (default six-month epochs)
    return {
        "ordinary": (row("ordinary", "alexa play some jazz"), "review"),
        # class 4: audio that cannot be muted
        "timings-past-end": (
            base_row("timings-past-end", ok, **_timed_past_the_end("alexa text rosalind that dinner is ready", 10.0)),
            "quarantine:mute:pii_not_locatable",
        ),
        "span-end-untimed": (
            base_row(
                "span-end-untimed",
                ok,
                account_id=ACCOUNT,
                **_timed_without(f"alexa my account number is {SPOKEN_ACCOUNT}", "four", "zero"),
            ),
            "quarantine:mute:pii_not_locatable",
        ),
        "span-inside-untimed": (
            base_row(
                "span-inside-untimed",
                ok,
                account_id=ACCOUNT,
                **_timed_without(f"alexa read back account {SPOKEN_ACCOUNT}", "eight"),
            ),
            "review",
        ),
        "fifo": (base_row("fifo", fifo), "quarantine:decode:audio_not_a_file"),
        # class 5: Unicode evasion
        "zwj-serial": (
            row("zwj-serial", f"alexa register serial serialx482{ZWJ}910557 today", device_serial="SERIALX482910557"),
            "review",
        ),
        "homoglyph-serial": (
            row(
                "homoglyph-serial", "alexa register device seri\u0430lx771203948 now", device_serial="SERIALX771203948"
            ),
            "review",
        ),
        "zwsp-name": (row("zwsp-name", f"alexa call jen{ZWSP}nifer tonight", first_name="Jennifer"), "review"),
        "cyrillic-name": (row("cyrillic-name", "alexa позвони Дмитрий сейчас", first_name="Дмитрий"), "review"),
        "korean-name": (row("korean-name", "alexa 혜진에게 전화해 right away", first_name="혜진"), "review"),
        # class 1: names that are words
        "ina": (row("ina", "alexa remind me in a minute", first_name="Ina"), "review"),
        "bill": (row("bill", "alexa pay the electricity bill", first_name="Bill"), "review"),
        # class 6: hashed account numbers, keyed per pseudonym epoch from the keyring
        "hash-june": (
            row("hash-june", f"alexa my account number is {SPOKEN_HASHED}", account_id=HASHED, recorded_at=june),
            "review",
        ),
        "hash-nov-1": (row("hash-nov-1", f"alexa my account number is {SPOKEN_HASHED}", account_id=HASHED), "review"),
        "hash-nov-2": (row("hash-nov-2", f"alexa my account number is {SPOKEN_HASHED}", account_id=HASHED), "review"),
    }


@pytest.fixture(scope="module")
def text_audio_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("text_audio")
    raw = root / "raw"  # the raw input; outputs go outside it
    audio = raw / "audio"
    audio.mkdir(parents=True)
    sf.write(audio / "ok.wav", speechlike(RATE, SECONDS), RATE)
    os.mkfifo(audio / "pipe.wav")  # nobody ever writes to it
    cases = _cases("audio/ok.wav", "audio/pipe.wav")
    manifest = raw / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(row) + "\n" for row, _ in cases.values()), encoding="utf-8")

    keyring = root / "keyring.json"
    keyring.write_text(json.dumps({"epochs": {"2026-01": os.urandom(32).hex(), "2026-07": os.urandom(32).hex()}}))
    keyring.chmod(0o600)
    with open(DEFAULT_CONFIG_PATH, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    configs = os.path.dirname(DEFAULT_CONFIG_PATH)
    for name in ("analyzer_conf", "nlp_conf", "recognizers_conf"):
        config["transcript"][name] = os.path.join(configs, config["transcript"][name])
    config["transcript"]["operators"] = {"default": "tag", "ACCOUNT_ID": "hash"}
    config_path = root / "config.yaml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")

    out = root / "out"
    proc = run_cli(
        "run", "--input", str(manifest), "--output", str(out), "--key-file", str(keyring),
        "--config", str(config_path), "--as-of", AS_OF, timeout=300,
    )  # fmt: skip
    return out, proc, cases


def _quarantined(out) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in glob.glob(f"{out}/quarantine/*.jsonl"):
        for line in open(path, encoding="utf-8"):
            record = json.loads(line)
            found.setdefault(record["clip_id"], []).append(f"quarantine:{record['stage']}:{record['error_type']}")
    return found


def _reviewed(out) -> list[dict]:
    return [row for path in glob.glob(f"{out}/reviewer/*.parquet") for row in pq.read_table(path).to_pylist()]


def _row(rows: list[dict], marker: str) -> dict:
    """The one reviewer row whose transcript holds ``marker`` (transcripts here are unique by their words)."""
    found = [row for row in rows if marker in row["transcript"]]
    assert len(found) == 1, (marker, [r["transcript"] for r in rows])
    return found[0]


def test_the_run_finishes_and_every_clip_lands_where_it_must(text_audio_run):
    out, proc, cases = text_audio_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    quarantined = _quarantined(out)
    for clip_id, (_, fate) in cases.items():
        if fate.startswith("quarantine"):
            assert quarantined.get(clip_id) == [fate], (clip_id, quarantined.get(clip_id))
        else:
            assert clip_id not in quarantined, (clip_id, quarantined[clip_id])
    assert len(_reviewed(out)) == sum(1 for _, fate in cases.values() if fate == "review")
    report = json.loads((out / "run_report.json").read_text())
    assert report["reconciled"] is True


def test_no_raw_identifier_survives_in_any_reviewer_transcript(text_audio_run):
    out, _, cases = text_audio_run
    transcripts = [skeleton(row["transcript"]) for row in _reviewed(out)]
    for row, _ in cases.values():
        for value in (row["device_serial"], row["account_id"].split("-")[-1], row["first_name"]):
            if len(value) >= 5:  # short names are checked per clip below (they may be parts of words)
                assert not any(skeleton(value) in t for t in transcripts), value
    for transcript in transcripts:
        assert ZWSP not in transcript and ZWJ not in transcript
    assert not any(skeleton("Дмитрий") in t for t in transcripts)  # reduced to nothing by the matcher before


@pytest.mark.parametrize(
    "marker, gone, kept",
    [
        ("alexa register serial", ["482", "910557", "serialx"], ["<DEVICE_SERIAL>", "today"]),
        ("alexa register device", ["771203948", "lx77"], ["<DEVICE_SERIAL>", "now"]),
        ("alexa call", ["jen", "nifer"], ["<PERSON>", "tonight"]),
        # the spoken model (English) takes the whole Korean phrase for the name: over-redaction, not a leak
        ("right away", ["혜진"], ["<PERSON>"]),
        ("electricity", ["bill"], ["<PERSON>"]),  # still redacted; counted as own_name_as_word
        ("remind me in", ["<PERSON>"], []),  # "in a" is not Ina (the marker is gone when it is redacted)
        ("alexa play some jazz", [], []),
    ],
)
def test_when_identifiers_are_disguised_then_the_reviewer_sees_none(text_audio_run, marker, gone, kept):
    out, _, _ = text_audio_run
    transcript = _row(_reviewed(out), marker)["transcript"]
    for text in gone:
        assert skeleton(text) not in skeleton(transcript), (text, transcript)
    for text in kept:
        assert text in transcript, (text, transcript)


def test_when_a_word_inside_a_span_is_untimed_then_the_whole_span_is_muted(text_audio_run):
    out, _, cases = text_audio_run
    row = _row(_reviewed(out), "read back account")
    words = cases["span-inside-untimed"][0]["words"]
    first = next(w for w in words if w["word"] == "five")
    last = next(w for w in words if w["word"] == "zero")
    assert any(a <= first["start_s"] and last["end_s"] <= b for a, b in map(dict.values, row["muted_intervals"]))


def test_when_the_hash_operator_runs_with_a_keyring_then_tags_link_within_an_epoch_only(text_audio_run):
    out, _, _ = text_audio_run
    rows = [row for row in _reviewed(out) if "my account number is" in row["transcript"]]
    tags = {}
    for row in rows:
        (tag,) = [w for w in row["transcript"].split() if w.startswith("<ACCOUNT_ID_")]
        tags.setdefault(row["pseudonym_epoch"], []).append(tag)
    assert sorted(tags) == ["2026-01", "2026-07"]
    assert len(tags["2026-01"]) == 1 and len(set(tags["2026-07"])) == 1 and len(tags["2026-07"]) == 2
    assert tags["2026-01"][0] != tags["2026-07"][0]
