"""Run history of ``data-ops run`` (issue 7, acceptance 2 and 3).

After the shared pipeline, one ``data-ops run --domain member`` runs in this process (same Spark
session, nothing new to ingest) on the project plus one injected singular data test that always
fails. The injected test lives in a throw-away project folder that links the real
``dbt_project.yml``, ``profiles.yml``, ``models/`` and ``macros/`` and copies ``tests/dbt``, so
neither ``models/`` nor the repository's ``tests/dbt`` ever holds it. One build serves both
acceptances: the run's dbt results and its pipeline logs share its run id, the README's
last-run-failures query lists exactly the injected failure, its failing rows are read back from
the table the run history names, and ``data-ops run`` exits non-zero.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, ClassVar

from pyspark.testing import assertDataFrameEqual

from tests.e2e.pipeline import pipeline_state
from tests.support import REPO_ROOT, SparkTestCase, ensure_test_lakehouse

DOMAIN = "member"
INJECTED_TEST = "zz_run_history_injected_failure"
INJECTED_TEST_ID = f"test.data_ops.{INJECTED_TEST}"
# A singular test fails with one row per row it returns: one per month of member_months.
INJECTED_TEST_SQL = """\
-- Injected by tests/e2e/test_run_history.py into a throw-away copy of the project: always fails.
select
    member_months.month_start_date,
    sum(member_months.member_months) as member_months
from {{ ref('member_months') }} as member_months
group by member_months.month_start_date
"""
EXPECTED_FAILING_ROWS_SQL = """
select month_start_date, sum(member_months) as member_months
from gold.member_months
group by month_start_date
"""

# The README's query: the failures of the last run (the most recent run id in either table).
LAST_RUN_FAILURES_SQL = """
with runs as (
    select run_id, recorded_at as seen_at from gold.dbt_run_results
    union all
    select run_id, logged_at as seen_at from gold.pipeline_logs
),

last_run as (
    select run_id from runs order by seen_at desc limit 1
)

select
    run_results.run_id,
    'dbt' as process,
    run_results.unique_id as failed_item,
    run_results.status,
    run_results.failures,
    run_results.message,
    run_results.failures_relation
from gold.dbt_run_results as run_results
inner join last_run on run_results.run_id = last_run.run_id
where run_results.status in ('fail', 'error', 'runtime error')

union all

select
    pipeline_logs.run_id,
    pipeline_logs.process,
    coalesce(pipeline_logs.data_file, pipeline_logs.table_name, pipeline_logs.step) as failed_item,
    pipeline_logs.status,
    pipeline_logs.rows_quarantined as failures,
    pipeline_logs.message,
    cast(null as string) as failures_relation
from gold.pipeline_logs as pipeline_logs
inner join last_run on pipeline_logs.run_id = last_run.run_id
where pipeline_logs.status = 'error' and pipeline_logs.process != 'dbt'

order by process, failed_item
"""

_RUN_LINE = re.compile(r"^data-ops run (\S+) \(catalog local\)$", re.MULTILINE)


def _project_with_injected_failure(root: Path) -> Path:
    """The project as links to the real files, with tests/dbt copied plus the injected test."""
    project = root / "data_ops_injected"
    project.mkdir()
    for name in ("dbt_project.yml", "profiles.yml", "models", "macros"):
        (project / name).symlink_to(REPO_ROOT / name)
    shutil.copytree(REPO_ROOT / "tests" / "dbt", project / "tests" / "dbt")
    injected = project / "tests" / "dbt" / DOMAIN / f"{INJECTED_TEST}.sql"
    injected.parent.mkdir(parents=True, exist_ok=True)
    injected.write_text(INJECTED_TEST_SQL)
    return project


def _data_ops_run(project: Path, domain: str) -> tuple[int, str]:
    """``data-ops run`` in this process; returns its exit code and everything it printed.

    dbt's target and log folders go to the test lakehouse, and what the CLI sets for its own
    process (DATA_OPS_RUN_ID, the python_ingest log handler) is put back afterwards, so the
    tests that run later in this process see neither.
    """
    from python_ingest.cli import main

    lakehouse = ensure_test_lakehouse()
    env = {
        "DBT_TARGET_PATH": str(lakehouse / "dbt-target" / project.name),
        "DBT_LOG_PATH": str(lakehouse / "dbt-logs"),
    }
    saved_env = {name: os.environ.get(name) for name in (*env, "DATA_OPS_RUN_ID")}
    pipeline_logger = logging.getLogger("python_ingest")
    saved_logger = (pipeline_logger.handlers[:], pipeline_logger.level, pipeline_logger.propagate)
    output = io.StringIO()
    os.environ.update(env)
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            code = main(
                ["run", "--target", "local", "--project-dir", str(project), "--domain", domain]
            )
    finally:
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        pipeline_logger.handlers[:], pipeline_logger.level, pipeline_logger.propagate = saved_logger
    return code, output.getvalue()


class RunHistoryTest(SparkTestCase):
    exit_code: ClassVar[int]
    output: ClassVar[str]
    run_id: ClassVar[str]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        pipeline_state()
        root = Path(tempfile.mkdtemp(prefix="data-ops-run-history-"))
        cls.addClassCleanup(shutil.rmtree, root, ignore_errors=True)
        cls.exit_code, cls.output = _data_ops_run(_project_with_injected_failure(root), DOMAIN)
        found = _RUN_LINE.findall(cls.output)
        if len(found) != 1:
            raise AssertionError(f"no run summary in the output of data-ops run:\n{cls.output}")
        cls.run_id = found[0]

    def _rows(self, sql: str) -> list[dict[str, Any]]:
        return [row.asDict() for row in self.spark.sql(sql).collect()]

    def test_run_exits_non_zero_when_a_data_test_fails(self) -> None:
        self.assertEqual(self.exit_code, 1, self.output[-3000:])
        self.assertIn(f"data-ops run {self.run_id}: FAILED (0 file(s), 1 dbt node(s))", self.output)

    def test_run_history_and_pipeline_logs_share_the_run_id(self) -> None:
        results = self._rows(
            "select unique_id, resource_type, domain, status, target_name "
            f"from gold.dbt_run_results where run_id = '{self.run_id}'"
        )
        models = {r["unique_id"]: r for r in results if r["resource_type"] == "model"}
        member_models = {
            f"model.data_ops.{path.stem}"
            for path in (REPO_ROOT / "models" / DOMAIN).rglob("*")
            if path.suffix in (".sql", ".py")
        }
        self.assertEqual(set(models), member_models)
        self.assertEqual(
            {(r["domain"], r["status"]) for r in models.values()}, {(DOMAIN, "success")}
        )
        self.assertEqual({r["target_name"] for r in results}, {"local"})
        logs = self._rows(
            "select process, step, status, table_name from gold.pipeline_logs "
            f"where run_id = '{self.run_id}'"
        )
        self.assertIn(
            {
                "process": "ingest",
                "step": "summary",
                "status": "ok",
                "table_name": "bronze.member_raw",
            },
            logs,
        )
        self.assertIn(
            {"process": "dbt", "step": "dbt_build", "status": "error", "table_name": None}, logs
        )
        joined = self._rows(
            "select count(*) as matches from gold.pipeline_logs as pipeline_logs "
            "inner join gold.dbt_run_results as run_results "
            "on pipeline_logs.run_id = run_results.run_id "
            f"where pipeline_logs.run_id = '{self.run_id}'"
        )
        self.assertEqual(joined, [{"matches": len(results) * len(logs)}])

    def test_last_run_failures_query_lists_the_injected_failure(self) -> None:
        expected_rows = self.spark.sql(EXPECTED_FAILING_ROWS_SQL).count()
        self.assertGreater(expected_rows, 0)
        failures = self._rows(LAST_RUN_FAILURES_SQL)
        self.assertEqual(
            [{k: v for k, v in row.items() if k != "message"} for row in failures],
            [
                {
                    "run_id": self.run_id,
                    "process": "dbt",
                    "failed_item": INJECTED_TEST_ID,
                    "status": "fail",
                    "failures": expected_rows,
                    "failures_relation": f"ua.{INJECTED_TEST}",
                }
            ],
        )
        self.assertIn(f"Got {expected_rows} result", failures[0]["message"])

    def test_failing_rows_are_retrievable_from_the_run_history(self) -> None:
        (row,) = self._rows(
            "select failures_relation from gold.dbt_run_results "
            f"where run_id = '{self.run_id}' and unique_id = '{INJECTED_TEST_ID}'"
        )
        stored = self.spark.sql(f"select * from {row['failures_relation']}")
        assertDataFrameEqual(stored, self.spark.sql(EXPECTED_FAILING_ROWS_SQL))
