"""Bronze contracts (dbt sources YAML) agree with the files the generator writes."""

from __future__ import annotations

import unittest
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa
import yaml

from tools.datagen import CLAIM_FIELDS, MEMBER_COLUMNS
from tools.datagen.writers import claims_arrow_schema, member_arrow_schema

REPO = Path(__file__).resolve().parents[2]
PHI_CLASSES = {"direct_identifier", "quasi_identifier", "sensitive", "none"}


def _spark_type(arrow: Any) -> str:
    """Spark SQL spelling of an Arrow type, as a contract's data_type writes it."""
    if pa.types.is_string(arrow):
        return "string"
    if pa.types.is_int32(arrow):
        return "int"
    if pa.types.is_date32(arrow):
        return "date"
    if pa.types.is_timestamp(arrow):
        return "timestamp"
    if pa.types.is_decimal(arrow):
        return f"decimal({arrow.precision},{arrow.scale})"
    if pa.types.is_list(arrow):
        return f"array<{_spark_type(arrow.value_type)}>"
    if pa.types.is_struct(arrow):
        fields = ",".join(f"{field.name}:{_spark_type(field.type)}" for field in arrow)
        return f"struct<{fields}>"
    raise AssertionError(f"no Spark spelling for {arrow}")


def _table(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    (source,) = document["sources"]
    (table,) = source["tables"]
    return source, table


class _Expected(NamedTuple):
    domain: str
    source: str
    table: str
    landing_folder: str
    formats: list[str]
    key: str
    columns: tuple[str, ...]
    schema: Callable[[], Any]


CASES = (
    _Expected(
        "member", "member_bronze", "member_raw", "member_files", ["csv", "parquet"], "member_id",
        MEMBER_COLUMNS, member_arrow_schema,
    ),
    _Expected(
        "claims", "claims_bronze", "claims_raw", "claims_files", ["json", "parquet"], "claim_id",
        CLAIM_FIELDS, claims_arrow_schema,
    ),
)  # fmt: skip


class ContractTest(unittest.TestCase):
    def test_contracts_declare_the_written_columns_and_types_in_order(self) -> None:
        for case in CASES:
            with self.subTest(domain=case.domain):
                source, table = _table(
                    REPO / "models" / case.domain / f"_{case.domain}__sources.yml"
                )
                self.assertEqual(source["name"], case.source)
                self.assertEqual(source["schema"], "bronze")
                self.assertEqual(table["name"], case.table)
                ingestion = table["config"]["meta"]["ingestion"]
                self.assertEqual(ingestion["landing_folder"], case.landing_folder)
                self.assertEqual(ingestion["formats"], case.formats)
                self.assertEqual(ingestion["keys"], [case.key])
                declared = [(c["name"], c["data_type"].replace(" ", "")) for c in table["columns"]]
                written = [(field.name, _spark_type(field.type)) for field in case.schema()]
                self.assertEqual(declared, written)
                self.assertEqual([name for name, _ in declared], list(case.columns))

    def test_every_table_and_column_is_described_and_classified(self) -> None:
        for case in CASES:
            domain = case.domain
            source, table = _table(REPO / "models" / domain / f"_{domain}__sources.yml")
            self.assertTrue(source["description"].strip())
            self.assertTrue(table["description"].strip())
            for column in table["columns"]:
                with self.subTest(domain=domain, column=column["name"]):
                    self.assertTrue(column["description"].strip())
                    self.assertIn(column["config"]["meta"]["phi"], PHI_CLASSES)
                    self.assertNotIn("meta", column)

    def test_identifiers_are_classified_as_phi(self) -> None:
        _, table = _table(REPO / "models" / "member" / "_member__sources.yml")
        phi = {column["name"]: column["config"]["meta"]["phi"] for column in table["columns"]}
        for name in (
            "first_name",
            "last_name",
            "birth_date",
            "ssn",
            "address_line",
            "phone",
            "email",
        ):
            self.assertEqual(phi[name], "direct_identifier", name)
        for name in ("member_id", "gender_code", "city", "zip5"):
            self.assertEqual(phi[name], "quasi_identifier", name)
        _, claims = _table(REPO / "models" / "claims" / "_claims__sources.yml")
        claims_phi = {
            column["name"]: column["config"]["meta"]["phi"] for column in claims["columns"]
        }
        self.assertEqual(claims_phi["diagnosis_codes"], "sensitive")
        self.assertEqual(claims_phi["lines"], "sensitive")

    def test_reader_options_match_the_writers_spellings(self) -> None:
        _, member = _table(REPO / "models" / "member" / "_member__sources.yml")
        csv_options = member["config"]["meta"]["ingestion"]["reader_options"]["csv"]
        self.assertEqual(csv_options["dateFormat"], "yyyy-MM-dd")
        self.assertEqual(csv_options["timestampFormat"], "yyyy-MM-dd HH:mm:ss")
        self.assertIs(csv_options["header"], True)
        self.assertIs(csv_options["multiLine"], True)
        self.assertEqual((csv_options["quote"], csv_options["escape"]), ('"', '"'))
        _, claims = _table(REPO / "models" / "claims" / "_claims__sources.yml")
        json_options = claims["config"]["meta"]["ingestion"]["reader_options"]["json"]
        self.assertIs(json_options["multiLine"], False)
        self.assertEqual(json_options["dateFormat"], "yyyy-MM-dd")


if __name__ == "__main__":
    unittest.main()
