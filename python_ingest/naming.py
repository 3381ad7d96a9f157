"""One naming rule for tables, shared with dbt's generate_schema_name / database macros.

Databricks: ``<catalog>.<layer>.<table>`` in Unity Catalog. Local: each catalog is its own
lakehouse directory with its own metastore, so the catalog is implicit and names are
``<layer>.<table>``.
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
    "lakehouse_root",
    "on_databricks",
]

LOCAL_CATALOG = "local"
DATABRICKS_CATALOGS = ("dev", "sit", "prod")
LAYERS = ("ua", "bronze", "silver", "gold", "default")
LAKEHOUSE_ENV = "DATA_OPS_LAKEHOUSE"
_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")


def on_databricks() -> bool:
    """True inside a Databricks runtime (jobs, notebooks, serverless)."""
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


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
class Names:
    """Table names and paths for one catalog, local or on Databricks."""

    catalog: str
    local: bool

    @classmethod
    def for_catalog(cls, catalog: str, *, local: bool | None = None) -> Names:
        _check_ident("catalog", catalog)
        return cls(catalog=catalog, local=(not on_databricks()) if local is None else local)

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

    @property
    def catalog_dir(self) -> Path:
        """Local lakehouse directory of this catalog (warehouse, metastore, volumes)."""
        return lakehouse_root() / self.catalog

    def local_table_dir(self, layer: str, table: str) -> Path:
        """Where the embedded engine keeps a managed table: ``<warehouse>/<layer>.db/<table>``."""
        layer, table = _check_ident("layer", layer), _check_ident("table", table)
        return self.catalog_dir / "warehouse" / f"{layer}.db" / table

    def volume_dir(self, layer: str, volume: str) -> Path:
        """Unity Catalog volume path, or its local stand-in directory."""
        if self.local:
            return self.catalog_dir / "volumes" / layer / volume
        return Path("/Volumes") / self.catalog / layer / volume
