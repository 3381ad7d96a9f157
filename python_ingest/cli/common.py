"""What every command shares: exit codes, the scope arguments, the validated run config."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from python_ingest.config import TARGETS, RunConfig, load_run_config
from python_ingest.contract import TableContract, load_contracts
from python_ingest.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = [
    "EXIT_BUSY",
    "EXIT_DATA",
    "EXIT_OK",
    "EXIT_USAGE",
    "Subparsers",
    "add_scope",
    "contracts_for",
    "run_config",
    "session",
]

EXIT_OK, EXIT_DATA, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_scope(parser: argparse.ArgumentParser, *, table: bool = True) -> None:
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


def run_config(args: argparse.Namespace) -> RunConfig:
    return load_run_config(
        target=args.target,
        catalog=args.catalog,
        project_dir=args.project_dir,
        domain=args.domain,
        table=getattr(args, "table", None),
    )


def contracts_for(config: RunConfig) -> list[TableContract]:
    contracts = load_contracts(config.project_dir, domain=config.domain, table=config.table)
    if not contracts:
        raise ConfigError(
            f"no bronze contracts found under {config.project_dir / 'models'}"
            + (f" for domain {config.domain!r}" if config.domain else "")
            + "; declare sources with a config.meta.ingestion block"
        )
    return contracts


def session(config: RunConfig) -> SparkSession:
    from python_ingest.spark import get_spark

    return get_spark(config.names)
