"""Wheel tracking: which build of the data-ops wheel went to which target, in ``gold.wheels``.

A job run on Databricks executes whatever wheel the last ``bundle deploy`` uploaded. Recording
each deployed wheel (name, version, sha256, build time, git commit, target, deployer, time) in
``<catalog>.gold.wheels`` lets anyone trace a run back to the exact build and commit. The record
is a Delta MERGE keyed on (sha256, target) that only inserts, so retries, re-runs and repeated
deploys of the same build leave exactly one row, and the first recording of a build is kept.
The same code runs locally (``data-ops record-wheel --target local``) against ``gold.wheels`` of
the local catalog.
"""

from __future__ import annotations

import email.parser
import glob
import hashlib
import uuid
import zipfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from python_ingest.errors import ConfigError
from python_ingest.naming import Names

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from pyspark.sql.types import StructType

__all__ = [
    "WHEELS_TABLE",
    "WheelInfo",
    "WheelRecord",
    "ensure_wheels_table",
    "inspect_wheel",
    "record_wheel",
    "resolve_wheel_path",
]

WHEELS_TABLE = ("gold", "wheels")
_COLUMNS = (
    ("name", "STRING NOT NULL", "Distribution name from the wheel METADATA."),
    ("version", "STRING NOT NULL", "Version from the wheel METADATA (per-deploy on Databricks)."),
    ("sha256", "STRING NOT NULL", "SHA-256 of the wheel file: the identity of the build."),
    ("build_time", "TIMESTAMP", "Modification time of the wheel file (UTC) when recorded."),
    ("git_commit", "STRING", "Commit the wheel was built from; null when unknown."),
    ("target", "STRING NOT NULL", "Deployment target: local, dev, sit or prod."),
    ("deployed_by", "STRING", "User or service principal that deployed the wheel."),
    ("deployed_at", "TIMESTAMP NOT NULL", "When this build was first recorded for the target."),
)


@dataclass(frozen=True)
class WheelInfo:
    """What the wheel file itself tells: its identity and when it was written."""

    path: Path
    name: str
    version: str
    sha256: str
    build_time: datetime


@dataclass(frozen=True)
class WheelRecord:
    """One row of ``gold.wheels``."""

    name: str
    version: str
    sha256: str
    build_time: datetime | None
    git_commit: str | None
    target: str
    deployed_by: str | None
    deployed_at: datetime

    @classmethod
    def of(
        cls,
        info: WheelInfo,
        *,
        target: str,
        git_commit: str | None,
        deployed_by: str | None,
        deployed_at: datetime | None = None,
    ) -> WheelRecord:
        return cls(
            name=info.name,
            version=info.version,
            sha256=info.sha256,
            build_time=info.build_time,
            git_commit=git_commit or None,
            target=target,
            deployed_by=deployed_by or None,
            deployed_at=deployed_at or datetime.now(UTC),
        )


def inspect_wheel(path: Path) -> WheelInfo:
    """Name and version from METADATA, sha256 of the file, its mtime as the build time.

    hatchling writes fixed timestamps into the archive (reproducible builds), so the file's own
    modification time is the only build time a wheel carries: the ``uv build`` locally, the
    upload by ``bundle deploy`` (which builds right before uploading) on Databricks.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            metadata_name = next(
                (n for n in archive.namelist() if n.endswith(".dist-info/METADATA")), None
            )
            if metadata_name is None:
                raise ConfigError(
                    f"{str(path)!r} is not a wheel: it has no *.dist-info/METADATA; pass the "
                    "file `uv build --wheel` wrote to dist/"
                )
            metadata = email.parser.BytesHeaderParser().parsebytes(archive.read(metadata_name))
    except (zipfile.BadZipFile, FileNotFoundError, IsADirectoryError) as err:
        raise ConfigError(
            f"cannot read wheel {str(path)!r}: {err}; pass the .whl file from dist/"
        ) from err
    name, version = metadata.get("Name"), metadata.get("Version")
    if not name or not version:
        raise ConfigError(f"wheel {str(path)!r} has no Name/Version in its METADATA")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    build_time = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return WheelInfo(path, str(name), str(version), digest.hexdigest(), build_time)


def resolve_wheel_path(spec: str, *, prefer_version: str | None = None) -> Path:
    """The one wheel ``spec`` (a path or a glob) names.

    On Databricks the bundle uploads the wheel to ``<artifact_path>/.internal/`` under a
    per-deploy version, so the job passes a glob; when it matches several files, the one whose
    version is ``prefer_version`` (the installed one, i.e. the wheel this task runs) wins.
    """
    candidates = [spec]
    if spec.startswith(("/Users/", "/Shared/")):
        candidates.append("/Workspace" + spec)
    matches: list[Path] = []
    for candidate in candidates:
        path = Path(candidate)
        if glob.has_magic(str(path.parent)):
            raise ConfigError(f"wheel glob {spec!r} may use wildcards in the file name only")
        if glob.has_magic(path.name):
            matches = sorted(p for p in path.parent.glob(path.name) if p.suffix == ".whl")
        elif path.is_file():
            matches = [path]
        if matches:
            break
    if not matches:
        raise ConfigError(
            f"no wheel at {spec!r}; pass the .whl file (e.g. dist/data_ops-0.1.0-py3-none-any.whl"
            " after `uv build --wheel`) or a glob matching the deployed wheel"
        )
    if len(matches) == 1:
        return matches[0]
    if prefer_version:
        preferred = [m for m in matches if inspect_wheel(m).version == prefer_version]
        if len(preferred) == 1:
            return preferred[0]
    names = ", ".join(m.name for m in matches)
    raise ConfigError(f"{spec!r} matches {len(matches)} wheels ({names}); pass the exact file")


def _schema() -> StructType:
    from pyspark.sql.types import StringType, StructField, StructType, TimestampType

    types = {"STRING": StringType(), "TIMESTAMP": TimestampType()}
    return StructType(
        [
            StructField(name, types[ddl.split()[0]], nullable="NOT NULL" not in ddl)
            for name, ddl, _ in _COLUMNS
        ]
    )


def ensure_wheels_table(spark: SparkSession, names: Names) -> str:
    """Create ``gold.wheels`` (and its schema) if missing; returns its name. On Databricks the
    schema exists already (the bundle or the workspace admins create it), so the ``if not
    exists`` is a no-op there."""
    table = names.table(*WHEELS_TABLE)
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS {names.schema(WHEELS_TABLE[0])}")
    columns = ",\n  ".join(f"{name} {ddl} COMMENT '{comment}'" for name, ddl, comment in _COLUMNS)
    spark.sql(
        f"CREATE TABLE IF NOT EXISTS {table} (\n  {columns}\n) USING DELTA "
        "COMMENT 'Deployed data-ops wheels, one row per (sha256, target).'"
    )
    return table


def record_wheel(spark: SparkSession, names: Names, record: WheelRecord) -> bool:
    """Insert ``record`` unless (sha256, target) is already there; True when inserted."""
    table = ensure_wheels_table(spark, names)
    source = spark.createDataFrame([tuple(asdict(record).values())], schema=_schema())
    view = f"data_ops_wheel_{uuid.uuid4().hex}"
    source.createOrReplaceTempView(view)
    try:
        metrics = spark.sql(
            f"MERGE INTO {table} AS target_rows USING {view} AS new_rows "
            "ON target_rows.sha256 = new_rows.sha256 AND target_rows.target = new_rows.target "
            "WHEN NOT MATCHED THEN INSERT *"
        ).first()
    finally:
        spark.catalog.dropTempView(view)
    if metrics is not None and "num_inserted_rows" in metrics.asDict():
        return int(metrics["num_inserted_rows"]) > 0
    return True
