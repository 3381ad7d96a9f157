"""Parquet: the file's own schema, matched to the contract by column name.

A column whose file type is the declared type passes through; any other is converted from its
text (a double into a decimal, a string into a date, ...) with the column plan's rules, so a
value that does not fit, or that the conversion rounds, keeps its delivered text in
``_rescued_data``. Columns the contract does not declare are rescued under their own name.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from python_ingest.contract import TableContract
from python_ingest.readers.csv import check_missing
from python_ingest.readers.names import AmbiguousNameError, delivered_schema, match_names
from python_ingest.readers.plan import ColumnPlan, ParsedFile, UnreadableFileError, is_complex

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["read_parquet"]

_log = logging.getLogger(__name__)


def _as_text(value: Column, data_type: T.DataType) -> Column:
    return F.to_json(value) if is_complex(data_type) else value.cast("string")


def read_parquet(spark: SparkSession, path: Path, contract: TableContract) -> ParsedFile:
    options = contract.options_for("parquet")
    try:
        df = spark.read.options(**options).parquet(str(path))
        file_types = {f.name: f.dataType for f in df.schema.fields}
    except Exception as err:
        _log.debug("reading %s as Parquet failed", path, exc_info=err)
        raise UnreadableFileError(
            f"{path}: not a readable Parquet file (its footer or schema cannot be read: the "
            "file is truncated, still being written, or not Parquet); re-deliver the complete "
            "file"
        ) from err
    sources_by_name = {c.name: c.source_name for c in contract.columns if c.source_name}
    try:
        match = match_names(list(file_types), contract.column_names, sources_by_name)
    except AmbiguousNameError as err:
        raise UnreadableFileError(f"{path}: {err} in {contract.path}") from err
    check_missing(path, contract, match.missing, list(file_types))
    declared = {c.name: c.spark_type for c in contract.columns}
    raw: dict[str, Column] = {}
    typed: dict[str, Column] = {}
    for column, name in match.sources.items():
        if file_types[name] == declared[column]:
            typed[column] = F.col(f"`{name}`")
        else:
            raw[column] = _as_text(F.col(f"`{name}`"), file_types[name])
    nested = {
        f.name: d.dataType
        for f, d in zip(
            contract.spark_schema.fields, delivered_schema(contract).fields, strict=True
        )
    }
    plan = ColumnPlan(
        contract,
        options,
        delivered_types=nested,
        raw_record=F.to_json(F.struct(*[F.col(f"`{n}`") for n in file_types])),
        raw=raw,
        typed=typed,
        extras=[(n, _as_text(F.col(f"`{n}`"), file_types[n])) for n in match.extras],
        record_index=F.col("_metadata.row_index"),
    )
    notes = []
    if match.missing:
        notes.append(f"declared column(s) {list(match.missing)} absent from the file: null")
    parsed = df.select(*[column.alias(name) for name, column in plan.columns()])
    return ParsedFile(parsed, "parquet", tuple(notes))
