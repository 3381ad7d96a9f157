"""Span resolution of the member_eligibility Python model, on small hand-made segments.

dbt unit tests do not cover Python models, so this loads the model file and calls its
``resolve_spans`` on one DataFrame where each member is one scenario.
"""

from __future__ import annotations

import importlib.util
import itertools
from datetime import date, datetime
from typing import Any, ClassVar

from tests.support import REPO_ROOT, SparkTestCase

MODEL = REPO_ROOT / "models" / "member" / "silver" / "member_eligibility.py"
AS_OF = date(2025, 3, 31)
OLD = datetime(2024, 1, 1)
NEW = datetime(2025, 1, 1)
A = ("commercial", "PPO", "COM-PPO-01")
B = ("commercial", "HMO", "COM-HMO-01")

# (member, start, end, plan, record_updated_at)
SEGMENTS = [
    ("touching_same_plan", date(2025, 1, 1), date(2025, 1, 31), A, OLD),
    ("touching_same_plan", date(2025, 2, 1), None, A, NEW),
    ("touching_new_plan", date(2025, 1, 1), date(2025, 1, 31), A, OLD),
    ("touching_new_plan", date(2025, 2, 1), None, B, NEW),
    ("gap", date(2024, 1, 1), date(2024, 6, 30), A, OLD),
    ("gap", date(2024, 8, 1), None, A, NEW),
    ("overlap", date(2024, 1, 1), date(2024, 6, 30), A, OLD),
    ("overlap", date(2024, 4, 1), date(2024, 8, 31), B, NEW),
    ("contained", date(2024, 1, 1), date(2024, 12, 31), A, OLD),
    ("contained", date(2024, 3, 1), date(2024, 4, 30), B, NEW),
    ("older_inside", date(2024, 1, 1), date(2024, 12, 31), A, NEW),
    ("older_inside", date(2024, 3, 1), date(2024, 4, 30), B, OLD),
    ("corrected_start", date(2024, 3, 1), date(2025, 3, 31), A, OLD),
    ("corrected_start", date(2024, 1, 1), None, A, NEW),
    ("ends_on_as_of", date(2024, 1, 1), AS_OF, A, OLD),
    ("ended_before_as_of", date(2024, 1, 1), date(2025, 2, 28), A, OLD),
]


def _load_model() -> Any:
    spec = importlib.util.spec_from_file_location("member_eligibility_model", MODEL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ResolveSpansTest(SparkTestCase):
    spans: ClassVar[dict[str, list[tuple[Any, ...]]]]
    rows: ClassVar[list[Any]]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        segments = cls.spark.createDataFrame(
            [
                (f"{member}|{start}", member, *plan, start, end, updated)
                for member, start, end, plan, updated in SEGMENTS
            ],
            "enrollment_segment_id string, member_key string, line_of_business string, "
            "product_code string, plan_id string, coverage_start_date date, "
            "coverage_end_date date, record_updated_at timestamp",
        )
        cls.rows = _load_model().resolve_spans(segments, AS_OF).collect()
        cls.spans = {}
        for row in sorted(cls.rows, key=lambda r: (r["member_key"], r["eligibility_start_date"])):
            cls.spans.setdefault(row["member_key"], []).append(
                (
                    row["eligibility_start_date"],
                    row["eligibility_end_date"],
                    row["plan_id"],
                    row["enrollment_segment_count"],
                )
            )

    def test_touching_segments_of_one_plan_merge(self) -> None:
        self.assertEqual(self.spans["touching_same_plan"], [(date(2025, 1, 1), None, A[2], 2)])

    def test_plan_change_starts_a_new_span(self) -> None:
        self.assertEqual(
            self.spans["touching_new_plan"],
            [
                (date(2025, 1, 1), date(2025, 1, 31), A[2], 1),
                (date(2025, 2, 1), None, B[2], 1),
            ],
        )

    def test_gap_separates_spans(self) -> None:
        self.assertEqual(
            self.spans["gap"],
            [
                (date(2024, 1, 1), date(2024, 6, 30), A[2], 1),
                (date(2024, 8, 1), None, A[2], 1),
            ],
        )

    def test_newer_segment_wins_the_overlap(self) -> None:
        self.assertEqual(
            self.spans["overlap"],
            [
                (date(2024, 1, 1), date(2024, 3, 31), A[2], 1),
                (date(2024, 4, 1), date(2024, 8, 31), B[2], 1),
            ],
        )

    def test_newer_segment_inside_an_older_one_splits_it(self) -> None:
        self.assertEqual(
            self.spans["contained"],
            [
                (date(2024, 1, 1), date(2024, 2, 29), A[2], 1),
                (date(2024, 3, 1), date(2024, 4, 30), B[2], 1),
                (date(2024, 5, 1), date(2024, 12, 31), A[2], 1),
            ],
        )

    def test_older_segment_inside_a_newer_one_disappears(self) -> None:
        self.assertEqual(
            self.spans["older_inside"], [(date(2024, 1, 1), date(2024, 12, 31), A[2], 1)]
        )

    def test_corrected_earlier_start_covers_the_stale_segment(self) -> None:
        self.assertEqual(self.spans["corrected_start"], [(date(2024, 1, 1), None, A[2], 1)])

    def test_current_means_covering_the_as_of_date(self) -> None:
        current = {
            (r["member_key"], r["eligibility_start_date"]): r["is_current"] for r in self.rows
        }
        self.assertTrue(current[("ends_on_as_of", date(2024, 1, 1))])
        self.assertFalse(current[("ended_before_as_of", date(2024, 1, 1))])
        self.assertTrue(current[("gap", date(2024, 8, 1))])
        self.assertFalse(current[("gap", date(2024, 1, 1))])

    def test_spans_of_a_member_never_overlap(self) -> None:
        for member, spans in self.spans.items():
            for (_, end, _, _), (start, _, _, _) in itertools.pairwise(spans):
                with self.subTest(member=member):
                    self.assertIsNotNone(end)
                    self.assertLess(end, start)

    def test_span_ids_are_unique(self) -> None:
        ids = [r["eligibility_span_id"] for r in self.rows]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertTrue(all(len(i) == 64 for i in ids))
