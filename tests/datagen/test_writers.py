"""File writers: byte-reproducible files, contract-shaped Parquet, CSV and JSON spellings."""

from __future__ import annotations

import csv
import json
import re
import tempfile
import unittest
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import pyarrow.parquet as pq

from tests.datagen import SEED, START, clean_claims, clean_roster
from tools.datagen import (
    DatagenError,
    Delivery,
    MemberRow,
    generate_claims,
    generate_roster,
    write_big_csv,
    write_big_jsonl,
    write_claims_files,
    write_manifest,
    write_member_files,
)
from tools.datagen.formatting import CsvDialect, json_line
from tools.datagen.writers import claims_arrow_schema, member_arrow_schema, write_parquet

_AMOUNT = re.compile(r'"(?:billed|allowed|paid)_amount":("?)(\d+\.\d{2})\1[,}]')


def _write_all(directory: Path, seed: int) -> dict[str, bytes]:
    roster = generate_roster(300, 4, START, seed, defect_rate=0.1)
    claims = generate_claims(roster, seed, defect_rate=0.1)
    paths = write_member_files(roster.deliveries, directory / "member_files")
    paths += write_claims_files(claims.deliveries, directory / "claims_files")
    return {f"{path.parent.name}/{path.name}": path.read_bytes() for path in paths}


class ReproducibilityTest(unittest.TestCase):
    def test_same_seed_writes_byte_identical_files(self) -> None:
        with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
            first, second = _write_all(Path(one), SEED), _write_all(Path(two), SEED)
        self.assertEqual(len(first), 8)
        self.assertEqual(first, second)

    def test_another_seed_writes_different_files(self) -> None:
        with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
            first, second = _write_all(Path(one), SEED), _write_all(Path(two), SEED + 1)
        self.assertEqual(first.keys(), second.keys())
        for name in first:
            self.assertNotEqual(first[name], second[name], name)


class LandingFilesTest(unittest.TestCase):
    directory: ClassVar[tempfile.TemporaryDirectory[str]]
    member_dir: ClassVar[Path]
    claims_dir: ClassVar[Path]

    @classmethod
    def setUpClass(cls) -> None:
        cls.directory = tempfile.TemporaryDirectory()
        cls.member_dir = Path(cls.directory.name) / "member_files"
        cls.claims_dir = Path(cls.directory.name) / "claims_files"
        write_member_files(clean_roster().deliveries, cls.member_dir)
        write_claims_files(clean_claims().deliveries, cls.claims_dir)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.directory.cleanup()

    def test_only_the_deliveries_land_no_temporary_files(self) -> None:
        names = sorted(path.name for path in self.member_dir.iterdir())
        self.assertEqual(names, sorted(d.file_name for d in clean_roster().deliveries))

    def test_parquet_files_have_the_contract_schema(self) -> None:
        for folder, schema in (
            (self.member_dir, member_arrow_schema()),
            (self.claims_dir, claims_arrow_schema()),
        ):
            for path in folder.glob("*.parquet"):
                written = pq.read_schema(path)
                self.assertEqual(written.names, schema.names)
                for field in schema:
                    self.assertTrue(written.field(field.name).type.equals(field.type), field.name)

    def test_parquet_rows_match_the_delivery(self) -> None:
        delivery = clean_roster().deliveries[1]
        rows = pq.read_table(self.member_dir / delivery.file_name).to_pylist()
        self.assertEqual(len(rows), len(delivery.rows))
        first = rows[0]
        self.assertEqual(first["birth_date"], delivery.rows[0]["birth_date"])
        expected_time = delivery.rows[0]["record_updated_at"]
        self.assertEqual(first["record_updated_at"].replace(tzinfo=None), expected_time)

    def test_csv_spells_dates_and_timestamps_as_the_contract_says(self) -> None:
        delivery = clean_roster().deliveries[0]
        with (self.member_dir / delivery.file_name).open(encoding="utf-8", newline="") as handle:
            records = list(csv.DictReader(handle, dialect=CsvDialect))
        self.assertEqual(len(records), len(delivery.rows))
        for record in records:
            self.assertRegex(record["birth_date"], r"^\d{4}-\d{2}-\d{2}$")
            self.assertRegex(record["record_updated_at"], r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
            self.assertRegex(record["zip5"], r"^\d{5}$")
        self.assertTrue(any("," in record["address_line"] for record in records))

    def test_json_amounts_keep_two_decimals_as_numbers_or_strings(self) -> None:
        spellings: set[str] = set()
        for delivery in clean_claims().deliveries:
            if delivery.file_format != "json":
                continue
            text = (self.claims_dir / delivery.file_name).read_text(encoding="utf-8")
            lines = text.splitlines()
            self.assertEqual(len(lines), len(delivery.rows))
            matches = _AMOUNT.findall(text)
            self.assertEqual(len(matches), 3 * sum(len(row["lines"]) for row in delivery.rows))
            spellings.update("string" if quote else "number" for quote, _ in matches)
            decoded = json.loads(lines[0], parse_float=Decimal)
            self.assertEqual(decoded["received_date"], str(delivery.rows[0]["received_date"]))
        self.assertEqual(spellings, {"string", "number"})


class GenericWritersTest(unittest.TestCase):
    rows: ClassVar[list[dict[str, object]]] = [
        {
            "id": "a",
            "day": date(2025, 1, 31),
            "at": datetime(2025, 1, 2, 3, 4, 5),
            "amount": Decimal("1.50"),
            "note": None,
        },
        {
            "id": "b",
            "day": date(2025, 2, 1),
            "at": datetime(2025, 2, 3, 4, 5, 6),
            "amount": Decimal("10.00"),
            "note": 'say "hi", ok',
        },
    ]

    def test_big_csv_round_trips_with_contract_spellings(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "big.csv"
            self.assertEqual(write_big_csv(path, iter(self.rows)), 2)
            text = path.read_text(encoding="utf-8")
        self.assertEqual(
            text,
            "id,day,at,amount,note\n"
            "a,2025-01-31,2025-01-02 03:04:05,1.50,\n"
            'b,2025-02-01,2025-02-03 04:05:06,10.00,"say ""hi"", ok"\n',
        )

    def test_big_csv_takes_an_explicit_column_order(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "big.csv"
            write_big_csv(path, self.rows, columns=["amount", "id"])
            self.assertEqual(path.read_text(encoding="utf-8"), "amount,id\n1.50,a\n10.00,b\n")
            with self.assertRaises(DatagenError):
                write_big_csv(path, [])

    def test_big_jsonl_writes_one_object_per_line(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "big.jsonl"
            self.assertEqual(write_big_jsonl(path, iter(self.rows)), 2)
            lines = path.read_text(encoding="utf-8").splitlines()
        self.assertEqual(
            lines[0],
            '{"id":"a","day":"2025-01-31","at":"2025-01-02 03:04:05","amount":1.50,"note":null}',
        )
        self.assertEqual(json.loads(lines[1])["note"], 'say "hi", ok')

    def test_json_line_escapes_strings_like_the_stdlib(self) -> None:
        texts = ["plain", 'quote " and \\ backslash', "tab\tnew\nline", "Nguyễn Zoë", "\x01", ""]
        for text in texts:
            record = {"text": text, "items": [text, None, 1, True], "nested": {"k": text}}
            self.assertEqual(
                json_line(record), json.dumps(record, ensure_ascii=False, separators=(",", ":"))
            )
        self.assertEqual(json_line({"n": 2.5, "t": ("a",)}), '{"n":2.5,"t":["a"]}')
        with self.assertRaises(TypeError):
            json_line({"x": object()})

    def test_parquet_refuses_rows_that_break_the_schema(self) -> None:
        row = dict(clean_roster().deliveries[0].rows[0])
        row["birth_date"] = "2025-13-45"
        with tempfile.TemporaryDirectory() as directory, self.assertRaises(DatagenError):
            write_parquet(Path(directory) / "bad.parquet", [row], member_arrow_schema())

    def test_parquet_refuses_malformed_records(self) -> None:
        row = clean_roster().deliveries[0].rows[0]
        delivery: Delivery[MemberRow] = Delivery(
            "roster_2025_01.parquet", "parquet", START, [row], {0: "a,b"}, []
        )
        with tempfile.TemporaryDirectory() as directory, self.assertRaises(DatagenError):
            write_member_files([delivery], directory)

    def test_manifest_lists_one_defect_per_line(self) -> None:
        roster = generate_roster(100, 2, START, SEED, defect_rate=0.2)
        with tempfile.TemporaryDirectory() as directory:
            path = write_manifest(Path(directory) / "manifest.jsonl", roster.defects)
            records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        self.assertEqual(len(records), len(roster.defects))
        self.assertEqual(set(records[0]), {"file_name", "row_number", "kind", "column", "value"})
        self.assertEqual(records[0]["file_name"], "roster_2025_01.csv")


if __name__ == "__main__":
    unittest.main()
