"""``make bench``: ingestion throughput against a bare Spark read + Delta write of the same file.

For a generated 1M-row roster CSV and a 1M-record claims JSON-lines file (the member and claims
bronze contracts), in one Spark session, in the steady state (tables exist, as they do after the
first delivery; each is created beforehand by a small warm-up write):
  - bare: ``spark.read`` with the contract's schema, ``write.format("delta")`` append to an
    existing Delta table (default table properties);
  - bare, bronze shape: the same plus bronze's five extra columns as constants, into a table
    with bronze's table properties (Delta statistics on the ingestion columns only): what a
    hand-written bronze append without checks costs;
  - ingest: ``run_ingest`` for a table holding only that file (hash, UTF-8 check, key census,
    parse, rescue, quarantine split, idempotent Delta commit, ledger and log commits);
  - the fingerprint pass alone (hash, UTF-8 check, JSON key census): the part of the ingest
    that reads the bytes in Python before Spark does;
  - no-new-files re-run of the same table (ledger lookup only; Spark jobs counted);
  - the JSON file with one undeclared key (in its first claim line): its key census is not
    clean, so every record's keys are checked on its text (the per-record path), against the
    same bare JSON write.
After one untimed round per format (the session's first big writes are slower), each
measurement runs ``--repeat`` times, interleaved; the fastest run counts. Results go to
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
# The lakehouse must be chosen before python_ingest reads it: always a throw-away one (never the
# developer's .lakehouse, which the Makefile exports), removed at the end.
os.environ["DATA_OPS_LAKEHOUSE"] = tempfile.mkdtemp(prefix="data-ops-bench-")

from python_ingest.bronze import STATS_PROPERTY  # noqa: E402
from python_ingest.census import KeyCensus  # noqa: E402
from python_ingest.contract import FileFormat, TableContract  # noqa: E402
from python_ingest.discovery import landing_dir  # noqa: E402
from python_ingest.fingerprint import fingerprint  # noqa: E402
from python_ingest.naming import Names  # noqa: E402
from python_ingest.pipeline import (  # noqa: E402
    FileOutcome,
    IngestRun,
    TableResult,
    new_run_id,
    run_ingest,
)
from python_ingest.readers.names import delivered_schema  # noqa: E402

# Bronze keeps statistics for its ingestion columns only (python_ingest.bronze).
STATS_COLUMNS = "_source_file,_source_file_modified_at,_ingested_at,_ingest_run_id"


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


def _read(
    spark: Any, fmt: FileFormat, contract: TableContract, source: Path, bronze_shape: bool
) -> Any:
    from pyspark.sql import functions as F

    reader = spark.read.options(**contract.options_for(fmt)).schema(contract.spark_schema)
    df = reader.csv(str(source)) if fmt == "csv" else reader.json(str(source))
    if not bronze_shape:
        return df
    return df.select(
        "*",
        F.lit(str(source)).alias("_source_file"),
        F.current_timestamp().alias("_source_file_modified_at"),
        F.current_timestamp().alias("_ingested_at"),
        F.lit("bench").alias("_ingest_run_id"),
        F.lit(None).cast("string").alias("_rescued_data"),
    )


def _bare_table(
    spark: Any,
    fmt: FileFormat,
    contract: TableContract,
    sample: Path,
    table: str,
    bronze_shape: bool,
) -> str:
    """An existing Delta table for the bare appends (created from the sample); its location."""
    _read(spark, fmt, contract, sample, bronze_shape).write.format("delta").saveAsTable(table)
    if bronze_shape:
        spark.sql(f"alter table {table} set tblproperties ('{STATS_PROPERTY}' = '{STATS_COLUMNS}')")
    return str(spark.sql(f"describe detail {table}").first()["location"])


def _bare_write(
    spark: Any,
    fmt: FileFormat,
    contract: TableContract,
    source: Path,
    at: str,
    bronze_shape: bool,
) -> float:
    """The baseline: the same file, the contract's schema, one Delta append, nothing else."""
    started = time.perf_counter()
    df = _read(spark, fmt, contract, source, bronze_shape)
    df.write.format("delta").mode("append").save(at)
    return time.perf_counter() - started


def _ingest(spark: Any, names: Names, contract: TableContract) -> TableResult:
    """One ingestion run of one table, as `data-ops ingest --table` runs it."""
    (result,) = run_ingest(IngestRun.start(spark, names, "local", new_run_id()), [contract])
    return result


def _fingerprint_seconds(fmt: FileFormat, contract: TableContract, source: Path) -> float:
    """The ingest's pass over the bytes alone (hash, UTF-8 check, key census for JSON)."""
    census = KeyCensus(delivered_schema(contract), contract.spark_schema) if fmt == "json" else None
    seconds, found = _timed(lambda: fingerprint(source, check_utf8=True, census=census))
    if found.invalid_lines or (census is not None and not found.keys_checked):
        raise RuntimeError(f"benchmark file is not clean: {found}")
    return seconds


def _fingerprint_breakdown(source: Path) -> dict[str, float]:
    """Where a JSON file's fingerprint pass goes: hash + UTF-8 check alone, and the floor of
    any key census, msgspec parsing every line into a struct that declares nothing (no
    Python object per record, line or leaf; the census builds those to check the keys)."""
    import msgspec

    hash_s, _ = _timed(lambda: fingerprint(source, check_utf8=True))
    nothing = msgspec.json.Decoder(msgspec.defstruct("Nothing", [], gc=False))

    def parse_only() -> None:
        with source.open("rb") as handle:
            tail = b""
            while chunk := handle.read(8 * 1024 * 1024):
                body = tail + chunk
                end = body.rfind(b"\n") + 1
                tail = body[end:]
                nothing.decode_lines(body[:end])
            nothing.decode_lines(tail)

    parse_s, _ = _timed(parse_only)
    return {"hash_and_utf8_seconds": hash_s, "census_parse_floor_seconds": parse_s}


def _bench_contract(
    names: Names, contract: TableContract, table: str, sample: Path
) -> TableContract:
    """The contract under another table name and landing folder, its tables created by
    ingesting the sample (untimed)."""
    copy = contract.model_copy(
        update={
            "table": table,
            "ingestion": contract.ingestion.model_copy(update={"landing_folder": f"bench/{table}"}),
        }
    )
    landing = landing_dir(names, copy)
    landing.mkdir(parents=True, exist_ok=True)
    shutil.copy(sample, landing / sample.name)
    return copy


def _ingest_once(
    spark: Any, names: Names, contract: TableContract, source: Path
) -> tuple[float, FileOutcome, dict[str, float]]:
    """Deliver the file to the (existing) table and ingest it; then a no-new-files re-run."""
    shutil.copy(source, landing_dir(names, contract) / source.name)
    seconds, result = _timed(lambda: _ingest(spark, names, contract))
    outcome: FileOutcome = result.outcomes[0]
    if (
        outcome.status != "loaded"
        or outcome.rows_read != outcome.rows_loaded + outcome.rows_quarantined
    ):
        raise RuntimeError(f"benchmark ingest did not load cleanly: {outcome}")
    tracker = spark.sparkContext.statusTracker()
    jobs_before = len(tracker.getJobIdsForGroup(None))
    rerun_seconds, rerun = _timed(lambda: _ingest(spark, names, contract))
    if rerun.outcomes:
        raise RuntimeError("the no-new-files re-run loaded something")
    rerun_stats = {
        "seconds": rerun_seconds,
        "spark_jobs": float(len(tracker.getJobIdsForGroup(None)) - jobs_before),
    }
    return seconds, outcome, rerun_stats


def _with_undeclared_key(source: Path, target: Path) -> None:
    """A copy of a JSON-lines file whose first record's first line has a key not declared."""
    with source.open("rb") as src, target.open("wb") as dst:
        record = json.loads(src.readline())
        record["lines"][0]["bench_undeclared_key"] = "x"
        dst.write(json.dumps(record, separators=(",", ":")).encode() + b"\n")
        shutil.copyfileobj(src, dst, 16 * 1024 * 1024)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
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
    samples: dict[str, Path] = {}
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
        sample = workdir / f"sample.{'csv' if fmt == 'csv' else 'jsonl'}"
        if fmt == "csv":
            write_big_csv(sample, _rows(fmt, 1000), contract.column_names)
        else:
            write_big_jsonl(sample, _rows(fmt, 1000))
        samples[fmt] = sample

    started = time.perf_counter()
    names = Names.for_target("local")
    spark = get_spark(names)
    spark.sql("create schema if not exists bronze")
    print(f"session up in {time.perf_counter() - started:.1f}s", flush=True)
    results: dict[str, Any] = {"rows": args.rows, "repeat": args.repeat, "formats": {}}
    for fmt, contract in sources.items():
        source = files[fmt]
        sample = samples[fmt]
        runs: dict[str, list[float]] = {
            "bare": [],
            "bare_bronze_shape": [],
            "ingest": [],
            "fingerprint": [],
        }
        reruns: list[dict[str, float]] = []
        # One untimed round first: the first big write of a session runs 1.5-4 s slower (JIT
        # and code generation), for the bare write and the ingest alike, which left two of the
        # three timed rounds to compare.
        warm_at = _bare_table(spark, fmt, contract, sample, f"bronze.bare_{fmt}_warmup", False)
        warm = _bench_contract(names, contract, f"bench_{fmt}_warmup", sample)
        _ingest(spark, names, warm)
        _bare_write(spark, fmt, contract, source, warm_at, False)
        _ingest_once(spark, names, warm, source)
        for rep in range(args.repeat):
            # Untimed set-up: the tables exist before the timed writes, as in production.
            bare_at = _bare_table(spark, fmt, contract, sample, f"bronze.bare_{fmt}_{rep}", False)
            shaped_at = _bare_table(
                spark, fmt, contract, sample, f"bronze.bare_shaped_{fmt}_{rep}", True
            )
            copy = _bench_contract(names, contract, f"bench_{fmt}_{rep}", sample)
            _ingest(spark, names, copy)

            bare_s = _bare_write(spark, fmt, contract, source, bare_at, False)
            shaped_s = _bare_write(spark, fmt, contract, source, shaped_at, True)
            ingest_s, outcome, rerun = _ingest_once(spark, names, copy, source)
            runs["fingerprint"].append(_fingerprint_seconds(fmt, contract, source))
            runs["bare"].append(bare_s)
            runs["bare_bronze_shape"].append(shaped_s)
            runs["ingest"].append(ingest_s)
            reruns.append(rerun)
            print(
                f"  {fmt} rep {rep}: bare {bare_s:.1f}s, bare (bronze shape) {shaped_s:.1f}s, "
                f"ingest {ingest_s:.1f}s (read {outcome.rows_read:,}, quarantined "
                f"{outcome.rows_quarantined:,}), re-run {rerun['seconds']:.2f}s "
                f"({rerun['spark_jobs']:.0f} Spark jobs)",
                flush=True,
            )
        best = {name: min(times) for name, times in runs.items()}
        rerun = min(reruns, key=lambda r: r["seconds"])
        results["formats"][fmt] = {
            "bare_seconds": round(best["bare"], 2),
            "bare_bronze_shape_seconds": round(best["bare_bronze_shape"], 2),
            "ingest_seconds": round(best["ingest"], 2),
            "fingerprint_seconds": round(best["fingerprint"], 2),
            "bare_rows_per_s": round(args.rows / best["bare"]),
            "ingest_rows_per_s": round(args.rows / best["ingest"]),
            "ratio_ingest_over_bare": round(best["ingest"] / best["bare"], 2),
            "ratio_ingest_over_bare_bronze_shape": round(
                best["ingest"] / best["bare_bronze_shape"], 2
            ),
            **(
                {k: round(v, 2) for k, v in _fingerprint_breakdown(source).items()}
                if fmt == "json"
                else {}
            ),
            "no_new_files_rerun_seconds": round(rerun["seconds"], 2),
            "no_new_files_rerun_spark_jobs": rerun["spark_jobs"],
            "runs_seconds": {k: [round(t, 2) for t in v] for k, v in runs.items()},
        }
    undeclared = workdir / "bench_undeclared.jsonl"
    _with_undeclared_key(files["json"], undeclared)
    per_record: list[float] = []
    for rep in range(args.repeat):
        copy = _bench_contract(names, sources["json"], f"bench_undeclared_{rep}", samples["json"])
        _ingest(spark, names, copy)
        seconds, outcome, _ = _ingest_once(spark, names, copy, undeclared)
        if "undeclared key 'bench_undeclared_key'" not in outcome.message:
            raise RuntimeError(f"the undeclared key was not reported: {outcome}")
        per_record.append(seconds)
        print(f"  json, one undeclared key, rep {rep}: ingest {seconds:.1f}s", flush=True)
    json_bare = results["formats"]["json"]["bare_seconds"]
    results["json_one_undeclared_key"] = {
        "ingest_seconds": round(min(per_record), 2),
        "ingest_rows_per_s": round(args.rows / min(per_record)),
        "ratio_ingest_over_bare": round(min(per_record) / json_bare, 2),
        "runs_seconds": [round(t, 2) for t in per_record],
    }
    print()
    print(
        f"{'format':<6} {'bare rows/s':>12} {'ingest rows/s':>14} {'ratio':>6} "
        f"{'ratio (bronze-shape bare)':>26} {'re-run s':>9}"
    )
    for fmt, r in results["formats"].items():
        print(
            f"{fmt:<6} {r['bare_rows_per_s']:>12,} {r['ingest_rows_per_s']:>14,} "
            f"{r['ratio_ingest_over_bare']:>6} {r['ratio_ingest_over_bare_bronze_shape']:>26} "
            f"{r['no_new_files_rerun_seconds']:>9}"
        )
    drift = results["json_one_undeclared_key"]
    print(
        f"json with one undeclared key (per-record path): {drift['ingest_rows_per_s']:,} rows/s, "
        f"ratio {drift['ratio_ingest_over_bare']}"
    )
    results["load"] = Path("/proc/loadavg").read_text().split()[:3]
    out = ROOT / "target" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {out}")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
