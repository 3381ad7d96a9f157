"""Landing-file writers: CSV, JSON lines and Parquet, reproducible to the byte.

Each file is written under a temporary dot-name with a ``.tmp`` suffix and renamed into place,
so an ingestion run polling the landing folder never sees half a file. Parquet columns carry the
contract's types: strings, ``date32`` dates, UTC microsecond timestamps, ``decimal128(12, 2)``
amounts, ``int32`` counters and ``list<struct>`` claim lines.
"""

from __future__ import annotations

import contextlib
import csv
import json
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tools.datagen.claims import CLAIM_FIELDS
from tools.datagen.formatting import CsvDialect, csv_value, json_line
from tools.datagen.members import MEMBER_COLUMNS
from tools.datagen.records import ClaimRow, DatagenError, Defect, Delivery, MemberRow

__all__ = [
    "claims_arrow_schema",
    "member_arrow_schema",
    "write_big_csv",
    "write_big_jsonl",
    "write_claims_files",
    "write_manifest",
    "write_member_files",
    "write_parquet",
]

_BUFFER = 1 << 20
_AMOUNT = pa.decimal128(12, 2)


def member_arrow_schema() -> pa.Schema:
    """Roster Parquet schema, column for column the ``member_raw`` contract."""
    string_columns = set(MEMBER_COLUMNS) - {
        "birth_date",
        "coverage_start_date",
        "coverage_end_date",
        "record_updated_at",
    }
    types = {
        "birth_date": pa.date32(),
        "coverage_start_date": pa.date32(),
        "coverage_end_date": pa.date32(),
        "record_updated_at": pa.timestamp("us", tz="UTC"),
    }
    return pa.schema(
        [(name, pa.string() if name in string_columns else types[name]) for name in MEMBER_COLUMNS]
    )


def claims_arrow_schema() -> pa.Schema:
    """Claims Parquet schema, column for column the ``claims_raw`` contract."""
    line = pa.struct(
        [
            ("line_number", pa.int32()),
            ("procedure_code", pa.string()),
            ("ndc", pa.string()),
            ("units", pa.int32()),
            ("service_date", pa.date32()),
            ("billed_amount", _AMOUNT),
            ("allowed_amount", _AMOUNT),
            ("paid_amount", _AMOUNT),
        ]
    )
    types = {
        "claim_version": pa.int32(),
        "service_from_date": pa.date32(),
        "service_to_date": pa.date32(),
        "received_date": pa.date32(),
        "diagnosis_codes": pa.list_(pa.string()),
        "lines": pa.list_(line),
    }
    return pa.schema([(name, types.get(name, pa.string())) for name in CLAIM_FIELDS])


@contextlib.contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling path and move it onto `path` only when writing succeeded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        yield temporary
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def _getter(columns: Sequence[str]) -> Callable[[Mapping[str, object]], Sequence[object]]:
    if len(columns) == 1:
        only = columns[0]
        return lambda row: (row[only],)
    return operator.itemgetter(*columns)


def _write_csv(
    path: Path,
    rows: Iterable[Mapping[str, object]],
    columns: Sequence[str] | None,
    raw_lines: Mapping[int, str],
) -> int:
    iterator = iter(rows)
    first = next(iterator, None)
    if columns is None:
        if first is None:
            raise DatagenError(f"cannot infer CSV columns for {path}: no rows and no columns")
        columns = list(first)
    getter = _getter(columns)
    count = 0
    with _atomic(path) as temporary, temporary.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, dialect=CsvDialect)
        writer.writerow(columns)
        if first is None:
            return 0
        for row in _chain(first, iterator):
            raw = raw_lines.get(count) if raw_lines else None
            if raw is not None:
                handle.write(raw)
                handle.write("\n")
            else:
                writer.writerow(
                    [
                        value if value is None or value.__class__ is str else csv_value(value)
                        for value in getter(row)
                    ]
                )
            count += 1
    return count


def _chain(
    first: Mapping[str, object], rest: Iterator[Mapping[str, object]]
) -> Iterator[Mapping[str, object]]:
    yield first
    yield from rest


def _write_jsonl(
    path: Path, rows: Iterable[Mapping[str, object]], raw_lines: Mapping[int, str]
) -> int:
    count = 0
    with _atomic(path) as temporary, temporary.open("w", encoding="utf-8", newline="") as handle:
        for row in rows:
            raw = raw_lines.get(count) if raw_lines else None
            handle.write(json_line(row) if raw is None else raw)
            handle.write("\n")
            count += 1
    return count


def write_big_csv(
    path: Path | str, rows: Iterable[Mapping[str, object]], columns: Sequence[str] | None = None
) -> int:
    """Stream rows to a headed CSV (columns default to the first row's keys); returns the count."""
    return _write_csv(Path(path), rows, columns, {})


def write_big_jsonl(path: Path | str, rows: Iterable[Mapping[str, object]]) -> int:
    """Stream rows to a JSON-lines file, one compact object per line; returns the count."""
    return _write_jsonl(Path(path), rows, {})


def write_parquet(path: Path | str, rows: Sequence[Mapping[str, object]], schema: pa.Schema) -> int:
    """Write rows as one Parquet file with exactly `schema`'s columns and types."""
    target = Path(path)
    try:
        table = pa.Table.from_arrays(
            [pa.array([row[f.name] for row in rows], type=f.type) for f in schema],
            schema=schema,
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
        raise DatagenError(
            f"rows for {target.name} do not fit the Parquet schema: {err}; text-only defects "
            "(bad dates, malformed records) belong in CSV or JSON deliveries"
        ) from err
    with _atomic(target) as temporary:
        pq.write_table(table, temporary, compression="snappy")
    return len(rows)


def _write_delivery(
    delivery: Delivery[MemberRow] | Delivery[ClaimRow],
    out_dir: Path,
    columns: Sequence[str],
    schema: pa.Schema,
) -> Path:
    path = out_dir / delivery.file_name
    rows: Sequence[Mapping[str, object]] = delivery.rows
    if delivery.file_format == "csv":
        _write_csv(path, rows, columns, delivery.raw_lines)
    elif delivery.file_format == "json":
        _write_jsonl(path, rows, delivery.raw_lines)
    else:
        if delivery.raw_lines:
            raise DatagenError(
                f"{delivery.file_name} has malformed records, which Parquet cannot carry"
            )
        write_parquet(path, rows, schema)
    return path


def write_member_files(
    deliveries: Iterable[Delivery[MemberRow]], out_dir: Path | str
) -> list[Path]:
    """Write each roster delivery in its own format into the member landing folder."""
    schema = member_arrow_schema()
    return [_write_delivery(d, Path(out_dir), MEMBER_COLUMNS, schema) for d in deliveries]


def write_claims_files(deliveries: Iterable[Delivery[ClaimRow]], out_dir: Path | str) -> list[Path]:
    """Write each claims delivery in its own format into the claims landing folder."""
    schema = claims_arrow_schema()
    return [_write_delivery(d, Path(out_dir), CLAIM_FIELDS, schema) for d in deliveries]


def write_manifest(path: Path | str, defects: Iterable[Defect]) -> Path:
    """Write the defect manifest as JSON lines; keep it outside the landing folders."""
    target = Path(path)
    with _atomic(target) as temporary, temporary.open("w", encoding="utf-8", newline="") as handle:
        for defect in defects:
            record = {
                "file_name": defect.file_name,
                "row_number": defect.row_number,
                "kind": str(defect.kind),
                "column": defect.column,
                "value": defect.value,
            }
            handle.write(json.dumps(record, ensure_ascii=False))
            handle.write("\n")
    return target
