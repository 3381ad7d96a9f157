"""Exactly once across real crashes: SIGKILL during the data write and between the data commit
and the ledger commit, then a clean re-run that completes the interrupted file and loads
nothing twice. Runs ``data-ops ingest`` in child processes on their own catalog (the embedded
metastore admits one process) and reads their Delta tables by path.

Each crash is checked to have landed where it says: during the write, data files exist that no
commit references and no data commit was made; between the commits, the data commit exists and
the ledger has no row for the file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from delta.tables import DeltaTable

from python_ingest.faults import CRASH_ENV
from python_ingest.naming import Names
from tests.ingest.base import CUSTOMER_HEADER, PROJECT
from tests.support import SparkTestCase

CATALOG = "crashtest"
# Rows of the first file: enough that its write takes a while, so the kill lands inside it.
BIG = 100_000


def run_ingest(
    crash_at: str | None = None, catalog: str = CATALOG
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    if crash_at:
        env[CRASH_ENV] = crash_at
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "python_ingest.cli",
            "ingest",
            "--catalog",
            catalog,
            "--project-dir",
            str(PROJECT),
            "--table",
            "customers_raw",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def rows(count: int, prefix: str) -> str:
    return CUSTOMER_HEADER + "".join(
        f"{prefix}{i},Name {i},1980-01-01,{i}.00,2025-01-01 00:00:00\n" for i in range(count)
    )


class CrashRecoveryTest(SparkTestCase):
    warehouse: Path
    runs: list[tuple[str, subprocess.CompletedProcess[str], dict[str, Any]]]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        names = Names.for_target("local", CATALOG)
        cls.warehouse = names.catalog_dir / "warehouse"
        landing = names.volume_dir("bronze", "external") / "customer_files"
        landing.mkdir(parents=True, exist_ok=True)
        (landing / "a.csv").write_text(rows(BIG, "A"))
        stamp = time.time() - 60
        os.utime(landing / "a.csv", (stamp, stamp))
        (landing / "b.csv").write_text(rows(500, "B"))
        cls.runs = []
        for crash_at in ("during_data_write", "before_ledger_commit", None):
            proc = run_ingest(crash_at)
            cls.runs.append((str(crash_at), proc, cls.snapshot()))

    @classmethod
    def delta(cls, table: str) -> Any:
        return cls.spark.read.format("delta").load(str(cls.warehouse / "bronze.db" / table))

    @classmethod
    def snapshot(cls) -> dict[str, Any]:
        state: dict[str, Any] = {"bronze": 0, "ledger": [], "version": -1, "uncommitted": 0}
        bronze = cls.warehouse / "bronze.db" / "customers_raw"
        if (bronze / "_delta_log").is_dir():
            committed = {
                action["add"]["path"]
                for commit in (bronze / "_delta_log").glob("*.json")
                for action in map(json.loads, commit.read_text().splitlines())
                if "add" in action
            }
            state["uncommitted"] = sum(
                1 for f in bronze.glob("*.parquet") if f.name not in committed
            )
            state["bronze"] = cls.delta("customers_raw").count()
            latest = DeltaTable.forPath(cls.spark, str(bronze)).history(1).first()
            assert latest is not None
            state["version"] = latest["version"]
        if (cls.warehouse / "bronze.db" / "ingest_ledger" / "_delta_log").is_dir():
            state["ledger"] = sorted(
                (Path(r.file_path).name, r.status, r.rows_loaded)
                for r in cls.delta("ingest_ledger").collect()
            )
        return state

    def test_crash_during_the_data_write_leaves_nothing_committed(self) -> None:
        _, proc, state = self.runs[0]
        self.assertEqual(proc.returncode, -signal.SIGKILL, proc.stderr[-3000:])
        # The kill landed inside the write: its data files exist, no commit references them,
        # and the table has only its creation commit.
        self.assertGreater(state["uncommitted"], 0)
        self.assertEqual((state["version"], state["bronze"], state["ledger"]), (0, 0, []))

    def test_crash_after_the_data_commit_keeps_the_rows_without_a_ledger_entry(self) -> None:
        _, proc, state = self.runs[1]
        self.assertEqual(proc.returncode, -signal.SIGKILL, proc.stderr[-3000:])
        # The kill landed between the commits: the data commit exists, the ledger row does not.
        self.assertEqual((state["version"], state["bronze"], state["ledger"]), (1, BIG, []))

    def test_rerun_after_that_crash_does_not_write_the_file_again(self) -> None:
        _, proc, state = self.runs[2]
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        # a.csv: Delta skipped the repeated idempotent write and the ledger entry was completed;
        # b.csv was written once: one new bronze commit.
        self.assertEqual(state["bronze"], BIG + 500)
        self.assertEqual(state["ledger"], [("a.csv", "loaded", BIG), ("b.csv", "loaded", 500)])
        self.assertEqual(state["version"], self.runs[1][2]["version"] + 1)
        self.assertIn("already committed by an earlier, interrupted run", proc.stdout)
        ids = self.delta("customers_raw").groupBy("customer_id").count().where("count > 1")
        self.assertEqual(ids.count(), 0)


class ConcurrentRunTest(SparkTestCase):
    def test_second_run_on_a_busy_catalog_fails_at_once(self) -> None:
        # This test process holds the `local` catalog (its session); a second run must not wait
        # on the metastore or load anything.
        landing = Names.for_target("local").volume_dir("bronze", "external") / "customer_files"
        landing.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        proc = run_ingest(catalog="local")
        self.assertEqual(proc.returncode, 3, proc.stderr)
        self.assertIn("is in use by another process", proc.stderr)
        self.assertLess(time.monotonic() - started, 60)
