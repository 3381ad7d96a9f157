"""``data-ops run``: ingest, then ``dbt build``, in one process and one Spark session.

dbt's on-run-end hook (macros/observability) appends the node results to
``gold.dbt_run_results`` under the same run id as the ingestion's ``gold.pipeline_logs``
records, so one query joins what was loaded with what was built and tested.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from python_ingest.cli.common import (
    EXIT_DATA,
    EXIT_OK,
    Subparsers,
    add_scope,
    contracts_for,
    run_config,
    session,
)
from python_ingest.cli.console import LayerRow, View
from python_ingest.discovery import check_landing_dirs
from python_ingest.logs import PipelineLogger
from python_ingest.pipeline import IngestRun, TableResult, new_run_id, run_ingest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from python_ingest.naming import Names

__all__ = ["LayerSummary", "register", "run_dbt_build", "summarize"]

_OK = ("success", "pass")
_BAD = ("error", "fail", "runtime error")
RUN_ID_ENV = "DATA_OPS_RUN_ID"


def run_dbt_build(
    project_dir: str,
    target: str,
    domain: str | None,
    run_id: str,
    view: View | None = None,
) -> Any:
    """``dbt build`` in-process; the sparklocal adapter reuses this process's session. dbt's
    output and events go to ``view`` when one is given."""
    from dbt.cli.main import dbtRunner

    previous = os.environ.get(RUN_ID_ENV)
    os.environ[RUN_ID_ENV] = run_id  # read by the on-run-end hook
    args = [
        *(view.dbt_args() if view else []),
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
        return dbtRunner(callbacks=[view.dbt_event] if view else []).invoke(args)
    finally:
        if previous is None:
            os.environ.pop(RUN_ID_ENV, None)
        else:
            os.environ[RUN_ID_ENV] = previous


@dataclass
class LayerSummary:
    tables: list[str] = field(default_factory=list)
    rows: int = 0
    tests: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def summarize(
    spark: SparkSession,
    names: Names,
    ingested: list[TableResult],
    nodes: list[Any],
    ingest_seconds: float,
) -> dict[str, LayerSummary]:
    """Per layer: tables built, their rows, test outcomes and time spent."""
    layers: dict[str, LayerSummary] = defaultdict(LayerSummary)
    bronze = layers["bronze"]
    bronze.seconds = ingest_seconds
    for result in ingested:
        bronze.tables.append(result.table)
        bronze.rows += result.total("rows_loaded")
        bronze.tests["quarantined rows"] += result.total("rows_quarantined")
        bronze.tests["rescued rows"] += result.total("rows_rescued")
        bronze.tests["failed files"] += len(result.failed)
    layer_of: dict[str, str] = {}
    for node in nodes:
        if node.node.resource_type == "model":
            layer = node.node.schema
            layer_of[node.node.unique_id] = layer
            summary = layers[layer]
            summary.seconds += node.execution_time or 0.0
            if str(node.status) in _OK:
                summary.tables.append(f"{layer}.{node.node.alias}")
                summary.rows += spark.table(names.table(layer, node.node.alias)).count()
    for node in nodes:
        if node.node.resource_type in ("test", "unit_test"):
            attached = getattr(node.node, "attached_node", None) or ""
            layer = layer_of.get(attached, "tests")
            layers[layer].tests[str(node.status)] += 1
            layers[layer].seconds += node.execution_time or 0.0
    return dict(layers)


def _summary_rows(layers: dict[str, LayerSummary]) -> list[LayerRow]:
    order = ("bronze", "silver", "gold")
    return [
        (
            name,
            len(layers[name].tables),
            layers[name].rows,
            ", ".join(f"{k} {v}" for k, v in sorted(layers[name].tests.items())) or "-",
            layers[name].seconds,
        )
        for name in sorted(layers, key=lambda n: order.index(n) if n in order else len(order))
    ]


def cmd_run(args: argparse.Namespace) -> int:
    view: View = args.view
    config = run_config(args)
    contracts = contracts_for(config)
    check_landing_dirs(config.names, contracts)
    spark = session(config)
    run = IngestRun.start(spark, config.names, config.target, new_run_id())
    run_id = run.stamp.run_id
    view.line(f"data-ops run {run_id}: ingest")
    started = time.monotonic()
    results = run_ingest(run, contracts)
    ingest_seconds = time.monotonic() - started
    failed_files = sum(len(r.failed) for r in results)
    view.line(f"data-ops run {run_id}: dbt build")
    started = time.monotonic()
    dbt_result = run_dbt_build(str(config.project_dir), config.target, config.domain, run_id, view)
    nodes = list(getattr(dbt_result.result, "results", None) or [])
    statuses = Counter(str(n.status) for n in nodes)
    bad = sum(statuses[s] for s in _BAD)
    logger = PipelineLogger(
        domain=config.domain or "all",
        process="dbt",
        run_id=run_id,
        target=config.target,
        names=config.names,
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
    view.summary(
        f"data-ops run {run_id} (catalog {config.catalog})",
        _summary_rows(summarize(spark, config.names, results, nodes, ingest_seconds)),
        f"logs: gold.pipeline_logs and gold.dbt_run_results where run_id = '{run_id}' "
        "(`data-ops logs --run-id ...`); failing test rows: schema ua; docs: `make docs`",
    )
    if failed_files or bad or not dbt_result.success:
        view.line(f"data-ops run {run_id}: FAILED ({failed_files} file(s), {bad} dbt node(s))")
        return EXIT_DATA
    return EXIT_OK


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "run",
        help="ingest, then dbt build, in one process",
        description="Ingest new landing files, then `dbt build` (optionally one domain) against "
        "the same target, in one process (and, on the local target, one Spark session); ends "
        "with a per-layer summary. On Databricks the bundle's job runs the two as tasks.",
    )
    add_scope(parser, table=False)
    parser.set_defaults(func=cmd_run)
