"""``data-ops`` command line: ingest, run, logs (and the deployment commands).

Exit codes: 0 ok, 1 data errors (a file or a dbt node failed), 2 usage or configuration errors,
3 the local catalog is busy (another run holds it).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from python_ingest.config import TARGETS, RunConfig, load_run_config
from python_ingest.contract import TableContract, load_contracts
from python_ingest.errors import ConcurrentRunError, ConfigError, DataOpsError
from python_ingest.ingest import Ingestor, TableResult, check_landing_dirs, new_run_id
from python_ingest.logs import LOG_TABLE, JsonLinesFormatter, get_logger

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["build_parser", "main"]

EXIT_OK, EXIT_DATA, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3
_log = logging.getLogger(__name__)


def _configure_logging(verbose: bool) -> None:
    """JSON lines on stdout for pipeline records; library chatter (py4j, Spark) kept quiet."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonLinesFormatter())
    pipeline = logging.getLogger("python_ingest")
    pipeline.handlers[:] = [handler]
    pipeline.setLevel(logging.DEBUG if verbose else logging.INFO)
    pipeline.propagate = False
    for noisy in ("py4j", "pyspark", "SQLQueryContextLogger"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _add_scope(parser: argparse.ArgumentParser, *, table: bool = True) -> None:
    parser.add_argument(
        "--target",
        choices=TARGETS,
        default="local",
        help="environment: local (embedded engine, default), dev, sit or prod",
    )
    parser.add_argument(
        "--catalog",
        default=None,
        help="catalog to use instead of the target's own (defaults to the target name)",
    )
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=Path(),
        dest="project_dir",
        help="data-ops project root holding dbt_project.yml and models/ (default: .)",
    )
    parser.add_argument("--domain", default=None, help="only this domain (a folder of models/)")
    if table:
        parser.add_argument("--table", default=None, help="only this bronze table")


def _config(args: argparse.Namespace) -> RunConfig:
    return load_run_config(
        target=args.target,
        catalog=args.catalog,
        project_dir=args.project_dir,
        domain=args.domain,
        table=getattr(args, "table", None),
    )


def _contracts(config: RunConfig) -> list[TableContract]:
    contracts = load_contracts(config.project_dir, domain=config.domain, table=config.table)
    if not contracts:
        raise ConfigError(
            f"no bronze contracts found under {config.project_dir / 'models'}"
            + (f" for domain {config.domain!r}" if config.domain else "")
            + "; declare sources with a config.meta.ingestion block"
        )
    return contracts


def _spark(config: RunConfig) -> SparkSession:
    from python_ingest.spark import get_spark

    return get_spark(config.catalog)


def ingest(
    spark: SparkSession, config: RunConfig, contracts: list[TableContract], run_id: str
) -> list[TableResult]:
    """Ingest every contract's new files; per-domain loggers, batched log commits."""
    names = config.names
    check_landing_dirs(names, contracts)
    results: list[TableResult] = []
    for contract in contracts:
        logger = get_logger(
            domain=contract.domain,
            process="ingest",
            run_id=run_id,
            target=config.target,
            catalog=config.catalog,
            spark=spark,
        )
        ingestor = Ingestor(spark, names, logger)
        try:
            result = ingestor.ingest_table(contract)
            for outcome in result.outcomes:
                _progress(
                    f"  {contract.table:<24} {outcome.path.name:<40} {outcome.status:<9} "
                    f"read={outcome.rows_read} loaded={outcome.rows_loaded} "
                    f"quarantined={outcome.rows_quarantined}"
                )
            logger.log(
                "summary",
                "error" if result.failed else "ok",
                f"{result.table}: {len(result.outcomes)} new file(s), "
                f"{len(result.failed)} failed, {result.files_skipped} already ingested",
                table_name=result.table,
                rows_read=result.total("rows_read"),
                rows_loaded=result.total("rows_loaded"),
                rows_quarantined=result.total("rows_quarantined"),
            )
            results.append(result)
        finally:
            logger.flush()
    return results


def cmd_ingest(args: argparse.Namespace) -> int:
    config = _config(args)
    contracts = _contracts(config)
    check_landing_dirs(config.names, contracts)
    spark = _spark(config)
    run_id = new_run_id()
    _progress(f"data-ops ingest: run {run_id}, catalog {config.catalog}, {len(contracts)} table(s)")
    results = ingest(spark, config, contracts, run_id)
    failed = sum(len(r.failed) for r in results)
    _progress(
        f"data-ops ingest: {sum(len(r.outcomes) for r in results)} new file(s), {failed} failed"
        + (" - see `data-ops logs --status error`" if failed else "")
    )
    return EXIT_DATA if failed else EXIT_OK


def cmd_logs(args: argparse.Namespace) -> int:
    config = _config(args)
    spark = _spark(config)
    table = config.names.table(*LOG_TABLE)
    if not spark.catalog.tableExists(table):
        _progress(f"no logs yet: {table} does not exist (run `data-ops ingest` first)")
        return EXIT_OK
    from pyspark.sql import functions as F

    df = spark.table(table)
    if config.domain:
        df = df.where(F.col("domain") == config.domain)
    if args.status:
        df = df.where(F.col("status") == args.status)
    if args.run_id:
        df = df.where(F.col("run_id") == args.run_id)
    rows = (
        df.orderBy(F.col("logged_at").desc())
        .limit(args.limit)
        .select("logged_at", "run_id", "domain", "process", "step", "status", "message")
        .collect()
    )
    for row in reversed(rows):
        print(
            f"{row.logged_at:%Y-%m-%d %H:%M:%S}  {row.run_id}  {row.domain:<8} {row.process:<8} "
            f"{row.step:<10} {row.status:<7} {row.message}"
        )
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="data-ops",
        description="Health-plan lakehouse operations: ingest landing files into bronze Delta "
        "tables, run dbt, read the structured logs.",
        epilog="Exit codes: 0 ok, 1 data errors, 2 usage/config errors, 3 catalog busy.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p_ingest = sub.add_parser(
        "ingest",
        help="load new landing files into bronze (exactly once)",
        description="Discover new files in each bronze table's landing folder and load them "
        "into bronze Delta tables exactly once; bad rows go to <table>_quarantine.",
    )
    _add_scope(p_ingest)
    p_ingest.set_defaults(func=cmd_ingest)

    p_logs = sub.add_parser(
        "logs",
        help="show recent structured log records",
        description="Show recent records of <catalog>.gold.pipeline_logs, oldest first.",
    )
    _add_scope(p_logs, table=False)
    p_logs.add_argument("--status", choices=("ok", "error", "warning", "info", "start", "skipped"))
    p_logs.add_argument("--run-id", dest="run_id", default=None, help="only this run")
    p_logs.add_argument("--limit", type=int, default=50, help="number of records (default 50)")
    p_logs.set_defaults(func=cmd_logs)

    _register_optional(sub)
    return parser


def _register_optional(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Commands whose modules live beside this one: run (ingest + dbt) and deployment."""
    from python_ingest import cli_deploy, cli_run

    cli_run.register(sub)
    cli_deploy.register(sub)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    try:
        code: int = args.func(args)
    except ConcurrentRunError as err:
        _progress(f"data-ops: {err}")
        return EXIT_BUSY
    except ConfigError as err:
        _progress(f"data-ops: configuration error: {err}")
        return EXIT_USAGE
    except DataOpsError as err:
        _progress(f"data-ops: {err}")
        return EXIT_DATA
    return code


if __name__ == "__main__":
    sys.exit(main())
