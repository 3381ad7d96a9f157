"""Bronze and quarantine tables: their columns, their DDL, and the schema-change rule.

A bronze table is the contract's declared columns plus the ingestion metadata columns below,
defined here once: the ingestion fills them, the contract refuses them as declared names, and
dbt's staging models read them. Bronze is append-only history, so a contract may add a column
(it is added to the table) but never change the type of one (the run stops before any write).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from python_ingest.delta_io import add_missing_columns, create_or_update_table, sql_string
from python_ingest.errors import ContractError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from python_ingest.contract import TableContract
    from python_ingest.naming import Names, TableAddress

__all__ = [
    "METADATA_COLUMNS",
    "QUARANTINE_COLUMNS",
    "RESCUED_DATA",
    "BronzeTables",
    "Column",
    "quarantine_ddl",
]


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    description: str

    @property
    def ddl(self) -> str:
        return f"`{self.name}` {self.data_type} comment {sql_string(self.description)}"


RESCUED_DATA = "_rescued_data"
METADATA_COLUMNS = (
    Column("_source_file", "string", "Path of the delivered file this row came from."),
    Column("_source_file_modified_at", "timestamp", "Modification time of that file (UTC)."),
    Column("_ingested_at", "timestamp", "UTC time of the ingestion run."),
    Column("_ingest_run_id", "string", "Id of the ingestion run (joins gold.pipeline_logs)."),
    Column(
        RESCUED_DATA,
        "string",
        "JSON object holding the delivered text of every value that did not fit the contract "
        "(undeclared columns or keys, values that did not parse or fit their declared type); "
        "null when everything fit.",
    ),
)
QUARANTINE_COLUMNS = (
    Column("_source_file", "string", "Path of the delivered file."),
    Column("_source_file_modified_at", "timestamp", "Modification time of that file (UTC)."),
    Column("_line_number", "bigint", "First line of the record in the file (CSV, JSON)."),
    Column("_record_offset", "bigint", "Row index of the record in the file (Parquet)."),
    Column("_quarantine_reason", "string", "Why the record could not enter bronze."),
    Column("_raw_record", "string", "The record's text as delivered."),
    Column(
        "_raw_bytes_base64",
        "string",
        "The record's bytes exactly as delivered (base64), when they are not valid text.",
    ),
    Column("_ingested_at", "timestamp", "UTC time of the ingestion run."),
    Column("_ingest_run_id", "string", "Id of the ingestion run."),
)
# Delta collects min/max statistics in its transaction log (plain JSON) for the first 32
# columns by default. Bronze and quarantine rows are raw PHI, so statistics are kept for the
# ingestion columns only (which incremental silver models filter on): no member data in the
# log, and less work per written row.
STATS_PROPERTY = "delta.dataSkippingStatsColumns"
_BRONZE_STATS = "_source_file,_source_file_modified_at,_ingested_at,_ingest_run_id"
_QUARANTINE_STATS = "_source_file,_ingested_at,_ingest_run_id"


def quarantine_ddl() -> str:
    """The quarantine table's column list, for a DataFrame of its rows."""
    return ", ".join(f"{c.name} {c.data_type}" for c in QUARANTINE_COLUMNS)


@dataclass(frozen=True)
class BronzeTables:
    """The bronze and quarantine tables of one contract in one catalog."""

    contract: TableContract
    names: Names

    @property
    def bronze(self) -> TableAddress:
        return self.names.address(self.contract.schema_name, self.contract.table)

    @property
    def quarantine(self) -> TableAddress:
        return self.names.address(self.contract.schema_name, f"{self.contract.table}_quarantine")

    def ensure(self, spark: SparkSession) -> None:
        """Create both tables, or bring them up to the contract: a newly declared column is
        added; a changed type stops the run (``ContractError``) before any write."""
        contract = self.contract
        spark.sql(f"create schema if not exists {self.names.schema(contract.schema_name)}")
        columns = {
            c.name: Column(c.name, c.data_type, c.description).ddl for c in contract.columns
        } | {c.name: c.ddl for c in METADATA_COLUMNS}
        table = self.bronze.name
        if not create_or_update_table(
            spark,
            table,
            ", ".join(columns.values()),
            contract.description,
            {STATS_PROPERTY: _BRONZE_STATS},
        ):
            existing = {f.name: f.dataType for f in spark.table(table).schema.fields}
            changed = [
                c.name
                for c in contract.columns
                if c.name in existing and existing[c.name] != c.spark_type
            ]
            if changed:
                raise ContractError(
                    f"{contract.path}: table {contract.table!r} declares new types for existing "
                    f"bronze columns {changed}; bronze is append-only history, so add a new "
                    "column instead of changing a type"
                )
            add_missing_columns(spark, table, columns)
        quarantine = {c.name: c.ddl for c in QUARANTINE_COLUMNS}
        if not create_or_update_table(
            spark,
            self.quarantine.name,
            ", ".join(quarantine.values()),
            f"Records of {contract.table} files that could not enter bronze, as delivered.",
            {STATS_PROPERTY: _QUARANTINE_STATS},
        ):
            add_missing_columns(spark, self.quarantine.name, quarantine)
