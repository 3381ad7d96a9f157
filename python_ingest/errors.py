"""Error hierarchy: one root, a few subclasses by cause, so the CLI can map them to exit codes."""

from __future__ import annotations

__all__ = [
    "ConcurrentRunError",
    "ConfigError",
    "ContractError",
    "DataError",
    "DataOpsError",
    "EngineError",
]


class DataOpsError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigError(DataOpsError):
    """Invalid configuration or command-line usage (exit code 2)."""


class ContractError(ConfigError):
    """A bronze contract (dbt source declaration) is invalid: nothing has been written."""


class EngineError(DataOpsError):
    """The local engine cannot start (missing Java, missing Delta jars, locked metastore)."""


class DataError(DataOpsError):
    """Delivered data could not be loaded in full (exit code 1); the run reports, not hides, it."""


class ConcurrentRunError(DataOpsError):
    """Another ingestion run holds the lock for this catalog."""
