"""Shared test support: one Spark session per test process, dbt invoked in-process.

Every test process uses a throw-away lakehouse root (``DATA_OPS_LAKEHOUSE``) so tests never
touch a developer's ``.lakehouse``; ``tests.run`` sets it once for the whole run.
"""

from __future__ import annotations

import os
import tempfile
import unittest
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = [
    "DBT_NODE_RESULTS",
    "REPO_ROOT",
    "DbtNodeResult",
    "SparkTestCase",
    "ensure_test_lakehouse",
    "run_dbt",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
TEST_CATALOG = "local"


@dataclass
class DbtNodeResult:
    unique_id: str
    status: str
    message: str = ""
    failures: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# dbt nodes run by tests in this process; tests.run counts them in the summary line.
DBT_NODE_RESULTS: list[DbtNodeResult] = []


def ensure_test_lakehouse() -> Path:
    """Point the lakehouse at a temporary directory unless the runner already did."""
    root = os.environ.get("DATA_OPS_TEST_LAKEHOUSE")
    if not root:
        root = tempfile.mkdtemp(prefix="data-ops-test-")
        os.environ["DATA_OPS_TEST_LAKEHOUSE"] = root
    os.environ["DATA_OPS_LAKEHOUSE"] = root
    return Path(root)


def run_dbt(args: list[str], *, project_dir: Path = REPO_ROOT, record: bool = True) -> Any:
    """Invoke dbt in this process (sharing its Spark session); returns dbt's ``dbtRunnerResult``."""
    from dbt.cli.main import dbtRunner

    full = [
        *args,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(REPO_ROOT),
        "--target-path",
        str(ensure_test_lakehouse() / "dbt-target" / project_dir.name),
        "--log-path",
        str(ensure_test_lakehouse() / "dbt-logs"),
        "--quiet",
    ]
    result = dbtRunner().invoke(full)
    if record and result.result is not None and hasattr(result.result, "results"):
        for node in result.result.results:
            DBT_NODE_RESULTS.append(
                DbtNodeResult(
                    unique_id=node.node.unique_id,
                    status=str(node.status),
                    message=str(node.message or ""),
                    failures=node.failures,
                )
            )
    return result


class SparkTestCase(unittest.TestCase):
    """Base class: the process-wide local session on the test lakehouse."""

    spark: SparkSession

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        ensure_test_lakehouse()
        from python_ingest.naming import Names
        from python_ingest.spark import get_spark

        cls.spark = get_spark(Names.for_target("local", TEST_CATALOG))
