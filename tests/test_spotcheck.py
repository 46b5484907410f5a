"""The spot-check report over a synthetic run: self-contained page, exact audio, real plots,
stratified sample, governance counts, and nothing restricted or raw in the page.

The synthetic run is written against the real ``REVIEWER_SCHEMA`` with real FLAC audio, so the
report code reads what the job writes; the real job's output is covered in
``test_spotcheck_browser.py``.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import html.parser
import io
import json
import re
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.spotcheck.build import spot_check
from tests.conftest import run_cli
from transforms.audio_io import encode
from transforms.core.schema import REVIEWER_SCHEMA

RATE = 16000
RUN_ID = "20260101T000000Z-synthetic"
CONFIG_HASH = "c0ffee0000000001"
# Markers that must never reach the page: a restricted escalated clip and a raw clip id.
ESCALATED_MARKER = b"ESCALATED-AUDIO-MUST-NOT-BE-EMBEDDED"
RAW_CLIP_ID = "raw-clip-id-7f3a9"


def voiced(duration_s: float, f0: float, muted=()) -> np.ndarray:
    """A speech-like signal: harmonics of a gliding F0, syllable-rate envelope, muted spans zeroed."""
    t = np.arange(int(duration_s * RATE)) / RATE
    pitch = f0 * (1 + 0.15 * np.sin(2 * np.pi * 0.5 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    x = sum(np.sin(k * phase) / k for k in range(1, 12))
    x = x * (0.55 + 0.45 * np.sin(2 * np.pi * 3.5 * t)) * 0.12
    x += np.random.default_rng(int(f0)).normal(0, 0.002, t.size)
    for start, end in muted:
        x[int(start * RATE) : int(end * RATE)] = 0.0
    return x.astype(np.float32)


def reviewer_row(number: int, locale: str, redacted: bool, muted=()) -> dict:
    duration = 1.5 + 0.25 * (number % 5)
    # Both formats the job can write: every fourth clip is Ogg Vorbis.
    audio, mime = encode(voiced(duration, 100 + 7 * number, muted), RATE, "ogg" if number % 4 == 3 else "flac")
    if redacted:
        transcript = "alexa call <PERSON> at <PHONE_NUMBER>"
        entities = [{"type": "PERSON", "start": 11, "end": 19}, {"type": "PHONE_NUMBER", "start": 23, "end": 37}]
    else:
        transcript = "alexa what is the weather & the time"
        entities = []
    return {
        "review_id": f"rev_{number:04d}",
        "speaker_pseudonym": f"spk_{number % 3:04d}",
        "pseudonym_epoch": "2026-01",
        "audio": audio,
        "audio_mime": mime,
        "sample_rate": RATE,
        "duration_s": duration,
        "transcript": transcript,
        "entities": entities,
        "muted_intervals": [{"start_s": s, "end_s": e} for s, e in muted],
        "recorded_date": datetime.date(2026, 1, 1 + number % 28),
        "locale": locale,
        "run_id": RUN_ID,
        "config_hash": CONFIG_HASH,
        "pipeline_version": "0.1.0",
    }


# 24 rows in 5 strata of very different sizes; the de-DE/no-entities stratum has one row.
LAYOUT = [("en-US", True)] * 12 + [("en-US", False)] * 5 + [("en-GB", True)] * 4 + [("en-GB", False)] * 2
LAYOUT += [("de-DE", False)]

FULL_REPORT = {
    "run_id": RUN_ID,
    "config_hash": CONFIG_HASH,
    "pipeline_version": "0.1.0",
    "reconciled": True,
    "stages": {},
    "quarantined_by_stage": {"decode": 2, "transcript": 1},
    "entities_by_type": {"PERSON": 20, "PHONE_NUMBER": 16, "EMAIL_ADDRESS": 1},
    "outcomes": {
        "clips_in": 36,
        "reviewer_rows": 24,
        "quarantined": 3,
        "policy_dropped": 5,
        "escalated": 3,
        "held_for_legal": 1,
    },
    "policy_dropped_by_reason": {"minor_account": 2, "opted_out": 3},
    "leak_check": {"passed": True, "leaks": 0, "files_scanned": 4},
}


def schema_defaults(row: dict) -> dict:
    """Fill columns the schema has gained since these tests were written with a typed empty value."""
    for field in REVIEWER_SCHEMA:
        if field.name not in row:
            if pa.types.is_list(field.type):
                row[field.name] = []
            elif pa.types.is_date(field.type):
                row[field.name] = datetime.date(2026, 12, 31)
            elif pa.types.is_string(field.type):
                row[field.name] = ""
            elif pa.types.is_boolean(field.type):
                row[field.name] = False
            else:
                row[field.name] = 0
    return row


def write_run(root, report: dict | None, escalation: bool = True) -> None:
    """A run directory as the job lays it out, in two reviewer shards."""
    rows = []
    for number, (locale, redacted) in enumerate(LAYOUT):
        muted = [(0.4, 0.7)] if redacted else []
        rows.append(schema_defaults(reviewer_row(number, locale, redacted, muted)))
    (root / "reviewer").mkdir(parents=True)
    for shard, part in enumerate((rows[::2], rows[1::2])):
        table = pa.Table.from_pylist(part, schema=REVIEWER_SCHEMA)
        pq.write_table(table, root / "reviewer" / f"part-{shard:05d}-of-00002.parquet")
    (root / "quarantine").mkdir()
    lines = [
        {"clip_id": RAW_CLIP_ID, "stage": s, "error_type": "x", "message": "m", "run_id": RUN_ID}
        for s in ("decode", "decode", "transcript")
    ]
    (root / "quarantine" / "part-00000-of-00001.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    if escalation:
        (root / "escalation").mkdir()
        table = pa.table({"clip_id": [RAW_CLIP_ID] * 3, "audio": [ESCALATED_MARKER] * 3})
        pq.write_table(table, root / "escalation" / "part-00000-of-00001.parquet")
    if report is not None:
        (root / "run_report.json").write_text(json.dumps(report))


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("spot") / "run"
    write_run(root, FULL_REPORT)
    return root


@pytest.fixture(scope="module")
def full_check(full_run):
    return spot_check(str(full_run), sample=10, seed=7)


class _Page(html.parser.HTMLParser):
    """Every element with its attributes, and the text of the page."""

    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


def data_uri_bytes(uri: str) -> tuple[str, bytes]:
    match = re.fullmatch(r"data:([\w/+.-]+);base64,([A-Za-z0-9+/=]+)", uri)
    assert match, uri[:80]
    return match.group(1), base64.b64decode(match.group(2))


def png_pixels(data: bytes) -> np.ndarray:
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return np.asarray(image.convert("RGB"), dtype=float)


def test_the_page_loads_nothing_but_data_uris(full_check):
    page = parse(full_check.html)
    tags = Counter(tag for tag, _ in page.elements)
    assert tags["link"] == 0 and tags["iframe"] == 0
    # Two scripts, both inline: the verdict metadata (JSON, never run) and the verdict logic.
    scripts = [attrs for tag, attrs in page.elements if tag == "script"]
    assert scripts == [{"type": "application/json", "id": "spotcheck-meta"}, {}]
    for tag, attrs in page.elements:
        for name in ("src", "href", "poster", "srcset", "data"):
            if name in attrs:
                assert attrs[name].startswith("data:"), f"<{tag} {name}=...> is not a data: URI"
    csp = [a["content"] for t, a in page.elements if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]
    # Only the page's own script may run, by its hash: no 'unsafe-inline', no source to fetch from.
    (body,) = re.findall(r"<script>(.*?)</script>", full_check.html, re.S)
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    script_src = re.search(r"script-src ([^;]+)", csp[0]).group(1).strip()
    assert script_src == f"'sha256-{digest}'"
    assert "connect-src" not in csp[0], "default-src 'none' must keep fetch/XHR blocked"
    assert not re.search(r"url\(\s*['\"]?(?!data:)", full_check.html), "a CSS url() would load something"


def test_every_audio_player_embeds_exactly_the_reviewer_bytes(full_run, full_check):
    page = parse(full_check.html)
    rows = {}
    for path in sorted((full_run / "reviewer").glob("*.parquet")):
        for row in pq.read_table(path).to_pylist():
            rows[row["review_id"]] = row
    articles = [a["data-review-id"] for t, a in page.elements if t == "article"]
    players = [a for t, a in page.elements if t == "audio"]
    assert len(articles) == len(players) == full_check.sampled == 10
    for review_id, player in zip(articles, players, strict=True):
        mime, data = data_uri_bytes(player["src"])
        assert mime == rows[review_id]["audio_mime"]
        assert data == rows[review_id]["audio"]
    assert {data_uri_bytes(p["src"])[0] for p in players} == {"audio/flac", "audio/ogg"}


def test_plots_are_real_images_with_content(full_check):
    page = parse(full_check.html)
    images = [a for t, a in page.elements if t == "img"]
    spectrograms = [a for a in images if "spectrogram" in a.get("class", "")]
    assert len(spectrograms) == 10
    histogram = [a for a in images if a.get("id") == "duration-histogram"]
    assert len(histogram) == 1
    decoded = [png_pixels(data_uri_bytes(a["src"])[1]) for a in spectrograms + histogram]
    for pixels in decoded:
        assert pixels.shape[0] > 150 and pixels.shape[1] > 400
        assert pixels.std() > 20, "plot is (nearly) blank"
    # Different clips give different pictures (not one image repeated).
    assert not np.array_equal(decoded[0], decoded[1])


def test_the_sample_is_stratified_and_keeps_the_rare_stratum(full_check):
    page = parse(full_check.html)
    ids = [a["data-review-id"] for t, a in page.elements if t == "article"]
    strata = Counter(LAYOUT[int(i.removeprefix("rev_"))] for i in ids)
    assert set(strata) == set(LAYOUT), "every stratum is sampled"
    assert strata[("de-DE", False)] == 1
    assert strata[("en-US", True)] > strata[("en-GB", False)]


def test_the_same_seed_draws_the_same_sample(full_run):
    def ids(seed):
        page = parse(spot_check(str(full_run), sample=4, seed=seed).html)
        return [a["data-review-id"] for t, a in page.elements if t == "article"]

    first = ids(7)
    assert ids(7) == first
    assert ids(8) != first


def test_entity_tags_are_highlighted_and_text_escaped(full_check):
    marks = re.findall(r'<mark class="ent" data-type="(\w+)"[^>]*>&lt;(\w+)&gt;</mark>', full_check.html)
    assert marks and all(a == b for a, b in marks)
    assert {"PERSON", "PHONE_NUMBER"} <= {a for a, _ in marks}
    assert "weather &amp; the time" in full_check.html
    assert full_check.clip_problems == 0


def test_muted_intervals_are_marked(full_check):
    page = parse(full_check.html)
    segments = [a for t, a in page.elements if t == "div" and a.get("class") == "muted"]
    assert segments, "no muted interval drawn although the sample has some"
    assert all(re.search(r"left: [\d.]+%; width: [\d.]+%", a["style"]) for a in segments)
    assert "0.40–0.70 s" in full_check.html


def test_run_counts_and_governance_results_are_shown(full_check):
    text = " ".join(" ".join(parse(full_check.html).text).split())
    for expected in (RUN_ID, CONFIG_HASH, "2026-01", "Leak verification: PASSED", "minor_account", "opted_out"):
        assert expected in text
    assert re.search(r"held for legal \d", text), "an unknown outcome key is shown generically"
    assert re.search(r"policy-dropped 5", text)
    assert re.search(r"escalated \(restricted, not sampled\) 3", text)
    assert "3 rows under escalation/" in text
    assert "EMAIL_ADDRESS" in text  # counted in the report even though no reviewer row has one
    statuses = {c.name: c.status for c in full_check.checks}
    assert statuses["leak verification"] == "pass"
    assert statuses["escalations: report vs restricted output"] == "pass"
    assert statuses["quarantine: report vs records"] == "pass"
    assert statuses["reviewer rows: report vs shards"] == "pass"


def test_restricted_and_raw_side_data_never_reach_the_page(full_check):
    assert RAW_CLIP_ID not in full_check.html
    assert ESCALATED_MARKER.decode() not in full_check.html
    assert base64.b64encode(ESCALATED_MARKER).decode()[:24] not in full_check.html


def test_when_report_keys_are_absent_then_they_show_as_not_recorded(tmp_path):
    minimal = {k: FULL_REPORT[k] for k in ("run_id", "config_hash", "pipeline_version", "stages")}
    minimal["outcomes"] = {"clips_in": 24, "reviewer_rows": 24}
    write_run(tmp_path / "run", minimal, escalation=False)
    result = spot_check(str(tmp_path / "run"), sample=3, seed=1)
    text = " ".join(" ".join(parse(result.html).text).split())
    assert "Leak verification: not recorded" in text
    assert re.search(r"Policy-dropped, by reason not recorded", text)
    assert re.search(r"Quarantined, by stage not recorded", text)
    assert "no escalation output" in text
    assert {c.name: c.status for c in result.checks}["leak verification"] == "not recorded"


def test_when_there_is_no_run_report_then_the_page_still_renders(tmp_path):
    write_run(tmp_path / "run", None, escalation=False)
    result = spot_check(str(tmp_path / "run"), sample=2, seed=1)
    assert "run_report.json not found" in result.html
    assert result.sampled == 2


def test_cli_exits_1_and_says_failed_when_the_leak_check_failed(tmp_path):
    report = {**FULL_REPORT, "leak_check": {"passed": False, "leaks": 2}}
    write_run(tmp_path / "run", report)
    out = tmp_path / "nested" / "report.html"
    proc = run_cli("spotcheck", "--output", str(tmp_path / "run"), "--sample", "4", "--seed", "3", "--report", str(out))
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "fail" in proc.stdout and "leak verification" in proc.stdout
    page = out.read_text()
    assert "Leak verification: FAILED" in " ".join(page.split())
    assert not (tmp_path / "nested" / "report.html.partial").exists()


def test_cli_without_reviewer_shards_exits_2_and_writes_nothing(tmp_path):
    out = tmp_path / "report.html"
    proc = run_cli("spotcheck", "--output", str(tmp_path / "empty"), "--report", str(out))
    assert proc.returncode == 2
    assert "no reviewer shards" in proc.stderr
    assert not out.exists()
