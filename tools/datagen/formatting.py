"""Text encodings of row values, shared by the file writers and the malformed-record injector.

One place decides how a date, timestamp or amount looks in CSV and JSON, so a malformed line and
a clean line of the same file are spelled alike. Formats match the contracts' reader options:
dates ``yyyy-MM-dd``, timestamps ``yyyy-MM-dd HH:mm:ss``, amounts with their 2 decimals.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any, cast

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


def _json_key(key: str) -> str:
    """Encoded key plus colon; keys repeat on every record, so cache them."""
    encoded = _KEYS.get(key)
    if encoded is None:
        encoded = _KEYS[key] = f"{encode_basestring(key)}:"
    return encoded


def _json_object(value: Mapping[str, object]) -> str:
    return "{" + ",".join([_json_key(key) + _json_value(item) for key, item in value.items()]) + "}"


def _json_array(value: Sequence[object]) -> str:
    return "[" + ",".join([_json_value(item) for item in value]) + "]"


def _json_date(value: date) -> str:
    return f'"{value.isoformat()}"'


def _json_timestamp(value: datetime) -> str:
    return f'"{value.isoformat(sep=" ", timespec="seconds")}"'


_KEYS: dict[str, str] = {}
_JSON_ENCODERS: dict[type, Callable[[Any], str]] = {
    type(None): lambda _: "null",
    str: encode_basestring,
    bool: lambda value: "true" if value else "false",
    int: int.__repr__,
    float: json.dumps,
    Decimal: Decimal.__str__,
    datetime: _json_timestamp,
    date: _json_date,
    dict: _json_object,
    list: _json_array,
    tuple: _json_array,
}


def _json_value(value: object) -> str:
    if value.__class__ is str:
        return encode_basestring(cast("str", value))
    encoder = _JSON_ENCODERS.get(value.__class__)
    if encoder is not None:
        return encoder(value)
    for kind, fallback in _JSON_ENCODERS.items():
        if kind is not type(None) and isinstance(value, kind):
            return fallback(value)
    if isinstance(value, Mapping):
        return _json_object(value)
    raise TypeError(f"cannot encode {type(value).__name__} value {value!r} as JSON")


def json_line(record: Mapping[str, object]) -> str:
    """One compact JSON object without newline; Decimals become numbers that keep their scale.

    Hand-rolled over the stdlib's C string escaper: ``json.dumps`` cannot emit a Decimal as a
    number, and this is also faster for the million-row benchmark files.
    """
    return _json_object(record)
