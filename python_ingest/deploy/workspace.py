"""Workspace operations for engineers at a terminal, through databricks-sdk.

``upload`` copies local landing files to the Unity Catalog volume folder the ingest task reads:
the table's landing folder as its contract declares it (``discovery.landing_dir``). Landing
files are immutable deliveries that ingestion loads exactly once, so an existing remote file
is never replaced unless asked: the same size is a repeat upload (skipped), a different size
is a conflict.
``status`` reports the last runs of the bundle's jobs, found by their ``project`` and
``target`` tags, so nobody needs the job IDs a deployment assigned.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from python_ingest.discovery import LANDING_VOLUME, landing_dir
from python_ingest.errors import ConfigError

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

    from python_ingest.contract import TableContract
    from python_ingest.naming import Names

__all__ = [
    "FAILED_RESULTS",
    "JobRunStatus",
    "UploadedFile",
    "job_run_statuses",
    "upload_landing_files",
    "workspace_client",
]

PROJECT_TAG = "data-ops"
FAILED_RESULTS = frozenset({"FAILED", "TIMEDOUT", "INTERNAL_ERROR", "UPSTREAM_FAILED"})
UploadStatus = Literal["uploaded", "skipped", "conflict"]


def workspace_client(profile: str | None = None) -> WorkspaceClient:
    """A client from the SDK's unified auth: DATABRICKS_* env vars or a CLI profile."""
    from databricks.sdk import WorkspaceClient

    try:
        return WorkspaceClient(profile=profile) if profile else WorkspaceClient()
    except ValueError as err:
        raise ConfigError(
            f"cannot authenticate to a Databricks workspace: {err}. Set DATABRICKS_HOST and "
            "DATABRICKS_TOKEN (or DATABRICKS_CLIENT_ID/SECRET), or pass --profile <name> of "
            "~/.databrickscfg (`databricks auth login`)"
        ) from err


@dataclass(frozen=True)
class UploadedFile:
    """What happened to one local file."""

    local_path: Path
    remote: str
    size: int
    status: UploadStatus
    remote_size: int | None = None


def upload_landing_files(
    client: WorkspaceClient,
    names: Names,
    contract: TableContract,
    source: Path,
    *,
    overwrite: bool = False,
) -> list[UploadedFile]:
    """Upload every file under ``source`` to the table's landing folder, keeping subfolders."""
    from databricks.sdk.errors import NotFound

    volume = f"{names.catalog}.{'.'.join(LANDING_VOLUME)}"
    try:
        client.volumes.read(volume)
    except NotFound as err:
        raise ConfigError(
            f"volume {volume} does not exist: deploy the bundle to this target (sit, prod) or "
            "ask a workspace admin to create it for dev (docs/deploy.md, 'Prerequisites'), then "
            "retry"
        ) from err
    if not source.is_dir():
        raise ConfigError(f"landing folder {str(source)!r} does not exist; pass --source <dir>")
    files = sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith("."))
    remote_root = landing_dir(names, contract).as_posix()
    results: list[UploadedFile] = []
    created: set[str] = set()
    for path in files:
        relative = path.relative_to(source).as_posix()
        remote = f"{remote_root}/{relative}"
        size = path.stat().st_size
        try:
            existing = client.files.get_metadata(remote).content_length
        except NotFound:
            existing = None
        if existing is not None and not overwrite:
            status: UploadStatus = "skipped" if existing == size else "conflict"
            results.append(UploadedFile(path, remote, size, status, existing))
            continue
        parent = remote.rsplit("/", 1)[0]
        if parent not in created:
            client.files.create_directory(parent)
            created.add(parent)
        with path.open("rb") as handle:
            client.files.upload(remote, handle, overwrite=overwrite)
        results.append(UploadedFile(path, remote, size, "uploaded", existing))
    return results


@dataclass(frozen=True)
class JobRunStatus:
    """The latest run(s) of one bundle job; ``run_id`` is None for a job that never ran."""

    job_id: int
    job_name: str
    run_id: int | None
    state: str
    result: str | None
    started_at: datetime | None
    duration_seconds: float | None
    url: str | None

    @property
    def failed(self) -> bool:
        return self.result in FAILED_RESULTS


def job_run_statuses(
    client: WorkspaceClient, target: str, *, runs_per_job: int = 1
) -> list[JobRunStatus]:
    """Latest runs of the jobs tagged ``project: data-ops`` and ``target: <target>``."""
    jobs = [
        job
        for job in client.jobs.list()
        if job.settings is not None
        and (job.settings.tags or {}).get("project") == PROJECT_TAG
        and (job.settings.tags or {}).get("target") == target
    ]
    if not jobs:
        raise ConfigError(
            f"no jobs tagged project={PROJECT_TAG}, target={target} in this workspace; deploy "
            f"with `databricks bundle deploy -t {target}` or check the workspace you are using"
        )
    statuses: list[JobRunStatus] = []
    for job in sorted(jobs, key=lambda j: (j.settings.name or "") if j.settings else ""):
        name = (job.settings.name if job.settings else None) or str(job.job_id)
        job_id = int(job.job_id or 0)
        runs = list(
            itertools.islice(client.jobs.list_runs(job_id=job_id, limit=runs_per_job), runs_per_job)
        )
        if not runs:
            statuses.append(JobRunStatus(job_id, name, None, "NEVER_RUN", None, None, None, None))
        for run in runs:
            state = run.state
            life_cycle = state.life_cycle_state.value if state and state.life_cycle_state else ""
            result = state.result_state.value if state and state.result_state else None
            started = datetime.fromtimestamp(run.start_time / 1000, UTC) if run.start_time else None
            duration_ms = run.run_duration or run.execution_duration
            statuses.append(
                JobRunStatus(
                    job_id=job_id,
                    job_name=name,
                    run_id=run.run_id,
                    state=life_cycle or "UNKNOWN",
                    result=result,
                    started_at=started,
                    duration_seconds=duration_ms / 1000 if duration_ms else None,
                    url=run.run_page_url,
                )
            )
    return statuses
