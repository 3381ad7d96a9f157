"""The run report as one self-contained HTML file: plotly charts, tables, notes.

plotly.js is embedded once in the page, so the file opens anywhere, offline, with no server.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from python_ingest.errors import ConfigError
from python_ingest.report.dashboard import Dashboard, Widget
from python_ingest.report.data import DatasetResult

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["CHART_HEIGHT_PX", "render_report"]

CHART_HEIGHT_PX = 380
_NEXT_STEP = (
    "run <code>data-ops run</code> (or <code>make demo</code>), then build the report again"
)
_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1b1f24;
       background: #f6f7f9; }
header { background: #14303e; color: #fff; padding: 16px 28px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; opacity: .85; font-size: 13px; }
nav { padding: 8px 28px; background: #e7ebef; font-size: 14px; }
nav a { margin-right: 18px; color: #14303e; }
main { padding: 8px 20px 40px; }
.grid { display: grid; grid-template-columns: repeat(6, 1fr); gap: 14px; margin: 14px 0; }
.widget { background: #fff; border: 1px solid #d8dde3; border-radius: 6px; padding: 10px 14px;
          margin: 0; min-width: 0; }
.widget h3 { margin: 2px 0 8px; font-size: 15px; }
.text h2 { margin: 4px 0; font-size: 19px; } .text p { margin: 4px 0; color: #4a5561; }
.note { background: #fff7e0; border: 1px solid #f0d58a; border-radius: 4px; padding: 8px 12px;
        font-size: 14px; }
.page-note { margin: 14px 0 0; }
.scroll { max-height: 420px; overflow: auto; }
table { border-collapse: collapse; font-size: 12.5px; width: 100%; }
th, td { border-bottom: 1px solid #e4e8ec; padding: 4px 8px; text-align: left;
         vertical-align: top; }
th { position: sticky; top: 0; background: #f0f3f6; }
td { overflow-wrap: anywhere; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td[class*="status-"] { white-space: nowrap; }
td.status-fail, td.status-error, td.status-failed, td.status-runtime-error { color: #b3261e;
  font-weight: 600; }
td.status-warn, td.status-warning, td.status-duplicate { color: #8a5a00; font-weight: 600; }
td.status-pass, td.status-success, td.status-ok, td.status-loaded { color: #1e6b35; }
details { font-size: 12px; margin-top: 6px; } pre { white-space: pre-wrap; }
"""


def _plotly() -> tuple[ModuleType, str]:
    try:
        import plotly.graph_objects as go
        from plotly.offline import get_plotlyjs
    except ImportError as err:
        raise ConfigError(
            "data-ops report draws its charts with plotly, an optional dependency: install the "
            "wheel with its report extra (pip install 'data-ops[report]'; in the checkout "
            "`make setup` installs it)"
        ) from err
    return go, get_plotlyjs()


def _esc(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _groups(widget: Widget, rows: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Rows per series: one series per value of the colour field, in order of appearance."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        key = "" if widget.color is None else str(row[widget.color.field_name])
        groups.setdefault(key, []).append(row)
    return groups


def _chart(go: ModuleType, widget: Widget, result: DatasetResult) -> str:
    assert widget.x is not None and widget.y is not None
    x, y = widget.x, widget.y
    figure = go.Figure()
    for series, rows in _groups(widget, result.rows).items():
        xs = [row[x.field_name] for row in rows]
        ys = [row[y.field_name] for row in rows]
        if widget.kind == "bar":
            figure.add_trace(go.Bar(x=xs, y=ys, name=series))
        else:
            figure.add_trace(go.Scatter(x=xs, y=ys, name=series, mode="lines+markers"))
    axis_type = {"temporal": "date", "categorical": "category"}.get(x.scale_type or "", "-")
    xaxis: dict[str, Any] = {"title": {"text": x.label}, "type": axis_type}
    if axis_type == "date":
        # A tick on each of a short series' own dates (months), not plotly's weekly choice.
        dates = sorted({row[x.field_name] for row in result.rows} - {None})
        xaxis["tickformat"] = "%b %Y"
        if len(dates) <= 24:
            xaxis["tickvals"] = dates
    figure.update_layout(
        height=CHART_HEIGHT_PX,
        margin={"l": 60, "r": 20, "t": 10, "b": 50},
        barmode="group",
        legend={"title": {"text": widget.color.label if widget.color else ""}},
        xaxis=xaxis,
        yaxis={"title": {"text": y.label}, "rangemode": "tozero"},
        template="plotly_white",
    )
    chart: str = figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"chart-{widget.name}",
        config={"displaylogo": False, "responsive": True},
    )
    return chart


def _cell(field: str, value: Any) -> str:
    classes = []
    if isinstance(value, int | float) and not isinstance(value, bool):
        classes.append("num")
        text = format(value, ",")
    else:
        text = "" if value is None else str(value)
    if field == "status" and value is not None:
        classes.append("status-" + str(value).replace(" ", "-"))
    attribute = f' class="{" ".join(classes)}"' if classes else ""
    return f"<td{attribute}>{_esc(text)}</td>"


def _table(widget: Widget, result: DatasetResult) -> str:
    head = "".join(f"<th>{_esc(c.label)}</th>" for c in widget.columns)
    body = "".join(
        "<tr>" + "".join(_cell(c.field_name, row[c.field_name]) for c in widget.columns) + "</tr>"
        for row in result.rows
    )
    return (
        f'<div class="scroll"><table data-rows="{len(result.rows)}"><thead><tr>{head}</tr>'
        f"</thead><tbody>{body}</tbody></table></div>"
    )


def _text(widget: Widget) -> str:
    parts = []
    for line in widget.text:
        stripped = line.strip()
        if stripped.startswith("#"):
            parts.append(f"<h2>{_esc(stripped.lstrip('#').strip())}</h2>")
        elif stripped:
            parts.append(f"<p>{_esc(stripped)}</p>")
    return "".join(parts)


def _widget(go: ModuleType, widget: Widget, results: dict[str, DatasetResult], catalog: str) -> str:
    style = f"grid-column: span {widget.width};"
    if widget.kind == "text":
        return f'<div class="widget text" style="{style}">{_text(widget)}</div>'
    assert widget.dataset is not None
    result = results[widget.dataset]
    if not result.ready:
        body = (
            f'<p class="note">Not built yet: {_esc(", ".join(result.missing))} does not exist '
            f"in catalog {_esc(catalog)}; {_NEXT_STEP}.</p>"
        )
    elif not result.rows:
        body = '<p class="note">No rows yet.</p>'
    elif widget.kind == "table":
        body = _table(widget, result)
    else:
        body = _chart(go, widget, result)
    title = f"<h3>{_esc(widget.title)}</h3>" if widget.title else ""
    query = f"<details><summary>Query</summary><pre>{_esc(result.sql)}</pre></details>"
    return (
        f'<figure class="widget {widget.kind}" style="{style}" data-widget="{_esc(widget.name)}" '
        f'data-dataset="{_esc(widget.dataset)}" data-kind="{widget.kind}" '
        f'data-ready="{str(result.ready and bool(result.rows)).lower()}">'
        f"{title}{body}{query}</figure>"
    )


def _page_note(results: dict[str, DatasetResult], catalog: str) -> str:
    waiting = [r for r in results.values() if not r.ready]
    if not waiting:
        return ""
    missing = sorted({t for r in waiting for t in r.missing})
    if len(waiting) == len(results):
        lead = f"This lakehouse (catalog {_esc(catalog)}) has none of the tables the report reads"
    else:
        lead = (
            f"This lakehouse (catalog {_esc(catalog)}) is partly built: "
            f"{len(waiting)} of {len(results)} datasets wait for tables"
        )
    return (
        f'<p class="note page-note" id="report-note">{lead} yet ({_esc(", ".join(missing))}): '
        f"{_NEXT_STEP}.</p>"
    )


def render_report(
    dashboard: Dashboard,
    results: dict[str, DatasetResult],
    *,
    catalog: str,
    generated_at: dt.datetime,
) -> str:
    """The whole HTML document."""
    go, plotly_js = _plotly()
    tables = sorted({t for r in results.values() for t in r.tables})
    nav = "".join(f'<a href="#page-{_esc(p.name)}">{_esc(p.title)}</a>' for p in dashboard.pages)
    sections = "".join(
        f'<section id="page-{_esc(page.name)}" aria-label="{_esc(page.title)}"><div class="grid">'
        + "".join(_widget(go, w, results, catalog) for w in page.widgets)
        + "</div></section>"
        for page in dashboard.pages
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>data-ops run report - catalog {_esc(catalog)}</title>"
        f"<style>{_STYLE}</style>"
        f'<script type="text/javascript">{plotly_js}</script></head><body>'
        f"<header><h1>data-ops run report</h1><p>Catalog {_esc(catalog)} · generated "
        f"{generated_at:%Y-%m-%d %H:%M:%S} UTC · from {_esc(', '.join(tables))} · "
        f"definition {_esc(dashboard.path.name)}</p></header>"
        f"<nav>{nav}</nav><main>{_page_note(results, catalog)}{sections}</main></body></html>\n"
    )
