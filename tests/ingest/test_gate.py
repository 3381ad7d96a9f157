"""The commit gate on real Delta writes: a write commits only once the check beside it passed."""

from __future__ import annotations

import threading
import time

from pyspark.sql import DataFrame

from python_ingest.gate import CommitGate, gate_supported
from tests.support import SparkTestCase

TABLE = "bronze.gate_test"


class CommitGateTest(SparkTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.spark.sql("create schema if not exists bronze")
        self.spark.sql(f"drop table if exists {TABLE}")
        self.spark.sql(f"create table {TABLE} (id bigint, label string) using delta")

    def rows(self, count: int) -> DataFrame:
        return self.spark.range(count, numPartitions=2).selectExpr("id", "cast(id as string) label")

    def version(self) -> int:
        row = self.spark.sql(f"describe history {TABLE} limit 1").first()
        assert row is not None
        return int(row["version"])

    def gated_append(self, check: CommitGate) -> tuple[str | None, Exception | None]:
        error: Exception | None = None
        guarded = check.guard(self.rows(10))
        check.start()
        try:
            guarded.write.format("delta").mode("append").saveAsTable(TABLE)
        except Exception as err:  # noqa: BLE001 - the test inspects it
            error = err
        return check.refusal(), error

    def test_the_embedded_engine_supports_the_gate(self) -> None:
        self.assertTrue(gate_supported(self.spark))

    def test_a_passed_check_commits_the_rows_and_nothing_of_the_gate(self) -> None:
        before = self.version()

        refusal, error = self.gated_append(CommitGate(self.spark, lambda: None))

        self.assertIsNone(refusal)
        self.assertIsNone(error)
        self.assertEqual(self.version(), before + 1)
        self.assertEqual(sorted(r.id for r in self.spark.table(TABLE).collect()), list(range(10)))

    def test_the_commit_waits_for_the_check(self) -> None:
        finished: list[float] = []

        def slow_check() -> None:
            time.sleep(3)  # the ten rows are written long before
            finished.append(time.time())

        refusal, error = self.gated_append(CommitGate(self.spark, slow_check))

        self.assertIsNone(refusal)
        self.assertIsNone(error)
        row = self.spark.sql(f"describe history {TABLE} limit 1").first()
        assert row is not None
        self.assertGreaterEqual(row["timestamp"].timestamp(), int(finished[0]))

    def test_a_refusal_stops_the_write_before_its_commit(self) -> None:
        before = self.version()

        refusal, error = self.gated_append(
            CommitGate(self.spark, lambda: "line 2: an undeclared key")
        )

        self.assertEqual(refusal, "line 2: an undeclared key")
        self.assertIsNotNone(error)
        self.assertEqual(self.version(), before)
        self.assertEqual(self.spark.table(TABLE).count(), 0)

    def test_a_refusal_after_the_rows_are_written_still_stops_the_commit(self) -> None:
        written = threading.Event()

        def late_refusal() -> str:
            time.sleep(3)
            written.set()
            return "found late"

        before = self.version()
        refusal, error = self.gated_append(CommitGate(self.spark, late_refusal))

        self.assertTrue(written.is_set())
        self.assertEqual(refusal, "found late")
        self.assertIsNotNone(error)
        self.assertEqual(self.version(), before)

    def test_a_failing_check_fails_the_write_and_raises_its_error(self) -> None:
        def broken() -> None:
            raise OSError("disk gone")

        before = self.version()
        gate = CommitGate(self.spark, broken)
        guarded = gate.guard(self.rows(10))
        gate.start()
        with self.assertRaises(Exception):  # noqa: B017 - Spark's error for the failed gate task
            guarded.write.format("delta").mode("append").saveAsTable(TABLE)
        with self.assertRaisesRegex(OSError, "disk gone"):
            gate.refusal()
        self.assertEqual(self.version(), before)
