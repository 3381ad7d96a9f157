"""Run the dashboard's dataset queries on the lakehouse (reads only)."""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from python_ingest.errors import DataOpsError
from python_ingest.naming import Names
from python_ingest.report.dashboard import Dashboard, Dataset, qualify_tables

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["DatasetResult", "ReportQueryError", "fetch_dataset", "fetch_datasets", "plain"]


class ReportQueryError(DataOpsError):
    """A dataset query failed on tables that exist: the definition and the tables disagree."""


@dataclass(frozen=True)
class DatasetResult:
    """Rows of one dataset, or the tables it waits for (not built yet)."""

    dataset: Dataset
    sql: str
    tables: tuple[str, ...]
    missing: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    rows: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def ready(self) -> bool:
        return not self.missing


def plain(value: Any) -> Any:
    """A value as JSON has it: decimals as floats, dates and timestamps as ISO text."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def fetch_dataset(spark: SparkSession, names: Names, dataset: Dataset) -> DatasetResult:
    """The dataset's rows; a table that does not exist yet makes a note, not an error."""
    from pyspark.errors import PySparkException

    query = qualify_tables(dataset.sql, names)
    tables = query.table_names(names)
    missing = tuple(t for t in tables if not spark.catalog.tableExists(t))
    if missing:
        return DatasetResult(dataset=dataset, sql=query.sql, tables=tables, missing=missing)
    try:
        frame = spark.sql(query.sql)
        columns = tuple(frame.columns)
        rows = tuple(
            {name: plain(value) for name, value in zip(columns, row, strict=True)}
            for row in frame.collect()
        )
    except PySparkException as err:  # parse and analysis errors, classic or Spark Connect
        raise ReportQueryError(
            f"dataset {dataset.name!r} of the dashboard failed on {', '.join(tables)}: "
            f"{str(err).strip().splitlines()[0]}. Fix the query in the dashboard definition, or "
            "rebuild the tables (`data-ops run`) if their columns changed"
        ) from err
    return DatasetResult(dataset=dataset, sql=query.sql, tables=tables, columns=columns, rows=rows)


def fetch_datasets(
    spark: SparkSession, names: Names, dashboard: Dashboard
) -> dict[str, DatasetResult]:
    """Every dataset a widget reads, each queried once; a widget column the dataset does not
    return is an error naming both."""
    widgets = [w for p in dashboard.pages for w in p.widgets if w.dataset is not None]
    results: dict[str, DatasetResult] = {}
    for widget in widgets:
        assert widget.dataset is not None
        if widget.dataset not in results:
            results[widget.dataset] = fetch_dataset(
                spark, names, dashboard.datasets[widget.dataset]
            )
        result = results[widget.dataset]
        absent = [f for f in widget.fields if result.ready and f not in result.columns]
        if absent:
            raise ReportQueryError(
                f"widget {widget.name!r} shows {absent!r}, which dataset {widget.dataset!r} "
                f"does not return (it returns {list(result.columns)!r}); fix the widget's "
                "encodings or the dataset query in the dashboard definition"
            )
    return results
