"""``data-ops run``: ingest, then ``dbt build``, in one process and one Spark session."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

__all__ = ["register", "run_dbt_build"]


def run_dbt_build(project_dir: str, target: str, domain: str | None, run_id: str) -> Any:
    """``dbt build`` in-process; the sparklocal adapter reuses this process's session."""
    from dbt.cli.main import dbtRunner

    os.environ["DATA_OPS_RUN_ID"] = run_id
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
        args += ["--select", f"path:models/{domain}"]  # the same selector as the bundle's job
    return dbtRunner().invoke(args)


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

    config = _config(args)
    if config.target != "local":
        _progress(
            "data-ops run works on the local target only; on Databricks the bundle job runs "
            "the ingest task and then the dbt task (see README, 'Deploy to Databricks')"
        )
        return EXIT_USAGE
    contracts = _contracts(config)
    check_landing_dirs(config.names, contracts)
    started = time.monotonic()
    spark = _spark(config)
    run_id = new_run_id()
    _progress(f"data-ops run {run_id}: ingest")
    results = ingest(spark, config, contracts, run_id)
    failed_files = sum(len(r.failed) for r in results)
    _progress(f"data-ops run {run_id}: dbt build")
    dbt_result = run_dbt_build(str(config.project_dir), config.target, config.domain, run_id)
    nodes = list(getattr(dbt_result.result, "results", None) or [])
    bad = [n for n in nodes if str(n.status) in ("error", "fail", "runtime error")]
    _progress(
        f"data-ops run {run_id}: {sum(len(r.outcomes) for r in results)} new file(s) "
        f"({failed_files} failed), {len(nodes)} dbt node(s) ({len(bad)} failed) in "
        f"{time.monotonic() - started:.0f}s"
    )
    sys.stdout.flush()
    return EXIT_DATA if failed_files or bad or not dbt_result.success else EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from python_ingest.cli import _add_scope

    parser = sub.add_parser(
        "run",
        help="ingest, then dbt build (local target), in one session",
        description="Ingest new landing files, then `dbt build` (optionally one domain) in the "
        "same process and Spark session, on the local target.",
    )
    _add_scope(parser, table=False)
    parser.set_defaults(func=cmd_run)
