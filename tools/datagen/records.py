"""Record types shared by the generators and the writers.

Row values are exactly what a file carries, not what the business means: a defect can put a
string where a date belongs (CSV and JSON only), so field types are unions. Raw codes keep their
source variants (``M``, ``male``); map them with :mod:`tools.datagen.codes`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Generic, Literal, TypedDict, TypeVar

__all__ = [
    "CLAIM_DEFECT_KINDS",
    "FILE_EXTENSIONS",
    "MEMBER_DEFECT_KINDS",
    "TEXT_ONLY",
    "TEXT_ONLY_DEFECT_KINDS",
    "ClaimLine",
    "ClaimRow",
    "ClaimsBatch",
    "CoverageSegment",
    "DatagenError",
    "Defect",
    "DefectKind",
    "Delivery",
    "FileFormat",
    "MemberRow",
    "MemberTruth",
    "Roster",
    "count_defects",
]

FileFormat = Literal["csv", "parquet", "json"]

FILE_EXTENSIONS: dict[FileFormat, str] = {"csv": ".csv", "parquet": ".parquet", "json": ".jsonl"}


class DatagenError(ValueError):
    """Invalid generator arguments; the message names the value and the accepted range."""


class DefectKind(StrEnum):
    """Injected defects: each defective record carries exactly one, recorded in the manifest."""

    DUPLICATE_ROW = "duplicate_row"
    """An exact copy of the preceding record (the copy is the defect; the original is clean)."""
    BAD_DATE = "bad_date"
    """A date column holds text that is no ``yyyy-MM-dd`` date. CSV and JSON only."""
    MISSING_MEMBER_ID = "missing_member_id"
    """Roster key empty (CSV) or null / empty string (Parquet)."""
    MISSING_CLAIM_ID = "missing_claim_id"
    """Claim key null or empty string."""
    UNKNOWN_CODE = "unknown_code"
    """A code column holds a value outside :mod:`tools.datagen.codes`."""
    COVERAGE_END_BEFORE_START = "coverage_end_before_start"
    """coverage_end_date earlier than coverage_start_date."""
    SERVICE_TO_BEFORE_FROM = "service_to_before_from"
    """service_to_date earlier than service_from_date."""
    TOO_MANY_FIELDS = "too_many_fields"
    """CSV line with one field too many (an unquoted comma split the address). CSV only."""
    TOO_FEW_FIELDS = "too_few_fields"
    """CSV line missing its last two fields (a truncated line). CSV only."""
    MALFORMED_JSON = "malformed_json"
    """A JSON line cut off mid-record. JSON only."""
    INVALID_NPI = "invalid_npi"
    """billing_npi or rendering_npi fails the NPI Luhn check."""
    OUTSIDE_COVERAGE = "outside_coverage"
    """Service dates before the member's first coverage segment."""
    UNKNOWN_MEMBER = "unknown_member"
    """member_id that no roster delivery ever carries."""
    AMOUNT_INCONSISTENT = "amount_inconsistent"
    """One line breaks paid <= allowed <= billed."""


MEMBER_DEFECT_KINDS: frozenset[DefectKind] = frozenset(
    {
        DefectKind.DUPLICATE_ROW,
        DefectKind.BAD_DATE,
        DefectKind.MISSING_MEMBER_ID,
        DefectKind.UNKNOWN_CODE,
        DefectKind.COVERAGE_END_BEFORE_START,
        DefectKind.TOO_MANY_FIELDS,
        DefectKind.TOO_FEW_FIELDS,
    }
)
CLAIM_DEFECT_KINDS: frozenset[DefectKind] = frozenset(
    {
        DefectKind.DUPLICATE_ROW,
        DefectKind.BAD_DATE,
        DefectKind.MISSING_CLAIM_ID,
        DefectKind.UNKNOWN_CODE,
        DefectKind.SERVICE_TO_BEFORE_FROM,
        DefectKind.INVALID_NPI,
        DefectKind.OUTSIDE_COVERAGE,
        DefectKind.UNKNOWN_MEMBER,
        DefectKind.AMOUNT_INCONSISTENT,
        DefectKind.MALFORMED_JSON,
    }
)
TEXT_ONLY_DEFECT_KINDS: dict[FileFormat, frozenset[DefectKind]] = {
    "csv": frozenset({DefectKind.BAD_DATE, DefectKind.TOO_MANY_FIELDS, DefectKind.TOO_FEW_FIELDS}),
    "json": frozenset({DefectKind.BAD_DATE, DefectKind.MALFORMED_JSON}),
}
"""Defects a typed Parquet file cannot carry, by the text format that can."""
TEXT_ONLY: frozenset[DefectKind] = frozenset().union(*TEXT_ONLY_DEFECT_KINDS.values())
"""Every defect kind that needs a text format."""


@dataclass(frozen=True, slots=True)
class Defect:
    """One manifest entry: where a defect was injected and what it is."""

    file_name: str
    row_number: int
    """1-based record number: CSV records after the header, JSON lines, Parquet rows."""
    kind: DefectKind
    column: str | None
    """Damaged column (``lines.paid_amount`` for a claim line); None for whole-record defects."""
    value: str | None
    """Injected value as text (None for an injected null); the record's key for a duplicate;
    the exact text written for a malformed record."""


class MemberRow(TypedDict):
    """One roster record, in file column order (see ``_member__sources.yml``)."""

    member_id: str | None
    subscriber_id: str
    relationship_code: str
    first_name: str
    last_name: str
    birth_date: date | str
    gender_code: str
    ssn: str | None
    address_line: str
    city: str
    state: str
    zip5: str
    phone: str
    email: str | None
    line_of_business: str
    product_code: str
    plan_id: str
    coverage_start_date: date | str
    coverage_end_date: date | str | None
    record_updated_at: datetime


class ClaimLine(TypedDict):
    """One service line; amounts are Decimal (2 places) or, in some JSON claims, strings."""

    line_number: int
    procedure_code: str | None
    ndc: str | None
    units: int
    service_date: date
    billed_amount: Decimal | str
    allowed_amount: Decimal | str
    paid_amount: Decimal | str


class ClaimRow(TypedDict):
    """One claim version (original, adjustment or reversal), in file field order."""

    claim_id: str | None
    claim_version: int
    adjustment_type: str
    original_claim_id: str | None
    member_id: str
    claim_type: str
    claim_status: str
    billing_npi: str
    rendering_npi: str
    service_from_date: date | str
    service_to_date: date | str
    received_date: date | str
    diagnosis_codes: list[str]
    lines: list[ClaimLine]


RowT = TypeVar("RowT", MemberRow, ClaimRow)


@dataclass(frozen=True, slots=True)
class Delivery(Generic[RowT]):
    """One landing file: its records in file order plus the defects injected into it."""

    file_name: str
    file_format: FileFormat
    month: date
    """First day of the delivery month."""
    rows: list[RowT]
    """Records in file order. For a malformed record this is the intended record."""
    raw_lines: dict[int, str]
    """0-based index into ``rows`` -> exact text written instead (malformed CSV / JSON lines)."""
    defects: list[Defect]


@dataclass(frozen=True, slots=True)
class CoverageSegment:
    """One clean enrolment span; coverage always starts on a 1st and ends on a month end."""

    start: date
    end: date | None
    plan_id: str
    line_of_business: str
    """Canonical line of business (``commercial``, ``medicare_advantage``, ``medicaid``)."""

    def covers(self, day: date) -> bool:
        """True when `day` falls inside the segment."""
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(slots=True)
class MemberTruth:
    """The clean facts behind a member's rows, for claims generation and reference checks."""

    member_id: str
    subscriber_id: str
    relationship: str
    """Canonical: ``subscriber``, ``spouse`` or ``dependent``."""
    birth_date: date
    gender: str
    """Canonical: ``male``, ``female`` or ``unknown``."""
    segments: list[CoverageSegment]
    """Coverage segments as known at the end of the generated horizon, oldest first."""

    def segment_on(self, day: date) -> CoverageSegment | None:
        """The segment covering `day`, if any."""
        for segment in self.segments:
            if segment.covers(day):
                return segment
        return None


@dataclass(frozen=True, slots=True)
class Roster:
    """Monthly roster deliveries plus the clean member facts they were drawn from."""

    start: date
    months: int
    seed: int
    deliveries: list[Delivery[MemberRow]]
    members: dict[str, MemberTruth]
    """Every member created up to the horizon, in creation order."""

    @property
    def defects(self) -> list[Defect]:
        """All injected defects, in delivery and row order."""
        return [defect for delivery in self.deliveries for defect in delivery.defects]


@dataclass(frozen=True, slots=True)
class ClaimsBatch:
    """Monthly claims deliveries."""

    deliveries: list[Delivery[ClaimRow]]

    @property
    def defects(self) -> list[Defect]:
        """All injected defects, in delivery and row order."""
        return [defect for delivery in self.deliveries for defect in delivery.defects]


def count_defects(defects: Iterable[Defect]) -> Counter[DefectKind]:
    """Defects per kind, for reconciling with quarantine counts."""
    return Counter(defect.kind for defect in defects)
