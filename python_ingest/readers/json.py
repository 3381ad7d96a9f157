"""JSON lines (or one JSON array document): one typed parse per record, the line kept.

Every record is parsed once against the contract's schema named as delivered, with decimals
widened so a rounded value can be told from an exact one (the fast path). Records the parse
flags, that carry a rounded value, or (when the key census was not clean) whose keys are not
all declared, are parsed again into a map of their values' raw texts, to rescue values and
undeclared keys one by one (the slow path). The record's line is at hand for either: it is the
raw text a quarantined record keeps.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from python_ingest.contract import TableContract
from python_ingest.readers.plan import (
    CORRUPT,
    ColumnPlan,
    ParsedFile,
    UnreadableFileError,
    assemble,
    exact_type,
    undeclared_in,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["read_json"]

_INVALID_JSON = "invalid_json: not one JSON object"
_INVALID_UTF8 = "invalid_utf8: bytes that are not valid UTF-8"


def _first_significant_byte(path: Path) -> bytes:
    with path.open("rb") as handle:
        chunk = handle.read(4096)
    return chunk.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]


def _only_value(text: Column, schema: str) -> Column:
    """``text`` parsed as the only element of a JSON array: null unless it holds exactly one
    JSON value. Spark's JSON parsers read a text's first value and ignore whatever follows."""
    return F.from_json(F.concat(F.lit("["), text, F.lit("]")), f"array<{schema}>")


def _first_if_only(wrapped: Column) -> Column:
    return F.when(F.size(wrapped) == F.lit(1), wrapped.getItem(0))


def _lines(spark: SparkSession, path: Path) -> DataFrame:
    """The file's records as text, one per row (``value``)."""
    if _first_significant_byte(path) != b"[":
        return spark.read.text(str(path)).filter(F.trim("value") != F.lit(""))
    # One JSON array document: its elements' texts are the records.
    doc = spark.read.text(str(path), wholetext=True)
    elements = doc.select(
        _first_if_only(_only_value(F.col("value"), "array<string>")).alias("elements")
    )
    if elements.filter(F.col("elements").isNull()).limit(1).count() > 0:
        raise UnreadableFileError(
            f"{path}: starts with '[' but is not one valid JSON array; deliver one JSON "
            "object per line, or one complete array of objects"
        )
    return elements.select(F.explode("elements").alias("value"))


def read_json(
    spark: SparkSession,
    path: Path,
    contract: TableContract,
    delivered: T.StructType,
    *,
    keys_checked: bool,
    damaged_text: bool = False,
) -> ParsedFile:
    """The file's rows shaped like bronze.

    ``delivered``: the contract's schema with its keys named as delivered (same shape).
    ``keys_checked``: a clean key census proved every record carries declared keys only, so
    the per-record key check is skipped. ``damaged_text``: the file has lines that are not
    valid UTF-8, whose records are quarantined with their bytes while the others load.
    """
    options = contract.options_for("json")
    parse_options = {
        k: v for k, v in options.items() if k not in ("multiLine", "encoding", "lineSep")
    }
    parse_options.update({"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT})
    exact = exact_type(delivered)
    assert isinstance(exact, T.StructType)
    read_schema = T.StructType([*exact.fields, T.StructField(CORRUPT, T.StringType(), True)])
    lines = _lines(spark, path)
    value = F.col("value")
    typed = F.from_json(value, read_schema, parse_options)
    columns = list(zip(contract.columns, delivered.fields, exact.fields, strict=True))

    # The fast path: each value as parsed, cast to its declared type (a cast renames nested
    # keys to the declared names and rounds a decimal: a rounded value takes the slow path).
    parsed = F.col("_typed")
    fast_values: dict[str, Column] = {}
    rounded = F.lit(False)
    for column, as_delivered, as_exact in columns:
        value_ = parsed.getField(as_delivered.name)
        if as_exact.dataType == column.spark_type:
            fast_values[column.name] = value_
            continue
        cast = value_.try_cast(column.spark_type)
        fast_values[column.name] = cast
        rounded = rounded | (cast.isNotNull() & ~cast.cast(as_exact.dataType).eqNullSafe(value_))
    use_fast = parsed.getField(CORRUPT).isNull() & ~rounded

    if keys_checked:
        # The raw texts are parsed for the records that take the slow path only.
        staged = lines.select("value", typed.alias("_typed")).select(
            "value",
            "_typed",
            F.when(~use_fast, F.from_json(value, "map<string,string>")).alias("_values"),
        )
        values = F.col("_values")
        extra_map = None
    else:
        # The record's top-level values as raw texts; a line holding two objects, or an object
        # and more, has none (it is invalid JSON), where Spark's parsers would read its first.
        # The key check is a projection of its own: it holds lambda functions, which Spark
        # does not share between the columns that test it.
        wrapped = _first_if_only(_only_value(value, "map<string,string>"))
        staged = lines.select("value", typed.alias("_typed"), wrapped.alias("_values")).select(
            "value",
            "_typed",
            "_values",
            undeclared_in(F.col("_values"), delivered).alias("_undeclared"),
        )
        values = F.col("_values")
        use_fast = use_fast & values.isNotNull() & ~F.col("_undeclared")
        # The undeclared keys: the map's entries minus the declared ones. (No lambda function:
        # it would take the projection off whole-stage code generation for every record.)
        entries = F.coalesce(values, F.create_map().cast("map<string,string>"))
        declared_entries = F.map_entries(
            F.create_map(
                *[part for f in delivered.fields for part in (F.lit(f.name), entries[f.name])]
            )
        )
        extra_map = F.map_from_entries(F.array_except(F.map_entries(entries), declared_entries))

    reason = None
    raw_bytes = None
    if damaged_text:
        reason = F.when(~F.is_valid_utf8(value), F.lit(_INVALID_UTF8))
        raw_bytes = F.base64(value.cast("binary"))
    record = F.make_valid_utf8(value) if damaged_text else value
    fast = ColumnPlan(
        contract,
        options,
        raw_record=record,
        typed=fast_values,
        reason=reason,
        raw_bytes=raw_bytes,
    )
    slow_reason = F.when(values.isNull(), F.lit(_INVALID_JSON))
    if reason is not None:
        slow_reason = F.coalesce(reason, slow_reason)
    slow = ColumnPlan(
        contract,
        options,
        raw_record=record,
        raw={column.name: values[d.name] for column, d, _ in columns},
        extra_map=extra_map,
        reason=slow_reason,
        raw_bytes=raw_bytes,
        keys_checked=keys_checked,
        delivered_types={column.name: d.dataType for column, d, _ in columns},
    )
    # A text column holds the same value on both paths (a record that is not a JSON object
    # is quarantined).
    same = frozenset(
        column.name for column, _, _ in columns if isinstance(column.spark_type, T.StringType)
    )
    return ParsedFile(assemble(staged, fast, slow, use_fast, same), "json")
