"""Open the dbt docs site in headless Chromium and read its lineage graph.

Used by the docs-site browser test and by hand after ``make docs``::

    python -m tools.docs_browser target --screenshot target/docs_lineage.png

Chromium is Debian's ``/usr/bin/chromium`` (``tools/install_browser.sh``, run by ``make setup``),
driven through Playwright with ``executable_path``: Playwright's own browser download is never
used. The flags keep Chromium off the network (this machine's network is closed, and Chromium
otherwise keeps trying to reach Google's update, sync and component services).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Page

__all__ = [
    "CHROMIUM",
    "CHROMIUM_FLAGS",
    "LINEAGE_SELECT",
    "BrowserUnavailableError",
    "DocsSiteError",
    "Lineage",
    "LineageNode",
    "chromium_page",
    "main",
    "open_lineage",
    "serve_directory",
]

CHROMIUM = Path(os.environ.get("DATA_OPS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # runs as root here
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
SITE_PAGE = "static_index.html"  # `dbt docs generate --static`: manifest + catalog inline
# Everything upstream of the dashboards: bronze sources -> silver -> gold -> exposures, both
# domains, without the test nodes that crowd the full graph.
LINEAGE_SELECT = "+exposure:member_enrollment_dashboard +exposure:claims_cost_dashboard"
GRAPH_TIMEOUT_SECONDS = 60.0

# Reads the graph the page renders: dbt docs keeps its cytoscape instance in the AngularJS
# `graph` service (`graph_element`) once the fullscreen lineage view is laid out.
_READ_GRAPH_JS = """
() => {
    const root = window.angular && window.angular.element(document.documentElement);
    const injector = root && root.injector();
    if (!injector) { return null; }
    const graph = injector.get('graph');
    const cy = graph.graph_element;
    if (!cy || graph.orientation !== 'fullscreen') { return null; }
    const nodes = cy.nodes(':visible').map((node) => {
        const data = node.data();
        const box = node.renderedBoundingBox();
        return {
            unique_id: data.unique_id || data.id,
            label: data.label || data.name || data.id,
            resource_type: data.resource_type || '',
            layer: data.schema || null,
            domain: (data.fqn || [])[1] || null,
            box: [box.x1, box.y1, box.x2, box.y2],
        };
    });
    const edges = cy.edges(':visible').map((edge) => [edge.data('source'), edge.data('target')]);
    return {url: window.location.href, width: cy.width(), height: cy.height(), nodes, edges};
}
"""


class BrowserUnavailableError(RuntimeError):
    """Chromium or its driver is missing or does not start."""


class DocsSiteError(RuntimeError):
    """The docs site did not show what was asked of it."""


@dataclass(frozen=True)
class LineageNode:
    """One node as the lineage view draws it; ``box`` is its on-screen rectangle (px)."""

    unique_id: str
    label: str
    resource_type: str
    layer: str | None  # the node's schema: bronze (sources), silver, gold, ua (tests)
    domain: str | None  # the folder under models/ (fqn[1])
    box: tuple[float, float, float, float]


@dataclass
class Lineage:
    """The lineage graph shown by the page: visible nodes, visible edges, canvas size."""

    url: str
    width: float
    height: float
    nodes: dict[str, LineageNode] = field(default_factory=dict)
    edges: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def from_page(cls, raw: dict[str, Any]) -> Lineage:
        nodes = {
            n["unique_id"]: LineageNode(
                unique_id=n["unique_id"],
                label=n["label"],
                resource_type=n["resource_type"],
                layer=n["layer"],
                domain=n["domain"],
                box=(n["box"][0], n["box"][1], n["box"][2], n["box"][3]),
            )
            for n in raw["nodes"]
        }
        edges = {(source, target) for source, target in raw["edges"]}
        return cls(
            url=raw["url"], width=raw["width"], height=raw["height"], nodes=nodes, edges=edges
        )

    def select(
        self, *, resource_type: str, domain: str | None = None, layer: str | None = None
    ) -> set[str]:
        return {
            n.unique_id
            for n in self.nodes.values()
            if n.resource_type == resource_type
            and (domain is None or n.domain == domain)
            and (layer is None or n.layer == layer)
        }

    def downstream(self, start: set[str]) -> set[str]:
        """Nodes reachable from ``start`` along the drawn edges (``start`` excluded)."""
        children: dict[str, set[str]] = {}
        for source, target in self.edges:
            children.setdefault(source, set()).add(target)
        seen: set[str] = set()
        frontier = list(start)
        while frontier:
            for child in children.get(frontier.pop(), set()):
                if child not in seen:
                    seen.add(child)
                    frontier.append(child)
        return seen - start

    def off_screen(self) -> list[str]:
        """Nodes whose box is not wholly inside the canvas."""
        return [
            n.unique_id
            for n in self.nodes.values()
            if n.box[0] < 0 or n.box[1] < 0 or n.box[2] > self.width or n.box[3] > self.height
        ]


@contextlib.contextmanager
def serve_directory(root: Path) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1 (ephemeral port) in a thread; yields the base URL."""

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Requests are not worth a line each."""

    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="docs-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def chromium_page(width: int = 1600, height: int = 720, scale: float = 2.0) -> Iterator[Page]:
    """One headless Chromium page with a fresh, throw-away profile (``scale``: device pixels)."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        raise BrowserUnavailableError(
            f"no Chromium at {str(CHROMIUM)!r}: run `make setup` (tools/install_browser.sh "
            "installs Debian's chromium package) or point DATA_OPS_CHROMIUM at a Chromium binary"
        )
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as err:
        raise BrowserUnavailableError(
            "the Playwright driver is not installed: run `make setup` (uv sync installs the dev "
            f"group's playwright package): {err}"
        ) from err
    profile = Path(tempfile.mkdtemp(prefix="data-ops-chromium-"))
    try:
        with sync_playwright() as driver:
            try:
                context = driver.chromium.launch_persistent_context(
                    str(profile),
                    executable_path=str(CHROMIUM),
                    headless=True,
                    args=list(CHROMIUM_FLAGS),
                    viewport={"width": width, "height": height},
                    device_scale_factor=scale,
                )
            except PlaywrightError as err:
                raise BrowserUnavailableError(
                    f"Chromium at {str(CHROMIUM)!r} did not start: {err.message}"
                ) from err
            try:
                yield context.pages[0] if context.pages else context.new_page()
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _read_graph(page: Page) -> dict[str, Any] | None:
    raw: dict[str, Any] | None = page.evaluate(_READ_GRAPH_JS)
    return raw


def open_lineage(page: Page, site_url: str, select: str = LINEAGE_SELECT) -> Lineage:
    """Follow the lineage graph as a reader does; returns it once its layout has settled.

    Overview page -> "View Lineage Graph" (the fullscreen graph, ``g_v=1``) -> ``--select``
    -> "Update Graph".
    """
    page.goto(f"{site_url}/{SITE_PAGE}#!/overview")
    page.get_by_title("View Lineage Graph").click()
    page.wait_for_url("**g_v=1**", timeout=GRAPH_TIMEOUT_SECONDS * 1000)
    page.locator('input[ng-model="selectorService.selection.dirty.include"]').fill(select)
    page.get_by_text("Update Graph", exact=True).click()
    page.wait_for_url("**g_i=**", timeout=GRAPH_TIMEOUT_SECONDS * 1000)
    # The layout (dagre) and the fit-to-screen run after the route change: wait until two
    # readings a quarter second apart agree.
    previous: dict[str, Any] | None = None
    deadline = time.monotonic() + GRAPH_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        current = _read_graph(page)
        if current and current["nodes"] and current == previous:
            return Lineage.from_page(current)
        previous = current
        page.wait_for_timeout(250)
    raise DocsSiteError(
        f"the lineage graph at {page.url} did not settle within {GRAPH_TIMEOUT_SECONDS:.0f}s "
        f"(last reading: {json.dumps(previous)[:500] if previous else 'no graph drawn'})"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Screenshot the lineage of a generated docs site (``make docs`` first)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("site", type=Path, nargs="?", default=Path("target"))
    parser.add_argument("--select", default=LINEAGE_SELECT, help="dbt docs graph selector")
    parser.add_argument("--screenshot", type=Path, default=Path("target/docs_lineage.png"))
    args = parser.parse_args(argv)
    if not (args.site / SITE_PAGE).is_file():
        print(f"no {SITE_PAGE} in {args.site}: run `make docs` first", file=sys.stderr)
        return 2
    with serve_directory(args.site) as url, chromium_page() as page:
        lineage = open_lineage(page, url, args.select)
        args.screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.screenshot))
    for node in sorted(lineage.nodes.values(), key=lambda n: (n.domain or "", n.unique_id)):
        print(
            f"{node.domain or '-':<8} {node.layer or '-':<7} {node.resource_type:<9} {node.label}"
        )
    print(f"{len(lineage.nodes)} nodes, {len(lineage.edges)} edges; screenshot {args.screenshot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
