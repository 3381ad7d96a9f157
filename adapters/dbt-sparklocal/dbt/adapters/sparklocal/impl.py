"""The adapter: dbt-spark's behaviour, local Python submission, Delta by default."""

from __future__ import annotations

import builtins
from typing import Any

from dbt.adapters.base.impl import PythonJobHelper
from dbt.adapters.contracts.connection import AdapterResponse
from dbt.adapters.spark.impl import SparkAdapter
from dbt.adapters.sparklocal.connections import SparkLocalConnectionManager
from dbt.adapters.sparklocal.python_submissions import (
    DATABRICKS_SUBMISSION_METHODS,
    SessionPythonJobHelper,
)

__all__ = ["SparkLocalAdapter"]


class SparkLocalAdapter(SparkAdapter):
    ConnectionManager = SparkLocalConnectionManager

    @classmethod
    def type(cls) -> str:
        return "sparklocal"

    @property
    def default_python_submission_method(self) -> str:
        return "session"

    @property
    def python_submission_helpers(self) -> dict[str, builtins.type[PythonJobHelper]]:
        helpers: dict[str, builtins.type[PythonJobHelper]] = {"session": SessionPythonJobHelper}
        helpers.update(dict.fromkeys(DATABRICKS_SUBMISSION_METHODS, SessionPythonJobHelper))
        return helpers

    def generate_python_submission_response(self, submission_result: Any) -> AdapterResponse:
        return AdapterResponse(_message="OK", code="OK")

    def valid_incremental_strategies(self) -> list[str]:
        return ["append", "merge", "insert_overwrite", "microbatch"]
