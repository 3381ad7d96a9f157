"""Which delivered column (CSV header, JSON key, Parquet column) feeds which declared column.

A declared column takes the delivered name its ``source_name`` gives; without one, the
delivered name that equals the column name once both are normalised: surrounding blanks
dropped, camelCase split, spaces, dots and dashes turned into underscores, lower case
(``BIRTHDATE``, ``Birth Date``, ``birthDate`` and ``birth-date`` all feed ``birth_date``). Two
different delivered names feeding one column are an error naming both: the contract says which
one it means with ``source_name``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyspark.sql import types as T

if TYPE_CHECKING:
    from python_ingest.contract import TableContract

__all__ = [
    "AmbiguousNameError",
    "NameMatch",
    "delivered_schema",
    "delivered_type",
    "match_keys",
    "match_names",
    "normalize",
    "source_paths",
]

_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_SEPARATORS = re.compile(r"[\s.\-_]+")


def normalize(name: str) -> str:
    """The snake_case form a delivered name is matched by."""
    text = _ACRONYM.sub(r"\1_\2", _CAMEL.sub(r"\1_\2", name.strip()))
    return _SEPARATORS.sub("_", text).strip("_").lower()


class AmbiguousNameError(ValueError):
    """Two delivered names feed the same declared column."""

    def __init__(self, column: str, delivered: Sequence[str]) -> None:
        self.column = column
        self.delivered = tuple(delivered)
        names = " and ".join(repr(d) for d in delivered)
        super().__init__(
            f"the delivered names {names} both match column {column!r}; set "
            f"config.meta.source_name of {column!r} to the one to load (the other is kept in "
            "_rescued_data)"
        )


@dataclass(frozen=True)
class NameMatch:
    """``sources``: declared name -> delivered name; ``extras``: delivered names no column
    takes (rescued); ``missing``: declared names the delivery does not carry."""

    sources: dict[str, str]
    extras: tuple[str, ...]
    missing: tuple[str, ...]


def match_names(
    delivered: Sequence[str], declared: Sequence[str], source_names: Mapping[str, str]
) -> NameMatch:
    """Match ``delivered`` names (in order, repeats allowed) to ``declared`` names.

    ``source_names``: declared name -> the delivered name the contract gives it. A given source
    name matches exactly, else after normalising; any other column by its normalised name.
    """
    distinct = list(dict.fromkeys(delivered))
    by_normal: dict[str, list[str]] = {}
    for name in distinct:
        by_normal.setdefault(normalize(name), []).append(name)
    given = {source for source in source_names.values()}
    sources: dict[str, str] = {}
    for column in declared:
        wanted = source_names.get(column)
        if wanted is not None and wanted in distinct:
            sources[column] = wanted
            continue
        candidates = [
            name
            for name in by_normal.get(normalize(wanted or column), [])
            if name not in given or name == wanted
        ]
        if len(candidates) > 1:
            raise AmbiguousNameError(column, candidates)
        if candidates:
            sources[column] = candidates[0]
    taken = set(sources.values())
    return NameMatch(
        sources=sources,
        extras=tuple(name for name in distinct if name not in taken),
        missing=tuple(column for column in declared if column not in sources),
    )


def delivered_type(
    data_type: T.DataType, path: tuple[str, ...], names: Mapping[tuple[str, ...], str]
) -> T.DataType:
    """``data_type`` with each struct field named as delivered: ``names`` maps a field's path
    of declared names (arrays and maps entered implicitly) to its delivered key."""
    if isinstance(data_type, T.StructType):
        return T.StructType(
            [
                T.StructField(
                    names.get((*path, f.name), f.name),
                    delivered_type(f.dataType, (*path, f.name), names),
                    True,
                )
                for f in data_type.fields
            ]
        )
    if isinstance(data_type, T.ArrayType):
        return T.ArrayType(delivered_type(data_type.elementType, path, names), True)
    if isinstance(data_type, T.MapType):
        return T.MapType(data_type.keyType, delivered_type(data_type.valueType, path, names), True)
    return data_type


def source_paths(contract: TableContract) -> dict[tuple[str, ...], str]:
    """The delivered keys the contract names: ``source_name`` and ``source_fields``."""
    names: dict[tuple[str, ...], str] = {}
    for column in contract.columns:
        if column.source_name:
            names[(column.name,)] = column.source_name
        for path, key in column.source_fields.items():
            names[(column.name, *path.split("."))] = key
    return names


def delivered_schema(
    contract: TableContract, renames: Mapping[tuple[str, ...], str] | None = None
) -> T.StructType:
    """The contract's schema named as delivered: its source names, plus ``renames`` (delivered
    keys matched by their normalised name)."""
    schema = delivered_type(
        contract.spark_schema, (), {**source_paths(contract), **(renames or {})}
    )
    assert isinstance(schema, T.StructType)
    return schema


def _struct_at(data_type: T.DataType) -> T.StructType | None:
    while isinstance(data_type, T.ArrayType | T.MapType):
        data_type = (
            data_type.elementType if isinstance(data_type, T.ArrayType) else data_type.valueType
        )
    return data_type if isinstance(data_type, T.StructType) else None


def match_keys(
    contract: TableContract, unknown: Mapping[tuple[str, ...], set[str]]
) -> dict[tuple[str, ...], str]:
    """Renames for the undeclared keys of a JSON file that are declared fields spelled
    otherwise: ``unknown`` maps an object's path (declared names) to the keys found there
    that the delivered schema lacks. Keys that match no field stay undeclared (rescued).
    Raises ``AmbiguousNameError`` when two keys match one field."""
    given = source_paths(contract)
    renames: dict[tuple[str, ...], str] = {}
    for path, keys in unknown.items():
        struct = contract.spark_schema if not path else None
        if path:
            column = next(c for c in contract.columns if c.name == path[0])
            struct = _struct_at(column.spark_type)
            for name in path[1:]:
                field = next(f for f in struct.fields if f.name == name) if struct else None
                struct = _struct_at(field.dataType) if field else None
        if struct is None:
            continue
        for field in struct.fields:
            field_path = (*path, field.name)
            if field_path in given:
                continue  # the contract names its delivered key
            matching = sorted(k for k in keys if normalize(k) == field.name)
            if len(matching) > 1:
                raise AmbiguousNameError(".".join(field_path), matching)
            if matching:
                renames[field_path] = matching[0]
    return renames
