"""Claims generation: coverage, amounts, adjustments and reversals, determinism, continuation."""

from __future__ import annotations

import unittest
from datetime import date
from decimal import Decimal

from tests.datagen import MONTHS, SEED, START, clean_claims, clean_roster
from tools.datagen import CLAIM_FIELDS, ClaimRow, generate_claims, generate_roster
from tools.datagen._catalogue import DRUGS
from tools.datagen.codes import CLAIM_STATUS_CODES, CLAIM_TYPE_CODES
from tools.datagen.identifiers import is_valid_npi, normalize_ndc


def _all_rows() -> list[tuple[int, ClaimRow]]:
    return [
        (index, row)
        for index, delivery in enumerate(clean_claims().deliveries)
        for row in delivery.rows
    ]


def _amounts(row: ClaimRow) -> list[tuple[Decimal, Decimal, Decimal]]:
    """Line amounts as Decimals, whether the file spelled them as numbers or strings."""
    return [
        (
            Decimal(line["billed_amount"]),
            Decimal(line["allowed_amount"]),
            Decimal(line["paid_amount"]),
        )
        for line in row["lines"]
    ]


class ClaimsShapeTest(unittest.TestCase):
    def test_files_are_named_by_month_and_cycle_formats(self) -> None:
        names = [delivery.file_name for delivery in clean_claims().deliveries]
        self.assertEqual(
            names[:3], ["claims_2025_01.jsonl", "claims_2025_02.parquet", "claims_2025_03.jsonl"]
        )
        self.assertEqual(len(names), MONTHS)

    def test_records_carry_the_contract_fields_in_order(self) -> None:
        for _, row in _all_rows():
            self.assertEqual(tuple(row), CLAIM_FIELDS)

    def test_each_file_holds_the_claims_received_that_month(self) -> None:
        for delivery in clean_claims().deliveries:
            for row in delivery.rows:
                received = row["received_date"]
                assert isinstance(received, date)
                self.assertEqual(
                    (received.year, received.month), (delivery.month.year, delivery.month.month)
                )

    def test_clean_claims_fall_inside_the_members_coverage(self) -> None:
        members = clean_roster().members
        for _, row in _all_rows():
            truth = members[row["member_id"]]
            start, end = row["service_from_date"], row["service_to_date"]
            assert isinstance(start, date) and isinstance(end, date)
            self.assertLessEqual(start, end)
            segment = truth.segment_on(start)
            self.assertIsNotNone(segment, row["claim_id"])
            assert segment is not None
            self.assertTrue(segment.covers(end))
            for line in row["lines"]:
                self.assertTrue(start <= line["service_date"] <= end)

    def test_all_claim_types_and_statuses_occur_with_known_codes(self) -> None:
        types, statuses = set(), set()
        for _, row in _all_rows():
            types.add(CLAIM_TYPE_CODES[row["claim_type"]])
            statuses.add(CLAIM_STATUS_CODES[row["claim_status"]])
        self.assertEqual(types, {"institutional", "professional", "pharmacy"})
        self.assertEqual(statuses, {"paid", "denied", "pending"})

    def test_clean_npis_pass_the_luhn_check(self) -> None:
        for _, row in _all_rows():
            self.assertTrue(is_valid_npi(row["billing_npi"]), row["billing_npi"])
            self.assertTrue(is_valid_npi(row["rendering_npi"]), row["rendering_npi"])

    def test_pharmacy_lines_carry_ndc_and_medical_lines_procedures(self) -> None:
        known = {drug.ndc11 for drug in DRUGS}
        spellings: set[str] = set()
        for _, row in _all_rows():
            pharmacy = CLAIM_TYPE_CODES[row["claim_type"]] == "pharmacy"
            self.assertEqual(row["diagnosis_codes"] == [], pharmacy)
            for line in row["lines"]:
                if pharmacy:
                    assert line["ndc"] is not None
                    self.assertIsNone(line["procedure_code"])
                    self.assertIn(normalize_ndc(line["ndc"]), known)
                    spellings.add("-".join(str(len(part)) for part in line["ndc"].split("-")))
                else:
                    self.assertIsNone(line["ndc"])
                    self.assertIsNotNone(line["procedure_code"])
        self.assertGreaterEqual(len(spellings), 4, spellings)


class ClaimsAmountsTest(unittest.TestCase):
    def test_paid_is_at_most_allowed_is_at_most_billed(self) -> None:
        for _, row in _all_rows():
            for billed, allowed, paid in _amounts(row):
                self.assertTrue(Decimal(0) <= paid <= allowed <= billed, row["claim_id"])
                self.assertGreater(billed, 0)
                self.assertEqual(billed.as_tuple().exponent, -2)

    def test_denied_and_pending_versions_pay_nothing(self) -> None:
        for _, row in _all_rows():
            if CLAIM_STATUS_CODES[row["claim_status"]] in {"denied", "pending"}:
                for _, allowed, paid in _amounts(row):
                    self.assertEqual((allowed, paid), (0, 0))


class ClaimsAdjustmentsTest(unittest.TestCase):
    def test_adjustments_and_reversals_reference_claims_from_earlier_files(self) -> None:
        first_file: dict[str, int] = {}
        latest: dict[str, ClaimRow] = {}
        kinds: set[str] = set()
        for index, row in _all_rows():
            claim_id = str(row["claim_id"])
            if row["adjustment_type"] == "ORIGINAL":
                self.assertEqual(row["claim_version"], 1)
                self.assertIsNone(row["original_claim_id"])
                first_file[claim_id] = index
                latest[claim_id] = row
                continue
            kinds.add(row["adjustment_type"])
            original = row["original_claim_id"]
            assert original is not None
            self.assertLess(first_file[original], index, claim_id)
            previous = latest[original]
            self.assertEqual(row["claim_version"], previous["claim_version"] + 1)
            self.assertEqual(claim_id, f"{original}-{row['claim_version']:02d}")
            self.assertEqual(row["member_id"], previous["member_id"])
            received, previous_received = row["received_date"], previous["received_date"]
            assert isinstance(received, date) and isinstance(previous_received, date)
            self.assertGreater(received, previous_received)
            if row["adjustment_type"] == "REVERSAL":
                self.assertEqual(_amounts(row), _amounts(previous))
            latest[original] = row
        self.assertEqual(kinds, {"ADJUSTMENT", "REVERSAL"})

    def test_pending_claims_are_finalised_by_a_later_version(self) -> None:
        rows = [row for _, row in _all_rows()]
        finalised = {row["original_claim_id"] for row in rows if row["claim_version"] == 2}
        last_month = clean_claims().deliveries[-3].month
        for row in rows:
            received = row["received_date"]
            assert isinstance(received, date)
            pending = CLAIM_STATUS_CODES[row["claim_status"]] == "pending"
            if pending and row["claim_version"] == 1 and received < last_month:
                self.assertIn(row["claim_id"], finalised)


class ClaimsDeterminismTest(unittest.TestCase):
    def test_same_seed_gives_the_same_claims(self) -> None:
        self.assertEqual(
            generate_claims(clean_roster(), SEED).deliveries, clean_claims().deliveries
        )

    def test_one_more_month_continues_the_same_claims(self) -> None:
        longer_roster = generate_roster(600, MONTHS + 1, START, SEED, defect_rate=0.1)
        longer = generate_claims(longer_roster, SEED, defect_rate=0.1)
        shorter_roster = generate_roster(600, MONTHS, START, SEED, defect_rate=0.1)
        shorter = generate_claims(shorter_roster, SEED, defect_rate=0.1)
        only_roster = generate_roster(
            600, MONTHS + 1, START, SEED, defect_rate=0.1, from_month=MONTHS
        )
        only_last = generate_claims(only_roster, SEED, defect_rate=0.1)
        self.assertEqual(longer.deliveries[:MONTHS], shorter.deliveries)
        self.assertEqual(only_last.deliveries, longer.deliveries[MONTHS:])


if __name__ == "__main__":
    unittest.main()
