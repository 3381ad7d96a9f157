"""The one place that builds a SparkSession for a catalog.

Locally: ``local[*]`` with Delta, an embedded Derby metastore and warehouse per catalog under
the lakehouse root, ANSI SQL on (as Databricks SQL), UI off, few shuffle partitions, and a
catalog lock so two processes never open the same metastore. On Databricks: the active session,
untouched.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import sys
import threading
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING

from python_ingest.errors import ConcurrentRunError, EngineError
from python_ingest.jars import load_jars
from python_ingest.naming import Names

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["LOCK_WAIT_ENV", "get_spark", "local_session", "local_session_conf"]

LOCK_WAIT_ENV = "DATA_OPS_LOCK_WAIT_SECONDS"
_LOG_CONFIG = Path(__file__).with_name("log4j2.properties")
_held_locks: dict[Path, IO[str]] = {}
# dbt's worker threads may ask for the session at the same moment before one exists.
_session_lock = threading.Lock()


def local_session_conf(names: Names, jars: list[Path]) -> dict[str, str]:
    """Spark configuration of the embedded engine for one catalog."""
    root = names.catalog_dir
    return {
        "spark.master": os.environ.get("DATA_OPS_SPARK_MASTER", "local[*]"),
        "spark.app.name": f"data-ops-{names.catalog}",
        "spark.jars": ",".join(str(j) for j in jars),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": str(root / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={root / 'metastore_db'};create=true"
        ),
        "spark.hadoop.datanucleus.schema.autoCreateAll": "true",
        "spark.hadoop.hive.metastore.schema.verification": "false",
        "spark.driver.extraJavaOptions": (
            f"-Dderby.system.home={root} -Dlog4j2.configurationFile={_LOG_CONFIG.as_uri()}"
        ),
        "spark.driver.memory": os.environ.get("DATA_OPS_DRIVER_MEMORY", "4g"),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "4",
        "spark.default.parallelism": "4",
        "spark.sql.ansi.enabled": "true",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.sources.default": "delta",
        "spark.sql.legacy.createHiveTableByDefault": "false",
        # A local table's log state fits one task: with 1 instead of 2, computing a table's
        # state (for a read, or an idempotent append's check) took 0.52-0.59 s, not 0.56-0.71.
        "spark.databricks.delta.snapshotPartitions": "1",
        "spark.databricks.delta.properties.defaults.enableChangeDataFeed": "false",
        # PySpark records the Python call site of every DataFrame/Column call in the JVM, for
        # error messages: four more py4j round trips per call. Planning a JSON file's read
        # made 2,320 round trips with it and 650 without (0.23-0.35 s against 0.17 s).
        "spark.python.sql.dataFrameDebugging.enabled": "false",
    }


def _lock_catalog(names: Names) -> None:
    """Hold an exclusive lock on the catalog for the life of this process."""
    lock_path = names.catalog_dir / ".session.lock"
    if lock_path in _held_locks:
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_path.open("a+")
    wait = float(os.environ.get(LOCK_WAIT_ENV, "0"))
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.seek(0)
                holder = handle.read().strip() or "unknown"
                handle.close()
                raise ConcurrentRunError(
                    f"catalog {names.catalog!r} at {names.catalog_dir} is in use by another "
                    f"process ({holder}); its embedded metastore admits one process at a time. "
                    f"Wait for it to finish, or set {LOCK_WAIT_ENV}=<seconds> to wait for it"
                ) from None
            time.sleep(0.5)
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}\n")
    handle.flush()
    _held_locks[lock_path] = handle


def _release_locks() -> None:
    for handle in _held_locks.values():
        with contextlib.suppress(OSError):
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
    _held_locks.clear()


atexit.register(_release_locks)


def _existing_session() -> SparkSession | None:
    """The process's session, also from threads other than the one that built it (dbt threads)."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is None and SparkContext._active_spark_context is not None:
        active = SparkSession.builder.getOrCreate()
    return active


def get_spark(names: Names) -> SparkSession:
    """SparkSession for a run's catalog: the embedded engine for the local target, the
    runtime's own session on Databricks."""
    from pyspark.sql import SparkSession

    if not names.local:
        return SparkSession.builder.getOrCreate()
    with _session_lock:
        return _local_session(names)


def local_session(catalog: str) -> SparkSession:
    """The embedded engine's session for a local ``catalog`` (the dbt ``sparklocal`` adapter's
    session factory)."""
    return get_spark(Names.for_target("local", catalog))


def _local_session(names: Names) -> SparkSession:
    from pyspark.sql import SparkSession

    catalog = names.catalog
    active = _existing_session()
    if active is not None:
        current = str(active.conf.get("spark.sql.warehouse.dir", "")).removeprefix("file:")
        if Path(current) != names.catalog_dir / "warehouse":
            raise EngineError(
                f"a Spark session for another catalog is open in this process ({current!r}); "
                f"one process serves one local catalog, so start a new process for {catalog!r}"
            )
        return active
    _lock_catalog(names)
    jars = load_jars()
    # Bind the driver to loopback: the engine is local-only, and no interface lookup is needed.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Python workers (UDFs) run this interpreter: the project's packages, the same version.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder
    for key, value in local_session_conf(names, jars).items():
        builder = builder.config(key, value)
    try:
        spark = builder.enableHiveSupport().getOrCreate()
    except Exception as err:
        raise EngineError(
            f"the local Spark engine did not start for catalog {catalog!r}: {err}. "
            "Check that Java 17 is installed (`java -version`) and that `make setup` ran"
        ) from err
    spark.sparkContext.setLogLevel("ERROR")
    return spark
