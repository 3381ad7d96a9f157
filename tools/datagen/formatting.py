"""Text encodings of row values, shared by the file writers and the malformed-record injector.

One place decides how a date, timestamp or amount looks in CSV and JSON, so a malformed line and
a clean line of the same file are spelled alike. Formats match the contracts' reader options:
dates ``yyyy-MM-dd``, timestamps ``yyyy-MM-dd HH:mm:ss``, amounts with their 2 decimals.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

__all__ = [
    "CsvDialect",
    "csv_fields",
    "csv_line",
    "csv_value",
    "json_line",
]


class CsvDialect(csv.Dialect):
    """RFC 4180 with LF endings: quote only when needed, double embedded quotes."""

    delimiter = ","
    quotechar = '"'
    doublequote = True
    skipinitialspace = False
    lineterminator = "\n"
    quoting = csv.QUOTE_MINIMAL
    strict = True


_DECIMAL_MARK = "\x00"
_DECIMAL_PLACEHOLDER = re.compile(r'"\\u0000(-?[0-9]+(?:\.[0-9]+)?)\\u0000"')


def csv_value(value: object) -> str | None:
    """CSV text of one value; None stays None (written as an empty field)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def csv_fields(row: Mapping[str, object], columns: Sequence[str]) -> list[str | None]:
    """CSV texts of a row's columns, in the given order."""
    return [csv_value(row[column]) for column in columns]


def csv_line(fields: Sequence[str | None]) -> str:
    """One CSV record as text, without its line terminator."""
    buffer = io.StringIO()
    csv.writer(buffer, dialect=CsvDialect).writerow(fields)
    return buffer.getvalue().removesuffix("\n")


def _json_default(value: object) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        # The stdlib encoder cannot emit a raw number from `default`; mark it and unquote after.
        return f"{_DECIMAL_MARK}{value}{_DECIMAL_MARK}"
    raise TypeError(f"cannot encode {type(value).__name__} value {value!r} as JSON")


def json_line(record: Mapping[str, object]) -> str:
    """One compact JSON object without newline; Decimals become numbers that keep their scale."""
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    if "\\u0000" not in text:
        return text
    return _DECIMAL_PLACEHOLDER.sub(r"\1", text)
