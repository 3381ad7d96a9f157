"""Member domain end to end: the shared pipeline run (tests.e2e.pipeline) checked against the
generator's deliveries, its defect manifest and a plain-Python reference of the member rules."""

from __future__ import annotations

import json
import re
import unittest
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from python_ingest.naming import Names
from python_ingest.spark import get_spark
from tests.e2e.pipeline import BASE_MONTHS, PipelineState, Snapshot, pipeline_state
from tests.member import (
    DEFECT_RULES,
    QUARANTINE_KINDS,
    ReferenceResult,
    bronze_rows,
    reference,
    truth_member_months,
)
from tests.support import REPO_ROOT, ensure_test_lakehouse
from tools.datagen import Delivery, MemberRow, count_defects

SILVER = (
    "member_roster_validated",
    "member_roster_deliveries",
    "member_enrollment",
    "member_eligibility",
    "member_demographics",
    "member_eligibility_months",
)
GOLD = ("member_months", "member_summary")
TABLES = tuple(f"silver.{t}" for t in SILVER) + tuple(f"gold.{t}" for t in GOLD)
SUMMARY_KEY = ("month_start_date", "line_of_business", "product_code", "plan_id")
# Word boundaries on letters and digits too, so hex digests (salted keys) never match.
SSN = re.compile(r"(?<![0-9A-Za-z])\d{3}-?\d{2}-?\d{4}(?![0-9A-Za-z])")
PHONE = re.compile(r"(?<![0-9A-Za-z])(?:\(\d{3}\) ?|\d{3}-?)\d{3}-?\d{4}(?![0-9A-Za-z])")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
PATTERNS = {"ssn": SSN, "phone": PHONE, "email": EMAIL}
IDENTIFIER_COLUMNS = {
    "member_id",
    "subscriber_id",
    "first_name",
    "last_name",
    "birth_date",
    "ssn",
    "address_line",
    "city",
    "zip5",
    "phone",
    "email",
}
"""Bronze columns that never leave bronze (identifiers, or too fine-grained to keep)."""
DELIVERIES = BASE_MONTHS + 1
"""Roster deliveries in the pipeline run: the base months, then one more month."""


def _file_name(path: str) -> str:
    return Path(path).name


def _keyed(rows: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
    keyed = {tuple(row[c] for c in SUMMARY_KEY): row for row in rows}
    if len(keyed) != len(rows):
        raise AssertionError(f"{len(rows) - len(keyed)} duplicate gold keys")
    return keyed


def _multiset(rows: list[dict[str, Any]]) -> Counter[tuple[tuple[str, Any], ...]]:
    return Counter(tuple(sorted(row.items())) for row in rows)


def _strings(rows: list[dict[str, Any]]) -> set[str]:
    return {str(value) for row in rows for value in row.values() if value is not None}


class MemberPipelineTest(unittest.TestCase):
    """One pipeline run (base, one more month incrementally, full refresh) serves every test."""

    state: ClassVar[PipelineState]
    base_deliveries: ClassVar[list[Delivery[MemberRow]]]
    all_deliveries: ClassVar[list[Delivery[MemberRow]]]
    expected_base: ClassVar[ReferenceResult]
    expected_incremental: ClassVar[ReferenceResult]
    manifest: ClassVar[dict[str, Any]]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.state = pipeline_state()
        cls.base_deliveries = list(cls.state.roster.deliveries)
        cls.all_deliveries = cls.base_deliveries + list(cls.state.next_roster.deliveries)
        cls.expected_base = reference(cls.base_deliveries)
        cls.expected_incremental = reference(cls.all_deliveries)
        # run_dbt's target path: the manifest covers the whole project whatever was selected.
        target = ensure_test_lakehouse() / "dbt-target" / REPO_ROOT.name / "manifest.json"
        cls.manifest = json.loads(target.read_text(encoding="utf-8"))

    # -- dbt and storage ----------------------------------------------------------------------

    def _member_nodes(self, kinds: tuple[str, ...]) -> set[str]:
        """Member models, tests on member models or sources only, and tests/dbt/member."""
        nodes = self.manifest["nodes"]
        models = {
            uid
            for uid, node in nodes.items()
            if node["resource_type"] == "model" and node.get("group") == "member"
        }
        sources = {
            uid
            for uid, source in self.manifest["sources"].items()
            if source["original_file_path"].startswith("models/member/")
        }
        chosen = {uid for uid in models if "model" in kinds}
        for uid, node in {**nodes, **self.manifest.get("unit_tests", {})}.items():
            if node["resource_type"] not in kinds or node["resource_type"] == "model":
                continue
            parents = set(node.get("depends_on", {}).get("nodes", []))
            in_folder = node["original_file_path"].startswith("tests/dbt/member/")
            if in_folder or (parents and parents <= models | sources):
                chosen.add(uid)
        return chosen

    def test_every_member_dbt_node_succeeded(self) -> None:
        expected = self._member_nodes(("model", "test", "unit_test"))
        self.assertGreaterEqual(len(expected), 40)
        for name, snapshot in (("base", self.state.base), ("incremental", self.state.incremental)):
            with self.subTest(build=name):
                statuses = {u: s for u, s in snapshot.dbt_statuses.items() if u in expected}
                self.assertEqual(set(statuses), expected, "member nodes missing from the build")
                failed = {u: s for u, s in statuses.items() if s not in ("success", "pass")}
                self.assertEqual(failed, {})
        refreshed = self._member_nodes(("model",))
        refresh = {u: self.state.full_refresh.dbt_statuses.get(u, "missing") for u in refreshed}
        self.assertEqual(set(refresh.values()), {"success"}, refresh)

    def test_no_direct_identifier_dbt_test_ran_and_passed(self) -> None:
        uid = "test.data_ops.assert_gold_has_no_direct_identifiers"
        self.assertEqual(self.state.base.dbt_statuses.get(uid), "pass")
        self.assertEqual(self.state.incremental.dbt_statuses.get(uid), "pass")

    def test_member_tables_are_delta(self) -> None:
        spark = get_spark(Names.for_target("local"))
        for table in TABLES:
            with self.subTest(table=table):
                detail = spark.sql(f"describe detail {table}").first()
                assert detail is not None
                self.assertEqual(detail["format"], "delta")

    def test_declared_columns_are_the_built_columns(self) -> None:
        nodes = self.manifest["nodes"]
        for table in TABLES:
            with self.subTest(table=table):
                node = nodes[f"model.data_ops.{table.split('.')[1]}"]
                built = list(self.state.incremental.rows(table)[0])
                self.assertEqual(list(node["columns"]), built)
                for column in node["columns"].values():
                    self.assertTrue(column["description"], column["name"])

    # -- acceptance 3: defects reconcile ------------------------------------------------------

    def test_delivered_rows_equal_bronze_plus_quarantine(self) -> None:
        bronze = Counter(
            _file_name(r["_source_file"]) for r in self.state.incremental.rows("bronze.member_raw")
        )
        quarantine_rows = self.state.incremental.rows("bronze.member_raw_quarantine")
        quarantine = Counter(_file_name(r["_source_file"]) for r in quarantine_rows)
        self.assertEqual(len(self.all_deliveries), DELIVERIES)
        for delivery in self.all_deliveries:
            with self.subTest(file=delivery.file_name):
                self.assertEqual(
                    len(delivery.rows), bronze[delivery.file_name] + quarantine[delivery.file_name]
                )
        expected_reasons: Counter[str] = Counter()
        for delivery in self.all_deliveries:
            for kind, count in count_defects(delivery.defects).items():
                if str(kind) in QUARANTINE_KINDS:
                    expected_reasons[QUARANTINE_KINDS[str(kind)]] += count
        reasons = Counter(
            next(p for p in set(QUARANTINE_KINDS.values()) if r["_quarantine_reason"].startswith(p))
            for r in quarantine_rows
        )
        self.assertEqual(reasons, expected_reasons)
        self.assertGreater(sum(reasons.values()), 0, "the run should exercise quarantine")

    def test_excluded_rows_match_injected_defects_by_rule(self) -> None:
        expected: Counter[tuple[str, str]] = Counter()
        for delivery in self.all_deliveries:
            for defect in delivery.defects:
                if str(defect.kind) in DEFECT_RULES:
                    expected[(delivery.file_name, DEFECT_RULES[str(defect.kind)])] += 1
        validated = self.state.incremental.rows("silver.member_roster_validated")
        excluded = Counter(
            (_file_name(r["source_file"]), r["exclusion_reason"])
            for r in validated
            if r["exclusion_reason"] is not None
        )
        self.assertEqual(excluded, expected)
        self.assertEqual(excluded, self.expected_incremental.exclusions)
        self.assertGreaterEqual(len({rule for _file, rule in excluded}), 3)

    def test_roster_deliveries_count_rows_by_rule(self) -> None:
        validated = self.state.incremental.rows("silver.member_roster_validated")
        deliveries = self.state.incremental.rows("silver.member_roster_deliveries")
        self.assertEqual(len(deliveries), DELIVERIES)
        loaded, _quarantined = bronze_rows(self.all_deliveries)
        per_file = Counter(row.file_name for row in loaded)
        for delivery in deliveries:
            name = _file_name(delivery["source_file"])
            with self.subTest(file=name):
                rows = [r for r in validated if _file_name(r["source_file"]) == name]
                reasons = Counter(r["exclusion_reason"] for r in rows)
                self.assertEqual(delivery["bronze_row_count"], per_file[name])
                self.assertEqual(delivery["kept_row_count"], reasons[None])
                for rule in (
                    "unrecognised_file_name",
                    "invalid_date",
                    "missing_value",
                    "unknown_code",
                    "coverage_end_before_start",
                    "duplicate_row",
                ):
                    self.assertEqual(delivery[f"{rule}_row_count"], reasons[rule], rule)

    # -- acceptance 2: gold recomputed independently -------------------------------------------

    def _assert_gold_matches(self, snapshot: Snapshot, expected: ReferenceResult) -> None:
        member_months = {
            key: row["member_months"]
            for key, row in _keyed(snapshot.rows("gold.member_months")).items()
        }
        self.assertEqual(member_months, expected.member_months)
        summary = {
            key: {c: v for c, v in row.items() if c not in SUMMARY_KEY}
            for key, row in _keyed(snapshot.rows("gold.member_summary")).items()
        }
        self.assertEqual(summary, expected.summary)

    def test_gold_matches_reference_after_base_build(self) -> None:
        self._assert_gold_matches(self.state.base, self.expected_base)

    def test_gold_matches_reference_after_incremental_build(self) -> None:
        self._assert_gold_matches(self.state.incremental, self.expected_incremental)

    def test_eligibility_spans_match_reference(self) -> None:
        spans = self.state.incremental.rows("silver.member_eligibility")
        built = Counter(
            (
                r["eligibility_start_date"],
                r["eligibility_end_date"],
                r["line_of_business"],
                r["product_code"],
                r["plan_id"],
            )
            for r in spans
        )
        expected = Counter((s.start, s.end, *s.plan) for s in self.expected_incremental.spans)
        self.assertEqual(built, expected)

    def test_member_months_stay_close_to_generator_truth(self) -> None:
        """Never more than the truth; each month short by at most that file's defective rows."""
        months = sorted({key[0] for key in self.expected_incremental.member_months})
        truth = truth_member_months(self.state.next_roster.members.values(), months[0], months[-1])
        gold: Counter[date] = Counter()
        for row in self.state.incremental.rows("gold.member_months"):
            gold[row["month_start_date"]] += row["member_months"]
        for delivery in self.all_deliveries:
            with self.subTest(month=delivery.month):
                shortfall = truth[delivery.month] - gold[delivery.month]
                self.assertGreaterEqual(shortfall, 0)
                self.assertLessEqual(shortfall, len(delivery.defects))

    # -- acceptance 4: incremental = full refresh ---------------------------------------------

    def test_incremental_build_equals_full_refresh(self) -> None:
        for table in TABLES:
            with self.subTest(table=table):
                incremental = self.state.incremental.rows(table)
                refreshed = self.state.full_refresh.rows(table)
                self.assertEqual(_multiset(incremental), _multiset(refreshed))
                self.assertGreater(len(incremental), 0)

    def test_incremental_build_merged_only_the_new_delivery(self) -> None:
        new_file = self.state.next_roster.deliveries[-1].file_name
        bronze = self.state.incremental.rows("bronze.member_raw")
        new_rows = sum(1 for r in bronze if _file_name(r["_source_file"]) == new_file)
        history = get_spark(Names.for_target("local")).sql(
            "describe history silver.member_roster_validated"
        )
        merges = [
            row["operationMetrics"] for row in history.collect() if row["operation"] == "MERGE"
        ]
        self.assertIn(
            (str(new_rows), "0"),
            [(m["numTargetRowsInserted"], m["numTargetRowsUpdated"]) for m in merges],
        )

    # -- acceptance 5: no direct identifier reaches gold --------------------------------------

    def test_patterns_find_the_identifiers_in_bronze(self) -> None:
        bronze = self.state.incremental.rows("bronze.member_raw")
        for name, column in (("ssn", "ssn"), ("phone", "phone"), ("email", "email")):
            with self.subTest(pattern=name):
                values = [r[column] for r in bronze if r[column]]
                self.assertTrue(values)
                self.assertTrue(all(PATTERNS[name].search(v) for v in values))

    def test_gold_values_hold_no_ssn_phone_or_email(self) -> None:
        for snapshot in (self.state.incremental, self.state.full_refresh):
            for table in GOLD:
                values = _strings(snapshot.rows(f"gold.{table}"))
                for name, pattern in PATTERNS.items():
                    with self.subTest(table=table, pattern=name):
                        self.assertEqual([v for v in values if pattern.search(v)], [])

    def test_member_tables_hold_no_clear_text_identifiers(self) -> None:
        bronze = self.state.incremental.rows("bronze.member_raw")
        identifiers = {
            str(r[c])
            for r in bronze
            for c in ("first_name", "last_name", "ssn", "phone", "email", "address_line")
            if r[c]
        }
        for table in TABLES:
            rows = self.state.incremental.rows(table)
            values = _strings(rows)
            with self.subTest(table=table):
                self.assertEqual(values & identifiers, set())
                self.assertEqual(set(rows[0]) & IDENTIFIER_COLUMNS, set())
                for name, pattern in PATTERNS.items():
                    self.assertEqual([v for v in values if pattern.search(v)], [], name)


if __name__ == "__main__":
    unittest.main()
