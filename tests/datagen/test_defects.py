"""Defect manifests: re-derive every defect from the written files and match the manifest."""

from __future__ import annotations

import csv
import io
import json
import tempfile
import unittest
from collections import Counter
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ClassVar

import pyarrow.parquet as pq

from tests.datagen import defective_claims, defective_roster, parse_iso_date
from tools.datagen import (
    MEMBER_COLUMNS,
    Defect,
    MemberTruth,
    write_claims_files,
    write_member_files,
)
from tools.datagen.codes import (
    CLAIM_STATUS_CODES,
    CLAIM_TYPE_CODES,
    GENDER_CODES,
    LINE_OF_BUSINESS_CODES,
    PRODUCT_CODES,
    RELATIONSHIP_CODES,
)
from tools.datagen.formatting import CsvDialect
from tools.datagen.identifiers import is_valid_npi

Found = list[tuple[int, str]]

_MEMBER_CODES = {
    "gender_code": GENDER_CODES,
    "relationship_code": RELATIONSHIP_CODES,
    "line_of_business": LINE_OF_BUSINESS_CODES,
    "product_code": PRODUCT_CODES,
}


def _as_date(value: object) -> date | None:
    if isinstance(value, date):
        return value
    return parse_iso_date(value if isinstance(value, str) else None)


def _bad_date(value: object) -> bool:
    """Present but not a ``yyyy-MM-dd`` date (empty counts as absent, not bad)."""
    return value not in (None, "") and _as_date(value) is None


def _member_kind(record: Mapping[str, Any]) -> str | None:
    """The one defect a roster record shows, judged only from its content."""
    if not record["member_id"]:
        return "missing_member_id"
    if any(
        _bad_date(record[c]) for c in ("birth_date", "coverage_start_date", "coverage_end_date")
    ):
        return "bad_date"
    if any(record[column] not in codes for column, codes in _MEMBER_CODES.items()):
        return "unknown_code"
    start, end = _as_date(record["coverage_start_date"]), _as_date(record["coverage_end_date"])
    if start is not None and end is not None and end < start:
        return "coverage_end_before_start"
    return None


def _amount(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal("NaN")


def _claim_kind(record: Mapping[str, Any], members: Mapping[str, MemberTruth]) -> str | None:
    """The one defect a claim record shows, judged from its content and the roster truth."""
    if not record["claim_id"]:
        return "missing_claim_id"
    if any(_bad_date(record[c]) for c in ("service_from_date", "service_to_date", "received_date")):
        return "bad_date"
    if (
        record["claim_type"] not in CLAIM_TYPE_CODES
        or record["claim_status"] not in CLAIM_STATUS_CODES
    ):
        return "unknown_code"
    if not (is_valid_npi(record["billing_npi"]) and is_valid_npi(record["rendering_npi"])):
        return "invalid_npi"
    start, end = _as_date(record["service_from_date"]), _as_date(record["service_to_date"])
    assert start is not None and end is not None
    if end < start:
        return "service_to_before_from"
    truth = members.get(record["member_id"])
    if truth is None:
        return "unknown_member"
    if truth.segment_on(start) is None or truth.segment_on(end) is None:
        return "outside_coverage"
    for line in record["lines"]:
        billed, allowed, paid = (
            _amount(line[name]) for name in ("billed_amount", "allowed_amount", "paid_amount")
        )
        if not paid <= allowed <= billed:
            return "amount_inconsistent"
    return None


def _manifest(defects: list[Defect], file_name: str) -> Found:
    return [(d.row_number, str(d.kind)) for d in defects if d.file_name == file_name]


class DefectReconciliationTest(unittest.TestCase):
    directory: ClassVar[tempfile.TemporaryDirectory[str]]
    root: ClassVar[Path]

    @classmethod
    def setUpClass(cls) -> None:
        cls.directory = tempfile.TemporaryDirectory()
        cls.root = Path(cls.directory.name)
        write_member_files(defective_roster().deliveries, cls.root / "member_files")
        write_claims_files(defective_claims().deliveries, cls.root / "claims_files")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.directory.cleanup()

    def _roster_csv(self, path: Path) -> Found:
        found: Found = []
        previous: list[str] | None = None
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, dialect=CsvDialect)
            self.assertEqual(next(reader), list(MEMBER_COLUMNS))
            for number, fields in enumerate(reader, start=1):
                if len(fields) != len(MEMBER_COLUMNS):
                    self.assertIn(len(fields), (len(MEMBER_COLUMNS) + 1, len(MEMBER_COLUMNS) - 2))
                    kind = (
                        "too_many_fields" if len(fields) > len(MEMBER_COLUMNS) else "too_few_fields"
                    )
                    found.append((number, kind))
                elif fields == previous:
                    found.append((number, "duplicate_row"))
                else:
                    member_kind = _member_kind(dict(zip(MEMBER_COLUMNS, fields, strict=True)))
                    if member_kind is not None:
                        found.append((number, member_kind))
                previous = fields
        return found

    def _parquet(self, path: Path, kind_of: Any) -> Found:
        found: Found = []
        previous: dict[str, Any] | None = None
        for number, record in enumerate(pq.read_table(path).to_pylist(), start=1):
            if record == previous:
                found.append((number, "duplicate_row"))
            elif (kind := kind_of(record)) is not None:
                found.append((number, kind))
            previous = record
        return found

    def _claims_json(self, path: Path) -> Found:
        members = defective_roster().members
        found: Found = []
        previous: str | None = None
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                record = json.loads(text)
            except json.JSONDecodeError:
                found.append((number, "malformed_json"))
            else:
                if text == previous:
                    found.append((number, "duplicate_row"))
                elif (kind := _claim_kind(record, members)) is not None:
                    found.append((number, kind))
            previous = text
        return found

    def test_roster_files_hold_exactly_the_manifest_defects(self) -> None:
        roster = defective_roster()
        for delivery in roster.deliveries:
            path = self.root / "member_files" / delivery.file_name
            with self.subTest(file=delivery.file_name):
                if delivery.file_format == "csv":
                    found = self._roster_csv(path)
                else:
                    found = self._parquet(path, _member_kind)
                self.assertEqual(found, _manifest(roster.defects, delivery.file_name))

    def test_claims_files_hold_exactly_the_manifest_defects(self) -> None:
        claims, members = defective_claims(), defective_roster().members
        for delivery in claims.deliveries:
            path = self.root / "claims_files" / delivery.file_name
            with self.subTest(file=delivery.file_name):
                if delivery.file_format == "json":
                    found = self._claims_json(path)
                else:
                    found = self._parquet(path, lambda record: _claim_kind(record, members))
                self.assertEqual(found, _manifest(claims.defects, delivery.file_name))

    def test_every_defect_kind_occurs(self) -> None:
        member_kinds = Counter(str(d.kind) for d in defective_roster().defects)
        claim_kinds = Counter(str(d.kind) for d in defective_claims().defects)
        self.assertEqual(
            set(member_kinds),
            {
                "duplicate_row",
                "bad_date",
                "missing_member_id",
                "unknown_code",
                "coverage_end_before_start",
                "too_many_fields",
                "too_few_fields",
            },
        )
        self.assertEqual(
            set(claim_kinds),
            {
                "duplicate_row",
                "bad_date",
                "missing_claim_id",
                "unknown_code",
                "service_to_before_from",
                "invalid_npi",
                "outside_coverage",
                "unknown_member",
                "amount_inconsistent",
                "malformed_json",
            },
        )

    def test_text_only_defects_stay_out_of_parquet_files(self) -> None:
        defects = defective_roster().defects + defective_claims().defects
        text_only = {"bad_date", "too_many_fields", "too_few_fields", "malformed_json"}
        for defect in defects:
            if defect.kind in text_only:
                self.assertFalse(defect.file_name.endswith(".parquet"), defect)

    def test_defect_share_follows_the_rate(self) -> None:
        roster = defective_roster()
        rows = sum(len(delivery.rows) for delivery in roster.deliveries)
        duplicates = sum(1 for d in roster.defects if d.kind == "duplicate_row")
        share = len(roster.defects) / (rows - duplicates)
        self.assertAlmostEqual(share, 0.15, delta=0.03)


class MalformedCsvTest(unittest.TestCase):
    def test_malformed_lines_really_have_the_wrong_field_count(self) -> None:
        width = len(MEMBER_COLUMNS)
        checked = 0
        for delivery in defective_roster().deliveries:
            for defect in delivery.defects:
                if defect.kind not in ("too_many_fields", "too_few_fields"):
                    continue
                text = delivery.raw_lines[defect.row_number - 1]
                self.assertEqual(defect.value, text)
                fields = next(csv.reader(io.StringIO(text, newline=""), dialect=CsvDialect))
                expected = width + 1 if defect.kind == "too_many_fields" else width - 2
                self.assertEqual(len(fields), expected)
                checked += 1
        self.assertGreater(checked, 5)


if __name__ == "__main__":
    unittest.main()
