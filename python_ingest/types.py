"""Parse the Spark SQL type names used in contracts, without a running JVM.

Contracts are validated before any session starts (a bad contract fails in milliseconds, before
any write), so the type grammar is parsed here rather than by Spark's DDL parser.
"""

from __future__ import annotations

import re

from pyspark.sql import types as T

__all__ = ["parse_type"]

_SIMPLE: dict[str, T.DataType] = {
    "string": T.StringType(),
    "varchar": T.StringType(),
    "boolean": T.BooleanType(),
    "tinyint": T.ByteType(),
    "byte": T.ByteType(),
    "smallint": T.ShortType(),
    "short": T.ShortType(),
    "int": T.IntegerType(),
    "integer": T.IntegerType(),
    "bigint": T.LongType(),
    "long": T.LongType(),
    "float": T.FloatType(),
    "double": T.DoubleType(),
    "date": T.DateType(),
    "timestamp": T.TimestampType(),
    "timestamp_ntz": T.TimestampNTZType(),
    "binary": T.BinaryType(),
}
_TOKEN = re.compile(r"\s*(?:(<|>|\(|\)|,|:)|([A-Za-z_][A-Za-z0-9_]*)|(\d+))")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[str] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN.match(text, pos)
            if not m:
                raise ValueError(f"unexpected character {text[pos:].strip()[0]!r}")
            self.tokens.append(m.group(1) or m.group(2) or m.group(3))
            pos = m.end()
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None:
            raise ValueError("unexpected end of type")
        if expected is not None and tok.lower() != expected:
            raise ValueError(f"expected {expected!r}, found {tok!r}")
        self.i += 1
        return tok

    def parse(self) -> T.DataType:
        result = self.data_type()
        if self.peek() is not None:
            raise ValueError(f"unexpected {self.peek()!r} after the type")
        return result

    def data_type(self) -> T.DataType:
        name = self.take().lower()
        if name in ("decimal", "numeric", "dec"):
            if self.peek() == "(":
                self.take("(")
                precision = int(self.take())
                scale = 0
                if self.peek() == ",":
                    self.take(",")
                    scale = int(self.take())
                self.take(")")
                if not 0 < precision <= 38 or not 0 <= scale <= precision:
                    raise ValueError(f"decimal({precision},{scale}) is out of range")
                return T.DecimalType(precision, scale)
            return T.DecimalType(10, 0)
        if name == "array":
            self.take("<")
            element = self.data_type()
            self.take(">")
            return T.ArrayType(element, containsNull=True)
        if name == "map":
            self.take("<")
            key = self.data_type()
            self.take(",")
            value = self.data_type()
            self.take(">")
            return T.MapType(key, value, valueContainsNull=True)
        if name == "struct":
            self.take("<")
            fields: list[T.StructField] = []
            while True:
                field_name = self.take()
                self.take(":")
                fields.append(T.StructField(field_name, self.data_type(), nullable=True))
                if self.peek() == ",":
                    self.take(",")
                    continue
                self.take(">")
                return T.StructType(fields)
        if name in ("varchar", "char") and self.peek() == "(":
            self.take("(")
            self.take()
            self.take(")")
            return T.StringType()
        if name in _SIMPLE:
            return _SIMPLE[name]
        raise ValueError(f"{name!r} is not a Spark SQL type")


def parse_type(text: str) -> T.DataType:
    """Spark DataType for a SQL type name such as ``decimal(12,2)`` or ``array<struct<a:int>>``."""
    return _Parser(text).parse()
