"""``make bench-pipeline``: what a full run and a one-more-month run of ``data-ops run`` cost.

Data is generated first and untimed (the demo's generator, start month, seed and defect rate):
months 1..M, and month M+1 on its own. Then, per repeat, in a fresh throw-away lakehouse
(``DATA_OPS_LAKEHOUSE`` of the child; the tree is removed at the end unless ``--keep``):

1. full: months 1..M land, one ``data-ops run --target local --log-format json`` process;
2. incremental: month M+1 lands, a second such process (a monthly run is a new process, so the
   interpreter, the Spark session and dbt's parse are part of its cost). One untimed
   ``dbt parse`` comes first, so both runs start from a current partial-parse state.

Each run's phases come from its JSON-lines stdout (python_ingest's records and dbt's JSON log):

- ingest: per table, from its ``discover`` record's start (``logged_at`` - ``duration_ms``) up
  to the start of the dbt build that follows (or its ``summary`` record when none follows); runs
  of tables between two builds form one span, spans are summed (so one ingest then one build,
  and domains ingested and built one after the other, both add up by phase);
- dbt build: the sum of the ``dbt_build`` records' ``duration_ms``;
- layers: per schema (silver, gold), the sum of its model nodes' execution times (dbt's
  ``LogModelResult`` events) and the span from its first node's start to its last's finish;
- tests: data tests and unit tests, the sum of their node execution times;
- total: the process's wall time measured here, from start to exit; other = total - ingest -
  dbt build (interpreter and Spark start, the summary's row counts).

Rows: bronze rows loaded (the ``summary`` records' ``rows_loaded``) per ingest second; rows in
silver and gold after the run (the summary table the run prints on stderr).

Memory, sampled every 0.5 s from this process while the run lives:

- memory of the run's process tree (python + the Spark JVM it starts): the peak of the sum of
  ``Pss`` over the tree's processes (``/proc/<pid>/smaps_rollup``; a JVM thread forked to run a
  helper command shares the JVM's pages, which summed ``VmRSS`` would count twice), and each
  process's ``VmHWM`` (its own peak RSS) as last seen;
- JVM heap: read from the JVM's own performance counters (``/tmp/hsperfdata_<user>/<pid>``, the
  memory-mapped file ``jstat`` reads), so no attach and no extra JVM per sample: peak heap used
  (eden + survivors + old; a sample can miss the top just before a collection, so this is a
  lower bound), peak heap committed, the heap's maximum, and GC pause time and count at the end.

The load average is read before and after each run. ``--repeat K`` repeats the pair in fresh
lakehouses; the best (lowest wall) of each run counts. Results: a short table on stdout and
``target/bench_pipeline.json``. A failed run stops the benchmark with a non-zero exit and its
last output lines; no figure from a failed run is reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tools.demo import SEED, START

ROOT = Path(__file__).resolve().parent.parent
DEFECT_RATE = 0.02  # as the demo
SAMPLE_SECONDS = 0.5
TAIL_LINES = 40
LAKEHOUSE_ENV = "DATA_OPS_LAKEHOUSE"
# One layer row of the run's summary table on stderr (python_ingest.cli.console.View.summary).
_SUMMARY_ROW = re.compile(
    r"^  (?P<layer>\S+)\s+(?P<tables>\d+)\s+(?P<rows>[\d,]+)  .*\s(?:\d+\.\d)$"
)
_NODE_EVENTS = ("LogModelResult", "LogTestResult", "LogNodeResult", "NodeFinished")
MB = 1024 * 1024


class BenchError(Exception):
    """The benchmark cannot give figures (a run failed, or its output is not what it reads)."""


# ----------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Deliveries:
    """Generated landing files, outside any lakehouse: landing-relative paths per batch."""

    root: Path
    first: list[Path]
    next: list[Path]
    rows: dict[str, int]


def _landing_rel(contract: Any) -> Path:
    from python_ingest.discovery import landing_dir
    from python_ingest.naming import Names, lakehouse_root

    return landing_dir(Names.for_target("local"), contract).relative_to(lakehouse_root())


def generate(work: Path, members: int, months: int) -> Deliveries:
    """Months 1..M under ``first/`` and month M+1 under ``next/`` (paths as in a lakehouse)."""
    from python_ingest.contract import load_contracts
    from tools.datagen import (
        generate_claims,
        generate_roster,
        write_claims_files,
        write_member_files,
    )

    contracts = {c.domain: c for c in load_contracts(ROOT)}
    member_rel, claims_rel = _landing_rel(contracts["member"]), _landing_rel(contracts["claims"])
    batches: dict[str, list[Path]] = {}
    rows: Counter[str] = Counter()
    for batch, total, from_month in (("first", months, 0), ("next", months + 1, months)):
        base = work / "deliveries" / batch
        roster = generate_roster(members, total, START, SEED, DEFECT_RATE, from_month=from_month)
        claims = generate_claims(roster, SEED, DEFECT_RATE, from_month=from_month)
        rows[f"{batch}_roster_rows"] = sum(len(d.rows) for d in roster.deliveries)
        rows[f"{batch}_claims_records"] = sum(len(d.rows) for d in claims.deliveries)
        written = write_member_files(roster.deliveries, base / member_rel)
        written += write_claims_files(claims.deliveries, base / claims_rel)
        batches[batch] = [p.relative_to(base) for p in written]
        del roster, claims
    return Deliveries(work / "deliveries", batches["first"], batches["next"], dict(rows))


def deliver(deliveries: Deliveries, batch: str, lakehouse: Path) -> None:
    """Put a batch's files into a lakehouse's landing folders (hard links; copies if need be)."""
    for rel in deliveries.first if batch == "first" else deliveries.next:
        source, target = deliveries.root / batch / rel, lakehouse / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)


# ----------------------------------------------------------------------------- sampling


def _perf_counters(path: Path) -> dict[str, int]:
    """The long scalar counters of a HotSpot hsperfdata file (the format ``jstat`` reads)."""
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    if len(data) < 32 or data[:4] != b"\xca\xfe\xc0\xc0" or not data[7]:
        return {}  # not perf data, or the JVM has not made it accessible yet
    order = "<" if data[4] == 1 else ">"
    counters: dict[str, int] = {}
    try:
        offset, entries = struct.unpack_from(order + "ii", data, 24)
        for _ in range(entries):
            length, name_at, vector, kind, _f, _u, _v, value_at = struct.unpack_from(
                order + "iiiBBBBi", data, offset
            )
            if length <= 0:
                break
            if vector == 0 and kind == ord("J"):
                start = offset + name_at
                name = data[start : data.index(b"\0", start)].decode("ascii", "replace")
                counters[name] = struct.unpack_from(order + "q", data, offset + value_at)[0]
            offset += length
    except (struct.error, ValueError):
        pass  # an entry being written as we read: keep what was read
    return counters


_HEAP_USED = re.compile(r"sun\.gc\.generation\.\d+\.space\.\d+\.used")
_HEAP_COMMITTED = re.compile(r"sun\.gc\.generation\.\d+\.capacity")
_HEAP_MAX = re.compile(r"sun\.gc\.generation\.\d+\.maxCapacity")
_GC_TIME = re.compile(r"sun\.gc\.collector\.\d+\.time")
_GC_COUNT = re.compile(r"sun\.gc\.collector\.\d+\.invocations")


# A JVM thread forked to start a helper command (Hadoop's chmod...), not yet exec'd: it shares
# the JVM's pages, so its VmHWM repeats the JVM's.
_FORK = re.compile(r"Thread-\d+")


def _total(counters: dict[str, int], pattern: re.Pattern[str]) -> int:
    return sum(v for k, v in counters.items() if pattern.fullmatch(k))


def _proc_status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def _pss(pid: int) -> int | None:
    """Proportional set size in bytes: shared pages split among the processes sharing them."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return None


def _kb(value: str | None) -> int:
    return int(value.split()[0]) * 1024 if value else 0


def _tree(root: int) -> list[int]:
    """``root`` and its descendants, from /proc/<pid>/stat."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue.extend(children.get(pid, []))
    return found


@dataclass
class Heap:
    """One JVM's heap, from its hsperfdata counters."""

    used_peak: int = 0
    committed_peak: int = 0
    max: int = 0
    gc_seconds: float = 0.0
    gc_count: int = 0
    samples: int = 0

    def update(self, counters: dict[str, int]) -> None:
        self.samples += 1
        self.used_peak = max(self.used_peak, _total(counters, _HEAP_USED))
        self.committed_peak = max(self.committed_peak, _total(counters, _HEAP_COMMITTED))
        # G1 lets either generation grow to the whole heap: each one's maximum is the heap's.
        self.max = max([self.max, *(v for k, v in counters.items() if _HEAP_MAX.fullmatch(k))])
        frequency = counters.get("sun.os.hrt.frequency") or 1
        self.gc_seconds = max(self.gc_seconds, _total(counters, _GC_TIME) / frequency)
        self.gc_count = max(self.gc_count, _total(counters, _GC_COUNT))


@dataclass
class Memory:
    tree_peak: int = 0
    hwm: dict[str, int] = field(default_factory=dict)  # "<comm> <pid>" -> VmHWM
    heaps: dict[int, Heap] = field(default_factory=dict)  # every JVM of the tree by pid
    samples: int = 0

    def driver(self) -> tuple[int, Heap] | None:
        """The Spark driver's JVM: the largest (spark-submit first runs a small launcher JVM)."""
        if not self.heaps:
            return None
        return max(self.heaps.items(), key=lambda item: item[1].committed_peak)


class Sampler(threading.Thread):
    """Samples a process tree's memory every ``SAMPLE_SECONDS`` until stopped."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.memory = Memory()
        self.done = threading.Event()
        # HotSpot writes it under /tmp on Linux whatever TMPDIR or java.io.tmpdir say.
        self.perf_dir = Path("/tmp") / f"hsperfdata_{getpass.getuser()}"  # noqa: S108

    def run(self) -> None:
        while not self.done.is_set():
            self.sample()
            self.done.wait(SAMPLE_SECONDS)

    def sample(self) -> None:
        memory = self.memory
        rss = 0
        for pid in _tree(self.root):
            status = _proc_status(pid)
            if not status:
                continue
            pss = _pss(pid)
            rss += _kb(status.get("VmRSS")) if pss is None else pss
            command = status.get("Name", "?").strip()
            if not _FORK.fullmatch(command):
                name = f"{command} {pid}"
                memory.hwm[name] = max(memory.hwm.get(name, 0), _kb(status.get("VmHWM")))
            if command == "java":
                counters = _perf_counters(self.perf_dir / str(pid))
                if counters:
                    memory.heaps.setdefault(pid, Heap()).update(counters)
        memory.tree_peak = max(memory.tree_peak, rss)
        memory.samples += 1

    def stop(self) -> Memory:
        self.done.set()
        self.join()
        return self.memory


# ----------------------------------------------------------------------------- one run


@dataclass
class Output:
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reader(self, stream: IO[str], kept: list[str], log: IO[str]) -> threading.Thread:
        def read() -> None:
            for line in stream:
                log.write(line)
                with self.lock:
                    kept.append(line.rstrip("\n"))
                    self.tail.append(line.rstrip("\n"))

        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        return thread


def _loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def data_ops_command() -> list[str]:
    script = Path(sys.executable).with_name("data-ops")
    if script.exists():
        return [str(script)]
    found = shutil.which("data-ops")
    if found is None:
        raise BenchError(
            "no `data-ops` command beside this Python or on PATH; run the benchmark with the "
            "project's environment: `make bench-pipeline` (or `uv run python -m "
            "tools.bench_pipeline`)"
        )
    return [found]


def _run_env(lakehouse: Path) -> dict[str, str]:
    env = {**os.environ, LAKEHOUSE_ENV: str(lakehouse)}
    env.pop("DATA_OPS_RUN_ID", None)
    return env


def warm_parse(lakehouse: Path) -> None:
    """``dbt parse`` once, untimed, so that every timed run starts from a current partial-parse
    state (as on a developer's machine) instead of only the first one paying a full parse."""
    dbt = Path(sys.executable).with_name("dbt")
    command = [str(dbt) if dbt.exists() else "dbt", "parse", "--target", "local"]
    command += ["--project-dir", str(ROOT), "--profiles-dir", str(ROOT)]
    done = subprocess.run(
        command, cwd=ROOT, env=_run_env(lakehouse), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-TAIL_LINES:]
        raise BenchError(
            f"`{' '.join(command)}` failed (exit {done.returncode}) before any timed run:\n"
            + "\n".join(f"  {line}" for line in tail)
        )


def run_once(label: str, lakehouse: Path, logs: Path) -> dict[str, Any]:
    """One ``data-ops run`` process against ``lakehouse``; its figures, or BenchError."""
    env = _run_env(lakehouse)
    command = [
        *data_ops_command(),
        "--log-format",
        "json",
        "run",
        "--target",
        "local",
        "--project-dir",
        str(ROOT),
    ]
    output = Output()
    load_before = _loadavg()
    with (
        (logs / f"{label}.stdout.jsonl").open("w") as out_log,
        (logs / f"{label}.stderr.log").open("w") as err_log,
    ):
        started = time.monotonic()
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        assert process.stdout is not None and process.stderr is not None
        sampler = Sampler(process.pid)
        sampler.start()
        readers = [
            output.reader(process.stdout, output.stdout, out_log),
            output.reader(process.stderr, output.stderr, err_log),
        ]
        code = process.wait()
        wall = time.monotonic() - started
        memory = sampler.stop()
        for reader in readers:
            reader.join()
    load_after = _loadavg()
    if code != 0:
        raise BenchError(
            f"{label} run failed (exit {code}): no figures reported. Its last output lines:\n"
            + "\n".join(f"  {line}" for line in output.tail)
            + f"\nfull output: {logs}/{label}.stdout.jsonl and .stderr.log (--keep keeps it)"
        )
    figures = phases(output.stdout, label)
    figures["rows_in_layers"] = summary_rows(output.stderr)
    figures["rows_built"] = sum(
        n for layer, n in figures["rows_in_layers"].items() if layer in ("silver", "gold")
    )
    figures.update(
        wall_seconds=round(wall, 2),
        other_seconds=round(wall - figures["ingest_seconds"] - figures["dbt_build_seconds"], 2),
        load_before=load_before,
        load_after=load_after,
        memory=_memory_figures(memory),
    )
    return figures


def _memory_figures(memory: Memory) -> dict[str, Any]:
    driver = memory.driver()
    heap = driver[1] if driver else Heap()

    def mb(value: float) -> float | None:
        return round(value / MB, 1) if driver else None

    return {
        "pss_tree_peak_mb": round(memory.tree_peak / MB, 1),
        # the python driver and the JVM; short-lived helpers (readlink, the launcher) left out
        "vmhwm_mb": {k: round(v / MB, 1) for k, v in sorted(memory.hwm.items()) if v >= 100 * MB},
        "jvm_pid": driver[0] if driver else None,
        "jvm_heap_used_peak_mb": mb(heap.used_peak),
        "jvm_heap_committed_peak_mb": mb(heap.committed_peak),
        "jvm_heap_max_mb": mb(heap.max),
        "jvm_gc_pause_seconds": round(heap.gc_seconds, 2) if driver else None,
        "jvm_gc_count": heap.gc_count if driver else None,
        "samples": memory.samples,
        "heap_samples": heap.samples,
    }


# ----------------------------------------------------------------------------- parsing


def _json_lines(lines: Iterable[str]) -> list[dict[str, Any]]:
    parsed = []
    for line in lines:
        if not line.startswith("{"):
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            parsed.append(value)
    return parsed


def _at(record: dict[str, Any]) -> float:
    """A pipeline record's time (``logged_at``, UTC) as epoch seconds."""
    stamp = dt.datetime.fromisoformat(str(record["logged_at"])).replace(tzinfo=dt.UTC)
    return stamp.timestamp()


def _iso(value: Any) -> float | None:
    if not value:
        return None
    stamp = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)).timestamp()


@dataclass
class _Table:
    name: str
    start: float
    end: float = 0.0
    rows_loaded: int = 0
    files: int = 0


def phases(stdout: Sequence[str], label: str) -> dict[str, Any]:
    """Ingest, dbt build, layers and tests of one run, from its JSON-lines stdout."""
    objects = _json_lines(stdout)
    records = [o for o in objects if "step" in o and "run_id" in o and "logged_at" in o]
    tables: dict[tuple[str, str], _Table] = {}
    builds: list[tuple[float, float]] = []
    for record in records:
        key = (str(record.get("domain")), str(record.get("table_name")))
        if record.get("process") == "ingest" and record["step"] == "discover":
            start = _at(record) - (record.get("duration_ms") or 0) / 1000
            tables[key] = _Table(key[1], start, end=_at(record))
        elif record.get("process") == "ingest" and record["step"] == "summary" and key in tables:
            tables[key].end = _at(record)
            tables[key].rows_loaded = int(record.get("rows_loaded") or 0)
        elif record.get("process") == "ingest" and record["step"] == "load_file" and key in tables:
            tables[key].files += 1
        elif record["step"] == "dbt_build":
            end = _at(record)
            builds.append((end - (record.get("duration_ms") or 0) / 1000, end))
    if not tables or not builds:
        raise BenchError(
            f"{label} run: its stdout has {len(records)} pipeline record(s) but no ingest "
            "'discover' record or no 'dbt_build' record, which the benchmark times the phases "
            "by: has the JSON view (python_ingest.cli.console.JsonView) or the records' steps "
            "changed? The benchmark reads discover/summary/load_file and dbt_build records"
        )
    # A span of ingestion: tables ingested one after the other until the next dbt build starts.
    spans: dict[float | None, list[_Table]] = {}
    for table in sorted(tables.values(), key=lambda t: t.start):
        following = min((s for s, _ in builds if s >= table.start), default=None)
        spans.setdefault(following, []).append(table)
    ingest = sum(
        (until if until is not None else max(t.end for t in group)) - min(t.start for t in group)
        for until, group in spans.items()
    )
    nodes = _nodes(objects)
    layers: dict[str, dict[str, Any]] = {}
    for node in nodes.values():
        if node["resource_type"] not in ("model", "snapshot", "seed"):
            continue
        layer = layers.setdefault(
            node["schema"], {"models": 0, "seconds": 0.0, "_starts": [], "_ends": []}
        )
        layer["models"] += 1
        layer["seconds"] += node["seconds"]
        layer["_starts"].append(node["started"])
        layer["_ends"].append(node["finished"])
    for layer in layers.values():
        starts = [s for s in layer.pop("_starts") if s is not None]
        ends = [e for e in layer.pop("_ends") if e is not None]
        layer["span_seconds"] = round(max(ends) - min(starts), 2) if starts and ends else None
        layer["seconds"] = round(layer["seconds"], 2)
    tests = [n for n in nodes.values() if n["resource_type"] in ("test", "unit_test")]
    node_starts = [n["started"] for n in nodes.values() if n["started"] is not None]
    node_ends = [n["finished"] for n in nodes.values() if n["finished"] is not None]
    hooks = [
        o
        for o in objects
        if o.get("info", {}).get("name") == "LogHookEndLine" and isinstance(o.get("data"), dict)
    ]
    loaded = sum(t.rows_loaded for t in tables.values())
    return {
        "ingest_seconds": round(ingest, 2),
        "ingest_tables": {
            t.name: {
                "seconds": round(t.end - t.start, 2),
                "files": t.files,
                "rows_loaded": t.rows_loaded,
            }
            for t in tables.values()
        },
        "bronze_rows_loaded": loaded,
        "bronze_rows_per_second": round(loaded / ingest) if ingest > 0 else None,
        "dbt_build_seconds": round(sum(end - start for start, end in builds), 2),
        "dbt_builds": len(builds),
        "dbt_nodes_span_seconds": (
            round(max(node_ends) - min(node_starts), 2) if node_starts and node_ends else None
        ),
        "dbt_hooks_seconds": round(
            sum(float(h["data"].get("execution_time") or 0) for h in hooks), 2
        ),
        "dbt_full_parse": any(
            o.get("info", {}).get("name") == "UnableToPartialParse" for o in objects
        ),
        "layers": dict(sorted(layers.items())),
        "tests": {
            "seconds": round(sum(n["seconds"] for n in tests), 2),
            "data_tests": sum(1 for n in tests if n["resource_type"] == "test"),
            "unit_tests": sum(1 for n in tests if n["resource_type"] == "unit_test"),
            "statuses": dict(Counter(str(n["status"]) for n in tests)),
        },
        "node_statuses": dict(Counter(str(n["status"]) for n in nodes.values())),
        "slowest_nodes": {
            uid: round(node["seconds"], 2)
            for uid, node in sorted(nodes.items(), key=lambda kv: -kv[1]["seconds"])[:20]
        },
    }


def _nodes(objects: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The finished dbt nodes (models, tests, unit tests...) by unique id."""
    nodes: dict[str, dict[str, Any]] = {}
    for event in objects:
        info, data = event.get("info"), event.get("data")
        if not isinstance(info, dict) or not isinstance(data, dict):
            continue
        if info.get("name") not in _NODE_EVENTS or not isinstance(data.get("node_info"), dict):
            continue
        node = data["node_info"]
        result: dict[str, Any] = (
            data["run_result"] if isinstance(data.get("run_result"), dict) else {}
        )
        seconds = data.get("execution_time", result.get("execution_time"))
        nodes[str(node.get("unique_id"))] = {
            "resource_type": node.get("resource_type"),
            "schema": (node.get("node_relation") or {}).get("schema") or "?",
            "seconds": float(seconds or 0.0),
            "status": data.get("status") or result.get("status") or node.get("node_status"),
            "started": _iso(node.get("node_started_at")),
            "finished": _iso(node.get("node_finished_at")),
        }
    return nodes


def summary_rows(stderr: Iterable[str]) -> dict[str, int]:
    """Rows per layer from the run's summary table(s) on stderr (summed over blocks)."""
    rows: Counter[str] = Counter()
    for line in stderr:
        match = _SUMMARY_ROW.match(line)
        if match and match["layer"] != "layer":
            rows[match["layer"]] += int(match["rows"].replace(",", ""))
    return dict(rows)


# ----------------------------------------------------------------------------- report


def _git_commit() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    return {"commit": git("rev-parse", "HEAD") or None, "dirty": bool(git("status", "--porcelain"))}


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return min(runs, key=lambda r: float(r["wall_seconds"]))


def _row(label: str, run: dict[str, Any]) -> str:
    layers = run["layers"]
    memory = run["memory"]
    heap = memory["jvm_heap_used_peak_mb"]
    return (
        f"  {label:<12} {run['wall_seconds']:>8.1f} {run['ingest_seconds']:>8.1f} "
        f"{run['dbt_build_seconds']:>8.1f} "
        f"{layers.get('silver', {}).get('seconds', 0.0):>8.1f} "
        f"{layers.get('gold', {}).get('seconds', 0.0):>8.1f} {run['tests']['seconds']:>8.1f} "
        f"{run['other_seconds']:>8.1f} {run['bronze_rows_per_second'] or 0:>10,} "
        f"{memory['pss_tree_peak_mb']:>8,.0f} {heap if heap is not None else float('nan'):>8,.0f}"
        f"  {run['load_before'][0]:.2f}/{run['load_after'][0]:.2f}"
    )


def report(result: dict[str, Any]) -> str:
    head = (
        f"  {'run':<12} {'wall s':>8} {'ingest':>8} {'dbt':>8} {'silver':>8} {'gold':>8} "
        f"{'tests':>8} {'other':>8} {'bronze r/s':>10} {'PSS MB':>8} {'heap MB':>8}  load 1m"
    )
    lines = [
        f"bench-pipeline: {result['members']:,} members, {result['months']} month(s) + 1, "
        f"best of {result['repeat']}, {result['cores']} core(s), commit "
        f"{(result['git']['commit'] or '?')[:10]}{' (dirty)' if result['git']['dirty'] else ''}",
        head,
        _row("full", result["full"]),
        _row("incremental", result["incremental"]),
        f"  incremental / full wall: {result['incremental_over_full']:.2f}; silver+gold node "
        "seconds are summed over dbt's threads; other = wall - ingest - dbt build (process and "
        "Spark start, summary counts)",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=12, help="months in the full run")
    parser.add_argument("--repeat", type=int, default=1, help="pairs of runs; best of each")
    parser.add_argument("--keep", action="store_true", help="keep the lakehouses and run logs")
    parser.add_argument("--out", type=Path, default=ROOT / "target" / "bench_pipeline.json")
    args = parser.parse_args(argv)
    if args.members < 1 or args.months < 1 or args.repeat < 1:
        parser.error("--members, --months and --repeat must be at least 1")

    work = Path(tempfile.mkdtemp(prefix="data-ops-bench-pipeline-"))
    # Only for computing landing paths in this process; each run gets its own lakehouse.
    os.environ[LAKEHOUSE_ENV] = str(work / "deliveries" / "unused")
    logs = work / "logs"
    logs.mkdir()
    try:
        started = time.monotonic()
        deliveries = generate(work, args.members, args.months)
        print(
            f"bench-pipeline: generated {len(deliveries.first)} + {len(deliveries.next)} "
            f"file(s) in {time.monotonic() - started:.0f} s (untimed) under {work}",
            file=sys.stderr,
        )
        warm_parse(work / "lakehouse-1")
        runs: dict[str, list[dict[str, Any]]] = {"full": [], "incremental": []}
        for attempt in range(1, args.repeat + 1):
            lakehouse = work / f"lakehouse-{attempt}"
            for label, batch in (("full", "first"), ("incremental", "next")):
                deliver(deliveries, batch, lakehouse)
                print(f"bench-pipeline: {label} run {attempt}/{args.repeat}", file=sys.stderr)
                figures = run_once(f"{label}-{attempt}", lakehouse, logs)
                runs[label].append(figures)
                print(
                    f"bench-pipeline: {label} run {attempt}: {figures['wall_seconds']:.1f} s",
                    file=sys.stderr,
                )
            if not args.keep:
                shutil.rmtree(lakehouse, ignore_errors=True)
        full, incremental = _best(runs["full"]), _best(runs["incremental"])
        bronze_after: Counter[str] = Counter()
        for run in (runs["full"][0], runs["incremental"][0]):
            for table, figures in run["ingest_tables"].items():
                bronze_after[table] += int(figures["rows_loaded"])
        result: dict[str, Any] = {
            "members": args.members,
            "months": args.months,
            "repeat": args.repeat,
            "seed": SEED,
            "start": START.isoformat(),
            "defect_rate": DEFECT_RATE,
            "generated": deliveries.rows,
            "bronze_rows_per_table": {
                "full": {t: f["rows_loaded"] for t, f in full["ingest_tables"].items()},
                "incremental": {
                    t: f["rows_loaded"] for t, f in incremental["ingest_tables"].items()
                },
                "after_both": dict(bronze_after),
            },
            "full": full,
            "incremental": incremental,
            "incremental_over_full": round(
                float(incremental["wall_seconds"]) / float(full["wall_seconds"]), 3
            ),
            "attempts": runs,
            "cores": os.cpu_count(),
            "cores_usable": len(os.sched_getaffinity(0)),
            "memory_method": (
                "pss_tree_peak: peak of the summed Pss (smaps_rollup; VmRSS where unreadable) of "
                "the run's process tree, sampled every "
                f"{SAMPLE_SECONDS} s; vmhwm: each process's own peak RSS as last seen; heap: the "
                "JVM's "
                "hsperfdata counters (as jstat -gc) sampled every "
                f"{SAMPLE_SECONDS} s: used = eden + survivors + old (a lower bound)"
            ),
            "git": _git_commit(),
            "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    except BenchError as err:
        print(f"bench-pipeline: {err}", file=sys.stderr)
        return 1
    else:
        print(report(result))
        print(f"bench-pipeline: wrote {args.out}", file=sys.stderr)
        return 0
    finally:
        if args.keep:
            print(f"bench-pipeline: kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
