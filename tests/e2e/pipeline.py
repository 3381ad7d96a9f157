"""The whole local pipeline, run once per test process and shared by the domain test suites.

Sequence (all in this process's Spark session, on the test lakehouse):
  1. generate ``BASE_MONTHS`` months of member roster and claims files (with defects), ingest,
     ``dbt build``                                                    -> snapshot ``base``
  2. deliver one more month (with adjustments/reversals of earlier claims), ingest, then one
     ``dbt build`` per domain with its job's selection, member first, under one run id, as
     ``data-ops run`` and the bundle's jobs do (incremental models merge)
                                                -> snapshot ``incremental``; the claims build
                                                   alone                 -> snapshot ``claims_only``
  3. ``dbt run --full-refresh`` on the same input      -> snapshot ``full_refresh`` (silver, gold)

Tests compare snapshots (lists of row dicts) instead of re-running builds, which keeps the suite
inside its time budget.
"""

from __future__ import annotations

import functools
import os
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from python_ingest.contract import load_contracts
from python_ingest.discovery import landing_dir
from python_ingest.domains import domain_selection
from python_ingest.ledger import LEDGER_TABLE
from python_ingest.logs import LOG_TABLE
from python_ingest.naming import Names
from python_ingest.pipeline import IngestRun, TableResult, new_run_id, run_ingest
from python_ingest.spark import get_spark
from tests.support import REPO_ROOT, ensure_test_lakehouse, run_dbt
from tools.datagen import (
    ClaimsBatch,
    Roster,
    generate_claims,
    generate_roster,
    write_claims_files,
    write_member_files,
)

__all__ = ["BASE_MONTHS", "START", "PipelineState", "Snapshot", "pipeline_state"]

SEED = 20251
MEMBERS = 120
BASE_MONTHS = 3
START = date(2025, 1, 1)
DEFECT_RATE = 0.04
LAYERS = ("bronze", "silver", "gold")
# Run bookkeeping, not pipeline data: the tests read it from the lakehouse, never from a
# snapshot (each table read costs 0.3-1 s however small the table).
BOOKKEEPING = {".".join(LEDGER_TABLE), ".".join(LOG_TABLE), "gold.dbt_run_results"}


@dataclass
class Snapshot:
    """Rows of every silver/gold table (and bronze counts) at one point of the sequence."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    dbt_statuses: dict[str, str] = field(default_factory=dict)
    dbt_success: bool = False
    ingest: dict[str, TableResult] = field(default_factory=dict)
    run_id: str = ""

    def rows(self, table: str) -> list[dict[str, Any]]:
        if table not in self.tables:
            raise KeyError(f"{table} was not built; tables: {sorted(self.tables)}")
        return self.tables[table]


@dataclass
class PipelineState:
    roster: Roster
    claims: ClaimsBatch
    next_roster: Roster
    next_claims: ClaimsBatch
    base: Snapshot
    incremental: Snapshot
    full_refresh: Snapshot
    claims_only: Snapshot


def _snapshot(
    spark: Any,
    builds: list[Any],
    ingest: dict[str, TableResult],
    run_id: str,
    *,
    layers: tuple[str, ...] = LAYERS,
) -> Snapshot:
    """The builds' node statuses and the rows of every table in ``layers`` but bookkeeping."""
    snap = Snapshot(ingest=ingest, run_id=run_id)
    snap.dbt_success = all(build.success for build in builds)
    for build in builds:
        results = getattr(build.result, "results", None) or []
        snap.dbt_statuses.update({r.node.unique_id: str(r.status) for r in results})
    for layer in layers:
        if not spark.catalog.databaseExists(layer):
            continue
        for table in spark.catalog.listTables(layer):
            name = f"{layer}.{table.name}"
            if table.tableType == "VIEW" or table.isTemporary or name in BOOKKEEPING:
                continue
            snap.tables[name] = [r.asDict(recursive=True) for r in spark.table(name).collect()]
    return snap


def _ingest(spark: Any, run_id: str) -> dict[str, TableResult]:
    run = IngestRun.start(spark, Names.for_target("local"), "local", run_id)
    return {r.table: r for r in run_ingest(run, load_contracts(REPO_ROOT))}


@functools.cache
def pipeline_state() -> PipelineState:
    ensure_test_lakehouse()
    names = Names.for_target("local")
    spark = get_spark(names)
    for layer in (*LAYERS, "ua"):
        spark.sql(f"drop schema if exists {layer} cascade")
    contracts = {c.domain: c for c in load_contracts(REPO_ROOT)}
    member_dir = landing_dir(names, contracts["member"])
    claims_dir = landing_dir(names, contracts["claims"])
    for folder in (member_dir, claims_dir):
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True)

    roster = generate_roster(MEMBERS, BASE_MONTHS, START, SEED, DEFECT_RATE)
    claims = generate_claims(roster, SEED, DEFECT_RATE)
    write_member_files(roster.deliveries, member_dir)
    write_claims_files(claims.deliveries, claims_dir)
    run_id = new_run_id()
    ingested = _ingest(spark, run_id)
    build = run_dbt(["build", "--target", "local"])
    base = _snapshot(spark, [build], ingested, run_id)

    next_roster = generate_roster(
        MEMBERS, BASE_MONTHS + 1, START, SEED, DEFECT_RATE, from_month=BASE_MONTHS
    )
    next_claims = generate_claims(next_roster, SEED, DEFECT_RATE, from_month=BASE_MONTHS)
    write_member_files(next_roster.deliveries, member_dir)
    write_claims_files(next_claims.deliveries, claims_dir)
    run_id = new_run_id()
    ingested = _ingest(spark, run_id)
    os.environ["DATA_OPS_RUN_ID"] = new_run_id()  # the two builds are one run in the history
    try:
        member_build = run_dbt(["build", "--target", "local", *domain_selection("member")])
        claims_build = run_dbt(["build", "--target", "local", *domain_selection("claims")])
    finally:
        del os.environ["DATA_OPS_RUN_ID"]
    incremental = _snapshot(spark, [member_build, claims_build], ingested, run_id)
    claims_only = _snapshot(spark, [claims_build], {}, run_id, layers=())  # tests read statuses

    build = run_dbt(["run", "--target", "local", "--full-refresh"])
    full_refresh = _snapshot(spark, [build], {}, run_id, layers=("silver", "gold"))
    return PipelineState(
        roster=roster,
        claims=claims,
        next_roster=next_roster,
        next_claims=next_claims,
        base=base,
        incremental=incremental,
        full_refresh=full_refresh,
        claims_only=claims_only,
    )
