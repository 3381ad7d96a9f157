"""Delta Lake jars for the local engine: fetched once by ``make setup``, then used offline.

delta-spark's wheel carries no jars. ``fetch`` resolves the Maven coordinate that matches the
installed pyspark and delta-spark (the form delta's ``pip_utils.py`` uses) through Spark's own
Ivy resolver into a project-local cache, and records the resolved jar list in a manifest. Every
later session start reads the manifest and passes the files as ``spark.jars``: no resolver, no
network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from python_ingest.errors import EngineError

__all__ = ["delta_coordinate", "fetch", "jar_cache_dir", "load_jars"]

JAR_CACHE_ENV = "DATA_OPS_JAR_CACHE"
_MANIFEST = "manifest.json"


def _project_dir() -> Path:
    here = Path(__file__).resolve().parent.parent
    return here if (here / "pyproject.toml").exists() else Path.cwd()


def jar_cache_dir() -> Path:
    """``$DATA_OPS_JAR_CACHE`` or ``<project>/.cache/jars``."""
    env = os.environ.get(JAR_CACHE_ENV)
    return Path(env).resolve() if env else _project_dir() / ".cache" / "jars"


def delta_coordinate() -> str:
    """Maven coordinate of the Delta jar matching the installed pyspark and delta-spark."""
    spark_version = metadata.version("pyspark")
    delta_version = metadata.version("delta-spark")
    major_minor = ".".join(spark_version.split(".")[:2])
    return f"io.delta:delta-spark_{major_minor}_2.13:{delta_version}"


def load_jars() -> list[Path]:
    """Jar files recorded by ``fetch`` for the current coordinate; clear error when missing."""
    manifest = jar_cache_dir() / _MANIFEST
    coordinate = delta_coordinate()
    try:
        recorded = json.loads(manifest.read_text())
    except FileNotFoundError:
        recorded = {}
    jars = [Path(p) for p in recorded.get(coordinate, [])]
    if not jars or not all(p.is_file() for p in jars):
        raise EngineError(
            f"Delta jars for {coordinate!r} are not in the cache {manifest.parent}: "
            "run `make setup` (needs Maven Central once), then retry"
        )
    return jars


def fetch() -> list[Path]:
    """Resolve the Delta jars into the cache unless the manifest already has them."""
    try:
        return load_jars()
    except EngineError:
        pass
    cache = jar_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    coordinate = delta_coordinate()
    # A separate interpreter: the resolving JVM must not be the one a caller later reuses.
    script = (
        "import sys\n"
        "from pyspark.sql import SparkSession\n"
        "s = (SparkSession.builder.master('local[1]').appName('data-ops-jar-fetch')\n"
        "     .config('spark.jars.packages', sys.argv[1])\n"
        "     .config('spark.jars.ivy', sys.argv[2])\n"
        "     .config('spark.ui.enabled', 'false').getOrCreate())\n"
        "print('JARS=' + s.sparkContext.getConf().get('spark.jars'))\n"
        "s.stop()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, coordinate, str(cache / "ivy")],
        capture_output=True,
        text=True,
        check=False,
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("JARS=")), None)
    if proc.returncode != 0 or line is None:
        raise EngineError(
            f"could not fetch {coordinate!r} from Maven Central (exit {proc.returncode}): "
            f"{proc.stderr.strip()[-2000:]}\nCheck network access to repo1.maven.org, then rerun "
            "`make setup`"
        )
    jars = [Path(uri.removeprefix("file://")) for uri in line.removeprefix("JARS=").split(",")]
    manifest = cache / _MANIFEST
    try:
        recorded = json.loads(manifest.read_text())
    except FileNotFoundError:
        recorded = {}
    recorded[coordinate] = [str(p) for p in jars]
    manifest.write_text(json.dumps(recorded, indent=2) + "\n")
    return jars


if __name__ == "__main__":
    for jar in fetch():
        print(jar)
