"""Offline check of the Databricks bundle (``databricks.yml`` + ``resources/``).

Neither the Databricks CLI nor a workspace is reachable from CI, so this module does offline
what ``databricks bundle validate`` does, and checks the bundle against the rest of the project:

* load ``databricks.yml``, expand ``include`` with the CLI's Go glob rules, merge every target's
  overrides the way the CLI does (maps deep, sequences appended, tasks/clusters/parameters/grants
  merged by key, ``run_as`` and ``mode`` replaced) and resolve ``${var.*}``, ``${bundle.*}``,
  ``${workspace.*}``, ``${resources.*}`` and ``${artifacts.*}`` references;
* validate each target against the official bundle JSON schema, whose ``\\p{L}`` patterns need
  the ``regex`` package (Python's ``re`` rejects them);
* check the project's rules: every domain folder of ``models/`` has a job, every job's dbt
  selection matches models of its own domain in a manifest from ``dbt parse``, the dbt task's
  ``--target`` exists in ``profiles.yml`` and that profile renders with what the job provides,
  and the ingest entry point exists in the wheel that ``uv build`` produces.

Every problem names the file and line, the path inside the YAML, the offending value and the fix.
Run ``python -m tools.bundle_check --help``; exit code 0 = ok, 1 = problems, 2 = cannot check.
"""

from __future__ import annotations

import argparse
import configparser
import contextlib
import difflib
import fnmatch
import functools
import hashlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import jsonschema
import regex
import yaml
from jsonschema.exceptions import ValidationError

from python_ingest.errors import ConfigError

__all__ = [
    "SCHEMA_CANDIDATES",
    "CheckOptions",
    "CheckReport",
    "DbtCommand",
    "DbtModel",
    "Map",
    "Origin",
    "Problem",
    "Seq",
    "WheelFacts",
    "build_parser",
    "check_bundle",
    "discover_domains",
    "go_glob",
    "inspect_wheel",
    "load_schema_validator",
    "load_yaml",
    "main",
    "merge",
    "merge_by_key",
    "parse_dbt_command",
    "render_profile_value",
    "run_dbt_parse",
    "schema_problems",
    "select_models",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
# A copy vendored in the repository wins over the workspace-shared one next to the checkout.
SCHEMA_CANDIDATES = (
    REPO_ROOT / "tools" / "schemas" / "databricks-bundle.schema.json",
    REPO_ROOT.parent / "shared" / "schemas" / "databricks-bundle.schema.json",
)
SCHEMA_ENV = "DATA_OPS_BUNDLE_SCHEMA"
ROOT_FILE = "databricks.yml"
# The CLI's dynvar pattern, written without nested ambiguous quantifiers (`[a-z]+([-_]*[a-z]+)*`
# backtracks exponentially on a near-miss): a letter, alphanumerics, then `-`/`_`-joined runs.
_KEY = r"[a-zA-Z][a-zA-Z0-9]*(?:[-_]+[a-zA-Z0-9]+)*"
REFERENCE = re.compile(rf"\$\{{({_KEY}(?:\.{_KEY}(?:\[[0-9]+\])*)*(?:\[[0-9]+\])*)\}}")
REFERENCE_PREFIXES = ("var", "variables", "bundle", "workspace", "resources", "artifacts")
# Fields the CLI merges from a target into the root (bundle/config/root.go).
TARGET_MERGED_FIELDS = (
    "bundle",
    "workspace",
    "artifacts",
    "resources",
    "sync",
    "permissions",
    "variables",
    "presets",
)
# Sequences the CLI merges element-wise by a key after target overrides (ElementsByKey).
KEYED_SEQUENCES: tuple[tuple[str, str, str], ...] = (
    ("jobs", "tasks", "task_key"),
    ("jobs", "job_clusters", "job_cluster_key"),
    ("jobs", "parameters", "name"),
    ("pipelines", "clusters", "label"),
    ("schemas", "grants", "principal"),
    ("volumes", "grants", "principal"),
    ("catalogs", "grants", "principal"),
    ("registered_models", "grants", "principal"),
)
SINGULAR = {
    "jobs": "job",
    "pipelines": "pipeline",
    "schemas": "schema",
    "volumes": "volume",
    "catalogs": "catalog",
    "clusters": "cluster",
    "experiments": "experiment",
    "models": "model",
    "registered_models": "registered_model",
    "model_serving_endpoints": "model_serving_endpoint",
    "quality_monitors": "quality_monitor",
    "dashboards": "dashboard",
    "apps": "app",
    "secret_scopes": "secret_scope",
    "sql_warehouses": "sql_warehouse",
    "alerts": "alert",
}
# What a serverless dbt task finds in its environment: Databricks injects the workspace host and
# a short-lived token of the run-as principal; nothing else can be set on serverless compute.
DBT_TASK_ENV = {"DBT_HOST": "example.cloud.databricks.com", "DBT_ACCESS_TOKEN": "injected-token"}
# Placeholder connection values for `dbt parse` (parse renders the profile but never connects).
DBT_PARSE_ENV = {
    "DATABRICKS_HOST": "example.cloud.databricks.com",
    "DATABRICKS_HTTP_PATH": "/sql/1.0/warehouses/0000000000000000",
    "DATABRICKS_TOKEN": "placeholder-token",
    **DBT_TASK_ENV,
}
HOST_MARKERS = (".cloud.databricks.com", ".azuredatabricks.net", ".gcp.databricks.com")
PLACEHOLDER_USER = "deployer@example.com"

PathKey = str | int
YamlPath = tuple[PathKey, ...]


# --------------------------------------------------------------------------------------------
# YAML values that remember where they were written
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """Where a value was written: a file relative to the bundle root and a 1-based line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


class Map(dict[str, Any]):
    """A YAML mapping that keeps the origin of each key, so problems can point at a line."""

    def __init__(self, origin: Origin | None = None) -> None:
        super().__init__()
        self.origin = origin
        self.key_origins: dict[str, Origin] = {}

    def put(self, key: str, value: Any, origin: Origin | None) -> None:
        self[key] = value
        if origin is not None:
            self.key_origins[key] = origin
        else:
            self.key_origins.pop(key, None)

    def origin_of(self, key: str) -> Origin | None:
        return self.key_origins.get(key, self.origin)


class Seq(list[Any]):
    """A YAML sequence that keeps the origin of each item."""

    def __init__(self, origin: Origin | None = None) -> None:
        super().__init__()
        self.origin = origin
        self.item_origins: list[Origin | None] = []

    def push(self, value: Any, origin: Origin | None) -> None:
        self.append(value)
        self.item_origins.append(origin)

    def origin_of(self, index: int) -> Origin | None:
        if 0 <= index < len(self.item_origins):
            return self.item_origins[index] or self.origin
        return self.origin


class _Constructor(yaml.SafeLoader):
    """PyYAML's safe constructor, used on composed nodes only (never reads a stream)."""

    def __init__(self) -> None:
        super().__init__("")


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def load_yaml(path: Path, root: Path) -> Any:
    """Load one YAML file into Map/Seq values carrying their file and line.

    Scalars follow the Go YAML loader of the CLI where YAML 1.1 and 1.2 differ: only
    ``true``/``false`` are booleans (``yes``/``on`` stay strings). Raises ``yaml.YAMLError``.
    """
    rel = _relative(path, root)
    node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    if node is None:
        return None
    return _convert(node, rel, _Constructor())


def _convert(node: yaml.Node, rel: str, ctor: _Constructor) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        ctor.flatten_mapping(node)
        out = Map(Origin(rel, line))
        for key_node, value_node in node.value:
            key = ctor.construct_object(key_node, deep=True)
            out.put(
                str(key),
                _convert(value_node, rel, ctor),
                Origin(rel, key_node.start_mark.line + 1),
            )
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = Seq(Origin(rel, line))
        for item in node.value:
            seq.push(_convert(item, rel, ctor), Origin(rel, item.start_mark.line + 1))
        return seq
    if node.tag == "tag:yaml.org,2002:bool" and str(node.value).lower() not in ("true", "false"):
        return str(node.value)
    return ctor.construct_object(node, deep=True)


def _copy(value: Any) -> Any:
    """Deep copy that keeps origins (merges must never alias a value into two targets)."""
    if isinstance(value, Map):
        out = Map(value.origin)
        for key, item in value.items():
            out.put(key, _copy(item), value.key_origins.get(key))
        return out
    if isinstance(value, Seq):
        seq = Seq(value.origin)
        for index, item in enumerate(value):
            seq.push(_copy(item), value.origin_of(index))
        return seq
    return value


def yaml_path(path: Iterable[PathKey]) -> str:
    """``resources.jobs.x.tasks[0].dbt_task``: the notation the CLI uses in its messages."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<root>"


def _has_child(value: Any, part: PathKey) -> bool:
    if isinstance(part, str):
        return isinstance(value, dict) and part in value
    return isinstance(value, list) and 0 <= part < len(value)


def _as_map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def origin_at(root: Any, path: Sequence[PathKey]) -> Origin | None:
    """The origin of the deepest existing value along ``path``."""
    current = root
    found: Origin | None = getattr(root, "origin", None)
    for part in path:
        if not _has_child(current, part):
            break
        if isinstance(current, Map | Seq):
            found = current.origin_of(part) or found  # type: ignore[arg-type]
        current = current[part]
    return found


def _get(root: Any, *path: PathKey) -> Any:
    current = root
    for part in path:
        if isinstance(current, dict) and isinstance(part, str):
            current = current.get(part)
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
        else:
            return None
    return current


# --------------------------------------------------------------------------------------------
# Problems and options
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One finding: where it is, what is wrong (with the offending value) and how to fix it."""

    file: str
    line: int
    path: str
    message: str
    targets: tuple[str, ...] = ()

    def format(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        scope = f"  [target {', '.join(self.targets)}]" if self.targets else ""
        return f"{where}  {self.path}{scope}\n    {self.message}"


class _Sink:
    """Collects problems for one target, locating them from the config they refer to."""

    def __init__(self, target: str | None) -> None:
        self.target = target
        self.items: list[Problem] = []

    def add(self, origin: Origin | None, path: str, message: str) -> None:
        targets = (self.target,) if self.target else ()
        file, line = (origin.file, origin.line) if origin else (ROOT_FILE, 0)
        self.items.append(Problem(file, line, path, message, targets))

    def at(self, root: Any, path: Sequence[PathKey], message: str) -> None:
        self.add(origin_at(root, path), yaml_path(path), message)


@dataclass(frozen=True)
class CheckOptions:
    """What to check. Defaults check every target of the bundle in the repository."""

    root: Path = REPO_ROOT
    schema_path: Path | None = None
    targets: tuple[str, ...] = ()
    skip_dbt: bool = False
    dbt_all_targets: bool = False
    skip_wheel: bool = False
    wheel: Path | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    current_user: str = PLACEHOLDER_USER


@dataclass
class CheckReport:
    """The outcome: problems (deduplicated across targets) and what was checked."""

    problems: list[Problem]
    targets: list[str]
    checked: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def format(self) -> str:
        lines = [p.format() for p in self.problems]
        scope = ", ".join(self.targets) or "none"
        if self.problems:
            lines.append(f"bundle check: {len(self.problems)} problem(s) (targets: {scope})")
        else:
            lines.append(f"bundle check: ok (targets: {scope})")
        lines.extend(f"  checked: {item}" for item in self.checked)
        return "\n".join(lines)


def _dedupe(problems: Iterable[Problem]) -> list[Problem]:
    """One entry per (file, line, message); the targets it applies to are merged.

    The first path wins: the whole-file schema pass runs first and names a target override
    by its written path (``targets.sit...``), which is where the fix goes.
    """
    paths: dict[tuple[str, int, str], str] = {}
    targets: dict[tuple[str, int, str], list[str]] = {}
    for problem in problems:
        key = (problem.file, problem.line, problem.message)
        paths.setdefault(key, problem.path)
        found = targets.setdefault(key, [])
        found.extend(t for t in problem.targets if t not in found)
    return sorted(
        (Problem(f, ln, paths[(f, ln, m)], m, tuple(t)) for (f, ln, m), t in targets.items()),
        key=lambda p: (p.file, p.line, p.path, p.message),
    )


def _some(items: Sequence[str], limit: int = 20) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")


def _close(word: str, choices: Iterable[str]) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


# --------------------------------------------------------------------------------------------
# Loading: databricks.yml + includes
# --------------------------------------------------------------------------------------------


def go_glob(root: Path, pattern: str) -> list[Path]:
    """``filepath.Glob`` as the CLI uses it: ``*``, ``?`` and ``[...]`` within one path segment.

    ``**`` is not recursive in Go: it matches one segment like ``*``, so ``resources/**/*.yml``
    finds ``resources/a/b.yml`` but neither ``resources/b.yml`` nor ``resources/a/c/b.yml``.
    """
    current = [root]
    for part in pattern.split("/"):
        if part in ("", "."):
            continue
        following: list[Path] = []
        for base in current:
            if not any(ch in part for ch in "*?["):
                if (base / part).exists():
                    following.append(base / part)
                continue
            if base.is_dir():
                translated = part.replace("[^", "[!")
                following.extend(
                    child
                    for child in sorted(base.iterdir())
                    if fnmatch.fnmatchcase(child.name, translated)
                )
        current = following
    return sorted(current)


def merge(a: Any, b: Any, path: YamlPath = ()) -> Any:
    """The CLI's merge (libs/dyn/merge): maps deep, sequences appended, scalars replaced."""
    if a is None:
        return _copy(b)
    if b is None:
        return _copy(a)
    if isinstance(a, dict) and isinstance(b, dict):
        out = _copy(a) if isinstance(a, Map) else Map()
        if not isinstance(a, Map):
            for key, value in a.items():
                out.put(key, _copy(value), None)
        b_origins = b.key_origins if isinstance(b, Map) else {}
        for key, value in b.items():
            if key in out:
                merged = merge(out[key], value, (*path, key))
                keep = out.key_origins.get(key)
                scalar = not isinstance(merged, dict | list)
                out.put(key, merged, b_origins.get(key) if scalar or keep is None else keep)
            else:
                out.put(key, _copy(value), b_origins.get(key))
        return out
    if isinstance(a, list) and isinstance(b, list):
        seq = Seq(a.origin if isinstance(a, Seq) else None)
        for source in (a, b):
            for index, item in enumerate(source):
                seq.push(_copy(item), source.origin_of(index) if isinstance(source, Seq) else None)
        return seq
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        kinds = (type(a).__name__, type(b).__name__)
        raise _MergeError(path, f"cannot merge a {kinds[0]} with a {kinds[1]}")
    return _copy(b)


class _MergeError(Exception):
    def __init__(self, path: YamlPath, message: str) -> None:
        super().__init__(message)
        self.path = path


def merge_by_key(items: Seq, key: str) -> Seq:
    """Elements with the same ``key`` merged into the first one (the CLI's ElementsByKey)."""
    out = Seq(items.origin)
    index: dict[str, int] = {}
    for position, item in enumerate(items):
        name = item.get(key) if isinstance(item, dict) else None
        if isinstance(name, str) and name in index:
            slot = index[name]
            out[slot] = merge(out[slot], item)
            continue
        if isinstance(name, str):
            index[name] = len(out)
        out.push(_copy(item), items.origin_of(position))
    return out


@dataclass
class _Bundle:
    root: Path
    config: Map
    files: list[str]


def _resource_entries(doc: Any) -> Iterator[tuple[YamlPath, str, str]]:
    """(path, type, key) of every resource defined at the top level or inside a target."""
    if not isinstance(doc, dict):
        return
    blocks: list[tuple[YamlPath, Any]] = [(("resources",), doc.get("resources"))]
    targets = doc.get("targets")
    if isinstance(targets, dict):
        for name, target in targets.items():
            if isinstance(target, dict):
                blocks.append((("targets", name, "resources"), target.get("resources")))
    for prefix, block in blocks:
        if not isinstance(block, dict):
            continue
        for kind, entries in block.items():
            if isinstance(entries, dict):
                for key in entries:
                    yield (*prefix, kind, key), kind, key


def _check_resource_file(doc: Any, rel: str, text: str, sink: _Sink) -> None:
    """One resource per file named ``<key>.<type>.yml`` with a one-line header comment."""
    name = rel.rsplit("/", 1)[-1]
    stem = re.sub(r"\.ya?ml$", "", name)
    entries = list(_resource_entries(doc))
    if not text.lstrip("\ufeff").startswith("#"):
        sink.add(
            Origin(rel, 1),
            "<file>",
            "resource file has no header comment; fix: start it with one line "
            f"'# {stem.split('.')[0]}: <what it is and why it exists>'",
        )
    if "." not in stem:
        sink.add(
            Origin(rel, 1),
            "<file>",
            f"resource file name {name!r} is not <name>.<type>.yml; fix: rename it, e.g. "
            f"'{stem}.job.yml', and keep one resource per file",
        )
        return
    base, kind = stem.rsplit(".", 1)
    kinds = {SINGULAR.get(k, k.rstrip("s")) for _, k, _ in entries}
    keys = {key for _, _, key in entries}
    if kinds != {kind} or len(keys) != 1:
        found = ", ".join(sorted(f"{k} ({t})" for _, t, k in entries)) or "nothing"
        sink.add(
            Origin(rel, 1),
            "resources",
            f"{name} must define exactly one {kind}; it defines {found}. Fix: move each "
            "resource to its own <name>.<type>.yml file",
        )
    elif keys != {base}:
        (key,) = keys
        sink.add(
            Origin(rel, 1),
            "resources",
            f"file {name!r} defines resource key {key!r}; fix: name the file "
            f"'{key}.{kind}.yml' (one resource per file, named after its key)",
        )


def _load_bundle(root: Path, sink: _Sink) -> _Bundle:
    path = root / ROOT_FILE
    if not path.is_file():
        raise ConfigError(f"no {ROOT_FILE} in {root}; run from the bundle root or pass --root")
    try:
        config = load_yaml(path, root)
    except yaml.YAMLError as err:
        raise ConfigError(f"{ROOT_FILE} is not valid YAML: {err}") from err
    if not isinstance(config, Map):
        raise ConfigError(f"{ROOT_FILE} must be a mapping, found {type(config).__name__}")
    if isinstance(config.get("resources"), dict) and config["resources"]:
        sink.at(
            config,
            ("resources",),
            f"{ROOT_FILE} defines resources; fix: move each one to "
            "resources/<name>.<type>.yml (databricks.yml holds bundle, include, artifacts, "
            "variables and targets only)",
        )
    patterns = config.get("include") or []
    files: list[str] = []
    if not isinstance(patterns, list):
        sink.at(config, ("include",), f"include must be a list of globs, found {patterns!r}")
        patterns = []
    for index, pattern in enumerate(patterns):
        if not isinstance(pattern, str) or Path(pattern).is_absolute():
            sink.at(
                config,
                ("include", index),
                f"include entry {pattern!r} must be a relative glob such as 'resources/*.yml'",
            )
            continue
        matches = go_glob(root, pattern)
        if not matches and not any(ch in pattern for ch in "*?["):
            sink.at(
                config,
                ("include", index),
                f"include entry {pattern!r} matches no file; fix the path or remove it",
            )
        for match in matches:
            rel = _relative(match, root)
            if rel in files or rel == ROOT_FILE or not match.is_file():
                continue
            if match.suffix not in (".yml", ".yaml", ".json"):
                sink.at(
                    config,
                    ("include", index),
                    f"include entry {pattern!r} matches {rel!r}, which is not YAML or JSON; "
                    "fix: narrow the glob to *.yml",
                )
                continue
            files.append(rel)
    seen: dict[tuple[str, str], str] = {}
    for rel in files:
        file_path = root / rel
        try:
            doc = load_yaml(file_path, root)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            sink.add(Origin(rel, mark.line + 1 if mark else 0), "<file>", f"invalid YAML: {err}")
            continue
        if doc is None:
            continue
        if not isinstance(doc, Map):
            sink.add(Origin(rel, 1), "<root>", "an included file must be a YAML mapping")
            continue
        if "include" in doc:
            sink.at(
                doc,
                ("include",),
                "include is only read from databricks.yml; fix: move the pattern there",
            )
        if rel.startswith("resources/"):
            _check_resource_file(doc, rel, file_path.read_text(encoding="utf-8"), sink)
        for entry_path, kind, key in _resource_entries(doc):
            if entry_path[0] != "resources":
                continue
            previous = seen.setdefault((kind, key), rel)
            if previous != rel:
                sink.at(
                    doc,
                    entry_path,
                    f"resource key {key!r} of type {kind} is also defined in {previous}; "
                    "fix: give each resource a unique key",
                )
        try:
            config = merge(config, doc)
        except _MergeError as err:
            sink.at(doc, err.path, f"{err}; fix: use the same shape as the other definition")
    resources_dir = root / "resources"
    if resources_dir.is_dir():
        for candidate in sorted(resources_dir.rglob("*.y*ml")):
            rel = _relative(candidate, root)
            if rel not in files:
                sink.add(
                    Origin(rel, 1),
                    "<file>",
                    f"{rel} is not matched by any include pattern of {ROOT_FILE}, so the CLI "
                    "ignores it (Go globs: `*` and `**` match one folder level); fix: add "
                    f"'{rel.rsplit('/', 1)[0]}/*.yml' to include",
                )
    return _Bundle(root, config, files)


# --------------------------------------------------------------------------------------------
# Targets: the CLI's MergeTargetOverrides
# --------------------------------------------------------------------------------------------


@dataclass
class _Target:
    name: str
    mode: str | None
    config: Map


def _materialize(bundle: _Bundle, name: str, sink: _Sink) -> _Target:
    root = _copy(bundle.config)
    targets = root.get("targets") if isinstance(root.get("targets"), dict) else Map()
    root.pop("targets", None)
    target = targets.get(name) if isinstance(targets, dict) else None
    if not isinstance(target, Map):
        target = Map()
    variables = target.get("variables")
    declared = _as_map(root.get("variables"))
    if isinstance(variables, Map):
        rewritten = Map(variables.origin)
        for var_name, value in variables.items():
            origin = variables.key_origins.get(var_name)
            if var_name not in declared:
                sink.add(
                    origin,
                    f"targets.{name}.variables.{var_name}",
                    f"variable {var_name!r} is assigned a value in target {name!r} but is not "
                    f"declared{_close(var_name, declared)}; fix: declare it under variables: in "
                    f"{ROOT_FILE} (with a description) or remove the assignment",
                )
                continue
            complex_var = _get(declared, var_name, "type") == "complex"
            variable_keys = {"default", "description", "lookup", "type"}
            wrap = not isinstance(value, dict) or (complex_var and not set(value) <= variable_keys)
            if wrap:
                entry = Map(origin)
                entry.put("default", value, origin)
                rewritten.put(var_name, entry, origin)
            else:
                rewritten.put(var_name, value, origin)
        target.put("variables", rewritten, target.key_origins.get("variables"))
    for key in TARGET_MERGED_FIELDS:
        if key in target:
            try:
                root.put(key, merge(root.get(key), target[key], (key,)), root.key_origins.get(key))
            except _MergeError as err:
                sink.at(target, err.path, f"{err}; fix: use the same shape as the root value")
    if "run_as" in target:
        root.put("run_as", _copy(target["run_as"]), target.key_origins.get("run_as"))
    mode = target.get("mode")
    git = target.get("git")
    if isinstance(git, dict):
        bundle_map = root.get("bundle") if isinstance(root.get("bundle"), Map) else Map()
        bundle_map.put("git", merge(bundle_map.get("git"), git), target.key_origins.get("git"))
        root.put("bundle", bundle_map, root.key_origins.get("bundle"))
    resources = root.get("resources")
    if isinstance(resources, Map):
        for kind, field_name, key in KEYED_SEQUENCES:
            entries = resources.get(kind)
            if not isinstance(entries, Map):
                continue
            for resource in entries.values():
                if isinstance(resource, Map) and isinstance(resource.get(field_name), Seq):
                    resource.put(
                        field_name,
                        merge_by_key(resource[field_name], key),
                        resource.key_origins.get(field_name),
                    )
    return _Target(name, mode if isinstance(mode, str) else None, root)


# --------------------------------------------------------------------------------------------
# References: ${var.*}, ${bundle.*}, ${workspace.*}, ${resources.*}, ${artifacts.*}
# --------------------------------------------------------------------------------------------


class _Missing:
    """Marks a reference that could not be resolved (already reported)."""


MISSING = _Missing()


def _parse_reference(text: str) -> list[PathKey]:
    parts: list[PathKey] = []
    for segment in text.split("."):
        name, *indexes = segment.split("[")
        parts.append(name)
        parts.extend(int(i.rstrip("]")) for i in indexes)
    return parts


def _git(root: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    out = proc.stdout.strip()
    return out if proc.returncode == 0 and out else None


class _Resolver:
    """Resolves references in one target's config the way the CLI does at deploy time.

    Values only known in the workspace (the current user, lookups, resource IDs) become
    recognisable placeholders. Dangling references and variables without a value are reported.
    """

    def __init__(self, target: _Target, options: CheckOptions, sink: _Sink) -> None:
        self.target = target
        self.config = target.config
        self.options = options
        self.sink = sink
        declared = self.config.get("variables")
        self.declared: Map = declared if isinstance(declared, Map) else Map()
        self.values: dict[str, Any] = {}
        self.active: list[str] = []
        self.reported: set[str] = set()
        self.bundle_ctx = self._bundle_context()
        self.workspace_ctx: dict[str, Any] = {}
        self._build_workspace()

    def _bundle_context(self) -> dict[str, Any]:
        bundle = _as_map(self.config.get("bundle"))
        git = _as_map(bundle.get("git"))
        root = self.options.root
        return {
            "name": bundle.get("name", ""),
            "target": self.target.name,
            "environment": self.target.name,
            "mode": self.target.mode or "",
            "uuid": bundle.get("uuid", ""),
            "git": {
                "commit": _git(root, "rev-parse", "HEAD") or "0" * 40,
                "branch": git.get("branch") or _git(root, "rev-parse", "--abbrev-ref", "HEAD"),
                "origin_url": git.get("origin_url")
                or _git(root, "config", "--get", "remote.origin.url")
                or "",
                "bundle_root_path": ".",
            },
        }

    def _build_workspace(self) -> None:
        user = self.options.current_user
        workspace = self.config.get("workspace")
        raw: Map = workspace if isinstance(workspace, Map) else Map()
        short = re.sub(r"[^a-z0-9_]", "_", user.split("@")[0].lower())
        self.workspace_ctx = {
            "host": raw.get("host") or "https://example.cloud.databricks.com",
            "profile": raw.get("profile", ""),
            "current_user": {
                "userName": user,
                "short_name": short,
                "displayName": user,
                "id": "0",
                "active": True,
            },
        }
        root_raw = raw.get("root_path", "~/.bundle/${bundle.name}/${bundle.target}")
        root_path = self._resolve_str(str(root_raw), ("workspace", "root_path"), raw)
        if isinstance(root_path, str):
            if root_path.startswith("~/"):
                root_path = f"/Workspace/Users/{user}/{root_path[2:]}"
            if root_path.startswith(("/Users/", "/Shared/")):
                root_path = "/Workspace" + root_path
        self.workspace_ctx["root_path"] = root_path
        for key, suffix in (
            ("file_path", "files"),
            ("artifact_path", "artifacts"),
            ("state_path", "state"),
            ("resource_path", "resources"),
        ):
            value = raw.get(key)
            self.workspace_ctx[key] = (
                self._resolve_str(str(value), ("workspace", key), raw)
                if value is not None
                else f"{root_path}/{suffix}"
            )

    # -- variables --------------------------------------------------------------------------

    def variable(self, name: str, origin: Origin | None, where: str) -> Any:
        if name in self.values:
            return self.values[name]
        decl = self.declared.get(name)
        if not isinstance(decl, Map):
            self.sink.add(
                origin,
                where,
                f"reference to undefined variable {name!r}{_close(name, self.declared)}; "
                f"defined: {', '.join(sorted(self.declared)) or 'none'}. Fix: declare it under "
                f"variables: in {ROOT_FILE} (with a description) or correct the reference",
            )
            return MISSING
        if name in self.active:
            chain = " -> ".join([*self.active, name])
            self.sink.add(origin, where, f"variables reference each other in a cycle: {chain}")
            return MISSING
        self.active.append(name)
        try:
            value = self._variable_value(name, decl)
        finally:
            self.active.pop()
        self.values[name] = value
        return value

    def _variable_value(self, name: str, decl: Map) -> Any:
        decl_path = ("variables", name)
        env_name = f"BUNDLE_VAR_{name}"
        if name in self.options.variables:
            raw: Any = self.options.variables[name]
        elif env_name in self.options.environ:
            raw = self.options.environ[env_name]
        elif "default" in decl:
            raw = decl["default"]
        elif isinstance(decl.get("lookup"), dict) and decl["lookup"]:
            kind, lookup_name = next(iter(decl["lookup"].items()))
            resolved = self.resolve(lookup_name, (*decl_path, "lookup", kind), decl["lookup"])
            token = re.sub(r"[^A-Za-z0-9_-]", "_", str(resolved))
            return f"LOOKUP_{kind}_{token}"
        else:
            if name not in self.reported:
                self.reported.add(name)
                self.sink.add(
                    self.config["variables"].origin_of(name),
                    f"variables.{name}",
                    f"variable {name!r} has no value for target {self.target.name!r}: no "
                    f"default, no lookup, no --var and no {env_name}. Fix: add a default, set "
                    f"targets.{self.target.name}.variables.{name}, or pass --var {name}=<value>",
                )
            return MISSING
        value = self.resolve(raw, (*decl_path, "default"), decl)
        is_complex = decl.get("type") == "complex"
        if isinstance(value, dict | list) and not is_complex:
            self.sink.add(
                decl.origin,
                f"variables.{name}",
                f"variable {name!r} holds a {type(value).__name__} but is not declared "
                "'type: complex'; fix: add type: complex",
            )
        return value

    # -- generic resolution -----------------------------------------------------------------

    def resolve(self, value: Any, path: YamlPath, parent: Any) -> Any:
        """Deep-resolve ``value``; ``path``/``parent`` locate it for problem reports."""
        if isinstance(value, Map):
            out = Map(value.origin)
            for key, item in value.items():
                out.put(key, self.resolve(item, (*path, key), value), value.key_origins.get(key))
            return out
        if isinstance(value, Seq):
            seq = Seq(value.origin)
            for index, item in enumerate(value):
                seq.push(self.resolve(item, (*path, index), value), value.origin_of(index))
            return seq
        if isinstance(value, str) and "${" in value:
            return self._resolve_str(value, path, parent)
        return value

    def _origin(self, path: YamlPath, parent: Any) -> Origin | None:
        if isinstance(parent, Map) and path and isinstance(path[-1], str):
            return parent.origin_of(path[-1])
        if isinstance(parent, Seq) and path and isinstance(path[-1], int):
            return parent.origin_of(path[-1])
        return origin_at(self.config, path)

    def _resolve_str(self, text: str, path: YamlPath, parent: Any) -> Any:
        origin = self._origin(path, parent)
        where = yaml_path(path)
        whole = REFERENCE.fullmatch(text)
        if whole:
            value = self.lookup(whole.group(1), origin, where)
            return text if value is MISSING else value

        def substitute(match: re.Match[str]) -> str:
            value = self.lookup(match.group(1), origin, where)
            if value is MISSING:
                return match.group(0)
            if isinstance(value, dict | list):
                self.sink.add(
                    origin,
                    where,
                    f"${{{match.group(1)}}} is a {type(value).__name__} and cannot be part of "
                    f"the string {text!r}; fix: use it as the whole value",
                )
                return match.group(0)
            if isinstance(value, bool):
                return "true" if value else "false"
            return str(value)

        return REFERENCE.sub(substitute, text)

    def lookup(self, reference: str, origin: Origin | None, where: str) -> Any:
        parts = _parse_reference(reference)
        head = parts[0]
        if head == "var" and len(parts) >= 2:
            value = self.variable(str(parts[1]), origin, where)
            return self._index(value, parts[2:], reference, origin, where)
        if head == "variables" and len(parts) >= 3:
            name = str(parts[1])
            if parts[2] == "value":
                value = self.variable(name, origin, where)
                return self._index(value, parts[3:], reference, origin, where)
            decl = self.declared.get(name)
            return self._index(decl, parts[2:], reference, origin, where)
        if head == "bundle":
            return self._index(self.bundle_ctx, parts[1:], reference, origin, where)
        if head == "workspace":
            return self._index(self.workspace_ctx, parts[1:], reference, origin, where)
        if head == "resources":
            return self._resource(parts, reference, origin, where)
        if head == "artifacts":
            return self._artifact(parts, reference, origin, where)
        self.sink.add(
            origin,
            where,
            f"unknown reference ${{{reference}}}; references start with "
            f"{', '.join(REFERENCE_PREFIXES)}. Fix: correct the prefix",
        )
        return MISSING

    def _index(
        self, value: Any, rest: Sequence[PathKey], ref: str, origin: Origin | None, where: str
    ) -> Any:
        current = value
        for part in rest:
            if current is MISSING:
                return MISSING
            if _has_child(current, part):
                current = current[part]
            else:
                known = sorted(current) if isinstance(current, dict) else []
                hint = f"; known keys: {', '.join(map(str, known))}" if known else ""
                self.sink.add(
                    origin,
                    where,
                    f"reference ${{{ref}}} does not resolve: no {part!r}{hint}. Fix: correct "
                    "the reference",
                )
                return MISSING
        return current

    def _resource(self, parts: list[PathKey], ref: str, origin: Origin | None, where: str) -> Any:
        resources = self.config.get("resources")
        if len(parts) < 3:
            self.sink.add(origin, where, f"${{{ref}}} must name resources.<type>.<key>.<field>")
            return MISSING
        kind, key = str(parts[1]), str(parts[2])
        entries = resources.get(kind) if isinstance(resources, dict) else None
        if not isinstance(entries, dict) or key not in entries:
            known = sorted(entries) if isinstance(entries, dict) else []
            self.sink.add(
                origin,
                where,
                f"reference ${{{ref}}} points to resource {kind}.{key}, which target "
                f"{self.target.name!r} does not define{_close(key, known)}; defined {kind}: "
                f"{', '.join(known) or 'none'}. Fix: define it for this target or correct the key",
            )
            return MISSING
        rest = parts[3:]
        value: Any = entries[key]
        for part in rest:
            if _has_child(value, part):
                value = value[part]
            elif rest[:1] in (["id"], ["url"]) or rest == []:
                return f"<{ref}>"
            else:
                self.sink.add(
                    origin,
                    where,
                    f"reference ${{{ref}}}: resource {kind}.{key} has no field {part!r}; fix: "
                    "use a configured field or id",
                )
                return MISSING
        return self.resolve(value, ("resources", kind, key, *rest), entries[key])

    def _artifact(self, parts: list[PathKey], ref: str, origin: Origin | None, where: str) -> Any:
        artifacts = self.config.get("artifacts")
        name = str(parts[1]) if len(parts) > 1 else ""
        if not isinstance(artifacts, dict) or name not in artifacts:
            known = sorted(artifacts) if isinstance(artifacts, dict) else []
            self.sink.add(
                origin,
                where,
                f"reference ${{{ref}}} points to undefined artifact {name!r}"
                f"{_close(name, known)}; fix: define it under artifacts: or correct the name",
            )
            return MISSING
        return f"<{ref}>"

    def resolved_config(self) -> Map:
        out = Map(self.config.origin)
        for key, value in self.config.items():
            if key == "variables":
                out.put(key, value, self.config.key_origins.get(key))
                continue
            out.put(key, self.resolve(value, (key,), self.config), self.config.key_origins.get(key))
        for name in self.declared:
            self.variable(name, self.declared.origin_of(name), f"variables.{name}")
        return out


# --------------------------------------------------------------------------------------------
# JSON schema
# --------------------------------------------------------------------------------------------


def _regex_pattern(
    validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """``pattern`` with the ``regex`` package: the schema uses ``\\p{L}``, which ``re`` rejects."""
    if validator.is_type(instance, "string") and regex.search(pattern, instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _regex_format(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    try:
        regex.compile(instance)
    except regex.error:
        return False
    return True


@functools.lru_cache(maxsize=4)
def load_schema_validator(path: Path) -> Any:
    """A Draft 2020-12 validator (the schema has ``$defs`` and no ``$schema``) using ``regex``.

    Cached: the schema is ~1 MB of JSON and a validator is stateless between documents.
    """
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ConfigError(
            f"bundle JSON schema not found at {path}; pass --schema or set {SCHEMA_ENV} to the "
            "Databricks CLI's bundle/schema/jsonschema.json"
        ) from err
    base = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    checker = jsonschema.FormatChecker()
    checker.checks("regex")(_regex_format)
    validator_class = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        base, {"pattern": _regex_pattern}
    )
    return validator_class(schema, format_checker=checker)


def _is_reference_alternative(error: ValidationError) -> bool:
    return (
        error.validator == "pattern"
        and not error.relative_path
        and str(error.validator_value).startswith("\\$\\{")
    )


def _leaves(error: ValidationError) -> list[ValidationError]:
    """The errors of the alternative the value was meant to match, not of every oneOf branch."""
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return [error]
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    candidates = [
        errs
        for errs in branches.values()
        if not any(e.validator == "type" and not e.relative_path for e in errs)
    ]
    substantive = [
        errs for errs in candidates if not all(_is_reference_alternative(e) for e in errs)
    ]
    chosen = substantive or candidates
    if not chosen or not substantive:
        return [error]
    best = min(chosen, key=lambda errs: (-max(len(e.absolute_path) for e in errs), len(errs)))
    return [leaf for sub in best for leaf in _leaves(sub)]


def _type_names(error: ValidationError) -> list[str]:
    names: list[str] = []
    for sub in error.context or []:
        if sub.validator == "type" and not sub.relative_path:
            expected = sub.validator_value
            names.extend(expected if isinstance(expected, list) else [str(expected)])
    return sorted(set(names)) or ["a different value"]


def _schema_message(error: ValidationError, path: YamlPath) -> tuple[YamlPath, str]:
    value = error.instance
    if error.validator == "additionalProperties":
        allowed = sorted(_as_map(_as_map(error.schema).get("properties")))
        extras = sorted(k for k in value if k not in allowed) if isinstance(value, dict) else []
        key = extras[0] if extras else "?"
        return (
            (*path, key),
            f"unknown field {key!r}{_close(key, allowed)}; fix: remove it or use one of: "
            f"{_some(allowed)}",
        )
    if error.validator == "required":
        return path, f"missing required field: {error.message}; fix: add it"
    if error.validator == "enum":
        allowed = [str(v) for v in _as_list(error.validator_value)]
        return (
            path,
            f"value {value!r} is not allowed{_close(str(value), allowed)}; expected one of: "
            f"{_some(allowed)}",
        )
    if error.validator in ("oneOf", "anyOf"):
        return (
            path,
            f"value {value!r} has the wrong type; expected {' or '.join(_type_names(error))} "
            "(or a ${var.*} reference)",
        )
    if error.validator == "type":
        return path, f"value {value!r} has the wrong type; expected {error.validator_value}"
    return path, f"{error.message}"


def schema_problems(validator: Any, document: Map, sink: _Sink) -> None:
    """Validate ``document`` and report each failure at its YAML line, in plain words."""
    for error in validator.iter_errors(document):
        for leaf in _leaves(error):
            path, message = _schema_message(leaf, tuple(leaf.absolute_path))
            sink.at(document, path, f"schema: {message}")


# --------------------------------------------------------------------------------------------
# Project rules on the resolved config
# --------------------------------------------------------------------------------------------


def _jobs(config: Map) -> Map:
    jobs = _get(config, "resources", "jobs")
    return jobs if isinstance(jobs, Map) else Map()


def _policy_checks(target: _Target, raw: Map, resolved: Map, bundle: _Bundle, sink: _Sink) -> None:
    name = target.name
    mode = target.mode
    if mode not in (None, "development", "production"):
        sink.at(bundle.config, ("targets", name, "mode"), f"mode {mode!r} is not a CLI mode")
    resources = _as_map(resolved.get("resources"))
    if mode == "production":
        if not _get(raw, "workspace", "root_path"):
            sink.at(
                bundle.config,
                ("targets", name),
                f"production target {name!r} has no explicit workspace.root_path, so every "
                "deployer gets their own copy; fix: set root_path under the target",
            )
        jobs = _jobs(resolved)
        if not resolved.get("run_as") and not all(
            isinstance(j, dict) and j.get("run_as") for j in jobs.values()
        ):
            sink.at(
                bundle.config,
                ("targets", name),
                f"production target {name!r} sets no run_as; fix: run_as: "
                "{service_principal_name: ${var.service_principal}}",
            )
        if not resolved.get("permissions"):
            sink.at(
                bundle.config,
                ("targets", name),
                f"production target {name!r} sets no permissions; fix: grant groups "
                "CAN_MANAGE / CAN_RUN / CAN_VIEW under the target's permissions",
            )
    if mode == "development":
        for kind in ("schemas", "volumes"):
            for key in resources.get(kind) or {}:
                sink.at(
                    resolved,
                    ("resources", kind, key),
                    f"{kind[:-1]} {key!r} is deployed by development target {name!r}, where the "
                    f"CLI prefixes UC names with dev_<user>_, so it would not be the "
                    f"<catalog>.{key} the code reads; fix: define it under targets.<sit|prod> only",
                )
    host = _get(raw, "workspace", "host")
    if isinstance(host, str) and "${" not in host:
        sink.at(
            raw,
            ("workspace", "host"),
            f"literal workspace host {host!r}; fix: remove it and authenticate with "
            "DATABRICKS_HOST or a Databricks CLI profile (no hosts in the bundle)",
        )
    _literal_checks(raw, ("resources",), raw.get("resources"), sink)
    for job_key, job in _jobs(raw).items():
        status = _get(job, "schedule", "pause_status")
        if status == "UNPAUSED":
            sink.at(
                raw,
                ("resources", "jobs", job_key, "schedule", "pause_status"),
                "pause_status UNPAUSED keeps the schedule running in development mode too; fix: "
                "leave pause_status unset (dev pauses, sit/prod run)",
            )


def _literal_checks(root: Map, path: YamlPath, value: Any, sink: _Sink) -> None:
    """No literal catalogs or hosts in resources: they come from ${var.*} / ${bundle.target}."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("catalog_name", "catalog") and isinstance(item, str) and "${" not in item:
                sink.at(
                    root,
                    (*path, key),
                    f"literal catalog {item!r}; fix: {key}: ${{var.catalog}}",
                )
            _literal_checks(root, (*path, key), item, sink)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if (
                index > 0
                and value[index - 1] == "--catalog"
                and isinstance(item, str)
                and "${" not in item
            ):
                sink.at(root, (*path, index), f"literal catalog {item!r}; fix: ${{var.catalog}}")
            _literal_checks(root, (*path, index), item, sink)
    elif isinstance(value, str) and any(marker in value for marker in HOST_MARKERS):
        sink.at(root, path, f"literal workspace host in {value!r}; fix: no hosts in the bundle")


def _job_structure(resolved: Map, sink: _Sink) -> None:
    for job_key, job in _jobs(resolved).items():
        if not isinstance(job, Map):
            continue
        base: YamlPath = ("resources", "jobs", job_key)
        tasks = _as_list(job.get("tasks"))
        env_keys = [
            e.get("environment_key") for e in (job.get("environments") or []) if isinstance(e, dict)
        ]
        cluster_keys = [
            c.get("job_cluster_key") for c in (job.get("job_clusters") or []) if isinstance(c, dict)
        ]
        task_keys = [t.get("task_key") for t in tasks if isinstance(t, dict)]
        for index, task in enumerate(tasks):
            if not isinstance(task, Map):
                continue
            at: YamlPath = (*base, "tasks", index)
            for dep_index, dep in enumerate(task.get("depends_on") or []):
                dep_key = dep.get("task_key") if isinstance(dep, dict) else None
                if dep_key not in task_keys:
                    sink.at(
                        resolved,
                        (*at, "depends_on", dep_index, "task_key"),
                        f"task {task.get('task_key')!r} depends on {dep_key!r}, which is not a "
                        f"task of job {job_key!r}{_close(str(dep_key), map(str, task_keys))}",
                    )
            needs_compute = any(k in task for k in ("python_wheel_task", "dbt_task"))
            env_key = task.get("environment_key")
            has_compute = any(
                k in task for k in ("job_cluster_key", "existing_cluster_id", "new_cluster")
            )
            if env_key is not None and env_key not in env_keys:
                sink.at(
                    resolved,
                    (*at, "environment_key"),
                    f"environment_key {env_key!r} is not defined in job {job_key!r}'s "
                    f"environments ({', '.join(map(str, env_keys)) or 'none'}); fix: add it",
                )
            if task.get("job_cluster_key") and task["job_cluster_key"] not in cluster_keys:
                sink.at(
                    resolved,
                    (*at, "job_cluster_key"),
                    f"job_cluster_key {task['job_cluster_key']!r} is not in job_clusters",
                )
            if needs_compute and env_key is None and not has_compute:
                sink.at(
                    resolved,
                    at,
                    f"task {task.get('task_key')!r} has no compute; fix: environment_key: "
                    "<key of a serverless environment> (or a job cluster)",
                )
            dbt = task.get("dbt_task")
            if isinstance(dbt, Map):
                _dbt_task_shape(resolved, (*at, "dbt_task"), dbt, sink)
            if "python_wheel_task" in task and env_key in env_keys:
                env = next(
                    e
                    for e in _as_list(job.get("environments"))
                    if isinstance(e, dict) and e.get("environment_key") == env_key
                )
                deps = [str(d) for d in _as_list(_get(env, "spec", "dependencies"))]
                if not any(d.startswith(".") and d.endswith(".whl") for d in deps):
                    sink.at(
                        resolved,
                        (*at, "environment_key"),
                        f"wheel task {task.get('task_key')!r} runs in environment {env_key!r}, "
                        "which does not install the bundle's wheel; fix: add the artifact's "
                        "wheel (e.g. ../../dist/*.whl, relative to the YAML file) to its "
                        "dependencies",
                    )


def _dbt_task_shape(resolved: Map, at: YamlPath, dbt: Map, sink: _Sink) -> None:
    if dbt.get("warehouse_id") and dbt.get("profiles_directory"):
        sink.at(
            resolved,
            (*at, "warehouse_id"),
            "dbt_task sets both warehouse_id and profiles_directory; the Jobs API allows "
            "profiles_directory only without warehouse_id (with it, Databricks generates its own "
            "profile and `--target` no longer names a profiles.yml output). Fix: drop warehouse_id"
            " and let profiles.yml pick the warehouse",
        )
    for key in ("catalog", "schema"):
        if dbt.get(key) and not dbt.get("warehouse_id"):
            sink.at(
                resolved,
                (*at, key),
                f"dbt_task.{key} only applies with warehouse_id (Databricks' generated profile); "
                "with profiles_directory the profile sets it. Fix: remove it",
            )
    commands = _as_list(dbt.get("commands"))
    if len(commands) > 10:
        sink.at(resolved, (*at, "commands"), "a dbt task accepts at most 10 commands")
    for index, command in enumerate(commands):
        if not isinstance(command, str) or not command.strip().startswith("dbt "):
            sink.at(
                resolved,
                (*at, "commands", index),
                f"dbt command {command!r} must start with 'dbt '",
            )


# --------------------------------------------------------------------------------------------
# dbt: project, profiles, manifest and selections
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DbtModel:
    """The parts of a manifest model that dbt selectors look at."""

    name: str
    fqn: tuple[str, ...]
    path: str
    tags: frozenset[str]
    group: str | None


@dataclass(frozen=True)
class DbtCommand:
    """One dbt command of a dbt task, split into the flags the checks need."""

    text: str
    subcommand: str
    target: str | None
    select: tuple[str, ...]
    vars_text: str | None


def parse_dbt_command(text: str) -> DbtCommand:
    """Split ``dbt build --target x --select a b --vars '{...}'`` into its parts."""
    tokens = shlex.split(text)
    subcommand = tokens[1] if len(tokens) > 1 else ""
    target: str | None = None
    vars_text: str | None = None
    select: list[str] = []
    index = 2
    while index < len(tokens):
        token = tokens[index]
        flag, _, inline = token.partition("=")
        if flag in ("--target", "-t"):
            target = inline or (tokens[index + 1] if index + 1 < len(tokens) else None)
            index += 1 if inline else 2
            continue
        if flag == "--vars":
            vars_text = inline or (tokens[index + 1] if index + 1 < len(tokens) else None)
            index += 1 if inline else 2
            continue
        if flag in ("--select", "-s", "--models", "-m"):
            index += 1
            if inline:
                select.append(inline)
            while index < len(tokens) and not tokens[index].startswith("-"):
                select.append(tokens[index])
                index += 1
            continue
        index += 1
    return DbtCommand(text, subcommand, target, tuple(select), vars_text)


def _strip_graph(selector: str) -> str:
    return re.sub(r"\+\d*$", "", re.sub(r"^(@|\d*\+)", "", selector))


def _fqn_match(fqn: tuple[str, ...], selector: str) -> bool:
    if fqn and fqn[-1] == selector:
        return True
    parts = selector.split(".")
    for candidate in (fqn, fqn[1:]):
        flat = [p for segment in candidate for p in segment.split(".")]
        if len(flat) >= len(parts) and all(
            fnmatch.fnmatchcase(f, p) for f, p in zip(flat, parts, strict=False)
        ):
            return True
    return False


def select_models(models: Sequence[DbtModel], selectors: Sequence[str]) -> tuple[set[str], str]:
    """Models matched by dbt node selectors (union of words, intersection within commas).

    Supports the methods this project uses (path:, tag:, group:, fqn: and bare names); graph
    operators are ignored, since the question is which models a selector is rooted in. Returns
    the matched model paths and a message for an unsupported method ('' when all supported).
    """
    matched: set[str] = set()
    for word in selectors:
        hits: set[str] | None = None
        for atom in word.split(","):
            method, _, value = _strip_graph(atom).rpartition(":")
            if not method and ("/" in value or value.endswith((".sql", ".py"))):
                method = "path"
            current: set[str] = set()
            for model in models:
                if method == "path":
                    pattern = value.rstrip("/")
                    ok = (
                        model.path == pattern
                        or model.path.startswith(pattern + "/")
                        or fnmatch.fnmatchcase(model.path, pattern)
                    )
                elif method == "tag":
                    ok = value in model.tags
                elif method == "group":
                    ok = model.group == value
                elif method in ("", "fqn"):
                    ok = _fqn_match(model.fqn, value)
                else:
                    return matched, (
                        f"selector method {method!r} is not evaluated by this checker; use "
                        "path:, tag:, group: or fqn:"
                    )
                if ok:
                    current.add(model.path)
            hits = current if hits is None else hits & current
        matched |= hits or set()
    return matched, ""


@dataclass
class _DbtProject:
    directory: Path
    profile: str
    model_paths: tuple[str, ...]
    has_packages: bool


def _dbt_project(directory: Path) -> _DbtProject | None:
    path = directory / "dbt_project.yml"
    if not path.is_file():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    packages = False
    for name in ("packages.yml", "dependencies.yml"):
        candidate = directory / name
        if candidate.is_file():
            content = yaml.safe_load(candidate.read_text(encoding="utf-8")) or {}
            packages = packages or bool(content.get("packages"))
    return _DbtProject(
        directory=directory,
        profile=str(data.get("profile", "")),
        model_paths=tuple(data.get("model-paths") or ["models"]),
        has_packages=packages,
    )


def discover_domains(project: _DbtProject) -> dict[str, Path]:
    """Domains are the folders directly under the model paths (``models/<domain>/``)."""
    domains: dict[str, Path] = {}
    for model_path in project.model_paths:
        base = project.directory / model_path
        if base.is_dir():
            for child in sorted(base.iterdir()):
                if child.is_dir() and not child.name.startswith(("_", ".")):
                    domains[child.name] = child
    return domains


def _model_domain(project: _DbtProject, model_path: str) -> str | None:
    parts = model_path.split("/")
    if len(parts) > 2 and parts[0] in project.model_paths:
        return parts[1]
    return None


@dataclass
class _ParseResult:
    models: list[DbtModel]
    error: str


def run_dbt_parse(
    project: Path, profiles_dir: Path, target: str, vars_text: str | None, workdir: Path
) -> _ParseResult:
    """``dbt parse`` in a subprocess with placeholder credentials; no connection is made."""
    target_path = workdir / f"dbt-{target}"
    args = [
        sys.executable,
        "-c",
        "from dbt.cli.main import cli; cli()",
        "parse",
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(profiles_dir),
        "--target",
        target,
        "--target-path",
        str(target_path),
        "--log-path",
        str(target_path / "logs"),
        "--no-partial-parse",
        "--quiet",
    ]
    if vars_text:
        args += ["--vars", vars_text]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABRICKS_", "DBT_")) or k == "DBT_PROFILES_DIR"
    }
    env.pop("DBT_PROFILES_DIR", None)
    env.update(DBT_PARSE_ENV)
    env.update({"DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    proc = subprocess.run(
        args, capture_output=True, text=True, check=False, env=env, cwd=project, timeout=600
    )
    manifest_path = target_path / "manifest.json"
    if proc.returncode != 0 or not manifest_path.is_file():
        detail = (proc.stdout + proc.stderr).strip()[-1500:]
        return _ParseResult(
            [], f"dbt parse --target {target} failed (exit {proc.returncode}): {detail}"
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    models = [
        DbtModel(
            name=node["name"],
            fqn=tuple(node.get("fqn") or ()),
            path=str(node.get("original_file_path", "")),
            tags=frozenset(node.get("tags") or ()),
            group=node.get("group") or (node.get("config") or {}).get("group"),
        )
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "model"
        and node.get("package_name") == manifest.get("metadata", {}).get("project_name")
    ]
    return _ParseResult(models, "")


_JINJA = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined)  # noqa: S701


class _MissingEnvError(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def render_profile_value(text: str, env: Mapping[str, str], cli_vars: Mapping[str, Any]) -> str:
    """Render one profiles.yml string as dbt would: env_var() and var() from the CLI only."""

    def env_var(name: str, default: Any = None) -> str:
        if name in env:
            return env[name]
        if default is not None:
            return str(default)
        raise _MissingEnvError(name)

    def var(name: str, default: Any = None) -> Any:
        if name in cli_vars:
            return cli_vars[name]
        if default is not None:
            return default
        raise _MissingEnvError(f"var:{name}")

    return _JINJA.from_string(text).render(env_var=env_var, var=var)


def _profile_env_hint(key: str) -> str:
    hints = {
        "host": "host: \"{{ env_var('DATABRICKS_HOST', env_var('DBT_HOST', '')) }}\"",
        "token": "token: \"{{ env_var('DATABRICKS_TOKEN', env_var('DBT_ACCESS_TOKEN', '')) }}\"",
        "http_path": "http_path: \"{{ env_var('DATABRICKS_HTTP_PATH', '/sql/1.0/warehouses/' ~ "
        "var('warehouse_id', '')) }}\" and pass --vars \"{warehouse_id: ${var.warehouse_id}}\"",
    }
    return hints.get(key, f"give {key} a default that works inside the job")


def _check_profile(
    project: _DbtProject,
    profiles_dir: Path,
    command: DbtCommand,
    job_env: Mapping[str, str],
    at: tuple[Map, YamlPath],
    root: Path,
    sink: _Sink,
) -> None:
    """The command's --target exists and its output renders with what the job provides.

    Problems with the command are reported at the command; problems with the profile at
    profiles.yml, worded without the job so that every job sharing the profile reports it once.
    """
    resolved, command_path = at
    profiles_path = profiles_dir / "profiles.yml"
    if not profiles_path.is_file():
        sink.at(
            resolved,
            command_path,
            f"no profiles.yml in {_relative(profiles_dir, root)}; fix: point profiles_directory "
            "(relative to project_directory) at the folder holding the project's profiles.yml",
        )
        return
    profiles = load_yaml(profiles_path, root)
    outputs = _get(profiles, project.profile, "outputs")
    profiles_origin = Origin(_relative(profiles_path, root), 1)
    if not isinstance(outputs, Map):
        sink.add(
            profiles_origin,
            project.profile,
            f"profiles.yml has no profile {project.profile!r} with outputs (dbt_project.yml "
            "names it); fix: add it",
        )
        return
    if command.target is None:
        sink.at(
            resolved,
            command_path,
            f"{command.text!r} has no --target, so on Databricks dbt would use the profile's "
            "default (DBT_TARGET, else local); fix: add --target ${bundle.target}",
        )
        return
    output = outputs.get(command.target)
    if not isinstance(output, Map):
        sink.add(
            outputs.origin,
            f"{project.profile}.outputs",
            f"--target {command.target!r} is not an output of profile {project.profile!r}"
            f"{_close(command.target, outputs)}; outputs: {', '.join(outputs)}. Fix: add "
            f"outputs.{command.target} to profiles.yml",
        )
        return
    try:
        cli_vars = yaml.safe_load(command.vars_text) if command.vars_text else {}
    except yaml.YAMLError as err:
        sink.at(resolved, command_path, f"--vars is not YAML ({err}): {command.vars_text!r}")
        return
    if not isinstance(cli_vars, dict):
        cli_vars = {}
    rendered: dict[str, str] = {}
    base = f"{project.profile}.outputs.{command.target}"
    provided = ", ".join(sorted(job_env))
    for key, value in output.items():
        if not isinstance(value, str):
            rendered[key] = str(value)
            continue
        try:
            rendered[key] = render_profile_value(value, job_env, cli_vars)
        except _MissingEnvError as err:
            what = (
                f"var {err.name[4:]!r}, which the dbt command does not pass in --vars"
                if err.name.startswith("var:")
                else f"env var {err.name} (env_var without a default), which the dbt task "
                f"does not have (a serverless dbt task gets only {provided})"
            )
            sink.add(
                output.origin_of(key),
                f"{base}.{key}",
                f"{key} = {value!r} needs {what}, so the job cannot render its profile. Fix: "
                f"{_profile_env_hint(key)}",
            )
        except jinja2.TemplateError as err:
            sink.add(output.origin_of(key), f"{base}.{key}", f"does not render: {err}")
    if output.get("type") != "databricks":
        return
    empty = [k for k in ("host", "http_path") if k in rendered and not rendered[k].strip()]
    if rendered.get("http_path", "x").rstrip("/").endswith("/warehouses"):
        empty.append("http_path")
    oauth = rendered.get("auth_type", "token") == "oauth"
    credentials = ("client_id", "client_secret") if oauth else ("token",)
    empty += [k for k in credentials if k in rendered and not rendered[k].strip()]
    for key in dict.fromkeys(empty):
        sink.add(
            output.origin_of(key),
            f"{base}.{key}",
            f"{key} renders to {rendered.get(key)!r} inside the dbt task (which has only "
            f"{provided}), so dbt cannot connect. Fix: {_profile_env_hint(key)}",
        )


# --------------------------------------------------------------------------------------------
# Wheel
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WheelFacts:
    """What the checks need from a built wheel."""

    path: Path
    distribution: str
    version: str
    entry_points: dict[str, dict[str, str]]
    top_level: frozenset[str]
    files: frozenset[str]


def normalize_name(name: str) -> str:
    """PEP 503 normalisation: ``data_ops`` and ``data-ops`` name the same distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def inspect_wheel(path: Path) -> WheelFacts:
    """Distribution name, version, entry points and contents of a wheel file."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        info_dir = next((n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA")), "")
        if not info_dir:
            raise ConfigError(f"{path} is not a wheel: no *.dist-info/METADATA")
        metadata = archive.read(f"{info_dir}/METADATA").decode("utf-8")
        entry_text = (
            archive.read(f"{info_dir}/entry_points.txt").decode("utf-8")
            if f"{info_dir}/entry_points.txt" in names
            else ""
        )
    headers = dict(
        line.split(": ", 1) for line in metadata.splitlines() if ": " in line and line[0] != " "
    )
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read_string(entry_text)
    entry_points = {section: dict(parser[section]) for section in parser.sections()}
    return WheelFacts(
        path=path,
        distribution=headers.get("Name", ""),
        version=headers.get("Version", ""),
        entry_points=entry_points,
        top_level=frozenset(n.split("/")[0] for n in names),
        files=frozenset(names),
    )


def find_uv(root: Path, environ: Mapping[str, str]) -> str | None:
    """uv as the Makefile finds it: $UV, on PATH, or the project-local install."""
    local = [str(base / ".tools/uv/bin/uv") for base in (root, REPO_ROOT)]
    for candidate in (environ.get("UV"), shutil.which("uv"), *local):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def build_wheel(root: Path, out_dir: Path, environ: Mapping[str, str]) -> Path:
    """``uv build --wheel`` into ``out_dir``; returns the wheel path."""
    uv = find_uv(root, environ)
    if uv is None:
        raise ConfigError(
            "uv not found ($UV, PATH, .tools/uv/bin/uv); run `make setup` or pass --wheel"
        )
    proc = subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(out_dir), "--quiet"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    wheels = sorted(out_dir.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        raise ConfigError(
            f"`uv build --wheel` failed (exit {proc.returncode}): {proc.stderr.strip()[-1500:]}"
        )
    return wheels[-1]


def _check_wheel_contents(facts: WheelFacts, sink: _Sink) -> None:
    allowed = {"python_ingest", f"{facts.path.name.split('-')[0]}-{facts.version}.dist-info"}
    allowed |= {n for n in facts.top_level if n.endswith((".dist-info", ".data"))}
    for extra in sorted(facts.top_level - allowed):
        sink.add(
            Origin("pyproject.toml", 0),
            "tool.hatch.build.targets.wheel",
            f"the wheel {facts.path.name} contains {extra!r}; it must hold python_ingest only "
            '(domain code, tools and tests stay out). Fix: packages = ["python_ingest"] in '
            "[tool.hatch.build.targets.wheel]",
        )
    if "python_ingest" not in facts.top_level:
        sink.add(
            Origin("pyproject.toml", 0),
            "tool.hatch.build.targets.wheel",
            f"the wheel {facts.path.name} does not contain python_ingest; fix the wheel build",
        )


def _check_wheel_task(
    resolved: Map, at: YamlPath, task: Map, facts: WheelFacts | None, sink: _Sink
) -> None:
    wheel_task = task.get("python_wheel_task")
    if not isinstance(wheel_task, Map):
        return
    params = _as_list(wheel_task.get("parameters"))
    _check_cli_arguments(resolved, (*at, "python_wheel_task", "parameters"), list(params), sink)
    if facts is None:
        return
    package = str(wheel_task.get("package_name", ""))
    if normalize_name(package) != normalize_name(facts.distribution):
        sink.at(
            resolved,
            (*at, "python_wheel_task", "package_name"),
            f"package_name {package!r} is not the wheel's distribution "
            f"{facts.distribution!r} ({facts.path.name}); fix: package_name: "
            f"{facts.distribution.replace('-', '_')}",
        )
    entry = str(wheel_task.get("entry_point", ""))
    groups = {g: eps for g, eps in facts.entry_points.items() if entry in eps}
    if not groups:
        available = sorted({n for eps in facts.entry_points.values() for n in eps})
        sink.at(
            resolved,
            (*at, "python_wheel_task", "entry_point"),
            f"entry point {entry!r} is not in {facts.path.name}'s entry_points.txt"
            f"{_close(entry, available)}; available: {', '.join(available) or 'none'}. Fix: "
            "declare it under [project.scripts] in pyproject.toml or correct entry_point",
        )
        return
    target = next(iter(groups.values()))[entry]
    module = target.split(":")[0].strip()
    module_file = module.replace(".", "/")
    if f"{module_file}.py" not in facts.files and f"{module_file}/__init__.py" not in facts.files:
        sink.at(
            resolved,
            (*at, "python_wheel_task", "entry_point"),
            f"entry point {entry!r} -> {target!r}, but {module_file}.py is not in the wheel",
        )


def _check_cli_arguments(resolved: Map, at: YamlPath, params: list[Any], sink: _Sink) -> None:
    """The task's parameters are accepted by the data-ops command line parser."""
    try:
        from python_ingest.cli import build_parser
    except ImportError as err:
        sink.at(resolved, at, f"cannot import python_ingest.cli to check the arguments: {err}")
        return
    parser = build_parser()
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            args = parser.parse_args([str(p) for p in params])
    except SystemExit:
        message = stderr.getvalue().strip().splitlines()
        sink.at(
            resolved,
            at,
            f"data-ops rejects the task parameters {[str(p) for p in params]!r}: "
            f"{message[-1] if message else 'usage error'}. Fix: run `data-ops <command> --help`",
        )
        return
    if not callable(getattr(args, "func", None)):
        sink.at(resolved, at, f"data-ops command {params[:1]!r} has no handler")


def _local_dependencies(resolved: Map, root: Path) -> Iterator[tuple[YamlPath, str, Path]]:
    """(yaml path, spec, directory of the defining file) of every local library of a job."""
    for job_key, job in _jobs(resolved).items():
        for e_index, env in enumerate(_get(job, "environments") or []):
            deps = _get(env, "spec", "dependencies")
            if not isinstance(deps, Seq):
                continue
            for d_index, dep in enumerate(deps):
                if isinstance(dep, str) and dep.startswith("."):
                    origin = deps.origin_of(d_index)
                    base = (root / origin.file).parent if origin else root
                    path = ("resources", "jobs", job_key, "environments", e_index, "spec")
                    yield (*path, "dependencies", d_index), dep, base


def _check_dependencies(
    resolved: Map, root: Path, facts: WheelFacts | None, lock: dict[str, str], sink: _Sink
) -> None:
    artifacts = _as_map(resolved.get("artifacts"))
    wheel_dirs = {
        (root / str(a.get("path", "."))).resolve() / "dist"
        for a in artifacts.values()
        if isinstance(a, dict) and a.get("type") == "whl"
    }
    for name, artifact in artifacts.items():
        if (
            isinstance(artifact, dict)
            and not (root / str(artifact.get("path", "."))).joinpath("pyproject.toml").is_file()
        ):
            sink.at(
                resolved,
                ("artifacts", name, "path"),
                f"artifact {name!r} path {artifact.get('path')!r} has no pyproject.toml",
            )
    for path, spec, base in _local_dependencies(resolved, root):
        local = (base / spec).resolve()
        if local.parent not in wheel_dirs:
            sink.at(
                resolved,
                path,
                f"local dependency {spec!r} resolves to {_relative(local.parent, root)}/, which "
                "is not the dist/ folder of a whl artifact (paths are relative to the YAML file "
                "that holds them); fix the relative path",
            )
        elif facts is not None and not fnmatch.fnmatchcase(facts.path.name, local.name):
            sink.at(
                resolved,
                path,
                f"local dependency {spec!r} does not match the built wheel {facts.path.name}",
            )
    for job_key, job in _jobs(resolved).items():
        for e_index, env in enumerate(_get(job, "environments") or []):
            for d_index, dep in enumerate(_get(env, "spec", "dependencies") or []):
                match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^\s;]+)", str(dep))
                if not match:
                    continue
                package, version = normalize_name(match.group(1)), match.group(2)
                if package in lock and lock[package] != version:
                    sink.at(
                        resolved,
                        (
                            "resources",
                            "jobs",
                            job_key,
                            "environments",
                            e_index,
                            "spec",
                            "dependencies",
                            d_index,
                        ),
                        f"{dep!r} differs from uv.lock ({package}=={lock[package]}); the job "
                        f"must run what the tests ran. Fix: pin {package}=={lock[package]}",
                    )


def _lock_versions(root: Path) -> dict[str, str]:
    path = root / "uv.lock"
    if not path.is_file():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {
        normalize_name(str(p["name"])): str(p.get("version", ""))
        for p in data.get("package", [])
        if "name" in p
    }


# --------------------------------------------------------------------------------------------
# Domains and dbt tasks of jobs
# --------------------------------------------------------------------------------------------


@dataclass
class _DbtUse:
    job_key: str
    path: YamlPath
    command: DbtCommand
    project: _DbtProject
    profiles_dir: Path
    domain: str | None


def _job_env(job: Map, task: Map) -> dict[str, str]:
    """Environment variables a task's process sees: injected ones plus a cluster's env vars."""
    env = dict(DBT_TASK_ENV)
    clusters = [task.get("new_cluster")]
    for cluster in job.get("job_clusters") or []:
        if isinstance(cluster, dict) and cluster.get("job_cluster_key") == task.get(
            "job_cluster_key"
        ):
            clusters.append(cluster.get("new_cluster"))
    for cluster in clusters:
        spark_env = _get(cluster, "spark_env_vars")
        if isinstance(spark_env, dict):
            env.update({str(k): str(v) for k, v in spark_env.items()})
    return env


def _domain_checks(target: _Target, resolved: Map, bundle: _Bundle, sink: _Sink) -> list[_DbtUse]:
    """Jobs <-> domains, ingest arguments, dbt commands and profiles; returns dbt uses."""
    root = bundle.root
    project = _dbt_project(root)
    uses: list[_DbtUse] = []
    domains = discover_domains(project) if project else {}
    domain_jobs: dict[str, str] = {}
    for job_key, job in _jobs(resolved).items():
        if not isinstance(job, Map):
            continue
        base: YamlPath = ("resources", "jobs", job_key)
        domain = _get(job, "tags", "domain")
        origin = job.origin
        if isinstance(domain, str):
            domain_jobs.setdefault(domain, job_key)
            if domain not in domains:
                sink.at(
                    resolved,
                    (*base, "tags", "domain"),
                    f"job {job_key!r} is tagged domain {domain!r}, but models/{domain}/ does not "
                    f"exist{_close(domain, domains)} (domains: {', '.join(domains) or 'none'}). "
                    f"Fix: add the models under models/{domain}/ or correct the tag",
                )
            expected = f"resources/jobs/{domain}/"
            if origin and not origin.file.startswith(expected):
                sink.add(
                    origin,
                    yaml_path(base),
                    f"job of domain {domain!r} is defined in {origin.file}; fix: move it to "
                    f"{expected}{job_key}.job.yml (business logic lives with its domain)",
                )
        for index, task in enumerate(job.get("tasks") or []):
            if not isinstance(task, Map):
                continue
            at: YamlPath = (*base, "tasks", index)
            params = _get(task, "python_wheel_task", "parameters")
            if isinstance(domain, str) and isinstance(params, list) and "ingest" in params:
                given = params[params.index("--domain") + 1] if "--domain" in params[:-1] else None
                if given != domain:
                    sink.at(
                        resolved,
                        (*at, "python_wheel_task", "parameters"),
                        f"ingest task of domain job {job_key!r} passes --domain {given!r}; fix: "
                        f"--domain {domain}",
                    )
            dbt = task.get("dbt_task")
            if not isinstance(dbt, Map) or project is None:
                continue
            origin_file = origin_at(resolved, (*at, "dbt_task", "project_directory"))
            yaml_dir = (root / origin_file.file).parent if origin_file else root
            project_dir = (yaml_dir / str(dbt.get("project_directory", "."))).resolve()
            task_project = _dbt_project(project_dir)
            if task_project is None:
                sink.at(
                    resolved,
                    (*at, "dbt_task", "project_directory"),
                    f"project_directory {dbt.get('project_directory')!r} resolves to "
                    f"{_relative(project_dir, root)}, which has no dbt_project.yml (relative "
                    "paths start at the YAML file's folder); fix the path",
                )
                continue
            profiles_dir = (project_dir / str(dbt.get("profiles_directory", "."))).resolve()
            commands = _as_list(dbt.get("commands"))
            names = [str(c).split()[1] if len(str(c).split()) > 1 else "" for c in commands]
            if task_project.has_packages and "deps" not in names:
                sink.at(
                    resolved,
                    (*at, "dbt_task", "commands"),
                    "the project declares dbt packages but the task never runs `dbt deps`; fix: "
                    "make 'dbt deps' the first command",
                )
            context = f"job {job_key!r} task {task.get('task_key')!r}"
            for c_index, text in enumerate(commands):
                if not isinstance(text, str) or not text.startswith("dbt "):
                    continue
                command = parse_dbt_command(text)
                if command.subcommand == "deps":
                    continue
                where: YamlPath = (*at, "dbt_task", "commands", c_index)
                _check_profile(
                    task_project,
                    profiles_dir,
                    command,
                    _job_env(job, task),
                    (resolved, where),
                    root,
                    sink,
                )
                if command.target is not None and command.target != target.name:
                    sink.at(
                        resolved,
                        where,
                        f"{context} runs dbt with --target {command.target!r} in bundle target "
                        f"{target.name!r}; fix: --target ${{bundle.target}}",
                    )
                selecting = command.subcommand in ("build", "run", "test", "seed", "snapshot")
                if selecting and isinstance(domain, str) and not command.select:
                    sink.at(
                        resolved,
                        where,
                        f"{context} runs `dbt {command.subcommand}` without --select, i.e. every "
                        f"domain; fix: --select path:models/{domain}",
                    )
                for selector in command.select:
                    method, _, value = _strip_graph(selector).rpartition(":")
                    if method == "path" and not (task_project.directory / value).exists():
                        sink.at(
                            resolved,
                            where,
                            f"{context} selects {selector!r}, but {value} does not exist in the "
                            f"dbt project (domains: {', '.join(domains) or 'none'}); fix: select "
                            "an existing domain folder",
                        )
                if selecting and command.select:
                    uses.append(
                        _DbtUse(
                            job_key,
                            where,
                            command,
                            task_project,
                            profiles_dir,
                            domain if isinstance(domain, str) else None,
                        )
                    )
    for domain, folder in domains.items():
        if domain not in domain_jobs:
            sink.add(
                Origin(_relative(folder, root), 0),
                f"models/{domain}",
                f"domain {domain!r} (models/{domain}/) has no job in target {target.name!r}; "
                f"fix: add resources/jobs/{domain}/{domain}.job.yml tagged domain: {domain} "
                "(copy another domain's job file and replace the domain name)",
            )
    return uses


_PARSE_CACHE: dict[str, _ParseResult] = {}
_DBT_INPUT_KEYS = (
    "model-paths",
    "macro-paths",
    "test-paths",
    "seed-paths",
    "snapshot-paths",
    "analysis-paths",
    "docs-paths",
)


def _dbt_inputs_digest(project: Path, profiles_dir: Path) -> str:
    """Digest of what `dbt parse` reads, so identical projects are parsed once per process."""
    data = yaml.safe_load((project / "dbt_project.yml").read_text(encoding="utf-8")) or {}
    files = [project / "dbt_project.yml", profiles_dir / "profiles.yml"]
    files += [project / n for n in ("packages.yml", "dependencies.yml", "selectors.yml")]
    for key in _DBT_INPUT_KEYS:
        for folder in data.get(key) or []:
            base = project / str(folder)
            if base.is_dir():
                files.extend(sorted(p for p in base.rglob("*") if p.is_file()))
    digest = hashlib.sha256()
    for path in files:
        if path.is_file():
            digest.update(_relative(path, project).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _parse(project: Path, profiles_dir: Path, target: str, vars_text: str | None) -> _ParseResult:
    key = "|".join((_dbt_inputs_digest(project, profiles_dir), target, vars_text or ""))
    if key not in _PARSE_CACHE:
        with tempfile.TemporaryDirectory(prefix="bundle-check-dbt-") as tmp:
            _PARSE_CACHE[key] = run_dbt_parse(project, profiles_dir, target, vars_text, Path(tmp))
    return _PARSE_CACHE[key]


def _check_selections(
    resolved_by_target: dict[str, Map],
    uses_by_target: dict[str, list[_DbtUse]],
    sinks: dict[str, _Sink],
    all_targets: bool,
) -> list[str]:
    """Evaluate every dbt selection against a manifest from ``dbt parse``.

    One parse (~7 s) serves every bundle target by default: selections do not depend on the
    dbt target here, and ``sit`` is parsed when a job uses it, as the production-like target.
    ``all_targets`` parses each dbt target a job uses instead (in parallel).
    """
    wanted: dict[tuple[Path, Path, str, str | None], None] = {}
    for uses in uses_by_target.values():
        for use in uses:
            if use.command.target:
                key = (
                    use.project.directory,
                    use.profiles_dir,
                    use.command.target,
                    use.command.vars_text,
                )
                wanted[key] = None
    if not wanted:
        return []
    if not all_targets:
        preferred = sorted(wanted, key=lambda k: (k[2] != "sit", k[2]))[0]
        wanted = {preferred: None}
    with ThreadPoolExecutor(max_workers=min(2, len(wanted))) as pool:
        futures = {key: pool.submit(_parse, *key) for key in wanted}
        results = {key: future.result() for key, future in futures.items()}
    for target_name, uses in uses_by_target.items():
        sink = sinks[target_name]
        resolved = resolved_by_target[target_name]
        for use in uses:
            key = (
                use.project.directory,
                use.profiles_dir,
                use.command.target or "",
                use.command.vars_text,
            )
            result = results.get(key) or next(iter(results.values()))
            parsed_target = next(k[2] for k, v in results.items() if v is result)
            if result.error:
                sink.at(resolved, use.path, f"job {use.job_key!r}: {result.error}")
                continue
            matched, unsupported = select_models(result.models, use.command.select)
            if unsupported:
                sink.at(resolved, use.path, f"job {use.job_key!r}: {unsupported}")
                continue
            selection = " ".join(use.command.select)
            if not matched:
                empty = use.domain is not None and not any(
                    _model_domain(use.project, m.path) == use.domain for m in result.models
                )
                reason = (
                    f"models/{use.domain}/ has no models yet"
                    if empty
                    else "no model in the manifest matches it"
                )
                sink.at(
                    resolved,
                    use.path,
                    f"job {use.job_key!r} selects {selection!r} but {reason} (dbt parse "
                    f"--target {parsed_target}). Fix: select an existing domain "
                    "(path:models/<domain>) or add models to the domain",
                )
                continue
            if use.domain:
                foreign = sorted(
                    m for m in matched if _model_domain(use.project, m) not in (use.domain, None)
                )
                if foreign:
                    sink.at(
                        resolved,
                        use.path,
                        f"job {use.job_key!r} of domain {use.domain!r} selects {selection!r}, "
                        f"which includes other domains' models: {', '.join(foreign[:5])}; fix: "
                        f"--select path:models/{use.domain}",
                    )
    return [f"dbt selections against `dbt parse --target {k[2]}`" for k in sorted(results)]


# --------------------------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------------------------


def _schema_path(options: CheckOptions) -> Path:
    if options.schema_path is not None:
        return options.schema_path
    env = options.environ.get(SCHEMA_ENV) or os.environ.get(SCHEMA_ENV)
    if env:
        return Path(env)
    return next((p for p in SCHEMA_CANDIDATES if p.is_file()), SCHEMA_CANDIDATES[-1])


def check_bundle(options: CheckOptions) -> CheckReport:
    """Run every check for the selected targets; raises ConfigError when it cannot check."""
    root = options.root.resolve()
    validator = load_schema_validator(_schema_path(options))
    load_sink = _Sink(None)
    bundle = _load_bundle(root, load_sink)
    problems = list(load_sink.items)
    checked = [f"{ROOT_FILE} + {len(bundle.files)} included file(s)"]
    targets_map = bundle.config.get("targets")
    all_targets = list(targets_map) if isinstance(targets_map, dict) else []
    defaults = [
        t for t in all_targets if isinstance(targets_map, dict) and _get(targets_map, t, "default")
    ]
    if len(defaults) != 1:
        load_sink.at(
            bundle.config,
            ("targets",),
            f"exactly one target must be default: true, found {defaults or 'none'}",
        )
    unknown = [t for t in options.targets if t not in all_targets]
    if unknown:
        raise ConfigError(f"unknown target(s) {unknown}; the bundle defines {all_targets}")
    selected = list(options.targets) or all_targets
    raw_sink = _Sink(None)
    schema_problems(validator, bundle.config, raw_sink)
    facts: WheelFacts | None = None
    wheel_sink = _Sink(None)
    with tempfile.TemporaryDirectory(prefix="bundle-check-wheel-") as tmp:
        if not options.skip_wheel:
            try:
                wheel_path = options.wheel or build_wheel(root, Path(tmp), options.environ)
                facts = inspect_wheel(wheel_path)
                _check_wheel_contents(facts, wheel_sink)
                checked.append(f"wheel {facts.path.name} (entry points, contents)")
            except (ConfigError, zipfile.BadZipFile, OSError) as err:
                wheel_sink.add(
                    Origin("pyproject.toml", 0), "wheel", f"cannot check the wheel: {err}"
                )
        lock = _lock_versions(root)
        sinks: dict[str, _Sink] = {}
        resolved_by_target: dict[str, Map] = {}
        uses_by_target: dict[str, list[_DbtUse]] = {}
        for name in selected:
            sink = sinks[name] = _Sink(name)
            target = _materialize(bundle, name, sink)
            schema_problems(validator, target.config, sink)
            resolver = _Resolver(target, options, sink)
            resolved = resolver.resolved_config()
            resolved_by_target[name] = resolved
            _policy_checks(target, target.config, resolved, bundle, sink)
            _job_structure(resolved, sink)
            for job_key, job in _jobs(resolved).items():
                for index, task in enumerate(_get(job, "tasks") or []):
                    if isinstance(task, Map):
                        base = ("resources", "jobs", job_key, "tasks", index)
                        _check_wheel_task(resolved, base, task, facts, sink)
            _check_dependencies(resolved, root, facts, lock, sink)
            uses_by_target[name] = _domain_checks(target, resolved, bundle, sink)
        checked.append(f"schema {_schema_path(options).name}, references, project rules")
        if not options.skip_dbt:
            checked += _check_selections(
                resolved_by_target, uses_by_target, sinks, options.dbt_all_targets
            )
        else:
            checked.append("dbt selections skipped (--skip-dbt)")
    for sink in [raw_sink, wheel_sink, *sinks.values()]:
        problems.extend(sink.items)
    return CheckReport(_dedupe(problems), selected, checked)


def _parse_vars(values: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"--var {item!r} must be name=value")
        out[name] = value
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bundle_check",
        description="Check the Databricks bundle offline: includes and target merges, ${...} "
        "references, the bundle JSON schema, domains vs jobs, dbt selections and profiles, and "
        "the wheel's entry point.",
        epilog="Exit codes: 0 ok, 1 problems found, 2 the check could not run.",
    )
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="bundle root (default: repo)")
    parser.add_argument(
        "--target",
        action="append",
        default=[],
        dest="targets",
        help="check only this target (repeatable; default: every target)",
    )
    parser.add_argument(
        "--schema",
        type=Path,
        default=None,
        help=f"bundle JSON schema (default: ${SCHEMA_ENV}, tools/schemas/ or ../shared/schemas/)",
    )
    parser.add_argument(
        "--skip-dbt", action="store_true", help="do not run dbt parse (no selection checks)"
    )
    parser.add_argument(
        "--dbt-all-targets",
        action="store_true",
        help="parse every dbt target the jobs use (default: one parse, sit preferred)",
    )
    parser.add_argument("--skip-wheel", action="store_true", help="do not build or inspect a wheel")
    parser.add_argument("--wheel", type=Path, default=None, help="check this wheel, do not build")
    parser.add_argument(
        "--var",
        action="append",
        default=[],
        dest="variables",
        metavar="NAME=VALUE",
        help="set a bundle variable, as `databricks bundle --var` does",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        options = CheckOptions(
            root=args.root,
            schema_path=args.schema,
            targets=tuple(args.targets),
            skip_dbt=args.skip_dbt,
            dbt_all_targets=args.dbt_all_targets,
            skip_wheel=args.skip_wheel,
            wheel=args.wheel,
            variables=_parse_vars(args.variables),
        )
        report = check_bundle(options)
    except ConfigError as err:
        print(f"bundle check: cannot run: {err}", file=sys.stderr)
        return 2
    print(report.format())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
