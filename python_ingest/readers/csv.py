"""CSV: the header decides which field feeds which column; Spark parses every record once.

Every field is read as text and cast by the column plan, one rule for every value: a value
that does not fit its type is null in its column and rescued with its delivered text, and a
rounded or shifted value is told from an exact one. The only records the CSV reader flags are
malformed ones (a field count other than the header's): they are quarantined whole.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from python_ingest.contract import TableContract
from python_ingest.readers.names import AmbiguousNameError, match_names
from python_ingest.readers.plan import (
    CORRUPT,
    DEFAULT_DATE,
    DEFAULT_TIMESTAMP,
    ColumnPlan,
    ParsedFile,
    UnreadableFileError,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["CsvLayout", "csv_dialect", "csv_layout", "read_csv"]

INVALID_TEXT = "\ufffd"


def csv_dialect(options: Mapping[str, str]) -> dict[str, Any]:
    """Python ``csv`` settings equivalent to the contract's Spark CSV options."""
    quote = options.get("quote", '"')
    escape = options.get("escape", '"')
    return {
        "delimiter": options.get("sep", ","),
        "quotechar": quote,
        "escapechar": None if escape == quote else escape,
        "doublequote": escape == quote,
    }


@dataclass(frozen=True)
class CsvLayout:
    """How a CSV file's fields map onto the contract."""

    header: list[str]
    positional: list[str]  # _c0, _c1, ... one per header field
    sources: dict[str, str]  # declared column -> position
    extras: list[tuple[str, str]]  # rescued name -> position
    missing: tuple[str, ...]  # declared columns the file lacks


def _header(path: Path, options: Mapping[str, str]) -> list[str]:
    encoding = options.get("encoding", options.get("charset", "UTF-8"))
    with path.open("r", encoding=encoding, errors="replace", newline="") as handle:
        return [h.strip() for h in next(csv.reader(handle, **csv_dialect(options)), [])]


def csv_layout(path: Path, contract: TableContract) -> CsvLayout:
    """The file's header matched to the contract (see ``readers.names``). A file without a
    declared key column, or (unless the contract allows it) without a declared column, is
    refused before anything is read."""
    options = contract.options_for("csv")
    if options.get("header", "true") == "true":
        header = _header(path, options)
        if not header or header == [""]:
            raise UnreadableFileError(
                f"{path}: no header line; expected the columns {contract.column_names}"
            )
    else:
        header = contract.column_names
    positional = [f"_c{i}" for i in range(len(header))]
    # A repeated header name: its last position is the one matched; earlier ones are
    # rescued as "<name>#<column number>".
    last = {name: p for name, p in zip(header, positional, strict=True)}
    sources_by_name = {c.name: c.source_name for c in contract.columns if c.source_name}
    try:
        match = match_names(header, contract.column_names, sources_by_name)
    except AmbiguousNameError as err:
        raise UnreadableFileError(f"{path}: {err} in {contract.path}") from err
    extras = [(name, last[name]) for name in match.extras]
    extras += [
        (f"{name}#{i + 1}", p)
        for i, (name, p) in enumerate(zip(header, positional, strict=True))
        if last[name] != p
    ]
    layout = CsvLayout(
        header=header,
        positional=positional,
        sources={column: last[name] for column, name in match.sources.items()},
        extras=extras,
        missing=match.missing,
    )
    check_missing(path, contract, layout.missing, header)
    return layout


def check_missing(
    path: Path, contract: TableContract, missing: tuple[str, ...], delivered: list[str]
) -> None:
    """Refuse a delivery that lacks a key column, or a declared column unless allowed."""
    keys = [k for k in contract.ingestion.keys if k in missing]
    if keys:
        raise UnreadableFileError(
            f"{path}: the file has no column for the key {keys[0]!r} (its columns: "
            f"{delivered}); every row needs its key, so nothing was loaded. Re-deliver the "
            f"file with that column, or name its delivered name in config.meta.source_name "
            f"of {keys[0]!r} in {contract.path}"
        )
    if missing and contract.ingestion.on_missing_columns == "fail":
        raise UnreadableFileError(
            f"{path}: the file lacks the declared column(s) {list(missing)} (its columns: "
            f"{delivered}); nothing was loaded. Re-deliver it with them, name their delivered "
            "names in config.meta.source_name, or set ingestion.on_missing_columns: null in "
            f"{contract.path} to load such files with those columns null"
        )


def _text_damaged(values: list[Column]) -> Column:
    """Whether a record holds text the decoder replaced (bytes that are not valid UTF-8)."""
    found = F.lit(False)
    for value in values:
        found = found | F.coalesce(F.instr(value, INVALID_TEXT) > 0, F.lit(False))
    return found


def read_csv(
    spark: SparkSession, path: Path, contract: TableContract, *, damaged_text: bool = False
) -> ParsedFile:
    """The file's rows shaped like bronze. ``damaged_text``: the file has lines that are not
    valid UTF-8, whose records are quarantined (``invalid_utf8``) while the others load."""
    options = contract.options_for("csv")
    layout = csv_layout(path, contract)
    positional = layout.positional
    schema = T.StructType(
        [T.StructField(p, T.StringType(), True) for p in positional]
        + [T.StructField(CORRUPT, T.StringType(), True)]
    )
    reader_options = {
        **options,
        "header": options.get("header", "true"),
        "mode": "PERMISSIVE",
        "columnNameOfCorruptRecord": CORRUPT,
        "enforceSchema": "true",
    }
    df = spark.read.options(**reader_options).schema(schema).csv(str(path))
    notes = []
    if layout.missing:
        notes.append(f"declared column(s) {list(layout.missing)} absent from the file: null")
    reason = F.when(
        F.col(CORRUPT).isNotNull(),
        F.lit(f"malformed_csv_record: expected {len(positional)} fields as in the header"),
    )
    if damaged_text:
        reason = F.coalesce(
            F.when(
                _text_damaged([F.col(p) for p in positional] + [F.col(CORRUPT)]),
                F.lit("invalid_utf8: bytes that are not valid UTF-8"),
            ),
            reason,
        )
    write_options = {
        "sep": options.get("sep", ","),
        "quote": options.get("quote", '"'),
        "escape": options.get("escape", '"'),
        "nullValue": "",
        "dateFormat": options.get("dateFormat", DEFAULT_DATE),
        "timestampFormat": options.get("timestampFormat", DEFAULT_TIMESTAMP),
    }
    # A quarantined record's raw text: Spark's own for a malformed one, else its fields
    # written back as CSV; the quarantine replaces it with the file's text
    # (``quarantine.locate_csv_records``).
    plan = ColumnPlan(
        contract,
        options,
        raw_record=F.coalesce(
            F.col(CORRUPT), F.to_csv(F.struct(*[F.col(p) for p in positional]), write_options)
        ),
        raw={n: F.col(p) for n, p in layout.sources.items()},
        extras=[(n, F.col(p)) for n, p in layout.extras],
        reason=reason,
    )
    return ParsedFile(
        df.select(*[column.alias(name) for name, column in plan.columns()]), "csv", tuple(notes)
    )
