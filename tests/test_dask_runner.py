"""The job on a real distributed engine: Dask, a scheduler and two worker processes.

A ``dask.distributed.LocalCluster`` (two worker processes, one thread each) is started here; the
real CLI runs the bundled samples with ``--runner DaskRunner --dask_client_address`` against it,
and the reviewer rows must equal a DirectRunner run's with the same key file and ``--as-of``:
same review ids, pseudonyms, transcripts, entities, muted intervals, audio within tolerance; the
run report reconciles (from Beam counters gathered on the workers and from the files) and the
leak check passes. A smaller pipeline pins what Beam's own DaskRunner gets wrong (see
``pipeline/dask_runner.py``): a ParDo's outputs kept apart, ``finish_bundle`` outputs, side
inputs, counters over many bundles, a refused bounded-source ``Read``.
"""

from __future__ import annotations

import json
import os
import secrets

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import SAMPLE_MANIFEST, run_cli
from tests.test_scale_out import SAME_COLUMNS, decoded, reviewer_rows

pytestmark = pytest.mark.slow

AS_OF = "2026-11-20"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two worker processes (one thread each), closed after the module."""
    from dask.distributed import LocalCluster

    folder = tmp_path_factory.mktemp("dask")
    local = LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0", local_directory=str(folder)
    )
    try:
        yield local
    finally:
        local.close()


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "pseudonym.key"
    path.write_text(secrets.token_hex(32))
    path.chmod(0o600)
    return str(path)


def _report(output_dir: str) -> dict:
    with open(os.path.join(output_dir, "run_report.json"), encoding="utf-8") as handle:
        return json.load(handle)


def _spacy_pipelines_held() -> int:
    """In a worker: how many spaCy pipelines are alive (each redaction engine holds three)."""
    import gc
    import sys

    language = getattr(sys.modules.get("spacy.language"), "Language", None)
    gc.collect()
    return 0 if language is None else sum(isinstance(o, language) for o in gc.get_objects())


def test_when_run_on_a_dask_cluster_then_rows_equal_direct_runner(tmp_path, key_file, cluster):
    from dask.distributed import Client, get_task_stream

    direct_out, dask_out = str(tmp_path / "direct"), str(tmp_path / "dask")
    common = ["run", "--input", SAMPLE_MANIFEST, "--key-file", key_file, "--as-of", AS_OF]

    direct = run_cli(*common, "--output", direct_out, timeout=300)
    assert direct.returncode == 0, direct.stderr[-3000:]
    with Client(cluster) as client, get_task_stream(client) as stream:
        workers = set(client.scheduler_info()["workers"])
        assert len(workers) == 2
        on_dask = run_cli(
            *common, "--output", dask_out, "--runner", "DaskRunner", "--dask_client_address", cluster.scheduler_address
        )
        # The run is over: its workers (a standing cluster's, which run the operator's next job)
        # no longer hold the models and lists it loaded (Beam's shared keepalive, the loaders' caches).
        held = client.run(_spacy_pipelines_held)
    assert on_dask.returncode == 0, on_dask.stderr[-3000:]
    assert set(held.values()) == {0}, held

    # The DoFns ran as tasks in both of the cluster's worker processes, not in the launcher.
    bundles = [task for task in stream.data if "_run_bundle" in str(task["key"])]
    assert {task["worker"] for task in bundles} == workers

    direct_report, dask_report = _report(direct_out), _report(dask_out)
    assert dask_report["runner"] == "DaskRunner"
    assert dask_report["reconciled"] is True and dask_report["published"] is True
    assert dask_report["leak_check"]["passed"] is True
    assert dask_report["outcomes"] == direct_report["outcomes"]
    assert dask_report["stages"] == direct_report["stages"]

    direct_rows, dask_rows = reviewer_rows(direct_out), reviewer_rows(dask_out)
    assert len(direct_rows) == direct_report["outcomes"]["reviewer_rows"] > 0
    assert dask_rows.keys() == direct_rows.keys()
    for review_id, want in direct_rows.items():
        got = dask_rows[review_id]
        for column in SAME_COLUMNS:
            assert got[column] == want[column], f"{review_id}: column {column} differs"
        a, b = decoded(want["audio"]), decoded(got["audio"])
        assert a.shape == b.shape
        # Two runs: each clip carries its own run's watermark, so the audio differs by the two marks
        # (about 13 dB below the voice each) and nothing else.
        assert np.corrcoef(a, b)[0, 1] > 0.9, f"{review_id}: audio differs beyond the two runs' watermarks"


class _SplitFn(beam.DoFn):
    """Evens to the main output, odds tagged; counts every element."""

    def process(self, x):
        beam.metrics.Metrics.counter("test", "seen").inc()
        if x % 2:
            yield beam.pvalue.TaggedOutput("odd", x)
        else:
            yield x


class _HoldFn(beam.DoFn):
    """Emits nothing in process(): everything comes out of finish_bundle (as Beam's sinks and
    BatchElements do with their last batch)."""

    def start_bundle(self):
        self._held = []

    def process(self, x):
        self._held.append(x)

    def finish_bundle(self):
        from apache_beam.transforms.window import GlobalWindow
        from apache_beam.utils.windowed_value import WindowedValue

        for x in self._held:
            yield WindowedValue(x, 0, [GlobalWindow()])


class _BundleSizeFn(beam.DoFn):
    """Emits, when a bundle ends, how many elements it held."""

    def start_bundle(self):
        self._count = 0

    def process(self, x):
        self._count += 1

    def finish_bundle(self):
        from apache_beam.transforms.window import GlobalWindow
        from apache_beam.utils.windowed_value import WindowedValue

        yield WindowedValue(self._count, 0, [GlobalWindow()])


def _options(cluster, *extra: str):
    from apache_beam.options.pipeline_options import PipelineOptions

    return PipelineOptions(["--dask_client_address", cluster.scheduler_address, *extra])


def test_when_a_pardo_has_tagged_outputs_side_inputs_and_finish_bundle_then_dask_keeps_them_apart(cluster):
    from pipeline.dask_runner import DaskRunner

    p = beam.Pipeline(runner=DaskRunner(), options=_options(cluster, "--dask_npartitions", "4"))
    numbers = p | beam.Create(range(40)) | "Spread" >> beam.Reshuffle()
    split = numbers | beam.ParDo(_SplitFn()).with_outputs("odd", main="even")
    names = p | "Names" >> beam.Create([(0, "zero"), (2, "two")])
    named = split.even | beam.Map(lambda x, d: d.get(x, "-"), beam.pvalue.AsDict(names))
    held = split.odd | beam.ParDo(_HoldFn())
    grouped = held | beam.Map(lambda x: (x % 3, x)) | beam.GroupByKey() | beam.MapTuple(lambda k, vs: (k, sorted(vs)))
    assert_that(split.even, equal_to(list(range(0, 40, 2))), label="even")
    assert_that(held, equal_to(list(range(1, 40, 2))), label="odd")
    assert_that(named, equal_to(["zero", "two"] + ["-"] * 18), label="named")
    assert_that(grouped, equal_to([(k, [x for x in range(1, 40, 2) if x % 3 == k]) for k in range(3)]), label="grouped")
    result = p.run()
    assert result.wait_until_finish() == "DONE"
    (seen,) = [c for c in result.metrics().query()["counters"] if c.key.metric.name == "seen"]
    assert seen.committed == 40  # counted once over the four bundles, not only the first one's


@pytest.mark.parametrize("inputs", [1, 3])
def test_when_elements_are_reshuffled_then_every_partition_gets_its_share_and_both_workers_run_them(cluster, inputs):
    """A reshuffle deals the elements of few inputs (one reader, one large file's units) over all
    partitions; before, the partitions of a one-element Create stayed together on one worker."""
    from dask.distributed import Client, get_task_stream

    from pipeline.dask_runner import DaskRunner

    p = beam.Pipeline(runner=DaskRunner(), options=_options(cluster, "--dask_npartitions", "4"))
    sizes = (
        p
        | beam.Create(range(inputs))
        | beam.FlatMap(lambda i: range(i * 40, (i + 1) * 40))
        | "Spread" >> beam.Reshuffle()
        | "Sizes" >> beam.ParDo(_BundleSizeFn())
    )
    expected = {1: [10, 10, 10, 10], 3: [30, 30, 30, 30]}[inputs]
    assert_that(sizes | beam.combiners.ToList() | beam.Map(sorted), equal_to([expected]))
    with Client(cluster) as client, get_task_stream(client) as stream:
        assert p.run().wait_until_finish() == "DONE"
    spread = [task for task in stream.data if "_run_bundle.Sizes" in str(task["key"])]
    assert len(spread) == 4 and len({task["worker"] for task in spread}) == 2


def test_when_a_bounded_source_read_is_in_the_graph_then_dask_refuses_it_before_running(cluster, tmp_path):
    from pipeline.dask_runner import DaskRunner, UnsupportedTransform

    path = tmp_path / "lines.txt"
    path.write_text("a\nb\n")
    p = beam.Pipeline(runner=DaskRunner(), options=_options(cluster))
    _ = p | beam.io.ReadFromText(str(path)) | beam.Map(len)
    with pytest.raises(UnsupportedTransform, match="ReadAll"):
        p.run()


_READ = {"count": 0}  # per worker process: how many elements the first step of a chain has read


class _ReadFn(beam.DoFn):
    def start_bundle(self):
        _READ["count"] = 0

    def process(self, x):
        _READ["count"] += 1
        yield x


class _LagFn(beam.DoFn):
    """Emits how many elements the step before it has read beyond this one: 0 when the chain
    streams, the rest of the partition when the step before it ran over the whole partition first."""

    def start_bundle(self):
        self._seen = 0

    def process(self, x):
        self._seen += 1
        yield _READ["count"] - self._seen


def test_when_pardos_form_a_chain_then_each_partition_streams_through_it_in_one_task(cluster):
    """A chain of ParDos is fused: one task per partition runs every step, element by element, so
    nothing between two steps is held (before, each step's outputs were a materialised list: the
    job's clips, audio and all, sat in the workers between steps)."""
    from dask.distributed import Client, get_task_stream

    from pipeline.dask_runner import DaskRunner

    p = beam.Pipeline(runner=DaskRunner(), options=_options(cluster, "--dask_npartitions", "4"))
    lags = (
        p
        | beam.Create(range(200))
        | "Spread" >> beam.Reshuffle()
        | "Read" >> beam.ParDo(_ReadFn())
        | "Double" >> beam.Map(lambda x: 2 * x)
        | "Lag" >> beam.ParDo(_LagFn())
    )
    assert_that(lags, equal_to([0] * 200))
    with Client(cluster) as client, get_task_stream(client) as stream:
        assert p.run().wait_until_finish() == "DONE"
    keys = [str(task["key"]) for task in stream.data if "_run_bundle" in str(task["key"])]
    assert len([key for key in keys if "_run_bundle.Read" in key]) == 4
    assert not [key for key in keys if "_run_bundle.Double" in key or "_run_bundle.Lag" in key]


def test_when_a_side_input_comes_from_the_chain_itself_then_the_step_is_not_fused(cluster):
    """A step whose side input is computed from an earlier step's other output cannot run in that
    step's task (it would wait for itself): it starts a chain of its own, and the results hold."""
    from pipeline.dask_runner import DaskRunner

    p = beam.Pipeline(runner=DaskRunner(), options=_options(cluster, "--dask_npartitions", "4"))
    numbers = p | beam.Create(range(40)) | "Spread" >> beam.Reshuffle()
    split = numbers | beam.ParDo(_SplitFn()).with_outputs("odd", main="even")
    odd_total = split.odd | beam.CombineGlobally(sum)
    shifted = split.even | "Shift" >> beam.Map(lambda x, total: x + total, beam.pvalue.AsSingleton(odd_total))
    assert_that(shifted, equal_to([x + 400 for x in range(0, 40, 2)]))
    result = p.run()
    assert result.wait_until_finish() == "DONE"


def test_when_workers_lack_the_memory_settings_then_the_run_says_so_and_its_own_cluster_has_them(cluster, caplog):
    """Dask's profiler keeps an hour of call trees per worker (what grew in a worker over a
    100,000-clip run), and glibc and Arrow keep freed pages: a standing cluster started with Dask's
    defaults gets a warning naming each setting; the cluster the runner starts itself has them."""
    from apache_beam.options.pipeline_options import PipelineOptions
    from dask.distributed import Client

    from pipeline.dask_runner import PROFILER_ENV, DaskRunner, _missing_settings, _warn_if_unbounded, worker_environment

    with Client(cluster) as client, caplog.at_level("WARNING", logger="pipeline.dask_runner"):
        missing = {name for names in client.run(_missing_settings).values() for name in names}
        _warn_if_unbounded(client)
    # The fixture's workers run Dask's profiler (its default); the allocator bounds depend on what
    # the test process's environment held when the fixture started them.
    assert PROFILER_ENV in missing and "MALLOC_TRIM_THRESHOLD_" in missing  # Dask's own is 65536
    wanted = worker_environment()
    for name in missing:
        assert f"{name}={wanted[name]}" in caplog.text

    caplog.clear()
    p = beam.Pipeline(runner=DaskRunner(), options=PipelineOptions([]))  # no address: a LocalCluster
    assert_that(p | beam.Create([1, 2, 3]) | beam.Map(lambda x: x * x), equal_to([1, 4, 9]))
    with caplog.at_level("WARNING", logger="pipeline.dask_runner"):
        assert p.run().wait_until_finish() == "DONE"
    assert "Dask workers run without" not in caplog.text


class _MergedFn(beam.CombineFn):
    """Sums, and outputs how many accumulators the final merge combined: one per partition when
    the combine is lifted (each bundle combines its own elements first), one in all when every
    element crosses the shuffle and is added to a single accumulator after it."""

    def create_accumulator(self):
        return (0, 1)

    def add_input(self, accumulator, x):
        return (accumulator[0] + x, accumulator[1])

    def merge_accumulators(self, accumulators):
        accumulators = list(accumulators)
        return (sum(a[0] for a in accumulators), sum(a[1] for a in accumulators))

    def extract_output(self, accumulator):
        return accumulator


def test_when_a_combine_runs_on_dask_then_each_partition_combines_its_elements_before_the_shuffle(cluster):
    """A combine is lifted as the DirectRunner lifts it: the shuffle carries an accumulator per key
    and partition (a CombineGlobally over the manifest's keys had sent every row to one worker)."""
    from pipeline.dask_runner import DaskRunner

    p = beam.Pipeline(runner=DaskRunner(), options=_options(cluster, "--dask_npartitions", "4"))
    numbers = p | beam.Create(range(1000)) | "Spread" >> beam.Reshuffle()
    total = numbers | beam.CombineGlobally(_MergedFn())
    per_key = numbers | beam.Map(lambda x: (x % 2, x)) | beam.CombinePerKey(_MergedFn())
    assert_that(total, equal_to([(sum(range(1000)), 4)]), label="total")
    assert_that(per_key, equal_to([(0, (sum(range(0, 1000, 2)), 4)), (1, (sum(range(1, 1000, 2)), 4))]), label="keys")
    assert p.run().wait_until_finish() == "DONE"
