"""The operations dashboard's definition: an AI/BI (Lakeview) ``.lvdash.json`` file.

The bundle deploys the file as a Databricks dashboard; ``data-ops report`` reads the same file to
know what to query and draw, so the two views are one definition. Only the part the report uses
is modelled (datasets, pages, widgets with their fields and encodings); everything else a
workspace export carries is accepted and ignored.

Dataset queries name tables as ``<layer>.<table>`` (``gold.claims_summary``): on Databricks the
dashboard's ``dataset_catalog`` supplies the catalog, and :func:`qualify_tables` gives the report
the same names through :class:`~python_ingest.naming.Names`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from python_ingest.errors import ConfigError
from python_ingest.naming import LAYERS, Names

__all__ = [
    "CHART_TYPES",
    "Dashboard",
    "Dataset",
    "Page",
    "QualifiedQuery",
    "Widget",
    "load_dashboard",
    "qualify_tables",
]

CHART_TYPES = ("line", "bar")
WidgetType = Literal["line", "bar", "table"]
_PLAIN_FIELD = re.compile(r"^`([^`]+)`$")
# What a dataset query is made of, for the table scan: strings, quoted identifiers and comments
# are skipped whole; an unquoted `<layer>.<table>` that is not part of a longer dotted name is a
# table reference.
_SQL_TOKENS = re.compile(
    r"""(?P<skip>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*"|`[^`]*`|--[^\n]*|/\*.*?\*/)"""
    r"|(?P<name>(?<![\w.`])(?P<layer>" + "|".join(LAYERS) + r")\.(?P<table>[a-z][a-z0-9_]*)"
    r"(?![\w.`]))",
    re.DOTALL | re.IGNORECASE,
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class Dataset(_Model):
    name: str = Field(min_length=1)
    display_name: str = Field(default="", alias="displayName")
    query_lines: tuple[str, ...] | None = Field(default=None, alias="queryLines")
    query: str | None = None

    @model_validator(mode="after")
    def _has_query(self) -> Dataset:
        if not self.query_lines and not self.query:
            raise ValueError(f"dataset {self.name!r} has neither queryLines nor query")
        return self

    @property
    def sql(self) -> str:
        return "".join(self.query_lines) if self.query_lines else (self.query or "")

    @property
    def title(self) -> str:
        return self.display_name or self.name


class _Field(_Model):
    name: str
    expression: str


class _QueryBody(_Model):
    dataset_name: str = Field(alias="datasetName")
    fields: tuple[_Field, ...] = ()
    disaggregated: bool = False


class _WidgetQuery(_Model):
    name: str
    query: _QueryBody


class Encoding(_Model):
    field_name: str = Field(alias="fieldName")
    display_name: str = Field(default="", alias="displayName")

    @property
    def label(self) -> str:
        return self.display_name or self.field_name


class _ScaledEncoding(Encoding):
    scale_type: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _scale(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("scale"), dict):
            data = {**data, "scale_type": data["scale"].get("type")}
        return data


class _Encodings(_Model):
    x: _ScaledEncoding | None = None
    y: _ScaledEncoding | None = None
    color: _ScaledEncoding | None = None
    columns: tuple[Encoding, ...] = ()


class _Frame(_Model):
    title: str = ""
    show_title: bool = Field(default=True, alias="showTitle")


class _Spec(_Model):
    widget_type: str = Field(alias="widgetType")
    encodings: _Encodings = _Encodings()
    frame: _Frame = _Frame()


class _Textbox(_Model):
    lines: tuple[str, ...] = ()


class _Position(_Model):
    x: int = 0
    y: int = 0
    width: int = Field(default=6, ge=1, le=6)
    height: int = Field(default=1, ge=1)


class Widget(_Model):
    """One widget as the report draws it: a chart, a table or a text box."""

    name: str
    kind: Literal["line", "bar", "table", "text"]
    title: str = ""
    dataset: str | None = None
    x: _ScaledEncoding | None = None
    y: _ScaledEncoding | None = None
    color: _ScaledEncoding | None = None
    columns: tuple[Encoding, ...] = ()
    text: tuple[str, ...] = ()
    width: int = 6

    @property
    def fields(self) -> tuple[str, ...]:
        """Dataset columns the widget shows."""
        if self.kind == "table":
            return tuple(c.field_name for c in self.columns)
        return tuple(e.field_name for e in (self.x, self.y, self.color) if e is not None)


class Page(_Model):
    name: str
    display_name: str = Field(default="", alias="displayName")
    widgets: tuple[Widget, ...] = ()

    @property
    def title(self) -> str:
        return self.display_name or self.name


class _LayoutItem(_Model):
    widget: dict[str, Any]
    position: _Position = _Position()


class _RawPage(_Model):
    name: str
    display_name: str = Field(default="", alias="displayName")
    layout: tuple[_LayoutItem, ...] = ()


class _RawDashboard(_Model):
    datasets: tuple[Dataset, ...] = ()
    pages: tuple[_RawPage, ...] = ()


@dataclass(frozen=True)
class Dashboard:
    """Datasets by name and pages of widgets in reading order (top to bottom, left to right)."""

    path: Path
    datasets: dict[str, Dataset]
    pages: tuple[Page, ...]


def _widget(raw: dict[str, Any], position: _Position, where: str) -> Widget:
    name = str(raw.get("name") or where)
    textbox = raw.get("multilineTextboxSpec")
    if textbox is not None or "textbox_spec" in raw:
        lines = (
            _Textbox.model_validate(textbox).lines
            if textbox is not None
            else tuple(str(raw["textbox_spec"]).splitlines())
        )
        return Widget(name=name, kind="text", text=lines, width=position.width)
    spec = _Spec.model_validate(raw.get("spec") or {})
    queries = [_WidgetQuery.model_validate(q) for q in raw.get("queries") or ()]
    if spec.widget_type not in (*CHART_TYPES, "table"):
        raise ValueError(
            f"widget {name!r} is a {spec.widget_type!r}; the report draws "
            f"{', '.join((*CHART_TYPES, 'table'))} and text widgets: use one of those"
        )
    if len(queries) != 1:
        raise ValueError(f"widget {name!r} has {len(queries)} queries; the report reads one")
    body = queries[0].query
    for field in body.fields:
        match = _PLAIN_FIELD.match(field.expression)
        if not match or match.group(1) != field.name:
            raise ValueError(
                f"widget {name!r} field {field.name!r} is {field.expression!r}: the report "
                "shows dataset columns as they are; aggregate in the dataset query and use "
                f"the expression '`{field.name}`'"
            )
    encodings = spec.encodings
    widget = Widget(
        name=name,
        kind=cast(WidgetType, spec.widget_type),
        title=spec.frame.title if spec.frame.show_title else "",
        dataset=body.dataset_name,
        x=encodings.x,
        y=encodings.y,
        color=encodings.color,
        columns=encodings.columns,
        width=position.width,
    )
    if widget.kind in CHART_TYPES and (widget.x is None or widget.y is None):
        raise ValueError(f"chart widget {name!r} needs x and y encodings")
    if widget.kind == "table" and not widget.columns:
        raise ValueError(f"table widget {name!r} has no columns")
    missing = set(widget.fields) - {f.name for f in body.fields}
    if missing:
        raise ValueError(
            f"widget {name!r} encodes {sorted(missing)!r}, which its query does not select"
        )
    return widget


def load_dashboard(path: Path) -> Dashboard:
    """Read and check a ``.lvdash.json`` file; a problem is a ConfigError naming the fix."""
    try:
        raw = _RawDashboard.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError as err:
        raise ConfigError(
            f"no dashboard definition at {str(path)!r}: pass --dashboard, or --project-dir "
            "pointing at the data-ops checkout (resources/dashboards/)"
        ) from err
    except (json.JSONDecodeError, ValidationError) as err:
        raise ConfigError(f"dashboard definition {str(path)!r} is not valid: {err}") from err
    datasets = {d.name: d for d in raw.datasets}
    if len(datasets) != len(raw.datasets):
        raise ConfigError(f"dashboard definition {str(path)!r} repeats a dataset name")
    pages = []
    for page in raw.pages:
        layout = sorted(page.layout, key=lambda item: (item.position.y, item.position.x))
        try:
            widgets = tuple(
                _widget(item.widget, item.position, f"{page.name}[{index}]")
                for index, item in enumerate(layout)
            )
        except (ValueError, ValidationError) as err:
            raise ConfigError(
                f"dashboard definition {str(path)!r}, page {page.name!r}: {err}"
            ) from err
        for widget in widgets:
            if widget.dataset is not None and widget.dataset not in datasets:
                raise ConfigError(
                    f"dashboard definition {str(path)!r}: widget {widget.name!r} reads dataset "
                    f"{widget.dataset!r}, which is not defined; datasets: {sorted(datasets)}"
                )
        pages.append(Page(name=page.name, displayName=page.display_name, widgets=widgets))
    return Dashboard(path=path, datasets=datasets, pages=tuple(pages))


@dataclass(frozen=True)
class QualifiedQuery:
    """A dataset query with its tables named for one platform, and those tables."""

    sql: str
    tables: tuple[tuple[str, str], ...]  # (layer, table), in order of first use

    def table_names(self, names: Names) -> tuple[str, ...]:
        return tuple(names.table(layer, table) for layer, table in self.tables)


def qualify_tables(sql: str, names: Names) -> QualifiedQuery:
    """Name every ``<layer>.<table>`` of ``sql`` the way ``names`` does: unchanged locally,
    ``<catalog>.<layer>.<table>`` on Databricks (what the dashboard's ``dataset_catalog`` does)."""
    tables: list[tuple[str, str]] = []

    def rename(match: re.Match[str]) -> str:
        if match.group("skip") is not None:
            return match.group(0)
        key = (match.group("layer").lower(), match.group("table").lower())
        if key not in tables:
            tables.append(key)
        return names.table(*key)

    return QualifiedQuery(sql=_SQL_TOKENS.sub(rename, sql), tables=tuple(tables))
