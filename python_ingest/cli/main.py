"""The ``data-ops`` entry point: the parser, logging set-up, and errors mapped to exit codes."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from python_ingest.cli import deploy, domain, ingest, logs, report, run
from python_ingest.cli.common import EXIT_BUSY, EXIT_DATA, EXIT_USAGE
from python_ingest.cli.console import LOG_FORMATS, make_view
from python_ingest.errors import ConcurrentRunError, ConfigError, DataOpsError

__all__ = ["build_parser", "main"]

COMMANDS = (ingest, run, domain, logs, report, deploy)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="data-ops",
        description="Health-plan lakehouse operations: ingest landing files into bronze Delta "
        "tables, run dbt, read the structured logs, deploy.",
        epilog="Exit codes: 0 ok, 1 data errors, 2 usage/config errors, 3 catalog busy.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="auto",
        dest="log_format",
        help="console: live progress and a summary; json: one JSON record per stdout line; "
        "auto (default): console on a terminal, json otherwise (a Databricks task)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    view = make_view(args.log_format)
    view.install(args.verbose)
    args.view = view
    try:
        code: int = args.func(args)
    except ConcurrentRunError as err:
        view.line(f"data-ops: {err}")
        return EXIT_BUSY
    except ConfigError as err:
        view.line(f"data-ops: configuration error: {err}")
        return EXIT_USAGE
    except DataOpsError as err:
        view.line(f"data-ops: {err}")
        return EXIT_DATA
    finally:
        view.close()
        logging.getLogger("python_ingest").handlers[:] = []
    return code
