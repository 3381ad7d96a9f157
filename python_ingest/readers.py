"""Readers: one delivered file -> a DataFrame shaped like its bronze table.

Every reader applies the contract's declared schema explicitly (no inference at run time) and
returns the declared columns, typed, plus three working columns:

- ``_rescued_data``: JSON object of what did not fit (unknown columns, values that failed to
  cast), or null;
- ``_quarantine_reason``: why the row cannot enter bronze (malformed record, invalid JSON,
  missing key), or null;
- ``_raw_record``: the record's raw text, kept for quarantined rows.

A file that cannot be read at all raises ``UnreadableFileError``; the caller marks it failed.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from python_ingest.contract import FileFormat, TableContract
from python_ingest.errors import DataError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = [
    "WORK_COLUMNS",
    "ParsedFile",
    "UnreadableFileError",
    "csv_dialect",
    "read_delivered_file",
]

WORK_COLUMNS = ("_rescued_data", "_quarantine_reason", "_raw_record", "_record_index")
_CORRUPT = "_corrupt_record"
_DEFAULT_DATE = "yyyy-MM-dd"
_DEFAULT_TS = "yyyy-MM-dd HH:mm:ss"


class UnreadableFileError(DataError):
    """The whole file cannot be read (corrupt, truncated, wrong encoding, empty)."""


@dataclass(frozen=True)
class ParsedFile:
    df: DataFrame
    fmt: FileFormat
    notes: tuple[str, ...] = ()


def _typed(raw: Column, data_type: T.DataType, options: dict[str, str]) -> Column:
    """Cast a raw string to the declared type; null (never an error) when it does not fit."""
    if isinstance(data_type, T.StringType):
        return raw
    if isinstance(data_type, T.DateType):
        return F.try_to_date(raw, options.get("dateFormat", _DEFAULT_DATE))
    if isinstance(data_type, T.TimestampType | T.TimestampNTZType):
        return F.try_to_timestamp(raw, F.lit(options.get("timestampFormat", _DEFAULT_TS))).cast(
            data_type
        )
    if isinstance(data_type, T.ArrayType | T.MapType | T.StructType):
        return F.from_json(raw, data_type.simpleString(), {"mode": "PERMISSIVE"})
    return F.trim(raw).try_cast(data_type)


def _as_text(value: Column, data_type: T.DataType) -> Column:
    if isinstance(data_type, T.ArrayType | T.MapType | T.StructType):
        return F.to_json(value)
    return value.cast("string")


def _finish(
    raw_values: dict[str, Column],
    contract: TableContract,
    options: dict[str, str],
    extras: list[tuple[str, Column]],
    extra_map: Column | None,
    base_reason: Column,
    raw_record: Column,
    record_index: Column,
    direct: dict[str, Column] | None = None,
) -> list[Column]:
    """Typed declared columns + rescued data + quarantine reason, as select expressions.

    ``raw_values`` are cast to the declared type (a failed cast goes to ``_rescued_data``);
    ``direct`` columns already have the declared type and pass through.
    """
    direct = direct or {}
    out: list[Column] = []
    rescued: list[Column] = []
    needed: list[Column] = []
    for col in contract.columns:
        if col.name in direct:
            out.append(direct[col.name].alias(col.name))
            continue
        raw = raw_values.get(col.name)
        if raw is None:
            out.append(F.lit(None).cast(col.spark_type).alias(col.name))
            continue
        typed = _typed(raw, col.spark_type, options)
        out.append(typed.alias(col.name))
        if isinstance(col.spark_type, T.StringType):
            continue  # a string always fits: nothing to rescue
        failed = raw.isNotNull() & typed.isNull() & (F.trim(raw.cast("string")) != F.lit(""))
        needed.append(failed)
        rescued.append(F.when(failed, F.struct(F.lit(col.name).alias("k"), raw.alias("v"))))
    for name, value in extras:
        needed.append(value.isNotNull())
        rescued.append(
            F.when(value.isNotNull(), F.struct(F.lit(name).alias("k"), value.alias("v")))
        )
    entries = (
        F.filter(F.array(*rescued), lambda e: e.isNotNull())
        if rescued
        else F.array().cast("array<struct<k:string,v:string>>")
    )
    rescued_map = F.map_from_entries(entries)
    if extra_map is not None:
        needed.append(F.size(extra_map) > 0)
        rescued_map = F.map_concat(rescued_map, extra_map)
    # The map is built only for rows where something did not fit: most rows skip it.
    any_needed = F.lit(False)
    for condition in needed:
        any_needed = any_needed | condition
    out.append(
        F.when(any_needed, F.to_json(rescued_map))
        .otherwise(F.lit(None).cast("string"))
        .alias("_rescued_data")
    )
    reason = base_reason
    for key in contract.ingestion.keys:
        key_raw = direct.get(key, raw_values.get(key))
        missing = (
            F.lit(True)
            if key_raw is None
            else (key_raw.isNull() | (F.trim(key_raw.cast("string")) == F.lit("")))
        )
        reason = F.coalesce(reason, F.when(missing, F.lit(f"missing_key:{key}")))
    out.append(reason.alias("_quarantine_reason"))
    out.append(F.when(reason.isNotNull(), raw_record).alias("_raw_record"))
    out.append(record_index.alias("_record_index"))
    return out


def csv_dialect(options: dict[str, str]) -> dict[str, Any]:
    """Python ``csv`` settings equivalent to the contract's Spark CSV options."""
    quote = options.get("quote", '"')
    escape = options.get("escape", '"')
    return {
        "delimiter": options.get("sep", ","),
        "quotechar": quote,
        "escapechar": None if escape == quote else escape,
        "doublequote": escape == quote,
    }


def _csv_header(path: Path, options: dict[str, str]) -> list[str]:
    encoding = options.get("encoding", "UTF-8")
    with path.open("r", encoding=encoding, newline="") as handle:
        return next(csv.reader(handle, **csv_dialect(options)), [])


def _read_csv(spark: SparkSession, path: Path, contract: TableContract) -> ParsedFile:
    options = contract.options_for("csv")
    has_header = options.get("header", "true") == "true"
    notes: list[str] = []
    if has_header:
        header = [h.strip() for h in _csv_header(path, options)]
        if not header:
            raise UnreadableFileError(f"{path}: no header line; expected {contract.column_names}")
    else:
        header = contract.column_names
    positional = [f"_c{i}" for i in range(len(header))]
    schema = T.StructType(
        [T.StructField(p, T.StringType(), True) for p in positional]
        + [T.StructField(_CORRUPT, T.StringType(), True)]
    )
    reader_options = {
        k: v for k, v in options.items() if k not in ("dateFormat", "timestampFormat")
    }
    reader_options.update(
        {
            "header": "true" if has_header else "false",
            "mode": "PERMISSIVE",
            "columnNameOfCorruptRecord": _CORRUPT,
            "enforceSchema": "true",
        }
    )
    df = spark.read.options(**reader_options).schema(schema).csv(str(path))
    declared = set(contract.column_names)
    by_name = {name: F.col(p) for name, p in zip(header, positional, strict=True)}
    missing = [c for c in contract.column_names if c not in by_name]
    if missing:
        notes.append(f"declared columns absent from the file header: {missing}")
    extras = [
        (name, F.col(p)) for name, p in zip(header, positional, strict=True) if name not in declared
    ]
    reason = F.when(
        F.col(_CORRUPT).isNotNull(),
        F.lit(f"malformed_csv_record: expected {len(header)} fields as in the header"),
    )
    # Raw text for quarantine: Spark's own text for malformed records, else the parsed fields
    # written back as CSV (same separator and quote), which the line lookup parses again.
    rewritten = F.to_csv(
        F.struct(*[F.col(p) for p in positional]),
        {
            "sep": options.get("sep", ","),
            "quote": options.get("quote", '"'),
            "escape": options.get("escape", '"'),
            "nullValue": "",
        },
    )
    select = _finish(
        {n: c for n, c in by_name.items() if n in declared},
        contract,
        options,
        extras,
        None,
        reason,
        F.coalesce(F.col(_CORRUPT), rewritten),
        F.lit(None).cast("bigint"),
    )
    return ParsedFile(df.select(*select), "csv", tuple(notes))


def _first_significant_byte(path: Path) -> bytes:
    with path.open("rb") as handle:
        chunk = handle.read(4096)
    stripped = chunk.lstrip(b"\xef\xbb\xbf \t\r\n")
    return stripped[:1]


def _read_json(spark: SparkSession, path: Path, contract: TableContract) -> ParsedFile:
    options = contract.options_for("json")
    if _first_significant_byte(path) == b"[":
        # One JSON array document: split it into element texts, then treat as JSON lines.
        doc = spark.read.text(str(path), wholetext=True)
        elements = doc.select(F.from_json("value", "array<string>").alias("elements"))
        if elements.filter(F.col("elements").isNull()).limit(1).count() > 0:
            raise UnreadableFileError(
                f"{path}: starts with '[' but is not a valid JSON array; deliver one JSON "
                "document per line or a complete array"
            )
        lines = elements.select(F.explode("elements").alias("value"))
    else:
        lines = spark.read.text(str(path)).filter(F.trim("value") != F.lit(""))
    parsed = lines.select(
        F.col("value"),
        F.from_json("value", "map<string,string>", {"mode": "PERMISSIVE"}).alias("m"),
    )
    declared = contract.column_names
    raw_values = {name: F.col("m").getItem(name) for name in declared}
    extra_map = F.map_filter(
        F.coalesce(F.col("m"), F.create_map().cast("map<string,string>")),
        lambda k, _v: ~k.isin(*declared),
    )
    reason = F.when(F.col("m").isNull(), F.lit("invalid_json: not a JSON object"))
    select = _finish(
        raw_values,
        contract,
        options,
        [],
        extra_map,
        reason,
        F.col("value"),
        F.lit(None).cast("bigint"),
    )
    return ParsedFile(parsed.select(*select), "json")


def _read_parquet(spark: SparkSession, path: Path, contract: TableContract) -> ParsedFile:
    options = contract.options_for("parquet")
    try:
        df = spark.read.options(**options).parquet(str(path))
        file_types = {f.name: f.dataType for f in df.schema.fields}
    except Exception as err:
        raise UnreadableFileError(f"{path}: not a readable Parquet file: {_short(err)}") from err
    declared = set(contract.column_names)
    raw_values: dict[str, Column] = {}
    direct: dict[str, Column] = {}
    for col in contract.columns:
        if col.name not in file_types:
            continue
        if file_types[col.name] == col.spark_type:
            direct[col.name] = F.col(col.name)
        else:
            raw_values[col.name] = _as_text(F.col(col.name), file_types[col.name])
    extras = [(n, _as_text(F.col(n), t)) for n, t in file_types.items() if n not in declared]
    select = _finish(
        raw_values,
        contract,
        options,
        extras,
        None,
        F.lit(None).cast("string"),
        F.to_json(F.struct(*[F.col(n) for n in file_types])),
        F.col("_metadata.row_index"),
        direct,
    )
    return ParsedFile(df.select(*select), "parquet")


def _short(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:500] if text else type(err).__name__


def read_delivered_file(
    spark: SparkSession, path: Path, fmt: FileFormat, contract: TableContract
) -> ParsedFile:
    """Parse one file per its format and the contract; see the module docstring for columns."""
    readers = {"csv": _read_csv, "json": _read_json, "parquet": _read_parquet}
    try:
        return readers[fmt](spark, path, contract)
    except UnreadableFileError:
        raise
    except (UnicodeDecodeError, csv.Error, io.UnsupportedOperation) as err:
        raise UnreadableFileError(f"{path}: cannot be read as {fmt}: {err}") from err
