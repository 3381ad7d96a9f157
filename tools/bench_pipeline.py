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

Memory: the peak PSS of the run's process tree and its JVMs' heaps, sampled every 0.5 s
(tools/bench_memory.py says how).

The load average is read before and after each run. ``--repeat K`` repeats the pair in fresh
lakehouses; the best (lowest wall) of each run counts. Results: a short table on stdout and
``target/bench_pipeline.json``. A failed run stops the benchmark with a non-zero exit and its
last output lines; no figure from a failed run is reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tools.bench_memory import SAMPLE_SECONDS, Sampler, memory_figures
from tools.bench_phases import BenchError, phases, summary_rows
from tools.demo import SEED, START

ROOT = Path(__file__).resolve().parent.parent
DEFECT_RATE = 0.02  # as the demo
TAIL_LINES = 40
LAKEHOUSE_ENV = "DATA_OPS_LAKEHOUSE"

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
        memory=memory_figures(memory),
    )
    return figures


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
