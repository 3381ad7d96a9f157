"""A foreign feed onboarded by configuration alone, with nothing silently changed or dropped.

The fixture domain ``ehr`` (tests/fixtures/feeds_project) declares an EHR export as it comes:
headers such as ``Id``, ``BIRTHDATE``, ``First Name``, ``HEALTHCARE_EXPENSES``; ISO timestamps
with ``Z`` or an offset; money with three decimals; JSON keys such as ``TotalCost`` and nested
``Lines[].Cost``. Every file here is written by the test.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from python_ingest.cli import main
from tests.ingest.base import IngestTestCase
from tests.ingest.test_ingest import parquet_bytes
from tests.support import REPO_ROOT

FEEDS = REPO_ROOT / "tests" / "fixtures" / "feeds_project"
HEADER = "Id,BIRTHDATE,First Name,HEALTHCARE_EXPENSES,UPDATED_AT\n"
PY4J = "An error occurred while calling"


class FeedTestCase(IngestTestCase):
    project = FEEDS
    tables = ("patients_raw", "encounters_raw")

    def rows(self, table: str) -> dict[str, Any]:
        key = "patient_id" if table == "patients_raw" else "encounter_id"
        return {r[key]: r for r in self.bronze(table)}

    def cli_ingest(self, table: str) -> tuple[int, str]:
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = main(["ingest", "--project-dir", str(FEEDS), "--table", table])
        return code, err.getvalue()

    def declare(self, table: str, **ingestion: object) -> None:
        contract = self.contracts[table]
        self.contracts[table] = contract.model_copy(
            update={"ingestion": contract.ingestion.model_copy(update=ingestion)}
        )


class SourceNamesTest(FeedTestCase):
    def test_headers_in_other_cases_and_spellings_feed_their_columns(self) -> None:
        self.deliver(
            "patients_raw",
            "patients.csv",
            HEADER
            + "p1,1980-02-03,Ann,2191.712,2019-02-17T05:07:38Z\n"
            + "p2,1990-01-01,Bo,10.50,2019-02-17T05:07:38+02:00\n"
            + "p3,1975-05-05,Cy,0.1,2019-02-17T05:07:38Z\n",
        )

        (outcome,) = self.ingest("patients_raw")["patients_raw"].outcomes

        self.assertEqual(
            (outcome.status, outcome.rows_read, outcome.rows_loaded, outcome.rows_rescued),
            ("loaded", 3, 3, 2),
        )
        rows = self.rows("patients_raw")
        self.assertEqual(
            [
                (r.patient_id, str(r.birth_date), r.first_name, r.healthcare_expenses, r.updated_at)
                for r in (rows["p1"], rows["p2"], rows["p3"])
            ],
            [
                ("p1", "1980-02-03", "Ann", Decimal("2191.71"), datetime(2019, 2, 17, 5, 7, 38)),
                ("p2", "1990-01-01", "Bo", Decimal("10.50"), datetime(2019, 2, 17, 3, 7, 38)),
                ("p3", "1975-05-05", "Cy", Decimal("0.10"), datetime(2019, 2, 17, 5, 7, 38)),
            ],
        )
        # What the types changed keeps its delivered text: the rounded amount, the time that
        # was shifted from +02:00 to UTC. A value with Z, or fewer decimals, changed nothing.
        self.assertEqual(json.loads(rows["p1"]._rescued_data), {"healthcare_expenses": "2191.712"})
        self.assertEqual(
            json.loads(rows["p2"]._rescued_data), {"updated_at": "2019-02-17T05:07:38+02:00"}
        )
        self.assertIsNone(rows["p3"]._rescued_data)
        (entry,) = self.ledger("patients_raw")
        self.assertEqual(
            (entry.status, entry.rows_read, entry.rows_loaded, entry.rows_rescued),
            ("loaded", 3, 3, 2),
        )

    def test_the_cli_shows_rows_with_rescued_values(self) -> None:
        self.deliver("patients_raw", "p.csv", HEADER + "p1,1980-02-03,Ann,1.005,\n")
        code, err = self.cli_ingest("patients_raw")
        self.assertEqual(code, 0, err)
        self.assertIn("read=1 loaded=1 quarantined=0 rescued=1", err)

    def test_two_headers_for_one_column_fail_naming_both(self) -> None:
        self.deliver(
            "patients_raw", "p.csv", "Id,BIRTHDATE,First Name,first_name\np1,1980-02-03,A,B\n"
        )

        (outcome,) = self.ingest("patients_raw")["patients_raw"].outcomes

        self.assertEqual(outcome.status, "failed")
        self.assertIn(
            "p.csv: the delivered names 'First Name' and 'first_name' both match column "
            "'first_name'; set config.meta.source_name of 'first_name'",
            outcome.message,
        )

    def test_json_keys_spelled_otherwise_and_nested_source_names(self) -> None:
        self.deliver(
            "encounters_raw",
            "e.jsonl",
            '{"Id":"e1","PATIENT":"p1","TotalCost":12.345,"Lines":[{"Code":"A","Cost":1.005}]}\n'
            '{"Id":"e2","PATIENT":"p2","TotalCost":5,"Lines":[{"Code":"B","Cost":2.5}]}\n',
        )

        (outcome,) = self.ingest("encounters_raw")["encounters_raw"].outcomes

        self.assertEqual(
            (outcome.status, outcome.rows_loaded, outcome.rows_rescued), ("loaded", 2, 1)
        )
        self.assertEqual(outcome.message, "")  # every key was matched: none undeclared
        rows = self.rows("encounters_raw")
        self.assertEqual(
            [
                (r.patient_id, r.total_cost, [(x.code, x.line_cost) for x in r.lines])
                for r in (rows["e1"], rows["e2"])
            ],
            [
                ("p1", Decimal("12.35"), [("A", Decimal("1.01"))]),
                ("p2", Decimal("5.00"), [("B", Decimal("2.50"))]),
            ],
        )
        rescued = json.loads(rows["e1"]._rescued_data)
        self.assertEqual(rescued["total_cost"], "12.345")
        self.assertEqual(json.loads(rescued["lines"]), [{"Code": "A", "Cost": 1.005}])
        self.assertIsNone(rows["e2"]._rescued_data)

    def test_a_json_key_spelled_two_ways_fails_naming_both(self) -> None:
        self.deliver(
            "encounters_raw",
            "e.jsonl",
            '{"Id":"e1","PATIENT":"p1","TotalCost":1}\n{"Id":"e2","PATIENT":"p1","total_cost":2}\n',
        )

        (outcome,) = self.ingest("encounters_raw")["encounters_raw"].outcomes

        self.assertEqual(outcome.status, "failed")
        self.assertIn("records deliver both 'total_cost' and 'TotalCost'", outcome.message)
        self.assertEqual(self.bronze("encounters_raw"), [])


class HeaderPolicyTest(FeedTestCase):
    def test_a_missing_declared_column_fails_the_file_by_default(self) -> None:
        self.deliver("patients_raw", "p.csv", "Id,BIRTHDATE,HEALTHCARE_EXPENSES\np1,1980-02-03,1\n")

        (outcome,) = self.ingest("patients_raw")["patients_raw"].outcomes

        self.assertEqual(outcome.status, "failed")
        self.assertIn(
            "p.csv: the file lacks the declared column(s) ['first_name', 'updated_at']",
            outcome.message,
        )
        self.assertIn("ingestion.on_missing_columns: null", outcome.message)
        self.assertEqual((self.table_version("patients_raw"), self.bronze("patients_raw")), (0, []))
        self.assertEqual([r.status for r in self.ledger("patients_raw")], ["failed"])

    def test_a_missing_declared_column_loads_as_null_when_the_contract_allows(self) -> None:
        self.declare("patients_raw", on_missing_columns="null")
        self.deliver("patients_raw", "p.csv", "Id,BIRTHDATE,HEALTHCARE_EXPENSES\np1,1980-02-03,1\n")

        (outcome,) = self.ingest("patients_raw")["patients_raw"].outcomes

        self.assertEqual((outcome.status, outcome.rows_loaded), ("loaded", 1))
        self.assertIn("declared column(s) ['first_name', 'updated_at'] absent", outcome.message)
        (row,) = self.bronze("patients_raw")
        self.assertEqual(
            (row.patient_id, row.first_name, row.updated_at, row._rescued_data),
            ("p1", None, None, None),
        )

    def test_a_missing_key_column_fails_before_any_write(self) -> None:
        self.declare("patients_raw", on_missing_columns="null")  # the key fails the file anyway
        self.deliver("patients_raw", "p.csv", "BIRTHDATE,First Name\n1980-02-03,Ann\n")

        (outcome,) = self.ingest("patients_raw")["patients_raw"].outcomes

        self.assertEqual(outcome.status, "failed")
        self.assertIn(
            "p.csv: the file has no column for the key 'patient_id' (its columns: "
            "['BIRTHDATE', 'First Name']); every row needs its key, so nothing was loaded",
            outcome.message,
        )
        self.assertNotIn(PY4J, outcome.message)
        self.assertEqual(self.table_version("patients_raw"), 0)  # only its creation
        self.assertEqual((self.bronze("patients_raw"), self.quarantine("patients_raw")), ([], []))


class RetryTest(FeedTestCase):
    def test_a_failed_file_loads_once_its_cause_is_fixed(self) -> None:
        self.deliver("patients_raw", "p.csv", "PatientId,BIRTHDATE\np1,1980-02-03\n")
        self.declare("patients_raw", on_missing_columns="null")
        first = self.ingest("patients_raw")["patients_raw"]
        self.assertEqual([o.status for o in first.outcomes], ["failed"])

        # The contract is corrected: the key column is delivered as PatientId.
        contract = self.contracts["patients_raw"]
        key = contract.columns[0].model_copy(update={"source_name": "PatientId"})
        self.contracts["patients_raw"] = contract.model_copy(
            update={"columns": (key, *contract.columns[1:])}
        )
        second = self.ingest("patients_raw")["patients_raw"]
        third = self.ingest("patients_raw")["patients_raw"]

        # Loaded as itself: no earlier attempt committed anything, and the message says so.
        self.assertEqual(
            [(o.status, o.message) for o in second.outcomes],
            [
                (
                    "loaded",
                    "declared column(s) ['first_name', 'healthcare_expenses', 'updated_at'] "
                    "absent from the file: null",
                )
            ],
        )
        self.assertEqual((third.outcomes, third.files_skipped), ([], 1))
        self.assertEqual([r.patient_id for r in self.bronze("patients_raw")], ["p1"])
        self.assertEqual([r.status for r in self.ledger("patients_raw")], ["failed", "loaded"])

    def test_a_file_still_failing_is_reported_on_every_run(self) -> None:
        self.deliver("patients_raw", "p.csv", "BIRTHDATE\n1980-02-03\n")
        for _ in range(2):
            code, err = self.cli_ingest("patients_raw")
            self.assertEqual(code, 1, err)
            self.assertIn("p.csv", err)
            self.assertIn("failed", err)
        self.assertEqual([r.status for r in self.ledger("patients_raw")], ["failed", "failed"])


class DamageTest(FeedTestCase):
    def test_a_json_line_that_is_not_utf8_is_quarantined_with_its_bytes(self) -> None:
        bad = b'{"Id":"e2","PATIENT":"Jos\xe9"}'
        self.deliver(
            "encounters_raw",
            "e.jsonl",
            b'{"Id":"e1","PATIENT":"p1"}\n' + bad + b'\n{"Id":"e3","PATIENT":"p3"}\n',
        )

        (outcome,) = self.ingest("encounters_raw")["encounters_raw"].outcomes

        self.assertEqual(
            (outcome.status, outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined),
            ("loaded", 3, 2, 1),
        )
        self.assertEqual(sorted(self.rows("encounters_raw")), ["e1", "e3"])
        (q,) = self.quarantine("encounters_raw")
        self.assertEqual(
            (q._line_number, q._quarantine_reason, q._raw_record),
            (2, "invalid_utf8: bytes that are not valid UTF-8", bad.decode(errors="replace")),
        )
        self.assertEqual(base64.b64decode(q._raw_bytes_base64), bad)

    def test_a_utf16_file_fails_whole_naming_its_encoding(self) -> None:
        self.deliver("patients_raw", "p.csv", (HEADER + "p1,1980-02-03,A,1,\n").encode("utf-16"))

        (outcome,) = self.ingest("patients_raw")["patients_raw"].outcomes

        self.assertEqual(outcome.status, "failed")
        self.assertIn("p.csv: the file is UTF-16 (little-endian) text", outcome.message)
        self.assertIn("re-deliver it as UTF-8", outcome.message)
        self.assertEqual((self.table_version("patients_raw"), self.bronze("patients_raw")), (0, []))

    def test_a_truncated_parquet_file_fails_in_plain_words(self) -> None:
        good = parquet_bytes(pa.table({"Id": ["p1"], "BIRTHDATE": ["1980-02-03"]}))
        self.declare("patients_raw", on_missing_columns="null")
        self.deliver("patients_raw", "p.parquet", good[: len(good) // 2])

        (outcome,) = self.ingest("patients_raw")["patients_raw"].outcomes

        self.assertEqual(outcome.status, "failed")
        self.assertIn("p.parquet: not a readable Parquet file", outcome.message)
        self.assertIn("re-deliver the complete file", outcome.message)
        self.assertNotIn(PY4J, outcome.message)
        self.assertEqual(self.table_version("patients_raw"), 0)
