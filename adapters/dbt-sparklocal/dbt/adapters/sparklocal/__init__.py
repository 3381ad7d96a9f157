"""dbt adapter ``sparklocal``: dbt-spark's session method on the project's embedded engine."""

from dbt.adapters.base.plugin import AdapterPlugin
from dbt.adapters.sparklocal.connections import (
    SparkLocalConnectionManager,
    SparkLocalCredentials,
)
from dbt.adapters.sparklocal.impl import SparkLocalAdapter
from dbt.include import sparklocal

__all__ = ["Plugin", "SparkLocalAdapter", "SparkLocalConnectionManager", "SparkLocalCredentials"]

Plugin = AdapterPlugin(
    adapter=SparkLocalAdapter,  # type: ignore[arg-type]
    credentials=SparkLocalCredentials,
    include_path=sparklocal.PACKAGE_PATH,
    dependencies=["spark"],
)
