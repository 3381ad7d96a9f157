"""Credentials and connections: the session comes from a factory the profile names.

dbt-spark's session method builds a bare ``SparkSession`` (no Delta, no metastore location) and
forces ``spark.sql.ansi.enabled=false``. Here the profile names a factory (``module:function``
taking the catalog) that builds the project's configured session before dbt-spark's cursor asks
for one, so dbt and the ingestion share one engine configuration, and ANSI stays on.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from dbt.adapters.contracts.connection import Connection
from dbt.adapters.spark.connections import (
    SparkConnectionManager,
    SparkConnectionMethod,
    SparkCredentials,
)
from dbt_common.exceptions import DbtRuntimeError

__all__ = ["SparkLocalConnectionManager", "SparkLocalCredentials", "build_session"]


@dataclass
class SparkLocalCredentials(SparkCredentials):
    """dbt-spark session credentials plus the session factory and the local catalog."""

    session_factory: str = "python_ingest.spark:local_session"
    catalog: str = "local"
    ansi: bool = True

    @classmethod
    def __pre_deserialize__(cls, data: Any) -> Any:
        data = super().__pre_deserialize__(data)
        data.setdefault("method", SparkConnectionMethod.SESSION.value)
        data.setdefault("host", "localhost")
        return data

    def __post_init__(self) -> None:
        if self.method != SparkConnectionMethod.SESSION:
            raise DbtRuntimeError(
                f"sparklocal supports `method: session` only, got {self.method!r}: "
                "remove `method` from the profile or set it to `session`"
            )
        super().__post_init__()
        # dbt-spark forces ANSI off; Databricks SQL runs with it on, so keep local runs honest.
        self.server_side_parameters["spark.sql.ansi.enabled"] = "true" if self.ansi else "false"

    @property
    def type(self) -> str:
        return "sparklocal"

    @property
    def unique_field(self) -> str:
        return self.catalog

    def _connection_keys(self) -> tuple[str, ...]:
        return ("catalog", "schema", "session_factory", "ansi")


def build_session(credentials: SparkLocalCredentials) -> Any:
    """Call the configured factory; it returns the active session when one is already open."""
    module_name, _, attr = credentials.session_factory.partition(":")
    if not module_name or not attr:
        raise DbtRuntimeError(
            f"session_factory {credentials.session_factory!r} must look like 'module:function'"
        )
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise DbtRuntimeError(
            f"session_factory {credentials.session_factory!r} cannot be imported: {err}. "
            "Run `make setup` so the project package is installed"
        ) from err
    return factory(credentials.catalog)


class SparkLocalConnectionManager(SparkConnectionManager):
    TYPE = "sparklocal"

    @classmethod
    def open(cls, connection: Connection) -> Connection:
        if connection.state == "open":
            return connection
        build_session(connection.credentials)
        return super().open(connection)
