"""What a person sees of a run: live progress on a terminal, JSON lines everywhere else.

The pipeline only logs (``python_ingest.logs``): its records, and the progress events it
announces without storing them. The CLI picks a view for them, once:

- ``json`` (the default when stdout is not a terminal, e.g. a Databricks task): every stdout
  line is a JSON record (the pipeline's records, and dbt's own log lines as JSON); short plain
  progress lines go to stderr.
- ``console`` (the default on a terminal): per table, each file with its size, rows and outcome
  as it finishes, the file being loaded and the dbt node being built live, dbt's nodes done /
  total and its failures as they happen, and the summary table at the end. No JSON on screen;
  the records still go to ``gold.pipeline_logs``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any, Literal

from python_ingest.logs import JsonLinesFormatter, LogRecord

__all__ = ["LOG_FORMATS", "ConsoleView", "JsonView", "LayerRow", "View", "make_view"]

LOG_FORMATS = ("auto", "json", "console")
_BAD = ("error", "fail", "runtime error")
# (layer, tables, rows, checks, seconds)
LayerRow = tuple[str, int, int, str, float]


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


class View(logging.Handler):
    """Receives the pipeline's log records and dbt's events; renders them somewhere."""

    format_name: Literal["json", "console"]

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)

    def install(self, verbose: bool) -> None:
        """Route the package's log records (and nothing from py4j or Spark) to this view."""
        pipeline = logging.getLogger("python_ingest")
        pipeline.handlers[:] = [self]
        pipeline.setLevel(logging.DEBUG if verbose else logging.INFO)
        pipeline.propagate = False
        for noisy in ("py4j", "pyspark", "SQLQueryContextLogger"):
            logging.getLogger(noisy).setLevel(logging.CRITICAL)

    def line(self, message: str) -> None:
        """A line for the person running the command."""
        print(message, file=sys.stderr, flush=True)

    def dbt_args(self) -> list[str]:
        """dbt CLI flags that make dbt's own output fit this view."""
        return []

    def dbt_event(self, event: Any) -> None:
        """dbt's event callback (``dbtRunner(callbacks=[...])``)."""

    def summary(self, title: str, rows: Sequence[LayerRow], footer: str) -> None:
        self.line(f"\n{title}")
        self.line(f"  {'layer':<8} {'tables':>6} {'rows':>12}  {'checks':<40} {'seconds':>8}")
        for layer, tables, count, checks, seconds in rows:
            self.line(f"  {layer:<8} {tables:>6} {count:>12,}  {checks:<40} {seconds:>8.1f}")
        self.line(f"  {footer}")

    def close(self) -> None:
        super().close()


class JsonView(View):
    """JSON lines on stdout (pipeline records; dbt logs as JSON); progress lines on stderr."""

    format_name = "json"

    def __init__(self, stream: IO[str] | None = None) -> None:
        super().__init__()
        self.stream = stream
        self.setFormatter(JsonLinesFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "pipeline_event", None) is not None:
            return  # progress for a terminal; the records say the same when a step ends
        stream = self.stream or sys.stdout
        stream.write(self.format(record) + "\n")
        stream.flush()
        pipeline = getattr(record, "pipeline_record", None)
        if isinstance(pipeline, LogRecord) and pipeline.step == "load_file":
            self.line(_file_line(pipeline))

    def dbt_args(self) -> list[str]:
        return ["--log-format", "json"]


def _file_line(record: LogRecord) -> str:
    extra = _extra(record)
    name = (record.data_file or "").rsplit("/", 1)[-1]
    table = (record.table_name or "").rsplit(".", 1)[-1]
    return (
        f"  {table:<24} {name:<40} {extra.get('file_status', record.status):<9} "
        f"read={record.rows_read or 0} loaded={record.rows_loaded or 0} "
        f"quarantined={record.rows_quarantined or 0} rescued={record.rows_rescued or 0}"
    )


def _extra(record: LogRecord) -> Mapping[str, Any]:
    import json

    return json.loads(record.extra) if record.extra else {}


class ConsoleView(View):
    """Live progress with rich on a terminal."""

    format_name = "console"

    def __init__(self, stream: IO[str] | None = None) -> None:
        super().__init__()
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.console = Console(file=stream or sys.stdout, highlight=False)
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self._file_task: Any = None
        self._dbt_task: Any = None
        self._dbt_failures = 0
        self.progress.start()

    def line(self, message: str) -> None:
        self.progress.console.print(message, markup=False)

    def dbt_args(self) -> list[str]:
        # dbt prints nothing itself: its nodes and failures are rendered from its events.
        return ["--log-level", "none"]

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "pipeline_event", None)
        if isinstance(event, dict):
            self._event(event)
            return
        pipeline = getattr(record, "pipeline_record", None)
        if not isinstance(pipeline, LogRecord):
            if record.levelno >= logging.WARNING:
                self.line(f"{record.levelname.lower()}: {record.getMessage()}")
            return
        if pipeline.step == "load_file":
            self._file_done(pipeline)
        elif pipeline.step == "discover":
            self.line(f"[{pipeline.table_name}] {pipeline.message}")
        elif pipeline.step == "summary" and pipeline.status == "error":
            self.console.print(f"[red]{pipeline.message}[/red]")

    def _event(self, event: Mapping[str, Any]) -> None:
        if event.get("event") == "file_started":
            description = f"loading {event['file']} ({_size(int(event['size']))})"
            if self._file_task is None:
                self._file_task = self.progress.add_task(description, total=None)
            else:
                self.progress.update(self._file_task, description=description, visible=True)

    def _file_done(self, record: LogRecord) -> None:
        if self._file_task is not None:
            self.progress.update(self._file_task, visible=False)
        extra = _extra(record)
        status = str(extra.get("file_status", record.status))
        colour = {"loaded": "green", "duplicate": "yellow"}.get(status, "red")
        name = (record.data_file or "").rsplit("/", 1)[-1]
        self.console.print(
            f"  [{colour}]{status:<9}[/{colour}] {name} ({_size(int(extra.get('file_size', 0)))})"
            f"  read {record.rows_read or 0:,}  loaded {record.rows_loaded or 0:,}"
            f"  quarantined {record.rows_quarantined or 0:,}  rescued {record.rows_rescued or 0:,}"
            f"  {(record.duration_ms or 0) / 1000:.1f} s",
            highlight=False,
        )
        if status == "failed":
            detail = record.message.split(" - ", 1)[-1]
            self.console.print(f"      [red]{detail}[/red]", highlight=False)

    def dbt_event(self, event: Any) -> None:
        name = event.info.name
        data = event.data
        if name == "ConcurrencyLine":
            self._dbt_task = self.progress.add_task("dbt build", total=data.node_count)
        elif name == "NodeStart" and self._dbt_task is not None:
            self.progress.update(self._dbt_task, description=f"dbt {data.node_info.node_name}")
        elif name == "NodeFinished" and self._dbt_task is not None:
            self.progress.advance(self._dbt_task)
            status = data.run_result.status or data.node_info.node_status
            if status in _BAD:
                self._dbt_failures += 1
                message = (data.run_result.message or "").strip().splitlines()
                self.console.print(
                    f"  [red]{status.upper()}[/red] {data.node_info.unique_id}"
                    + (f": {message[0][:200]}" if message else ""),
                    highlight=False,
                )

    def summary(self, title: str, rows: Sequence[LayerRow], footer: str) -> None:
        from rich.table import Table

        self.progress.stop()
        table = Table(title=title, title_justify="left")
        for column, justify in (
            ("layer", "left"),
            ("tables", "right"),
            ("rows", "right"),
            ("checks", "left"),
            ("seconds", "right"),
        ):
            table.add_column(column, justify=justify)  # type: ignore[arg-type]
        for layer, tables, count, checks, seconds in rows:
            table.add_row(layer, str(tables), f"{count:,}", checks, f"{seconds:.1f}")
        self.console.print(table)
        self.console.print(footer, highlight=False)

    def close(self) -> None:
        self.progress.stop()
        super().close()


def make_view(log_format: str, stdout: IO[str] | None = None) -> View:
    """The view for ``--log-format`` (``auto``: console on a terminal, else JSON)."""
    stream = stdout or sys.stdout
    if log_format == "console" or (log_format == "auto" and stream.isatty()):
        return ConsoleView(stream)
    return JsonView(stream)
