"""The column plan: how one record's delivered values become bronze's typed columns.

Every reader builds its plan from the same pieces: declared columns whose value arrives as text
(cast to the declared type here) or already typed, delivered fields the contract does not
declare, the record's raw text, and why the record cannot enter bronze. ``ColumnPlan.columns``
turns them into the declared columns plus the working columns below, with the same rules for
every format:

- a value that does not parse or fit its type is null in its column, and its delivered text
  goes to ``_rescued_data``; so does a value whose typed form differs from what was delivered
  (a decimal rounded to the declared scale, a timestamp shifted from its zone to UTC): the
  column holds what the type allows;
- an undeclared field goes to ``_rescued_data`` under its delivered name;
- a record without a key, or that is not a record (malformed), gets ``_quarantine_reason``.

Working columns: ``_quarantine_reason``, ``_raw_record`` (the record's text, for quarantined
rows), ``_raw_bytes`` (its bytes, where they are not valid text) and ``_record_index``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from python_ingest.bronze import RESCUED_DATA
from python_ingest.census import has_struct
from python_ingest.contract import FileFormat, TableContract
from python_ingest.errors import DataError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = [
    "CORRUPT",
    "WORK_COLUMNS",
    "ColumnPlan",
    "ParsedFile",
    "UnreadableFileError",
    "assemble",
    "exact_type",
    "is_complex",
    "parsed_complex",
    "undeclared_in",
    "undeclared_keys",
]

CORRUPT = "_corrupt_record"
WORK_COLUMNS = ("_quarantine_reason", "_raw_record", "_raw_bytes", "_record_index")
DEFAULT_DATE = "yyyy-MM-dd"
DEFAULT_TIMESTAMP = "yyyy-MM-dd HH:mm:ss"
# Digits after the point that ``exact_type`` keeps at most (a value with more is compared at
# this scale).
_EXACT_SCALE = 18


class UnreadableFileError(DataError):
    """The whole file cannot be read as its declared format (the message says why)."""


@dataclass(frozen=True)
class ParsedFile:
    """A file's rows shaped like bronze: the declared columns, ``_rescued_data`` and the
    working columns; ``notes`` are worth telling in the file's ledger message."""

    df: DataFrame
    fmt: FileFormat
    notes: tuple[str, ...] = ()


def is_complex(data_type: T.DataType) -> bool:
    return isinstance(data_type, T.ArrayType | T.MapType | T.StructType)


def exact_type(data_type: T.DataType) -> T.DataType:
    """``data_type`` with every decimal widened to keep the delivered digits: comparing a value
    parsed as this type with its declared form tells a rounded value from an exact one."""
    if isinstance(data_type, T.DecimalType):
        integer_digits = data_type.precision - data_type.scale
        scale = max(data_type.scale, min(_EXACT_SCALE, 38 - integer_digits))
        return T.DecimalType(38, scale)
    if isinstance(data_type, T.ArrayType):
        return T.ArrayType(exact_type(data_type.elementType), True)
    if isinstance(data_type, T.MapType):
        return T.MapType(data_type.keyType, exact_type(data_type.valueType), True)
    if isinstance(data_type, T.StructType):
        return T.StructType(
            [T.StructField(f.name, exact_type(f.dataType), True) for f in data_type.fields]
        )
    return data_type


def _differs(typed: Column, exact: Column, exact_type_: T.DataType) -> Column:
    """Whether a value's declared form ``typed`` differs from its ``exact`` form."""
    return typed.isNotNull() & ~typed.cast(exact_type_).eqNullSafe(exact)


def _scalar(
    raw: Column, data_type: T.DataType, options: Mapping[str, str]
) -> tuple[Column, Column]:
    """A raw text cast to a declared scalar type: (typed value, whether it differs from the
    text). Null, never an error, when it does not fit; surrounding blanks are ignored for
    every type but string (kept as delivered)."""
    text = F.trim(raw)
    unchanged = F.lit(False)
    if isinstance(data_type, T.StringType):
        return raw, unchanged
    if isinstance(data_type, T.DateType):
        return F.try_to_date(text, options.get("dateFormat", DEFAULT_DATE)), unchanged
    if isinstance(data_type, T.TimestampType):
        typed = F.try_to_timestamp(text, F.lit(options.get("timestampFormat", DEFAULT_TIMESTAMP)))
        # A text with a zone offset is converted to UTC: its wall-clock time (the text without
        # its zone) is what was delivered. (The session's time zone is UTC.)
        wall_clock = text.try_cast(T.TimestampNTZType())
        shifted = typed.isNotNull() & wall_clock.isNotNull()
        return typed, shifted & (typed.cast(T.TimestampNTZType()) != wall_clock)
    if isinstance(data_type, T.TimestampNTZType):
        format_ = F.lit(options.get("timestampFormat", DEFAULT_TIMESTAMP))
        return F.try_to_timestamp(text, format_).cast(data_type), unchanged
    typed = text.try_cast(data_type)
    if isinstance(data_type, T.DecimalType):
        exact = exact_type(data_type)
        return typed, _differs(typed, text.try_cast(exact), exact)
    return typed, unchanged


def parsed_complex(raw: Column, data_type: T.DataType) -> Column:
    """A JSON text parsed as an array/map/struct: ``struct<v, _corrupt_record>``.

    Spark keeps what it can of a nested value (an element whose field fails its type becomes
    null); ``_corrupt_record`` says that something did not fit, so the text can be rescued.
    """
    schema = T.StructType(
        [T.StructField("v", data_type, True), T.StructField(CORRUPT, T.StringType(), True)]
    )
    wrapped = F.concat(F.lit('{"v":'), raw, F.lit("}"))
    return F.from_json(
        wrapped, schema, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT}
    )


def _complex(
    raw: Column, data_type: T.DataType, delivered: T.DataType, keys_checked: bool
) -> tuple[Column, Column]:
    """A nested value's JSON text: (its typed value, whether it does not fit). ``delivered``
    is ``data_type`` with the keys named as delivered (a cast renames them by position). A
    value that does not fit keeps its parsable part; a decimal inside it is rounded to its
    declared scale, and that counts as not fitting."""
    exact = exact_type(delivered)
    parse = parsed_complex(raw, exact)
    parsed = parse.getField("v")
    typed = parsed if exact == data_type else parsed.try_cast(data_type)
    problem = parsed.isNull() | parse.getField(CORRUPT).isNotNull()
    if exact != delivered:
        problem = problem | _differs(typed, parsed, exact)
    if not keys_checked:
        problem = problem | undeclared_keys(raw.cast("string"), delivered)
    return typed, problem


def undeclared_keys(text: Column, data_type: T.DataType) -> Column:
    """Whether the JSON text of a ``data_type`` value has an object key the type does not
    declare, at any depth (a key whose value is null included).

    False where the text is not of the declared shape: the typed parse flags that. Spark's JSON
    parser drops undeclared keys without a trace, so this is checked on the text.
    """
    if isinstance(data_type, T.StructType):
        if any(has_struct(f.dataType) for f in data_type.fields):
            return undeclared_in(F.from_json(text, "map<string,string>"), data_type)
        # Only its own keys to check: listing them is cheaper than parsing the values.
        return _any_undeclared(F.json_object_keys(text), data_type)
    if isinstance(data_type, T.ArrayType) and has_struct(data_type.elementType):
        element_type = data_type.elementType
        items = F.from_json(text, "array<string>")
        return F.coalesce(
            F.exists(items, lambda item: undeclared_keys(item, element_type)), F.lit(False)
        )
    if isinstance(data_type, T.MapType) and has_struct(data_type.valueType):
        value_type = data_type.valueType
        values = F.map_values(F.from_json(text, "map<string,string>"))
        return F.coalesce(
            F.exists(values, lambda value: undeclared_keys(value, value_type)), F.lit(False)
        )
    return F.lit(False)


def _any_undeclared(keys: Column, struct: T.StructType) -> Column:
    """Whether an object's ``keys`` include one ``struct`` does not declare (False for null)."""
    declared = F.array(*[F.lit(f.name) for f in struct.fields])
    return F.coalesce(F.size(F.array_except(keys, declared)) > 0, F.lit(False))


def undeclared_in(values: Column, struct: T.StructType) -> Column:
    """Whether a JSON object, given as the map of its values' raw texts, has a key ``struct``
    does not declare, at any depth. False for a null map."""
    found = _any_undeclared(F.map_keys(values), struct)
    for f in struct.fields:
        if has_struct(f.dataType):
            found = found | undeclared_keys(values.getItem(f.name), f.dataType)
    return found


def _merge_objects(left: Column, right: Column) -> Column:
    """Two JSON object texts as one (their keys do not overlap)."""
    return (
        F.when(left == F.lit("{}"), right)
        .when(right == F.lit("{}"), left)
        .otherwise(
            F.concat(
                F.regexp_replace(left, r"\}$", ""), F.lit(","), F.regexp_replace(right, r"^\{", "")
            )
        )
    )


@dataclass(frozen=True)
class ColumnPlan:
    """One record's delivered values and what to make of them (see the module docstring).

    ``raw``: declared column -> its delivered text, cast to the declared type; ``typed``:
    declared column -> a value of the declared type already; a declared column in neither is
    null. ``extras``: undeclared fields (delivered name, value), rescued; ``extra_map``: the
    undeclared keys of a JSON record as a map, rescued. ``reason``: why the record cannot enter
    bronze, before the key check (null: it can). ``raw_record``/``raw_bytes``: the record as
    delivered. ``keys_checked``: the values carry declared keys only (a clean key census), so
    nested values are not checked for undeclared ones. ``delivered_types``: declared column ->
    its type with nested keys named as delivered, where they differ.
    """

    contract: TableContract
    options: Mapping[str, str]
    raw_record: Column
    raw: Mapping[str, Column] = field(default_factory=dict)
    typed: Mapping[str, Column] = field(default_factory=dict)
    extras: Sequence[tuple[str, Column]] = ()
    extra_map: Column | None = None
    reason: Column | None = None
    raw_bytes: Column | None = None
    record_index: Column | None = None
    keys_checked: bool = False
    delivered_types: Mapping[str, T.DataType] = field(default_factory=dict)

    def columns(self) -> list[tuple[str, Column]]:
        """(name, expression) of every bronze column and working column, in order."""
        out: list[tuple[str, Column]] = []
        rescued: list[Column] = []  # one struct field per rescued value, null when it fits
        needed: list[Column] = []
        for col in self.contract.columns:
            if col.name in self.typed:
                out.append((col.name, self.typed[col.name]))
                continue
            raw = self.raw.get(col.name)
            if raw is None:
                out.append((col.name, F.lit(None).cast(col.spark_type)))
                continue
            if isinstance(col.spark_type, T.StringType):
                out.append((col.name, raw))
                continue  # a string always fits: nothing to rescue
            blank = F.trim(raw.cast("string")) == F.lit("")
            if is_complex(col.spark_type):
                delivered = self.delivered_types.get(col.name, col.spark_type)
                typed, problem = _complex(raw, col.spark_type, delivered, self.keys_checked)
                failed = raw.isNotNull() & problem & ~blank
            else:
                typed, changed = _scalar(raw, col.spark_type, self.options)
                failed = raw.isNotNull() & (typed.isNull() | changed) & ~blank
            out.append((col.name, typed))
            needed.append(failed)
            rescued.append(F.when(failed, raw.cast("string")).alias(col.name))
        for name, value in self.extras:
            needed.append(value.isNotNull())
            rescued.append(value.cast("string").alias(name))
        # A struct written as JSON without its null fields: only what did not fit. (No lambda
        # functions here: they would switch the whole projection off Spark's code generation.)
        rescued_json = (
            F.to_json(F.struct(*rescued), {"ignoreNullFields": "true"}) if rescued else F.lit("{}")
        )
        if self.extra_map is not None:
            needed.append(F.size(self.extra_map) > 0)
            rescued_json = _merge_objects(rescued_json, F.to_json(self.extra_map))
        # The JSON is built only for rows where something did not fit: most rows skip it.
        any_needed = F.lit(False)
        for condition in needed:
            any_needed = any_needed | condition
        out.append(
            (RESCUED_DATA, F.when(any_needed, rescued_json).otherwise(F.lit(None).cast("string")))
        )
        reason = self.reason if self.reason is not None else F.lit(None).cast("string")
        for key in self.contract.ingestion.keys:
            key_value = self.typed.get(key, self.raw.get(key))
            missing = (
                F.lit(True)
                if key_value is None
                else (key_value.isNull() | (F.trim(key_value.cast("string")) == F.lit("")))
            )
            reason = F.coalesce(reason, F.when(missing, F.lit(f"missing_key:{key}")))
        out.append(("_quarantine_reason", reason))
        out.append(("_raw_record", F.when(reason.isNotNull(), self.raw_record)))
        raw_bytes = self.raw_bytes if self.raw_bytes is not None else F.lit(None)
        out.append(("_raw_bytes", F.when(reason.isNotNull(), raw_bytes).cast("string")))
        index = self.record_index if self.record_index is not None else F.lit(None)
        out.append(("_record_index", index.cast("bigint")))
        return out


def assemble(
    staged: DataFrame,
    fast: ColumnPlan,
    slow: ColumnPlan,
    use_fast: Column,
    same: frozenset[str] = frozenset(),
) -> DataFrame:
    """Per output column: the fast plan's value where ``use_fast`` holds, else the slow one's.

    Columns in ``same`` have the same value on both paths and take the fast one. One
    projection over ``staged``: its rows are not copied again, and a slow expression is only
    evaluated for the rows that take the slow path.
    """
    fast_columns, slow_columns = fast.columns(), slow.columns()
    assert [n for n, _ in fast_columns] == [n for n, _ in slow_columns]
    slow_by_name = dict(slow_columns)
    return staged.select(
        *[
            (
                column if name in same else F.when(use_fast, column).otherwise(slow_by_name[name])
            ).alias(name)
            for name, column in fast_columns
        ]
    )
