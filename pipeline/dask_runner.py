"""The job on a Dask cluster: Beam's DaskRunner with the translations this graph needs.

In:  a Beam pipeline and ``--runner DaskRunner`` with Beam's ``DaskOptions`` flags
     (``--dask_client_address tcp://host:8786`` or ``--dask_scheduler_file``; without either, Dask
     starts a ``LocalCluster`` in the launcher and closes it after the run; ``--dask_npartitions``
     sets how many partitions a ``Reshuffle`` spreads elements over).
Out: the pipeline run as one Dask task graph: Beam's overrides (``Create``, ``Reshuffle``,
     ``GroupByKey``, ``Flatten``, ``Read``), chains of ParDos fused into one task per partition,
     and a Dask Bag per PCollection that leaves a chain; the result's ``metrics()`` answers like
     the DirectRunner's, so the run report reconciles.
Fails: a primitive this module does not translate (``Read`` of a ``BoundedSource``, a splittable
     or stateful DoFn, ``Impulse``, ...) stops the run before anything is submitted, naming the
     transform, instead of becoming a silent no-op; a DoFn that raises fails the run (Dask retries
     nothing).

Why not Beam's ``apache_beam.runners.dask.dask_runner.DaskRunner`` as is (Beam 2.77.0): on this
graph it mixes outputs and loses data. Its ParDo puts every output of a multi-output ParDo
(``with_outputs``, ``Partition``) into one bag, so a stage's main output also carries its failures
(the first run sent a ``Clip`` to the quarantine writer); it returns a bundle's outputs before
``finish_bundle``, so what a DoFn emits there (``BatchElements``' last batch, the Parquet and text
sinks' temp-file names: the shards come out empty) is dropped; it computes only the last
transform's bag, so other sinks do not run; it recomputes a side input's whole upstream inside
every task that reads it; ``Read`` and ``Reshuffle`` become no-ops (a one-element ``Create``
stays one partition: one worker does everything); and ``metrics()`` raises. Here every output
PCollection has its own bag, bundles end before their outputs are taken, every branch is
computed, a side input is computed once and handed to the tasks that read it, ``Reshuffle``
deals the elements round-robin over the partitions, a bundle's task is named after the first step
of its chain (``_run_bundle.<label>`` on the dashboard), and each bundle's Beam counters travel
back with its outputs (so a retried task counts once). A DoFn is unpickled and ``setup()`` once
per worker process and thread, not per partition (spaCy and Presidio load in seconds), and torn
down at the end of the run.

Fusion, as Beam's own runners do it: a ParDo that is the only reader of the PCollection another
ParDo emits runs in that ParDo's task, and each element goes through the whole chain before the
next is read. Without it every step's outputs were one materialised list per partition, kept until
the next step was done: the job's clips, audio and all, sat in the workers between steps (10.7 GB
in one worker at 100,000 clips). A PCollection with two readers, or read as a side input, ends its
chain (it is materialised once, as before); and a ParDo whose side input is computed from its own
chain's output starts a chain of its own (in one task it would wait for itself).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import pickle
import re
import threading
import uuid
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.internal import pickler
from apache_beam.runners.common import Receiver
from apache_beam.runners.dask.dask_runner import DaskOptions
from apache_beam.runners.dask.dask_runner import DaskRunner as BeamDaskRunner
from apache_beam.runners.dask.overrides import _Create, _Flatten, _GroupByKeyOnly, _Read, _Reshuffle, dask_overrides
from apache_beam.runners.runner import PipelineResult, PipelineState
from apache_beam.transforms.window import GlobalWindows

LOG = logging.getLogger(__name__)
# Dask's statistical profiler samples every worker thread's stack every 10 ms and keeps each
# second's call tree for an hour (``distributed.worker.profile``): with this job's deep fused
# stacks it was what grew in a worker, by about 50 Python objects a clip (a worker at 537 -> 686 MiB
# over 100,000 clips; flat over 10,000 without it).
PROFILER = "distributed.worker.profile.enabled"
PROFILER_ENV = "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED"
# Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, and setting it fixes glibc's mmap
# threshold at 128 KiB: every numpy temporary from 128 KiB up was mapped and unmapped again, page
# by page (the leak check's scan of one 260 MB shard in a Dask worker: 26-32 CPU s, about half of
# it in the kernel; 12 s with these bounds, 0.1 s in the kernel). Here temporaries below 4 MiB are
# reused from the heap, and no more than 8 MiB of free heap top is kept per arena.
DASK_ALLOCATOR_ENV = {"MALLOC_MMAP_THRESHOLD_": str(4 << 20), "MALLOC_TRIM_THRESHOLD_": str(8 << 20)}
_METRICS = "__dask_runner_metrics__"  # the tag of a bundle's metric updates among its outputs
_FNS: dict[tuple[str, int], tuple] = {}  # per worker process: set-up DoFns by (step id, thread)
_FNS_LOCK = threading.Lock()
_EMPTY = object()


class UnsupportedTransform(NotImplementedError):
    """The pipeline holds a primitive the Dask translation does not cover."""


# ---- worker side: one bundle = one Dask partition ---------------------------------------------


class _Collect(Receiver):
    """A receiver for an output that leaves the chain: ``(export index, WindowedValue)``."""

    def __init__(self, tag, out: list):
        self._tag = tag
        self._out = out

    def receive(self, windowed_value) -> None:
        self._out.append((self._tag, windowed_value))


class _Receivers(dict):
    """A step's receivers by tag; a tag nothing reads is dropped."""

    def __missing__(self, tag):
        return _Discard()


def _set_up_fn(step_id: str, payload: bytes):
    """This step's DoFn, unpickled and set up once per worker process and thread."""
    key = (step_id, threading.get_ident())
    with _FNS_LOCK:
        cached = _FNS.get(key)
    if cached is None:
        fn, args, kwargs, windowing, views, label = pickler.loads(payload)
        fn.setup()
        cached = (fn, args, kwargs, windowing, views, label)
        with _FNS_LOCK:
            _FNS[key] = cached
    return cached


class _Forward(Receiver):
    """A fused edge: what one step emits on a tag is processed by the next step at once, in that
    step's own scoped state (so its counters count as its own)."""

    def __init__(self, runners: list, index: int, states: list):
        self._runners = runners
        self._index = index
        self._states = states

    def receive(self, windowed_value) -> None:
        with self._states[self._index]:
            self._runners[self._index].process(windowed_value)


class _Discard(Receiver):
    def receive(self, windowed_value) -> None:  # a tag the step did not declare: nothing reads it
        pass


def _run_bundle(partition, stage: bytes, *side_values) -> list:
    """Run one fused chain of ParDos over one partition, element by element: each element goes
    through every step of the chain before the next is read, so nothing between two steps is
    held. Returns ``(export index, WindowedValue)`` pairs for the outputs that leave the chain
    and, last, each step's metric updates under ``_METRICS``."""
    from apache_beam.metrics.execution import MetricsContainer
    from apache_beam.runners.common import DoFnRunner
    from apache_beam.runners.worker import statesampler
    from apache_beam.transforms.sideinputs import SideInputMap
    from apache_beam.utils.counters import CounterFactory

    elements = iter(partition)
    first = next(elements, _EMPTY)
    if first is _EMPTY:  # no bundle for no elements: a process that never sees any never sets up
        return [(_METRICS, MetricsContainer("").get_cumulative())]
    steps, routes = pickle.loads(stage)  # [(step id, DoFn payload)], {(step index, tag): (kind, target)}
    out: list = []
    fns = [_set_up_fn(step_id, payload) for step_id, payload in steps]
    # A sampler of its own per bundle: a sampler keeps one scoped state (and so one metrics
    # container) per step name, and a second bundle of the step would count into the first's.
    previous = statesampler.get_current_tracker()
    sampler = statesampler.StateSampler("dask", CounterFactory())
    statesampler.set_current_tracker(sampler)
    containers = [MetricsContainer(fn[5]) for fn in fns]
    states = [
        sampler.scoped_state(fn[5], "process", metrics_container=container)
        for fn, container in zip(fns, containers, strict=True)
    ]
    runners: list = [None] * len(steps)
    sides_left = iter(side_values)
    try:
        for index, (fn, args, kwargs, windowing, views, label) in enumerate(fns):
            values = [next(sides_left) for _ in views]
            sides = [SideInputMap(view, options, v) for (view, options), v in zip(views, values, strict=True)]
            receivers = _Receivers(
                (tag, _Forward(runners, target, states) if kind == "fuse" else _Collect(target, out))
                for (step, tag), (kind, target) in routes.items()
                if step == index
            )
            runners[index] = DoFnRunner(fn, args, kwargs, sides, windowing, receivers, step_name=label)
        for state, runner in zip(states, runners, strict=True):
            with state:
                runner.start()
        with states[0]:
            for windowed_value in itertools.chain((first,), elements):
                runners[0].process(windowed_value)
        # In chain order: what a step emits in finish_bundle (a sink's file name, BatchElements'
        # last batch) still goes through the steps after it before they finish.
        for state, runner in zip(states, runners, strict=True):
            with state:
                runner.finish()
    finally:
        statesampler.set_current_tracker(previous)
    out.extend((_METRICS, container.get_cumulative()) for container in containers)
    return out


def _deal(partition, parts: int, offset: int) -> list[list]:
    """One partition's elements dealt round-robin into ``parts`` lists, the first to list
    ``offset % parts`` (so that partitions of one element each do not all go to the first)."""
    dealt: list[list] = [[] for _ in range(parts)]
    for index, element in enumerate(partition):
        dealt[(index + offset) % parts].append(element)
    return dealt


def _task_name(label: str) -> str:
    """A Dask key prefix that names the Beam step (the dashboard groups tasks by it)."""
    return "_run_bundle." + re.sub(r"[^A-Za-z0-9_./]", "_", label)


def _select(partition, tag) -> list:
    return [value for t, value in partition if t == tag]


def _concat(parts) -> list:
    return list(itertools.chain.from_iterable(parts))


def _group(items) -> Any:
    """One key's group, as the GroupAlsoByWindow step downstream expects: (key, [WindowedValue])."""
    key, pairs = items
    return GlobalWindows.windowed_value((key, [pair.value[1] for pair in pairs]))


def _key(windowed_value):
    return windowed_value.value[0]


def _sizes(partition) -> list:
    return [sum(1 for _ in partition)]  # a partition may be a lazy iterator (after a map)


def _done(metric_parts, sizes) -> list:
    """What the launcher gets back: the metric updates of every bundle (the sizes only make every
    branch run)."""
    return _concat(metric_parts)


def _teardown(run_id: str) -> int:
    """Tear down and forget the DoFns this run set up in this worker process."""
    from pipeline.run import release_freed_memory

    with _FNS_LOCK:
        mine = [key for key in _FNS if key[0].startswith(run_id)]
        entries = [_FNS.pop(key) for key in mine]
    for entry in entries:
        entry[0].teardown()
    del entries
    # What the run loaded and freed goes back to the system before the next run (the leak check,
    # right after the job, on the same workers), as the launcher does for its own heap.
    release_freed_memory()
    return len(mine)


# ---- launcher side: the translation ------------------------------------------------------------


class _Stage:
    """A fused chain of ParDos: a root whose main input is a materialised bag, and the ParDos
    that each read, as their only consumer, a PCollection another step of the chain emits."""

    def __init__(self, root):
        self.steps = [root]
        self.fused: dict = {}  # PCollection -> index of the step that reads it inside the chain
        self.members = 0  # bit set of the steps' positions in the pipeline's visiting order


class _Translator(beam.pipeline.PipelineVisitor):
    """One Dask Bag of WindowedValues per PCollection that leaves a fused chain of ParDos
    (Beam's runner keeps one per transform, each materialised)."""

    def __init__(self, run_id: str, npartitions: int, partition_size: int | None, workers: list[str] = ()):
        self.run_id = run_id
        self.npartitions = npartitions
        self.partition_size = partition_size
        self.workers = list(workers)
        self.bags: dict[pvalue.PCollection, Any] = {}
        self.metrics: list = []
        self._consumed: set = set()
        self._steps = itertools.count()
        self._order: list = []

    def visit_transform(self, applied) -> None:
        transform = applied.transform
        if isinstance(transform, _Read):
            raise UnsupportedTransform(
                f"{applied.full_label}: a Read of a BoundedSource has no Dask translation; "
                "read with Create(paths) | ReadAll... instead"
            )
        if not isinstance(transform, (_Create, beam.ParDo, _GroupByKeyOnly, _Flatten, _Reshuffle)):
            raise UnsupportedTransform(f"{applied.full_label}: {type(transform).__name__} has no Dask translation")
        if isinstance(transform, beam.ParDo):
            from apache_beam.runners.common import DoFnSignature

            signature = DoFnSignature(transform.fn)
            if signature.is_splittable_dofn() or signature.is_stateful_dofn():
                raise UnsupportedTransform(
                    f"{applied.full_label}: splittable and stateful DoFns have no Dask translation"
                )
        self._order.append(applied)

    def translate(self) -> None:
        """Fuse the ParDo chains, then build every stage and other transform once its inputs'
        bags exist."""
        nodes = self._plan()
        built: set = set()
        pending = list(nodes)
        while pending:
            ready = [node for node in pending if all(p in self.bags for p in self._needs(node))]
            if not ready:  # cannot happen for a graph Beam accepted: fusion never closes a cycle
                raise RuntimeError("the Dask translation found no stage whose inputs are ready")
            for node in ready:
                self._build(node)
                built.add(id(node))
            pending = [node for node in pending if id(node) not in built]

    def _plan(self) -> list:
        """Stages and the other transforms, in visiting order. A ParDo joins the chain of the
        ParDo whose output it reads when it is that PCollection's only consumer (main input, not a
        side input) and none of its side inputs depends on the chain (which would wait for
        itself)."""
        consumers: dict = {}
        for applied in self._order:
            for pcoll in applied.inputs:
                consumers[pcoll] = consumers.get(pcoll, 0) + 1
            for view in applied.side_inputs:
                consumers[view.pvalue] = consumers.get(view.pvalue, 0) + 1
        self._consumed = set(consumers)
        position = {id(applied): i for i, applied in enumerate(self._order)}
        producer = {pcoll: applied for applied in self._order for pcoll in applied.outputs.values()}
        upstream: dict[int, int] = {}  # bit set of every transform a transform depends on
        stage_of: dict[int, _Stage] = {}
        nodes: list = []
        for i, applied in enumerate(self._order):
            sources = [producer[p] for p in applied.inputs if p in producer]
            sources += [producer[v.pvalue] for v in applied.side_inputs if v.pvalue in producer]
            deps = 0
            for source in sources:
                deps |= upstream[id(source)] | (1 << position[id(source)])
            upstream[id(applied)] = deps
            if not isinstance(applied.transform, beam.ParDo):
                nodes.append(applied)
                continue
            (main_input,) = applied.main_inputs.values()
            feeder = producer.get(main_input)
            stage = stage_of.get(id(feeder)) if feeder is not None else None
            side_deps = 0
            for view in applied.side_inputs:
                if view.pvalue in producer:
                    source = producer[view.pvalue]
                    side_deps |= upstream[id(source)] | (1 << position[id(source)])
            if stage is not None and consumers[main_input] == 1 and not side_deps & stage.members:
                stage.fused[main_input] = len(stage.steps)
                stage.steps.append(applied)
            else:
                stage = _Stage(applied)
                nodes.append(stage)
            stage.members |= 1 << i
            stage_of[id(applied)] = stage
        return nodes

    def _needs(self, node) -> list:
        if isinstance(node, _Stage):
            (main_input,) = node.steps[0].main_inputs.values()
            needed = [main_input] + [view.pvalue for step in node.steps for view in step.side_inputs]
        else:
            needed = node.inputs
        return [pcoll for pcoll in needed if isinstance(pcoll, pvalue.PCollection)]  # not a PBegin

    def _build(self, node) -> None:
        if isinstance(node, _Stage):
            self._stage(node)
            return
        applied, transform = node, node.transform
        if isinstance(transform, _Create):
            bag = self._create(transform.values)
        elif isinstance(transform, _GroupByKeyOnly):
            bag = self._main_input(applied).groupby(_key).map(_group)
        elif isinstance(transform, _Flatten):
            import dask.bag as db

            inputs = [self.bags[pcoll] for pcoll in applied.inputs]
            bag = db.concat(inputs) if inputs else self._create(())
            if bag.npartitions > self.npartitions:  # else every Flatten adds to the partitions downstream
                bag = bag.repartition(npartitions=self.npartitions)
        else:
            bag = self._reshuffle(self._main_input(applied))
        (output,) = applied.outputs.values()
        self.bags[output] = bag

    def _main_input(self, applied):
        return self.bags[applied.inputs[0]]

    def _reshuffle(self, bag):
        """Every element dealt round-robin over ``npartitions`` new partitions. ``Bag.repartition``
        only splits or joins neighbouring partitions, so the elements of one heavy input (the
        units of one large Parquet file) stayed together in one partition, and the partitions
        were as uneven as the inputs (the leak check at 100,000 clips: one worker computed 73 s,
        the other 47 s)."""
        import dask
        import dask.bag as db

        parts = self.npartitions
        dealt = [
            dask.delayed(_deal, pure=True)(part, parts, offset)
            for offset, part in enumerate(bag.to_delayed(optimize_graph=False))
        ]
        spread = []
        for j in range(parts):
            # Dask runs a task where its inputs are: the new partitions would all stay on the
            # worker that read the input, and the steps after them too. Each is placed on a worker
            # in turn (a preference: another worker takes it if that one is gone).
            where = {"workers": [self.workers[j % len(self.workers)]], "allow_other_workers": True}
            with dask.annotate(**(where if self.workers else {})):
                spread.append(dask.delayed(_concat, pure=True)([pieces[j] for pieces in dealt]))
        return db.from_delayed(spread)

    def _create(self, values):
        import dask.bag as db

        values = [GlobalWindows.windowed_value(v) for v in values]
        if self.partition_size:
            return db.from_sequence(values, partition_size=self.partition_size)
        return db.from_sequence(values, npartitions=max(1, min(len(values), self.npartitions)))

    def _stage(self, stage: _Stage) -> None:
        """One task per partition of the root's input runs the whole chain (``_run_bundle``); each
        output that leaves the chain (read by another transform or a side input, or by nothing)
        gets its own bag."""
        import dask

        steps, routes, exports, side_values = [], {}, [], []
        for index, applied in enumerate(stage.steps):
            transform = applied.transform
            (main_input,) = applied.main_inputs.values()
            views = [(type(view), view._view_options()) for view in applied.side_inputs]
            payload = pickler.dumps(
                (transform.fn, transform.args, transform.kwargs, main_input.windowing, views, applied.full_label)
            )
            steps.append((f"{self.run_id}/{next(self._steps)}", payload))
            side_values += [
                dask.delayed(_concat, pure=True)(self.bags[view.pvalue].to_delayed(optimize_graph=False))
                for view in applied.side_inputs
            ]
            for tag, pcoll in applied.outputs.items():  # the main output's tag is None, as DoFnRunner emits it
                if pcoll in stage.fused:
                    routes[(index, tag)] = ("fuse", stage.fused[pcoll])
                else:
                    routes[(index, tag)] = ("export", len(exports))
                    exports.append(pcoll)
        (main_input,) = stage.steps[0].main_inputs.values()
        results = self.bags[main_input].map_partitions(
            _run_bundle, pickle.dumps((steps, routes)), *side_values, token=_task_name(stage.steps[0].full_label)
        )
        self.metrics.extend(results.map_partitions(_select, _METRICS).to_delayed(optimize_graph=False))
        for export, pcoll in enumerate(exports):
            self.bags[pcoll] = results.map_partitions(_select, export)

    def target(self):
        """What to compute: every bundle's metrics (every ParDo runs) and the size of every
        PCollection nothing reads (every branch runs, nothing large comes back)."""

        import dask

        leaves = [bag.map_partitions(_sizes) for pcoll, bag in self.bags.items() if pcoll not in self._consumed]
        sizes = [part for leaf in leaves for part in leaf.to_delayed(optimize_graph=False)]
        # One collection: graphs optimised apart would each hold, renamed, the steps they share
        # (a sink's InitializeWrite ran twice, in two temp folders).
        return dask.delayed(_done, pure=True)(self.metrics, sizes)


class _LiftCombines(beam.pipeline.PTransformOverride):
    """``CombinePerKey`` as Beam's DirectRunner runs it: combined per key within each bundle first
    (``LiftedCombinePerKey``), so the ``GroupByKey`` after it sees an accumulator per key and
    partition, not every element. Unlifted, a ``CombineGlobally`` over the manifest's keys sent all
    300,000 rows to one group in one worker (128 MB it then kept as free heap)."""

    def matches(self, applied_ptransform):
        return isinstance(applied_ptransform.transform, beam.CombinePerKey) and (
            applied_ptransform.inputs[0].windowing.is_default()
        )

    def get_replacement_transform_for_applied_ptransform(self, applied_ptransform):
        from apache_beam.transforms.combiners import LiftedCombinePerKey

        transform = applied_ptransform.transform
        try:
            return LiftedCombinePerKey(transform.fn, transform.args, transform.kwargs)
        except NotImplementedError:  # ten side inputs or more: combined after the shuffle, as before
            return transform


class DaskRunner(BeamDaskRunner):
    """Runs a Beam pipeline as one Dask graph on a ``dask.distributed`` cluster (see module doc)."""

    def run_pipeline(self, pipeline, options):
        import dask.distributed as ddist

        dask_options = options.view_as(DaskOptions).get_all_options(drop_default=True, current_only=True)
        bag_kwargs = DaskOptions._extract_bag_kwargs(dask_options)
        standing = bool(dask_options.get("address") or dask_options.get("scheduler_file"))
        if standing:
            client = ddist.Client(**dask_options)
        else:  # a LocalCluster of our own, its workers started as worker_environment() says
            with starting_workers():
                client = ddist.Client(**dask_options)
        try:
            _warn_if_unbounded(client)
            nthreads = client.nthreads()
            threads = sum(nthreads.values()) or 1
            npartitions = bag_kwargs.get("npartitions") or 2 * threads
            pipeline.replace_all([_LiftCombines(), *dask_overrides()])
            translator = _Translator(uuid.uuid4().hex, npartitions, bag_kwargs.get("partition_size"), sorted(nthreads))
            pipeline.visit(translator)
            translator.translate()
            future = client.compute(translator.target())
        except BaseException:
            client.close()
            raise
        return DaskRunResult(client, future, translator.run_id)


def worker_environment() -> dict[str, str]:
    """What a worker process of this job should start with: the allocator bounds the DirectRunner's
    SDK workers get (``pipeline.run.WORKER_ALLOCATOR_ENV``), glibc's thresholds in place of Dask's
    (:data:`DASK_ALLOCATOR_ENV`) and Dask's profiler off."""
    from pipeline.run import WORKER_ALLOCATOR_ENV

    return {**WORKER_ALLOCATOR_ENV, **DASK_ALLOCATOR_ENV, PROFILER_ENV: "False"}


def worker_settings() -> dict:
    """Dask config under which a ``LocalCluster`` starts its workers as :func:`worker_environment`
    says (the runner's own cluster, the benchmark's)."""
    import dask

    environ = {**dask.config.get("distributed.nanny.pre-spawn-environ", default={}), **worker_environment()}
    return {PROFILER: False, "distributed.nanny.pre-spawn-environ": environ}


@contextlib.contextmanager
def starting_workers():
    """While a ``LocalCluster`` starts its workers: :func:`worker_settings`, and the same variables
    in this process's environment, put back afterwards. Dask's nanny lets a variable already in the
    launcher's environment override its config, and leaves its own pre-spawn values there once it
    has started a worker (a cluster started earlier in the process left MALLOC_TRIM_THRESHOLD_=65536
    behind, and the next cluster's workers got it)."""
    import dask

    wanted = worker_environment()
    before = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        with dask.config.set(worker_settings()):
            yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _missing_settings() -> list[str]:
    """Which of :func:`worker_environment`'s settings this worker process runs without."""
    import dask

    missing = [
        name for name, value in worker_environment().items() if name != PROFILER_ENV and os.environ.get(name) != value
    ]
    return missing + ([PROFILER_ENV] if dask.config.get(PROFILER, default=False) else [])


def _warn_if_unbounded(client) -> None:
    """A standing cluster's workers are the operator's: say which settings they lack."""
    missing = sorted({name for names in client.run(_missing_settings).values() for name in names})
    if missing:
        wanted = worker_environment()
        LOG.warning(
            "Dask workers run without %s: their memory may grow with the run (Dask's profiler keeps "
            "an hour of call trees, glibc and Arrow keep freed pages); start them with %s",
            ", ".join(missing),
            " ".join(f"{name}={wanted[name]}" for name in missing),
        )


class DaskRunResult(PipelineResult):
    """The running graph. When it has finished, ``wait_until_finish`` commits every bundle's metric
    updates, tears the run's DoFns down on every worker and closes the client (and so a
    LocalCluster the client started)."""

    def __init__(self, client, future, run_id: str):
        super().__init__(PipelineState.RUNNING)
        self._client = client
        self._future = future
        self._run_id = run_id
        self._metrics = None
        self.dashboard_link = getattr(client, "dashboard_link", None)  # printed by the launcher

    def wait_until_finish(self, duration=None):
        """Block until the run ends (or ``duration`` milliseconds pass: then the state is RUNNING)."""
        import dask.distributed as ddist
        from apache_beam.runners.direct.direct_metrics import DirectMetrics

        if self._state != PipelineState.RUNNING:
            return self._state
        try:
            updates = self._future.result(timeout=None if duration is None else duration / 1000)
        except ddist.TimeoutError:
            return self._state
        except BaseException:
            self._state = PipelineState.FAILED
            self._close()
            raise
        metrics = DirectMetrics()
        for update in updates:  # a bundle's updates arrive with its outputs, so they are committed
            metrics.commit_logical(None, update)
            metrics.commit_physical(None, update)
        self._metrics = metrics
        self._state = PipelineState.DONE
        self._close()
        return self._state

    def _close(self) -> None:
        try:
            self._client.run(_teardown, self._run_id)
        except Exception:  # noqa: BLE001 - workers gone: nothing left to tear down
            pass
        self._client.close()

    def cancel(self):
        self._client.cancel(self._future)
        self._state = PipelineState.CANCELLED
        self._close()
        return self._state

    def metrics(self):
        if self._metrics is None:
            raise RuntimeError("the run's metrics are known once it has finished (wait_until_finish)")
        return self._metrics
