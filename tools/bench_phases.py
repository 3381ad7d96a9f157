"""The phases of one ``data-ops run``, read from its JSON-lines stdout and its summary table
(``make bench-pipeline``; the rules are in tools/bench_pipeline.py's docstring)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# One layer row of the run's summary table on stderr (python_ingest.cli.console.View.summary).
_SUMMARY_ROW = re.compile(
    r"^  (?P<layer>\S+)\s+(?P<tables>\d+)\s+(?P<rows>[\d,]+)  .*\s(?:\d+\.\d)$"
)
_NODE_EVENTS = ("LogModelResult", "LogTestResult", "LogNodeResult", "NodeFinished")


class BenchError(Exception):
    """The benchmark cannot give figures (a run failed, or its output is not what it reads)."""


def _json_lines(lines: Iterable[str]) -> list[dict[str, Any]]:
    parsed = []
    for line in lines:
        if not line.startswith("{"):
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            parsed.append(value)
    return parsed


def _at(record: dict[str, Any]) -> float:
    """A pipeline record's time (``logged_at``, UTC) as epoch seconds."""
    stamp = dt.datetime.fromisoformat(str(record["logged_at"])).replace(tzinfo=dt.UTC)
    return stamp.timestamp()


def _iso(value: Any) -> float | None:
    if not value:
        return None
    stamp = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)).timestamp()


@dataclass
class _Table:
    name: str
    start: float
    end: float = 0.0
    rows_loaded: int = 0
    files: int = 0


def phases(stdout: Sequence[str], label: str) -> dict[str, Any]:
    """Ingest, dbt build, layers and tests of one run, from its JSON-lines stdout."""
    objects = _json_lines(stdout)
    records = [o for o in objects if "step" in o and "run_id" in o and "logged_at" in o]
    tables: dict[tuple[str, str], _Table] = {}
    builds: list[tuple[float, float]] = []
    for record in records:
        key = (str(record.get("domain")), str(record.get("table_name")))
        if record.get("process") == "ingest" and record["step"] == "discover":
            start = _at(record) - (record.get("duration_ms") or 0) / 1000
            tables[key] = _Table(key[1], start, end=_at(record))
        elif record.get("process") == "ingest" and record["step"] == "summary" and key in tables:
            tables[key].end = _at(record)
            tables[key].rows_loaded = int(record.get("rows_loaded") or 0)
        elif record.get("process") == "ingest" and record["step"] == "load_file" and key in tables:
            tables[key].files += 1
        elif record["step"] == "dbt_build":
            end = _at(record)
            builds.append((end - (record.get("duration_ms") or 0) / 1000, end))
    if not tables or not builds:
        raise BenchError(
            f"{label} run: its stdout has {len(records)} pipeline record(s) but no ingest "
            "'discover' record or no 'dbt_build' record, which the benchmark times the phases "
            "by: has the JSON view (python_ingest.cli.console.JsonView) or the records' steps "
            "changed? The benchmark reads discover/summary/load_file and dbt_build records"
        )
    # A span of ingestion: tables ingested one after the other until the next dbt build starts.
    spans: dict[float | None, list[_Table]] = {}
    for table in sorted(tables.values(), key=lambda t: t.start):
        following = min((s for s, _ in builds if s >= table.start), default=None)
        spans.setdefault(following, []).append(table)
    ingest = sum(
        (until if until is not None else max(t.end for t in group)) - min(t.start for t in group)
        for until, group in spans.items()
    )
    nodes = _nodes(objects)
    layers: dict[str, dict[str, Any]] = {}
    for node in nodes.values():
        if node["resource_type"] not in ("model", "snapshot", "seed"):
            continue
        layer = layers.setdefault(
            node["schema"], {"models": 0, "seconds": 0.0, "_starts": [], "_ends": []}
        )
        layer["models"] += 1
        layer["seconds"] += node["seconds"]
        layer["_starts"].append(node["started"])
        layer["_ends"].append(node["finished"])
    for layer in layers.values():
        starts = [s for s in layer.pop("_starts") if s is not None]
        ends = [e for e in layer.pop("_ends") if e is not None]
        layer["span_seconds"] = round(max(ends) - min(starts), 2) if starts and ends else None
        layer["seconds"] = round(layer["seconds"], 2)
    tests = [n for n in nodes.values() if n["resource_type"] in ("test", "unit_test")]
    node_starts = [n["started"] for n in nodes.values() if n["started"] is not None]
    node_ends = [n["finished"] for n in nodes.values() if n["finished"] is not None]
    hooks = [
        o
        for o in objects
        if o.get("info", {}).get("name") == "LogHookEndLine" and isinstance(o.get("data"), dict)
    ]
    loaded = sum(t.rows_loaded for t in tables.values())
    return {
        "ingest_seconds": round(ingest, 2),
        "ingest_tables": {
            t.name: {
                "seconds": round(t.end - t.start, 2),
                "files": t.files,
                "rows_loaded": t.rows_loaded,
            }
            for t in tables.values()
        },
        "bronze_rows_loaded": loaded,
        "bronze_rows_per_second": round(loaded / ingest) if ingest > 0 else None,
        "dbt_build_seconds": round(sum(end - start for start, end in builds), 2),
        "dbt_builds": len(builds),
        "dbt_nodes_span_seconds": (
            round(max(node_ends) - min(node_starts), 2) if node_starts and node_ends else None
        ),
        "dbt_hooks_seconds": round(
            sum(float(h["data"].get("execution_time") or 0) for h in hooks), 2
        ),
        "dbt_full_parse": any(
            o.get("info", {}).get("name") == "UnableToPartialParse" for o in objects
        ),
        "layers": dict(sorted(layers.items())),
        "tests": {
            "seconds": round(sum(n["seconds"] for n in tests), 2),
            "data_tests": sum(1 for n in tests if n["resource_type"] == "test"),
            "unit_tests": sum(1 for n in tests if n["resource_type"] == "unit_test"),
            "statuses": dict(Counter(str(n["status"]) for n in tests)),
        },
        "node_statuses": dict(Counter(str(n["status"]) for n in nodes.values())),
        "slowest_nodes": {
            uid: round(node["seconds"], 2)
            for uid, node in sorted(nodes.items(), key=lambda kv: -kv[1]["seconds"])[:20]
        },
    }


def _nodes(objects: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The finished dbt nodes (models, tests, unit tests...) by unique id."""
    nodes: dict[str, dict[str, Any]] = {}
    for event in objects:
        info, data = event.get("info"), event.get("data")
        if not isinstance(info, dict) or not isinstance(data, dict):
            continue
        if info.get("name") not in _NODE_EVENTS or not isinstance(data.get("node_info"), dict):
            continue
        node = data["node_info"]
        result: dict[str, Any] = (
            data["run_result"] if isinstance(data.get("run_result"), dict) else {}
        )
        seconds = data.get("execution_time", result.get("execution_time"))
        nodes[str(node.get("unique_id"))] = {
            "resource_type": node.get("resource_type"),
            "schema": (node.get("node_relation") or {}).get("schema") or "?",
            "seconds": float(seconds or 0.0),
            "status": data.get("status") or result.get("status") or node.get("node_status"),
            "started": _iso(node.get("node_started_at")),
            "finished": _iso(node.get("node_finished_at")),
        }
    return nodes


def summary_rows(stderr: Iterable[str]) -> dict[str, int]:
    """Rows per layer from the run's summary table(s) on stderr (summed over blocks)."""
    rows: Counter[str] = Counter()
    for line in stderr:
        match = _SUMMARY_ROW.match(line)
        if match and match["layer"] != "layer":
            rows[match["layer"]] += int(match["rows"].replace(",", ""))
    return dict(rows)
