"""The member domain as Databricks sees it: ``dbt parse --target sit`` (offline) and its manifest.

Checks what must hold before anything runs there: every member column carries a PHI class
(which the apply_phi_tags post-hook turns into Unity Catalog column tags), no gold column is a
direct identifier, gold contracts are enforced, and the public models claims relies on are public.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from typing import Any, ClassVar

from tests.support import REPO_ROOT

PHI_CLASSES = {"direct_identifier", "quasi_identifier", "sensitive", "none"}
PUBLIC = {"member_demographics", "member_eligibility", "member_months", "member_summary"}
PLACEHOLDERS = {
    "DATABRICKS_HOST": "example.cloud.databricks.com",
    "DATABRICKS_HTTP_PATH": "/sql/1.0/warehouses/0000000000000000",
    "DATABRICKS_TOKEN": "placeholder-token",
}


def parse_sit(workdir: Path) -> dict[str, Any]:
    """Manifest of ``dbt parse --target sit`` in a subprocess; parse never connects."""
    target = workdir / "dbt-sit"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "DBT_"))}
    env.update(PLACEHOLDERS)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from dbt.cli.main import cli; cli()",
            "parse",
            "--target",
            "sit",
            "--project-dir",
            str(REPO_ROOT),
            "--profiles-dir",
            str(REPO_ROOT),
            "--target-path",
            str(target),
            "--log-path",
            str(target / "logs"),
            "--no-partial-parse",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=REPO_ROOT,
        timeout=600,
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"dbt parse --target sit failed: {(proc.stdout + proc.stderr)[-3000:]}"
        )
    manifest: dict[str, Any] = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    return manifest


class MemberManifestTest(unittest.TestCase):
    manifest: ClassVar[dict[str, Any]]
    models: ClassVar[dict[str, dict[str, Any]]]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        with tempfile.TemporaryDirectory(prefix="member-sit-") as workdir:
            cls.manifest = parse_sit(Path(workdir))
        cls.models = {
            node["name"]: node
            for node in cls.manifest["nodes"].values()
            if node["resource_type"] == "model" and node.get("group") == "member"
        }

    def test_member_models_live_in_the_sit_catalog(self) -> None:
        self.assertEqual(len(self.models), 8)
        for name, node in self.models.items():
            with self.subTest(model=name):
                self.assertEqual(node["database"], "sit")
                folder = node["original_file_path"].split("/")[2]
                # Private intermediate models build beside the public silver ones.
                layer = {"intermediate": "silver"}.get(folder, folder)
                self.assertEqual(node["schema"], layer)

    def test_every_member_column_carries_a_phi_class_and_a_description(self) -> None:
        for name, node in self.models.items():
            self.assertTrue(node["description"].strip(), name)
            self.assertTrue(node["columns"], name)
            for column in node["columns"].values():
                with self.subTest(model=name, column=column["name"]):
                    self.assertIn(column["meta"].get("phi"), PHI_CLASSES)
                    self.assertTrue(column["description"].strip())

    def test_no_gold_column_is_a_direct_identifier(self) -> None:
        gold = [n for n in self.manifest["nodes"].values() if n.get("schema") == "gold"]
        self.assertTrue(gold)
        offenders = [
            (n["name"], c["name"])
            for n in gold
            if n["resource_type"] == "model"
            for c in n["columns"].values()
            if c["meta"].get("phi") == "direct_identifier"
        ]
        self.assertEqual(offenders, [])

    def test_every_member_model_tags_its_columns_on_databricks(self) -> None:
        for name, node in self.models.items():
            with self.subTest(model=name):
                hooks = [hook["sql"] for hook in node["config"]["post-hook"]]
                self.assertIn("{{ apply_phi_tags() }}", hooks)

    def test_gold_contracts_are_enforced_and_typed(self) -> None:
        for name in ("member_months", "member_summary"):
            node = self.models[name]
            with self.subTest(model=name):
                self.assertTrue(node["config"]["contract"]["enforced"])
                self.assertTrue(all(c["data_type"] for c in node["columns"].values()))

    def test_claims_facing_models_are_public_and_the_rest_private(self) -> None:
        access = {name: node["access"] for name, node in self.models.items()}
        self.assertEqual({n for n, a in access.items() if a == "public"}, PUBLIC)
        self.assertEqual({a for n, a in access.items() if n not in PUBLIC}, {"private"})

    def test_member_group_has_an_owner(self) -> None:
        group = self.manifest["groups"]["group.data_ops.member"]
        self.assertTrue(group["owner"]["name"])
        self.assertIn("@", group["owner"]["email"])


if __name__ == "__main__":
    unittest.main()
