"""``data-ops ingest``: load new landing files into bronze, exactly once."""

from __future__ import annotations

import argparse

from python_ingest.cli.common import (
    EXIT_DATA,
    EXIT_OK,
    Subparsers,
    add_scope,
    contracts_for,
    run_config,
    session,
)
from python_ingest.discovery import check_landing_dirs
from python_ingest.pipeline import IngestRun, new_run_id, run_ingest

__all__ = ["cmd_ingest", "register"]


def cmd_ingest(args: argparse.Namespace) -> int:
    view = args.view
    config = run_config(args)
    contracts = contracts_for(config)
    check_landing_dirs(config.names, contracts)
    run = IngestRun.start(session(config), config.names, config.target, new_run_id())
    view.line(
        f"data-ops ingest: run {run.stamp.run_id}, catalog {config.catalog}, "
        f"{len(contracts)} table(s)"
    )
    results = run_ingest(run, contracts)
    failed = sum(len(r.failed) for r in results)
    view.line(
        f"data-ops ingest: {sum(len(r.outcomes) for r in results)} file(s) tried, {failed} failed"
        + (" - see `data-ops logs --status error`" if failed else "")
    )
    return EXIT_DATA if failed else EXIT_OK


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "ingest",
        help="load new landing files into bronze (exactly once)",
        description="Discover new files in each bronze table's landing folder and load them "
        "into bronze Delta tables exactly once; bad rows go to <table>_quarantine, files that "
        "failed before are tried again.",
    )
    add_scope(parser)
    parser.set_defaults(func=cmd_ingest)
