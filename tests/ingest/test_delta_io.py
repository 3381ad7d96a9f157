"""Small driver-side appends: the rows as given, in one partition, whatever their number."""

from __future__ import annotations

import datetime as dt

from pyspark.sql.types import StructType

from python_ingest import delta_io
from python_ingest.delta_io import rows_frame
from tests.support import SparkTestCase

DDL = "name string, size bigint, seen_at timestamp, note string"


def sample(count: int) -> list[tuple[object, ...]]:
    return [
        (f"file-{i}", i, dt.datetime(2025, 1, 1, 12, 0, 0, i), None if i % 2 else "it's \\ odd")
        for i in range(count)
    ]


class RowsFrameTest(SparkTestCase):
    def check(self, rows: list[tuple[object, ...]]) -> None:
        frame = rows_frame(self.spark, rows, DDL)
        # Types as declared (a literal that is never null makes its field non-nullable).
        self.assertEqual(frame.schema.simpleString(), StructType.fromDDL(DDL).simpleString())
        self.assertEqual(frame.rdd.getNumPartitions(), 1)
        self.assertEqual([tuple(r) for r in frame.collect()], rows)

    def test_a_few_rows_are_literals_of_one_task(self) -> None:
        rows = sample(3)
        self.check(rows)
        plan = rows_frame(self.spark, rows, DDL)._jdf.queryExecution().analyzed().toString()
        self.assertNotIn("ExistingRDD", plan)

    def test_many_rows_keep_every_value(self) -> None:
        self.check(sample(delta_io._LITERAL_ROWS + 5))

    def test_no_rows(self) -> None:
        self.check([])
