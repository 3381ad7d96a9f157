"""Delta appends that stay cheap on the embedded engine.

With the embedded Hive metastore, ``saveAsTable`` in append mode also rewrites the table's
metastore entry on every commit (seconds on Derby, and it logs a spurious HiveAlterHandler
error). Locally we therefore append to the table's location; on Databricks (Unity Catalog,
where managed tables are not addressed by path) we append by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from python_ingest.naming import on_databricks

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["append", "recent_commits", "table_location"]

_locations: dict[tuple[int, str], str] = {}


def table_location(spark: SparkSession, table: str) -> str:
    """Storage location of a Delta table (cached per session; tables do not move)."""
    key = (id(spark), table)
    if key not in _locations:
        detail = spark.sql(f"describe detail {table}").first()
        assert detail is not None
        _locations[key] = str(detail["location"])
    return _locations[key]


def append(df: DataFrame, table: str, options: dict[str, str] | None = None) -> None:
    """Append ``df`` to an existing Delta table, with writer options (e.g. txnAppId)."""
    writer = df.write.format("delta").mode("append").options(**(options or {}))
    if on_databricks():
        writer.saveAsTable(table)
    else:
        writer.save(table_location(df.sparkSession, table))


def recent_commits(spark: SparkSession, table: str, depth: int) -> set[str]:
    """``userMetadata`` of the table's last ``depth`` commits."""
    from delta.tables import DeltaTable

    delta = (
        DeltaTable.forName(spark, table)
        if on_databricks()
        else DeltaTable.forPath(spark, table_location(spark, table))
    )
    rows = delta.history(depth).select("userMetadata").collect()
    return {r["userMetadata"] for r in rows if r["userMetadata"]}
