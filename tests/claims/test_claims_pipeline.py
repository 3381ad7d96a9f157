"""Claims domain end to end, on the shared pipeline run (tests.e2e.pipeline).

The expected silver lines and gold summary are recomputed here in plain Python from the
generated deliveries, following the documented rules:

- bronze keeps every delivered record except malformed ones and those without claim_id;
- a claim version delivered twice counts once; a claim's final version is its highest
  claim_version, and a final REVERSAL voids the claim;
- a claim belongs to the month of its service_from_date (the earliest line date when the
  delivered date is unreadable) and to the product of the member's eligibility span covering
  that date, else to product 'unknown';
- member months (models/member YAML): a member counts in a month of the roster window when an
  eligibility span covers the 15th, under that span's line of business and product;
- PMPM = paid / member months, half-up to cents, NULL without member months; denial rate =
  denied / (paid + denied), half-up to 4 decimals.

The eligibility spans are the member domain's (silver.member_eligibility of the same
snapshot), matched on a member_key recomputed here from member_id. Spans are member-domain
logic (a member missing from a roster, even through a quarantined row, loses coverage from
that month), verified by the member suite; everything on the claims side, and the member-month
rule applied to the spans, is computed here.
"""

from __future__ import annotations

import hashlib
import os
import unittest
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from tests.e2e.pipeline import PipelineState, Snapshot, pipeline_state
from tests.support import SparkTestCase
from tools.datagen import ClaimRow, Delivery
from tools.datagen.codes import CLAIM_STATUS_CODES, CLAIM_TYPE_CODES
from tools.datagen.identifiers import is_valid_npi, normalize_ndc

CLAIM_LINE_TABLES = {
    "institutional": "silver.claims_medical",
    "professional": "silver.claims_professional",
    "pharmacy": "silver.claims_pharmacy",
}
CLAIMS_TABLES = (
    "silver.claims_versions",
    "silver.claims_final_versions",
    "silver.claims_lines",
    *CLAIM_LINE_TABLES.values(),
    "gold.claims_summary",
)
CLAIMS_MODELS = tuple(f"model.data_ops.{name.split('.')[1]}" for name in CLAIMS_TABLES)
WARN_TESTS = (
    "accepted_values_claims_final_versions_",
    "relationships_claims_final_versions_",
    "valid_npi_claims_final_versions_",
    "within_eligibility_claims_final_versions_",
    "amounts_ordered_claims_lines_",
    "not_null_claims_pharmacy_ndc",
)
"""Tests configured with severity warn: findings in the delivered data, not build failures."""
MEASURES = ("line_count", "billed_amount", "allowed_amount", "paid_amount")
UNKNOWN = "unknown"
CENT = Decimal("0.01")
RATE = Decimal("0.0001")

Cell = tuple[date, str, str, str]
"""(service month, claim type, line of business, product code): the grain of claims_summary."""


@dataclass(frozen=True)
class Version:
    """A claim version as bronze holds it, with the run that ingested it."""

    row: ClaimRow
    run: int

    @property
    def version_id(self) -> str:
        return cast("str", self.row["claim_id"])

    @property
    def claim_id(self) -> str:
        return self.row["original_claim_id"] or self.version_id


@dataclass(frozen=True)
class Line:
    """One expected silver claim line."""

    claim_line_id: str
    claim_id: str
    claim_version_id: str
    member_key: str
    claim_type: str
    claim_status: str
    line_of_business: str
    product_code: str
    code: str | None
    billed_amount: Decimal
    allowed_amount: Decimal
    paid_amount: Decimal
    is_valid_billing_npi: bool
    is_valid_rendering_npi: bool
    service_from_date: date

    @property
    def cell(self) -> Cell:
        return (
            self.service_from_date.replace(day=1),
            self.claim_type,
            self.line_of_business,
            self.product_code,
        )


def member_key(member_id: str) -> str:
    """hash_identifier as dbt compiles it for the local target."""
    salt = os.environ.get("DATA_OPS_PHI_SALT", "local-synthetic-data-salt")
    return hashlib.sha256(f"{salt}|{member_id.strip().upper()}".encode()).hexdigest()


def _date(value: object) -> date | None:
    """A delivered date; unreadable text (a bad_date defect) lands in bronze as NULL."""
    return value if isinstance(value, date) else None


def bronze_versions(runs: Sequence[Sequence[Delivery[ClaimRow]]]) -> dict[str, Version]:
    """Claim versions by claim_version_id as bronze keeps them, the latest delivery winning."""
    versions: dict[str, Version] = {}
    for run, deliveries in enumerate(runs):
        for delivery in deliveries:
            for index, row in enumerate(delivery.rows):
                if index in delivery.raw_lines or not row["claim_id"]:
                    continue
                versions[row["claim_id"]] = Version(row, run)
    return versions


def final_versions(versions: Iterable[Version]) -> dict[str, Version]:
    """Final version per claim: highest claim_version, then received date, run, version id."""
    by_claim: dict[str, list[Version]] = defaultdict(list)
    for version in versions:
        by_claim[version.claim_id].append(version)
    return {
        claim_id: max(
            candidates,
            key=lambda v: (
                v.row["claim_version"],
                _date(v.row["received_date"]) or date.min,
                v.run,
                v.version_id,
            ),
        )
        for claim_id, candidates in by_claim.items()
    }


Spans = Mapping[str, Sequence[Mapping[str, Any]]]
"""Eligibility span rows by member_key."""


def eligibility_spans(snapshot: Snapshot) -> dict[str, list[dict[str, Any]]]:
    """The member domain's eligibility spans in a snapshot, by member_key."""
    spans: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in snapshot.rows("silver.member_eligibility"):
        spans[row["member_key"]].append(row)
    return spans


def product_on(spans: Sequence[Mapping[str, Any]], day: date) -> tuple[str, str]:
    """(line of business, product) of the latest-starting span covering `day`."""
    covering = [
        span
        for span in spans
        if span["eligibility_start_date"] <= day
        and (span["eligibility_end_date"] is None or day <= span["eligibility_end_date"])
    ]
    if not covering:
        return UNKNOWN, UNKNOWN
    span = max(covering, key=lambda span: span["eligibility_start_date"])
    return span["line_of_business"], span["product_code"]


def expected_lines(runs: Sequence[Sequence[Delivery[ClaimRow]]], spans: Spans) -> list[Line]:
    """Silver claim lines of the known claim types: final, non-reversed versions only."""
    lines: list[Line] = []
    for claim_id, version in final_versions(bronze_versions(runs).values()).items():
        row = version.row
        claim_type = CLAIM_TYPE_CODES.get(row["claim_type"])
        if row["adjustment_type"] == "REVERSAL" or claim_type is None:
            continue
        line_dates = [line["service_date"] for line in row["lines"]]
        service_from = _date(row["service_from_date"]) or min(line_dates)
        key = member_key(row["member_id"])
        lob, product = product_on(spans.get(key, ()), service_from)
        for line in row["lines"]:
            raw_code = line["ndc"] if claim_type == "pharmacy" else line["procedure_code"]
            if claim_type == "pharmacy":
                code = normalize_ndc(raw_code) if raw_code else None
            else:
                code = raw_code.strip().upper() if raw_code else None
            lines.append(
                Line(
                    claim_line_id=f"{claim_id}-L{line['line_number']:03d}",
                    claim_id=claim_id,
                    claim_version_id=version.version_id,
                    member_key=key,
                    claim_type=claim_type,
                    claim_status=CLAIM_STATUS_CODES.get(row["claim_status"], UNKNOWN),
                    line_of_business=lob,
                    product_code=product,
                    code=code,
                    billed_amount=Decimal(str(line["billed_amount"])),
                    allowed_amount=Decimal(str(line["allowed_amount"])),
                    paid_amount=Decimal(str(line["paid_amount"])),
                    is_valid_billing_npi=is_valid_npi(row["billing_npi"]),
                    is_valid_rendering_npi=is_valid_npi(row["rendering_npi"]),
                    service_from_date=service_from,
                )
            )
    return lines


def member_months(spans: Spans, months: Sequence[date]) -> Counter[tuple[date, str, str]]:
    """Members eligible on the 15th, by month, line of business and product."""
    counts: Counter[tuple[date, str, str]] = Counter()
    for member_spans in spans.values():
        for month in months:
            lob, product = product_on(member_spans, month.replace(day=15))
            if lob != UNKNOWN:
                counts[(month, lob, product)] += 1
    return counts


def expected_summary(
    lines: Iterable[Line], months: Counter[tuple[date, str, str]]
) -> dict[Cell, dict[str, Any]]:
    """claims_summary rows by cell, from the expected lines and member months."""
    lines = list(lines)
    claims: dict[Cell, dict[str, str]] = defaultdict(dict)
    for line in lines:
        claims[line.cell][line.claim_id] = line.claim_status
    totals = cell_totals(lines)
    summary: dict[Cell, dict[str, Any]] = {}
    for cell, statuses in claims.items():
        status_counts = Counter(statuses.values())
        paid, denied = status_counts["paid"], status_counts["denied"]
        month_members = months[(cell[0], cell[2], cell[3])]
        paid_amount = totals[cell]["paid_amount"]
        summary[cell] = {
            "claim_count": len(statuses),
            "paid_claim_count": paid,
            "denied_claim_count": denied,
            "pending_claim_count": status_counts["pending"],
            "line_count": totals[cell]["line_count"],
            "billed_amount": totals[cell]["billed_amount"],
            "allowed_amount": totals[cell]["allowed_amount"],
            "paid_amount": paid_amount,
            "member_months": month_members,
            "pmpm_paid_amount": (
                (paid_amount / month_members).quantize(CENT, ROUND_HALF_UP)
                if month_members
                else None
            ),
            "denial_rate": (
                (Decimal(denied) / (paid + denied)).quantize(RATE, ROUND_HALF_UP)
                if paid + denied
                else None
            ),
        }
    return summary


def gold_summary(snapshot: Snapshot) -> dict[Cell, dict[str, Any]]:
    """claims_summary rows by cell, grain columns removed."""
    grain = ("service_month_start_date", "claim_type", "line_of_business", "product_code")
    return {
        cast("Cell", tuple(row[c] for c in grain)): {k: v for k, v in row.items() if k not in grain}
        for row in snapshot.rows("gold.claims_summary")
    }


def silver_lines(snapshot: Snapshot) -> list[Line]:
    """The three claim line tables as Lines (pharmacy columns under their pharmacy names)."""
    lines: list[Line] = []
    for claim_type, table in CLAIM_LINE_TABLES.items():
        pharmacy = claim_type == "pharmacy"
        for row in snapshot.rows(table):
            lines.append(
                Line(
                    claim_line_id=row["claim_line_id"],
                    claim_id=row["claim_id"],
                    claim_version_id=row["claim_version_id"],
                    member_key=row["member_key"],
                    claim_type=claim_type,
                    claim_status=row["claim_status"],
                    line_of_business=row["line_of_business"],
                    product_code=row["product_code"],
                    code=row["ndc"] if pharmacy else row["procedure_code"],
                    billed_amount=row["billed_amount"],
                    allowed_amount=row["allowed_amount"],
                    paid_amount=row["paid_amount"],
                    is_valid_billing_npi=row[
                        "is_valid_pharmacy_npi" if pharmacy else "is_valid_billing_npi"
                    ],
                    is_valid_rendering_npi=row[
                        "is_valid_prescriber_npi" if pharmacy else "is_valid_rendering_npi"
                    ],
                    service_from_date=row["fill_date" if pharmacy else "service_from_date"],
                )
            )
    return lines


def cell_totals(lines: Iterable[Line]) -> dict[Cell, dict[str, Any]]:
    """Line count and amount totals by cell, as claims_summary reports them."""
    totals: dict[Cell, dict[str, Any]] = defaultdict(Counter)
    for line in lines:
        cell = totals[line.cell]
        cell["line_count"] += 1
        cell["billed_amount"] += line.billed_amount
        cell["allowed_amount"] += line.allowed_amount
        cell["paid_amount"] += line.paid_amount
    return totals


def _measure(rows: Mapping[Cell, Mapping[str, Any]], cell: Cell, measure: str) -> Any:
    """A cell's measure; a cell without claims has none of anything."""
    return rows.get(cell, {}).get(measure, 0)


def roster_months(start: date, count: int) -> list[date]:
    """First days of the roster window's months: the months member_months reports."""
    return [
        date(start.year + (start.month - 1 + i) // 12, (start.month - 1 + i) % 12 + 1, 1)
        for i in range(count)
    ]


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


def _rows(snapshot: Snapshot, table: str) -> Counter[Any]:
    return Counter(_hashable(row) for row in snapshot.rows(table))


def _clean_rows(deliveries: Iterable[Delivery[ClaimRow]]) -> Iterator[ClaimRow]:
    """Records delivered without any injected defect."""
    for delivery in deliveries:
        damaged = {defect.row_number - 1 for defect in delivery.defects}
        for index, row in enumerate(delivery.rows):
            if index not in damaged and index not in delivery.raw_lines:
                yield row


class ClaimsPipelineTest(SparkTestCase):
    """The claims models as built, incremented and fully refreshed by the shared pipeline."""

    state: PipelineState

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.state = pipeline_state()

    def _claims_nodes(self, snapshot: Snapshot) -> dict[str, str]:
        """Models, data tests and unit tests of the claims domain, with their status."""
        return {
            node: status
            for node, status in snapshot.dbt_statuses.items()
            if "claims" in node and node.startswith(("model.", "test.", "unit_test."))
        }

    def _expected(self, incremental: bool) -> tuple[list[Line], dict[Cell, dict[str, Any]]]:
        state = self.state
        runs = [state.claims.deliveries]
        roster, snapshot = state.roster, state.base
        if incremental:
            runs.append(state.next_claims.deliveries)
            roster, snapshot = state.next_roster, state.incremental
        spans = eligibility_spans(snapshot)
        lines = expected_lines(runs, spans)
        months = member_months(spans, roster_months(roster.start, roster.months))
        return lines, expected_summary(lines, months)

    def test_builds_pass_every_claims_node(self) -> None:
        for name, snapshot in (("base", self.state.base), ("incremental", self.state.incremental)):
            nodes = self._claims_nodes(snapshot)
            with self.subTest(snapshot=name):
                for model in CLAIMS_MODELS:
                    self.assertEqual(nodes.get(model), "success", model)
                self.assertGreaterEqual(sum(n.startswith("unit_test.") for n in nodes), 4)
                self.assertGreaterEqual(sum(n.startswith("test.") for n in nodes), 25)
            for node, status in nodes.items():
                with self.subTest(snapshot=name, node=node):
                    allowed = {"success", "pass"}
                    if any(test in node for test in WARN_TESTS):
                        allowed.add("warn")
                    self.assertIn(status, allowed)

    def test_claims_tables_are_delta(self) -> None:
        for table in CLAIMS_TABLES:
            with self.subTest(table=table):
                detail = self.spark.sql(f"describe detail {table}").first()
                self.assertIsNotNone(detail)
                self.assertEqual(detail["format"], "delta")  # type: ignore[index]

    def test_silver_lines_match_the_generated_claims(self) -> None:
        for name, snapshot, incremental in (
            ("base", self.state.base, False),
            ("incremental", self.state.incremental, True),
        ):
            with self.subTest(snapshot=name):
                expected, _summary = self._expected(incremental)
                self.assertEqual(
                    sorted(silver_lines(snapshot), key=lambda line: line.claim_line_id),
                    sorted(expected, key=lambda line: line.claim_line_id),
                )

    def test_gold_pmpm_matches_independent_recomputation(self) -> None:
        for name, snapshot, incremental in (
            ("base", self.state.base, False),
            ("incremental", self.state.incremental, True),
        ):
            with self.subTest(snapshot=name):
                _lines, expected = self._expected(incremental)
                actual = gold_summary(snapshot)
                self.assertEqual(sorted(actual), sorted(expected))
                for cell, row in expected.items():
                    with self.subTest(cell=cell):
                        self.assertEqual(actual[cell], row)
                self.assertTrue(any(row["pmpm_paid_amount"] for row in actual.values()))

    def test_later_adjustment_and_reversal_replace_earlier_claims(self) -> None:
        state = self.state
        base_final = final_versions(bronze_versions([state.claims.deliveries]).values())
        later = list(_clean_rows(state.next_claims.deliveries))
        base_lines = {line.claim_line_id: line for line in silver_lines(state.base)}
        base_claims = {line.claim_id for line in base_lines.values()}

        def pick(adjustment_type: str) -> ClaimRow:
            for row in later:
                original = row["original_claim_id"]
                if row["adjustment_type"] == adjustment_type and original in base_claims:
                    return row
            self.fail(f"no clean {adjustment_type} of a base claim in {state.next_claims}")

        adjustment, reversal = pick("ADJUSTMENT"), pick("REVERSAL")
        adjusted_id = cast("str", adjustment["original_claim_id"])
        reversed_id = cast("str", reversal["original_claim_id"])
        incremental_lines = {line.claim_line_id: line for line in silver_lines(state.incremental)}

        def claim_lines(lines: Mapping[str, Line], claim_id: str) -> list[Line]:
            return sorted(
                (line for line in lines.values() if line.claim_id == claim_id),
                key=lambda line: line.claim_line_id,
            )

        before = claim_lines(base_lines, adjusted_id)
        after = claim_lines(incremental_lines, adjusted_id)
        self.assertEqual(
            {line.claim_version_id for line in before}, {base_final[adjusted_id].version_id}
        )
        self.assertEqual({line.claim_version_id for line in after}, {adjustment["claim_id"]})
        self.assertEqual(
            [(line.billed_amount, line.allowed_amount, line.paid_amount) for line in after],
            [
                (
                    Decimal(str(line["billed_amount"])),
                    Decimal(str(line["allowed_amount"])),
                    Decimal(str(line["paid_amount"])),
                )
                for line in adjustment["lines"]
            ],
        )
        self.assertTrue(claim_lines(base_lines, reversed_id))
        self.assertEqual(claim_lines(incremental_lines, reversed_id), [])
        resolved = {
            row["claim_id"]: row for row in state.incremental.rows("silver.claims_final_versions")
        }
        self.assertTrue(resolved[reversed_id]["is_reversed"])
        self.assertEqual(resolved[reversed_id]["claim_version_id"], reversal["claim_id"])

        gold_before, gold_after = gold_summary(state.base), gold_summary(state.incremental)
        silver_before = cell_totals(base_lines.values())
        silver_after = cell_totals(incremental_lines.values())
        expected_before, expected_after = self._expected(False)[1], self._expected(True)[1]
        cells = {line.cell for line in before} | {
            line.cell for line in claim_lines(base_lines, reversed_id)
        }
        for cell in sorted(cells):
            for measure in MEASURES:
                with self.subTest(cell=cell, measure=measure):
                    gold_delta = _measure(gold_after, cell, measure) - _measure(
                        gold_before, cell, measure
                    )
                    silver_delta = _measure(silver_after, cell, measure) - _measure(
                        silver_before, cell, measure
                    )
                    expected_delta = _measure(expected_after, cell, measure) - _measure(
                        expected_before, cell, measure
                    )
                    self.assertEqual(gold_delta, silver_delta)
                    self.assertEqual(gold_delta, expected_delta)

    def test_incremental_build_equals_full_refresh(self) -> None:
        for table in CLAIMS_TABLES:
            with self.subTest(table=table):
                incremental = _rows(self.state.incremental, table)
                self.assertTrue(incremental)
                self.assertEqual(incremental, _rows(self.state.full_refresh, table))

    def test_claims_build_runs_on_its_own(self) -> None:
        snapshot = self.state.claims_only
        self.assertTrue(snapshot.dbt_success)
        nodes = self._claims_nodes(snapshot)
        for model in CLAIMS_MODELS:
            self.assertEqual(nodes.get(model), "success", model)
        self.assertFalse(
            [n for n in snapshot.dbt_statuses if n.startswith("model.data_ops.member")]
        )


if __name__ == "__main__":
    unittest.main()
