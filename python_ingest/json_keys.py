"""How a JSON file's keys are named: what its key census found, and the schema to read it with.

A file whose keys are all declared (a clean key census) is read with the contract's schema and
no per-record key check. A file with keys the contract does not declare is looked at again:
keys that are declared fields spelled otherwise (``MemberID`` for ``member_id``, at any depth)
become the names the file is read with, after a second census proves every record spells them
that way; any other key is undeclared, kept in ``_rescued_data`` and named in the ledger.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from python_ingest.census import KeyCensus
from python_ingest.errors import DataError
from python_ingest.fingerprint import Fingerprint, fingerprint
from python_ingest.readers.names import (
    AmbiguousNameError,
    delivered_schema,
    match_keys,
    normalize,
)

if TYPE_CHECKING:
    from pyspark.sql import types as T

    from python_ingest.contract import TableContract

__all__ = ["JsonKeys", "KeyNamingError", "json_keys"]


class KeyNamingError(DataError):
    """A file's keys cannot be matched to the contract's columns one to one."""


@dataclass(frozen=True)
class JsonKeys:
    """``schema``: the contract's schema named as delivered (None: not JSON); ``checked``: a
    clean key census; ``note``: the census' finding worth telling in the ledger."""

    schema: T.StructType | None = None
    checked: bool = False
    note: str = ""


def json_keys(
    path: Path, contract: TableContract, found: Fingerprint, census: KeyCensus | None
) -> JsonKeys:
    if census is None:
        return JsonKeys()
    schema = delivered_schema(contract)
    if found.keys_checked or not census.unknown:
        return JsonKeys(schema, found.keys_checked, _census_note(found.census_problem))
    try:
        renames = match_keys(contract, census.unknown)
    except AmbiguousNameError as err:
        raise KeyNamingError(f"{path}: {err} in {contract.path}") from err
    if not renames:
        return JsonKeys(schema, False, _census_note(found.census_problem))
    # Keys spelled otherwise than declared: census the file again with them as the names.
    schema = delivered_schema(contract, renames)
    again = KeyCensus(schema, contract.spark_schema)
    checked = fingerprint(path, check_utf8=True, census=again)
    # A key that still matches a renamed field: its records spell it both ways.
    for where, keys in again.unknown.items():
        for key in sorted(keys):
            field_path = (*where, normalize(key))
            if field_path in renames:
                raise KeyNamingError(
                    f"{path}: records deliver both {key!r} and {renames[field_path]!r} for "
                    f"{'.'.join(field_path)!r}; set config.meta.source_name (or source_fields)"
                    f" in {contract.path} to the one to load"
                )
    return JsonKeys(schema, checked.keys_checked, _census_note(checked.census_problem))


def _census_note(problem: str | None) -> str:
    """The key census' finding worth telling: the first undeclared key, e.g. a new field."""
    found = re.match(
        r"line (\d+): Object contains unknown field `([^`]*)`(?: - at `\$([^`]*)`)?$",
        problem or "",
    )
    if found is None:
        return ""
    line, key, where = found.groups()
    return (
        f"undeclared key {key!r} (line {line}, ${where or ''}; the first found) kept in "
        "_rescued_data: declare it in the contract to load it as a column"
    )
