"""``data-ops report``: the run report, one self-contained HTML file, from the lakehouse tables.

The report draws the operations dashboard (``resources/dashboards/operations.lvdash.json``, the
definition the bundle deploys to Databricks) from the tables alone: recent runs, rows per table,
failed files, failing tests and the gold KPIs. It needs the ``report`` extra (plotly).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from python_ingest.cli.common import EXIT_OK, Subparsers, add_scope, run_config, session

__all__ = ["DEFAULT_OUTPUT", "cmd_report", "register"]

DEFAULT_OUTPUT = Path("target") / "run_report.html"


def cmd_report(args: argparse.Namespace) -> int:
    from python_ingest.report import DEFAULT_DASHBOARD, build_report, load_dashboard

    config = run_config(args)
    # The definition is checked before the engine starts: a bad file fails in a second.
    dashboard = load_dashboard(args.dashboard or config.project_dir / DEFAULT_DASHBOARD)
    output: Path = args.output or config.project_dir / DEFAULT_OUTPUT
    summary = build_report(session(config), config.names, dashboard, output)
    waiting = summary.waiting
    args.view.line(
        f"data-ops report: wrote {summary.path} (catalog {config.catalog}, "
        f"{len(summary.datasets)} dataset(s)"
        + (
            f"; {len(waiting)} wait for tables not built yet: {', '.join(waiting)}"
            if waiting
            else ""
        )
        + ")"
    )
    return EXIT_OK


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "report",
        help="write the run report (HTML with charts) from the lakehouse tables",
        description="Write one self-contained HTML file with the recent runs, rows per table, "
        "failed files, failing tests and the gold KPIs as charts, from the lakehouse tables "
        "alone: the operations dashboard's datasets and widgets, drawn with plotly. Tables not "
        "built yet give a note in the page. Needs the report extra: data-ops[report].",
    )
    add_scope(parser, table=False)
    parser.add_argument(
        "--dashboard",
        type=Path,
        default=None,
        help="dashboard definition to draw (default: <project-dir>/resources/dashboards/"
        "operations.lvdash.json)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="HTML file to write (default: <project-dir>/target/run_report.html)",
    )
    parser.set_defaults(func=cmd_report)
