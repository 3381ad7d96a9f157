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
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyspark.sql import Column, Observation
from pyspark.sql import functions as F
from pyspark.sql import types as T

from python_ingest.census import has_struct
from python_ingest.contract import FileFormat, TableContract
from python_ingest.errors import DataError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = [
    "WORK_COLUMNS",
    "ParsedFile",
    "UnreadableFileError",
    "csv_dialect",
    "locate_csv_records",
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
    """The parsed file; ``records`` counts the records read, filled when ``df`` is executed.

    ``delivered``, when set, plans the same rows again with every quarantined row's raw text as
    delivered (``df`` may carry a reconstruction instead): the quarantine reads that plan.
    """

    df: DataFrame
    fmt: FileFormat
    records: Observation
    notes: tuple[str, ...] = ()
    delivered: Callable[[], DataFrame] | None = None

    def for_quarantine(self) -> DataFrame:
        return self.delivered() if self.delivered is not None else self.df


def _counted(df: DataFrame) -> tuple[DataFrame, Observation]:
    """``df`` with its records counted as they pass (an observation, no extra scan).

    The observation is also a barrier for the optimizer: a filter on the columns derived
    from ``df`` is not pushed below it. Pushed down, the filter would re-evaluate the parse
    (the typed JSON, the key checks) once per reference instead of using its result.
    """
    observation = Observation(f"records-{uuid.uuid4().hex}")
    return df.observe(observation, F.count(F.lit(1)).alias("records")), observation


def _typed(raw: Column, data_type: T.DataType, options: dict[str, str]) -> Column:
    """Cast a raw string to the declared scalar type; null (never an error) when it does not
    fit. Surrounding blanks are ignored for every type but string (kept as delivered).
    Arrays, maps and structs: see ``_parsed_complex``.
    """
    if isinstance(data_type, T.StringType):
        return raw
    if isinstance(data_type, T.DateType):
        return F.try_to_date(F.trim(raw), options.get("dateFormat", _DEFAULT_DATE))
    if isinstance(data_type, T.TimestampType | T.TimestampNTZType):
        return F.try_to_timestamp(
            F.trim(raw), F.lit(options.get("timestampFormat", _DEFAULT_TS))
        ).cast(data_type)
    return F.trim(raw).try_cast(data_type)


def _complex(data_type: T.DataType) -> bool:
    return isinstance(data_type, T.ArrayType | T.MapType | T.StructType)


def _parsed_complex(raw: Column, data_type: T.DataType) -> Column:
    """A JSON text parsed as an array/map/struct: ``struct<v, _corrupt_record>``.

    Spark keeps what it can of a nested value (an element whose field fails its type becomes
    null); ``_corrupt_record`` says that something did not fit, so the text can be rescued.
    """
    schema = T.StructType(
        [T.StructField("v", data_type, True), T.StructField(_CORRUPT, T.StringType(), True)]
    )
    wrapped = F.concat(F.lit('{"v":'), raw, F.lit("}"))
    return F.from_json(
        wrapped, schema, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": _CORRUPT}
    )


def _undeclared_keys(text: Column, data_type: T.DataType) -> Column:
    """Whether the JSON text of a ``data_type`` value has an object key the type does not
    declare, at any depth (a key whose value is null included).

    False where the text is not of the declared shape: the typed parse flags that. Spark's JSON
    parser drops undeclared keys without a trace, so this is checked on the text.
    """
    if isinstance(data_type, T.StructType):
        if any(has_struct(f.dataType) for f in data_type.fields):
            return _undeclared_in(F.from_json(text, "map<string,string>"), data_type)
        # Only its own keys to check: listing them is cheaper than parsing the values.
        return _any_undeclared(F.json_object_keys(text), data_type)
    if isinstance(data_type, T.ArrayType) and has_struct(data_type.elementType):
        element_type = data_type.elementType
        items = F.from_json(text, "array<string>")
        return F.coalesce(
            F.exists(items, lambda item: _undeclared_keys(item, element_type)), F.lit(False)
        )
    if isinstance(data_type, T.MapType) and has_struct(data_type.valueType):
        value_type = data_type.valueType
        values = F.map_values(F.from_json(text, "map<string,string>"))
        return F.coalesce(
            F.exists(values, lambda value: _undeclared_keys(value, value_type)), F.lit(False)
        )
    return F.lit(False)


def _any_undeclared(keys: Column, struct: T.StructType) -> Column:
    """Whether an object's ``keys`` include one ``struct`` does not declare (False for null)."""
    declared = F.array(*[F.lit(f.name) for f in struct.fields])
    return F.coalesce(F.size(F.array_except(keys, declared)) > 0, F.lit(False))


def _undeclared_in(values: Column, struct: T.StructType) -> Column:
    """Whether a JSON object, given as the map of its values' raw texts, has a key ``struct``
    does not declare, at any depth. False for a null map."""
    found = _any_undeclared(F.map_keys(values), struct)
    for f in struct.fields:
        if has_struct(f.dataType):
            found = found | _undeclared_keys(values.getItem(f.name), f.dataType)
    return found


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
    keys_checked: bool = False,
) -> list[tuple[str, Column]]:
    """Typed declared columns + rescued data + quarantine reason, as (name, expression).

    ``raw_values`` are cast to the declared type (a failed cast goes to ``_rescued_data``);
    ``direct`` columns already have the declared type and pass through. ``keys_checked``: the
    values are known to carry only declared keys (a clean key census), so nested values are
    not checked for undeclared ones.
    """
    direct = direct or {}
    out: list[tuple[str, Column]] = []
    rescued: list[Column] = []  # one struct field per rescued value, null when it fits
    needed: list[Column] = []
    for col in contract.columns:
        if col.name in direct:
            out.append((col.name, direct[col.name]))
            continue
        raw = raw_values.get(col.name)
        if raw is None:
            out.append((col.name, F.lit(None).cast(col.spark_type)))
            continue
        if isinstance(col.spark_type, T.StringType):
            out.append((col.name, raw))
            continue  # a string always fits: nothing to rescue
        blank = F.trim(raw.cast("string")) == F.lit("")
        if _complex(col.spark_type):
            # A nested value that does not fit, or carries undeclared keys, keeps its parsable
            # part in the column; the whole text is rescued.
            parsed = _parsed_complex(raw, col.spark_type)
            typed = parsed.getField("v")
            out.append((col.name, typed))
            problem = typed.isNull() | parsed.getField(_CORRUPT).isNotNull()
            if not keys_checked:
                problem = problem | _undeclared_keys(raw.cast("string"), col.spark_type)
            failed = raw.isNotNull() & problem & ~blank
        else:
            typed = _typed(raw, col.spark_type, options)
            out.append((col.name, typed))
            failed = raw.isNotNull() & typed.isNull() & ~blank
        needed.append(failed)
        rescued.append(F.when(failed, raw.cast("string")).alias(col.name))
    for name, value in extras:
        needed.append(value.isNotNull())
        rescued.append(value.cast("string").alias(name))
    # A struct written as JSON without its null fields: only what did not fit. (No lambda
    # functions here: they would switch the whole projection off Spark's code generation.)
    rescued_json = (
        F.to_json(F.struct(*rescued), {"ignoreNullFields": "true"}) if rescued else F.lit("{}")
    )
    if extra_map is not None:
        needed.append(F.size(extra_map) > 0)
        rescued_json = _merge_objects(rescued_json, F.to_json(extra_map))
    # The JSON is built only for rows where something did not fit: most rows skip it.
    any_needed = F.lit(False)
    for condition in needed:
        any_needed = any_needed | condition
    out.append(
        ("_rescued_data", F.when(any_needed, rescued_json).otherwise(F.lit(None).cast("string")))
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
    out.append(("_quarantine_reason", reason))
    out.append(("_raw_record", F.when(reason.isNotNull(), raw_record)))
    out.append(("_record_index", record_index))
    return out


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


def _named(columns: list[tuple[str, Column]]) -> list[Column]:
    return [column.alias(name) for name, column in columns]


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


def _assemble(
    staged: DataFrame,
    fast: list[tuple[str, Column]],
    slow: list[tuple[str, Column]],
    use_fast: Column,
    same: frozenset[str] = frozenset(),
) -> DataFrame:
    """Per output column: the fast-path value where ``use_fast`` holds, else the slow one.

    Columns in ``same`` have the same value on both paths and take the fast one. One
    projection over ``staged``: its rows are not copied again, and a slow expression is only
    evaluated for the rows that take the slow path.
    """
    assert [n for n, _ in fast] == [n for n, _ in slow]
    slow_by_name = dict(slow)
    return staged.select(
        *[
            (
                column if name in same else F.when(use_fast, column).otherwise(slow_by_name[name])
            ).alias(name)
            for name, column in fast
        ]
    )


def _native(data_type: T.DataType) -> bool:
    """Types the CSV reader parses itself; complex types are read as text and converted."""
    return not _complex(data_type)


@dataclass(frozen=True)
class _CsvLayout:
    """How a CSV file's header maps onto the contract."""

    header: list[str]
    positional: list[str]  # _c0, _c1, ... one per header field
    by_name: dict[str, str]  # header name -> position (a repeated name: its last position)
    read_types: dict[str, T.DataType]  # position -> type Spark parses it as


def _csv_layout(path: Path, contract: TableContract) -> _CsvLayout:
    options = contract.options_for("csv")
    if options.get("header", "true") == "true":
        header = [h.strip() for h in _csv_header(path, options)]
        if not header:
            raise UnreadableFileError(f"{path}: no header line; expected {contract.column_names}")
    else:
        header = contract.column_names
    positional = [f"_c{i}" for i in range(len(header))]
    declared = {c.name: c for c in contract.columns}
    by_name = dict(zip(header, positional, strict=True))
    read_types: dict[str, T.DataType] = {}
    for name, p in zip(header, positional, strict=True):
        col = declared.get(name)
        typed = col is not None and by_name[name] == p and _native(col.spark_type)
        read_types[p] = col.spark_type if typed and col is not None else T.StringType()
    return _CsvLayout(header, positional, by_name, read_types)


def _read_csv(spark: SparkSession, path: Path, contract: TableContract) -> ParsedFile:
    """CSV in one parse: Spark types the declared columns while reading (the fast path).

    Records Spark flags (wrong field count, a value that does not parse as its declared
    type) carry their raw text in the corrupt-record column; only those are parsed again,
    as strings, to rescue values per column and to tell a malformed record from a bad value
    (the slow path, evaluated for flagged rows only).
    """
    options = contract.options_for("csv")
    has_header = options.get("header", "true") == "true"
    notes: list[str] = []
    layout = _csv_layout(path, contract)
    header, positional, by_name = layout.header, layout.positional, layout.by_name
    declared = {c.name: c for c in contract.columns}
    schema = T.StructType(
        [T.StructField(p, layout.read_types[p], True) for p in positional]
        + [T.StructField(_CORRUPT, T.StringType(), True)]
    )
    reader_options = {
        **options,
        "header": "true" if has_header else "false",
        "mode": "PERMISSIVE",
        "columnNameOfCorruptRecord": _CORRUPT,
        "enforceSchema": "true",
    }
    # Counted as read: the CSV parse happens in the scan, so nothing is worth shielding from
    # a pushed-down filter (see _counted), and the scan's rows pass through uncopied.
    df, records = _counted(spark.read.options(**reader_options).schema(schema).csv(str(path)))
    missing = [c for c in contract.column_names if c not in by_name]
    if missing:
        notes.append(f"declared columns absent from the file header: {missing}")
    extra_names = [(n, p) for n, p in by_name.items() if n not in declared]
    # An earlier position of a repeated header name is kept under "<name>#<column number>".
    extra_names += [
        (f"{n}#{i + 1}", p)
        for i, (n, p) in enumerate(zip(header, positional, strict=True))
        if by_name[n] != p
    ]
    write_options = {
        "sep": options.get("sep", ","),
        "quote": options.get("quote", '"'),
        "escape": options.get("escape", '"'),
        "nullValue": "",
        "dateFormat": options.get("dateFormat", _DEFAULT_DATE),
        "timestampFormat": options.get("timestampFormat", _DEFAULT_TS),
    }
    in_file = {n: p for n, p in by_name.items() if n in declared}

    # Fast path: the reader typed every native column; complex ones are converted here.
    direct = {n: F.col(p) for n, p in in_file.items() if _native(declared[n].spark_type)}
    converted = {n: F.col(p) for n, p in in_file.items() if n not in direct}
    fast = _finish(
        converted,
        contract,
        options,
        [(n, F.col(p)) for n, p in extra_names],
        None,
        F.lit(None).cast("string"),
        # Raw text of a row quarantined for a missing key: the fields written back as CSV;
        # the quarantine's line lookup replaces it with the file's own text.
        F.to_csv(F.struct(*[F.col(p) for p in positional]), write_options),
        F.lit(None).cast("bigint"),
        direct,
    )

    # Slow path: the flagged record's raw text, parsed again with every field as a string.
    text_schema = T.StructType(
        [T.StructField(p, T.StringType(), True) for p in positional]
        + [T.StructField(_CORRUPT, T.StringType(), True)]
    )
    parse_options = {
        k: v
        for k, v in options.items()
        if k not in ("header", "multiLine", "encoding", "charset", "lineSep")
    }
    parse_options.update({"mode": "PERMISSIVE", "columnNameOfCorruptRecord": _CORRUPT})
    staged = df.select(
        *positional,
        _CORRUPT,
        F.when(
            F.col(_CORRUPT).isNotNull(),
            F.from_csv(F.col(_CORRUPT), F.lit(text_schema.simpleString()), parse_options),
        ).alias("_text"),
    )
    text = F.col("_text")
    slow = _finish(
        {n: text.getField(p) for n, p in in_file.items()},
        contract,
        options,
        [(n, text.getField(p)) for n, p in extra_names],
        None,
        F.when(
            text.getField(_CORRUPT).isNotNull(),
            F.lit(f"malformed_csv_record: expected {len(header)} fields as in the header"),
        ),
        F.col(_CORRUPT),
        F.lit(None).cast("bigint"),
    )
    # A text column holds the same token on both paths (a malformed record is quarantined).
    same = frozenset(
        n for n, p in in_file.items() if isinstance(layout.read_types[p], T.StringType)
    )
    return ParsedFile(
        _assemble(staged, fast, slow, F.col(_CORRUPT).isNull(), same), "csv", records, tuple(notes)
    )


def _record_text(lines: list[str]) -> str:
    text = "".join(lines)
    for ending in ("\r\n", "\n", "\r"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


def locate_csv_records(
    path: Path, contract: TableContract, raw_records: Sequence[str | None]
) -> list[tuple[int | None, str | None]]:
    """First line and exact text, in the file, of each quarantined CSV record.

    A record is found by its fields: all of them for records Spark flagged (their raw text is
    Spark's own), else the fields Spark read as text (a record quarantined for a missing key
    carries its typed fields written back, which may be formatted differently from the file).
    Each file record is claimed once, first match first. Not found: ``(None, None)``.
    """
    options = contract.options_for("csv")
    dialect = csv_dialect(options)
    layout = _csv_layout(path, contract)
    text_positions = [
        i for i, p in enumerate(layout.positional) if isinstance(layout.read_types[p], T.StringType)
    ]
    exact: dict[tuple[str, ...], list[int]] = {}
    by_text: dict[tuple[str, ...], list[int]] = {}
    for i, raw in enumerate(raw_records):
        if not raw:
            continue
        fields = next(csv.reader(io.StringIO(raw, newline=""), **dialect), [])
        exact.setdefault(tuple(fields), []).append(i)
        if len(fields) == len(layout.header):
            by_text.setdefault(tuple(fields[j] for j in text_positions), []).append(i)
    result: list[tuple[int | None, str | None]] = [(None, None)] * len(raw_records)
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

    consumed: list[str] = []

    def lines(handle: Iterator[str]) -> Iterator[str]:
        for line in handle:
            consumed.append(line)
            yield line

    with path.open("r", encoding=options.get("encoding", "UTF-8"), newline="") as handle:
        reader = csv.reader(lines(iter(handle)), **dialect)
        start = 1
        for fields in reader:
            if pending == 0:
                break
            slot = claim(exact, tuple(fields))
            if slot is None and len(fields) == len(layout.header):
                slot = claim(by_text, tuple(fields[j] for j in text_positions))
            if slot is not None:
                result[slot] = (start, _record_text(consumed))
                pending -= 1
            consumed.clear()
            start = reader.line_num + 1
    return result


def _first_significant_byte(path: Path) -> bytes:
    with path.open("rb") as handle:
        chunk = handle.read(4096)
    stripped = chunk.lstrip(b"\xef\xbb\xbf \t\r\n")
    return stripped[:1]


def _only_value(text: Column, schema: str) -> Column:
    """``text`` parsed as the only element of a JSON array: null unless it holds exactly one
    JSON value. Spark's JSON parsers read a text's first value and ignore whatever follows."""
    return F.from_json(F.concat(F.lit("["), text, F.lit("]")), f"array<{schema}>")


def _first_if_only(wrapped: Column) -> Column:
    return F.when(F.size(wrapped) == F.lit(1), wrapped.getItem(0))


def _json_slow_path(
    contract: TableContract,
    options: dict[str, str],
    text: Column,
    values: Column,
    *,
    keys_checked: bool = False,
) -> list[tuple[str, Column]]:
    """The slow path of a JSON record: ``values``, its top-level values as raw texts (a map,
    null when the record is not one JSON object), rescued per field and undeclared key.
    ``keys_checked``: a clean key census proved that records carry declared keys only."""
    declared = contract.column_names
    extra_map = None
    if not keys_checked:
        # The undeclared keys: the map's entries minus the declared ones. (No lambda function:
        # it would take the projection off Spark's whole-stage code generation for every
        # record.)
        m = F.coalesce(values, F.create_map().cast("map<string,string>"))
        declared_entries = F.map_entries(
            F.create_map(*[part for name in declared for part in (F.lit(name), m.getItem(name))])
        )
        extra_map = F.map_from_entries(F.array_except(F.map_entries(m), declared_entries))
    return _finish(
        {name: values.getItem(name) for name in declared},
        contract,
        options,
        [],
        extra_map,
        F.when(values.isNull(), F.lit("invalid_json: not one JSON object")),
        text,
        F.lit(None).cast("bigint"),
        keys_checked=keys_checked,
    )


def _json_fast_path(
    contract: TableContract, options: dict[str, str], fields: dict[str, Column], text: Column
) -> list[tuple[str, Column]]:
    """The fast path: the typed parse's ``fields`` (one per declared column) as they are."""
    return _finish(
        {},
        contract,
        options,
        [],
        None,
        F.lit(None).cast("string"),
        text,
        F.lit(None).cast("bigint"),
        fields,
    )


def _json_options(contract: TableContract) -> dict[str, str]:
    options = contract.options_for("json")
    parse_options = {
        k: v for k, v in options.items() if k not in ("multiLine", "encoding", "lineSep")
    }
    parse_options.update({"mode": "PERMISSIVE", "columnNameOfCorruptRecord": _CORRUPT})
    return parse_options


def _text_columns(contract: TableContract) -> frozenset[str]:
    """Declared text columns: a JSON record's value for them is the same on both paths."""
    return frozenset(c.name for c in contract.columns if isinstance(c.spark_type, T.StringType))


def _typed_json_schema(contract: TableContract) -> T.StructType:
    return T.StructType(
        [*contract.spark_schema.fields, T.StructField(_CORRUPT, T.StringType(), True)]
    )


def _read_json(
    spark: SparkSession, path: Path, contract: TableContract, keys_checked: bool
) -> ParsedFile:
    """JSON: per record, one typed parse (the fast path); records the parse flags are parsed
    again into a map of raw texts, to rescue values and undeclared keys (the slow path).

    ``keys_checked``: a key census of the file found only declared keys (``census``). Spark's
    own JSON reader then parses the lines; else each record's keys are checked on its text.
    """
    if not keys_checked:
        return _read_json_records(spark, path, contract)
    options = contract.options_for("json")
    reader_options = {**_json_options(contract), "multiLine": "false"}
    df, records = _counted(
        spark.read.options(**reader_options).schema(_typed_json_schema(contract)).json(str(path))
    )
    corrupt = F.col(_CORRUPT)
    declared = contract.column_names
    # The parsed columns pass through as they are (no struct around them: packing and
    # unpacking one costs a copy of every record).
    staged = df.select(
        *declared,
        corrupt,
        F.when(
            corrupt.isNotNull(), F.from_json(corrupt, "map<string,string>", {"mode": "PERMISSIVE"})
        ).alias("_values"),
    )
    # The reader keeps the text of flagged records only; a record quarantined for a missing
    # key shows its parsed fields here, and its delivered line in the quarantine (``delivered``).
    text = F.coalesce(corrupt, F.to_json(F.struct(*declared)))
    fast = _json_fast_path(contract, options, {name: F.col(name) for name in declared}, text)
    slow = _json_slow_path(contract, options, corrupt, F.col("_values"), keys_checked=True)
    same = _text_columns(contract)
    return ParsedFile(
        _assemble(staged, fast, slow, corrupt.isNull(), same),
        "json",
        records,
        delivered=lambda: _read_json_records(spark, path, contract).df,
    )


def _read_json_records(spark: SparkSession, path: Path, contract: TableContract) -> ParsedFile:
    """JSON read as text, one record per line (or per element of one JSON array document), its
    keys checked record by record at every depth.
    """
    options = contract.options_for("json")
    if _first_significant_byte(path) == b"[":
        # One JSON array document: split it into element texts, then treat as JSON lines.
        doc = spark.read.text(str(path), wholetext=True)
        # Anything after the document makes it invalid.
        wrapped_doc = doc.select(_only_value(F.col("value"), "array<string>").alias("w"))
        elements = wrapped_doc.select(_first_if_only(F.col("w")).alias("elements"))
        if elements.filter(F.col("elements").isNull()).limit(1).count() > 0:
            raise UnreadableFileError(
                f"{path}: starts with '[' but is not a valid JSON array; deliver one JSON "
                "document per line or a complete array"
            )
        lines = elements.select(F.explode("elements").alias("value"))
    else:
        lines = spark.read.text(str(path)).filter(F.trim("value") != F.lit(""))
    typed = F.from_json("value", _typed_json_schema(contract), _json_options(contract))
    # The record's top-level values as raw texts; a line holding two objects, or an object and
    # more, has none (it is invalid JSON), where Spark's parsers would read its first object.
    wrapped = _only_value(F.col("value"), "map<string,string>")
    staged = lines.select("value", typed.alias("_typed"), wrapped.alias("_wrapped"))
    values = _first_if_only(F.col("_wrapped"))
    # Undeclared keys at any depth; a record that is not one JSON object has none to rescue.
    # A projection of its own, below the records' observation: the check holds lambda
    # functions, which Spark evaluates outside generated code and never shares between the
    # columns that test it; above the observation, the quarantine filter would repeat it.
    staged, records = _counted(
        staged.select(
            "value", "_typed", "_wrapped", _undeclared_in(values, contract.spark_schema).alias("_u")
        )
    )
    use_fast = F.col("_typed").getField(_CORRUPT).isNull() & values.isNotNull() & ~F.col("_u")
    fields = {name: F.col("_typed").getField(name) for name in contract.column_names}
    fast = _json_fast_path(contract, options, fields, F.col("value"))
    slow = _json_slow_path(contract, options, F.col("value"), values)
    # A text column holds the same value on both paths (a record that is not a JSON object is
    # quarantined).
    same = _text_columns(contract)
    return ParsedFile(_assemble(staged, fast, slow, use_fast, same), "json", records)


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
    # Counted after the projection: it reads the scan's hidden _metadata column.
    parsed, records = _counted(df.select(*_named(select)))
    return ParsedFile(parsed, "parquet", records)


def _short(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:500] if text else type(err).__name__


def read_delivered_file(
    spark: SparkSession,
    path: Path,
    fmt: FileFormat,
    contract: TableContract,
    *,
    keys_checked: bool = False,
) -> ParsedFile:
    """Parse one file per its format and the contract; see the module docstring for columns.

    ``keys_checked``: for JSON, a clean key census of these bytes (see ``census``).
    """
    try:
        if fmt == "json":
            return _read_json(spark, path, contract, keys_checked)
        if fmt == "csv":
            return _read_csv(spark, path, contract)
        return _read_parquet(spark, path, contract)
    except UnreadableFileError:
        raise
    except (UnicodeDecodeError, csv.Error, io.UnsupportedOperation) as err:
        raise UnreadableFileError(f"{path}: cannot be read as {fmt}: {err}") from err
