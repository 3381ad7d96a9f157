"""Key census of a JSON-lines file: does every object carry only keys its level declares?

Spark's JSON parser drops the keys a schema does not declare, at every depth, without a trace;
the ingestion must rescue them instead. Checking that per record inside Spark costs a second
tokenization of every record. The census answers it for the whole file in the pass that already
reads every byte for the content hash: each line is decoded (msgspec, in C) against struct types
mirroring the contract's schema that forbid unknown fields, with every leaf value accepted as
is. A clean census proves that no record has an undeclared key at any depth, so the file may be
read by Spark's own JSON reader with no per-record key check. Anything else (an undeclared key,
a line that is not a JSON object, a value whose shape is not the declared one, a JSON array
document) makes the census unclean, and the file is read with the per-record checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from pyspark.sql import types as T

__all__ = ["FileCensus", "KeyCensus", "has_struct"]

_LEAF: Any = object  # any JSON value: a leaf's type is checked by Spark, not here
_UNKNOWN_FIELD = "Object contains unknown field"


def _census_struct(struct: T.StructType) -> Any:
    """A msgspec struct type with the struct's keys (any of them may be absent), refusing
    others. Fields are named ``f<i>`` and renamed to the keys, which need not be identifiers."""
    return msgspec.defstruct(
        "CensusStruct",
        [(f"f{i}", _census_type(f.dataType), None) for i, f in enumerate(struct.fields)],
        rename={f"f{i}": f.name for i, f in enumerate(struct.fields)},
        forbid_unknown_fields=True,
        gc=False,
    )


def _census_type(data_type: T.DataType) -> Any:
    """The msgspec type accepting what ``data_type`` accepts, with unknown keys refused."""
    inner: Any
    if isinstance(data_type, T.StructType):
        inner = _census_struct(data_type)
    elif isinstance(data_type, T.ArrayType) and has_struct(data_type.elementType):
        inner = list[_census_type(data_type.elementType)]  # type: ignore[misc]
    elif isinstance(data_type, T.MapType) and has_struct(data_type.valueType):
        inner = dict[str, _census_type(data_type.valueType)]  # type: ignore[misc]
    else:
        return _LEAF
    return inner | None


def has_struct(data_type: T.DataType) -> bool:
    """Whether values of ``data_type`` contain JSON objects with declared keys."""
    if isinstance(data_type, T.StructType):
        return True
    if isinstance(data_type, T.ArrayType):
        return has_struct(data_type.elementType)
    if isinstance(data_type, T.MapType):
        return has_struct(data_type.valueType)
    return False


class KeyCensus:
    """Fed a file's bytes in order; ``clean`` says whether every line passed.

    Lines are split on ``\\n`` (a ``\\r\\n`` ending is whitespace to the decoder; any other
    carriage return, where Spark's reader would also end a line, makes the census unclean);
    blank lines are skipped, as Spark's reader skips them; every other line must hold exactly
    one JSON object, so a clean census has read the records Spark's reader reads. The first
    problem is kept in ``problem``, with its line number, and the first undeclared key in
    ``undeclared`` (the census reads on to find one). A file that does not start with a JSON
    object (a JSON array document) is not censused: not clean, no problem.
    """

    def __init__(self, schema: T.StructType) -> None:
        self._decoder = msgspec.json.Decoder(_census_struct(schema))
        self._tail = b""
        self._started = False
        self._skipped = False
        self._line = 0
        self.records = 0
        self.problem: str | None = None
        self.undeclared: str | None = None

    @property
    def clean(self) -> bool:
        return self.problem is None and not self._skipped

    @property
    def settled(self) -> bool:
        """No further byte can change the outcome: an undeclared key found, or not JSON lines."""
        return self.undeclared is not None or self._skipped

    def feed(self, chunk: bytes) -> None:
        if self.settled or not chunk:
            return
        if not self._started:
            head = chunk.lstrip()[:1]
            if not head:
                self._tail += chunk
                return
            self._started = True
            if head != b"{":
                self._skipped = True  # not JSON lines (one JSON array document, or not JSON)
                return
        body = self._tail + chunk
        lines = body.split(b"\n")
        self._tail = lines.pop()  # unfinished until the next chunk (or the end)
        done = len(body) - len(self._tail)
        carriage_returns = body.count(b"\r", 0, done)
        if carriage_returns and carriage_returns != body.count(b"\r\n", 0, done):
            self._lone_carriage_return(lines)
        self._decode(lines)

    def finish(self) -> bool:
        if self.undeclared is None and not self._skipped:
            self._lone_carriage_return([self._tail])
            self._decode([self._tail])
        self._tail = b""
        return self.clean

    def _lone_carriage_return(self, lines: list[bytes]) -> None:
        """Spark's reader also ends a line at a carriage return not followed by a line feed,
        where this census reads on: the records would differ, so the census is not clean."""
        for number, line in enumerate(lines, start=self._line + 1):
            if b"\r" in line.rstrip(b"\r"):
                self.problem = self.problem or (
                    f"line {number}: a carriage return inside the line (Spark's reader ends "
                    "a record there)"
                )
                return

    def _decode(self, lines: list[bytes]) -> None:
        # One decode per line: a line holding more than one JSON value fails here, as it must
        # (Spark would read its first value and drop the rest without a trace). After another
        # problem, the lines are still decoded until an undeclared key is found (worth naming).
        decode = self._decoder.decode
        first = self._line + 1
        records = 0
        for number, line in enumerate(lines, start=first):
            if line.isspace() or not line:
                continue
            try:
                decode(line)
            except (msgspec.ValidationError, msgspec.DecodeError) as err:
                found = f"line {number}: {err}"
                self.problem = self.problem or found
                if str(err).startswith(_UNKNOWN_FIELD):
                    self.undeclared = found
                    break
                continue
            records += 1
        self._line = first - 1 + len(lines)
        self.records += records


class FileCensus:
    """The key census of one file, read in steps: ``read(limit)`` feeds the census the next
    bytes (at most ``limit``, else up to the end of the file) and finishes it at the end of
    the file or once the census is settled; ``done`` tells that it is finished."""

    def __init__(self, path: Path, schema: T.StructType, chunk_size: int = 8 << 20) -> None:
        self.census = KeyCensus(schema)
        self._path = path
        self._chunk_size = chunk_size
        self._offset = 0
        self.done = False

    def read(self, limit: int | None = None) -> KeyCensus:
        if self.done:
            return self.census
        remaining = limit
        with self._path.open("rb") as handle:
            handle.seek(self._offset)
            while not self.census.settled:
                if remaining is not None and remaining <= 0:
                    if handle.read(1):
                        return self.census  # the limit came before the end: not finished
                    break
                size = self._chunk_size if remaining is None else min(self._chunk_size, remaining)
                chunk = handle.read(size)
                if not chunk:
                    break
                self.census.feed(chunk)
                self._offset += len(chunk)
                if remaining is not None:
                    remaining -= len(chunk)
        self.census.finish()
        self.done = True
        return self.census
