"""The ingestion ledger: one row per attempt to load a delivered file, in a Delta table.

The ledger decides what a run loads. A file whose identity (path, size, modification time) has
a ``loaded`` or ``duplicate`` row is done; anything else under the landing folder is pending:
new files, and files whose earlier attempts ``failed`` (tried again on every run until they
load or are moved aside). A run that was killed after a file's data commit and before its
ledger row leaves the file pending too; the next run finds the data committed (Delta skips the
repeated idempotent append) and records the file ``loaded`` with a message saying so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import astuple, dataclass, field
from typing import TYPE_CHECKING, Literal

from pyspark.sql import functions as F

from python_ingest.delta_io import (
    BOOKKEEPING_TABLE,
    add_missing_columns,
    append,
    create_or_update_table,
    rows_frame,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from python_ingest.discovery import DeliveredFile
    from python_ingest.naming import Names

__all__ = ["LEDGER_TABLE", "FileStatus", "Ledger", "LedgerEntry", "LedgerState"]

LEDGER_TABLE = ("bronze", "ingest_ledger")
FileStatus = Literal["loaded", "duplicate", "failed"]
_DONE = ("loaded", "duplicate")
_COLUMNS = {
    "table_name": "table_name string",
    "file_path": "file_path string",
    "file_size": "file_size bigint",
    "file_modified_at": "file_modified_at timestamp",
    "content_sha256": "content_sha256 string",
    "file_format": "file_format string",
    "status": "status string",
    "rows_read": "rows_read bigint",
    "rows_loaded": "rows_loaded bigint",
    "rows_quarantined": "rows_quarantined bigint",
    "run_id": "run_id string",
    "message": "message string",
    "recorded_at": "recorded_at timestamp",
    "rows_rescued": "rows_rescued bigint",
}
_DDL = ", ".join(_COLUMNS.values())


@dataclass(frozen=True)
class LedgerEntry:
    """One attempt at one file; field order is the table's column order."""

    table_name: str
    file_path: str
    file_size: int
    file_modified_at: dt.datetime
    content_sha256: str
    file_format: str
    status: FileStatus
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    run_id: str
    message: str
    recorded_at: dt.datetime
    rows_rescued: int


@dataclass
class LedgerState:
    """What the ledger knows of one table's files."""

    done: set[tuple[str, int, dt.datetime]] = field(default_factory=set)
    loaded_hashes: dict[str, str] = field(default_factory=dict)  # sha256 -> first path
    last_hash_by_path: dict[str, str] = field(default_factory=dict)
    failed_attempts: dict[tuple[str, int, dt.datetime], int] = field(default_factory=dict)

    def pending(self, files: Sequence[DeliveredFile]) -> list[DeliveredFile]:
        return [f for f in files if f.identity not in self.done]

    def loaded(self, sha256: str, path: str) -> None:
        """Count a file this run loaded, for the duplicate check of the files after it."""
        self.loaded_hashes.setdefault(sha256, path)
        self.last_hash_by_path[path] = sha256


class Ledger:
    """The ledger table of one catalog."""

    def __init__(self, spark: SparkSession, names: Names) -> None:
        self.spark = spark
        self.address = names.address(*LEDGER_TABLE)

    def ensure(self) -> None:
        """Create the table, or give it the columns and properties it lacks."""
        name = self.address.name
        comment = "One row per attempt to load a delivered file: exactly-once bookkeeping."
        if not create_or_update_table(self.spark, name, _DDL, comment, BOOKKEEPING_TABLE):
            add_missing_columns(self.spark, name, _COLUMNS)

    def state(self, table_name: str) -> LedgerState:
        state = LedgerState()
        if not self.spark.catalog.tableExists(self.address.name):
            return state
        rows = (
            self.spark.table(self.address.name)
            .where(F.col("table_name") == table_name)
            .select(
                "file_path",
                "file_size",
                "file_modified_at",
                "content_sha256",
                "status",
                "recorded_at",
            )
            .collect()
        )
        # In the order they were recorded (sorted here: one table's rows are few, and a sort
        # in Spark is a shuffle stage of its own).
        for row in sorted(rows, key=lambda r: r.recorded_at):
            identity = (row.file_path, row.file_size, row.file_modified_at)
            if row.status in _DONE:
                state.done.add(identity)
            else:
                state.failed_attempts[identity] = state.failed_attempts.get(identity, 0) + 1
            if row.status == "loaded":
                state.loaded(row.content_sha256, row.file_path)
        return state

    def record(self, entries: Sequence[LedgerEntry]) -> None:
        """Append the entries in one commit."""
        if entries:
            append(rows_frame(self.spark, [astuple(e) for e in entries], _DDL), self.address)
