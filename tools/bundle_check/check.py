"""Orchestration and command line: load the files, run every check, print the problems."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from python_ingest.domains import build_order, domain_dependencies, project_domains
from python_ingest.errors import ConfigError
from tools.bundle_check import rules
from tools.bundle_check.dbt_ls import PLACEHOLDER_ENV, DbtError, DbtLister, substitute
from tools.bundle_check.model import Doc, Problem, Sink, load_doc
from tools.bundle_check.schema import SCHEMA_CANDIDATES, load_schema_validator, schema_problems

REPO_ROOT = Path(__file__).resolve().parents[2]
ROOT_FILE = "databricks.yml"


@dataclass(frozen=True)
class CheckOptions:
    """What to check. Defaults check every target of the bundle in the repository."""

    root: Path = REPO_ROOT
    schema: Path | None = None
    targets: tuple[str, ...] = ()
    skip_dbt: bool = False
    skip_wheel: bool = False
    wheel: Path | None = None
    skip_cli: bool = False


@dataclass
class CheckReport:
    """Problems (each once, with the targets it applies to) and what was checked or skipped."""

    problems: list[Problem]
    targets: list[str]
    checked: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def format(self) -> str:
        count = f"{len(self.problems)} problem(s)" if self.problems else "ok"
        summary = f"bundle check: {count} (targets: {', '.join(self.targets) or 'none'})"
        return "\n".join([*(p.format() for p in self.problems), summary, *self.checked])


def _load(root: Path, rel: str, sink: Sink) -> Doc | None:
    try:
        return load_doc(root / rel, root)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        sink.add(rel, mark.line + 1 if mark else 0, "<root>", f"not valid YAML: {err}; fix it")
        return None


def _build_wheel(root: Path, out_dir: Path) -> Path:
    """``uv build --wheel`` with uv as the Makefile finds it (PATH or .tools/uv/bin/uv)."""
    local = [base / ".tools/uv/bin/uv" for base in (root, REPO_ROOT)]
    uv = shutil.which("uv") or next((str(p) for p in local if p.is_file()), None)
    if uv is None:
        raise ConfigError("uv not found (PATH, .tools/uv/bin/uv); run `make setup` or pass --wheel")
    command = [uv, "build", "--wheel", "--out-dir", str(out_dir), "--quiet"]
    proc = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    wheels = sorted(out_dir.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        raise ConfigError(f"`uv build --wheel` failed: {proc.stderr.strip()[-1500:]}")
    return wheels[-1]


def _run_cli(root: Path, targets: list[str], sink: Sink) -> str:
    """``databricks bundle validate -t <target>`` when the CLI is on the PATH."""
    cli = shutil.which("databricks")
    if cli is None:
        return (
            "databricks bundle validate: skipped, the `databricks` CLI is not on the PATH "
            "(lookups, workspace paths, permissions and run_as are checked only by it)"
        )
    for target in targets:
        command = [cli, "bundle", "validate", "-t", target]
        proc = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            output = (proc.stderr or proc.stdout).strip()[-2000:]
            message = f"`databricks bundle validate -t {target}` failed:\n{output}"
            sink.add(ROOT_FILE, 0, "<root>", message, target)
    return f"databricks bundle validate -t <target> ({cli}): ran for {', '.join(targets)}"


def _dbt_checks(
    root: Path, targets: list[str], jobs: list[rules.DomainJob], sink: Sink
) -> list[str]:
    """Per target: one ``dbt ls`` of every model (the domains and their dependencies), then one
    per domain job with that job's own selection; dbt's partial parse makes those quick."""
    notes: list[str] = []
    for target in targets:
        started = time.monotonic()
        lister = DbtLister(root, target, root / "target" / "bundle-check")
        vars_text = substitute(jobs[0].command.vars_text, target) if jobs else None
        try:
            every = lister.ls([], vars_text)
        except DbtError as err:
            message = f"`dbt ls --target {target}` failed:\n{err}\n    fix: make dbt parse pass"
            sink.add("profiles.yml", 0, f"data_ops.outputs.{target}", message, target)
            continue
        deps = domain_dependencies(every)
        for job in jobs:
            selection = [substitute(arg, target) or "" for arg in job.command.selection]
            try:
                selected = lister.ls(selection, substitute(job.command.vars_text, target))
            except DbtError as err:
                message = f"`dbt ls {' '.join(selection)}` failed:\n{err}\n    fix: correct it"
                sink.at(job.job.doc, job.command_path, message, target)
                continue
            rules.check_selection(job, selected, every, target, sink)
        rules.check_order(deps, {job.domain: job for job in jobs}, every, target, sink)
        try:
            order = " -> ".join(build_order(deps))
        except ConfigError as err:
            sink.add("models", 0, "<root>", str(err), target)
            order = "a cycle"
        seconds = time.monotonic() - started
        notes.append(f"dbt ls --target {target}: {len(every)} models, {order} ({seconds:.0f} s)")
    hosts = ", ".join(f"{k}={v}" for k, v in PLACEHOLDER_ENV.items() if "TOKEN" not in k)
    notes.append(
        f"dbt rendered profiles.yml itself with placeholder env ({hosts}, *_TOKEN) and "
        "placeholder_<name> for each ${var.<name>} of a command; nothing connected"
    )
    return notes


def check_bundle(options: CheckOptions) -> CheckReport:
    """Run every check for the selected targets; raises ConfigError when it cannot check."""
    root = options.root.resolve()
    if not (root / ROOT_FILE).is_file():
        raise ConfigError(f"no {ROOT_FILE} in {root}; pass --root <bundle root>")
    schema = options.schema or next((p for p in SCHEMA_CANDIDATES if p.is_file()), None)
    if schema is None:
        raise ConfigError(f"no bundle JSON schema at {', '.join(map(str, SCHEMA_CANDIDATES))}")
    validator = load_schema_validator(schema)
    sink = Sink()
    root_doc = _load(root, ROOT_FILE, sink)
    if root_doc is None:
        return CheckReport(sink.problems(), [], [f"{ROOT_FILE} is not YAML: nothing else checked"])
    defined = list(root_doc.get("targets") or {})
    unknown = [t for t in options.targets if t not in defined]
    if unknown:
        raise ConfigError(f"unknown target(s) {unknown}; the bundle defines {defined}")
    targets = list(options.targets) or defined
    included = rules.check_includes(root, root_doc, sink)
    docs = [root_doc, *(d for rel in included if (d := _load(root, rel, sink)) is not None)]
    for doc in docs:
        schema_problems(validator, doc, sink)
    checked = [f"schema {schema.name}: {ROOT_FILE} and {len(docs) - 1} file(s), each as written"]
    jobs = rules.collect_jobs(docs, sink)
    domains = project_domains(root)
    found = [rules.check_domain_job(root, domain, jobs, sink) for domain in domains]
    domain_jobs = [job for job in found if job is not None]
    checked.append(f"domains {', '.join(domains) or 'none'}: a job each, ingest then dbt build")
    checked.append(f"dashboards: {rules.check_dashboards(root, docs, sink)}")
    if options.skip_dbt:
        checked.append("dbt selections and domain order: skipped (--skip-dbt)")
    else:
        checked += _dbt_checks(root, targets, domain_jobs, sink)
    if options.skip_wheel:
        checked.append("wheel: skipped (--skip-wheel)")
    else:
        with tempfile.TemporaryDirectory(prefix="bundle-check-wheel-") as tmp:
            wheel = options.wheel or _build_wheel(root, Path(tmp))
            try:
                rules.check_wheel(wheel, jobs, sink)
            except (zipfile.BadZipFile, KeyError, OSError) as err:
                raise ConfigError(f"cannot read the wheel {wheel}: {err}") from err
            checked.append(f"wheel {wheel.name}: package_name and entry point of each task")
    checked.append("databricks bundle validate: skipped (--skip-cli)" if options.skip_cli else "")
    if not options.skip_cli:
        checked[-1] = _run_cli(root, targets, sink)
    return CheckReport(sink.problems(), targets, [f"  {line}" for line in checked])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bundle_check",
        description="Check the Databricks bundle offline: the JSON schema of each file, include "
        "coverage, a job per domain, its dbt selection (by dbt ls) and its order after the "
        "domains it refs, the dashboard and the wheel's entry point; and `databricks bundle "
        "validate` when the CLI is on the PATH.",
        epilog="Exit codes: 0 ok, 1 problems found, 2 the check could not run.",
    )
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="bundle root (default: repo)")
    parser.add_argument(
        "--target", action="append", default=[], dest="targets", help="only this target (repeat)"
    )
    parser.add_argument("--schema", type=Path, help="bundle JSON schema (default: tools/schemas/)")
    parser.add_argument("--wheel", type=Path, help="check this wheel instead of building one")
    for flag, text in (
        ("--skip-dbt", "no dbt ls (selections, domain order)"),
        ("--skip-wheel", "do not build or read a wheel"),
        ("--skip-cli", "do not run databricks bundle validate"),
    ):
        parser.add_argument(flag, action="store_true", help=text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = vars(build_parser().parse_args(argv))
    try:
        report = check_bundle(CheckOptions(**{**args, "targets": tuple(args["targets"])}))
    except ConfigError as err:
        print(f"bundle check: cannot run: {err}", file=sys.stderr)
        return 2
    print(report.format())
    return 0 if report.ok else 1
