"""``data-ops logs``: recent records of ``gold.pipeline_logs``."""

from __future__ import annotations

import argparse

from python_ingest.cli.common import EXIT_OK, Subparsers, add_scope, run_config, session
from python_ingest.logs import LOG_TABLE

__all__ = ["cmd_logs", "register"]


def cmd_logs(args: argparse.Namespace) -> int:
    from pyspark.sql import functions as F

    config = run_config(args)
    spark = session(config)
    table = config.names.table(*LOG_TABLE)
    if not spark.catalog.tableExists(table):
        args.view.line(f"no logs yet: {table} does not exist (run `data-ops ingest` first)")
        return EXIT_OK
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


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "logs",
        help="show recent structured log records",
        description="Show recent records of <catalog>.gold.pipeline_logs, oldest first.",
    )
    add_scope(parser, table=False)
    parser.add_argument("--status", choices=("ok", "error", "warning", "info", "start", "skipped"))
    parser.add_argument("--run-id", dest="run_id", default=None, help="only this run")
    parser.add_argument("--limit", type=int, default=50, help="number of records (default 50)")
    parser.set_defaults(func=cmd_logs)
