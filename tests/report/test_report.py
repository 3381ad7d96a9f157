"""The run report and the dashboard's queries on a built lakehouse (issue 21, acceptance 2, 3).

After the shared pipeline, ``data-ops report`` runs in this process (same Spark session) and its
HTML file is opened in Debian's headless Chromium with the network cut off: every chart must
have drawn its points, and every point must equal the gold tables' value, computed here with
Spark's DataFrame API from the gold tables (not with the dashboard's SQL). The tables must list
the pipeline's runs, files with quarantined rows and the latest result of every test with its
failing-row relation. A screenshot goes to ``target/run_report.png``.

Every dataset query of the dashboard runs on the lakehouse with its tables named by ``Names``
and returns rows, so a query that does not parse or names a missing column fails here. A report
on an empty lakehouse (its own process, its own lakehouse) and on a partly built one shows its
note instead of failing.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from python_ingest.naming import Names
from python_ingest.report import (
    DEFAULT_DASHBOARD,
    ReportQueryError,
    ReportSummary,
    build_report,
    load_dashboard,
    qualify_tables,
)
from python_ingest.report.dashboard import Dataset
from python_ingest.report.data import fetch_dataset
from tests.e2e.pipeline import PipelineState, pipeline_state
from tests.support import REPO_ROOT, SparkTestCase, ensure_test_lakehouse
from tools.docs_browser import BrowserUnavailableError, chromium_page

if TYPE_CHECKING:
    from playwright.sync_api import Page

DASHBOARD = REPO_ROOT / DEFAULT_DASHBOARD
SCREENSHOT = REPO_ROOT / "target" / "run_report.png"
EMPTY_SCREENSHOT = REPO_ROOT / "target" / "run_report_empty.png"
PAGE_TIMEOUT_MS = 60_000
LOCAL = Names.for_target("local")
SIT = Names.for_target("sit")
BAD_STATUSES = ("fail", "error", "runtime error")

# What each chart has drawn: plotly's traces (x, y, series name) and the SVG points on screen.
READ_CHARTS_JS = """
() => Array.from(document.querySelectorAll('figure.widget[data-kind="line"],'
                                          + 'figure.widget[data-kind="bar"]')).map((figure) => {
    const plot = figure.querySelector('.js-plotly-plot');
    return {
        widget: figure.dataset.widget,
        kind: figure.dataset.kind,
        traces: plot ? plot._fullData.map((trace) => ({
            name: trace.name, type: trace.type, x: Array.from(trace.x), y: Array.from(trace.y),
        })) : [],
        points: plot ? plot.querySelectorAll('.scatterlayer .point, .barlayer .point').length : 0,
    };
})
"""
# Each table widget as its header texts and its rows of cell texts.
READ_TABLES_JS = """
() => Object.fromEntries(Array.from(document.querySelectorAll('figure.widget[data-kind="table"]'))
    .map((figure) => [figure.dataset.widget, {
        header: Array.from(figure.querySelectorAll('thead th')).map((cell) => cell.innerText),
        rows: Array.from(figure.querySelectorAll('tbody tr')).map(
            (row) => Array.from(row.querySelectorAll('td')).map((cell) => cell.innerText)),
        note: (figure.querySelector('.note') || {}).innerText || null,
    }]))
"""


def _rate(denied: int, adjudicated: int) -> float | None:
    """The denial rate rule of gold.claims_summary: half-up to 4 places; none without claims."""
    if not adjudicated:
        return None
    return float(
        (Decimal(denied) / Decimal(adjudicated)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    )


def _points(chart: dict[str, Any]) -> dict[tuple[str, str], Any]:
    points: dict[tuple[str, str], Any] = {}
    for trace in chart["traces"]:
        points.update(((trace["name"], x), y) for x, y in zip(trace["x"], trace["y"], strict=True))
    return points


class RunReportTest(SparkTestCase):
    state: ClassVar[PipelineState]
    output: ClassVar[Path]
    summary: ClassVar[ReportSummary]
    html: ClassVar[str]
    page: ClassVar[Page]
    requests: ClassVar[list[str]]
    charts: ClassVar[dict[str, dict[str, Any]]]
    tables: ClassVar[dict[str, dict[str, Any]]]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.state = pipeline_state()
        cls.output = ensure_test_lakehouse() / "report" / "run_report.html"
        # What `data-ops report` does (its command line runs in EmptyLakehouseReportTest).
        cls.summary = build_report(cls.spark, LOCAL, load_dashboard(DASHBOARD), cls.output)
        cls.html = cls.output.read_text(encoding="utf-8")
        browser = contextlib.ExitStack()
        cls.addClassCleanup(browser.close)
        try:
            cls.page = browser.enter_context(chromium_page(width=1400, height=900, scale=1.0))
        except BrowserUnavailableError as err:
            raise AssertionError(
                f"REPORT BROWSER TEST CANNOT RUN - headless Chromium is unavailable: {err}"
            ) from err
        cls.requests = []
        cls.page.on("request", lambda request: cls.requests.append(request.url))
        cls.page.goto(cls.output.as_uri())
        expected = cls.html.count('data-kind="line" data-ready="true"')
        expected += cls.html.count('data-kind="bar" data-ready="true"')
        cls.page.wait_for_function(
            f"() => document.querySelectorAll('.js-plotly-plot .point').length > 0 && "
            f"document.querySelectorAll('.js-plotly-plot').length === {expected}",
            timeout=PAGE_TIMEOUT_MS,
        )
        cls.charts = {chart["widget"]: chart for chart in cls.page.evaluate(READ_CHARTS_JS)}
        cls.tables = cls.page.evaluate(READ_TABLES_JS)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        cls.page.screenshot(path=str(SCREENSHOT), full_page=True)

    def _gold(self, table: str) -> Any:
        return self.spark.table(LOCAL.table("gold", table))

    def _roster_months(self) -> set[str]:
        return {
            row.month_start_date.isoformat()
            for row in self._gold("member_months").select("month_start_date").distinct().collect()
        }

    def _assert_chart(self, widget: str, expected: dict[tuple[str, str], Any]) -> None:
        chart = self.charts[widget]
        self.assertEqual(_points(chart), expected, widget)
        drawn = sum(value is not None for value in expected.values())
        self.assertGreater(drawn, 0, widget)
        self.assertEqual(chart["points"], drawn, f"{widget}: points drawn on screen")
        self.assertEqual(len(chart["traces"]), len({series for series, _ in expected}), widget)

    def test_every_dataset_query_ran_and_returned_rows(self) -> None:
        # Acceptance 3: each dataset of the dashboard, its tables named through Names as the
        # local target names them: the workspace's <catalog>.<layer>.<table> less the catalog.
        dashboard = load_dashboard(DASHBOARD)
        self.assertEqual(set(self.summary.datasets), set(dashboard.datasets))
        for name, result in self.summary.datasets.items():
            with self.subTest(dataset=name):
                self.assertEqual(result.missing, (), f"{name}: tables not built")
                on_databricks = qualify_tables(result.dataset.sql, SIT).table_names(SIT)
                self.assertEqual(
                    result.tables, tuple(t.removeprefix("sit.") for t in on_databricks)
                )
                self.assertGreater(len(result.rows), 0, f"{name} returned no rows")
        self.assertEqual(self.summary.waiting, [])

    def test_report_is_one_self_contained_file(self) -> None:
        self.assertNotIn("<script src", self.html)
        self.assertNotIn('<link rel="stylesheet"', self.html)
        self.assertIn("Plotly.newPlot", self.html)
        off_file = [u for u in self.requests if not u.startswith(("file:", "data:", "blob:"))]
        self.assertEqual(off_file, [], "the report fetched something beyond its own file")
        self.assertEqual(self.page.locator("#report-note").count(), 0)

    def test_pmpm_point_equals_claims_summary_for_one_month_and_product(self) -> None:
        from pyspark.sql import functions as F

        cell = (
            self._gold("claims_summary")
            .where(F.col("member_months") > 0)
            .groupBy("service_month_start_date", "line_of_business", "product_code")
            .agg(F.sum("pmpm_paid_amount").alias("pmpm_paid_amount"))
            .orderBy("service_month_start_date", "line_of_business", "product_code")
            .first()
        )
        assert cell is not None
        point = (
            f"{cell.line_of_business} {cell.product_code}",
            cell.service_month_start_date.isoformat(),
        )
        self.assertEqual(_points(self.charts["pmpm_chart"])[point], float(cell.pmpm_paid_amount))

    def test_pmpm_chart_equals_claims_summary(self) -> None:
        rows = self._gold("claims_summary").where("member_months > 0").collect()
        expected: dict[tuple[str, str], Decimal] = {}
        for row in rows:
            key = (
                f"{row.line_of_business} {row.product_code}",
                row.service_month_start_date.isoformat(),
            )
            expected[key] = expected.get(key, Decimal(0)) + row.pmpm_paid_amount
        self._assert_chart("pmpm_chart", {k: float(v) for k, v in expected.items()})

    def test_member_months_chart_equals_member_months(self) -> None:
        expected: dict[tuple[str, str], int] = {}
        for row in self._gold("member_months").collect():
            key = (f"{row.line_of_business} {row.product_code}", row.month_start_date.isoformat())
            expected[key] = expected.get(key, 0) + row.member_months
        self._assert_chart("member_months_chart", dict(expected))

    def test_claims_and_denial_rate_charts_equal_claims_summary(self) -> None:
        months = self._roster_months()
        totals: dict[tuple[str, str], list[int]] = {}
        for row in self._gold("claims_summary").collect():
            month = row.service_month_start_date.isoformat()
            if month in months:
                total = totals.setdefault((row.claim_type, month), [0, 0, 0])
                total[0] += row.claim_count
                total[1] += row.denied_claim_count
                total[2] += row.paid_claim_count + row.denied_claim_count
        self._assert_chart("claim_count_chart", {k: v[0] for k, v in totals.items()})
        self._assert_chart("denial_rate_chart", {k: _rate(v[1], v[2]) for k, v in totals.items()})

    def test_membership_chart_equals_member_summary(self) -> None:
        expected: dict[tuple[str, str], int] = {}
        for row in self._gold("member_summary").collect():
            month = row.month_start_date.isoformat()
            for measure, value in (
                ("new", row.new_member_count),
                ("terminated", row.terminated_member_count),
            ):
                expected[(measure, month)] = expected.get((measure, month), 0) + value
        self._assert_chart("membership_chart", expected)

    def _recent_runs(self) -> dict[str, dict[str, str]]:
        table = self.tables["recent_runs_table"]
        return {row[0]: dict(zip(table["header"], row, strict=True)) for row in table["rows"]}

    def test_recent_runs_show_the_ingestion_runs_with_files_and_rows(self) -> None:
        runs = self._recent_runs()
        for snapshot in (self.state.base, self.state.incremental):
            with self.subTest(run=snapshot.run_id):
                run = runs[snapshot.run_id]
                results = list(snapshot.ingest.values())
                failed = sum(len(r.failed) for r in results)
                self.assertEqual(run["Files"], str(sum(len(r.outcomes) for r in results)))
                self.assertEqual(run["Files failed"], str(failed))
                self.assertEqual(
                    run["Bronze rows loaded"], f"{sum(r.total('rows_loaded') for r in results):,}"
                )
                self.assertEqual(
                    run["Rows quarantined"],
                    f"{sum(r.total('rows_quarantined') for r in results):,}",
                )
                self.assertEqual(run["Status"], "failed" if failed else "ok")
                self.assertGreater(float(run["Bronze s"].replace(",", "")), 0)

    def test_recent_runs_show_the_dbt_builds_with_status_and_seconds_per_layer(self) -> None:
        # The shared pipeline calls dbt itself, without data-ops run's shared run id: each
        # build is its own run, under dbt's invocation id. Find the builds by their results.
        results: dict[str, dict[str, str]] = {}
        recorded: dict[str, Any] = {}
        for row in self.spark.table(LOCAL.table("gold", "dbt_run_results")).collect():
            results.setdefault(row.run_id, {})[row.unique_id] = row.status
            recorded[row.run_id] = min(recorded.get(row.run_id, row.recorded_at), row.recorded_at)
        # The run history has the nodes, not the on-run-start/end hooks dbt reports too.
        snapshots = (self.state.base, self.state.incremental)
        statuses = [
            {k: v for k, v in s.dbt_statuses.items() if not k.startswith("operation.")}
            for s in snapshots
        ]
        builds = sorted(
            (r for r, nodes in results.items() if nodes in statuses), key=recorded.__getitem__
        )
        self.assertEqual(len(builds), 2, "the base and incremental builds in the run history")
        runs = self._recent_runs()
        for ids, run_id in zip(statuses, builds, strict=True):
            with self.subTest(build=run_id):
                self.assertEqual(results[run_id], ids)
                run = runs[run_id]
                seen = set(ids.values())
                expected = (
                    "failed" if seen & set(BAD_STATUSES) else "warning" if "warn" in seen else "ok"
                )
                self.assertEqual(run["Status"], expected)
                models = [k for k, v in ids.items() if k.startswith("model.") and v == "success"]
                self.assertEqual(run["Models built"], str(len(models)))
                passed = [
                    k
                    for k, v in ids.items()
                    if k.startswith(("test.", "unit_test.")) and v == "pass"
                ]
                self.assertEqual(run["Tests passed"], str(len(passed)))
                self.assertEqual(run["Tests warned"], str(list(ids.values()).count("warn")))
                for layer in ("Silver s", "Gold s", "Tests s"):
                    self.assertGreater(float(run[layer].replace(",", "")), 0, layer)
                self.assertEqual(run["Files"], "")

    def test_bronze_rows_per_table_and_run(self) -> None:
        table = self.tables["table_loads_table"]
        rows = {
            (row[0], row[2]): dict(zip(table["header"], row, strict=True)) for row in table["rows"]
        }
        for snapshot in (self.state.base, self.state.incremental):
            for name, result in snapshot.ingest.items():
                with self.subTest(run=snapshot.run_id, table=name):
                    row = rows[(snapshot.run_id, name)]
                    self.assertEqual(row["Rows loaded"], f"{result.total('rows_loaded'):,}")
                    self.assertEqual(
                        row["Rows quarantined"], f"{result.total('rows_quarantined'):,}"
                    )

    def test_failed_and_quarantined_files_with_their_reasons(self) -> None:
        table = self.tables["file_problems_table"]
        pipeline_tables = set(self.state.base.ingest) | set(self.state.incremental.ingest)
        # Other suites of this process ingest their own fixture tables into the same lakehouse.
        shown = {
            (row[3], row[4], row[7].replace(",", "")): row[8]
            for row in table["rows"]
            if row[2] in pipeline_tables
        }
        expected = {
            (outcome.path.name, outcome.status, str(outcome.rows_quarantined))
            for snapshot in (self.state.base, self.state.incremental)
            for result in snapshot.ingest.values()
            for outcome in result.outcomes
            if outcome.status != "loaded" or outcome.rows_quarantined
        }
        self.assertTrue(expected, "the pipeline's deliveries have no defective file")
        self.assertEqual(set(shown), expected)
        for (_, _, quarantined), reason in shown.items():
            self.assertRegex(
                reason, rf"^{quarantined} row\(s\) quarantined: see bronze\.\w+_quarantine$"
            )

    def test_latest_result_of_every_test_failing_first_with_failing_rows(self) -> None:
        table = self.tables["test_results_table"]
        rows = [dict(zip(table["header"], row, strict=True)) for row in table["rows"]]
        latest = self.spark.sql(
            "select unique_id, max_by(status, recorded_at) as status, "
            "max_by(failures, recorded_at) as failures, "
            "max_by(failures_relation, recorded_at) as failures_relation "
            f"from {LOCAL.table('gold', 'dbt_run_results')} "
            "where resource_type in ('test', 'unit_test') group by unique_id"
        ).collect()
        self.assertEqual(
            {r["Test"]: r["Status"] for r in rows}, {r.unique_id: r.status for r in latest}
        )
        ranks = [
            0 if r["Status"] in BAD_STATUSES else 1 if r["Status"] == "warn" else 2 for r in rows
        ]
        self.assertEqual(ranks, sorted(ranks), "failing tests first")
        failing = [r for r in rows if r["Status"] not in ("pass", "success")]
        self.assertTrue(failing, "the pipeline's defects make no test warn or fail")
        for row in failing:
            with self.subTest(test=row["Test"]):
                relation = row["Failing rows in"]
                self.assertRegex(relation, r"^ua\.\w+$")
                stored = self.spark.sql(f"select count(*) as n from {relation}").collect()[0].n
                self.assertEqual(row["Failing rows"], f"{stored:,}")

    def test_screenshot_is_saved(self) -> None:
        png = SCREENSHOT.read_bytes()
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        self.assertEqual(width, 1400)
        self.assertGreater(height, 2000)


class DashboardDatasetsTest(SparkTestCase):
    """A query that fails on tables that exist is an error; a table not built yet is a note."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        pipeline_state()

    def test_a_query_naming_a_missing_column_fails_with_the_dataset(self) -> None:
        dataset = Dataset(
            name="broken", queryLines=("select no_such_column\n", "from gold.claims_summary")
        )
        with self.assertRaisesRegex(
            ReportQueryError,
            r"dataset 'broken' of the dashboard failed on gold\.claims_summary: .*no_such_column.*"
            r"Fix the query",
        ):
            fetch_dataset(self.spark, LOCAL, dataset)

    def test_partly_built_lakehouse_notes_the_missing_table(self) -> None:
        raw = json.loads(DASHBOARD.read_text())
        keep = {"member_months", "recent_runs"}
        raw["datasets"] = [d for d in raw["datasets"] if d["name"] in keep]
        recent_runs = next(d for d in raw["datasets"] if d["name"] == "recent_runs")
        recent_runs["queryLines"] = [
            line.replace("gold.dbt_run_results", "gold.dbt_run_results_not_built")
            for line in recent_runs["queryLines"]
        ]
        for page in raw["pages"]:
            page["layout"] = [
                item
                for item in page["layout"]
                if "queries" not in item["widget"]
                or item["widget"]["queries"][0]["query"]["datasetName"] in keep
            ]
        folder = Path(tempfile.mkdtemp(prefix="data-ops-report-"))
        self.addCleanup(shutil.rmtree, folder, ignore_errors=True)
        (folder / "partly.lvdash.json").write_text(json.dumps(raw))
        summary = build_report(
            self.spark, LOCAL, load_dashboard(folder / "partly.lvdash.json"), folder / "r.html"
        )
        self.assertEqual(summary.waiting, ["recent_runs"])
        html = (folder / "r.html").read_text()
        self.assertIn(
            "is partly built: 1 of 2 datasets wait for tables yet (gold.dbt_run_results_not_built)",
            html,
        )
        self.assertIn("Not built yet: gold.dbt_run_results_not_built does not exist", html)
        self.assertEqual(html.count('data-ready="true"'), 1)


class EmptyLakehouseReportTest(unittest.TestCase):
    """``data-ops report`` in its own process on a lakehouse where nothing has run yet."""

    def test_empty_lakehouse_renders_with_its_note(self) -> None:
        root = Path(tempfile.mkdtemp(prefix="data-ops-report-empty-"))
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        output = root / "run_report.html"
        env = {
            **os.environ,
            "DATA_OPS_LAKEHOUSE": str(root),
            "DATA_OPS_TEST_LAKEHOUSE": str(root),
            "DATA_OPS_DRIVER_MEMORY": "1g",
        }
        command = [str(Path(sys.executable).parent / "data-ops"), "report", "--target", "local"]
        proc = subprocess.run(
            [*command, "--project-dir", str(REPO_ROOT), "--output", str(output)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        self.assertIn(
            f"data-ops report: wrote {output} (catalog local, 8 dataset(s); 8 wait", proc.stderr
        )
        html = output.read_text(encoding="utf-8")
        self.assertEqual(html.count('data-ready="false"'), 9)  # every widget but the text boxes
        self.assertEqual(html.count("Not built yet: "), 9)
        with chromium_page(width=1400, height=900, scale=1.0) as page:
            page.goto(output.as_uri())
            note = page.locator("#report-note")
            self.assertTrue(note.is_visible())
            self.assertRegex(
                note.inner_text(),
                r"^This lakehouse \(catalog local\) has none of the tables the report reads yet "
                r"\(bronze\.ingest_ledger, gold\.claims_summary, gold\.dbt_run_results, "
                r"gold\.member_months, gold\.member_summary, gold\.pipeline_logs\): run data-ops "
                r"run \(or make demo\), then build the report again\.$",
            )
            self.assertEqual(page.locator(".js-plotly-plot").count(), 0)
            EMPTY_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(EMPTY_SCREENSHOT), full_page=True)
