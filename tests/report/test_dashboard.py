"""The operations dashboard definition and its table names, without an engine (issue 21).

``resources/dashboards/operations.lvdash.json`` is deployed by the bundle as an AI/BI dashboard
and drawn by ``data-ops report``. Its queries name tables ``<layer>.<table>``: the bundle gives
the dashboard the target's catalog (``dataset_catalog``), and the report names the same tables
through ``Names``. The queries themselves run on a built lakehouse in ``tests.report.test_report``.
"""

from __future__ import annotations

import copy
import json
import re
import tempfile
import unittest
from pathlib import Path
from typing import Any

import yaml

from python_ingest.errors import ConfigError
from python_ingest.naming import Names
from python_ingest.report import DEFAULT_DASHBOARD, load_dashboard, qualify_tables
from tests.support import REPO_ROOT

DASHBOARD = REPO_ROOT / DEFAULT_DASHBOARD
RESOURCE = REPO_ROOT / "resources" / "dashboards" / "operations.dashboard.yml"
LOCAL = Names.for_target("local")
SIT = Names.for_target("sit")


class QualifyTablesTest(unittest.TestCase):
    SQL = (
        "-- reads gold.not_a_reference\n"
        "select run_results.status, 'ua.not_a_table' as quoted, `gold.not_either` as ident\n"
        "from gold.dbt_run_results as run_results\n"
        "inner join bronze.ingest_ledger as ingest_ledger on ingest_ledger.run_id = "
        "run_results.run_id\n"
        "cross join prod.gold.wheels /* silver.in_a_comment */\n"
        "where run_results.run_id in (select run_id from gold.dbt_run_results)\n"
    )

    def test_local_names_are_the_layer_and_table(self) -> None:
        query = qualify_tables(self.SQL, LOCAL)
        self.assertEqual(query.sql, self.SQL)
        self.assertEqual(query.tables, (("gold", "dbt_run_results"), ("bronze", "ingest_ledger")))
        self.assertEqual(query.table_names(LOCAL), ("gold.dbt_run_results", "bronze.ingest_ledger"))

    def test_databricks_names_get_the_catalog_like_dataset_catalog_does(self) -> None:
        query = qualify_tables(self.SQL, SIT)
        self.assertEqual(
            query.sql,
            self.SQL.replace("from gold.dbt_run_results as", "from sit.gold.dbt_run_results as")
            .replace("join bronze.ingest_ledger", "join sit.bronze.ingest_ledger")
            .replace("from gold.dbt_run_results)", "from sit.gold.dbt_run_results)"),
        )
        self.assertEqual(
            query.table_names(SIT), ("sit.gold.dbt_run_results", "sit.bronze.ingest_ledger")
        )


class DashboardDefinitionTest(unittest.TestCase):
    raw: dict[str, Any]

    @classmethod
    def setUpClass(cls) -> None:
        cls.raw = json.loads(DASHBOARD.read_text())

    def _load(self, raw: dict[str, Any]) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "broken.lvdash.json"
            path.write_text(json.dumps(raw))
            load_dashboard(path)

    def test_bundle_resource_deploys_this_file_in_the_target_catalog(self) -> None:
        resource = yaml.safe_load(RESOURCE.read_text())["resources"]["dashboards"]["operations"]
        self.assertEqual((RESOURCE.parent / resource["file_path"]).resolve(), DASHBOARD)
        self.assertEqual(resource["dataset_catalog"], "${var.catalog}")
        self.assertEqual(resource["warehouse_id"], "${var.warehouse_id}")
        self.assertIs(resource["embed_credentials"], False)

    def test_every_query_names_tables_by_layer_only(self) -> None:
        dashboard = load_dashboard(DASHBOARD)
        three_part = re.compile(r"\b[a-z_]+\.(?:ua|bronze|silver|gold)\.[a-z_]+")
        for name, dataset in dashboard.datasets.items():
            with self.subTest(dataset=name):
                query = qualify_tables(dataset.sql, SIT)
                self.assertTrue(query.tables, f"{name}: no <layer>.<table> reference found")
                # No catalog of its own: dataset_catalog (workspace) or Names (report) adds it.
                self.assertEqual(three_part.findall(dataset.sql), [])
                self.assertEqual(
                    set(three_part.findall(query.sql)),
                    {f"sit.{layer}.{table}" for layer, table in query.tables},
                )

    def test_widgets_read_the_datasets_and_pages_of_the_view(self) -> None:
        dashboard = load_dashboard(DASHBOARD)
        kinds = {
            (page.name, widget.name): (widget.kind, widget.dataset)
            for page in dashboard.pages
            for widget in page.widgets
            if widget.kind != "text"
        }
        self.assertEqual(
            kinds,
            {
                ("kpis", "member_months_chart"): ("line", "member_months"),
                ("kpis", "pmpm_chart"): ("line", "pmpm_by_product"),
                ("kpis", "claim_count_chart"): ("bar", "claims_by_type"),
                ("kpis", "denial_rate_chart"): ("line", "claims_by_type"),
                ("kpis", "membership_chart"): ("bar", "membership"),
                ("runs", "recent_runs_table"): ("table", "recent_runs"),
                ("runs", "table_loads_table"): ("table", "table_loads"),
                ("runs", "file_problems_table"): ("table", "file_problems"),
                ("runs", "test_results_table"): ("table", "test_results"),
            },
        )

    def test_an_aggregating_field_is_refused_with_the_fix(self) -> None:
        raw = copy.deepcopy(self.raw)
        widget = raw["pages"][0]["layout"][1]["widget"]
        widget["queries"][0]["query"]["fields"][1]["expression"] = "SUM(`member_months`)"
        with self.assertRaisesRegex(
            ConfigError,
            r"widget 'member_months_chart' field 'member_months' is 'SUM\(`member_months`\)'.*"
            r"aggregate in the dataset query",
        ):
            self._load(raw)

    def test_an_unknown_widget_type_or_dataset_is_refused(self) -> None:
        raw = copy.deepcopy(self.raw)
        raw["pages"][0]["layout"][1]["widget"]["spec"]["widgetType"] = "pie"
        with self.assertRaisesRegex(ConfigError, r"'member_months_chart' is a 'pie'; the report"):
            self._load(raw)
        raw = copy.deepcopy(self.raw)
        raw["datasets"] = [d for d in raw["datasets"] if d["name"] != "recent_runs"]
        with self.assertRaisesRegex(
            ConfigError, r"widget 'recent_runs_table' reads dataset 'recent_runs', which is not"
        ):
            self._load(raw)

    def test_a_missing_file_names_the_option(self) -> None:
        with self.assertRaisesRegex(ConfigError, r"no dashboard definition at .*pass --dashboard"):
            load_dashboard(REPO_ROOT / "resources" / "dashboards" / "missing.lvdash.json")
