"""Contract-driven bronze ingestion: every delivered file loaded exactly once, nothing lost.

Per table: discover delivered files, compare them with the ingestion ledger (a Delta table),
fingerprint the new ones (size, mtime, SHA-256), and load each new file in its own Delta commit
made idempotent with ``txnAppId``/``txnVersion``. The appId is derived from the file's content
hash, so a run killed between the data commit and the ledger commit re-writes the file on the
next run, Delta recognises the transaction and skips it, and the ledger is completed. Rows that
cannot enter bronze go to ``<table>_quarantine`` with their raw text; whole files that cannot be
read are recorded as failed. For every file: rows read = rows loaded + rows quarantined.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pyspark.sql import Observation
from pyspark.sql import functions as F

from python_ingest.census import FileCensus, KeyCensus
from python_ingest.contract import FileFormat, TableContract, format_for_file
from python_ingest.delta_io import (
    BOOKKEEPING_TABLE,
    append,
    create_or_update_table,
    prepare_idempotent_append,
    recent_commits,
    rows_frame,
    sql_string,
)
from python_ingest.errors import ConfigError, ContractError
from python_ingest.faults import crash_during_spark_job, crash_point
from python_ingest.fingerprint import Fingerprint, fingerprint
from python_ingest.gate import CommitGate, GateRefusedError, gate_supported
from python_ingest.logs import PipelineLogger
from python_ingest.naming import Names
from python_ingest.readers import (
    ParsedFile,
    UnreadableFileError,
    locate_csv_records,
    read_delivered_file,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = [
    "LEDGER_TABLE",
    "QUARANTINE_STATS_COLUMNS",
    "STATS_COLUMNS",
    "STATS_PROPERTY",
    "DeliveredFile",
    "FileOutcome",
    "Ingestor",
    "TableResult",
    "check_landing_dirs",
    "discover_files",
    "is_delivered",
    "landing_dir",
    "new_run_id",
]

LEDGER_TABLE = ("bronze", "ingest_ledger")
LANDING_VOLUME = ("bronze", "external")
_QUARANTINE_LINE_LOOKUP_LIMIT = 100_000
# Commits searched for this attempt's marker; others committing to the same bronze table in
# between are rare (one ingestion per catalog at a time locally, one job run per domain).
_HISTORY_DEPTH = 50
FileStatus = Literal["loaded", "duplicate", "failed"]

_LEDGER_SCHEMA = (
    "table_name string, file_path string, file_size bigint, file_modified_at timestamp, "
    "content_sha256 string, file_format string, status string, rows_read bigint, "
    "rows_loaded bigint, rows_quarantined bigint, run_id string, message string, "
    "recorded_at timestamp"
)
# Delta collects min/max statistics in its transaction log (plain JSON) for the first 32
# columns by default. Bronze and quarantine rows are raw PHI, so statistics are limited to the
# ingestion columns (which incremental silver models filter on): no member data in the log,
# and less work per written row.
STATS_COLUMNS = "_source_file,_source_file_modified_at,_ingested_at,_ingest_run_id"
STATS_PROPERTY = "delta.dataSkippingStatsColumns"
QUARANTINE_STATS_COLUMNS = "_source_file,_ingested_at,_ingest_run_id"
_QUARANTINE_SCHEMA = (
    "_source_file string, _source_file_modified_at timestamp, _line_number bigint, "
    "_record_offset bigint, _quarantine_reason string, _raw_record string, "
    "_ingested_at timestamp, _ingest_run_id string"
)


# A file's read plan, or the error planning it raised.
_Plan = tuple[ParsedFile | None, Exception | None]
# A file whose read is planned already, with its plan.
_Planned = tuple["DeliveredFile", _Plan]


def new_run_id() -> str:
    """Sortable, unique run id: UTC timestamp plus a random suffix."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class DeliveredFile:
    path: Path
    size: int
    modified_at: dt.datetime
    fmt: FileFormat | None

    @property
    def identity(self) -> tuple[str, int, dt.datetime]:
        return (str(self.path), self.size, self.modified_at)


@dataclass
class FileOutcome:
    path: Path
    status: FileStatus
    sha256: str = ""
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    message: str = ""
    duration_ms: int = 0


@dataclass
class TableResult:
    table: str
    files_seen: int = 0
    files_skipped: int = 0
    outcomes: list[FileOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def total(self, attr: Literal["rows_read", "rows_loaded", "rows_quarantined"]) -> int:
        return sum(getattr(o, attr) for o in self.outcomes)


def landing_dir(names: Names, contract: TableContract) -> Path:
    """Landing folder of a table: a folder of the bronze ``external`` volume."""
    return names.volume_dir(*LANDING_VOLUME) / contract.ingestion.landing_folder


def check_landing_dirs(names: Names, contracts: Sequence[TableContract]) -> None:
    """Fail before any write when a contract's landing folder is missing."""
    for contract in contracts:
        landing = landing_dir(names, contract)
        if not landing.is_dir():
            raise ConfigError(
                f"landing folder {str(landing)!r} of {contract.domain}.{contract.table} does "
                "not exist; create it (or deliver files into it), or fix "
                f"ingestion.landing_folder in {contract.path}"
            )


def is_delivered(relative: Path) -> bool:
    """False for files still being written or hidden: ``_x``, ``.x``, ``*.tmp``, ``*.partial``."""
    if any(part.startswith(("_", ".")) for part in relative.parts):
        return False
    return not relative.name.endswith((".tmp", ".partial"))


def discover_files(landing: Path) -> list[DeliveredFile]:
    """Delivered files under the landing folder (subfolders included), oldest first."""
    found: list[DeliveredFile] = []
    for path in landing.rglob("*"):
        if not path.is_file() or not is_delivered(path.relative_to(landing)):
            continue
        stat = path.stat()
        modified = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).replace(tzinfo=None)
        found.append(DeliveredFile(path, stat.st_size, modified, format_for_file(path)))
    return sorted(found, key=lambda f: (f.modified_at, str(f.path)))


def _line_numbers(path: Path, raw_records: Sequence[str | None]) -> list[int | None]:
    """1-based line of each raw JSON record (one per line; first unclaimed occurrence)."""
    wanted: dict[str, list[int]] = {}
    for i, raw in enumerate(raw_records):
        if raw:
            wanted.setdefault(raw.rstrip("\r\n"), []).append(i)
    result: list[int | None] = [None] * len(raw_records)
    with path.open("r", encoding="utf-8", errors="replace", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            if not wanted:
                break
            slots = wanted.get(line.rstrip("\r\n"))
            if slots:
                result[slots.pop(0)] = number
                if not slots:
                    del wanted[line.rstrip("\r\n")]
    return result


def _census_note(problem: str) -> str:
    """The key census' finding worth telling: the first undeclared key, e.g. a new field."""
    found = re.match(
        r"line (\d+): Object contains unknown field `([^`]*)`(?: - at `\$([^`]*)`)?$", problem
    )
    if found is None:
        return ""
    line, key, where = found.groups()
    return (
        f"undeclared key {key!r} (line {line}, ${where or ''}; the first found) kept in "
        "_rescued_data: declare it in the contract to load it as a column"
    )


def _utf8(contract: TableContract, fmt: FileFormat) -> bool:
    """Whether the contract reads ``fmt`` files as UTF-8 (checked before the load)."""
    encoding = contract.options_for(fmt).get("encoding", "UTF-8")
    return encoding.replace("-", "").upper() == "UTF8"


def _ran(observation: Observation) -> bool:
    """Whether the query carrying ``observation`` ran (its metrics arrived).

    After an idempotent append returned, that proves its commit: Delta skips the query of an
    append whose transaction was committed before, and a commit that fails raises. PySpark's
    classic ``Observation`` completes when the query ends, before the write returns; where
    it cannot be asked without waiting (another client), the answer is False and the caller
    reads the table's history instead.
    """
    jvm_observation = getattr(observation, "_jo", None)
    if jvm_observation is None:
        return False
    try:
        return bool(jvm_observation.future().isCompleted())
    except Exception:  # noqa: BLE001 - only a shortcut: the history answers instead
        return False


def _failure_message(path: Path, err: Exception | None) -> str:
    """Why a file failed: an unreadable file's own message, else the error's first line."""
    if isinstance(err, UnreadableFileError):
        return str(err)
    first = str(err).splitlines()[0][:500] if str(err) else type(err).__name__
    return f"{path}: load failed: {first}"


class Ingestor:
    """Loads the delivered files of bronze tables for one catalog within one run."""

    # Bytes of a JSON file's key census read before its write (where the rest runs beside the
    # write): a whole file this small, or a drifted file's first records.
    census_head_bytes = 8 << 20

    def __init__(
        self,
        spark: SparkSession,
        names: Names,
        logger: PipelineLogger,
        *,
        retry_failed: bool = False,
    ) -> None:
        self.spark = spark
        self.names = names
        self.logger = logger
        self.run_id = logger.run_id
        self.retry_failed = retry_failed
        self.ingested_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        self.ledger_table = names.table(*LEDGER_TABLE)
        # The JSON key census runs beside the data write (its commit held until the census is
        # clean) where the executors share the driver's file system; else before the write.
        self.census_beside_write = gate_supported(spark)

    # -- tables -------------------------------------------------------------------------------

    def landing_dir(self, contract: TableContract) -> Path:
        return landing_dir(self.names, contract)

    def bronze_table(self, contract: TableContract) -> str:
        return self.names.table(contract.schema_name, contract.table)

    def quarantine_table(self, contract: TableContract) -> str:
        return self.names.table(contract.schema_name, f"{contract.table}_quarantine")

    def ensure_data_tables(self, contract: TableContract) -> None:
        """Create the bronze and quarantine tables; add newly declared columns to bronze."""
        self.spark.sql(f"create schema if not exists {self.names.schema(contract.schema_name)}")
        table = self.bronze_table(contract)
        columns = [
            f"`{c.name}` {c.data_type} comment {sql_string(c.description)}"
            for c in contract.columns
        ] + [
            "`_source_file` string comment 'Path of the delivered file this row came from.'",
            "`_source_file_modified_at` timestamp comment 'Modification time of that file.'",
            "`_ingested_at` timestamp comment 'UTC time of the ingestion run.'",
            "`_ingest_run_id` string comment 'Id of the ingestion run (joins pipeline_logs).'",
            "`_rescued_data` string comment 'JSON of values that did not fit the contract.'",
        ]
        stats = {STATS_PROPERTY: STATS_COLUMNS}
        if not create_or_update_table(
            self.spark, table, ", ".join(columns), contract.description, stats
        ):
            existing = {f.name: f.dataType for f in self.spark.table(table).schema.fields}
            added = [c for c in contract.columns if c.name not in existing]
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
            if added:
                ddl = ", ".join(f"`{c.name}` {c.data_type}" for c in added)
                self.spark.sql(f"alter table {table} add columns ({ddl})")
        create_or_update_table(
            self.spark,
            self.quarantine_table(contract),
            _QUARANTINE_SCHEMA,
            f"Rows of {contract.table} files that could not enter bronze.",
            {STATS_PROPERTY: QUARANTINE_STATS_COLUMNS},
        )

    def ensure_ledger(self) -> None:
        """Create the ingestion ledger, or give it the properties it lacks."""
        create_or_update_table(
            self.spark,
            self.ledger_table,
            _LEDGER_SCHEMA,
            "One row per delivered file and outcome: exactly-once bookkeeping.",
            BOOKKEEPING_TABLE,
        )

    # -- ledger -------------------------------------------------------------------------------

    def _ledger_state(
        self, contract: TableContract
    ) -> tuple[set[tuple[str, int, dt.datetime]], dict[str, str], dict[str, str]]:
        """Processed file identities, loaded content hashes, and the last hash per path."""
        seen: set[tuple[str, int, dt.datetime]] = set()
        loaded_hashes: dict[str, str] = {}
        last_hash_by_path: dict[str, str] = {}
        if not self.spark.catalog.tableExists(self.ledger_table):
            return seen, loaded_hashes, last_hash_by_path
        rows = (
            self.spark.table(self.ledger_table)
            .where(F.col("table_name") == self.bronze_table(contract))
            .select("file_path", "file_size", "file_modified_at", "content_sha256", "status")
            .collect()
        )
        for row in rows:
            if row.status != "failed" or not self.retry_failed:
                seen.add((row.file_path, row.file_size, row.file_modified_at))
            if row.status == "loaded":
                loaded_hashes.setdefault(row.content_sha256, row.file_path)
                last_hash_by_path[row.file_path] = row.content_sha256
        return seen, loaded_hashes, last_hash_by_path

    def _record(
        self, contract: TableContract, file: DeliveredFile, fmt: str, outcome: FileOutcome
    ) -> None:
        row = (
            self.bronze_table(contract),
            str(file.path),
            file.size,
            file.modified_at,
            outcome.sha256,
            fmt,
            outcome.status,
            outcome.rows_read,
            outcome.rows_loaded,
            outcome.rows_quarantined,
            self.run_id,
            outcome.message,
            dt.datetime.now(dt.UTC).replace(tzinfo=None),
        )
        app_id = (
            "data-ops-ledger:"
            + hashlib.sha256(repr((row[0], row[1], row[2], row[3], row[4])).encode()).hexdigest()
        )
        append(
            rows_frame(self.spark, [row], _LEDGER_SCHEMA),
            self.ledger_table,
            {"txnAppId": app_id, "txnVersion": "1"},
        )

    # -- loading ------------------------------------------------------------------------------

    def ingest_table(self, contract: TableContract) -> TableResult:
        table = self.bronze_table(contract)
        landing = self.landing_dir(contract)
        check_landing_dirs(self.names, [contract])
        started = time.monotonic()
        # Files are fingerprinted on a worker thread, one ahead: the next while this one
        # loads (and the newest while the ledger is read, below). A file's ledger entry is
        # committed on another worker thread, after its data commit, while this thread goes on
        # with the next file (or the log commit): Spark runs both.
        hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fingerprint")
        ledger_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger")
        guessed = threading.Event()
        fingerprints: dict[DeliveredFile, Future[Fingerprint]] = {}
        entries: list[Future[None]] = []
        try:
            tables: Future[None] | None = None
            planned: _Planned | None = None
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-read") as reader:
                ledger_state = reader.submit(self._ledger_state, contract)
                files = discover_files(landing)
                if files and self._delivered_since_last_load(contract, files[-1]):
                    # The newest file arrived after bronze's last commit, so it is most likely
                    # new: its load is prepared while the ledger is read (its fingerprint; the
                    # table checks and bronze's state on the ledger thread; its read plan
                    # here). Only the ledger decides what is loaded: a wrong guess costs this
                    # work (the fingerprint is stopped), nothing else.
                    fingerprints[files[-1]] = hasher.submit(
                        self._fingerprint, contract, files[-1], guessed
                    )
                    tables, ledger_checked = self._prepare_tables(ledger_writer, contract)
                    entries.append(ledger_checked)
                    if self._readable(contract, files[-1]):
                        planned = (files[-1], self._plan_for(contract, files[-1]))
                seen, loaded_hashes, last_hash_by_path = ledger_state.result()
            pending = [f for f in files if f.identity not in seen]
            if files and files[-1] not in pending:
                guessed.set()  # the newest file was loaded before: stop its fingerprint
            result = TableResult(
                table=table, files_seen=len(files), files_skipped=len(files) - len(pending)
            )
            self.logger.log(
                "discover",
                "ok",
                f"{len(files)} delivered file(s) in {landing}, {len(pending)} new",
                table_name=table,
                duration_ms=int((time.monotonic() - started) * 1000),
                files_seen=len(files),
                files_new=len(pending),
            )
            if not pending:
                return result  # nothing to write: no data or log commit here
            if tables is None:
                tables, ledger_checked = self._prepare_tables(ledger_writer, contract)
                entries.append(ledger_checked)
            self._load_pending(
                contract,
                pending,
                result,
                (loaded_hashes, last_hash_by_path),
                (hasher, fingerprints, planned),
                (ledger_writer, entries, tables),
            )
            self.logger.flush()  # one log commit per table: its discover and load_file records
        finally:
            guessed.set()
            hasher.shutdown(wait=True, cancel_futures=True)
            ledger_writer.shutdown(wait=True)
        for entry in entries:
            entry.result()  # a failed ledger check or commit fails the run
        return result

    def _load_pending(
        self,
        contract: TableContract,
        pending: list[DeliveredFile],
        result: TableResult,
        hashes: tuple[dict[str, str], dict[str, str]],
        prepared: tuple[
            ThreadPoolExecutor, dict[DeliveredFile, Future[Fingerprint]], _Planned | None
        ],
        ledger: tuple[ThreadPoolExecutor, list[Future[None]], Future[None]],
    ) -> None:
        """Load each pending file, fingerprinted one ahead on the hasher (``prepared``: the
        hasher, the fingerprints already started, a file whose read is planned); its entry is
        submitted to the ledger writer, which first checks the tables (``ledger``'s future:
        awaited before each file's outcome)."""
        table = result.table
        hasher, started, planned = prepared
        ledger_writer, entries, tables = ledger

        def fingerprint_of(file: DeliveredFile) -> Future[Fingerprint]:
            if file not in started:
                started[file] = hasher.submit(self._fingerprint, contract, file)
            return started[file]

        # While the data is written, the ledger thread has Delta compute the ledger's state,
        # which the ledger entry's idempotent append then finds ready.
        def warm_ledger() -> None:
            ledger_writer.submit(prepare_idempotent_append, self.spark, self.ledger_table)

        for index, file in enumerate(pending, start=1):
            current = fingerprint_of(file)
            if index < len(pending):
                fingerprint_of(pending[index])
            plan = planned[1] if planned is not None and planned[0] == file else None
            outcome = self._ingest_file(
                contract, file, (current, tables, plan), hashes, warm_ledger
            )
            entries.append(
                ledger_writer.submit(self._record, contract, file, file.fmt or "unknown", outcome)
            )
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
                duration_ms=outcome.duration_ms,
                file_status=outcome.status,
            )

    @staticmethod
    def _census_wanted(contract: TableContract, fmt: FileFormat | None) -> bool:
        """JSON in UTF-8 gets a key census: clean, Spark's reader may parse it with no
        per-record key check."""
        return fmt == "json" and _utf8(contract, fmt)

    def _fingerprint(
        self,
        contract: TableContract,
        file: DeliveredFile,
        stop: threading.Event | None = None,
    ) -> Fingerprint:
        fmt = file.fmt
        check_utf8 = fmt in ("csv", "json") and _utf8(contract, fmt)
        # Without the census beside the write, it runs in this pass over the bytes.
        census = (
            KeyCensus(contract.spark_schema)
            if self._census_wanted(contract, fmt) and not self.census_beside_write
            else None
        )
        return fingerprint(file.path, check_utf8=check_utf8, census=census, stop=stop)

    def _ingest_file(
        self,
        contract: TableContract,
        file: DeliveredFile,
        ready: tuple[Future[Fingerprint], Future[None], _Plan | None],
        hashes: tuple[dict[str, str], dict[str, str]],
        on_write: Callable[[], None],
    ) -> FileOutcome:
        """One file's outcome. ``ready``: its fingerprint, the tables' check (whose error,
        such as a changed column type, stops the run), and its read plan if made already."""
        started = time.monotonic()
        fmt = file.fmt
        loaded_hashes, last_hash_by_path = hashes
        # The read is planned while the file is hashed; its errors count only for a file that
        # is neither a duplicate nor rejected by the checks below. A JSON file is planned for
        # a clean key census (the usual outcome), and planned again if the census is not clean.
        parsed: ParsedFile | None = None
        plan_error: Exception | None = None
        census_wanted = self._census_wanted(contract, fmt)
        beside = census_wanted and self.census_beside_write
        readable = self._readable(contract, file)
        fingerprinted, tables, planned = ready
        if readable:
            parsed, plan_error = planned or self._plan_for(contract, file)
        found = fingerprinted.result()
        tables.result()
        sha, encoding_problem = found.sha256, found.encoding_problem
        recheck = census_wanted and not beside and not found.keys_checked
        if readable and recheck and not encoding_problem:
            parsed, plan_error = self._plan(contract, file, False)
        outcome = FileOutcome(path=file.path, status="failed", sha256=sha)
        previous = last_hash_by_path.get(str(file.path), "")
        changed = previous not in ("", sha)
        if sha in loaded_hashes:
            outcome.status = "duplicate"
            outcome.message = (
                f"same bytes as {loaded_hashes[sha]} (sha256 {sha[:12]}...), already loaded; "
                "not loaded again"
            )
        elif fmt is None or fmt not in contract.ingestion.formats:
            outcome.message = (
                f"file type {file.path.suffix!r} is not one of the table's formats "
                f"{list(contract.ingestion.formats)}; deliver .csv/.json/.jsonl/.parquet as "
                "declared, or add the format to the contract"
            )
        elif file.size == 0:
            outcome.message = "empty file (0 bytes); re-deliver it with its content"
        elif encoding_problem:
            outcome.message = encoding_problem
        elif parsed is None:
            outcome.message = _failure_message(file.path, plan_error)
        else:
            try:
                census_problem = found.census_problem
                if beside:
                    census_problem = self._load_beside_census(
                        contract, file, parsed, sha, outcome, on_write
                    )
                else:
                    self._load(contract, file, parsed, sha, outcome, on_write)
                if census_problem:
                    outcome.message = "; ".join(
                        m for m in (outcome.message, _census_note(census_problem)) if m
                    )
                outcome.status = "loaded"
                loaded_hashes[sha] = str(file.path)
                last_hash_by_path[str(file.path)] = sha
                if changed:
                    outcome.message = (
                        f"changed file at a known path (previous sha256 {previous[:12]}...): "
                        "loaded as a new delivery"
                    ) + (f"; {outcome.message}" if outcome.message else "")
            except Exception as err:  # noqa: BLE001 - one bad file must not stop the run
                outcome.message = _failure_message(file.path, err)
        outcome.duration_ms = int((time.monotonic() - started) * 1000)
        crash_point("before_ledger_commit")
        return outcome

    @staticmethod
    def _readable(contract: TableContract, file: DeliveredFile) -> bool:
        """Whether the file has a read plan: a declared format, and bytes."""
        return file.fmt is not None and file.fmt in contract.ingestion.formats and file.size > 0

    def _plan_for(self, contract: TableContract, file: DeliveredFile) -> _Plan:
        """The file's first read plan: for a clean key census where it gets one."""
        return self._plan(contract, file, self._census_wanted(contract, file.fmt))

    def _prepare_tables(
        self, ledger_writer: ThreadPoolExecutor, contract: TableContract
    ) -> tuple[Future[None], Future[None]]:
        """On the ledger thread: check bronze and quarantine (the first future), have Delta
        compute bronze's state for the append's transaction check, then check the ledger (the
        second future). The data write waits for the first two only; the ledger's first use
        after them (its entry, on the same thread) comes after its check."""
        tables = ledger_writer.submit(self.ensure_data_tables, contract)
        ledger_writer.submit(prepare_idempotent_append, self.spark, self.bronze_table(contract))
        return tables, ledger_writer.submit(self.ensure_ledger)

    def _delivered_since_last_load(self, contract: TableContract, file: DeliveredFile) -> bool:
        """Whether ``file`` was modified after bronze's last commit, or bronze has none yet: a
        hint that it is a new delivery, read from the local lakehouse's files (a delivery that
        kept an older time gets no hint). False on Databricks."""
        if not self.names.local:
            return False
        log = self.names.local_table_dir(contract.schema_name, contract.table) / "_delta_log"
        try:
            committed = log.stat().st_mtime
        except FileNotFoundError:
            return True  # no commit yet: whatever was delivered is new
        except OSError:
            return False
        return file.modified_at > dt.datetime.fromtimestamp(committed, dt.UTC).replace(tzinfo=None)

    def _plan(self, contract: TableContract, file: DeliveredFile, keys_checked: bool) -> _Plan:
        """The file's read plan, or the error planning it raised."""
        assert file.fmt is not None
        try:
            plan = read_delivered_file(
                self.spark, file.path, file.fmt, contract, keys_checked=keys_checked
            )
        except Exception as err:  # noqa: BLE001 - reported by the caller, in order
            return None, err
        return plan, None

    def _load_beside_census(
        self,
        contract: TableContract,
        file: DeliveredFile,
        parsed: ParsedFile,
        sha: str,
        outcome: FileOutcome,
        on_write: Callable[[], None],
    ) -> str | None:
        """Load a JSON file with the plan for a clean key census. The census reads the file's
        head (``census_head_bytes``) before the write, at full priority: a drifted file shows
        its new keys in its first records. The rest is read beside the write, whose commit
        waits for it (``CommitGate``). A census that is not clean stops the write before its
        commit; the file is then loaded with per-record key checks. Returns the census problem
        (None when clean)."""
        census = FileCensus(file.path, contract.spark_schema)
        census.read(self.census_head_bytes)

        def verdict() -> str | None:
            found = census.read()
            if found.clean:
                return None
            return found.undeclared or found.problem or "not JSON lines (a JSON array document)"

        if census.done:  # the head was the whole file, or already settled the census
            problem = verdict()  # known before the write: no gate
            if problem is None:
                self._load(contract, file, parsed, sha, outcome, on_write)
                return None
        else:
            try:
                self._load(
                    contract, file, parsed, sha, outcome, on_write, CommitGate(self.spark, verdict)
                )
            except GateRefusedError as refused:
                problem = str(refused)
            else:
                return None
        checked, plan_error = self._plan(contract, file, False)
        if checked is None:
            assert plan_error is not None
            raise plan_error
        self._load(contract, file, checked, sha, outcome, on_write)
        return problem

    def _load(
        self,
        contract: TableContract,
        file: DeliveredFile,
        parsed: ParsedFile,
        sha: str,
        outcome: FileOutcome,
        on_write: Callable[[], None],
        gate: CommitGate | None = None,
    ) -> None:
        fmt = parsed.fmt
        outcome.message = "; ".join(parsed.notes)
        meta = {
            "_source_file": F.lit(str(file.path)),
            "_source_file_modified_at": F.lit(file.modified_at).cast("timestamp"),
            "_ingested_at": F.lit(self.ingested_at).cast("timestamp"),
            "_ingest_run_id": F.lit(self.run_id),
        }
        app_id = f"data-ops:{self.bronze_table(contract)}:{sha}"
        # Counts come from the write pass itself (observations), not from an extra scan: the
        # records the reader parsed (``parsed.records``) and the rows written to bronze.
        written = Observation(f"loaded-{uuid.uuid4().hex}")
        good = (
            parsed.df.where(F.col("_quarantine_reason").isNull())
            .select(
                *contract.column_names,
                *[v.alias(k) for k, v in meta.items()],
                "_rescued_data",
            )
            .observe(written, F.count(F.lit(1)).alias("loaded"))
        )
        crash_during_spark_job("during_data_write", self.spark.sparkContext.statusTracker())
        table = self.bronze_table(contract)
        # Tags this attempt's commit: an interrupted earlier attempt used another marker.
        marker = f"{app_id} attempt={uuid.uuid4().hex}"
        on_write()
        try:
            if gate is None:
                self._append(good, table, app_id, marker)
            else:
                self._append_gated(good, table, app_id, marker, gate)
        except GateRefusedError:
            raise
        except Exception as err:
            raise UnreadableFileError(
                f"{file.path}: cannot be read as {fmt}: {str(err).splitlines()[0][:500]}"
            ) from err
        if _ran(written) or self._committed(table, marker):
            metrics = {"read": parsed.records.get["records"], "good": written.get["loaded"]}
        else:
            # Delta skipped the write: an earlier attempt committed this file (then crashed
            # before its ledger entry). Count the file again without writing it.
            row = parsed.df.agg(
                F.count(F.lit(1)).alias("read"),
                F.count_if(F.col("_quarantine_reason").isNull()).alias("good"),
            ).first()
            assert row is not None
            metrics = row.asDict()
            outcome.message = "already committed by an earlier, interrupted run; ledger completed"
        outcome.rows_read = int(metrics["read"])
        outcome.rows_loaded = int(metrics["good"])
        outcome.rows_quarantined = outcome.rows_read - outcome.rows_loaded
        if outcome.rows_quarantined:
            self._write_quarantine(contract, file, parsed.for_quarantine(), app_id)
        crash_point("after_data_commit")

    def _committed(self, table: str, marker: str) -> bool:
        """Whether this attempt's append made a commit (its marker is in recent history).

        False when Delta skipped the write because an earlier attempt committed the same
        (appId, version): that commit carries the earlier attempt's marker.
        """
        return marker in recent_commits(self.spark, table, _HISTORY_DEPTH)

    def _append_gated(
        self, df: DataFrame, table: str, app_id: str, marker: str, gate: CommitGate
    ) -> None:
        """``_append`` with the gate's check beside the write; ``GateRefusedError`` when the
        check refused (the write then made no commit)."""
        error: Exception | None = None
        try:
            guarded = gate.guard(df)
            gate.start()
            self._append(guarded, table, app_id, marker)
        except Exception as err:  # noqa: BLE001 - the gate's verdict decides what it means
            error = err
        refused = gate.refusal()
        if refused is None:
            if error is not None:
                raise error
            return
        if error is None and self._committed(table, marker):
            raise RuntimeError(
                f"{table}: commit {marker!r} was made although its gate refused ({refused}); "
                "the gate did not hold the commit"
            )
        raise GateRefusedError(refused) from error

    def _append(self, df: DataFrame, table: str, app_id: str, marker: str) -> None:
        """Idempotent append: Delta skips it when (appId, version) is already committed."""
        append(df, table, {"txnAppId": app_id, "txnVersion": "1", "userMetadata": marker})

    def _write_quarantine(
        self,
        contract: TableContract,
        file: DeliveredFile,
        df: DataFrame,
        app_id: str,
    ) -> None:
        bad = df.where(F.col("_quarantine_reason").isNotNull()).select(
            "_quarantine_reason", "_raw_record", "_record_index"
        )
        rows = bad.limit(_QUARANTINE_LINE_LOOKUP_LIMIT + 1).collect()
        if len(rows) <= _QUARANTINE_LINE_LOOKUP_LIMIT:
            raws: list[str | None] = [r["_raw_record"] for r in rows]
            located: list[tuple[int | None, str | None]]
            if file.fmt == "csv":
                located = locate_csv_records(file.path, contract, raws)
            elif file.fmt == "json":
                located = [(line, None) for line in _line_numbers(file.path, raws)]
            else:
                located = [(None, None)] * len(rows)
            records = [
                (
                    str(file.path),
                    file.modified_at,
                    line,
                    row["_record_index"],
                    row["_quarantine_reason"],
                    text if text is not None else row["_raw_record"],
                    self.ingested_at,
                    self.run_id,
                )
                for row, (line, text) in zip(rows, located, strict=True)
            ]
            out = rows_frame(self.spark, records, _QUARANTINE_SCHEMA)
        else:
            out = bad.select(
                F.lit(str(file.path)).alias("_source_file"),
                F.lit(file.modified_at).cast("timestamp").alias("_source_file_modified_at"),
                F.lit(None).cast("bigint").alias("_line_number"),
                F.col("_record_index").alias("_record_offset"),
                "_quarantine_reason",
                "_raw_record",
                F.lit(self.ingested_at).cast("timestamp").alias("_ingested_at"),
                F.lit(self.run_id).alias("_ingest_run_id"),
            )
        self._append(out, self.quarantine_table(contract), app_id, app_id)
