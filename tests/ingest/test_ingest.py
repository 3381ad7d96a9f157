"""Bronze ingestion end to end on the local engine, with exact counts everywhere."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from python_ingest.census import KeyCensus
from python_ingest.contract import ColumnContract, PhiClass
from python_ingest.delta_io import AUTO_COMPACT
from python_ingest.errors import ContractError
from python_ingest.ledger import LEDGER_TABLE
from python_ingest.readers import read_delivered_file
from tests.ingest.base import CUSTOMER_HEADER, IngestTestCase

INGESTION_COLUMNS = {"_source_file", "_source_file_modified_at", "_ingested_at", "_ingest_run_id"}

(AUTO_COMPACT_KEY,) = AUTO_COMPACT
GOOD_ROWS = (
    'C1,"Doe, Jane",1980-02-03,10.50,2025-01-01 10:00:00\n'
    "C2,Smith,1990-05-06,0.00,2025-01-02 11:00:00\n"
    'C3,"O""Brien",1975-07-08,-3.25,2025-01-03 12:00:00\n'
)


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


class ExactlyOnceTest(IngestTestCase):
    def test_rerun_with_no_new_files_adds_nothing(self) -> None:
        self.deliver("customers_raw", "c1.csv", CUSTOMER_HEADER + GOOD_ROWS)
        first = self.ingest("customers_raw")["customers_raw"]
        self.assertEqual([o.status for o in first.outcomes], ["loaded"])
        version = self.table_version("customers_raw")

        second = self.ingest("customers_raw")["customers_raw"]

        self.assertEqual(second.outcomes, [])
        self.assertEqual(second.files_skipped, 1)
        self.assertEqual(len(self.bronze("customers_raw")), 3)
        self.assertEqual(self.table_version("customers_raw"), version)
        self.assertEqual(len(self.ledger("customers_raw")), 1)

    def test_same_file_delivered_twice_is_recorded_as_duplicate(self) -> None:
        self.deliver("customers_raw", "c1.csv", CUSTOMER_HEADER + GOOD_ROWS, age_s=60)
        self.ingest("customers_raw")
        self.deliver("customers_raw", "c1.csv", CUSTOMER_HEADER + GOOD_ROWS)  # new mtime

        result = self.ingest("customers_raw")["customers_raw"]

        self.assertEqual([o.status for o in result.outcomes], ["duplicate"])
        self.assertEqual(len(self.bronze("customers_raw")), 3)
        self.assertEqual([r.status for r in self.ledger("customers_raw")], ["loaded", "duplicate"])

    def test_same_bytes_under_a_new_name_is_a_duplicate(self) -> None:
        self.deliver("customers_raw", "c1.csv", CUSTOMER_HEADER + GOOD_ROWS, age_s=60)
        self.deliver("customers_raw", "resent/c1_again.csv", CUSTOMER_HEADER + GOOD_ROWS)

        result = self.ingest("customers_raw")["customers_raw"]

        self.assertEqual([o.status for o in result.outcomes], ["loaded", "duplicate"])
        self.assertIn("same bytes as", result.outcomes[1].message)
        self.assertEqual(len(self.bronze("customers_raw")), 3)
        ledger = self.ledger("customers_raw")
        self.assertEqual(len(ledger), 2)
        self.assertEqual(ledger[0].content_sha256, ledger[1].content_sha256)

    def test_files_load_oldest_first_each_with_its_own_hash(self) -> None:
        # The newest file is fingerprinted while the ledger is read; it still loads last.
        contents = {
            name: CUSTOMER_HEADER + f"{name},Name,1980-01-01,1.00,2025-01-01 00:00:00\n"
            for name in ("old", "mid", "new")
        }
        for age, name in ((120, "old"), (60, "mid"), (0, "new")):
            self.deliver("customers_raw", f"{name}.csv", contents[name], age_s=age)

        result = self.ingest("customers_raw")["customers_raw"]

        self.assertEqual([o.path.stem for o in result.outcomes], ["old", "mid", "new"])
        self.assertEqual([o.status for o in result.outcomes], ["loaded"] * 3)
        self.assertEqual(
            {Path(r.file_path).stem: r.content_sha256 for r in self.ledger("customers_raw")},
            {n: hashlib.sha256(c.encode()).hexdigest() for n, c in contents.items()},
        )

    def test_changed_file_at_the_same_path_is_a_new_delivery(self) -> None:
        self.deliver("customers_raw", "c1.csv", CUSTOMER_HEADER + GOOD_ROWS, age_s=60)
        self.ingest("customers_raw")
        self.deliver(
            "customers_raw",
            "c1.csv",
            CUSTOMER_HEADER + "C9,Nine,2000-01-01,9.99,2025-02-01 00:00:00\n",
        )

        result = self.ingest("customers_raw")["customers_raw"]

        self.assertEqual([o.status for o in result.outcomes], ["loaded"])
        self.assertIn("changed file at a known path", result.outcomes[0].message)
        self.assertEqual(len(self.bronze("customers_raw")), 4)
        self.assertEqual([r.status for r in self.ledger("customers_raw")], ["loaded", "loaded"])

    def test_a_delivery_that_kept_an_older_time_is_still_loaded(self) -> None:
        self.deliver("customers_raw", "a.csv", CUSTOMER_HEADER + GOOD_ROWS)
        self.ingest("customers_raw")
        # Copied with its original time (as ``cp -p`` or ``rsync -t`` do): older than bronze.
        self.deliver("customers_raw", "b.csv", CUSTOMER_HEADER + "C9,Late,,1.00,\n", age_s=3600)

        result = self.ingest("customers_raw")["customers_raw"]

        self.assertEqual([(o.status, o.rows_loaded) for o in result.outcomes], [("loaded", 1)])
        self.assertEqual(len(self.bronze("customers_raw")), 4)

    def test_in_progress_and_hidden_files_are_not_delivered(self) -> None:
        for name in ("c1.csv.tmp", "c2.csv.partial", "_c3.csv", ".c4.csv", "_staging/c5.csv"):
            self.deliver("customers_raw", name, CUSTOMER_HEADER + GOOD_ROWS)

        result = self.ingest("customers_raw")["customers_raw"]

        self.assertEqual((result.files_seen, result.outcomes), (0, []))
        # Nothing was delivered, so nothing was written: not even the table.
        self.assertFalse(self.spark.catalog.tableExists("bronze.customers_raw"))
        self.assertEqual(len(self.ledger("customers_raw")), 0)


class CsvTest(IngestTestCase):
    def test_quoting_and_embedded_newlines_are_kept(self) -> None:
        self.deliver(
            "customers_raw",
            "c.csv",
            CUSTOMER_HEADER
            + 'C1,"Line one\nline two, ""quoted""",1980-02-03,1.00,2025-01-01 10:00:00\n',
        )
        self.ingest("customers_raw")
        (row,) = self.bronze("customers_raw")
        self.assertEqual(row.full_name, 'Line one\nline two, "quoted"')
        self.assertIsNone(row._rescued_data)

    def test_malformed_rows_go_to_quarantine_and_bad_values_to_rescued_data(self) -> None:
        content = (
            CUSTOMER_HEADER
            + "C1,Good,1980-02-03,1.00,2025-01-01 10:00:00\n"  # line 2
            + "C2,Too,1980-02-03,1.00,2025-01-01 10:00:00,extra\n"  # line 3: too many fields
            + "C3,Few\n"  # line 4: too few fields
            + "C4,BadDate,1990-13-45,12x,2025-01-01 10:00:00\n"  # line 5: bad date + number
            + ",NoKey,1980-02-03,1.00,2025-01-01 10:00:00\n"  # line 6: missing key
        )
        self.deliver("customers_raw", "c.csv", content)

        (outcome,) = self.ingest("customers_raw")["customers_raw"].outcomes

        self.assertEqual(
            (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined), (5, 2, 3)
        )
        rows = {r.customer_id: r for r in self.bronze("customers_raw")}
        self.assertEqual(sorted(rows), ["C1", "C4"])
        self.assertIsNone(rows["C4"].birth_date)
        self.assertIsNone(rows["C4"].balance_amount)
        self.assertEqual(
            json.loads(rows["C4"]._rescued_data),
            {"birth_date": "1990-13-45", "balance_amount": "12x"},
        )
        quarantined = [
            (q._line_number, q._quarantine_reason.split(":")[0])
            for q in self.quarantine("customers_raw")
        ]
        self.assertEqual(
            quarantined,
            [(3, "malformed_csv_record"), (4, "malformed_csv_record"), (6, "missing_key")],
        )
        self.assertEqual(self.quarantine("customers_raw")[1]._raw_record, "C3,Few")
        (ledger,) = self.ledger("customers_raw")
        self.assertEqual((ledger.rows_read, ledger.rows_loaded, ledger.rows_quarantined), (5, 2, 3))

    def test_unknown_extra_column_lands_in_rescued_data(self) -> None:
        self.deliver(
            "customers_raw",
            "c.csv",
            "customer_id,full_name,loyalty_tier,birth_date,balance_amount,updated_at\n"
            "C1,Ann,gold,1980-02-03,1.00,2025-01-01 10:00:00\n",
        )
        self.ingest("customers_raw")
        (row,) = self.bronze("customers_raw")
        self.assertEqual((row.customer_id, str(row.balance_amount)), ("C1", "1.00"))
        self.assertEqual(json.loads(row._rescued_data), {"loyalty_tier": "gold"})

    def test_values_the_typed_parse_rejects_are_parsed_again_as_text(self) -> None:
        self.deliver(
            "customers_raw",
            "a.csv",
            CUSTOMER_HEADER
            + "C1, Ann , 1980-02-03 , 12.5 ,2025-01-01 10:00:00\n"  # padded values: they fit
            + ",NoKey,1980-02-03,1.0,2025-01-01 10:00:00\n",  # missing key, "1.0" not canonical
            age_s=30,
        )
        self.deliver(
            "customers_raw",
            "b.csv",
            CUSTOMER_HEADER.strip() + ",full_name\nC5,First,1980-02-03,1.00,,Second\n",
        )

        outcomes = self.ingest("customers_raw")["customers_raw"].outcomes

        self.assertEqual([(o.rows_read, o.rows_loaded) for o in outcomes], [(2, 1), (1, 1)])
        rows = {r.customer_id: r for r in self.bronze("customers_raw")}
        self.assertEqual(
            (rows["C1"].full_name, str(rows["C1"].birth_date), str(rows["C1"].balance_amount)),
            (" Ann ", "1980-02-03", "12.50"),
        )
        self.assertIsNone(rows["C1"]._rescued_data)
        # A repeated header name: the last column is the declared one, the earlier is rescued.
        self.assertEqual(rows["C5"].full_name, "Second")
        self.assertEqual(json.loads(rows["C5"]._rescued_data), {"full_name#2": "First"})
        (bad,) = self.quarantine("customers_raw")
        self.assertEqual(
            (bad._line_number, bad._quarantine_reason, bad._raw_record),
            (3, "missing_key:customer_id", ",NoKey,1980-02-03,1.0,2025-01-01 10:00:00"),
        )

    def test_delta_log_statistics_hold_no_member_values(self) -> None:
        self.deliver("customers_raw", "a.csv", CUSTOMER_HEADER + GOOD_ROWS)
        self.ingest("customers_raw")
        detail = self.spark.sql("describe detail bronze.customers_raw").first()
        assert detail is not None
        log_dir = Path(str(detail["location"]).removeprefix("file:")) / "_delta_log"
        stats = [
            json.loads(action["add"]["stats"])
            for commit in sorted(log_dir.glob("*.json"))
            for action in map(json.loads, commit.read_text().splitlines())
            if "add" in action and action["add"].get("stats")
        ]
        self.assertTrue(stats)
        for entry in stats:
            self.assertLessEqual(set(entry.get("minValues", {})), INGESTION_COLUMNS)
        log_text = "".join(p.read_text() for p in log_dir.glob("*.json"))
        for value in ("Doe, Jane", "1980-02-03", 'O""Brien', "Smith"):
            self.assertNotIn(value, log_text)

    def test_header_only_file_loads_zero_rows(self) -> None:
        self.deliver("customers_raw", "c.csv", CUSTOMER_HEADER)
        (outcome,) = self.ingest("customers_raw")["customers_raw"].outcomes
        self.assertEqual((outcome.status, outcome.rows_read), ("loaded", 0))
        self.assertEqual(len(self.bronze("customers_raw")), 0)
        self.assertEqual([r.status for r in self.ledger("customers_raw")], ["loaded"])

    def test_empty_file_is_marked_failed(self) -> None:
        self.deliver("customers_raw", "c.csv", b"")
        (outcome,) = self.ingest("customers_raw")["customers_raw"].outcomes
        self.assertEqual(outcome.status, "failed")
        self.assertIn("empty file", outcome.message)
        self.assertEqual([r.status for r in self.ledger("customers_raw")], ["failed"])

    def test_a_line_that_is_not_utf8_is_quarantined_with_its_bytes(self) -> None:
        bad = b"C2,Jos\xe9,1980-02-03,1,2025-01-01 10:00:00"
        self.deliver(
            "customers_raw",
            "c.csv",
            (CUSTOMER_HEADER + "C1,Ann,1980-02-03,1,2025-01-01 10:00:00\n").encode()
            + bad
            + b"\nC3,Bo,1980-02-03,1,2025-01-01 10:00:00\n",
        )

        (outcome,) = self.ingest("customers_raw")["customers_raw"].outcomes

        self.assertEqual(
            (outcome.status, outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined),
            ("loaded", 3, 2, 1),
        )
        self.assertEqual(sorted(r.customer_id for r in self.bronze("customers_raw")), ["C1", "C3"])
        (q,) = self.quarantine("customers_raw")
        self.assertEqual(
            (q._line_number, q._quarantine_reason, q._raw_record),
            (3, "invalid_utf8: bytes that are not valid UTF-8", bad.decode(errors="replace")),
        )
        self.assertEqual(base64.b64decode(q._raw_bytes_base64), bad)

    def test_a_file_in_another_encoding_throughout_fails_whole(self) -> None:
        rows = "".join(f"C{i},Jos\xe9 {i},1980-02-03,1,2025-01-01 10:00:00\n" for i in range(4))
        self.deliver("customers_raw", "latin1.csv", (CUSTOMER_HEADER + rows).encode("latin-1"))
        self.deliver("customers_raw", "ok.csv", CUSTOMER_HEADER + GOOD_ROWS)

        result = self.ingest("customers_raw")["customers_raw"]

        by_name = {o.path.name: o for o in result.outcomes}
        self.assertEqual(by_name["latin1.csv"].status, "failed")
        self.assertIn(
            "latin1.csv: 4 of its 5 lines are not valid UTF-8", by_name["latin1.csv"].message
        )
        self.assertIn("encoding: ISO-8859-1", by_name["latin1.csv"].message)
        self.assertEqual(by_name["ok.csv"].status, "loaded")
        self.assertEqual(len(self.bronze("customers_raw")), 3)


class JsonTest(IngestTestCase):
    def test_invalid_lines_are_quarantined_with_line_numbers(self) -> None:
        content = (
            '{"order_id":"O1","customer_id":"C1","order_date":"2025-01-02",'
            '"lines":[{"line_number":1,"sku":"A","amount":"1.50"},{"line_number":2,"sku":"B","amount":2}]}\n'
            "{not json\n"
            "\n"
            "[1, 2]\n"
            '{"order_id":"O2","customer_id":"C1","order_date":"02/01/2025","coupon":"X"}\n'
        )
        self.deliver("orders_raw", "o.jsonl", content)

        (outcome,) = self.ingest("orders_raw")["orders_raw"].outcomes

        self.assertEqual(
            (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined), (4, 2, 2)
        )
        rows = {r.order_id: r for r in self.bronze("orders_raw")}
        self.assertEqual(
            [(line.line_number, line.sku, str(line.amount)) for line in rows["O1"].lines],
            [(1, "A", "1.50"), (2, "B", "2.00")],
        )
        self.assertEqual(
            json.loads(rows["O2"]._rescued_data), {"order_date": "02/01/2025", "coupon": "X"}
        )
        self.assertEqual(
            [(q._line_number, q._raw_record) for q in self.quarantine("orders_raw")],
            [(2, "{not json"), (4, "[1, 2]")],
        )

    def test_unknown_key_alone_is_rescued_and_clean_records_carry_nothing(self) -> None:
        self.deliver(
            "orders_raw",
            "o.jsonl",
            '{"order_id":"O1","customer_id":"C1","order_date":"2025-01-02","lines":[]}\n'
            '{"order_id":"O2","customer_id":"C1","order_date":"2025-01-03","channel":"web"}\n'
            '{"order_id":"O3","customer_id":"C2","order_date":"2025-01-04","lines":'
            '[{"line_number":1,"sku":"A","amount":"2.5"}]}\n',
        )

        (outcome,) = self.ingest("orders_raw")["orders_raw"].outcomes

        self.assertEqual((outcome.rows_read, outcome.rows_loaded), (3, 3))
        self.assertIn("undeclared key 'channel' (line 2", outcome.message)
        # One data commit: a write stopped by the key census (beside it) commits nothing.
        self.assertEqual(self.table_version("orders_raw"), 1)
        rows = {r.order_id: r for r in self.bronze("orders_raw")}
        self.assertIsNone(rows["O1"]._rescued_data)
        self.assertEqual(json.loads(rows["O2"]._rescued_data), {"channel": "web"})
        self.assertEqual(str(rows["O2"].order_date), "2025-01-03")
        self.assertEqual([str(line.amount) for line in rows["O3"].lines], ["2.50"])

    def test_nested_value_that_does_not_fit_is_rescued_not_dropped(self) -> None:
        lines = [
            {"line_number": 1, "sku": "A", "amount": "abc"},
            {"line_number": 2, "sku": "B", "amount": 2},
        ]
        record = {"order_id": "O1", "customer_id": "C1", "order_date": "2025-01-02"}
        self.deliver("orders_raw", "o.jsonl", json.dumps({**record, "lines": lines}) + "\n")

        (outcome,) = self.ingest("orders_raw")["orders_raw"].outcomes

        self.assertEqual(
            (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined), (1, 1, 0)
        )
        (row,) = self.bronze("orders_raw")
        # The line whose amount is not a number keeps its other fields; the whole delivered
        # array is in _rescued_data, so "abc" is not lost.
        self.assertEqual(
            [(line.line_number, line.sku, line.amount) for line in row.lines],
            [(1, "A", None), (2, "B", Decimal("2.00"))],
        )
        self.assertEqual(json.loads(json.loads(row._rescued_data)["lines"]), lines)

    def test_undeclared_nested_keys_are_rescued_not_dropped(self) -> None:
        base = {"order_id": "O1", "customer_id": "C1", "order_date": "2025-01-02"}
        lines = [
            {"line_number": 1, "sku": "A", "amount": 1, "modifier": "25"},
            {"line_number": 2, "sku": "B", "amount": 2, "gift": None},
        ]
        content = (
            json.dumps({**base, "lines": lines})
            + "\n"
            + json.dumps({**base, "order_id": "O2", "lines": [], "note": None})
            + "\n"
            + json.dumps({**base, "order_id": "O3", "lines": [{"line_number": 1, "amount": 3}]})
            + "\n"
        )
        self.deliver("orders_raw", "o.jsonl", content)

        (outcome,) = self.ingest("orders_raw")["orders_raw"].outcomes

        self.assertEqual(
            (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined), (3, 3, 0)
        )
        self.assertIn(
            "undeclared key 'modifier' (line 1, $.lines[0]; the first found)", outcome.message
        )
        rows = {r.order_id: r for r in self.bronze("orders_raw")}
        # The lines keep their declared fields; the delivered array, with the keys the
        # contract does not declare (a null value included), is in _rescued_data.
        self.assertEqual(
            [(line.line_number, line.sku, line.amount) for line in rows["O1"].lines],
            [(1, "A", Decimal("1.00")), (2, "B", Decimal("2.00"))],
        )
        self.assertEqual(json.loads(json.loads(rows["O1"]._rescued_data)["lines"]), lines)
        self.assertEqual(json.loads(rows["O2"]._rescued_data), {"note": None})
        self.assertIsNone(rows["O3"]._rescued_data)

    def test_a_line_holding_more_than_one_json_value_is_quarantined_whole(self) -> None:
        first = '{"order_id":"O1","customer_id":"C1","order_date":"2025-01-02"}'
        second = '{"order_id":"O2","customer_id":"C1","order_date":"2025-01-03"}'
        good = '{"order_id":"O3","customer_id":"C2","order_date":"2025-01-04"}'
        self.deliver("orders_raw", "o.jsonl", f"{first}{second}\n{good} trailing\n{good}\n")

        (outcome,) = self.ingest("orders_raw")["orders_raw"].outcomes

        self.assertEqual(
            (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined), (3, 1, 2)
        )
        self.assertEqual([r.order_id for r in self.bronze("orders_raw")], ["O3"])
        self.assertEqual(
            [
                (q._line_number, q._quarantine_reason, q._raw_record)
                for q in self.quarantine("orders_raw")
            ],
            [
                (1, "invalid_json: not one JSON object", first + second),
                (2, "invalid_json: not one JSON object", good + " trailing"),
            ],
        )

    def test_a_missing_key_keeps_the_delivered_line_in_quarantine(self) -> None:
        # Only declared keys: Spark's JSON reader parses this file (a clean key census).
        missing = '{"customer_id": "C9",  "order_date": "2025-01-05", "lines": null}'
        content = (
            '{"order_id":"O1","customer_id":"C1","order_date":"2025-01-02"}\r\n'
            "   \r\n"
            f"{missing}\r\n"
            '{"order_id":"O2","customer_id":"C1","order_date":"x","lines":[{"amount":"y"}]}\r\n'
        )
        self.deliver("orders_raw", "o.jsonl", content)

        (outcome,) = self.ingest("orders_raw")["orders_raw"].outcomes

        self.assertEqual(
            (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined), (3, 2, 1)
        )
        self.assertEqual(outcome.message, "")
        (q,) = self.quarantine("orders_raw")
        self.assertEqual(
            (q._line_number, q._quarantine_reason, q._raw_record),
            (3, "missing_key:order_id", missing),
        )
        rows = {r.order_id: r for r in self.bronze("orders_raw")}
        self.assertEqual(
            json.loads(rows["O2"]._rescued_data),
            {"order_date": "x", "lines": '[{"amount":"y"}]'},
        )

    def test_spark_reader_and_per_record_check_read_the_same_rows(self) -> None:
        # A file with only declared keys (a clean key census) is read by Spark's JSON reader;
        # the per-record plan must give the same rows, rescues and reasons.
        content = (
            '{"order_id":"O1","customer_id":"C1","order_date":"2025-01-02","lines":[]}\r\n'
            "\n"
            '{"order\\u005fid":"O2","customer_id":7,"order_date":" 2025-01-03 ","lines":null}\n'
            '{"order_id":"O3","order_date":"03/01/2025","lines":[{"amount":"x"},null]}\n'
            '{"order_id":"O4","lines":[{"line_number":"1","sku":{"a":1},"amount":1e2}]}\n'
            '{"customer_id":"C5"}\n'
            '  {"order_id":"O6","customer_id":null,"order_date":null}  \n'
        )
        path = self.deliver("orders_raw", "o.jsonl", content)
        contract = self.contracts["orders_raw"]
        census = KeyCensus(contract.spark_schema)
        census.feed(content.encode())
        self.assertTrue(census.finish(), census.problem)

        def rows(keys_checked: bool) -> list[tuple[object, ...]]:
            parsed = read_delivered_file(
                self.spark, path, "json", contract, keys_checked=keys_checked
            )
            columns = [*contract.column_names, "_rescued_data", "_quarantine_reason"]
            return sorted((tuple(r) for r in parsed.df.select(*columns).collect()), key=repr)

        checked = rows(True)
        self.assertEqual(len(checked), 6)
        self.assertEqual(checked, rows(False))

    def test_multi_line_array_document(self) -> None:
        self.deliver(
            "orders_raw",
            "o.json",
            '[\n  {"order_id": "O1", "customer_id": "C1", "order_date": "2025-01-02",\n'
            '   "lines": [{"line_number": 1, "sku": "A", "amount": 3}]},\n'
            '  {"order_id": "O2", "customer_id": "C2", "order_date": "2025-01-03",\n'
            '   "lines": []}\n]\n',
        )
        (outcome,) = self.ingest("orders_raw")["orders_raw"].outcomes
        self.assertEqual((outcome.rows_read, outcome.rows_loaded), (2, 2))
        self.assertEqual(sorted(r.order_id for r in self.bronze("orders_raw")), ["O1", "O2"])


class ParquetTest(IngestTestCase):
    def test_declared_schema_applied_and_extra_columns_rescued(self) -> None:
        table = pa.table(
            {
                "customer_id": ["C1", None],
                "full_name": ["Ann", "Bob"],
                "birth_date": pa.array(["1980-02-03", "not a date"]),
                "balance_amount": pa.array([1.5, 2.25]),
                "updated_at": pa.array([None, None], type=pa.timestamp("us")),
                "segment": ["A", "B"],
            }
        )
        self.deliver("customers_raw", "c.parquet", parquet_bytes(table))

        (outcome,) = self.ingest("customers_raw")["customers_raw"].outcomes

        self.assertEqual(
            (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined), (2, 1, 1)
        )
        (row,) = self.bronze("customers_raw")
        self.assertEqual(
            (row.customer_id, str(row.birth_date), str(row.balance_amount)),
            ("C1", "1980-02-03", "1.50"),
        )
        self.assertEqual(json.loads(row._rescued_data), {"segment": "A"})
        (bad,) = self.quarantine("customers_raw")
        self.assertEqual(
            (bad._record_offset, bad._quarantine_reason), (1, "missing_key:customer_id")
        )

    def test_nested_fields_the_contract_does_not_declare_are_rescued(self) -> None:
        line = pa.struct([("line_number", pa.int32()), ("sku", pa.string()), ("gift", pa.bool_())])
        table = pa.table(
            {
                "order_id": ["O1", "O2"],
                "lines": pa.array(
                    [
                        [{"line_number": 1, "sku": "A", "gift": True}],
                        [{"line_number": 2, "sku": "B", "gift": None}],
                    ],
                    type=pa.list_(line),
                ),
            }
        )
        self.deliver("orders_raw", "o.parquet", parquet_bytes(table))

        (outcome,) = self.ingest("orders_raw")["orders_raw"].outcomes

        self.assertEqual((outcome.rows_read, outcome.rows_loaded), (2, 2))
        rows = {r.order_id: r for r in self.bronze("orders_raw")}
        self.assertEqual(
            [(x.line_number, x.sku, x.amount) for x in rows["O1"].lines], [(1, "A", None)]
        )
        self.assertEqual(
            json.loads(json.loads(rows["O1"]._rescued_data)["lines"]),
            [{"line_number": 1, "sku": "A", "gift": True}],
        )
        # A null carries nothing to rescue (as for an undeclared column).
        self.assertIsNone(rows["O2"]._rescued_data)

    def test_truncated_parquet_fails_and_the_run_continues(self) -> None:
        good = parquet_bytes(pa.table({"order_id": ["O1"], "customer_id": ["C1"]}))
        self.deliver("orders_raw", "a_truncated.parquet", good[: len(good) // 2], age_s=60)
        self.deliver("orders_raw", "b_good.parquet", good)

        result = self.ingest("orders_raw")["orders_raw"]

        self.assertEqual([o.status for o in result.outcomes], ["failed", "loaded"])
        self.assertIn("not a readable Parquet file", result.outcomes[0].message)
        self.assertEqual(len(self.bronze("orders_raw")), 1)
        self.assertEqual([r.status for r in self.ledger("orders_raw")], ["failed", "loaded"])


class ReconciliationTest(IngestTestCase):
    def test_rows_read_equal_loaded_plus_quarantined_for_every_file(self) -> None:
        self.deliver("customers_raw", "a.csv", CUSTOMER_HEADER + GOOD_ROWS + "C9,x\n", age_s=30)
        self.deliver("orders_raw", "b.jsonl", '{"order_id":"O1"}\n{oops\n')
        self.ingest()
        for table in ("customers_raw", "orders_raw"):
            bronze = len(self.bronze(table))
            quarantined = len(self.quarantine(table))
            for entry in self.ledger(table):
                self.assertEqual(entry.rows_read, entry.rows_loaded + entry.rows_quarantined)
            self.assertEqual(sum(e.rows_loaded for e in self.ledger(table)), bronze)
            self.assertEqual(sum(e.rows_quarantined for e in self.ledger(table)), quarantined)


class ContractChangeTest(IngestTestCase):
    """A contract changed between deliveries: bronze follows a new column, never a new type."""

    def _declare(self, table: str, column: str, data_type: str) -> None:
        contract = self.contracts[table]
        columns = [c for c in contract.columns if c.name != column]
        columns.append(
            ColumnContract(
                name=column, data_type=data_type, description="Changed.", phi=PhiClass.NONE
            )
        )
        self.contracts[table] = contract.model_copy(update={"columns": columns})

    def test_a_newly_declared_column_is_added_and_loaded(self) -> None:
        self.deliver("customers_raw", "a.csv", CUSTOMER_HEADER + GOOD_ROWS, age_s=60)
        self.ingest("customers_raw")
        self._declare("customers_raw", "tier", "int")
        self.deliver(
            "customers_raw",
            "b.csv",
            CUSTOMER_HEADER.rstrip("\n")
            + ",tier\n"
            + "C7,New,1999-09-09,7.00,2025-03-01 00:00:00,3\n",
        )

        result = self.ingest("customers_raw")["customers_raw"]

        self.assertEqual([o.status for o in result.outcomes], ["loaded"])
        tiers = {r.customer_id: r.tier for r in self.bronze("customers_raw")}
        self.assertEqual(tiers, {"C1": None, "C2": None, "C3": None, "C7": 3})

    def test_a_changed_type_stops_the_run_before_any_write(self) -> None:
        self.deliver("customers_raw", "a.csv", CUSTOMER_HEADER + GOOD_ROWS, age_s=60)
        self.ingest("customers_raw")
        version = self.table_version("customers_raw")
        self._declare("customers_raw", "balance_amount", "double")
        self.deliver("customers_raw", "b.csv", CUSTOMER_HEADER + GOOD_ROWS.replace("C", "D"))

        with self.assertRaisesRegex(ContractError, r"new types for existing bronze columns"):
            self.ingest("customers_raw")

        self.assertEqual(self.table_version("customers_raw"), version)
        self.assertEqual(len(self.bronze("customers_raw")), 3)
        self.assertEqual([Path(r.file_path).name for r in self.ledger("customers_raw")], ["a.csv"])


class HousekeepingTest(IngestTestCase):
    def test_ledger_and_logs_compact_their_small_files(self) -> None:
        ledger = self.names.table(*LEDGER_TABLE)
        self.deliver("customers_raw", "a.csv", CUSTOMER_HEADER + GOOD_ROWS, age_s=60)
        self.ingest("customers_raw")
        for table in (ledger, "gold.pipeline_logs"):
            self.assertEqual(self._auto_compact(table), "true", table)
            self.assertEqual(self._property(table, "delta.checkpointInterval"), "100", table)
            self.assertEqual(self._property(table, "delta.dataSkippingNumIndexedCols"), "2", table)

        # A ledger from before auto compaction (property unset) gets it on the next run, and
        # Delta then compacts its small files (threshold lowered from 50 to 2 for the test:
        # the ledger holds at least this run's entry and the one before).
        self.spark.sql(f"alter table {ledger} unset tblproperties ('{AUTO_COMPACT_KEY}')")
        self.assertIsNone(self._auto_compact(ledger))
        before = self._version(ledger)
        self.spark.conf.set("spark.databricks.delta.autoCompact.minNumFiles", "2")
        self.addCleanup(self.spark.conf.unset, "spark.databricks.delta.autoCompact.minNumFiles")
        self.deliver("customers_raw", "b.csv", CUSTOMER_HEADER + "C10,N,,1,\n")
        self.ingest("customers_raw")

        self.assertEqual(self._auto_compact(ledger), "true")
        history = self.spark.sql(f"describe history {ledger}").where(f"version > {before}")
        operations = [r["operation"] for r in history.collect()]
        self.assertIn("OPTIMIZE", operations)
        self.assertEqual(len(self.ledger("customers_raw")), 2)

    def _auto_compact(self, table: str) -> str | None:
        return self._property(table, AUTO_COMPACT_KEY)

    def _property(self, table: str, key: str) -> str | None:
        rows = self.spark.sql(f"show tblproperties {table}").collect()
        return {r["key"]: r["value"] for r in rows}.get(key)

    def _version(self, table: str) -> int:
        row = self.spark.sql(f"describe history {table} limit 1").first()
        assert row is not None
        return int(row["version"])
