"""Fault injection for issue 12, classes 1 and 6, through the real CLI: a leak check that does not
fail ordinary batches but still catches a customer's own name; atomic publish; one run per output;
the documented key forms; the quarantine ceiling; --dry-run."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import subprocess
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO, SAMPLE_MANIFEST, SAMPLES, run_cli

AS_OF = "2026-11-22T00:00:00Z"
KEY = hashlib.sha256(b"fault injection publish key").hexdigest()

# Customers whose first names are ordinary words, and other customers' clips that use those words.
ORDINARY = [
    ("c-will", "Will", "alexa will it rain tomorrow"),
    ("c-mark", "Mark", "alexa mark this as done"),
    ("c-june", "June", "alexa what's on in june"),
    ("c-holly", "Holly", "alexa play holly jolly christmas"),
    ("c-can", "Can", "alexa can you turn the lights off"),
    ("c-per", "Per", "alexa how much is it per month"),
    ("c-bill", "Bill", "alexa pay the electricity bill"),
    ("c-ina", "Ina", "alexa remind me in a minute"),
]


def _rows(names: list[tuple[str, str, str]]) -> list[dict]:
    with open(SAMPLE_MANIFEST, encoding="utf-8") as handle:
        samples = [json.loads(line) for line in handle if line.strip()]
    rows = []
    for i, (clip_id, first_name, _) in enumerate(names):
        source = samples[i % len(samples)]
        # Each clip says ANOTHER customer's word, so only the scoping keeps the batch clean.
        transcript = names[(i + 1) % len(names)][2]
        words = transcript.split()  # evenly timed over the first second (every sample clip is longer)
        timings = [{"word": w, "start_s": k / len(words), "end_s": (k + 0.9) / len(words)} for k, w in enumerate(words)]
        rows.append(
            {
                "clip_id": clip_id,
                "audio_uri": os.path.join(SAMPLES, source["audio_uri"]),
                "transcript": transcript,
                "words": timings,
                "account_id": f"ACCT-{7000000000 + i}",
                "first_name": first_name,
                "device_serial": f"GSER{900000 + i}",
                "recorded_at": "2026-11-10T12:00:00Z",
                "locale": "en-US",
                "wake_word_detected": True,
            }
        )
    return rows


def _write(folder, rows) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "manifest.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def _key(tmp_path) -> str:
    path = tmp_path / "key"
    path.write_text(KEY + "\n")
    path.chmod(0o600)
    return str(path)


def _run(manifest: str, out, key: str, *extra: str):
    return run_cli("run", "--input", manifest, "--output", str(out), "--key-file", key, "--as-of", AS_OF, *extra)


@pytest.fixture(scope="module")
def ordinary_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ordinary")
    manifest = _write(tmp / "in", _rows(ORDINARY))
    out = tmp / "out"
    proc = _run(manifest, out, _key(tmp))
    return tmp, manifest, out, proc


def test_when_customers_are_called_will_mark_june_holly_can_per_bill_and_ina_then_the_run_passes(ordinary_run):
    _, _, out, proc = ordinary_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((out / "run_report.json").read_text())
    assert report["leak_check"]["passed"] and report["leak_check"]["rows_tied_to_clips"]
    assert report["outcomes"]["reviewer_rows"] == len(ORDINARY)
    rows = {r["review_id"]: r for f in glob.glob(f"{out}/reviewer/*.parquet") for r in pq.read_table(f).to_pylist()}
    transcripts = " | ".join(r["transcript"] for r in rows.values())
    # Ordinary words in other customers' clips stay readable for the reviewers.
    for phrase in ("it rain", "this as done", "you turn the lights", "per month", "remind me in a minute"):
        assert phrase in transcripts, phrase
    assert json.loads((out / "_SUCCESS").read_text())["run_id"] == report["run_id"]


def test_when_a_customers_own_name_is_planted_in_their_own_row_then_verify_fails_but_not_in_anothers(
    ordinary_run, tmp_path
):
    tmp, manifest, out, _ = ordinary_run
    (shard,) = glob.glob(f"{out}/reviewer/*.parquet")
    table = pq.read_table(shard)
    rows = table.to_pylist()
    verified = run_cli("verify", "--manifest", manifest, "--output", str(out), "--key-file", _key(tmp))
    assert verified.returncode == 0 and "0 leaks" in verified.stdout, verified.stderr

    def verify_with(transcript_of) -> subprocess.CompletedProcess:
        planted = tmp_path / "planted"
        (planted / "reviewer").mkdir(parents=True, exist_ok=True)
        changed = [{**r, "transcript": transcript_of(r)} for r in rows]
        pq.write_table(pa.Table.from_pylist(changed, schema=table.schema), planted / "reviewer" / "part-0.parquet")
        beam = run_cli("verify", "--manifest", manifest, "--output", str(planted), "--key-file", _key(tmp))
        launcher = run_cli(
            "verify", "--manifest", manifest, "--output", str(planted), "--key-file", _key(tmp), "--engine", "launcher"
        )
        # The Beam check (the default) and the single-process scan: same exit code, findings and counts.
        assert (beam.returncode, beam.stderr, beam.stdout) == (launcher.returncode, launcher.stderr, launcher.stdout)
        return beam

    # "will" in every row but Will's own: ordinary words in other customers' rows are no leak.
    from pipeline.verify_columns import review_ids_with
    from transforms.core.keys import KeySource

    review_of = review_ids_with(KeySource("file", _key(tmp)), 6)
    will_row = review_of(_rows(ORDINARY)[0])
    clean = verify_with(lambda r: r["transcript"] + (" will" if r["review_id"] != will_row else ""))
    assert clean.returncode == 0, clean.stderr
    leaked = verify_with(lambda r: r["transcript"] + (" will" if r["review_id"] == will_row else ""))
    assert leaked.returncode == 1 and "first_name of manifest row 1" in leaked.stderr
    assert "Will" not in leaked.stderr.replace("will be", "")
    # Without the key the command says what it could not scope.
    unscoped = run_cli("verify", "--manifest", manifest, "--output", str(out))
    assert unscoped.returncode == 0 and "could not be tied to their clips" in unscoped.stdout


def test_when_the_leak_check_fails_then_nothing_is_published_and_the_staged_files_are_named(tmp_path):
    rows = _rows(ORDINARY[:2])
    manifest = _write(tmp_path / "in", rows)
    # An output folder named after a device serial: the launcher's own log line then carries an id
    # (ids are searched everywhere, operator paths included), which fails the leak check.
    out = tmp_path / "runs" / f"device-{rows[0]['device_serial']}"
    marker = out / "_SUCCESS"
    proc = _run(manifest, out, _key(tmp_path), "--overwrite")
    assert proc.returncode == 3, proc.stderr[-3000:]
    assert "device_serial of manifest row 1" in proc.stderr and "nothing published" in proc.stderr
    assert not (out / "reviewer").exists() and not marker.exists()
    staged = glob.glob(f"{out}/_staging/*/reviewer/*.parquet")
    assert staged and os.path.dirname(os.path.dirname(staged[0])) in proc.stderr
    audit = [json.loads(line) for line in (out / "audit.jsonl").read_text().splitlines()]
    assert audit[-1]["published"] is False and audit[-1]["leak_check"]["passed"] is False


def test_when_the_operators_folder_carries_a_customers_name_then_the_run_is_not_failed(tmp_path):
    rows = _rows(ORDINARY[:2])
    rows[0]["first_name"] = "Priyanka"
    manifest = _write(tmp_path / "priyanka" / "in", rows)
    out = tmp_path / "priyanka" / "out"  # the output folder is the operator's choice, not data
    proc = _run(manifest, out, _key(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_when_two_runs_write_into_one_output_then_the_second_is_refused(tmp_path):
    out = tmp_path / "out"
    key = _key(tmp_path)
    env = {**os.environ}
    first = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run", "--input", SAMPLE_MANIFEST, "--output", str(out)]
        + ["--key-file", key, "--as-of", AS_OF, "--overwrite"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while not (out / "_LOCK").exists() and time.time() < deadline and first.poll() is None:
        time.sleep(0.1)
    assert (out / "_LOCK").exists()
    second = _run(SAMPLE_MANIFEST, out, key, "--overwrite")
    stdout, stderr = first.communicate(timeout=600)
    assert second.returncode == 2 and "is in use by run" in second.stderr
    assert first.returncode == 0, stderr[-3000:]
    assert not (out / "_LOCK").exists()
    report = json.loads((out / "run_report.json").read_text())
    assert json.loads((out / "_SUCCESS").read_text())["run_id"] == report["run_id"]


@pytest.mark.parametrize(
    "content",
    [
        KEY[:-1],  # a 63-digit typo
        "correct horse battery staple correct horse battery staple",  # a passphrase
        "0" * 64,  # all zero
        KEY[:32] + " " + KEY[32:],  # whitespace inside
    ],
)
def test_when_the_key_is_not_a_documented_form_then_the_run_refuses_to_start(tmp_path, content):
    key = tmp_path / "key"
    key.write_text(content)
    key.chmod(0o600)
    out = tmp_path / "out"
    proc = _run(SAMPLE_MANIFEST, out, str(key))
    assert proc.returncode == 2 and "error:" in proc.stderr
    assert content.strip() not in proc.stderr + proc.stdout
    assert not (out / "reviewer").exists()


def test_when_the_key_file_is_world_readable_then_the_run_warns_or_refuses_as_configured(tmp_path):
    key = tmp_path / "key"
    key.write_text(KEY)
    key.chmod(0o644)
    config = tmp_path / "config.yaml"
    text = open(os.path.join(REPO, "configs", "default.yaml"), encoding="utf-8").read()
    text = text.replace("exposed_key_file: warn", "exposed_key_file: refuse")
    for name in ("analyzer", "nlp", "recognizers"):
        text = text.replace(f"presidio/{name}.yaml", os.path.join(REPO, "configs", "presidio", f"{name}.yaml"))
    config.write_text(text)
    warned = run_cli(
        "run", "--input", SAMPLE_MANIFEST, "--output", str(tmp_path / "o"), "--key-file", str(key), "--dry-run"
    )
    assert warned.returncode == 0 and "readable by all users" in warned.stderr  # the default: warn, go on
    dry = run_cli(
        "run", "--input", SAMPLE_MANIFEST, "--output", str(tmp_path / "o2"), "--key-file", str(key), "--config",
        str(config), "--dry-run",
    )  # fmt: skip
    assert dry.returncode == 2 and "chmod 600" in dry.stderr


def test_when_dry_run_then_config_key_lists_and_rows_are_checked_and_nothing_is_written(tmp_path):
    out = tmp_path / "out"
    proc = run_cli("run", "--input", SAMPLE_MANIFEST, "--output", str(out), "--key-file", _key(tmp_path), "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "10 row(s) checked, 10 valid" in proc.stdout and "nothing was run" in proc.stdout
    assert not out.exists()
    rows = _rows(ORDINARY[:2])
    rows[1]["recorded_at"] = "yesterday"
    bad = run_cli("run", "--input", _write(tmp_path / "in", rows), "--output", str(out), "--ephemeral-key", "--dry-run")
    assert bad.returncode == 1 and "1 row(s) would be quarantined: bad_timestamp" in bad.stdout
    assert "yesterday" not in bad.stdout + bad.stderr
    assert not out.exists()


def test_when_the_output_is_a_new_folder_inside_the_inputs_folder_then_the_run_may_start(tmp_path):
    manifest = _write(tmp_path / "in", _rows(ORDINARY[:1]))
    inside = run_cli(
        "run", "--input", manifest, "--output", str(tmp_path / "in" / "out"), "--ephemeral-key", "--dry-run"
    )
    assert inside.returncode == 0, inside.stderr
    same = run_cli("run", "--input", manifest, "--output", str(tmp_path / "in"), "--ephemeral-key", "--dry-run")
    assert same.returncode == 2 and "holds, the folder of the input manifest" in same.stderr
