"""Structured logs in Delta (seed fields, batched commits) and the CLI's contract."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import subprocess
import sys

from delta.tables import DeltaTable

from python_ingest.cli import build_parser, main
from tests.ingest.base import CUSTOMER_HEADER, PROJECT, IngestTestCase

SEED_FIELDS = (
    "date",
    "time",
    "user",
    "source_file",
    "domain",
    "process",
    "step",
    "status",
    "message",
)


class PipelineLogsTest(IngestTestCase):
    def log_version(self) -> int:
        if not self.spark.catalog.tableExists("gold.pipeline_logs"):
            return -1
        history = DeltaTable.forName(self.spark, "gold.pipeline_logs").history(1).first()
        assert history is not None
        return int(history["version"])

    def test_every_step_is_logged_with_the_seed_fields_in_few_commits(self) -> None:
        self.deliver(
            "customers_raw",
            "a.csv",
            CUSTOMER_HEADER + "C1,A,1980-01-01,1,2025-01-01 00:00:00\n",
            age_s=9,
        )
        self.deliver(
            "customers_raw",
            "b.csv",
            CUSTOMER_HEADER + "C2,B,1980-01-01,1,2025-01-01 00:00:00\nbad\n",
        )
        self.deliver("customers_raw", "c.csv", b"")
        before = self.log_version()

        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
            code = main(["ingest", "--project-dir", str(PROJECT), "--table", "customers_raw"])

        self.assertEqual(code, 1)  # the empty file failed: data error
        records = self.spark.sql(
            "select * from gold.pipeline_logs where run_id = "
            "(select max(run_id) from gold.pipeline_logs where table_name = 'bronze.customers_raw')"
        ).collect()
        steps = [r.step for r in sorted(records, key=lambda r: r.logged_at)]
        self.assertEqual(steps, ["discover", "load_file", "load_file", "load_file", "summary"])
        for record in records:
            for name in SEED_FIELDS:
                self.assertTrue(getattr(record, name), f"{name} empty in {record}")
            self.assertEqual(
                (record.domain, record.process, record.catalog), ("shop", "ingest", "local")
            )
            self.assertEqual(record.source_file.split(".")[-1], "py")
        by_file = {r.data_file.rsplit("/", 1)[-1]: r for r in records if r.step == "load_file"}
        self.assertEqual((by_file["b.csv"].rows_read, by_file["b.csv"].rows_quarantined), (2, 1))
        self.assertEqual(by_file["c.csv"].status, "error")
        # Batched, never one commit per record: the table's discover, load_file and summary
        # records in one commit.
        self.assertEqual(self.log_version() - before, 1)
        json_lines = [
            json.loads(line) for line in stdout.getvalue().splitlines() if line.startswith("{")
        ]
        self.assertEqual(len(json_lines), len(records))
        self.assertEqual({j["run_id"] for j in json_lines}, {records[0].run_id})

    def test_logs_command_filters_by_status(self) -> None:
        self.deliver("customers_raw", "c.csv", b"")
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            main(["ingest", "--project-dir", str(PROJECT), "--table", "customers_raw"])
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(
                [
                    "logs",
                    "--project-dir",
                    str(PROJECT),
                    "--domain",
                    "shop",
                    "--status",
                    "error",
                    "--limit",
                    "5",
                ]
            )
        self.assertEqual(code, 0)
        lines = out.getvalue().splitlines()
        self.assertTrue(lines)
        self.assertTrue(all(" error " in line for line in lines), lines)
        self.assertIn("empty file", lines[-2])
        self.assertIn("1 failed", lines[-1])


class CliTest(IngestTestCase):
    def test_every_command_has_help(self) -> None:
        parser = build_parser()
        subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        commands = list(subparsers.choices)
        self.assertTrue({"ingest", "logs", "run"} <= set(commands))
        for command in commands:
            proc = subprocess.run(
                [sys.executable, "-m", "python_ingest.cli", command, "--help"],
                capture_output=True,
                text=True,
                check=False,
                timeout=60,
            )
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn("usage: data-ops", proc.stdout)

    def test_usage_errors_exit_2(self) -> None:
        for argv in (
            ["ingest", "--target", "qa"],
            ["ingest", "--domain", "Bad-Name"],
            ["ingest", "--project-dir", "/nonexistent"],
        ):
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                try:
                    code = main(argv)
                except SystemExit as exit_:
                    code = int(exit_.code or 0)
            self.assertEqual(code, 2, (argv, err.getvalue()))

    def test_clean_run_exits_0(self) -> None:
        self.deliver(
            "customers_raw", "a.csv", CUSTOMER_HEADER + "C1,A,1980-01-01,1,2025-01-01 00:00:00\n"
        )
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = main(["ingest", "--project-dir", str(PROJECT), "--table", "customers_raw"])
        self.assertEqual(code, 0)
