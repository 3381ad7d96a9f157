"""Quarantine: the records of a file that cannot enter bronze, as they were delivered.

Each quarantined record keeps its reason, its raw text and, where the text is not valid UTF-8,
its exact bytes (base64), with the line it starts on in the file (CSV, JSON lines) or its row
index (Parquet). Lines are found by reading the file again in Python, for the quarantined
records only (up to ``LINE_LOOKUP_LIMIT`` of them; beyond that the rows keep Spark's text and
no line number).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from python_ingest.bronze import quarantine_ddl
from python_ingest.delta_io import append, rows_frame
from python_ingest.readers.csv import csv_dialect, csv_layout

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from python_ingest.contract import TableContract
    from python_ingest.discovery import DeliveredFile
    from python_ingest.naming import TableAddress

__all__ = ["LINE_LOOKUP_LIMIT", "Located", "RunStamp", "locate_csv_records", "write_quarantine"]

LINE_LOOKUP_LIMIT = 100_000


@dataclass(frozen=True)
class RunStamp:
    """What every row a run writes carries: its run id and time."""

    run_id: str
    ingested_at: dt.datetime  # UTC, naive


@dataclass(frozen=True)
class Located:
    """Where a quarantined record is in its file: first line, text, bytes (when not text)."""

    line: int | None = None
    text: str | None = None
    raw_bytes_base64: str | None = None


def _record_text(lines: list[str]) -> str:
    text = "".join(lines)
    for ending in ("\r\n", "\n", "\r"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


def _record_bytes(lines: list[bytes]) -> bytes:
    data = b"".join(lines)
    for ending in (b"\r\n", b"\n", b"\r"):
        if data.endswith(ending):
            return data[: -len(ending)]
    return data


def locate_csv_records(
    path: Path, contract: TableContract, raw_records: Sequence[str | None]
) -> list[Located]:
    """First line, exact text and (where not valid text) bytes of each quarantined CSV record.

    A record is found by its fields (every field is read as text, and a record quarantined for
    a missing key carries its fields written back). Each file record is claimed once, first
    match first. Not found: ``Located()``.
    """
    options = contract.options_for("csv")
    encoding = options.get("encoding", options.get("charset", "UTF-8"))
    dialect = csv_dialect(options)
    layout = csv_layout(path, contract)
    width = len(layout.header)
    exact: dict[tuple[str, ...], list[int]] = {}
    by_text: dict[tuple[str, ...], list[int]] = {}
    for i, raw in enumerate(raw_records):
        if not raw:
            continue
        fields = next(csv.reader(io.StringIO(raw, newline=""), **dialect), [])
        exact.setdefault(tuple(fields), []).append(i)
        if len(fields) == width:
            by_text.setdefault(tuple(fields), []).append(i)
    result = [Located()] * len(raw_records)
    claimed: set[int] = set()
    pending = sum(1 for raw in raw_records if raw)

    def claim(index: dict[tuple[str, ...], list[int]], key: tuple[str, ...]) -> int | None:
        slots = index.get(key)
        while slots:
            slot = slots.pop(0)
            if slot not in claimed:
                claimed.add(slot)
                return slot
        return None

    consumed: list[bytes] = []

    def lines(handle: Iterator[bytes]) -> Iterator[str]:
        for line in handle:
            consumed.append(line)
            yield line.decode(encoding, errors="replace")

    with path.open("rb") as handle:
        reader = csv.reader(lines(iter(handle)), **dialect)
        start = 1
        for fields in reader:
            if pending == 0:
                break
            slot = claim(exact, tuple(fields))
            if slot is None and len(fields) == width:
                slot = claim(by_text, tuple(fields))
            if slot is not None:
                data = _record_bytes(consumed)
                text = _record_text([line.decode(encoding, errors="replace") for line in consumed])
                result[slot] = Located(start, text, _bytes_if_not_text(data, encoding))
                pending -= 1
            consumed.clear()
            start = reader.line_num + 1
    return result


def _bytes_if_not_text(data: bytes, encoding: str) -> str | None:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii")
    return None


def _json_line_numbers(path: Path, raw_records: Sequence[str | None]) -> list[Located]:
    """1-based line of each raw JSON record (one per line; first unclaimed occurrence)."""
    wanted: dict[str, list[int]] = {}
    for i, raw in enumerate(raw_records):
        if raw:
            wanted.setdefault(raw.rstrip("\r\n"), []).append(i)
    result = [Located()] * len(raw_records)
    with path.open("r", encoding="utf-8", errors="replace", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            if not wanted:
                break
            slots = wanted.get(line.rstrip("\r\n"))
            if slots:
                result[slots.pop(0)] = Located(number)
                if not slots:
                    del wanted[line.rstrip("\r\n")]
    return result


def write_quarantine(
    spark: SparkSession,
    parsed: DataFrame,
    file: DeliveredFile,
    contract: TableContract,
    target: TableAddress,
    stamp: RunStamp,
    app_id: str,
) -> None:
    """Append the file's quarantined records to ``target`` once (idempotent per ``app_id``)."""
    bad = parsed.where(F.col("_quarantine_reason").isNotNull()).select(
        "_quarantine_reason", "_raw_record", "_raw_bytes", "_record_index"
    )
    rows = bad.limit(LINE_LOOKUP_LIMIT + 1).collect()
    if len(rows) <= LINE_LOOKUP_LIMIT:
        raws: list[str | None] = [r["_raw_record"] for r in rows]
        if file.fmt == "csv":
            located = locate_csv_records(file.path, contract, raws)
        elif file.fmt == "json":
            located = _json_line_numbers(file.path, raws)
        else:
            located = [Located()] * len(rows)
        records = [
            (
                str(file.path),
                file.modified_at,
                where.line,
                row["_record_index"],
                row["_quarantine_reason"],
                where.text if where.text is not None else row["_raw_record"],
                row["_raw_bytes"] or where.raw_bytes_base64,
                stamp.ingested_at,
                stamp.run_id,
            )
            for row, where in zip(rows, located, strict=True)
        ]
        out = rows_frame(spark, records, quarantine_ddl())
    else:
        out = bad.select(
            F.lit(str(file.path)).alias("_source_file"),
            F.lit(file.modified_at).cast("timestamp").alias("_source_file_modified_at"),
            F.lit(None).cast("bigint").alias("_line_number"),
            F.col("_record_index").alias("_record_offset"),
            "_quarantine_reason",
            "_raw_record",
            F.col("_raw_bytes").alias("_raw_bytes_base64"),
            F.lit(stamp.ingested_at).cast("timestamp").alias("_ingested_at"),
            F.lit(stamp.run_id).alias("_ingest_run_id"),
        )
    append(out, target, {"txnAppId": app_id, "txnVersion": "1"})
