"""Structured pipeline logs: JSON lines on stdout and, batched, a Delta table.

``get_logger(domain=..., process=...)`` returns a logger whose calls take ``step``, ``status``
and ``message``; date, time, user and the calling source file are filled in. Records go through
the standard ``logging`` module (the CLI attaches a JSON-lines handler to stdout) and are kept
in a buffer that ``flush()`` appends to ``<catalog>.gold.pipeline_logs`` in one Delta commit,
so a run costs one commit per step, never one per line.
"""

from __future__ import annotations

import datetime as dt
import getpass
import inspect
import json
import logging
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from python_ingest.delta_io import (
    BOOKKEEPING_TABLE,
    add_missing_columns,
    append,
    create_or_update_table,
    rows_frame,
)
from python_ingest.naming import Names, TableAddress

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = [
    "LOG_TABLE",
    "JsonLinesFormatter",
    "LogRecord",
    "PipelineLogger",
    "get_logger",
    "log_table_schema",
]

LOG_TABLE = ("gold", "pipeline_logs")
Status = Literal["start", "ok", "warning", "error", "skipped", "info"]
_LEVELS = {"error": logging.ERROR, "warning": logging.WARNING}
_logger = logging.getLogger("python_ingest.pipeline")


@dataclass(frozen=True)
class LogRecord:
    """One pipeline log line; field order is the table's column order."""

    run_id: str
    logged_at: dt.datetime
    date: str
    time: str
    user: str
    source_file: str
    domain: str
    process: str
    step: str
    status: str
    message: str
    target: str
    catalog: str
    table_name: str | None = None
    data_file: str | None = None
    rows_read: int | None = None
    rows_loaded: int | None = None
    rows_quarantined: int | None = None
    duration_ms: int | None = None
    extra: str | None = None
    rows_rescued: int | None = None

    def to_json(self) -> str:
        payload = asdict(self)
        payload["logged_at"] = self.logged_at.isoformat()
        return json.dumps({k: v for k, v in payload.items() if v is not None}, default=str)


def log_table_schema() -> str:
    """DDL column list of the Delta log table."""
    return (
        "run_id string, logged_at timestamp, date string, time string, user string, "
        "source_file string, domain string, process string, step string, status string, "
        "message string, target string, catalog string, table_name string, data_file string, "
        "rows_read bigint, rows_loaded bigint, rows_quarantined bigint, duration_ms bigint, "
        "extra string, rows_rescued bigint"
    )


def _caller_file() -> str:
    """The first source file outside this module on the stack: who is logging."""
    this = Path(__file__).resolve()
    for frame in inspect.stack()[2:]:
        path = Path(frame.filename)
        if path.resolve() != this:
            return path.name
    return "unknown"


def _user() -> str:
    try:
        return os.environ.get("DATABRICKS_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class JsonLinesFormatter(logging.Formatter):
    """Formats pipeline records as their JSON line; other records as a compact JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        pipeline = getattr(record, "pipeline_record", None)
        if isinstance(pipeline, LogRecord):
            return pipeline.to_json()
        return json.dumps(
            {"logger": record.name, "level": record.levelname, "message": record.getMessage()}
        )


@dataclass
class PipelineLogger:
    """Logger for one run of one process; thread-safe buffer, explicit ``flush``."""

    domain: str
    process: str
    run_id: str
    target: str
    names: Names
    spark: SparkSession | None = None
    buffer: list[LogRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def log(
        self,
        step: str,
        status: Status,
        message: str,
        *,
        table_name: str | None = None,
        data_file: str | None = None,
        rows_read: int | None = None,
        rows_loaded: int | None = None,
        rows_quarantined: int | None = None,
        rows_rescued: int | None = None,
        duration_ms: int | None = None,
        **extra: Any,
    ) -> LogRecord:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        record = LogRecord(
            run_id=self.run_id,
            logged_at=now,
            date=now.date().isoformat(),
            time=now.time().isoformat(timespec="milliseconds"),
            user=_user(),
            source_file=_caller_file(),
            domain=self.domain,
            process=self.process,
            step=step,
            status=status,
            message=message,
            target=self.target,
            catalog=self.names.catalog,
            table_name=table_name,
            data_file=data_file,
            rows_read=rows_read,
            rows_loaded=rows_loaded,
            rows_quarantined=rows_quarantined,
            duration_ms=duration_ms,
            extra=json.dumps(extra, default=str, sort_keys=True) if extra else None,
            rows_rescued=rows_rescued,
        )
        with self._lock:
            self.buffer.append(record)
        _logger.log(_LEVELS.get(status, logging.INFO), message, extra={"pipeline_record": record})
        return record

    def announce(self, event: str, message: str, **fields: Any) -> None:
        """A progress event for a terminal (a file starts loading): logged, not stored."""
        _logger.info(message, extra={"pipeline_event": {"event": event, **fields}})

    def info(self, step: str, message: str, **kwargs: Any) -> LogRecord:
        return self.log(step, "info", message, **kwargs)

    def error(self, step: str, message: str, **kwargs: Any) -> LogRecord:
        return self.log(step, "error", message, **kwargs)

    def flush(self) -> int:
        """Append buffered records to the Delta log table in one commit; returns the count."""
        with self._lock:
            records, self.buffer = self.buffer, []
        if not records or self.spark is None:
            return 0
        write_log_records(self.spark, self.names, records)
        return len(records)


def ensure_log_table(spark: SparkSession, names: Names) -> TableAddress:
    """Create ``gold.pipeline_logs`` or give it the columns and properties it lacks."""
    address = names.address(*LOG_TABLE)
    spark.sql(f"create schema if not exists {names.schema(LOG_TABLE[0])}")
    columns = {c.split()[0]: c for c in log_table_schema().split(", ")}
    if not create_or_update_table(
        spark,
        address.name,
        log_table_schema(),
        "Structured pipeline logs of data-ops runs (ingestion, dbt), one row per step.",
        BOOKKEEPING_TABLE,
    ):
        add_missing_columns(spark, address.name, columns)
    return address


def write_log_records(spark: SparkSession, names: Names, records: list[LogRecord]) -> None:
    address = ensure_log_table(spark, names)
    rows = [tuple(asdict(r).values()) for r in records]
    append(rows_frame(spark, rows, log_table_schema()), address)


def get_logger(
    *,
    domain: str,
    process: str,
    run_id: str,
    target: str,
    names: Names,
    spark: SparkSession | None = None,
) -> PipelineLogger:
    """A pipeline logger; pass ``spark`` to have ``flush()`` persist records to Delta."""
    return PipelineLogger(
        domain=domain, process=process, run_id=run_id, target=target, names=names, spark=spark
    )
