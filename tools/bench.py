"""``make bench``: ingestion throughput against a bare Spark read + Delta write of the same file.

For a generated 1M-row roster CSV and a 1M-record claims JSON-lines file (the member and claims
bronze contracts), in one Spark session:
  - bare: ``spark.read`` with the contract's schema, ``write.format("delta")`` append;
  - ingest: ``Ingestor.ingest_table`` for a table holding only that file (hash, parse, rescue,
    quarantine split, idempotent Delta commit, ledger and log commits);
  - no-new-files re-run of the same table (ledger lookup only; Spark jobs counted).
Each measurement runs twice, alternating bare and ingest; the faster run counts. Results go to
stdout and ``target/bench.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The lakehouse must be chosen before python_ingest reads it: a throw-away one per benchmark.
os.environ.setdefault("DATA_OPS_LAKEHOUSE", tempfile.mkdtemp(prefix="data-ops-bench-"))

from python_ingest.contract import FileFormat, TableContract  # noqa: E402
from python_ingest.ingest import FileOutcome, Ingestor, landing_dir, new_run_id  # noqa: E402
from python_ingest.logs import get_logger  # noqa: E402
from python_ingest.naming import Names  # noqa: E402


def _rows(kind: str, count: int) -> Iterator[Mapping[str, object]]:
    from tools.datagen import generate_claims, generate_roster

    rows: Iterator[Mapping[str, object]]
    if kind == "csv":
        roster = generate_roster(count, 1, date(2025, 1, 1), seed=7)
        rows = (row for d in roster.deliveries for row in d.rows)
    else:
        roster = generate_roster(max(count // 18, 1000), 12, date(2025, 1, 1), seed=7)
        claims = generate_claims(roster, seed=7)
        rows = (row for d in claims.deliveries for row in d.rows)
    return itertools.islice(rows, count)


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def _bare_write(
    spark: Any, fmt: FileFormat, contract: TableContract, source: Path, table: str
) -> None:
    """The baseline: the same file, the contract's schema, one Delta append, nothing else."""
    reader = spark.read.options(**contract.options_for(fmt)).schema(contract.spark_schema)
    df = reader.csv(str(source)) if fmt == "csv" else reader.json(str(source))
    df.write.format("delta").mode("append").saveAsTable(table)


def _ingest_once(
    spark: Any, names: Names, contract: TableContract, source: Path, table: str
) -> tuple[float, FileOutcome, dict[str, float]]:
    """Ingest a copy of the file as its own table; then time a no-new-files re-run."""
    copy = contract.model_copy(
        update={
            "table": table,
            "ingestion": contract.ingestion.model_copy(update={"landing_folder": f"bench/{table}"}),
        }
    )
    landing = landing_dir(names, copy)
    landing.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, landing / source.name)
    logger = get_logger(
        domain=copy.domain,
        process="bench",
        run_id=new_run_id(),
        target="local",
        catalog="local",
        spark=spark,
    )
    ingestor = Ingestor(spark, names, logger)
    seconds, result = _timed(lambda: ingestor.ingest_table(copy))
    outcome: FileOutcome = result.outcomes[0]
    if (
        outcome.status != "loaded"
        or outcome.rows_read != outcome.rows_loaded + outcome.rows_quarantined
    ):
        raise RuntimeError(f"benchmark ingest did not load cleanly: {outcome}")
    tracker = spark.sparkContext.statusTracker()
    jobs_before = len(tracker.getJobIdsForGroup(None))
    rerun_seconds, rerun = _timed(lambda: ingestor.ingest_table(copy))
    if rerun.outcomes:
        raise RuntimeError("the no-new-files re-run loaded something")
    rerun_stats = {
        "seconds": rerun_seconds,
        "spark_jobs": float(len(tracker.getJobIdsForGroup(None)) - jobs_before),
    }
    return seconds, outcome, rerun_stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    workdir = Path(os.environ["DATA_OPS_LAKEHOUSE"])
    from python_ingest.contract import load_contracts
    from python_ingest.spark import get_spark
    from tools.datagen import write_big_csv, write_big_jsonl

    contracts = {c.domain: c for c in load_contracts(ROOT)}
    sources: dict[FileFormat, TableContract] = {
        "csv": contracts["member"],
        "json": contracts["claims"],
    }
    files: dict[str, Path] = {}
    for fmt, contract in sources.items():
        path = workdir / f"bench.{'csv' if fmt == 'csv' else 'jsonl'}"
        started = time.perf_counter()
        if fmt == "csv":
            written = write_big_csv(path, _rows(fmt, args.rows), contract.column_names)
        else:
            written = write_big_jsonl(path, _rows(fmt, args.rows))
        print(
            f"generated {written:,} {fmt} rows in {time.perf_counter() - started:.1f}s "
            f"({path.stat().st_size / 1e6:.0f} MB)",
            flush=True,
        )
        files[fmt] = path

    started = time.perf_counter()
    spark = get_spark("local")
    names = Names.for_catalog("local")
    spark.sql("create schema if not exists bronze")
    print(f"session up in {time.perf_counter() - started:.1f}s", flush=True)
    results: dict[str, Any] = {"rows": args.rows, "formats": {}}
    for fmt, contract in sources.items():
        source = files[fmt]
        bare_times: list[float] = []
        ingest_times: list[float] = []
        rerun: dict[str, float] = {}
        for rep in range(args.repeat):
            table = f"bench_{fmt}_{rep}"
            seconds, _ = _timed(
                lambda c=contract, f=fmt, src=source, t=table: _bare_write(  # type: ignore[misc]
                    spark, f, c, src, f"bronze.bare_{t}"
                )
            )
            bare_times.append(seconds)
            seconds, outcome, rerun = _ingest_once(spark, names, contract, source, table)
            ingest_times.append(seconds)
            print(
                f"  {fmt} rep {rep}: bare {bare_times[-1]:.1f}s, ingest {seconds:.1f}s "
                f"(read {outcome.rows_read:,}, quarantined {outcome.rows_quarantined:,}), "
                f"re-run {rerun['seconds']:.2f}s ({rerun['spark_jobs']:.0f} Spark jobs)",
                flush=True,
            )
        bare_s, ingest_s = min(bare_times), min(ingest_times)
        results["formats"][fmt] = {
            "bare_seconds": round(bare_s, 2),
            "ingest_seconds": round(ingest_s, 2),
            "bare_rows_per_s": round(args.rows / bare_s),
            "ingest_rows_per_s": round(args.rows / ingest_s),
            "ratio_ingest_over_bare": round(ingest_s / bare_s, 2),
            "no_new_files_rerun_seconds": round(rerun["seconds"], 2),
            "no_new_files_rerun_spark_jobs": rerun["spark_jobs"],
        }
    print()
    print(f"{'format':<6} {'bare rows/s':>12} {'ingest rows/s':>14} {'ratio':>6} {'re-run s':>9}")
    for fmt, r in results["formats"].items():
        print(
            f"{fmt:<6} {r['bare_rows_per_s']:>12,} {r['ingest_rows_per_s']:>14,} "
            f"{r['ratio_ingest_over_bare']:>6} {r['no_new_files_rerun_seconds']:>9}"
        )
    out = ROOT / "target" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {out}")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
