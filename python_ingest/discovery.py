"""Where a table's files land, and which of the files there count as delivered.

The landing folder comes from the contract's ``ingestion.landing_folder`` only, inside the
bronze ``external`` volume of the run's catalog; ``data-ops ingest`` reads it and
``data-ops upload`` writes to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from python_ingest.contract import FileFormat, TableContract, format_for_file
from python_ingest.errors import ConfigError
from python_ingest.naming import Names

__all__ = [
    "LANDING_VOLUME",
    "DeliveredFile",
    "check_landing_dirs",
    "discover_files",
    "is_delivered",
    "landing_dir",
]

LANDING_VOLUME = ("bronze", "external")


@dataclass(frozen=True)
class DeliveredFile:
    path: Path
    size: int
    modified_at: dt.datetime  # UTC, naive
    fmt: FileFormat | None

    @property
    def identity(self) -> tuple[str, int, dt.datetime]:
        """What the ledger knows a delivery by before reading its bytes."""
        return (str(self.path), self.size, self.modified_at)


def landing_dir(names: Names, contract: TableContract) -> Path:
    """Landing folder of a table: a folder of the bronze ``external`` volume."""
    return names.volume_dir(*LANDING_VOLUME) / contract.ingestion.landing_folder


def check_landing_dirs(names: Names, contracts: Sequence[TableContract]) -> None:
    """Fail before any write when a contract's landing folder is missing."""
    for contract in contracts:
        landing = landing_dir(names, contract)
        if not landing.is_dir():
            raise ConfigError(
                f"landing folder {str(landing)!r} of {contract.domain}.{contract.table} does "
                "not exist; create it (or deliver files into it), or fix "
                f"ingestion.landing_folder in {contract.path}"
            )


def is_delivered(relative: Path) -> bool:
    """False for files still being written or moved aside: ``_x``, ``.x``, ``*.tmp``,
    ``*.partial`` (and anything under a folder whose name starts with ``_`` or ``.``)."""
    if any(part.startswith(("_", ".")) for part in relative.parts):
        return False
    return not relative.name.endswith((".tmp", ".partial"))


def discover_files(landing: Path) -> list[DeliveredFile]:
    """Delivered files under the landing folder (subfolders included), oldest first."""
    found: list[DeliveredFile] = []
    for path in landing.rglob("*"):
        if not path.is_file() or not is_delivered(path.relative_to(landing)):
            continue
        stat = path.stat()
        modified = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).replace(tzinfo=None)
        found.append(DeliveredFile(path, stat.st_size, modified, format_for_file(path)))
    return sorted(found, key=lambda f: (f.modified_at, str(f.path)))
