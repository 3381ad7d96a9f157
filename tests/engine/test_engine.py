"""The local engine: dbt on Spark + Delta through the sparklocal adapter, ANSI, naming, setup."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from typing import Any

from pyspark.errors import NumberFormatException

from tests.support import REPO_ROOT, SparkTestCase, ensure_test_lakehouse, run_dbt

FIXTURE = REPO_ROOT / "tests" / "fixtures" / "engine_project"
PLACEHOLDER_ENV = {
    "DATABRICKS_HOST": "placeholder.cloud.databricks.com",
    "DATABRICKS_HTTP_PATH": "/sql/1.0/warehouses/placeholder",
    "DATABRICKS_TOKEN": "placeholder-token",
}


def parse_manifest(project: Path, target: str) -> dict[str, dict[str, Any]]:
    """`dbt parse --target <target>` in a subprocess; model nodes of the written manifest."""
    out = Path(tempfile.mkdtemp(prefix=f"dbt-parse-{target}-"))
    try:
        env = {**os.environ, **PLACEHOLDER_ENV}
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "dbt.cli.main",
                "parse",
                "--target",
                target,
                "--project-dir",
                str(project),
                "--profiles-dir",
                str(REPO_ROOT),
                "--target-path",
                str(out),
                "--log-path",
                str(out),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if proc.returncode != 0:
            raise AssertionError(f"dbt parse --target {target} failed:\n{proc.stdout}{proc.stderr}")
        manifest = json.loads((out / "manifest.json").read_text())
        return {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    finally:
        shutil.rmtree(out, ignore_errors=True)


class FixtureProjectBuildTest(SparkTestCase):
    """One build of the fixture project serves the table-format and merge assertions."""

    first: Any
    second: Any
    first_rows: dict[int, int]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        for layer in ("silver", "gold"):
            cls.spark.sql(f"drop schema if exists {layer} cascade")
        cls.first = run_dbt(
            ["build", "--target", "local", "--vars", "{batch: 1}"], project_dir=FIXTURE
        )
        cls.first_rows = {
            r.event_id: r.loaded_batch
            for r in cls.spark.table("silver.fx_events_incremental").collect()
        }
        cls.second = run_dbt(
            ["build", "--target", "local", "--vars", "{batch: 2}"], project_dir=FIXTURE
        )

    def test_build_succeeds_with_every_node(self) -> None:
        for result in (self.first, self.second):
            self.assertTrue(result.success, result.exception)
            statuses = {str(r.node.unique_id): str(r.status) for r in result.result.results}
            self.assertEqual(len(statuses), 11)
            self.assertTrue(all(s in ("success", "pass") for s in statuses.values()), statuses)

    def test_table_incremental_and_python_models_are_delta(self) -> None:
        for table in (
            "silver.fx_events_table",
            "silver.fx_events_incremental",
            "gold.fx_events_python",
        ):
            with self.subTest(table=table):
                detail = self.spark.sql(f"describe detail {table}").first()
                assert detail is not None
                self.assertEqual(detail["format"], "delta")

    def test_incremental_merge_updates_and_inserts_by_key(self) -> None:
        self.assertEqual(self.first_rows, dict.fromkeys(range(1, 11), 1))
        rows = {
            r.event_id: r.loaded_batch
            for r in self.spark.table("silver.fx_events_incremental").collect()
        }
        # Batch 2 generates ids 1..20; the model merges ids above max(event_id) - 5 = 5.
        expected = {**dict.fromkeys(range(1, 6), 1), **dict.fromkeys(range(6, 21), 2)}
        self.assertEqual(rows, expected)
        history = self.spark.sql("describe history silver.fx_events_incremental").collect()
        self.assertIn("MERGE", {h["operation"] for h in history})

    def test_python_model_ran_in_the_session(self) -> None:
        rows = {
            r.event_kind_name: r.event_count
            for r in self.spark.table("gold.fx_events_python").collect()
        }
        self.assertEqual(rows, {"zero": 6, "one": 7, "two": 7})

    def test_dbt_keeps_ansi_on(self) -> None:
        self.assertEqual(self.spark.conf.get("spark.sql.ansi.enabled"), "true")


class AnsiTest(SparkTestCase):
    def test_invalid_cast_raises_as_on_databricks_sql(self) -> None:
        with self.assertRaises(NumberFormatException):
            self.spark.sql("select cast('x' as int) as broken").collect()

    def test_try_cast_is_the_tolerant_form(self) -> None:
        row = self.spark.sql("select try_cast('x' as int) as tolerant").first()
        assert row is not None
        self.assertIsNone(row["tolerant"])


class RelationNamingTest(unittest.TestCase):
    def test_databricks_targets_use_catalog_layer_model(self) -> None:
        for target in ("sit", "prod"):
            with self.subTest(target=target):
                models = parse_manifest(FIXTURE, target)
                self.assertEqual(
                    models["fx_events_table"]["relation_name"],
                    f"`{target}`.`silver`.`fx_events_table`",
                )
                self.assertEqual(
                    models["fx_events_python"]["relation_name"],
                    f"`{target}`.`gold`.`fx_events_python`",
                )
                self.assertEqual(
                    models["fx_events_python"]["config"]["submission_method"],
                    "serverless_cluster",
                )

    def test_local_target_uses_layer_model(self) -> None:
        models = parse_manifest(FIXTURE, "local")
        self.assertEqual(models["fx_events_table"]["relation_name"], "silver.fx_events_table")


class SetupTest(unittest.TestCase):
    def test_second_setup_works_without_network(self) -> None:
        if shutil.which("unshare") is None:
            self.fail("`unshare` (util-linux) is needed to cut the network for this test")
        env = {**os.environ}
        env.pop("MAKEFLAGS", None)
        proc = subprocess.run(
            ["unshare", "--net", "make", "--no-print-directory", "setup"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("setup: ok", proc.stdout)

    def test_test_lakehouse_is_not_the_developers(self) -> None:
        self.assertNotEqual(ensure_test_lakehouse(), (REPO_ROOT / ".lakehouse").resolve())
