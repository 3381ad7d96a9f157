"""Contract validation: bad declarations fail before any write, naming source, field and fix."""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
import unittest
from pathlib import Path

import yaml

from python_ingest.cli import main
from python_ingest.contract import PhiClass, load_contracts
from python_ingest.errors import ContractError
from tests.ingest.base import PROJECT
from tests.support import SparkTestCase


def project_with(mutate: object) -> Path:
    """Copy the fixture project and apply ``mutate(document)`` to its sources YAML."""
    target = Path(tempfile.mkdtemp(prefix="contract-"))
    shutil.copytree(PROJECT, target, dirs_exist_ok=True)
    path = target / "models" / "shop" / "_shop__sources.yml"
    document = yaml.safe_load(path.read_text())
    mutate(document)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return target


def customers(document: dict[str, object]) -> dict[str, object]:
    return document["sources"][0]["tables"][0]  # type: ignore[index,no-any-return]


class ContractLoadingTest(unittest.TestCase):
    def test_fixture_contracts_load_with_types_and_phi(self) -> None:
        contracts = {c.table: c for c in load_contracts(PROJECT)}
        self.assertEqual(sorted(contracts), ["customers_raw", "orders_raw"])
        customers_contract = contracts["customers_raw"]
        self.assertEqual(customers_contract.domain, "shop")
        self.assertEqual(customers_contract.ingestion.formats, ("csv", "parquet"))
        self.assertEqual(customers_contract.ingestion.keys, ("customer_id",))
        self.assertEqual(
            customers_contract.spark_schema.simpleString(),
            "struct<customer_id:string,full_name:string,birth_date:date,"
            "balance_amount:decimal(12,2),updated_at:timestamp>",
        )
        self.assertEqual(customers_contract.columns[1].phi, PhiClass.DIRECT_IDENTIFIER)
        self.assertEqual(
            contracts["orders_raw"].spark_schema["lines"].dataType.simpleString(),
            "array<struct<line_number:int,sku:string,amount:decimal(12,2)>>",
        )

    def test_domain_and_table_filters(self) -> None:
        self.assertEqual(
            [c.table for c in load_contracts(PROJECT, domain="shop", table="orders_raw")],
            ["orders_raw"],
        )
        with self.assertRaisesRegex(ContractError, "domain 'nope' has no folder"):
            load_contracts(PROJECT, domain="nope")
        with self.assertRaisesRegex(ContractError, "no bronze contract declares table 'x'"):
            load_contracts(PROJECT, table="x")

    def test_unknown_format_names_source_field_and_fix(self) -> None:
        def mutate(doc: dict[str, object]) -> None:
            customers(doc)["config"]["meta"]["ingestion"]["formats"] = ["xml"]  # type: ignore[index]

        with self.assertRaises(ContractError) as caught:
            load_contracts(project_with(mutate))
        message = str(caught.exception)
        self.assertIn("_shop__sources.yml", message)
        self.assertIn("source 'shop_bronze' table 'customers_raw'", message)
        self.assertIn("ingestion.formats", message)
        self.assertIn("'csv', 'json' or 'parquet'", message)
        self.assertIn("Fix the source declaration", message)

    def test_unknown_spark_type_names_the_column(self) -> None:
        def mutate(doc: dict[str, object]) -> None:
            customers(doc)["columns"][2]["data_type"] = "datetime"  # type: ignore[index]

        with self.assertRaises(ContractError) as caught:
            load_contracts(project_with(mutate))
        message = str(caught.exception)
        self.assertIn("columns.2.data_type", message)
        self.assertIn("'datetime' is not a Spark SQL type", message)
        self.assertIn("use e.g. string, int", message)

    def test_missing_landing_folder_field(self) -> None:
        def mutate(doc: dict[str, object]) -> None:
            del customers(doc)["config"]["meta"]["ingestion"]["landing_folder"]  # type: ignore[index]

        with self.assertRaisesRegex(
            ContractError, r"field ingestion\.landing_folder: Field required"
        ):
            load_contracts(project_with(mutate))

    def test_keys_must_be_declared_columns_and_phi_is_required(self) -> None:
        def mutate(doc: dict[str, object]) -> None:
            customers(doc)["config"]["meta"]["ingestion"]["keys"] = ["cust_id"]  # type: ignore[index]
            del customers(doc)["columns"][0]["config"]  # type: ignore[index]

        with self.assertRaises(ContractError) as caught:
            load_contracts(project_with(mutate))
        self.assertIn("columns.0.phi", str(caught.exception))

    def test_reserved_metadata_column_names_are_rejected(self) -> None:
        def mutate(doc: dict[str, object]) -> None:
            customers(doc)["columns"][0]["name"] = "_ingested_at"  # type: ignore[index]

        with self.assertRaisesRegex(ContractError, "reserved for ingestion metadata"):
            load_contracts(project_with(mutate))


class BadContractBeforeAnyWriteTest(SparkTestCase):
    def run_cli(self, *args: str) -> tuple[int, str]:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(list(args))
        return code, err.getvalue()

    def test_bad_contract_exits_2_and_writes_nothing(self) -> None:
        def mutate(doc: dict[str, object]) -> None:
            source = doc["sources"][0]  # type: ignore[index]
            for table in source["tables"]:
                table["name"] = "never_" + table["name"]
            source["tables"][1]["columns"][3]["data_type"] = "array<strct<a:int>>"

        code, err = self.run_cli("ingest", "--project-dir", str(project_with(mutate)))

        self.assertEqual(code, 2)
        self.assertIn("configuration error", err)
        self.assertIn("table 'never_orders_raw'", err)
        self.assertIn("columns.3.data_type", err)
        self.assertFalse(self.spark.catalog.tableExists("bronze.never_customers_raw"))

    def test_missing_landing_directory_exits_2_before_any_write(self) -> None:
        def mutate(doc: dict[str, object]) -> None:
            source = doc["sources"][0]  # type: ignore[index]
            for table in source["tables"]:
                table["name"] = "absent_" + table["name"]
                table["config"]["meta"]["ingestion"]["landing_folder"] = "no_such_folder"

        code, err = self.run_cli("ingest", "--project-dir", str(project_with(mutate)))

        self.assertEqual(code, 2)
        self.assertIn("landing folder", err)
        self.assertIn("no_such_folder", err)
        self.assertIn("does not exist", err)
        self.assertFalse(self.spark.catalog.tableExists("bronze.absent_customers_raw"))
