"""Roster generation: population, households, monthly changes, determinism and continuation."""

from __future__ import annotations

import itertools
import unittest
from collections import Counter
from datetime import date, timedelta

from tests.datagen import MONTHS, SEED, START, clean_roster
from tools.datagen import MEMBER_COLUMNS, DatagenError, MemberRow, generate_roster
from tools.datagen._util import add_months, month_end
from tools.datagen.codes import (
    GENDER_CODES,
    LINE_OF_BUSINESS_CODES,
    PLANS,
    PRODUCT_CODES,
    RELATIONSHIP_CODES,
)


def _by_member(rows: list[MemberRow]) -> dict[str, MemberRow]:
    return {str(row["member_id"]): row for row in rows}


class RosterShapeTest(unittest.TestCase):
    def test_first_month_holds_exactly_the_requested_population(self) -> None:
        first = clean_roster().deliveries[0]
        self.assertEqual(len(first.rows), 600)
        self.assertEqual(len({row["member_id"] for row in first.rows}), 600)

    def test_files_are_named_by_month_and_cycle_formats(self) -> None:
        names = [delivery.file_name for delivery in clean_roster().deliveries]
        self.assertEqual(
            names,
            [
                "roster_2025_01.csv",
                "roster_2025_02.parquet",
                "roster_2025_03.csv",
                "roster_2025_04.parquet",
                "roster_2025_05.csv",
                "roster_2025_06.parquet",
            ],
        )

    def test_rows_carry_the_contract_columns_in_order(self) -> None:
        for delivery in clean_roster().deliveries:
            for row in delivery.rows:
                self.assertEqual(tuple(row), MEMBER_COLUMNS)

    def test_clean_codes_are_all_known_variants(self) -> None:
        seen: Counter[str] = Counter()
        plans = {plan.plan_id: plan for plan in PLANS}
        for delivery in clean_roster().deliveries:
            for row in delivery.rows:
                self.assertIn(row["gender_code"], GENDER_CODES)
                self.assertIn(row["relationship_code"], RELATIONSHIP_CODES)
                self.assertIn(row["product_code"], PRODUCT_CODES)
                lob = LINE_OF_BUSINESS_CODES[row["line_of_business"]]
                plan = plans[row["plan_id"]]
                self.assertEqual(lob, plan.line_of_business)
                self.assertEqual(PRODUCT_CODES[row["product_code"]], plan.product)
                seen[row["gender_code"]] += 1
        self.assertGreater(len(seen), 4, "raw code variants should appear, not only M/F")

    def test_each_member_appears_once_per_month_they_are_covered(self) -> None:
        roster = clean_roster()
        for delivery in roster.deliveries:
            first, last = delivery.month, month_end(delivery.month)
            expected = {
                member_id
                for member_id, truth in roster.members.items()
                if any(
                    segment.start <= last and (segment.end is None or segment.end >= first)
                    for segment in truth.segments
                )
            }
            ids = [str(row["member_id"]) for row in delivery.rows]
            self.assertEqual(len(ids), len(set(ids)))
            self.assertEqual(set(ids), expected)

    def test_dependents_share_the_subscribers_household(self) -> None:
        rows = _by_member(clean_roster().deliveries[0].rows)
        dependents = 0
        for row in rows.values():
            subscriber = rows[row["subscriber_id"]]
            self.assertEqual(RELATIONSHIP_CODES[subscriber["relationship_code"]], "subscriber")
            if row["member_id"] == row["subscriber_id"]:
                self.assertEqual(RELATIONSHIP_CODES[row["relationship_code"]], "subscriber")
                continue
            dependents += 1
            self.assertNotEqual(RELATIONSHIP_CODES[row["relationship_code"]], "subscriber")
            for column in ("address_line", "city", "zip5", "plan_id"):
                self.assertEqual(row[column], subscriber[column], column)
        self.assertGreater(dependents, 100)

    def test_coverage_segments_are_whole_months(self) -> None:
        for truth in clean_roster().members.values():
            for segment in truth.segments:
                self.assertEqual(segment.start.day, 1)
                if segment.end is not None:
                    self.assertEqual(
                        segment.end, month_end(date(segment.end.year, segment.end.month, 1))
                    )
                    self.assertLess(segment.start, segment.end)


class RosterChangesTest(unittest.TestCase):
    def test_later_months_carry_terminations_reenrolments_and_new_members(self) -> None:
        roster = clean_roster()
        terminated = [t for t in roster.members.values() if t.segments[0].end is not None]
        reenrolled = [t for t in roster.members.values() if len(t.segments) > 1]
        joiners = [m for m in roster.members if not m.startswith("M000")]
        self.assertGreater(len(terminated), 10)
        self.assertGreater(len(reenrolled), 0)
        self.assertGreater(len(joiners), 20)

    def test_reenrolment_opens_a_new_segment_after_a_gap(self) -> None:
        roster = clean_roster()
        for truth in roster.members.values():
            for before, after in itertools.pairwise(truth.segments):
                assert before.end is not None
                self.assertGreater(after.start, before.end + timedelta(days=1))
        reenrolled = next(t for t in roster.members.values() if len(t.segments) > 1)
        gap_month = add_months(reenrolled.segments[1].start, -1)
        files = {delivery.month: _by_member(delivery.rows) for delivery in roster.deliveries}
        self.assertNotIn(reenrolled.member_id, files[gap_month])
        back = files[reenrolled.segments[1].start][reenrolled.member_id]
        self.assertEqual(back["coverage_start_date"], reenrolled.segments[1].start)
        self.assertIsNone(back["coverage_end_date"])

    def test_a_changed_row_gets_a_new_timestamp_inside_its_month(self) -> None:
        deliveries = clean_roster().deliveries
        changes = 0
        for previous, current in itertools.pairwise(deliveries):
            before = _by_member(previous.rows)
            for member_id, row in _by_member(current.rows).items():
                old = before.get(member_id)
                if old is None or old == row:
                    continue
                changes += 1
                self.assertGreater(row["record_updated_at"], old["record_updated_at"])
                self.assertEqual(
                    (row["record_updated_at"].year, row["record_updated_at"].month),
                    (current.month.year, current.month.month),
                )
        self.assertGreater(changes, 20)

    def test_unchanged_members_repeat_identical_rows(self) -> None:
        deliveries = clean_roster().deliveries
        first, second = _by_member(deliveries[0].rows), _by_member(deliveries[1].rows)
        same = [member_id for member_id in first if first[member_id] == second.get(member_id)]
        self.assertGreater(len(same), 0.9 * len(first))


class RosterDeterminismTest(unittest.TestCase):
    def test_same_seed_gives_the_same_deliveries(self) -> None:
        again = generate_roster(600, MONTHS, START, SEED)
        self.assertEqual(again.deliveries, clean_roster().deliveries)

    def test_another_seed_gives_other_members(self) -> None:
        other = generate_roster(600, 1, START, SEED + 1)
        self.assertNotEqual(other.deliveries[0].rows, clean_roster().deliveries[0].rows)

    def test_one_more_month_continues_the_same_history(self) -> None:
        longer = generate_roster(600, MONTHS + 1, START, SEED, defect_rate=0.1)
        shorter = generate_roster(600, MONTHS, START, SEED, defect_rate=0.1)
        only_last = generate_roster(
            600, MONTHS + 1, START, SEED, defect_rate=0.1, from_month=MONTHS
        )
        self.assertEqual(longer.deliveries[:MONTHS], shorter.deliveries)
        self.assertEqual(only_last.deliveries, longer.deliveries[MONTHS:])
        self.assertEqual(only_last.members, longer.members)

    def test_defects_do_not_change_the_clean_history(self) -> None:
        defective = generate_roster(600, MONTHS, START, SEED, defect_rate=0.3)
        self.assertEqual(defective.members, clean_roster().members)


class RosterArgumentsTest(unittest.TestCase):
    def test_invalid_arguments_name_the_value(self) -> None:
        cases: list[dict[str, object]] = [
            {"members": 0},
            {"months": 0},
            {"defect_rate": 1.5},
            {"from_month": 3},
            {"formats": ("json",)},
            {"defect_kinds": ("invalid_npi",)},
        ]
        for override in cases:
            arguments: dict[str, object] = {"members": 10, "months": 3, "defect_rate": 0.0}
            arguments.update(override)
            with self.subTest(override=override), self.assertRaises(DatagenError):
                generate_roster(start=START, seed=1, **arguments)  # type: ignore[arg-type]

    def test_defect_kinds_restrict_what_is_injected(self) -> None:
        roster = generate_roster(
            200, 2, START, SEED, defect_rate=0.5, defect_kinds=("duplicate_row",)
        )
        self.assertEqual({defect.kind for defect in roster.defects}, {"duplicate_row"})


if __name__ == "__main__":
    unittest.main()
