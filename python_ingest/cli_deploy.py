"""Deployment commands of the ``data-ops`` CLI: ``record-wheel``, ``upload``, ``status``.

``record-wheel`` is the entry point the bundle's ``record_wheel`` job runs after a deploy, and
the same command records a local build against the local catalog. ``upload`` and ``status``
reach a workspace through databricks-sdk with the SDK's usual authentication (DATABRICKS_*
variables or a Databricks CLI profile). Handlers return 0 (ok) or 1 (data errors); invalid usage
or configuration raises ConfigError, which the CLI entry point turns into exit code 2.
"""

from __future__ import annotations

import argparse
import getpass
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from python_ingest.config import TARGETS
from python_ingest.errors import ConfigError
from python_ingest.naming import LOCAL_CATALOG, Names

__all__ = ["EXIT_DATA", "EXIT_OK", "cmd_record_wheel", "cmd_status", "cmd_upload", "register"]

EXIT_OK, EXIT_DATA = 0, 1
DISTRIBUTION = "data-ops"


def _add_target(
    parser: argparse.ArgumentParser, *, default: str | None, catalog: bool = True
) -> None:
    parser.add_argument(
        "--target",
        choices=TARGETS,
        default=default,
        required=default is None,
        help="environment: local, dev, sit or prod" + (f" (default: {default})" if default else ""),
    )
    if not catalog:
        return
    parser.add_argument(
        "--catalog",
        default=None,
        help="catalog to use instead of the target's own (defaults to the target name)",
    )


def _catalog(args: argparse.Namespace) -> str:
    catalog = str(args.catalog or args.target)
    Names.for_catalog(catalog)  # validates the identifier with a ConfigError
    return catalog


def _databricks_target(args: argparse.Namespace, command: str) -> str:
    if args.target == LOCAL_CATALOG:
        raise ConfigError(
            f"`data-ops {command}` works on a Databricks workspace; pass --target dev, sit or "
            "prod (the local target reads the landing files in place)"
        )
    return str(args.target)


def _git_commit() -> str | None:
    """The checkout's HEAD, when recording a local build from inside the repository."""
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    commit = proc.stdout.strip()
    return commit if proc.returncode == 0 and commit else None


def _installed_version() -> str | None:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None


def cmd_record_wheel(args: argparse.Namespace) -> int:
    """Record the wheel in <catalog>.gold.wheels; a second run for the same build is a no-op."""
    from python_ingest.spark import get_spark
    from python_ingest.wheels import WheelRecord, inspect_wheel, record_wheel, resolve_wheel_path

    catalog = _catalog(args)
    path = resolve_wheel_path(str(args.wheel), prefer_version=_installed_version())
    info = inspect_wheel(path)
    record = WheelRecord.of(
        info,
        target=str(args.target),
        git_commit=args.git_commit or _git_commit(),
        deployed_by=args.deployed_by or getpass.getuser(),
    )
    names = Names.for_catalog(catalog)
    inserted = record_wheel(get_spark(catalog), names, record)
    verb = "recorded" if inserted else "already recorded"
    print(
        f"{verb}: {info.name} {info.version} sha256 {info.sha256[:12]} "
        f"for target {record.target} in {names.table('gold', 'wheels')}"
    )
    return EXIT_OK


def _default_source(domain: str) -> Path:
    """The local target's landing folder of ``domain`` (where `make demo` writes files)."""
    names = Names.for_catalog(LOCAL_CATALOG, local=True)
    return names.volume_dir("bronze", "external") / f"{domain}_files"


def cmd_upload(args: argparse.Namespace) -> int:
    """Upload landing files to /Volumes/<catalog>/bronze/external/<domain>_files/."""
    from python_ingest.workspace import upload_landing_files, workspace_client

    _databricks_target(args, "upload")
    catalog = _catalog(args)
    Names.for_catalog(catalog).table("bronze", args.domain)  # validates the domain name
    source = Path(args.source) if args.source else _default_source(args.domain)
    client = workspace_client(args.profile)
    results = upload_landing_files(client, catalog, args.domain, source, overwrite=args.overwrite)
    for item in results:
        print(f"{item.status:<9} {item.local} -> {item.remote} ({item.size} bytes)")
    conflicts = [r for r in results if r.status == "conflict"]
    uploaded = sum(r.status == "uploaded" for r in results)
    skipped = sum(r.status == "skipped" for r in results)
    print(
        f"data-ops upload: {uploaded} uploaded, {skipped} already there, "
        f"{len(conflicts)} conflict(s), from {source}",
        file=sys.stderr,
    )
    for item in conflicts:
        print(
            f"data-ops upload: {item.remote} exists with {item.remote_size} bytes, the local file "
            f"has {item.size}: landing files are immutable and load once, so deliver the change "
            "under a new file name (or pass --overwrite if the remote copy was never ingested)",
            file=sys.stderr,
        )
    if not results:
        print(f"data-ops upload: no files under {source}", file=sys.stderr)
    return EXIT_DATA if conflicts else EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    """Latest runs of the bundle's jobs in the target; exit 1 when a latest run failed."""
    from python_ingest.workspace import job_run_statuses, workspace_client

    target = _databricks_target(args, "status")
    client = workspace_client(args.profile)
    statuses = job_run_statuses(client, target, runs_per_job=args.runs)
    for status in statuses:
        started = f"{status.started_at:%Y-%m-%d %H:%M}Z" if status.started_at else "-"
        duration = f"{status.duration_seconds:.0f}s" if status.duration_seconds else "-"
        print(
            f"{status.job_name:<36} {status.run_id or '-'!s:<18} {started:<18} "
            f"{status.state:<12} {status.result or '-':<10} {duration:>8}  {status.url or ''}"
        )
    latest: dict[int, bool] = {}
    for status in statuses:
        latest.setdefault(status.job_id, status.failed)
    return EXIT_DATA if any(latest.values()) else EXIT_OK


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add record-wheel, upload and status to the ``data-ops`` command line."""
    record = subparsers.add_parser(
        "record-wheel",
        help="record a wheel build in <catalog>.gold.wheels (idempotent)",
        description="Record a wheel (name, version, sha256, build time, git commit, target, "
        "deployer) in <catalog>.gold.wheels, once per (sha256, target). The bundle's "
        "record_wheel job runs this after each deploy; locally: "
        "data-ops record-wheel --target local --wheel dist/data_ops-0.1.0-py3-none-any.whl",
    )
    _add_target(record, default="local")
    record.add_argument(
        "--wheel", required=True, help="the .whl file, or a glob matching the deployed wheel"
    )
    record.add_argument(
        "--git-commit", dest="git_commit", default=None, help="commit built (default: git HEAD)"
    )
    record.add_argument(
        "--deployed-by",
        dest="deployed_by",
        default=None,
        help="who deployed it (default: the current user)",
    )
    record.set_defaults(func=cmd_record_wheel)

    upload = subparsers.add_parser(
        "upload",
        help="upload local landing files to the target's UC volume",
        description="Upload landing files to /Volumes/<catalog>/bronze/external/<domain>_files/,"
        " keeping subfolders. Existing remote files are never replaced unless --overwrite: the "
        "same size is skipped, a different size is a conflict (exit 1).",
    )
    _add_target(upload, default=None)
    upload.add_argument("--domain", required=True, help="domain whose files to upload")
    upload.add_argument(
        "--source",
        default=None,
        help="local folder (default: the local target's <domain>_files landing folder)",
    )
    upload.add_argument("--overwrite", action="store_true", help="replace existing remote files")
    upload.add_argument("--profile", default=None, help="Databricks CLI profile to authenticate")
    upload.set_defaults(func=cmd_upload)

    status = subparsers.add_parser(
        "status",
        help="show the last runs of the bundle's jobs in a target",
        description="List the latest runs of the jobs tagged project=data-ops and target=<target>"
        " (the bundle's jobs); exit 1 when a job's latest run failed.",
    )
    _add_target(status, default=None, catalog=False)
    status.add_argument(
        "--runs", type=int, default=1, help="runs per job, newest first (default: 1)"
    )
    status.add_argument("--profile", default=None, help="Databricks CLI profile to authenticate")
    status.set_defaults(func=cmd_status)
