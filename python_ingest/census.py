"""Key census of a JSON-lines file: does every object carry only keys its level declares?

Spark's JSON parser drops the keys a schema does not declare, at every depth, without a trace;
the ingestion must rescue them instead. The census answers it for the whole file in the pass
that already reads every byte for the content hash: the lines are decoded (msgspec, in C, a
block of lines per call) against struct types mirroring the contract's schema that forbid
unknown fields, with every leaf kept as raw JSON (its type is Spark's to judge). A clean census
proves that no record has an undeclared key at any depth, so Spark's own JSON reader may parse
the file with no per-record key check. Anything else (an undeclared key, a line that is not one
JSON object, a value whose shape is not the declared one, a JSON array document) makes the
census unclean, and the file is read with the per-record checks.
"""

from __future__ import annotations

from typing import Any

import msgspec
from pyspark.sql import types as T

__all__ = ["KeyCensus", "has_struct"]

_LEAF: Any = msgspec.Raw  # any JSON value, kept undecoded
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

    Lines end at ``\\n`` (a ``\\r\\n`` ending is whitespace to the decoder; any other carriage
    return, where Spark's reader would also end a line, makes the census unclean); blank lines
    are skipped, as Spark's reader skips them; every other line must hold exactly one JSON
    object, so a clean census has read the records Spark's reader reads. The first problem is
    kept in ``problem``, with its line number, and the first undeclared key in ``undeclared``
    (the census reads on to find one). A file that does not start with a JSON object (a JSON
    array document) is not censused: not clean, no problem.

    ``schema`` names the keys as they are delivered; ``declared``, the same schema with the
    contract's names, tells where an undeclared key sits: ``unknown`` maps an object's path
    (declared names, from the record down) to the undeclared keys found there, so keys spelled
    otherwise than declared (``MemberID`` for ``member_id``) can be matched afterwards.
    """

    def __init__(self, schema: T.StructType, declared: T.StructType | None = None) -> None:
        self._decoder = msgspec.json.Decoder(_census_struct(schema))
        self._schema = schema
        self._declared = declared or schema
        self.unknown: dict[tuple[str, ...], set[str]] = {}
        self._tail = b""
        self._started = False
        self._skipped = False
        self._line = 0  # lines fully read so far
        self.records = 0
        self.problem: str | None = None
        self.undeclared: str | None = None

    @property
    def clean(self) -> bool:
        return self.problem is None and not self._skipped

    @property
    def settled(self) -> bool:
        """No further byte can change the outcome: the file is not JSON lines."""
        return self._skipped

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
        end = body.rfind(b"\n") + 1
        self._tail = body[end:]  # unfinished until the next chunk (or the end)
        if end:
            self._block(body[:end])

    def finish(self) -> bool:
        if not self.settled and self._tail:
            self._block(self._tail)
        self._tail = b""
        return self.clean

    def _block(self, block: bytes) -> None:
        """Complete lines: one decode for the block; line by line where that is not clean."""
        lines = block.count(b"\n") + (not block.endswith(b"\n"))
        first = self._line + 1
        self._line += lines
        lone_cr = block.count(b"\r") != block.count(b"\r\n")
        if not lone_cr:
            try:
                decoded = len(self._decoder.decode_lines(block))
            except (msgspec.ValidationError, msgspec.DecodeError):
                decoded = -1
            if decoded == lines:  # one object per line: the usual case
                self.records += decoded
                return
        self._line_by_line(block, first)

    def _line_by_line(self, block: bytes, first: int) -> None:
        # One decode per line: a line holding more than one JSON value fails here, as it must
        # (Spark would read its first value and drop the rest without a trace). After another
        # problem, the lines are still decoded until an undeclared key is found (worth naming).
        for number, line in enumerate(block.split(b"\n"), start=first):
            if b"\r" in line.rstrip(b"\r"):
                self.problem = self.problem or (
                    f"line {number}: a carriage return inside the line (Spark's reader ends "
                    "a record there)"
                )
            if not line.strip():
                continue
            try:
                self._decoder.decode(line)
            except (msgspec.ValidationError, msgspec.DecodeError) as err:
                found = f"line {number}: {err}"
                self.problem = self.problem or found
                if str(err).startswith(_UNKNOWN_FIELD):
                    self.undeclared = self.undeclared or found
                    self._survey(line)
                continue
            self.records += 1

    def _survey(self, line: bytes) -> None:
        """Note where the line's undeclared keys sit (see ``unknown``)."""
        try:
            record = msgspec.json.decode(line)
        except msgspec.DecodeError:
            return
        before = sum(len(keys) for keys in self.unknown.values())
        _walk(record, self._schema, self._declared, (), self.unknown)
        if sum(len(keys) for keys in self.unknown.values()) > before:
            # Decode on with the keys found so far accepted: only a line with yet another
            # undeclared key is decoded one by one again.
            accepted = _with_keys(self._schema, self._declared, (), self.unknown)
            assert isinstance(accepted, T.StructType)
            self._decoder = msgspec.json.Decoder(_census_struct(accepted))


def _with_keys(
    delivered: T.DataType,
    declared: T.DataType,
    path: tuple[str, ...],
    unknown: dict[tuple[str, ...], set[str]],
) -> T.DataType:
    """``delivered`` with the ``unknown`` keys added as fields of any value at their paths."""
    if isinstance(delivered, T.ArrayType) and isinstance(declared, T.ArrayType):
        element = _with_keys(delivered.elementType, declared.elementType, path, unknown)
        return T.ArrayType(element, True)
    if isinstance(delivered, T.MapType) and isinstance(declared, T.MapType):
        value = _with_keys(delivered.valueType, declared.valueType, path, unknown)
        return T.MapType(delivered.keyType, value, True)
    if isinstance(delivered, T.StructType) and isinstance(declared, T.StructType):
        fields = [
            T.StructField(f.name, _with_keys(f.dataType, d.dataType, (*path, d.name), unknown))
            for f, d in zip(delivered.fields, declared.fields, strict=True)
        ]
        extra = sorted(unknown.get(path, set()) - {f.name for f in fields})
        return T.StructType(fields + [T.StructField(key, T.StringType()) for key in extra])
    return delivered


def _walk(
    value: Any,
    delivered: T.DataType,
    declared: T.DataType,
    path: tuple[str, ...],
    unknown: dict[tuple[str, ...], set[str]],
) -> None:
    if isinstance(delivered, T.ArrayType) and isinstance(declared, T.ArrayType):
        for item in value if isinstance(value, list) else ():
            _walk(item, delivered.elementType, declared.elementType, path, unknown)
    elif isinstance(delivered, T.MapType) and isinstance(declared, T.MapType):
        for item in value.values() if isinstance(value, dict) else ():
            _walk(item, delivered.valueType, declared.valueType, path, unknown)
    elif isinstance(delivered, T.StructType) and isinstance(declared, T.StructType):
        if not isinstance(value, dict):
            return
        fields = {f.name: (f, d) for f, d in zip(delivered.fields, declared.fields, strict=True)}
        for key, item in value.items():
            if key not in fields:
                unknown.setdefault(path, set()).add(key)
                continue
            field, declared_field = fields[key]
            if has_struct(field.dataType):
                _walk(
                    item,
                    field.dataType,
                    declared_field.dataType,
                    (*path, declared_field.name),
                    unknown,
                )
