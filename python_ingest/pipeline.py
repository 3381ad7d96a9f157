"""The ingestion pipeline: every delivered file loaded into bronze exactly once, nothing lost.

Per table: discover the delivered files, compare them with the ledger, then for each pending
file, oldest first and one at a time: fingerprint it (one pass over its bytes: hash, text check,
JSON key census), plan its read, append its rows to bronze in one idempotent Delta commit, write
its quarantined records, and record the outcome in the ledger. The commit's transaction id is
derived from the file's content hash, so a run killed between the data commit and the ledger
entry is completed by the next run without loading the file twice. For every file: rows read =
rows loaded + rows quarantined.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pyspark.sql import Observation
from pyspark.sql import functions as F

from python_ingest.bronze import METADATA_COLUMNS, RESCUED_DATA, BronzeTables
from python_ingest.census import KeyCensus
from python_ingest.delta_io import idempotent_append, table_version
from python_ingest.discovery import DeliveredFile, check_landing_dirs, discover_files, landing_dir
from python_ingest.errors import DataError
from python_ingest.faults import crash_during_write, crash_point
from python_ingest.fingerprint import Fingerprint, fingerprint
from python_ingest.json_keys import json_keys
from python_ingest.ledger import FileStatus, Ledger, LedgerEntry, LedgerState
from python_ingest.logs import PipelineLogger
from python_ingest.quarantine import RunStamp, write_quarantine
from python_ingest.readers import ParsedFile, read_delivered_file
from python_ingest.readers.names import delivered_schema

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from python_ingest.contract import FileFormat, TableContract
    from python_ingest.naming import Names

__all__ = ["FileOutcome", "IngestRun", "TableResult", "new_run_id", "run_ingest"]

_log = logging.getLogger(__name__)


def new_run_id() -> str:
    """Sortable, unique run id: UTC timestamp plus a random suffix."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


@dataclass
class FileOutcome:
    path: Path
    status: FileStatus
    sha256: str = ""
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_rescued: int = 0
    message: str = ""
    duration_ms: int = 0


Count = Literal["rows_read", "rows_loaded", "rows_quarantined", "rows_rescued"]


@dataclass
class TableResult:
    table: str
    files_seen: int = 0
    files_skipped: int = 0
    outcomes: list[FileOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def total(self, count: Count) -> int:
        return int(sum(getattr(o, count) for o in self.outcomes))


@dataclass(frozen=True)
class IngestRun:
    """One ingestion run: its session, catalog, target and stamp."""

    spark: SparkSession
    names: Names
    target: str
    stamp: RunStamp

    @classmethod
    def start(cls, spark: SparkSession, names: Names, target: str, run_id: str) -> IngestRun:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        return cls(spark, names, target, RunStamp(run_id, now))


def run_ingest(run: IngestRun, contracts: Sequence[TableContract]) -> list[TableResult]:
    """Ingest every contract's pending files; one logger per table, its records (discover,
    each file, the summary) committed in one batch when the table is done."""
    check_landing_dirs(run.names, contracts)
    ledger = Ledger(run.spark, run.names)
    results: list[TableResult] = []
    for contract in contracts:
        logger = PipelineLogger(
            domain=contract.domain,
            process="ingest",
            run_id=run.stamp.run_id,
            target=run.target,
            names=run.names,
            spark=run.spark,
        )
        try:
            result = _TableIngest(run, contract, ledger, logger).run()
            logger.log(
                "summary",
                "error" if result.failed else "ok",
                f"{result.table}: {len(result.outcomes)} new file(s), "
                f"{len(result.failed)} failed, {result.files_skipped} already ingested",
                table_name=result.table,
                rows_read=result.total("rows_read"),
                rows_loaded=result.total("rows_loaded"),
                rows_quarantined=result.total("rows_quarantined"),
                rows_rescued=result.total("rows_rescued"),
            )
            results.append(result)
        finally:
            logger.flush()
    return results


def _plain_failure(err: Exception) -> str:
    """A failure's cause for the ledger: our own errors say it in words; anything else (a
    Spark or Java error) is named by its class, its detail goes to the debug log."""
    if isinstance(err, DataError):
        return str(err)
    return (
        f"the load stopped with an unexpected {type(err).__name__}; nothing was committed for "
        "this file. Run `data-ops ingest -v` to see the engine's detail, fix the cause, and the "
        "next run tries the file again"
    )


class _TableIngest:
    """The pending files of one table, loaded one after the other."""

    def __init__(
        self, run: IngestRun, contract: TableContract, ledger: Ledger, logger: PipelineLogger
    ) -> None:
        self.run_ = run
        self.spark = run.spark
        self.contract = contract
        self.ledger = ledger
        self.logger = logger
        self.tables = BronzeTables(contract, run.names)
        self.version = -1

    def run(self) -> TableResult:
        started = time.monotonic()
        landing = landing_dir(self.run_.names, self.contract)
        table = self.tables.bronze.name
        state = self.ledger.state(table)
        files = discover_files(landing)
        pending = state.pending(files)
        result = TableResult(table, files_seen=len(files), files_skipped=len(files) - len(pending))
        retried = sum(1 for f in pending if f.identity in state.failed_attempts)
        self.logger.log(
            "discover",
            "ok",
            f"{len(files)} delivered file(s) in {landing}, {len(pending)} to load"
            + (f" ({retried} that failed before, tried again)" if retried else ""),
            table_name=table,
            duration_ms=int((time.monotonic() - started) * 1000),
            files_seen=len(files),
            files_new=len(pending),
        )
        if not pending:
            return result  # nothing to write: no table check, no data commit
        self.tables.ensure(self.spark)
        self.ledger.ensure()
        self.version = table_version(self.spark, self.tables.bronze)
        for index, file in enumerate(pending, start=1):
            self.logger.announce(
                "file_started",
                f"[{index}/{len(pending)}] {file.path.name}: loading",
                table=table,
                file=file.path.name,
                size=file.size,
            )
            outcome = self._ingest_file(file, state)
            crash_point("before_ledger_commit")
            self.ledger.record([self._entry(file, outcome)])
            result.outcomes.append(outcome)
            self.logger.log(
                "load_file",
                "error" if outcome.status == "failed" else "ok",
                f"[{index}/{len(pending)}] {file.path.name}: {outcome.status}"
                + (f" - {outcome.message}" if outcome.message else ""),
                table_name=table,
                data_file=str(file.path),
                rows_read=outcome.rows_read,
                rows_loaded=outcome.rows_loaded,
                rows_quarantined=outcome.rows_quarantined,
                rows_rescued=outcome.rows_rescued,
                duration_ms=outcome.duration_ms,
                file_status=outcome.status,
                file_size=file.size,
            )
        return result

    def _entry(self, file: DeliveredFile, outcome: FileOutcome) -> LedgerEntry:
        return LedgerEntry(
            table_name=self.tables.bronze.name,
            file_path=str(file.path),
            file_size=file.size,
            file_modified_at=file.modified_at,
            content_sha256=outcome.sha256,
            file_format=file.fmt or "unknown",
            status=outcome.status,
            rows_read=outcome.rows_read,
            rows_loaded=outcome.rows_loaded,
            rows_quarantined=outcome.rows_quarantined,
            run_id=self.run_.stamp.run_id,
            message=outcome.message,
            recorded_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
            rows_rescued=outcome.rows_rescued,
        )

    def _ingest_file(self, file: DeliveredFile, state: LedgerState) -> FileOutcome:
        started = time.monotonic()
        contract = self.contract
        fmt = file.fmt
        utf8 = _reads_utf8(contract, fmt)
        schema = delivered_schema(contract)
        census = KeyCensus(schema, contract.spark_schema) if fmt == "json" and utf8 else None
        found = fingerprint(file.path, check_utf8=utf8, census=census)
        outcome = FileOutcome(path=file.path, status="failed", sha256=found.sha256)
        previous = state.last_hash_by_path.get(str(file.path), "")
        if found.sha256 in state.loaded_hashes:
            outcome.status = "duplicate"
            outcome.message = (
                f"same bytes as {state.loaded_hashes[found.sha256]} (sha256 "
                f"{found.sha256[:12]}...), already loaded; not loaded again"
            )
        elif fmt is None or fmt not in contract.ingestion.formats:
            outcome.message = (
                f"{file.path}: file type {file.path.suffix!r} is not one of the table's formats "
                f"{list(contract.ingestion.formats)}; deliver .csv/.json/.jsonl/.parquet as "
                f"declared, or add the format to ingestion.formats in {contract.path}"
            )
        elif file.size == 0:
            outcome.message = f"{file.path}: empty file (0 bytes); re-deliver it with its content"
        elif found.not_text is not None:
            outcome.message = f"{file.path}: {found.not_text}"
        else:
            try:
                self._load(file, found, census, outcome)
            except Exception as err:  # noqa: BLE001 - one bad file must not stop the run
                _log.debug("loading %s failed", file.path, exc_info=err)
                outcome.status = "failed"
                outcome.message = _plain_failure(err)
            else:
                state.loaded(found.sha256, str(file.path))
                if previous not in ("", found.sha256):
                    outcome.message = "; ".join(
                        m
                        for m in (
                            f"changed file at a known path (previous sha256 {previous[:12]}...):"
                            " loaded as a new delivery",
                            outcome.message,
                        )
                        if m
                    )
        outcome.duration_ms = int((time.monotonic() - started) * 1000)
        return outcome

    def _load(
        self,
        file: DeliveredFile,
        found: Fingerprint,
        census: KeyCensus | None,
        outcome: FileOutcome,
    ) -> None:
        assert file.fmt is not None
        keys = json_keys(file.path, self.contract, found, census)
        parsed = read_delivered_file(
            self.spark,
            file.path,
            file.fmt,
            self.contract,
            keys_checked=keys.checked,
            damaged_text=bool(found.invalid_lines),
            json_schema=keys.schema,
        )
        app_id = f"data-ops:{self.tables.bronze.name}:{found.sha256}"
        committed = self._append(file, parsed, app_id, outcome)
        notes = list(parsed.notes)
        if not committed:
            notes.insert(0, "already committed by an earlier, interrupted run; ledger completed")
        if keys.note:
            notes.append(keys.note)
        outcome.message = "; ".join(n for n in notes if n)
        if outcome.rows_quarantined:
            write_quarantine(
                self.spark,
                parsed.df,
                file,
                self.contract,
                self.tables.quarantine,
                self.run_.stamp,
                app_id,
            )
        outcome.status = "loaded"
        crash_point("after_data_commit")

    def _append(
        self, file: DeliveredFile, parsed: ParsedFile, app_id: str, outcome: FileOutcome
    ) -> bool:
        """Append the file's good rows in one idempotent commit and count its rows; False when
        Delta skipped it (an interrupted earlier run committed these bytes)."""
        stamp = self.run_.stamp
        quarantined = F.col("_quarantine_reason").isNotNull()
        counts = Observation(f"ingest-{uuid.uuid4().hex}")
        observed = parsed.df.observe(
            counts,
            F.count(F.lit(1)).alias("read"),
            F.count_if(quarantined).alias("quarantined"),
            F.count_if(~quarantined & F.col(RESCUED_DATA).isNotNull()).alias("rescued"),
        )
        meta = {
            "_source_file": F.lit(str(file.path)),
            "_source_file_modified_at": F.lit(file.modified_at).cast("timestamp"),
            "_ingested_at": F.lit(stamp.ingested_at).cast("timestamp"),
            "_ingest_run_id": F.lit(stamp.run_id),
            RESCUED_DATA: F.col(RESCUED_DATA),
        }
        assert list(meta) == [c.name for c in METADATA_COLUMNS]
        good = observed.where(~quarantined).select(
            *self.contract.column_names, *[value.alias(name) for name, value in meta.items()]
        )
        crash_during_write("during_data_write", self.tables.bronze.path)
        result = idempotent_append(good, self.tables.bronze, app_id, self.version)
        self.version = result.version
        if result.committed:
            metrics = counts.get
        else:
            row = parsed.df.agg(
                F.count(F.lit(1)).alias("read"),
                F.count_if(quarantined).alias("quarantined"),
                F.count_if(~quarantined & F.col(RESCUED_DATA).isNotNull()).alias("rescued"),
            ).first()
            assert row is not None
            metrics = row.asDict()
        outcome.rows_read = int(metrics["read"])
        outcome.rows_quarantined = int(metrics["quarantined"])
        outcome.rows_loaded = outcome.rows_read - outcome.rows_quarantined
        outcome.rows_rescued = int(metrics["rescued"])
        return result.committed


def _reads_utf8(contract: TableContract, fmt: FileFormat | None) -> bool:
    """Whether the contract reads ``fmt`` files as UTF-8 text (checked before the load)."""
    if fmt not in ("csv", "json"):
        return False
    options = contract.options_for(fmt)
    encoding = options.get("encoding", options.get("charset", "UTF-8"))
    return encoding.replace("-", "").upper() == "UTF8"
