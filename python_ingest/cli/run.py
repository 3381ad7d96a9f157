"""``data-ops run``: per domain, upstream first, ingest then ``dbt build``, in one process
and one Spark session.

The domains run in :func:`python_ingest.domains.build_order` of dbt's own graph (a domain that
refs another's models runs after it), each as the unit its Databricks job runs: ingest its
contracts, then ``dbt build`` with :func:`python_ingest.domains.domain_selection`.

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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from python_ingest.cli.common import (
    EXIT_DATA,
    EXIT_OK,
    Subparsers,
    add_scope,
    run_config,
    session,
)
from python_ingest.cli.console import LayerRow, View
from python_ingest.contract import TableContract, load_contracts
from python_ingest.discovery import check_landing_dirs
from python_ingest.domains import (
    build_order,
    domain_dependencies,
    domain_selection,
    project_domains,
)
from python_ingest.errors import ConfigError
from python_ingest.logs import PipelineLogger
from python_ingest.pipeline import IngestRun, TableResult, new_run_id, run_ingest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from python_ingest.config import RunConfig
    from python_ingest.naming import Names

__all__ = [
    "DomainStep",
    "LayerSummary",
    "parse_nodes",
    "plan_run",
    "register",
    "run_dbt_build",
    "summarize",
]

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
    """``dbt build`` in-process (one domain, or the whole project when ``domain`` is None); the
    sparklocal adapter reuses this process's session. dbt's output and events go to ``view``
    when one is given."""
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
        args += domain_selection(domain)
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


@dataclass(frozen=True)
class DomainStep:
    """One domain of a run: its contracts (none: no ingest) and the domains it refs."""

    domain: str
    contracts: tuple[TableContract, ...]
    upstream: frozenset[str]


def parse_nodes(project_dir: str, target: str, view: View | None = None) -> list[dict[str, Any]]:
    """The project's nodes from an in-process ``dbt parse`` (its manifest), as the records
    :func:`python_ingest.domains.domain_dependencies` reads."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(
        [
            *(view.dbt_args() if view else []),
            "--quiet",
            "parse",
            "--target",
            target,
            "--project-dir",
            project_dir,
            "--profiles-dir",
            project_dir,
        ]
    )
    if not result.success or result.result is None:
        raise ConfigError(
            f"dbt parse of {project_dir!r} (target {target!r}) failed: {result.exception}; "
            "fix the project (`dbt parse` prints the cause) before running it"
        )
    manifest: Any = result.result
    return [_record(node) for node in [*manifest.nodes.values(), *manifest.sources.values()]]


def _record(node: Any) -> dict[str, Any]:
    depends_on = getattr(node, "depends_on", None)  # sources depend on nothing
    return {
        "unique_id": node.unique_id,
        "name": node.name,
        "original_file_path": node.original_file_path,
        "depends_on": {"nodes": list(depends_on.nodes) if depends_on is not None else []},
    }


def plan_run(
    project_dir: Path, nodes: list[dict[str, Any]], domain: str | None
) -> list[DomainStep]:
    """The domains a run builds, upstream first (``domain`` and the domains it refs; all when
    None), each with its bronze contracts. A domain folder without models is still ingested."""
    domains = project_domains(project_dir)
    if domain is not None and domain not in domains:
        raise ConfigError(
            f"domain {domain!r} has no folder under {project_dir / 'models'} (domains: "
            f"{', '.join(domains) or 'none'}); pass one of them, or create it with "
            f"`data-ops domain new {domain}`"
        )
    deps: dict[str, set[str]] = {d: set() for d in domains} | domain_dependencies(nodes)
    return [
        DomainStep(d, tuple(load_contracts(project_dir, domain=d)), frozenset(deps.get(d, ())))
        for d in build_order(deps, [domain] if domain else None)
    ]


@dataclass
class _Outcome:
    ingested: list[TableResult] = field(default_factory=list)
    nodes: list[Any] = field(default_factory=list)
    ingest_seconds: float = 0.0
    failed_domains: set[str] = field(default_factory=set)
    skipped: list[str] = field(default_factory=list)


def _dbt_step(
    config: RunConfig,
    run: IngestRun,
    view: View,
    outcome: _Outcome,
    domain: str,
) -> bool:
    """One domain's ``dbt build`` and its pipeline log record; False when a node or dbt itself
    failed."""
    started = time.monotonic()
    dbt_result = run_dbt_build(
        str(config.project_dir), config.target, domain, run.stamp.run_id, view
    )
    nodes = list(getattr(dbt_result.result, "results", None) or [])
    outcome.nodes += nodes
    statuses = Counter(str(n.status) for n in nodes)
    ok = dbt_result.success and not sum(statuses[s] for s in _BAD)
    logger = PipelineLogger(
        domain=domain,
        process="dbt",
        run_id=run.stamp.run_id,
        target=config.target,
        names=config.names,
        spark=run.spark,
    )
    logger.log(
        "dbt_build",
        "ok" if ok else "error",
        f"dbt build of models/{domain}: "
        f"{len(nodes)} node(s): " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())),
        duration_ms=int((time.monotonic() - started) * 1000),
        nodes=len(nodes),
        node_statuses=dict(statuses),
    )
    logger.flush()
    return bool(ok)


def cmd_run(args: argparse.Namespace) -> int:
    view: View = args.view
    config = run_config(args)
    nodes = parse_nodes(str(config.project_dir), config.target, view)
    steps = plan_run(config.project_dir, nodes, config.domain)
    check_landing_dirs(config.names, [c for step in steps for c in step.contracts])
    spark = session(config)
    run = IngestRun.start(spark, config.names, config.target, new_run_id())
    run_id = run.stamp.run_id
    view.line(f"data-ops run {run_id}: domains {' -> '.join(s.domain for s in steps)}")
    outcome = _Outcome()
    for step in steps:
        failed_upstream = sorted(step.upstream & outcome.failed_domains)
        if failed_upstream:
            # As on Databricks, where a domain's job starts only after its upstream jobs succeed.
            view.line(
                f"data-ops run {run_id}: {step.domain}: skipped, upstream "
                f"{', '.join(failed_upstream)} failed"
            )
            outcome.skipped.append(step.domain)
            outcome.failed_domains.add(step.domain)
            continue
        if step.contracts:
            view.line(f"data-ops run {run_id}: {step.domain}: ingest")
            started = time.monotonic()
            outcome.ingested += run_ingest(run, step.contracts)
            outcome.ingest_seconds += time.monotonic() - started
        view.line(f"data-ops run {run_id}: {step.domain}: dbt build")
        if not _dbt_step(config, run, view, outcome, step.domain):
            outcome.failed_domains.add(step.domain)
    failed_files = sum(len(r.failed) for r in outcome.ingested)
    bad = sum(1 for n in outcome.nodes if str(n.status) in _BAD)
    view.summary(
        f"data-ops run {run_id} (catalog {config.catalog})",
        _summary_rows(
            summarize(spark, config.names, outcome.ingested, outcome.nodes, outcome.ingest_seconds)
        ),
        f"logs: gold.pipeline_logs and gold.dbt_run_results where run_id = '{run_id}' "
        "(`data-ops logs --run-id ...`); failing test rows: schema ua; docs: `make docs`",
    )
    if failed_files or bad or outcome.failed_domains:
        skipped = outcome.skipped
        view.line(
            f"data-ops run {run_id}: FAILED ({failed_files} file(s), {bad} dbt node(s)"
            + (f"; skipped {', '.join(skipped)}" if skipped else "")
            + ")"
        )
        return EXIT_DATA
    return EXIT_OK


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "run",
        help="per domain, upstream first: ingest, then dbt build, in one process",
        description="For each domain (or --domain and the domains it refs), upstream first in "
        "dbt's graph: ingest its new landing files, then `dbt build --select "
        "path:models/<domain>` against the same target, in one process (and, on the local "
        "target, one Spark session); a domain whose upstream failed is skipped. Ends with a "
        "per-layer summary. On Databricks each domain's job runs the same two steps as tasks.",
    )
    add_scope(parser, table=False)
    parser.set_defaults(func=cmd_run)
