"""Deployment commands: ``record-wheel``, ``upload``, ``status``.

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

from python_ingest.cli.common import EXIT_DATA, EXIT_OK, Subparsers
from python_ingest.config import TARGETS, load_run_config
from python_ingest.contract import TableContract, load_contracts
from python_ingest.discovery import landing_dir
from python_ingest.errors import ConfigError
from python_ingest.naming import DATABRICKS_CATALOGS, LOCAL_CATALOG, Names

__all__ = ["cmd_record_wheel", "cmd_status", "cmd_upload", "register"]

DISTRIBUTION = "data-ops"


def _add_target(
    parser: argparse.ArgumentParser,
    *,
    default: str | None,
    catalog: bool = True,
    targets: tuple[str, ...] = TARGETS,
) -> None:
    parser.add_argument(
        "--target",
        choices=targets,
        default=default,
        required=default is None,
        help="environment: " + ", ".join(targets) + (f" (default: {default})" if default else ""),
    )
    if not catalog:
        return
    parser.add_argument(
        "--catalog",
        default=None,
        help="catalog to use instead of the target's own (defaults to the target name)",
    )


def _names(args: argparse.Namespace) -> Names:
    return Names.for_target(str(args.target), args.catalog)


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
    from python_ingest.deploy.wheels import (
        WheelRecord,
        inspect_wheel,
        record_wheel,
        resolve_wheel_path,
    )
    from python_ingest.spark import get_spark

    names = _names(args)
    path = resolve_wheel_path(str(args.wheel), prefer_version=_installed_version())
    info = inspect_wheel(path)
    record = WheelRecord.of(
        info,
        target=str(args.target),
        git_commit=args.git_commit or _git_commit(),
        deployed_by=args.deployed_by or getpass.getuser(),
    )
    inserted = record_wheel(get_spark(names), names, record)
    verb = "recorded" if inserted else "already recorded"
    print(
        f"{verb}: {info.name} {info.version} sha256 {info.sha256[:12]} "
        f"for target {record.target} in {names.table('gold', 'wheels')}"
    )
    return EXIT_OK


def _upload_contract(args: argparse.Namespace) -> TableContract:
    """The bronze contract whose landing folder an upload fills: the domain's only table, or
    the one ``--table`` names."""
    project = load_run_config(project_dir=args.project_dir).project_dir
    contracts = load_contracts(project, domain=args.domain, table=args.table)
    if not contracts:
        raise ConfigError(
            f"domain {args.domain!r} declares no bronze table with an ingestion block in "
            f"{project / 'models' / args.domain}"
        )
    if len(contracts) > 1:
        tables = ", ".join(c.table for c in contracts)
        raise ConfigError(
            f"domain {args.domain!r} has {len(contracts)} bronze tables ({tables}), each with "
            "its own landing folder; pass --table <name>"
        )
    return contracts[0]


def cmd_upload(args: argparse.Namespace) -> int:
    """Upload landing files to the table's landing folder in /Volumes/<catalog>/bronze/external/."""
    from python_ingest.deploy.workspace import upload_landing_files, workspace_client

    names = _names(args)
    contract = _upload_contract(args)
    # By default, what `make demo` delivered to the same table on the local target.
    source = (
        Path(args.source) if args.source else landing_dir(Names.for_target(LOCAL_CATALOG), contract)
    )
    client = workspace_client(args.profile)
    results = upload_landing_files(client, names, contract, source, overwrite=args.overwrite)
    for item in results:
        print(f"{item.status:<9} {item.local_path} -> {item.remote} ({item.size} bytes)")
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
    from python_ingest.deploy.workspace import job_run_statuses, workspace_client

    client = workspace_client(args.profile)
    statuses = job_run_statuses(client, str(args.target), runs_per_job=args.runs)
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


def register(subparsers: Subparsers) -> None:
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
        description="Upload landing files to the table's landing folder (its contract's "
        "ingestion.landing_folder) in /Volumes/<catalog>/bronze/external/, keeping subfolders. "
        "Existing remote files are never replaced unless --overwrite: the same size is skipped,"
        " a different size is a conflict (exit 1).",
    )
    # A workspace command: the local target has no workspace (its landing files are read in
    # place).
    _add_target(upload, default=None, targets=DATABRICKS_CATALOGS)
    upload.add_argument("--domain", required=True, help="domain whose files to upload")
    upload.add_argument(
        "--table", default=None, help="bronze table (needed when the domain has several)"
    )
    upload.add_argument(
        "--project-dir",
        type=Path,
        default=Path(),
        dest="project_dir",
        help="data-ops project root holding the contracts (default: .)",
    )
    upload.add_argument(
        "--source",
        default=None,
        help="local folder (default: the same table's landing folder on the local target)",
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
    _add_target(status, default=None, catalog=False, targets=DATABRICKS_CATALOGS)
    status.add_argument(
        "--runs", type=int, default=1, help="runs per job, newest first (default: 1)"
    )
    status.add_argument("--profile", default=None, help="Databricks CLI profile to authenticate")
    status.set_defaults(func=cmd_status)
