"""Readers: one delivered file -> a DataFrame shaped like its bronze table.

Every reader applies the contract's declared schema explicitly (no inference at run time) and
returns the declared columns, typed, ``_rescued_data`` and the working columns of
``readers.plan`` (why a record is quarantined, its raw text and bytes, its index). A file that
cannot be read as its format at all raises ``UnreadableFileError``, naming the cause and the
fix; the pipeline records the file as failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from python_ingest.contract import FileFormat, TableContract
from python_ingest.readers.csv import read_csv
from python_ingest.readers.json import read_json
from python_ingest.readers.names import delivered_schema
from python_ingest.readers.parquet import read_parquet
from python_ingest.readers.plan import WORK_COLUMNS, ParsedFile, UnreadableFileError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from pyspark.sql import types as T

__all__ = ["WORK_COLUMNS", "ParsedFile", "UnreadableFileError", "read_delivered_file"]


def read_delivered_file(
    spark: SparkSession,
    path: Path,
    fmt: FileFormat,
    contract: TableContract,
    *,
    keys_checked: bool = False,
    damaged_text: bool = False,
    json_schema: T.StructType | None = None,
) -> ParsedFile:
    """Plan the read of one file (nothing is read yet but its header or schema).

    ``keys_checked``: a clean key census of these bytes (JSON). ``damaged_text``: the file has
    lines that are not valid UTF-8 (CSV, JSON), quarantined record by record. ``json_schema``:
    the contract's schema named as its keys are delivered (default: its source names).
    """
    if fmt == "json":
        schema = json_schema or delivered_schema(contract)
        return read_json(
            spark, path, contract, schema, keys_checked=keys_checked, damaged_text=damaged_text
        )
    if fmt == "csv":
        return read_csv(spark, path, contract, damaged_text=damaged_text)
    return read_parquet(spark, path, contract)
