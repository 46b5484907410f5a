"""Governance end to end: keyring epochs, opt-out/deletion, escalation, per-clip mode, reruns, verify."""

import glob
import hashlib
import json
import os

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from tests.conftest import REPO, SAMPLE_MANIFEST, run_cli
from transforms.core.keys import KeyUnavailableError, parse_keyring

AS_OF = "2026-11-22"
EPOCH_KEY = hashlib.sha256(b"governance epoch key").hexdigest()  # every sample clip is recorded in the 2026-07 epoch


def write_config(tmp_path, **sections) -> str:
    with open(f"{REPO}/configs/default.yaml") as handle:
        data = yaml.safe_load(handle)
    for name in ("analyzer_conf", "nlp_conf", "recognizers_conf"):
        data["transcript"][name] = f"{REPO}/configs/{data['transcript'][name]}"
    for section, values in sections.items():
        data[section].update(values)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def write_keyring(tmp_path, epochs) -> str:
    path = tmp_path / "keyring.json"
    path.write_text(json.dumps({"epochs": epochs}))
    return str(path)


def rows_of(out, kind="reviewer"):
    return sorted(
        (row for f in glob.glob(f"{out}/{kind}/*.parquet") for row in pq.read_table(f).to_pylist()),
        key=lambda r: r["review_id"],
    )


def run(tmp_path, out, config, key, *extra):
    proc = run_cli(
        "run", "--input", SAMPLE_MANIFEST, "--output", str(out), "--config", config, "--key-file", key,
        "--as-of", AS_OF, *extra,
    )  # fmt: skip
    return proc, json.loads((out / "run_report.json").read_text()) if (out / "run_report.json").exists() else None


@pytest.mark.parametrize(
    "raw, message",
    [
        (b'{"epochs": {}}', "not a keyring"),
        (b'{"epochs": {"2026-7": "' + b"ab" * 32 + b'"}}', "YYYY-MM"),
        (b'{"epochs": {"2026-07": "abcd"}}', "shorter than"),
        (b"{not json", "not a keyring"),
    ],
)
def test_when_keyring_is_malformed_then_it_is_refused(raw, message):
    with pytest.raises(KeyUnavailableError, match=message):
        parse_keyring(raw, "key file k")


def test_when_an_epoch_key_is_destroyed_then_its_clips_cannot_be_pseudonymised():
    ring = parse_keyring(json.dumps({"epochs": {"2026-07": EPOCH_KEY}}).encode(), "k")
    assert ring.key_for("2026-07") == bytes.fromhex(EPOCH_KEY)
    with pytest.raises(KeyUnavailableError, match="2026-01"):
        ring.key_for("2026-01")
    assert EPOCH_KEY not in repr(ring)


def test_opt_out_deletion_and_escalation_route_clips_and_reconcile(tmp_path, sample_rows):
    opt_out = tmp_path / "optout.txt"
    opt_out.write_text("ACCT-4829105573\n")  # four sample clips share this account
    deletion = tmp_path / "deletion.txt"
    deletion.write_text("# deletion requests\n" + sample_rows[2]["account_id"] + "\n")
    config = write_config(
        tmp_path,
        policy={
            "opt_out_lists": [str(opt_out)],
            "deletion_lists": [str(deletion)],
            "no_wake_word": "flag",
            "escalation_terms": ["weather"],
        },
    )
    out = tmp_path / "out"
    proc, report = run(tmp_path, out, config, write_keyring(tmp_path, {"2026-07": EPOCH_KEY}))
    assert proc.returncode == 0, proc.stderr[-2000:]
    dropped = report["policy_dropped_by_reason"]
    opted = sum(r["account_id"] == "ACCT-4829105573" for r in sample_rows)
    deleted = sum(r["account_id"] == sample_rows[2]["account_id"] for r in sample_rows)
    assert dropped == {"opt_out": opted, "deletion_request": deleted}
    escalated = rows_of(out, "escalation")
    assert len(escalated) == 1 and "weather" in escalated[0]["transcript"]
    reviewed = rows_of(out)
    assert all("weather" not in r["transcript"] for r in reviewed)
    assert report["outcomes"]["reviewer_rows"] == len(sample_rows) - opted - deleted - 1
    assert any(r["flags"] == ["no_wake_word"] for r in reviewed)
    assert report["reconciled"] and report["leak_check"]["passed"]
    assert all(str(r["expires_at"]) == "2027-06-30" for r in reviewed)  # epoch ends 2027-01-01, + 180 days
    assert {r["pseudonym_epoch"] for r in reviewed} == {"2026-07"}
    # The key itself appears in no output, report or log, in hex or raw form.
    for path in glob.glob(f"{out}/**/*", recursive=True):
        if os.path.isfile(path):
            data = open(path, "rb").read().lower()
            assert EPOCH_KEY.encode() not in data and bytes.fromhex(EPOCH_KEY) not in data
    assert EPOCH_KEY not in proc.stdout + proc.stderr


def test_a_rerun_with_the_same_key_and_config_gives_the_same_reviewer_content(tmp_path):
    config = write_config(tmp_path)
    key = write_keyring(tmp_path, {"2026-07": EPOCH_KEY})
    out = tmp_path / "out"
    first_proc, _ = run(tmp_path, out, config, key)
    assert first_proc.returncode == 0, first_proc.stderr[-2000:]
    first = rows_of(out)
    again, _ = run(tmp_path, out, config, key)
    assert again.returncode == 2 and "--overwrite" in again.stderr
    second_proc, _ = run(tmp_path, out, config, key, "--overwrite")
    assert second_proc.returncode == 0
    second = rows_of(out)
    # A rerun is a new run: its watermark names the new run (and deals clips into new batches), so
    # the audio differs by the mark alone — everything else is identical.
    run_specific = ("run_id", "audio", "review_batch")
    strip = lambda rows: [{k: v for k, v in r.items() if k not in run_specific} for r in rows]  # noqa: E731
    assert len(second) == len(first) == len({r["review_id"] for r in second})
    assert strip(second) == strip(first)
    from transforms import audio_io

    for a, b in zip(first, second, strict=True):
        x, y = (audio_io.decode(r["audio"], 600.0)[0] for r in (a, b))
        assert len(x) == len(y) and np.corrcoef(x, y)[0, 1] > 0.9  # the same disguised voice, two marks


def test_a_different_key_gives_unlinkable_pseudonyms(tmp_path):
    config = write_config(tmp_path)
    out_a, out_b = tmp_path / "a", tmp_path / "b"
    run(tmp_path, out_a, config, write_keyring(tmp_path, {"2026-07": EPOCH_KEY}))
    run(tmp_path, out_b, config, write_keyring(tmp_path, {"2026-07": hashlib.sha256(b"another key").hexdigest()}))
    a, b = rows_of(out_a), rows_of(out_b)
    assert a and len(a) == len(b)
    assert not {r["speaker_pseudonym"] for r in a} & {r["speaker_pseudonym"] for r in b}
    assert not {r["review_id"] for r in a} & {r["review_id"] for r in b}


def test_per_clip_mode_links_no_two_clips_and_a_missing_epoch_key_quarantines(tmp_path, sample_rows):
    config = write_config(tmp_path, identifiers={"mode": "per_clip"})
    out = tmp_path / "out"
    proc, report = run(tmp_path, out, config, write_keyring(tmp_path, {"2026-07": EPOCH_KEY}))
    assert proc.returncode == 0
    names = [r["speaker_pseudonym"] for r in rows_of(out)]
    assert len(names) == len(set(names)) == report["outcomes"]["reviewer_rows"]
    # Every clip of the 2026-07 epoch is quarantined when its key is gone: a run that quarantines
    # (nearly) everything fails (exit 1) and publishes nothing; its staged report says why.
    out2 = tmp_path / "out2"
    proc, report = run(tmp_path, out2, write_config(tmp_path), write_keyring(tmp_path, {"2025-07": EPOCH_KEY}))
    assert proc.returncode == 1 and report is None and "max_quarantined_share" in proc.stderr
    assert not (out2 / "reviewer").exists() and not (out2 / "_SUCCESS").exists()
    (staged,) = glob.glob(f"{out2}/_staging/*/run_report.json")
    report = json.loads(open(staged).read())
    assert report["quarantined_by_stage"] == {"identifiers": report["outcomes"]["clips_in"] - 2}
    assert report["outcomes"]["reviewer_rows"] == 0 and report["published"] is False
    # The same run with the ceiling lifted passes, so the ceiling is what failed it.
    lifted = write_config(tmp_path, output={"max_quarantined_share": 1.0})
    proc, report = run(tmp_path, out2, lifted, write_keyring(tmp_path, {"2025-07": EPOCH_KEY}), "--overwrite")
    assert proc.returncode == 0 and report["outcomes"]["quarantined"] == report["outcomes"]["clips_in"] - 2


def test_verify_command_passes_a_clean_run_and_fails_on_a_planted_leak(tmp_path, sample_rows):
    config = write_config(tmp_path)
    out = tmp_path / "out"
    run(tmp_path, out, config, write_keyring(tmp_path, {"2026-07": EPOCH_KEY}))
    clean = run_cli("verify", "--manifest", SAMPLE_MANIFEST, "--output", str(out))
    assert clean.returncode == 0 and "0 leaks" in clean.stdout
    log = tmp_path / "worker.log"
    log.write_text(f"debug: processing serial {sample_rows[6]['device_serial']}\n")
    leaked = run_cli("verify", "--manifest", SAMPLE_MANIFEST, "--output", str(out), "--logs", str(log))
    assert leaked.returncode == 1
    assert "device_serial of manifest row 7" in leaked.stderr
    assert sample_rows[6]["device_serial"] not in leaked.stdout + leaked.stderr


def test_a_missing_policy_list_stops_the_run(tmp_path):
    config = write_config(tmp_path, policy={"opt_out_lists": [str(tmp_path / "absent.txt")]})
    proc, _ = run(tmp_path, tmp_path / "out", config, write_keyring(tmp_path, {"2026-07": EPOCH_KEY}))
    assert proc.returncode == 2 and "opt_out_lists" in proc.stderr
    assert not os.path.exists(tmp_path / "out" / "reviewer")
