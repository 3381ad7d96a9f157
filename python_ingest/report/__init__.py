"""The run report: the operations dashboard's datasets and widgets, drawn into one HTML file.

``resources/dashboards/operations.lvdash.json`` is the one definition of what operators see:
the bundle deploys it as a Databricks AI/BI dashboard, and :func:`build_report` runs its dataset
queries on the lakehouse (tables named through :class:`~python_ingest.naming.Names`) and draws
its widgets with plotly into a self-contained, static HTML file. Tables that do not exist yet
give a note in the page, not an error; a query that fails on tables that exist is an error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from python_ingest.naming import Names
from python_ingest.report.dashboard import Dashboard, load_dashboard, qualify_tables
from python_ingest.report.data import DatasetResult, ReportQueryError, fetch_datasets
from python_ingest.report.render import render_report

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = [
    "DEFAULT_DASHBOARD",
    "Dashboard",
    "DatasetResult",
    "ReportQueryError",
    "ReportSummary",
    "build_report",
    "fetch_datasets",
    "load_dashboard",
    "qualify_tables",
    "render_report",
]

DEFAULT_DASHBOARD = Path("resources") / "dashboards" / "operations.lvdash.json"


@dataclass(frozen=True)
class ReportSummary:
    """What a report holds: where it is, and which datasets had data or wait for tables."""

    path: Path
    datasets: dict[str, DatasetResult]

    @property
    def waiting(self) -> list[str]:
        return [name for name, result in self.datasets.items() if not result.ready]


def build_report(
    spark: SparkSession, names: Names, dashboard: Dashboard, output: Path
) -> ReportSummary:
    """Query the lakehouse and write the report to ``output`` (its folder is created)."""
    results = fetch_datasets(spark, names, dashboard)
    page = render_report(
        dashboard,
        results,
        catalog=names.catalog,
        generated_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(page, encoding="utf-8")
    return ReportSummary(path=output, datasets=results)
