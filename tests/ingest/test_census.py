"""The JSON key census and the one-pass fingerprint (no Spark needed)."""

from __future__ import annotations

import hashlib
import json
import tempfile
import unittest
from pathlib import Path

from pyspark.sql import types as T

from python_ingest.census import KeyCensus
from python_ingest.fingerprint import fingerprint
from python_ingest.types import parse_type

SCHEMA = T.StructType(
    [
        T.StructField("order_id", T.StringType()),
        T.StructField("tags", parse_type("array<string>")),
        T.StructField("lines", parse_type("array<struct<sku:string,amount:decimal(12,2)>>")),
        T.StructField("ship_to", parse_type("struct<city:string,geo:struct<lat:double>>")),
        T.StructField("by_store", parse_type("map<string,struct<qty:int>>")),
        T.StructField("attributes", parse_type("map<string,string>")),
    ]
)
CLEAN = {
    "order_id": "O1",
    "tags": ["a", {"free": "form"}],  # a leaf value of another shape is Spark's to judge
    "lines": [{"sku": "A", "amount": "1.50"}, None, {"sku": None}],
    "ship_to": {"city": "Oslo", "geo": {"lat": 59.9}},
    "by_store": {"s1": {"qty": 2}, "s2": None},
    "attributes": {"any": "key", "is": "data"},
}


def census(data: bytes, chunk: int = 5) -> KeyCensus:
    result = KeyCensus(SCHEMA)
    for start in range(0, len(data), chunk):
        result.feed(data[start : start + chunk])
    result.finish()
    return result


def lines(*records: object) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


class KeyCensusTest(unittest.TestCase):
    def test_declared_keys_only_is_clean_across_chunk_boundaries(self) -> None:
        data = lines(CLEAN, {"order_id": "O2"}, {}) + b"\n  \n" + json.dumps(CLEAN).encode()
        for chunk in (1, 7, 64, len(data)):
            with self.subTest(chunk=chunk):
                result = census(data, chunk)
                self.assertTrue(result.clean, result.problem)
                self.assertEqual(result.records, 4)

    def test_windows_line_endings_are_clean(self) -> None:
        self.assertTrue(census(lines(CLEAN, CLEAN).replace(b"\n", b"\r\n")).clean)

    def test_a_carriage_return_inside_a_line_is_not_clean(self) -> None:
        # Spark's reader ends a line there, where the census would read one object on.
        record = json.dumps({"order_id": "O1", "tags": ["a"]}).encode()
        inside = record.replace(b", ", b",\r", 1) + b"\n"
        for name, data in {
            "mid-file": lines(CLEAN) + inside + lines(CLEAN),
            "last line, no line feed": lines(CLEAN) + inside.rstrip(b"\n"),
            "old Mac line ends": record + b"\r" + record + b"\r",
        }.items():
            for chunk in (3, 4096):
                with self.subTest(name, chunk=chunk):
                    result = census(data, chunk)
                    self.assertFalse(result.clean)
                    self.assertRegex(result.problem or "", r"^line \d+: a carriage return")

    def test_an_undeclared_key_at_any_depth_is_found_even_with_a_null_value(self) -> None:
        cases = {
            "top level": {**CLEAN, "coupon": "X"},
            "array element": {**CLEAN, "lines": [{"sku": "A", "modifier": "25"}]},
            "null value": {**CLEAN, "lines": [{"sku": "A", "modifier": None}]},
            "nested struct": {**CLEAN, "ship_to": {"city": "Oslo", "geo": {"lon": 10.7}}},
            "map value": {**CLEAN, "by_store": {"s1": {"qty": 1, "price": 3}}},
            "key of another level": {**CLEAN, "lines": [{"sku": "A", "order_id": "O1"}]},
        }
        for name, record in cases.items():
            with self.subTest(name):
                result = census(b"\n" + lines(CLEAN, record, CLEAN))
                self.assertFalse(result.clean)
                self.assertRegex(result.problem or "", r"^line 3: .*unknown field")

    def test_anything_but_a_json_object_per_line_is_not_clean(self) -> None:
        for name, data in {
            "invalid JSON": lines(CLEAN) + b"{not json\n",
            "array line": lines(CLEAN) + b"[1, 2]\n",
            "struct given as text": lines({**CLEAN, "ship_to": "Oslo"}),
            "two objects on a line": json.dumps(CLEAN).encode() * 2 + b"\n",
            "NaN": lines(CLEAN) + b'{"order_id": NaN}\n',
        }.items():
            with self.subTest(name):
                result = census(data)
                self.assertFalse(result.clean)
                self.assertIsNotNone(result.problem)

    def test_the_first_undeclared_key_is_found_after_another_problem(self) -> None:
        data = lines(CLEAN) + b"{not json\n" + lines({**CLEAN, "coupon": "X"}, {"zz": 1})
        result = census(data)
        self.assertFalse(result.clean)
        self.assertRegex(result.problem or "", r"^line 2: JSON is malformed")
        self.assertRegex(result.undeclared or "", r"^line 3: .*unknown field `coupon`")

    def test_a_json_array_document_is_not_censused(self) -> None:
        result = census(b"  [" + json.dumps(CLEAN).encode() + b"]\n")
        self.assertFalse(result.clean)
        self.assertIsNone(result.problem)
        self.assertEqual(result.records, 0)


class FingerprintTest(unittest.TestCase):
    def write(self, data: bytes) -> Path:
        folder = Path(tempfile.mkdtemp(prefix="fingerprint-"))
        path = folder / "f.jsonl"
        path.write_bytes(data)
        return path

    def test_hash_text_check_and_census_in_one_pass(self) -> None:
        data = lines(CLEAN) * 3
        found = fingerprint(self.write(data), check_utf8=True, census=KeyCensus(SCHEMA))
        self.assertEqual(found.sha256, hashlib.sha256(data).hexdigest())
        self.assertEqual((found.not_text, found.invalid_lines, found.lines), (None, (), 3))
        self.assertTrue(found.keys_checked)

    def test_lines_that_are_not_utf8_are_named_and_the_census_gives_no_verdict(self) -> None:
        data = lines(CLEAN) + lines(CLEAN)[:10] + b"\xff" + b"\n" + lines(CLEAN)
        found = fingerprint(self.write(data), check_utf8=True, census=KeyCensus(SCHEMA))
        self.assertEqual((found.not_text, found.invalid_lines), (None, (2,)))
        self.assertFalse(found.keys_checked)
        self.assertIsNone(found.census_problem)

    def test_a_multibyte_character_across_blocks_is_valid(self) -> None:
        data = ("é" * 5_000_000 + "\n").encode()  # larger than one read block
        found = fingerprint(self.write(data), check_utf8=True)
        self.assertEqual((found.not_text, found.invalid_lines), (None, ()))

    def test_a_file_that_is_not_utf8_text_is_named(self) -> None:
        cases = {
            "UTF-16 (little-endian)": "a,b\n1,2\n".encode("utf-16"),
            "NUL bytes": "a,b\n1,2\n".encode("utf-16-le"),
            "lines are not valid UTF-8": "a\nJosé\nRené\n".encode("latin-1"),
        }
        for expected, data in cases.items():
            with self.subTest(expected):
                found = fingerprint(self.write(data), check_utf8=True)
                self.assertIn(expected, found.not_text or "")

    def test_undeclared_key_is_reported(self) -> None:
        data = lines(CLEAN, {**CLEAN, "coupon": "X"})
        found = fingerprint(self.write(data), check_utf8=True, census=KeyCensus(SCHEMA))
        self.assertFalse(found.keys_checked)
        self.assertIn("`coupon`", found.census_problem or "")


class KeySurveyTest(unittest.TestCase):
    def test_undeclared_keys_are_listed_where_they_sit(self) -> None:
        data = lines(
            CLEAN,
            {**CLEAN, "Coupon": "X", "lines": [{"SKU": "A", "amount": 1}]},
            {"order_id": "O3", "ship_to": {"geo": {"Lat": 1}}, "by_store": {"s": {"qty": 1}}},
            {**CLEAN, "Coupon": "Y"},
        )
        result = census(data, chunk=len(data))
        self.assertFalse(result.clean)
        self.assertEqual(
            result.unknown,
            {(): {"Coupon"}, ("lines",): {"SKU"}, ("ship_to", "geo"): {"Lat"}},
        )


if __name__ == "__main__":
    unittest.main()
