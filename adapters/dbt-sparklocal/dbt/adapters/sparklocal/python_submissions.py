"""Run dbt Python models inside the open local session instead of a Databricks cluster."""

from __future__ import annotations

from typing import Any

from dbt.adapters.base.impl import PythonJobHelper
from dbt_common.exceptions import DbtRuntimeError

__all__ = ["DATABRICKS_SUBMISSION_METHODS", "SessionPythonJobHelper"]

# Accepted so that model configs written for dbt-databricks run unchanged locally.
DATABRICKS_SUBMISSION_METHODS = (
    "all_purpose_cluster",
    "job_cluster",
    "serverless_cluster",
    "workflow_job",
)


class SessionPythonJobHelper(PythonJobHelper):
    """Executes the compiled model (model code + dbt's write-table epilogue) in-process."""

    def __init__(self, parsed_model: dict[str, Any], credentials: Any) -> None:
        self.parsed_model = parsed_model
        self.credentials = credentials

    def submit(self, compiled_code: str) -> Any:
        from dbt.adapters.sparklocal.connections import build_session

        spark = build_session(self.credentials)
        name = self.parsed_model.get("unique_id", self.parsed_model.get("alias", "python model"))
        namespace: dict[str, Any] = {"spark": spark, "__name__": "__dbt_python_model__"}
        try:
            code = compile(compiled_code, f"<{name}>", "exec")
            exec(code, namespace)  # noqa: S102 - dbt compiled this model from the project itself
        except Exception as err:
            raise DbtRuntimeError(f"Python model {name} failed: {err}") from err
        return None
