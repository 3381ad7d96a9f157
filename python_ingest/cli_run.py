"""``data-ops run``: ingest, then ``dbt build``, in one process and one Spark session.

dbt's on-run-end hook (macros/observability) appends the node results to
``gold.dbt_run_results`` under the same run id as the ingestion's ``gold.pipeline_logs``
records, so one query joins what was loaded with what was built and tested.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from python_ingest.ingest import TableResult

__all__ = ["LayerSummary", "register", "run_dbt_build", "summarize"]

_OK = ("success", "pass")
_BAD = ("error", "fail", "runtime error")


def run_dbt_build(project_dir: str, target: str, domain: str | None, run_id: str) -> Any:
    """``dbt build`` in-process; the sparklocal adapter reuses this process's session."""
    from dbt.cli.main import dbtRunner

    previous = os.environ.get("DATA_OPS_RUN_ID")
    os.environ["DATA_OPS_RUN_ID"] = run_id  # read by the on-run-end hook
    args = [
        "build",
        "--target",
        target,
        "--project-dir",
        project_dir,
        "--profiles-dir",
        project_dir,
    ]
    if domain:
        # The bundle job's selector: only this domain's models and the tests wholly inside it
        # (cautious: a claims test that also refers to member models is not picked for member).
        args += ["--select", f"path:models/{domain}", "--indirect-selection", "cautious"]
    try:
        return dbtRunner().invoke(args)
    finally:
        if previous is None:
            os.environ.pop("DATA_OPS_RUN_ID", None)
        else:
            os.environ["DATA_OPS_RUN_ID"] = previous


@dataclass
class LayerSummary:
    tables: list[str] = field(default_factory=list)
    rows: int = 0
    tests: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def summarize(
    spark: SparkSession, ingested: list[TableResult], nodes: list[Any], ingest_seconds: float
) -> dict[str, LayerSummary]:
    """Per layer: tables built, their rows, test outcomes and time spent."""
    layers: dict[str, LayerSummary] = defaultdict(LayerSummary)
    bronze = layers["bronze"]
    bronze.seconds = ingest_seconds
    for result in ingested:
        bronze.tables.append(result.table)
        bronze.rows += result.total("rows_loaded")
        bronze.tests["quarantined rows"] += result.total("rows_quarantined")
        bronze.tests["failed files"] += len(result.failed)
    layer_of: dict[str, str] = {}
    for node in nodes:
        if node.node.resource_type == "model":
            layer = node.node.schema
            layer_of[node.node.unique_id] = layer
            summary = layers[layer]
            summary.seconds += node.execution_time or 0.0
            if str(node.status) in _OK:
                relation = f"{layer}.{node.node.alias}"
                summary.tables.append(relation)
                summary.rows += spark.table(relation).count()
    for node in nodes:
        if node.node.resource_type in ("test", "unit_test"):
            attached = getattr(node.node, "attached_node", None) or ""
            layer = layer_of.get(attached, "tests")
            layers[layer].tests[str(node.status)] += 1
            layers[layer].seconds += node.execution_time or 0.0
    return dict(layers)


def _print_summary(run_id: str, catalog: str, layers: dict[str, LayerSummary]) -> None:
    print(f"\ndata-ops run {run_id} (catalog {catalog})", file=sys.stderr)
    print(
        f"  {'layer':<8} {'tables':>6} {'rows':>12}  {'checks':<40} {'seconds':>8}", file=sys.stderr
    )
    for name in sorted(
        layers,
        key=lambda n: (
            ("bronze", "silver", "gold").index(n) if n in ("bronze", "silver", "gold") else 9
        ),
    ):
        layer = layers[name]
        checks = ", ".join(f"{k} {v}" for k, v in sorted(layer.tests.items())) or "-"
        print(
            f"  {name:<8} {len(layer.tables):>6} {layer.rows:>12,}  {checks:<40} "
            f"{layer.seconds:>8.1f}",
            file=sys.stderr,
        )
    print(
        f"  logs: gold.pipeline_logs and gold.dbt_run_results where run_id = '{run_id}' "
        "(`data-ops logs --run-id ...`); failing test rows: schema ua; docs: `make docs`",
        file=sys.stderr,
    )


def cmd_run(args: argparse.Namespace) -> int:
    from python_ingest.cli import (
        EXIT_DATA,
        EXIT_OK,
        EXIT_USAGE,
        _config,
        _contracts,
        _progress,
        _spark,
        ingest,
    )
    from python_ingest.ingest import check_landing_dirs, new_run_id
    from python_ingest.logs import get_logger

    config = _config(args)
    if config.target != "local":
        _progress(
            "data-ops run works on the local target only; on Databricks the bundle job runs "
            "the ingest task and then the dbt task (see README, 'Deploy to Databricks')"
        )
        return EXIT_USAGE
    contracts = _contracts(config)
    check_landing_dirs(config.names, contracts)
    spark = _spark(config)
    run_id = new_run_id()
    _progress(f"data-ops run {run_id}: ingest")
    started = time.monotonic()
    results = ingest(spark, config, contracts, run_id)
    ingest_seconds = time.monotonic() - started
    failed_files = sum(len(r.failed) for r in results)
    _progress(f"data-ops run {run_id}: dbt build")
    started = time.monotonic()
    dbt_result = run_dbt_build(str(config.project_dir), config.target, config.domain, run_id)
    nodes = list(getattr(dbt_result.result, "results", None) or [])
    statuses = Counter(str(n.status) for n in nodes)
    bad = sum(statuses[s] for s in _BAD)
    logger = get_logger(
        domain=config.domain or "all",
        process="dbt",
        run_id=run_id,
        target=config.target,
        catalog=config.catalog,
        spark=spark,
    )
    logger.log(
        "dbt_build",
        "error" if bad or not dbt_result.success else "ok",
        f"dbt build: {len(nodes)} node(s): "
        + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())),
        duration_ms=int((time.monotonic() - started) * 1000),
        nodes=len(nodes),
        node_statuses=dict(statuses),
    )
    logger.flush()
    _print_summary(run_id, config.catalog, summarize(spark, results, nodes, ingest_seconds))
    sys.stdout.flush()
    if failed_files or bad or not dbt_result.success:
        _progress(f"data-ops run {run_id}: FAILED ({failed_files} file(s), {bad} dbt node(s))")
        return EXIT_DATA
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from python_ingest.cli import _add_scope

    parser = sub.add_parser(
        "run",
        help="ingest, then dbt build (local target), in one session",
        description="Ingest new landing files, then `dbt build` (optionally one domain) in the "
        "same process and Spark session, on the local target; ends with a per-layer summary.",
    )
    _add_scope(parser, table=False)
    parser.set_defaults(func=cmd_run)
