"""Delta appends that stay cheap on the embedded engine.

With the embedded Hive metastore, ``saveAsTable`` in append mode also rewrites the table's
metastore entry on every commit (seconds on Derby, and it logs a spurious HiveAlterHandler
error). Locally we therefore append to the table's location; on Databricks (Unity Catalog,
where managed tables are not addressed by path) we append by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from python_ingest.naming import on_databricks

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = [
    "AUTO_COMPACT",
    "BOOKKEEPING_TABLE",
    "append",
    "create_or_update_table",
    "ensure_table_properties",
    "prepare_idempotent_append",
    "recent_commits",
    "rows_frame",
    "sql_string",
    "table_location",
    "tblproperties_clause",
]

# For tables that grow by one small commit per file or run step (the ingestion ledger, the
# pipeline logs): Delta compacts their small files after a commit once enough have gathered.
# Without it, every lookup reads one Parquet file per commit ever made (measured: a ledger
# query took 0.72 s after 300 commits, 0.21 s with auto compaction, at the same append cost).
AUTO_COMPACT = {"delta.autoOptimize.autoCompact": "true"}
# Such tables also take a checkpoint every 100 commits instead of every 10. Delta writes a
# checkpoint in the commit that reaches the interval: a ledger entry then took 1.5-1.8 s
# instead of about 0.7 s, in every tenth run. Reading up to 100 commits since the checkpoint
# costs no more here: a fresh ledger read took 0.77 s at 5 commits, 0.5 s at 60 and at 100.
BOOKKEEPING_TABLE = {**AUTO_COMPACT, "delta.checkpointInterval": "100"}

_locations: dict[tuple[int, str], str] = {}
# Rows up to which ``rows_frame`` writes them as literals of one projection.
_LITERAL_ROWS = 100


def table_location(spark: SparkSession, table: str) -> str:
    """Storage location of a Delta table (cached per session; tables do not move)."""
    key = (id(spark), table)
    if key not in _locations:
        _describe(spark, table)
    return _locations[key]


def _describe(spark: SparkSession, table: str) -> None:
    """``DESCRIBE DETAIL`` the table (Delta computes its state) and cache its location."""
    detail = spark.sql(f"describe detail {table}").first()
    assert detail is not None
    _locations[(id(spark), table)] = str(detail["location"])


def append(df: DataFrame, table: str, options: dict[str, str] | None = None) -> None:
    """Append ``df`` to an existing Delta table, with writer options (e.g. txnAppId)."""
    writer = df.write.format("delta").mode("append").options(**(options or {}))
    if on_databricks():
        writer.saveAsTable(table)
    else:
        writer.save(table_location(df.sparkSession, table))


def rows_frame(spark: SparkSession, rows: Sequence[Sequence[object]], ddl: str) -> DataFrame:
    """A one-partition DataFrame of rows held by the driver, for a small append (a ledger
    entry, a run's log records, a file's quarantined rows); ``ddl`` is its column list.

    Up to ``_LITERAL_ROWS`` rows are literals of one projection: the write is one task that
    runs in the JVM. ``createDataFrame`` spreads rows over the default parallelism (4 tasks
    locally, most writing nothing), and each task starts a Python worker to read them: a
    one-row ledger append's write took 0.27 s that way, 0.1 s as literals. More rows take
    ``createDataFrame``, into one partition. Values convert as ``createDataFrame`` converts
    them (a naive datetime is read in the process's local time zone).
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import StructType

    if len(rows) > _LITERAL_ROWS:
        return spark.createDataFrame(list(rows), schema=ddl).coalesce(1)
    schema = StructType.fromDDL(ddl)
    assert isinstance(schema, StructType)
    records = [
        F.struct(
            *[
                F.lit(value).cast(f.dataType).alias(f.name)
                for value, f in zip(row, schema.fields, strict=True)
            ]
        )
        for row in rows
    ]
    if not records:
        return spark.createDataFrame([], schema=schema).coalesce(1)
    return spark.range(1, numPartitions=1).select(F.inline(F.array(*records)))


def prepare_idempotent_append(spark: SparkSession, table: str) -> None:
    """Have Delta compute the table's current state ahead of an idempotent append.

    An append with ``txnAppId`` looks the application's last version up in the table's state,
    which Delta computes from the log on a snapshot's first use (three Spark jobs on the
    embedded engine). ``DESCRIBE DETAIL`` computes the same state; with no commit in between,
    the append then finds it computed (one Spark job instead of four). The same answer holds
    the table's location, which ``table_location`` then need not ask for again.
    """
    _describe(spark, table)


def tblproperties_clause(properties: Mapping[str, str]) -> str:
    """``tblproperties (...)`` for a ``create table`` or ``alter table ... set`` statement."""
    pairs = ", ".join(f"'{key}' = '{value}'" for key, value in properties.items())
    return f"tblproperties ({pairs})"


def ensure_table_properties(spark: SparkSession, table: str, properties: Mapping[str, str]) -> None:
    """Set the properties that an existing table lacks or has another value for (one query)."""
    rows = spark.sql(f"show tblproperties {table}").collect()
    current = {row["key"]: row["value"] for row in rows}
    missing = {k: v for k, v in properties.items() if current.get(k) != v}
    if missing:
        spark.sql(f"alter table {table} set {tblproperties_clause(missing)}")


def sql_string(value: str) -> str:
    """A Spark SQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def create_or_update_table(
    spark: SparkSession, table: str, ddl: str, comment: str, properties: Mapping[str, str]
) -> bool:
    """Create the Delta table with its properties (True); if it exists, give it the properties
    it lacks, as a table created before a property was introduced (False)."""
    if not spark.catalog.tableExists(table):
        spark.sql(
            f"create table if not exists {table} ({ddl}) using delta comment {sql_string(comment)} "
            + tblproperties_clause(properties)
        )
        return True
    ensure_table_properties(spark, table, properties)
    return False


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
