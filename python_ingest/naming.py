"""One naming rule for tables, shared with dbt's generate_schema_name / database macros.

Databricks: ``<catalog>.<layer>.<table>`` in Unity Catalog. Local: each catalog is its own
lakehouse directory with its own metastore, so the catalog is implicit and names are
``<layer>.<table>``.

This module and ``spark`` hold the only two differences between the local engine and
Databricks: how a table is addressed (``TableAddress``: its storage path locally, its name in
Unity Catalog) and how the session is obtained. Whether a run is local is decided once, by its
target (``Names.for_target``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from python_ingest.errors import ConfigError

__all__ = [
    "DATABRICKS_CATALOGS",
    "LAYERS",
    "LOCAL_CATALOG",
    "Names",
    "TableAddress",
    "lakehouse_root",
]

LOCAL_CATALOG = "local"
DATABRICKS_CATALOGS = ("dev", "sit", "prod")
LAYERS = ("ua", "bronze", "silver", "gold", "default")
LAKEHOUSE_ENV = "DATA_OPS_LAKEHOUSE"
_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")


def lakehouse_root() -> Path:
    """Root of the local lakehouses: ``$DATA_OPS_LAKEHOUSE`` or ``./.lakehouse``."""
    return Path(os.environ.get(LAKEHOUSE_ENV, ".lakehouse")).resolve()


def _check_ident(kind: str, value: str) -> str:
    if not _IDENT.match(value):
        raise ConfigError(
            f"invalid {kind} {value!r}: expected lower-case letters, digits and underscores, "
            "starting with a letter"
        )
    return value


@dataclass(frozen=True)
class TableAddress:
    """Where Delta reads and writes a table: its SQL ``name``, and on the local engine its
    storage ``path`` (appending by name would also rewrite the embedded metastore's entry on
    every commit: seconds on Derby). ``path`` is None on Unity Catalog, where managed tables are
    addressed by name."""

    name: str
    path: str | None


@dataclass(frozen=True)
class Names:
    """Table names and paths for one catalog, on the local engine or on Databricks."""

    catalog: str
    local: bool

    @classmethod
    def for_target(cls, target: str, catalog: str | None = None) -> Names:
        """Names of a run on ``target``; the catalog defaults to the target's name."""
        return cls(
            catalog=_check_ident("catalog", catalog or target), local=target == LOCAL_CATALOG
        )

    def table(self, layer: str, table: str) -> str:
        """Fully qualified table name as Spark SQL accepts it on this platform."""
        _check_ident("layer", layer)
        _check_ident("table", table)
        if self.local:
            return f"{layer}.{table}"
        return f"{self.catalog}.{layer}.{table}"

    def schema(self, layer: str) -> str:
        _check_ident("layer", layer)
        return layer if self.local else f"{self.catalog}.{layer}"

    def address(self, layer: str, table: str) -> TableAddress:
        """How Delta reads and writes the table (see ``TableAddress``)."""
        name = self.table(layer, table)
        if not self.local:
            return TableAddress(name, None)
        return TableAddress(name, str(self.catalog_dir / "warehouse" / f"{layer}.db" / table))

    @property
    def catalog_dir(self) -> Path:
        """Local lakehouse directory of this catalog (warehouse, metastore, volumes)."""
        return lakehouse_root() / self.catalog

    def volume_dir(self, layer: str, volume: str) -> Path:
        """Unity Catalog volume path, or its local stand-in directory."""
        if self.local:
            return self.catalog_dir / "volumes" / layer / volume
        return Path("/Volumes") / self.catalog / layer / volume
