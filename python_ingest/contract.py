"""Bronze contracts: the dbt source declarations in ``models/<domain>/`` that ingestion obeys.

A domain declares each bronze table once, as a dbt source table whose ``config.meta.ingestion``
block says where its files land and how to read them. dbt reads the same YAML for lineage, docs
and source tests; this module reads it (without dbt) and validates it with pydantic, so that a
bad contract fails before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pyspark.sql import types as T

from python_ingest.errors import ContractError
from python_ingest.types import parse_type

__all__ = [
    "ColumnContract",
    "FileFormat",
    "IngestionSpec",
    "PhiClass",
    "TableContract",
    "format_for_file",
    "load_contracts",
]

FileFormat = Literal["csv", "json", "parquet"]
_EXTENSIONS: dict[str, FileFormat] = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".parquet": "parquet",
}
_IDENT = r"^[a-z][a-z0-9_]*$"
_TEMPLATED = re.compile(r"{{|{%")


class PhiClass(StrEnum):
    """Protected-health-information class of a column; drives hashing, masking and tags."""

    DIRECT_IDENTIFIER = "direct_identifier"
    QUASI_IDENTIFIER = "quasi_identifier"
    SENSITIVE = "sensitive"
    NONE = "none"


class ColumnContract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    data_type: str
    description: str = Field(min_length=1)
    phi: PhiClass
    # Where the value comes from when the delivered name differs from ``name`` beyond case and
    # spelling (see ``readers.names``): the CSV header, the JSON key, the Parquet column.
    source_name: str | None = Field(default=None, min_length=1)
    # The same for fields inside a nested value: dotted path of declared field names (array
    # elements and map values are entered implicitly) -> delivered key.
    source_fields: dict[str, str] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if value.startswith("_"):
            raise ValueError(
                f"{value!r}: names starting with '_' are reserved for ingestion metadata "
                "(_source_file, _ingested_at, _rescued_data, ...: see the README's 'What lands "
                "where'); rename the column"
            )
        if not re.match(_IDENT, value):
            raise ValueError(
                f"{value!r} is not a snake_case column name (lower-case letters, digits, "
                "underscores, starting with a letter); name the column in snake_case and "
                "give the delivered name as config.meta.source_name"
            )
        return value

    @model_validator(mode="after")
    def _source_fields_exist(self) -> ColumnContract:
        for path in self.source_fields:
            if _field_at(self.spark_type, path.split(".")) is None:
                raise ValueError(
                    f"source_fields path {path!r} of column {self.name!r} names no field of "
                    f"its type {self.data_type!r}; use dotted declared field names, e.g. "
                    "'amount' or 'provider.npi'"
                )
        return self

    @field_validator("data_type")
    @classmethod
    def _spark_type(cls, value: str) -> str:
        try:
            parse_type(value)
        except ValueError as err:
            raise ValueError(
                f"data_type {value!r} is not a Spark SQL type ({err}); use e.g. string, int, "
                "bigint, decimal(12,2), date, timestamp, array<string>, struct<a:int>"
            ) from err
        return value

    @property
    def spark_type(self) -> T.DataType:
        return parse_type(self.data_type)


def _field_at(data_type: T.DataType, path: list[str]) -> T.StructField | None:
    """The struct field at a dotted path inside ``data_type`` (through arrays and maps)."""
    while isinstance(data_type, T.ArrayType | T.MapType):
        data_type = (
            data_type.elementType if isinstance(data_type, T.ArrayType) else data_type.valueType
        )
    if not path or not isinstance(data_type, T.StructType):
        return None
    found = next((f for f in data_type.fields if f.name == path[0]), None)
    if found is None or len(path) == 1:
        return found
    return _field_at(found.dataType, path[1:])


class IngestionSpec(BaseModel):
    """The ``config.meta.ingestion`` block of a source table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    landing_folder: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_\-/]*$")
    formats: tuple[FileFormat, ...] = Field(min_length=1)
    reader_options: dict[FileFormat, dict[str, str | int | float | bool]] = Field(
        default_factory=dict
    )
    keys: tuple[str, ...] = ()
    # A delivered file without a declared column: ``fail`` the file (the default), or load it
    # with the column null. A missing key column always fails the file.
    on_missing_columns: Literal["fail", "null"] = "fail"

    @model_validator(mode="before")
    @classmethod
    def _single_format(cls, data: Any) -> Any:
        if isinstance(data, dict) and "format" in data and "formats" not in data:
            data = {**data, "formats": [data.pop("format")]}
        # YAML reads an unquoted ``null`` as None: the policy of that name.
        if (
            isinstance(data, dict)
            and "on_missing_columns" in data
            and data["on_missing_columns"] is None
        ):
            data = {**data, "on_missing_columns": "null"}
        return data

    @model_validator(mode="after")
    def _options_for_declared_formats(self) -> IngestionSpec:
        extra = set(self.reader_options) - set(self.formats)
        if extra:
            raise ValueError(
                f"reader_options for {sorted(extra)} but formats are {list(self.formats)}; "
                "remove them or add the format"
            )
        return self


class TableContract(BaseModel):
    """One bronze table: where its files land, how to read them, and its declared columns."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    domain: str = Field(pattern=_IDENT)
    source: str
    schema_name: str = Field(pattern=_IDENT)
    table: str = Field(pattern=_IDENT)
    description: str
    ingestion: IngestionSpec
    columns: tuple[ColumnContract, ...] = Field(min_length=1)
    path: Path

    @model_validator(mode="after")
    def _keys_are_columns(self) -> TableContract:
        names = [c.name for c in self.columns]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"columns declared twice: {duplicates}")
        unknown = [k for k in self.ingestion.keys if k not in names]
        if unknown:
            raise ValueError(f"ingestion.keys {unknown} are not declared columns {names}")
        sources = [c.source_name for c in self.columns if c.source_name]
        repeated = sorted({n for n in sources if sources.count(n) > 1})
        if repeated:
            raise ValueError(
                f"source_name {repeated} given to more than one column; each delivered "
                "column feeds one declared column"
            )
        return self

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def spark_schema(self) -> T.StructType:
        return T.StructType([T.StructField(c.name, c.spark_type, True) for c in self.columns])

    def options_for(self, fmt: FileFormat) -> dict[str, str]:
        raw = self.ingestion.reader_options.get(fmt, {})
        return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in raw.items()}


def format_for_file(path: Path) -> FileFormat | None:
    """File format by extension; ``None`` for an extension no reader handles."""
    return _EXTENSIONS.get(path.suffix.lower())


def _meta(node: dict[str, Any]) -> dict[str, Any]:
    config = node.get("config") or {}
    meta = dict(node.get("meta") or {})
    meta.update(config.get("meta") or {})
    return meta


def _sources_in(path: Path) -> Iterator[dict[str, Any]]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ContractError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(document, dict):
        return
    for source in document.get("sources") or []:
        if isinstance(source, dict):
            yield source


def _describe_error(path: Path, where: str, err: ValidationError) -> str:
    lines = [f"{path}: {where} is not a valid bronze contract:"]
    for problem in err.errors():
        loc = ".".join(str(p) for p in problem["loc"])
        lines.append(
            f"  - field {loc or '(table)'}: {problem['msg']} (got {problem.get('input')!r})"
        )
    lines.append(
        "  Fix the source declaration (see models/<domain>/_<domain>__sources.yml and the "
        "README's 'Adding a source' section)."
    )
    return "\n".join(lines)


def _column(raw: dict[str, Any]) -> dict[str, Any]:
    meta = _meta(raw)
    column = {
        "name": raw.get("name"),
        "data_type": raw.get("data_type"),
        "description": raw.get("description", ""),
        "phi": meta.get("phi"),
    }
    for key in ("source_name", "source_fields"):
        if key in meta:
            column[key] = meta[key]
    return column


def load_contracts(
    project_dir: Path, *, domain: str | None = None, table: str | None = None
) -> list[TableContract]:
    """Every source table with an ``ingestion`` block under ``models/<domain>/``."""
    models = project_dir / "models"
    domains = sorted(p.name for p in models.iterdir() if p.is_dir()) if models.is_dir() else []
    if domain is not None and domain not in domains:
        raise ContractError(
            f"domain {domain!r} has no folder under {models}; known domains: {domains or 'none'}"
        )
    contracts: list[TableContract] = []
    for dom in domains if domain is None else [domain]:
        for path in sorted((models / dom).rglob("*.yml")):
            for source in _sources_in(path):
                for raw in source.get("tables") or []:
                    ingestion = _meta(raw).get("ingestion")
                    if ingestion is None:
                        continue
                    where = f"source {source.get('name')!r} table {raw.get('name')!r}"
                    if _TEMPLATED.search(yaml.safe_dump(ingestion)):
                        raise ContractError(
                            f"{path}: {where}: the ingestion block may not use Jinja; "
                            "write literal values"
                        )
                    try:
                        contracts.append(
                            TableContract.model_validate(
                                {
                                    "domain": dom,
                                    "source": str(source.get("name")),
                                    "schema_name": str(source.get("schema") or source.get("name")),
                                    "table": raw.get("name"),
                                    "description": raw.get("description", ""),
                                    "ingestion": ingestion,
                                    "columns": [_column(c) for c in raw.get("columns") or []],
                                    "path": path,
                                }
                            )
                        )
                    except ValidationError as err:
                        raise ContractError(_describe_error(path, where, err)) from err
    if table is not None:
        contracts = [c for c in contracts if c.table == table]
        if not contracts:
            raise ContractError(
                f"no bronze contract declares table {table!r}"
                + (f" in domain {domain!r}" if domain else "")
                + "; check --table against the sources in models/<domain>/"
            )
    return contracts
