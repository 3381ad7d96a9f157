"""The dbt docs site of the built project, read in headless Chromium (issue 7, acceptance 1).

After the shared pipeline has built both domains, ``dbt docs generate --static`` writes the site
into the test lakehouse's dbt target; it is served on 127.0.0.1 and opened in Debian's Chromium
(``tools.docs_browser``). The lineage view is followed as a reader would (overview -> lineage
graph -> ``--select`` upstream of the dashboards) and the graph the page draws is checked, then
saved as ``target/docs_lineage.png`` in the repository.

No browser is not a reason to pass: if Chromium or its driver is missing, the class set-up fails
with the reason and the fix (``make setup``).
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from tests.e2e.pipeline import pipeline_state
from tests.support import REPO_ROOT, SparkTestCase, ensure_test_lakehouse, run_dbt
from tools.docs_browser import (
    BrowserUnavailableError,
    Lineage,
    chromium_page,
    open_lineage,
    serve_directory,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

DOMAINS = ("member", "claims")
SCREENSHOT = REPO_ROOT / "target" / "docs_lineage.png"
PAGE_TIMEOUT_MS = 30_000


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class DocsSiteTest(SparkTestCase):
    site: ClassVar[Path]
    site_url: ClassVar[str]
    manifest: ClassVar[dict[str, Any]]
    page: ClassVar[Page]
    lineage: ClassVar[Lineage]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        pipeline_state()
        generated = run_dbt(["docs", "generate", "--target", "local", "--static"], record=False)
        if not generated.success:
            raise AssertionError(f"dbt docs generate failed: {generated.exception}")
        cls.site = ensure_test_lakehouse() / "dbt-target" / REPO_ROOT.name
        cls.manifest = json.loads((cls.site / "manifest.json").read_text())
        browser = contextlib.ExitStack()
        cls.addClassCleanup(browser.close)
        cls.site_url = browser.enter_context(serve_directory(cls.site))
        try:
            cls.page = browser.enter_context(chromium_page())
        except BrowserUnavailableError as err:
            raise AssertionError(
                f"DOCS BROWSER TEST CANNOT RUN - headless Chromium is unavailable: {err}"
            ) from err
        SCREENSHOT.unlink(missing_ok=True)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        cls.lineage = open_lineage(cls.page, cls.site_url)
        cls.page.screenshot(path=str(SCREENSHOT))

    def _manifest_models(self, domain: str, layer: str) -> set[str]:
        return {
            uid
            for uid, node in self.manifest["nodes"].items()
            if node["resource_type"] == "model" and node["fqn"][1] == domain
            if node["schema"] == layer
        }

    def _feeding(self, models: set[str]) -> set[str]:
        """Every node ``models`` are built from (dbt's parent map), transitively."""
        parents = self.manifest["parent_map"]
        found: set[str] = set()
        pending = list(models)
        while pending:
            for parent in parents.get(pending.pop(), []):
                if parent not in found:
                    found.add(parent)
                    pending.append(parent)
        return found

    def test_lineage_view_is_the_fullscreen_graph_of_the_selection(self) -> None:
        self.assertIn("static_index.html#!/overview?g_v=1", self.lineage.url)
        self.assertIn("g_i=%2Bexposure:member_enrollment_dashboard", self.lineage.url)
        self.assertEqual(self.lineage.select(resource_type="test"), set())

    def test_lineage_links_bronze_sources_to_silver_and_gold_in_both_domains(self) -> None:
        for domain in DOMAINS:
            with self.subTest(domain=domain):
                sources = self.lineage.select(resource_type="source", domain=domain, layer="bronze")
                self.assertEqual(
                    sources,
                    {
                        uid
                        for uid, source in self.manifest["sources"].items()
                        if source["fqn"][1] == domain
                    },
                )
                downstream = self.lineage.downstream(sources)
                gold = self._manifest_models(domain, "gold")
                # The view is what the dashboards read: the silver models gold is built from
                # (a public silver table no gold model reads, such as claims_medical, is a
                # leaf of its own and not on this view).
                silver = self._manifest_models(domain, "silver") & self._feeding(gold)
                self.assertTrue(silver and gold, f"{domain}: no silver or gold models")
                self.assertEqual(silver - downstream, set(), f"{domain}: silver not fed by bronze")
                self.assertEqual(gold - downstream, set(), f"{domain}: gold not fed by bronze")
                # gold is built from silver: every gold model sits downstream of a silver one.
                self.assertEqual(gold - self.lineage.downstream(silver), set())

    def test_lineage_ends_in_each_domain_dashboard(self) -> None:
        expected = {
            "member": {"model.data_ops.member_summary", "model.data_ops.member_months"},
            "claims": {"model.data_ops.claims_summary"},
        }
        for domain, gold in expected.items():
            with self.subTest(domain=domain):
                (dashboard,) = self.lineage.select(resource_type="exposure", domain=domain)
                feeding = {source for source, target in self.lineage.edges if target == dashboard}
                self.assertEqual(feeding, gold)
                self.assertEqual(
                    self.lineage.nodes[dashboard].label,
                    self.manifest["exposures"][dashboard]["label"],
                )

    def test_whole_lineage_is_on_screen_and_saved_as_screenshot(self) -> None:
        self.assertEqual(self.lineage.off_screen(), [], "nodes drawn outside the graph canvas")
        domains = {node.domain for node in self.lineage.nodes.values()}
        self.assertEqual(domains, set(DOMAINS))
        png = SCREENSHOT.read_bytes()
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        self.assertGreaterEqual((width, height), (1600, 720))

    def test_gold_model_pages_show_descriptions_and_column_docs(self) -> None:
        # index.html is what `make docs-serve` serves: it loads manifest.json and catalog.json.
        for uid in ("model.data_ops.member_summary", "model.data_ops.claims_summary"):
            with self.subTest(model=uid):
                node = self.manifest["nodes"][uid]
                self.page.goto(f"{self.site_url}/index.html#!/model/{uid}")
                # The page heading: the model's name, then its materialization.
                heading = f"{node['name']} {node['config']['materialized']}"
                self.page.get_by_text(heading, exact=False).first.wait_for(timeout=PAGE_TIMEOUT_MS)
                self.page.get_by_text("Columns", exact=True).first.wait_for(timeout=PAGE_TIMEOUT_MS)
                text = _words(self.page.inner_text("body"))
                self.assertIn(_words(node["description"]), text)
                for column in node["columns"].values():
                    self.assertIn(column["name"], text)
                    self.assertIn(_words(column["description"]), text)

    def test_exposure_pages_name_owner_and_upstream_model(self) -> None:
        for uid, exposure in self.manifest["exposures"].items():
            with self.subTest(exposure=uid):
                self.page.goto(f"{self.site_url}/index.html#!/exposure/{uid}")
                self.page.get_by_text(f"{exposure['label']} exposure").first.wait_for(
                    timeout=PAGE_TIMEOUT_MS
                )
                text = _words(self.page.inner_text("body"))
                owner = exposure["owner"]
                self.assertIn(f"{owner['name']} <{owner['email']}>", text)
                self.assertIn(_words(exposure["description"]), text)
                for parent in exposure["depends_on"]["nodes"]:
                    self.assertIn(self.manifest["nodes"][parent]["name"], text)
