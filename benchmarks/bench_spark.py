"""Scale-out: one event log, end to end, on the Spark engine (local mode) and on the pandas engine.

The data is a canonical ecommerce event log (``order_id``, ``customer_id``, ``item_id``,
``timestamp``, ``quantity``, ``amount``, returns included) written as a Parquet FOLDER of part
files, with a customers folder and an items table beside it: what a shop's data lake holds. It is
made of chunks, each one run of the "large" synthetic generator (1,000,000 customers, about 20.5
million order lines) with its own seed, its customer and order ids shifted so they are distinct
across chunks (the items are shared), and each chunk split by customer into 10 part files of about
2 million lines. The generator runs in a child process per chunk, so its memory stays that of one
chunk (about 3.4 GiB) whatever the total. A log of N events is the first part files that add up to
N lines (hard links to the shared parts, so 100 million events take the disk space once). The data
lives outside git, under $MARKETING_BENCH_DATA or /tmp/marketing-bench, and is reused when a run
asks for the same specification; generating it is not timed.

The pipeline, the same stages on both engines, each timed:

1. ``read_clean``: read the three tables and apply the canonical cleaning (events without a
   customer, returns, events of unknown customers or items are dropped and counted): Spark
   :func:`marketing.spark.data.read_case_data`; pandas ``pandas.read_parquet`` of the same folders
   and :func:`marketing.datasets.canonical.to_canonical` (the cleaning every pandas loader uses);
2. ``features``: the customer table with the case's RFM segmentation features (recency, frequency,
   monetary, average order value): :func:`marketing.features.customer_table` (cached in
   Spark) / :func:`marketing.features.customer_table`;
3. ``segment``: k-means with a fixed k = 4: :class:`marketing.spark.segmentation.SparkSegmenter` /
   :class:`marketing.segmentation.Segmenter`;
4. ``profiles``: the segment profiles, collected to pandas (Spark) / computed (pandas).

and, at one size (--als-events, 2 million events by default: 100,000 customers x 20,000 items),
collaborative filtering: ``read_clean``; ``interactions`` (one row / matrix entry per customer-item
pair); ``fit``: ALS with the package's defaults (:class:`marketing.spark.recommend.ALS` /
:class:`marketing.recommend.ALS`); ``top10``: the 10 best unseen items for every customer (Spark
computes them into its ``noop`` sink, as a job writing them to a table would, without the disk).

Spark's DataFrames are lazy: ``read_clean`` times the passes the cleaning report needs (it counts
what it drops), and the Parquet files are read again by ``features``; only the sum of the stages
(``total_s``) compares like with like. Starting the Spark session (``start_s``, 5-20 s) is
reported beside the total, not in it, nor in the throughput (events per second of ``total_s``).
``cpu_s`` is the CPU time (user + system) the contender's processes used during the stages: on a
shared machine it is steadier than the wall time.

Peak memory is that of the contender's whole process tree (for Spark the JVM is a child process of
Python, and Python workers are the JVM's children): ``peak_gib`` is the sum over the tree of each
process's own high-water mark (``VmHWM`` in /proc), read at the end, before Spark stops -- an upper
bound of the tree's peak, exact for the single pandas process; ``peak_polled_gib`` is the largest
sum of the tree's current resident memory (``VmRSS``) seen by a thread polling every 0.2 s, which
can miss short peaks. In local mode the JVM's heap is capped by ``spark.driver.memory`` (by default
half of the machine's memory, see :func:`marketing.spark.session.default_driver_memory`), and it
grows towards the cap before collecting garbage: its resident memory says what Spark was allowed,
more than what it needed.

Sizes: by default 2 and 20 million events (one chunk of data: `make bench` stays within half an
hour); the larger logs are a run of their own, into results/spark_large.{json,md}:
``python benchmarks/bench_spark.py --sizes 5e7 1e8 --als-events 0 --name spark_large``. Each contender runs in its own process,
--repeats times (median) at sizes up to --repeat-below events, once above. pandas stops where its
peak memory or time, extrapolated linearly from the sizes it ran, would pass --pandas-max-gib or
--pandas-max-seconds: such sizes get a row "not run: would need ~X GiB" instead of a crash.

Both engines' results are checked against each other at every size both ran: the rows each
cleaning step removed; the number of customers and the totals of recency, frequency and monetary
value (equal) and the segment shares (close: different k-means implementations); for ALS the
customer x item pairs and a list for every customer.

Usage: python benchmarks/bench_spark.py [--quick] [--sizes 2e6 1e7 ...] [--engines pandas spark]
Full mode writes benchmarks/results/spark.{json,md} (after every size, so an interrupted run keeps
what it measured); --quick runs both pipelines on 200,000 events (6 "small" chunks), each engine
once, in a temporary folder, and writes nothing. A contender that fails (or passes --timeout) gets
a row "failed: <the error>" and the run goes on.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, machine, markdown_table, median, run_child, write_results  # noqa: E402
from plots import plot_family  # noqa: E402

SCRIPT = Path(__file__).resolve()
CASE = "ecommerce"
K = 4
SEED = 42
ENGINES = ("pandas", "spark")
#: the timed stages of each pipeline
STAGES = {"segmentation": ("read_clean", "features", "segment", "profiles"),
          "als": ("read_clean", "interactions", "fit", "top10")}
TOP_K = 10
#: customer and order ids of chunk c are c * ID_STRIDE + the generator's own ids (1, 2, ...): distinct
#: across chunks, and within 32 bits for 21 chunks (Spark ML's ALS needs 32-bit ids)
ID_STRIDE = 10**8
#: bump when the layout or content of the data store changes, so old stores are not reused
STORE_VERSION = 2
DATA_ENV = "MARKETING_BENCH_DATA"
FULL = {"chunk_size": "large", "parts_per_chunk": 10,
        "sizes": (2_000_000, 20_000_000), "als_events": 2_000_000}
QUICK = {"chunk_size": "small", "parts_per_chunk": 1, "sizes": (200_000,), "als_events": 200_000}
CANONICAL_COLUMNS = ("order_id", "customer_id", "item_id", "timestamp", "quantity", "amount")


# --- memory of a process tree -------------------------------------------------------------------
def _children_map() -> dict[int, list[int]]:
    """Parent pid -> child pids, from /proc/<pid>/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # "pid (comm) state ppid ...": comm may hold spaces and parentheses
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    return children


def process_tree(root: int | None = None) -> list[int]:
    """``root`` (default: this process) and all its descendants."""
    root = os.getpid() if root is None else root
    children, tree, todo = _children_map(), [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _status_kib(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            line = next(entry for entry in status if entry.startswith(field + ":"))
        return int(line.split()[1])
    except (OSError, StopIteration, ValueError):
        return 0


class TreeMemory:
    """Peak resident memory and CPU time of this process and its descendants (Linux /proc; None elsewhere).

    A daemon thread sums the tree's ``VmRSS`` every ``interval`` seconds and keeps the largest
    sum (:attr:`polled_peak_gib`); :meth:`hwm_sum_gib` adds up each living process's own
    high-water mark, ``VmHWM``: call it before child processes such as Spark's JVM exit.
    """

    def __init__(self, interval: float = 0.2):
        self.interval = interval
        self.available = os.path.exists("/proc/self/status")
        self._peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> TreeMemory:
        if self.available:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        total = sum(_status_kib(pid, "VmRSS") for pid in process_tree())
        self._peak_kib = max(self._peak_kib, total)

    @property
    def polled_peak_gib(self) -> float | None:
        return round(self._peak_kib / 2**20, 3) if self.available else None

    def hwm_sum_gib(self) -> float | None:
        if not self.available:
            return None
        self.sample()
        return round(sum(_status_kib(pid, "VmHWM") for pid in process_tree()) / 2**20, 3)

    def processes(self) -> int:
        return len(process_tree()) if self.available else 1

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) used so far by the tree, reaped children included.

        On a shared machine it is steadier than the wall time: a contender that got a third of
        the cores for a minute used 40 CPU seconds either way.
        """
        if not self.available:
            return None
        ticks = 0
        for pid in process_tree():
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                # utime, stime, cutime, cstime: fields 14-17 of stat, 12-15 after the name
                ticks += sum(int(f) for f in fields[11:15])
            except (OSError, ValueError, IndexError):
                continue
        return round(ticks / os.sysconf("SC_CLK_TCK"), 1)


# --- the data: a canonical event log as Parquet part files --------------------------------------
def data_root(override: str | None = None) -> Path:
    """Where generated logs live: --data, else $MARKETING_BENCH_DATA, else /tmp/marketing-bench."""
    return Path(override or os.environ.get(DATA_ENV) or "/tmp/marketing-bench")


def store_spec(chunk_size: str, parts_per_chunk: int, seed: int) -> dict:
    import marketing

    return {"case": CASE, "chunk_size": chunk_size, "parts_per_chunk": parts_per_chunk, "seed": seed,
            "id_stride": ID_STRIDE, "store_version": STORE_VERSION, "marketing": marketing.__version__}


def store_path(root: Path, spec: dict) -> Path:
    return root / (f"{spec['case']}-{spec['chunk_size']}-x{spec['parts_per_chunk']}-seed{spec['seed']}"
                   f"-v{spec['store_version']}-{spec['marketing']}")


def generate_chunk(store: str | Path, chunk: int) -> dict:
    """Generate chunk ``chunk`` of the store, write its part files and return their row counts."""
    import numpy as np
    import pandas as pd

    from marketing.cases import get_case
    from marketing.datasets.synthetic import generate

    store = Path(store)
    spec = json.loads((store / "spec.json").read_text())
    case = get_case(spec["case"])
    start = time.perf_counter()
    synthetic = generate(case, size=spec["chunk_size"], seed=spec["seed"] + chunk)
    generate_s = time.perf_counter() - start
    start = time.perf_counter()
    tables, roles = synthetic.tables, case.tables
    mapping = roles["events"]["columns"]  # canonical role -> the source's column name
    lines = tables[roles["events"]["table"]]
    header = tables[roles["events"]["join"]["table"]]
    # each line's order header (customer and time), by position: the generator's order ids are
    # 1..n in header order, which is checked rather than assumed
    order_ids = header[mapping["order_id"]].to_numpy()
    if not np.array_equal(order_ids, np.arange(1, len(order_ids) + 1)):
        raise RuntimeError("the generator's order ids are no longer 1..n in order; join by id instead")
    customers = tables[roles["customers"]["table"]].rename(columns={roles["customers"]["id"]: "customer_id"})
    if max(len(order_ids), len(customers)) >= ID_STRIDE:
        raise RuntimeError(f"a chunk has more than {ID_STRIDE:,} orders or customers: raise ID_STRIDE")
    row = lines[mapping["order_id"]].to_numpy() - 1
    offset = np.int64(chunk) * ID_STRIDE
    local_customer = header[mapping["customer_id"]].to_numpy()[row]
    events = pd.DataFrame({
        "order_id": lines[mapping["order_id"]].to_numpy() + offset,
        "customer_id": local_customer + offset,
        "item_id": lines[mapping["item_id"]].to_numpy(),
        "timestamp": header[mapping["timestamp"]].to_numpy()[row],
        "quantity": lines[mapping["quantity"]].to_numpy(),
        "amount": lines[mapping["amount"]].to_numpy(),
    })
    # split by customer into parts_per_chunk files of equal customer counts
    ids = np.sort(customers["customer_id"].to_numpy())
    n_parts = spec["parts_per_chunk"]
    upper = np.array([block[-1] for block in np.array_split(ids, n_parts)])
    event_part = np.searchsorted(upper, local_customer)
    customer_part = np.searchsorted(upper, customers["customer_id"].to_numpy())
    order = np.argsort(event_part, kind="stable")
    bounds = np.searchsorted(event_part[order], np.arange(n_parts + 1))
    # plain strings, not pandas categoricals: what a data lake holds, readable by any engine
    customers = customers.assign(
        customer_id=customers["customer_id"] + offset,
        **{c: customers[c].astype(str) for c in customers if isinstance(customers[c].dtype, pd.CategoricalDtype)},
    )
    parquet = {"index": False, "coerce_timestamps": "us", "allow_truncated_timestamps": True}
    (store / "events").mkdir(exist_ok=True)
    (store / "customers").mkdir(exist_ok=True)
    parts = []
    for part in range(n_parts):
        name = f"part-c{chunk:03d}-p{part:03d}.parquet"
        chunk_events = events.iloc[order[bounds[part]:bounds[part + 1]]]
        chunk_events.to_parquet(store / "events" / name, **parquet)
        customers.loc[customer_part == part].to_parquet(store / "customers" / name, **parquet)
        parts.append({"name": name, "rows": len(chunk_events),
                      "customers": int(np.count_nonzero(customer_part == part))})
    if chunk == 0:
        items = tables[roles["items"]["table"]].rename(columns={roles["items"]["id"]: "item_id"})
        items = items.assign(**{c: items[c].astype(str) for c in items
                                if isinstance(items[c].dtype, pd.CategoricalDtype)})
        items.to_parquet(store / "items.parquet", **parquet)
    return {"chunk": chunk, "parts": parts, "generate_s": round(generate_s, 1),
            "write_s": round(time.perf_counter() - start, 1),
            "observation_end": str(synthetic.truth.observation_end)}


def ensure_store(root: Path, spec: dict, events: int) -> dict:
    """Generate chunks until the store holds at least ``events`` lines; return its manifest.

    Chunks already in the manifest are reused (same specification, same folder name).
    """
    store = store_path(root, spec)
    store.mkdir(parents=True, exist_ok=True)
    spec_file = store / "spec.json"
    if spec_file.exists() and json.loads(spec_file.read_text()) != spec:
        raise RuntimeError(f"{store} holds another specification; remove the folder or pass another --data")
    spec_file.write_text(json.dumps(spec, indent=1))
    manifest_file = store / "manifest.json"
    manifest = json.loads(manifest_file.read_text()) if manifest_file.exists() else {"chunks": []}
    have = sum(p["rows"] for c in manifest["chunks"] for p in c["parts"])
    while have < events:
        chunk = len(manifest["chunks"])
        print(f"generating chunk {chunk} ({spec['chunk_size']} data, seed {spec['seed'] + chunk}) "
              f"into {store} ...", flush=True)
        if spec["chunk_size"] == "large":
            # in a child process, so that memory is returned after every chunk
            record = run_child(SCRIPT, [json.dumps({"task": "generate", "store": str(store), "chunk": chunk})])
        else:  # small chunks (--quick): a process start would cost more than the chunk
            record = generate_chunk(store, chunk)
        if manifest.get("observation_end", record["observation_end"]) != record["observation_end"]:
            raise RuntimeError(f"chunk {chunk} ends on {record['observation_end']}, the store on "
                               f"{manifest['observation_end']}: the chunks must describe the same period")
        manifest["chunks"].append(record)
        manifest["observation_end"] = record["observation_end"]
        manifest_file.write_text(json.dumps(manifest, indent=1))
        have += sum(p["rows"] for p in record["parts"])
        print(f"  chunk {chunk}: {sum(p['rows'] for p in record['parts']):,} lines, generated in "
              f"{record['generate_s']} s, written in {record['write_s']} s; {have:,} lines in the store",
              flush=True)
    manifest["store"] = str(store)
    return manifest


def size_folder(manifest: dict, events: int) -> dict:
    """A folder holding the first part files that add up to ``events`` lines (hard links)."""
    store = Path(manifest["store"])
    parts, rows = [], 0
    for part in (p for c in manifest["chunks"] for p in c["parts"]):
        if rows >= events:
            break
        parts.append(part)
        rows += part["rows"]
    if rows < events:
        raise ValueError(f"the store holds {rows:,} lines, fewer than {events:,}")
    folder = store / "sizes" / f"events-{events}"
    if folder.exists():
        shutil.rmtree(folder)
    for table in ("events", "customers"):
        (folder / table).mkdir(parents=True)
        for part in parts:
            _link(store / table / part["name"], folder / table / part["name"])
    _link(store / "items.parquet", folder / "items.parquet")
    return {"path": str(folder), "events": rows, "customers": sum(p["customers"] for p in parts),
            "parts": len(parts), "observation_end": manifest["observation_end"]}


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system, or no hard links: copy
        shutil.copy2(source, target)


# --- children: one engine, the whole pipeline --------------------------------------------------
def _pandas_read_clean(folder: Path, observation_end: str):
    """The three tables read with pandas and cleaned as every pandas loader cleans them."""
    import dataclasses

    import pandas as pd

    from marketing.cases import get_case
    from marketing.datasets.canonical import to_canonical

    # the case's own tables section maps its source tables; these files are canonical already
    canonical = dataclasses.replace(get_case(CASE), tables={
        "customers": {"table": "customers", "id": "customer_id"},
        "items": {"table": "items", "id": "item_id"},
        "events": {"table": "events", "columns": {c: c for c in CANONICAL_COLUMNS}},
    })
    tables = {"events": pd.read_parquet(folder / "events"), "customers": pd.read_parquet(folder / "customers"),
              "items": pd.read_parquet(folder / "items.parquet")}
    return to_canonical(canonical, tables, observation_end=pd.Timestamp(observation_end), source=str(folder))


def _child_pandas(job: dict) -> dict:
    from marketing.cases import get_case

    folder, timings = Path(job["path"]), {}
    with TreeMemory() as memory:
        cpu = memory.cpu_seconds()
        start = time.perf_counter()
        data = _pandas_read_clean(folder, job["observation_end"])
        timings["read_clean"] = time.perf_counter() - start
        if job["pipeline"] == "segmentation":
            from marketing.features import customer_table
            from marketing.segmentation import Segmenter, segment_profiles

            start = time.perf_counter()
            table = customer_table(data, get_case(CASE).segmentation_features)
            timings["features"] = time.perf_counter() - start

            start = time.perf_counter()
            segmenter = Segmenter(n_segments=job["k"], random_state=job["seed"]).fit(table)
            timings["segment"] = time.perf_counter() - start

            start = time.perf_counter()
            profiles = segment_profiles(table, segmenter.labels_)
            timings["profiles"] = time.perf_counter() - start
            checks = {"totals": {"customers": int(len(table)), "recency_days": int(table["recency_days"].sum()),
                                 "frequency": int(table["frequency"].sum()),
                                 "monetary": float(table["monetary"].sum())},
                      "segment_shares": _shares(profiles)}
        else:
            from marketing.recommend import ALS, build_interactions

            start = time.perf_counter()
            interactions = build_interactions(data.events)
            timings["interactions"] = time.perf_counter() - start

            start = time.perf_counter()
            model = ALS(random_state=job["seed"]).fit(interactions)
            timings["fit"] = time.perf_counter() - start

            start = time.perf_counter()
            top = model.recommend(interactions.user_ids, k=TOP_K)
            timings["top10"] = time.perf_counter() - start
            checks = {"totals": {"customers": int(interactions.n_users), "items": int(interactions.n_items),
                                 "pairs": int(interactions.matrix.nnz), "lists": int(top["customer_id"].nunique()),
                                 "rows": int(len(top))}}
        peak = memory.hwm_sum_gib()
    return _record("pandas", job, timings, peak, memory, data.cleaning, checks, cpu)


def _child_spark(job: dict) -> dict:
    import pandas as pd
    from pyspark.sql import functions as F

    from marketing.cases import get_case
    from marketing.spark.data import read_case_data
    from marketing.spark.session import spark_session

    timings = {}
    config = {"spark.driver.memory": job["driver_memory"]} if job.get("driver_memory") else {}
    with TreeMemory() as memory:
        start = time.perf_counter()
        spark = spark_session(job.get("master") or "local[*]", app_name="marketing-bench", config=config)
        start_s = time.perf_counter() - start

        cpu = memory.cpu_seconds()
        start = time.perf_counter()
        data = read_case_data(spark, CASE, job["path"], observation_end=pd.Timestamp(job["observation_end"]))
        timings["read_clean"] = time.perf_counter() - start
        if job["pipeline"] == "segmentation":
            from marketing.features import customer_table
            from marketing.segmentation import segment_profiles
            from marketing.spark.segmentation import SparkSegmenter

            start = time.perf_counter()
            # cached: k-means passes over it many times
            table = customer_table(data, get_case(CASE).segmentation_features).cache()
            table.count()
            timings["features"] = time.perf_counter() - start

            start = time.perf_counter()
            segmenter = SparkSegmenter(n_segments=job["k"], random_state=job["seed"]).fit(table)
            timings["segment"] = time.perf_counter() - start

            start = time.perf_counter()
            profiles = segment_profiles(table, segmenter.labels_)
            timings["profiles"] = time.perf_counter() - start

            row = table.agg(F.count(F.lit(1)).alias("customers"), F.sum("recency_days").alias("recency_days"),
                            F.sum("frequency").alias("frequency"), F.sum("monetary").alias("monetary")).first()
            checks = {"totals": {"customers": int(row["customers"]), "recency_days": int(row["recency_days"]),
                                 "frequency": int(row["frequency"]), "monetary": float(row["monetary"])},
                      "segment_shares": _shares(profiles)}
        else:
            from marketing.spark.recommend import ALS, build_interactions

            # Spark's ALS cuts the lineage of its factors every 10 iterations only where a checkpoint
            # folder is set; without one, 15 iterations on 100,000 customers can end in a
            # StackOverflowError when a task is deserialised (Spark's advice: set one)
            checkpoints = tempfile.mkdtemp(prefix="checkpoints-", dir=Path(job["path"]).parents[1])
            spark.sparkContext.setCheckpointDir(checkpoints)
            start = time.perf_counter()
            # cached, as the pandas path holds its sparse matrix: ALS and the top-10 read it again
            interactions = build_interactions(data.events).cache()
            interactions.count()
            timings["interactions"] = time.perf_counter() - start

            start = time.perf_counter()
            model = ALS(random_state=job["seed"]).fit(interactions)
            timings["fit"] = time.perf_counter() - start

            start = time.perf_counter()
            # every customer's list computed, delivered nowhere ("noop" sink): what a job writing
            # them to a table pays, without the disk
            top = model.recommend(k=TOP_K).persist()
            top.write.format("noop").mode("overwrite").save()
            timings["top10"] = time.perf_counter() - start
            row = top.agg(F.countDistinct("customer_id").alias("lists"), F.count(F.lit(1)).alias("rows")).first()
            checks = {"totals": {"customers": model.n_users_, "items": model.n_items_trained_,
                                 "pairs": model.n_pairs_, "lists": int(row["lists"]), "rows": int(row["rows"])}}
        peak = memory.hwm_sum_gib()
        record = _record("spark", job, timings, peak, memory, data.cleaning, checks, cpu)
        record.update(start_s=round(start_s, 3), master=spark.sparkContext.master,
                      driver_memory=spark.sparkContext.getConf().get("spark.driver.memory", "1g"),
                      processes=memory.processes())
        spark.stop()
    if job["pipeline"] == "als":
        shutil.rmtree(checkpoints, ignore_errors=True)
    return record


def _shares(profiles) -> list[float]:
    return sorted((round(float(s), 4) for s in profiles["share"]), reverse=True)


def _events_read(report) -> int:
    """Events in the log before cleaning: the rows the first cleaning step looked at."""
    return next(s["rows_before"] for s in report.steps if s["reason"] == "missing customer id")


def _record(engine: str, job: dict, timings: dict, peak, memory: TreeMemory, cleaning, checks: dict,
            cpu_at_start: float | None) -> dict:
    total = sum(timings.values())
    cpu = memory.cpu_seconds()
    events = _events_read(cleaning)
    return {
        "engine": engine, "pipeline": job["pipeline"], "events": int(events),
        **{f"{stage}_s": round(seconds, 3) for stage, seconds in timings.items()},
        "total_s": round(total, 3), "events_per_s": round(events / total),
        "peak_gib": peak, "peak_polled_gib": memory.polled_peak_gib,
        "cpu_s": None if cpu is None else round(cpu - cpu_at_start, 1),
        "removed": {step["reason"]: step["rows_removed"] for step in cleaning.steps}, **checks,
    }


def _child(job: dict) -> None:
    if job["task"] == "generate":
        emit(generate_chunk(job["store"], job["chunk"]))
    elif job["task"] == "pandas":
        emit(_child_pandas(job))
    elif job["task"] == "spark":
        emit(_child_spark(job))
    else:
        raise SystemExit(f"unknown task {job['task']!r}")


# --- parent ------------------------------------------------------------------------------------
def projection(measured: list[dict], events: int) -> dict:
    """pandas' peak memory and time at ``events``, extrapolated linearly from the sizes it ran.

    With one measured size, memory and time are taken as proportional to the events; with more,
    a least-squares line through them (never a falling one).

    Examples
    --------
    >>> runs = [{"events": 10, "peak_gib": 2.0, "total_s": 5.0}, {"events": 20, "peak_gib": 3.0, "total_s": 10.0}]
    >>> projection(runs, 40)
    {'peak_gib': 5.0, 'total_s': 20.0}
    """
    out = {}
    for key in ("peak_gib", "total_s"):
        points = [(r["events"], r[key]) for r in measured if r.get(key) is not None]
        if not points:
            continue
        if len(points) == 1:
            x, y = points[0]
            out[key] = round(y * events / x, 2)
            continue
        n = len(points)
        mx = sum(x for x, _ in points) / n
        my = sum(y for _, y in points) / n
        sxx = sum((x - mx) ** 2 for x, _ in points)
        slope = max(0.0, sum((x - mx) * (y - my) for x, y in points) / sxx) if sxx else 0.0
        out[key] = round(my + slope * (events - mx), 2)
    return out


def run_contender(engine: str, pipeline: str, size: dict, repeats: int, args) -> dict:
    """``repeats`` runs of one engine's pipeline on one log, each in its own process: medians."""
    job = {"task": engine, "pipeline": pipeline, "path": size["path"], "observation_end": size["observation_end"],
           "k": K, "seed": SEED, "master": args.spark_master, "driver_memory": args.driver_memory}
    failed = {"engine": engine, "pipeline": pipeline, "events": size["events"]}
    runs = []
    for _ in range(repeats):
        try:
            runs.append(run_child(SCRIPT, [json.dumps(job)], timeout=args.timeout))
        except subprocess.TimeoutExpired:
            return failed | {"note": f"failed: timed out after {args.timeout:.0f} s"}
        except RuntimeError as error:
            return failed | {"note": "failed: " + _cause(str(error))}
    record = dict(runs[0])
    for key in [f"{s}_s" for s in STAGES[pipeline]] + ["total_s", "cpu_s"] + (["start_s"] if engine == "spark" else []):
        if record.get(key) is not None:
            record[f"{key}_runs"] = [r[key] for r in runs]
            record[key] = round(median(r[key] for r in runs), 3)
    record["events_per_s"] = round(record["events"] / record["total_s"])
    for key in ("peak_gib", "peak_polled_gib"):
        record[key] = max((r[key] for r in runs if r[key] is not None), default=None)
    record["repeats"] = repeats
    return record


def _cause(stderr: str) -> str:
    """The line of a failed child's stderr that says what went wrong (Python's or Java's error)."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    errors = [line for line in lines if ("Error" in line or "Exception" in line) and not line.startswith("at ")]
    return (errors or lines or ["no output"])[-1][:300]


def agreement(pandas_run: dict, spark_run: dict) -> dict:
    """Do the two engines agree? Segmentation: the customer count and RFM totals (equal) and the
    segment shares (close); ALS: the customers, items and pairs, and a list for every customer."""
    a, b = pandas_run["totals"], spark_run["totals"]
    out = {"pipeline": pandas_run["pipeline"], "events": pandas_run["events"], "customers": a["customers"],
           "same_rows_cleaned": pandas_run["removed"] == spark_run["removed"]}
    if pandas_run["pipeline"] == "als":
        return out | {"same_pairs": a["pairs"] == b["pairs"] and a["customers"] == b["customers"]
                      and a["items"] == b["items"],
                      "lists_for_every_customer": a["lists"] == a["customers"] == b["lists"],
                      "rows": [a["rows"], b["rows"]]}
    equal = (a["customers"] == b["customers"] and a["recency_days"] == b["recency_days"]
             and a["frequency"] == b["frequency"]
             and abs(a["monetary"] - b["monetary"]) <= 1e-9 * max(1.0, abs(a["monetary"])))
    shares_a, shares_b = pandas_run["segment_shares"], spark_run["segment_shares"]
    return out | {"rfm_totals_equal": bool(equal),
                  "segment_share_max_difference": round(max(abs(x - y) for x, y in zip(shares_a, shares_b)), 4)
                  if len(shares_a) == len(shares_b) else None}


def _pandas_limit(result: dict, size: dict, args) -> dict | None:
    """A "not run" record when pandas' extrapolated memory or time passes the limits, else None."""
    measured = [r for r in result["runs"] if r["engine"] == "pandas" and "total_s" in r]
    guess = projection(measured, size["events"])
    if guess.get("peak_gib", 0) <= args.pandas_max_gib and guess.get("total_s", 0) <= args.pandas_max_seconds:
        return None
    return {"engine": "pandas", "pipeline": "segmentation", "events": size["events"], "projected": guess,
            "note": f"not run: would need ~{guess['peak_gib']:.0f} GiB and ~{guess['total_s']:.0f} s (linear trend "
                    f"of the sizes run; limits {args.pandas_max_gib:g} GiB, {args.pandas_max_seconds:g} s)"}


def run_size(result: dict, manifest: dict, events: int, pipeline: str, args) -> list[dict]:
    """Both engines' runs of ``pipeline`` on the log of ``events`` events (and their agreement)."""
    size = size_folder(manifest, events)
    repeats = args.repeats if events <= args.repeat_below else 1
    records = {}
    for engine in args.engines:
        print(f"{engine} {pipeline}: {size['events']:,} events ({size['customers']:,} customers, "
              f"{size['parts']} part files), {repeats} run(s) ...", flush=True)
        record = _pandas_limit(result, size, args) if engine == "pandas" and pipeline == "segmentation" else None
        if record is None:
            record = run_contender(engine, pipeline, size, repeats, args)
        records[engine] = record | {"nominal": events, "customers_in_log": size["customers"]}
        if "total_s" in record:
            print("  " + ", ".join(f"{s} {record[f'{s}_s']} s" for s in STAGES[pipeline])
                  + f"; total {record['total_s']} s, {record['events_per_s']:,} events/s, "
                  f"peak {record['peak_gib']} GiB", flush=True)
        else:
            print(f"  {record['note']}", flush=True)
    done = {e: r for e, r in records.items() if "total_s" in r}
    if len(done) == 2:
        result["agreement"].append(agreement(done["pandas"], done["spark"]))
        print(f"  agreement: {json.dumps(result['agreement'][-1])}", flush=True)
    return list(records.values())


def run(args) -> dict:
    mode = QUICK if args.quick else FULL
    sizes = sorted(int(float(s)) for s in (args.sizes or mode["sizes"]))
    als_events = int(float(mode["als_events"] if args.als_events is None else args.als_events))
    spec = store_spec(mode["chunk_size"], mode["parts_per_chunk"], SEED)
    result = {"machine": machine(), "case": CASE, "k": K, "seed": SEED, "store_spec": spec,
              "limits": {"pandas_max_gib": args.pandas_max_gib, "pandas_max_seconds": args.pandas_max_seconds},
              "runs": [], "als": [], "agreement": []}
    with tempfile.TemporaryDirectory(prefix="bench-spark-") as tmp:
        root = Path(tmp) if args.quick and not args.data else data_root(args.data)
        start = time.perf_counter()
        manifest = ensure_store(root, spec, max(sizes + [als_events]))
        result["data"] = {"store": manifest["store"], "prepare_s": round(time.perf_counter() - start, 1),
                          "chunks": len(manifest["chunks"])}
        pending_als = als_events > 0
        for events in sizes:
            result["runs"] += run_size(result, manifest, events, "segmentation", args)
            if pending_als and events >= als_events:
                # early in the run: the largest sizes take longest
                result["als"] += run_size(result, manifest, als_events, "als", args)
                pending_als = False
            _save(result, args)
        if pending_als:
            result["als"] += run_size(result, manifest, als_events, "als", args)
            _save(result, args)
    return result


def _save(result: dict, args) -> None:
    """Write the results so far (a long run that is stopped keeps what it measured)."""
    if not args.quick and not args.no_results:
        result["machine"]["load_average_at_end"] = machine()["load_average_1_5_15"]
        write_results(args.name, result, markdown(result))
        plot_family("spark")


def _table(records: list[dict], pipeline: str) -> str:
    stages = [f"{s} s" for s in STAGES[pipeline]]
    rows = []
    for r in records:
        row = {"engine": r["engine"], "events": r["events"], "customers": r.get("customers_in_log"),
               "note": r.get("note", "")}
        if "total_s" in r:
            row.update({"runs": r["repeats"], "start s": r.get("start_s"),
                        **{f"{s} s": r[f"{s}_s"] for s in STAGES[pipeline]}, "total s": r["total_s"],
                        "CPU s": r.get("cpu_s"), "events/s": r["events_per_s"], "peak GiB": r["peak_gib"],
                        "polled peak GiB": r["peak_polled_gib"]})
        rows.append(row)
    return markdown_table(rows, ["engine", "events", "customers", "runs", "start s", *stages, "total s", "CPU s",
                                 "events/s", "peak GiB", "polled peak GiB", "note"])


def ratios(records: list[dict]) -> list[dict]:
    """Spark over pandas at each size both ran: time (total of the stages), CPU time and peak memory."""
    done = {(r["engine"], r["events"]): r for r in records if "total_s" in r}
    out = []
    for (engine, events), spark in done.items():
        pandas = done.get(("pandas", events))
        if engine != "spark" or pandas is None:
            continue
        out.append({"events": events, "time": round(spark["total_s"] / pandas["total_s"], 2),
                    "cpu": round(spark["cpu_s"] / pandas["cpu_s"], 2) if spark.get("cpu_s") and pandas.get("cpu_s")
                    else None,
                    "memory": round(spark["peak_gib"] / pandas["peak_gib"], 2)
                    if spark.get("peak_gib") and pandas.get("peak_gib") else None})
    return out


def _ratio_line(records: list[dict]) -> str:
    found = ratios(records)
    return "Spark over pandas: " + ("; ".join(
        f"{r['events']:,} events: time {r['time']}x"
        + (f", CPU time {r['cpu']}x" if r["cpu"] is not None else "")
        + (f", peak memory {r['memory']}x" if r["memory"] is not None else "") for r in found) or "no size ran on both") + "."


def markdown(result: dict) -> str:
    m = result["machine"]
    spark_runs = [r for r in result["runs"] + result["als"] if r["engine"] == "spark" and "total_s" in r]
    driver = (f" Spark {spark_runs[0]['master']}, driver memory {spark_runs[0]['driver_memory']}."
              if spark_runs else "")
    segments = [a for a in result["agreement"] if a["pipeline"] == "segmentation"]
    als = [a for a in result["agreement"] if a["pipeline"] == "als"]
    lines = [
        "# Scale-out: the same pipeline on Spark (local mode) and on pandas",
        "",
        f"Machine: {m['cores']} cores, {m.get('memory_gib')} GiB; load average at the start "
        f"{m['load_average_1_5_15']}, at the end {m.get('load_average_at_end')}; {m['date']}.{driver} "
        f"Data: the {result['case']} synthetic log as Parquet part files (benchmarks/bench_spark.py). "
        "`total s` is the sum of the stages (Spark's session start, `start s`, is not in it); events/s = "
        "events / total s; `CPU s`: the CPU time (user + system) of the process tree during the stages, "
        "steadier than the wall time on a shared machine. `peak GiB`: the process tree's summed VmHWM "
        "(Spark: Python + JVM); `polled peak GiB`: the largest summed VmRSS seen every 0.2 s. Times are "
        "medians of `runs` processes. Details: benchmarks/README.md, section 4.",
        "",
        f"## Segmentation: read + clean, RFM customer table, k-means (k = {result['k']}), profiles",
        "",
        _table(result["runs"], "segmentation"),
        "",
        "Agreement of the two engines (same log): " + ("; ".join(
            f"{a['events']:,} events: {a['customers']:,} customers, RFM totals "
            f"{'equal' if a['rfm_totals_equal'] else 'DIFFERENT'}, rows cleaned "
            f"{'the same' if a['same_rows_cleaned'] else 'DIFFERENT'}, segment shares within "
            f"{a['segment_share_max_difference']}" for a in segments) or "none measured") + ".",
        "",
        _ratio_line(result["runs"]),
    ]
    if result["als"]:
        lines += [
            "",
            f"## Collaborative filtering: read + clean, interactions, ALS fit, top-{TOP_K} for every customer",
            "",
            _table(result["als"], "als"),
            "",
            "Agreement: " + ("; ".join(
                f"{a['events']:,} events: {a['customers']:,} customers, the same pairs: "
                f"{'yes' if a['same_pairs'] else 'NO'}, a list for every customer: "
                f"{'yes' if a['lists_for_every_customer'] else 'NO'}" for a in als) or "none measured") + ".",
            "",
            _ratio_line(result["als"]),
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="200,000 events, both engines once, in a temporary folder; writes no results")
    parser.add_argument("--sizes", nargs="+", help="event counts, e.g. 2e6 1e7 (default 2e6 2e7)")
    parser.add_argument("--name", default="spark", help="results/<name>.{json,md} (the plot draws every spark*.json)")
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    parser.add_argument("--data", help=f"folder of the generated logs (default ${DATA_ENV} or /tmp/marketing-bench)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per contender at sizes up to --repeat-below")
    parser.add_argument("--repeat-below", type=float, default=5e6, help="larger sizes run once")
    parser.add_argument("--pandas-max-gib", type=float, default=16.0,
                        help="pandas is not run where its extrapolated peak memory passes this")
    parser.add_argument("--pandas-max-seconds", type=float, default=900.0,
                        help="pandas is not run where its extrapolated time passes this")
    parser.add_argument("--spark-master", default="local[*]", help="Spark master URL (default local[*])")
    parser.add_argument("--driver-memory", help="spark.driver.memory (default: half of this machine's memory)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds before a contender's run is stopped")
    parser.add_argument("--als-events", help="size of the ALS comparison in events (default 2e6; quick: "
                        "the quick size); 0 leaves it out")
    parser.add_argument("--no-results", action="store_true", help="print the results only (a trial run)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(json.loads(args.child))
        return {}
    if args.quick:
        args.repeats = 1
    start = time.perf_counter()
    result = run(args)
    result["wall_s"] = round(time.perf_counter() - start, 1)
    print(json.dumps(result, indent=1))
    _save(result, args)
    print(f"done in {result['wall_s']:.0f} s", flush=True)
    return result


if __name__ == "__main__":
    main()
