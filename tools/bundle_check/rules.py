"""The project's rules on the bundle as written: include coverage, one job per domain (ingest,
then dbt of exactly that domain's models), the order between domains, the dashboard, the wheel."""

from __future__ import annotations

import configparser
import glob
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from python_ingest.domains import domain_of
from tools.bundle_check.dbt_ls import DbtCommand, parse_dbt_command
from tools.bundle_check.model import Doc, PathKey, Sink

ENTRY_POINT = "data-ops"
Records = list[dict[str, Any]]


def check_includes(root: Path, root_doc: Doc, sink: Sink) -> list[str]:
    """Every include pattern matches a file and every YAML file under resources/ is included;
    returns both (relative, sorted). Python's glob without ``recursive`` has the CLI's
    semantics: ``*`` never crosses a ``/``."""
    patterns = root_doc.get("include")
    patterns = [str(p) for p in patterns] if isinstance(patterns, list) else []
    included: set[str] = set()
    for index, pattern in enumerate(patterns):
        found = glob.glob(pattern, root_dir=root)  # noqa: PTH207 (the CLI's glob semantics)
        matches = {Path(m).as_posix() for m in found if (root / m).is_file()}
        if not matches:
            message = (
                f"include pattern {pattern!r} matches no file, which the CLI rejects (`*` never "
                "crosses a `/`: one pattern per folder depth); fix: correct or remove it"
            )
            sink.at(root_doc, ("include", index), message)
        included |= matches
    resources = {p.relative_to(root).as_posix() for p in (root / "resources").rglob("*.y*ml")}
    for rel in sorted(resources - included):
        parts = PurePosixPath(rel).parts
        pattern = "/".join([parts[0], *("*" for _ in parts[1:-1]), "*" + PurePosixPath(rel).suffix])
        message = (
            f"{rel} is not picked by any include pattern of databricks.yml ({', '.join(patterns)}),"
            f" so the CLI ignores it; fix: add `- {pattern}` to include in databricks.yml"
        )
        sink.add(rel, 0, "include", message)
    return sorted(included | resources)


@dataclass(frozen=True)
class Job:
    """A job as written in one file: its key, its YAML path there and its tasks."""

    key: str
    doc: Doc
    path: tuple[PathKey, ...]
    tasks: list[tuple[int, dict[str, Any]]]

    def at(self, index: int, *rest: PathKey) -> tuple[PathKey, ...]:
        return (*self.path, "tasks", index, *rest)

    def depends(self, key: str) -> list[str]:
        task = next((t for _, t in self.tasks if t.get("task_key") == key), {})
        deps = task.get("depends_on")
        return [str(d.get("task_key")) for d in deps or [] if isinstance(d, dict)]

    def reaches(self, start: str, goal: str) -> bool:
        """Does task ``start`` depend on task ``goal``, directly or through depends_on?"""
        seen, stack = {start}, [start]
        while stack:
            for dep in self.depends(stack.pop()):
                if dep == goal:
                    return True
                if dep not in seen:
                    seen.add(dep)
                    stack.append(dep)
        return False


def collect_jobs(docs: list[Doc], sink: Sink) -> dict[str, Job]:
    """Jobs under the top-level ``resources.jobs`` of every file; a key defined twice fails."""
    jobs: dict[str, Job] = {}
    for doc in docs:
        found = doc.get("resources", "jobs")
        for key, settings in (found if isinstance(found, dict) else {}).items():
            at = ("resources", "jobs", key)
            if key in jobs:
                message = f"job key {key!r} is also in {jobs[key].doc.rel}; fix: rename one"
                sink.at(doc, at, message)
            elif isinstance(settings, dict):
                tasks = settings.get("tasks")
                tasks = tasks if isinstance(tasks, list) else []
                listed = [(i, t) for i, t in enumerate(tasks) if isinstance(t, dict)]
                jobs[key] = Job(key, doc, at, listed)
    return jobs


@dataclass(frozen=True)
class DomainJob:
    """A domain's job, the task keys of its ingest and dbt tasks and the dbt command."""

    domain: str
    job: Job
    ingest: str
    dbt: str
    command: DbtCommand
    command_path: tuple[PathKey, ...]


def _ingest_task(job: Job, domain: str, sink: Sink) -> str | None:
    for index, task in job.tasks:
        wheel = task.get("python_wheel_task")
        wheel = wheel if isinstance(wheel, dict) else {}
        params = [str(p) for p in wheel.get("parameters") or []]
        if wheel.get("entry_point") != ENTRY_POINT or params[:1] != ["ingest"]:
            continue
        value = params[params.index("--domain") + 1 :][:1] if "--domain" in params else []
        if value != [domain]:
            message = (
                f"the ingest task passes --domain {value[0] if value else None!r} but the job "
                f"is domain {domain!r}'s; fix: `--domain`, `{domain}` in its parameters"
            )
            sink.at(job.doc, job.at(index, "python_wheel_task", "parameters"), message)
        return str(task.get("task_key"))
    message = (
        f"job {job.key!r} of domain {domain!r} has no ingest task; fix: add a task with "
        f"python_wheel_task (package_name: data_ops, entry_point: {ENTRY_POINT}, parameters: "
        f"[ingest, --target, ${{bundle.target}}, --catalog, ${{var.catalog}}, --domain, {domain},"
        " --project-dir, ${workspace.file_path}])"
    )
    sink.at(job.doc, (*job.path, "tasks"), message)
    return None


def check_domain_job(root: Path, domain: str, jobs: dict[str, Job], sink: Sink) -> DomainJob | None:
    """resources/jobs/<d>/<d>.job.yml defines the domain's job: ingest, then dbt build."""
    rel = f"resources/jobs/{domain}/{domain}.job.yml"
    own = [job for job in jobs.values() if job.doc.rel == rel]
    if len(own) != 1:
        found = f"defines {len(own)} jobs" if (root / rel).is_file() else "does not exist"
        message = (
            f"domain {domain!r} (models/{domain}/) needs its job in {rel}, which {found}; fix: "
            "create it with one job (docs/deploy.md, 'Adding a domain')"
        )
        sink.add(rel, 0, "resources.jobs", message)
        return None
    job = own[0]
    ingest = _ingest_task(job, domain, sink)
    dbt_tasks = [
        (str(task.get("task_key")), command, job.at(index, "dbt_task", "commands", number))
        for index, task in job.tasks
        for number, text in enumerate((task.get("dbt_task") or {}).get("commands") or [])
        if (command := parse_dbt_command(str(text))).subcommand == "build"
    ]
    if not dbt_tasks:
        message = (
            f"job {job.key!r} of domain {domain!r} has no dbt task running `dbt build`; fix: add "
            f"a dbt_task with commands: ['dbt build --target ${{bundle.target}} --select "
            f"path:models/{domain}'] and depends_on: [{{task_key: {ingest}}}]"
        )
        sink.at(job.doc, (*job.path, "tasks"), message)
    if ingest is None or not dbt_tasks:
        return None
    dbt, command, command_path = dbt_tasks[0]
    if ingest not in job.depends(dbt):
        message = (
            f"the dbt task {dbt!r} does not depend on the ingest task {ingest!r} (depends_on: "
            f"{job.depends(dbt)}), so it can build before the day's files are loaded; fix: add "
            f"`- task_key: {ingest}` to its depends_on"
        )
        sink.at(job.doc, (*command_path[:-3], "depends_on"), message)
    if command.target != "${bundle.target}":
        message = (
            f"the dbt command's --target is {command.target!r}; each bundle target must build "
            "its own dbt target; fix: `--target ${bundle.target}`"
        )
        sink.at(job.doc, command_path, message)
    if not command.selection:
        message = f"the dbt command builds every domain; fix: `--select path:models/{domain}`"
        sink.at(job.doc, command_path, message)
    return DomainJob(domain, job, ingest, dbt, command, command_path)


def check_selection(
    job: DomainJob, selected: Records, every: Records, target: str, sink: Sink
) -> None:
    """What ``dbt ls`` says the job's selection builds is exactly the domain's models."""
    domain = job.domain
    own = {str(n["unique_id"]) for n in every if domain_of(n["original_file_path"]) == domain}
    picked = {str(n["unique_id"]): n["original_file_path"] for n in selected}
    missing = sorted(own - set(picked))
    foreign = sorted(f"{uid} ({path})" for uid, path in picked.items() if uid not in own)
    listed = f"`dbt ls {' '.join(job.command.selection)}` (dbt target {target})"
    fix = f"fix: select `path:models/{domain}` only"
    if missing:
        message = f"{listed} misses model(s) of domain {domain!r}: {', '.join(missing)}; {fix}"
        sink.at(job.job.doc, job.command_path, message, target)
    if foreign:
        message = (
            f"{listed} selects model(s) outside domain {domain!r}: {', '.join(foreign)}; their "
            f"own domain's job builds them; {fix}"
        )
        sink.at(job.job.doc, job.command_path, message, target)


def _example_ref(every: Records, domain: str, upstream: str) -> str:
    by_id = {str(n["unique_id"]): domain_of(str(n["original_file_path"])) for n in every}
    for node in every:
        for parent in (node.get("depends_on") or {}).get("nodes", []):
            if by_id[node["unique_id"]] == domain and by_id.get(parent) == upstream:
                return f" ({node['unique_id'].split('.')[-1]} refs {parent.split('.')[-1]})"
    return ""


def check_order(
    deps: dict[str, set[str]], jobs: dict[str, DomainJob], every: Records, target: str, sink: Sink
) -> None:
    """A domain's dbt task waits for a run of each upstream domain's job (run_job_task)."""
    for domain, upstreams in sorted(deps.items()):
        for upstream in sorted(upstreams):
            own, up = jobs.get(domain), jobs.get(upstream)
            if own is None or up is None:
                continue
            reference = f"${{resources.jobs.{up.job.key}.id}}"
            runs = [
                str(task.get("task_key"))
                for _, task in own.job.tasks
                if (task.get("run_job_task") or {}).get("job_id") == reference
            ]
            why = (
                f"models/{domain} refs domain {upstream!r}{_example_ref(every, domain, upstream)}, "
                f"so the dbt task of job {own.job.key!r} must not start before job "
                f"{up.job.key!r} has built that day"
            )
            if not runs:
                message = (
                    f"{why}, and no task runs {reference}; fix: add the task\n"
                    f"        - task_key: {upstream}\n          run_job_task:\n"
                    f"            job_id: {reference}\n"
                    f"    and `- task_key: {upstream}` to the depends_on of task {own.dbt!r}"
                )
                sink.at(own.job.doc, (*own.job.path, "tasks"), message, target)
            elif not any(own.job.reaches(own.dbt, run) for run in runs):
                message = (
                    f"{why}, but task {own.dbt!r} does not depend on task {runs[0]!r} (which runs"
                    f" {reference}); fix: add `- task_key: {runs[0]}` to its depends_on"
                )
                sink.at(own.job.doc, (*own.command_path[:-3], "depends_on"), message, target)


def check_dashboards(root: Path, docs: list[Doc], sink: Sink) -> int:
    """Each dashboard's file_path exists and is a dashboard JSON with datasets."""
    count = 0
    for doc in docs:
        found = doc.get("resources", "dashboards")
        for key, settings in (found if isinstance(found, dict) else {}).items():
            count += 1
            file_path = str((settings or {}).get("file_path", ""))
            path = (root / doc.rel).parent / file_path
            try:
                datasets = json.loads(path.read_text(encoding="utf-8")).get("datasets")
                problem = "" if isinstance(datasets, list) and datasets else "has no datasets"
            except FileNotFoundError:
                problem = f"does not exist ({path})"
            except (OSError, ValueError, AttributeError) as err:
                problem = f"is not a dashboard JSON object ({err})"
            if problem:
                fix = f"`databricks bundle generate dashboard --resource {key} --force`"
                message = f"file_path {file_path!r} {problem}; fix: re-export it with {fix}"
                sink.at(doc, ("resources", "dashboards", key, "file_path"), message)
    return count


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def check_wheel(wheel: Path, jobs: dict[str, Job], sink: Sink) -> None:
    """Every python_wheel_task names the wheel's distribution and an entry point it declares."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(f"{info}/METADATA").decode()
        entry_points = f"{info}/entry_points.txt"
        text = archive.read(entry_points).decode() if entry_points in names else ""
    distribution = next((ln[6:] for ln in metadata.splitlines() if ln.startswith("Name: ")), "")
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    scripts = dict(parser["console_scripts"]) if parser.has_section("console_scripts") else {}
    for job in jobs.values():
        for index, task in job.tasks:
            wheel_task = task.get("python_wheel_task")
            if not isinstance(wheel_task, dict):
                continue
            package = str(wheel_task.get("package_name", ""))
            if _normal(package) != _normal(distribution):
                message = (
                    f"package_name {package!r} is not the wheel's distribution {distribution!r}"
                    f" ({wheel.name}); fix: package_name: {_normal(distribution)}"
                )
                sink.at(job.doc, job.at(index, "python_wheel_task", "package_name"), message)
            entry = str(wheel_task.get("entry_point", ""))
            module = scripts.get(entry, "").split(":")[0].strip().replace(".", "/")
            if not module or not {f"{module}.py", f"{module}/__init__.py"} & names:
                message = (
                    f"entry point {entry!r} is not in {wheel.name} (console_scripts: "
                    f"{', '.join(sorted(scripts)) or 'none'}); fix: declare it under "
                    "[project.scripts] in pyproject.toml or correct entry_point"
                )
                sink.at(job.doc, job.at(index, "python_wheel_task", "entry_point"), message)
