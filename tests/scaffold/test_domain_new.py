"""`data-ops domain new` and the order of domains in `data-ops run`.

The refusals and the plan need no Spark (the plan reads an in-process `dbt parse` of the real
project). The acceptance test scaffolds a domain in a git copy of the project, delivers one CSV
file, runs `data-ops run --target local --domain <new>` as a child process with its own
lakehouse, and reads the domain's silver and gold Delta tables.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar
from unittest import mock

from python_ingest.contract import load_contracts
from python_ingest.scaffold import RESERVED_NAMES, landing_folder, render_domain
from tests.support import REPO_ROOT, SparkTestCase, ensure_test_lakehouse

DOMAIN = "provider"
CLI = [sys.executable, "-m", "python_ingest.cli"]
SCAFFOLD_FILES = {
    f"models/{DOMAIN}/_{DOMAIN}__sources.yml",
    f"models/{DOMAIN}/_{DOMAIN}__groups.yml",
    f"models/{DOMAIN}/silver/{DOMAIN}_records.sql",
    f"models/{DOMAIN}/silver/_{DOMAIN}_silver__models.yml",
    f"models/{DOMAIN}/gold/{DOMAIN}_summary.sql",
    f"models/{DOMAIN}/gold/_{DOMAIN}_gold__models.yml",
    f"tests/dbt/{DOMAIN}/assert_{DOMAIN}_summary_counts_records.sql",
    f"resources/jobs/{DOMAIN}/{DOMAIN}.job.yml",
}
# The contract's record_id is delivered as `id`; r1 is delivered twice, the later version wins.
DELIVERY = (
    "id,category,amount,event_date,updated_at\n"
    "r1,Books,10.50,2026-01-05,2026-01-05 10:00:00\n"
    "r2, books ,4.50,2026-01-05,2026-01-05 11:00:00\n"
    "r3,Games,20.00,2026-01-06,2026-01-06 09:00:00\n"
    "r1,Books,12.50,2026-01-05,2026-01-07 08:00:00\n"
)


def data_ops(argv: list[str]) -> tuple[int, str]:
    """`data-ops` in this process; its exit code and everything it printed."""
    from python_ingest.cli import main

    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        code = main(["--log-format", "json", *argv])
    return code, output.getvalue()


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


class DomainNewRefusalTest(unittest.TestCase):
    """Names and places the scaffold refuses, with exit 2 and nothing written."""

    def setUp(self) -> None:
        self.project = Path(tempfile.mkdtemp(prefix="data-ops-scaffold-"))
        self.addCleanup(shutil.rmtree, self.project, ignore_errors=True)
        (self.project / "dbt_project.yml").write_text("name: data_ops\n")
        (self.project / "models" / "member" / "silver").mkdir(parents=True)
        (self.project / "models" / "member" / "silver" / "lab_records.sql").write_text("select 1")
        (self.project / "resources" / "jobs" / "billing").mkdir(parents=True)

    def refused(self, name: str, *fragments: str, value: str | None = None) -> None:
        before = files_under(self.project)
        code, output = data_ops(["domain", "new", name, "--project-dir", str(self.project)])
        self.assertEqual(code, 2, output)
        for fragment in (value or repr(name), *fragments):
            self.assertIn(fragment, output)
        self.assertEqual(files_under(self.project), before)

    def test_a_name_that_is_not_a_lower_case_identifier_is_refused(self) -> None:
        for name in ("Provider", "1lab", "_lab", "lab-results", "lab results", ""):
            with self.subTest(name=name):
                self.refused(name, "lower-case identifier", "e.g. 'provider'")

    def test_a_sql_keyword_or_layer_name_is_refused(self) -> None:
        for name in ("select", "table", "group", "gold", "bronze"):
            with self.subTest(name=name):
                self.assertIn(name, RESERVED_NAMES)
                self.refused(name, "SQL keyword", "choose another")

    def test_an_existing_domain_folder_or_job_folder_is_refused(self) -> None:
        self.refused("member", "models/member already exists", "Choose another name")
        self.refused("billing", "resources/jobs/billing already exists")

    def test_a_name_whose_models_exist_elsewhere_is_refused(self) -> None:
        self.refused("lab", "model 'lab_records' already exists", "models/member/silver")

    def test_a_directory_without_dbt_project_is_refused(self) -> None:
        (self.project / "dbt_project.yml").unlink()
        self.refused(
            "lab", "has no dbt_project.yml", "--project-dir", value=repr(str(self.project))
        )


class DomainTemplateTest(unittest.TestCase):
    def test_the_job_is_the_member_job_with_the_domain_name(self) -> None:
        job = next(f for f in render_domain("member") if f.path.suffixes == [".job", ".yml"])
        self.assertEqual(
            job.text, (REPO_ROOT / "resources" / "jobs" / "member" / "member.job.yml").read_text()
        )

    def test_the_contract_declares_every_ingestion_field(self) -> None:
        project = Path(tempfile.mkdtemp(prefix="data-ops-scaffold-"))
        self.addCleanup(shutil.rmtree, project, ignore_errors=True)
        (project / "dbt_project.yml").write_text("name: data_ops\n")
        code, output = data_ops(["domain", "new", "lab", "--project-dir", str(project)])
        self.assertEqual(code, 0, output)
        for step in (
            "data-ops run --target local --domain lab",
            "make bundle-check",
            "databricks bundle deploy",
            "lab_files/",
        ):
            self.assertIn(step, output)
        [contract] = load_contracts(project, domain="lab")
        self.assertEqual(
            (contract.source, contract.schema_name, contract.table),
            ("lab_bronze", "bronze", "lab_raw"),
        )
        self.assertEqual(contract.ingestion.landing_folder, landing_folder("lab"))
        self.assertEqual(contract.ingestion.keys, ("record_id",))
        self.assertEqual(contract.ingestion.on_missing_columns, "fail")
        self.assertEqual(set(contract.ingestion.reader_options), set(contract.ingestion.formats))
        self.assertEqual(contract.columns[0].source_name, "id")
        text = (project / "models" / "lab" / "_lab__sources.yml").read_text()
        for field in ("landing_folder", "formats", "reader_options", "keys", "on_missing_columns"):
            self.assertIn(f"{field}:", text)
        for word in ("source_name", "source_fields", "phi", "data_type", "Spark SQL type"):
            self.assertIn(word, text)


def _parsed_nodes() -> list[dict[str, Any]]:
    from python_ingest.cli.run import parse_nodes

    lakehouse = ensure_test_lakehouse()
    env = {
        "DBT_TARGET_PATH": str(lakehouse / "dbt-target" / "scaffold-plan"),
        "DBT_LOG_PATH": str(lakehouse / "dbt-logs"),
    }
    with mock.patch.dict(os.environ, env):
        return parse_nodes(str(REPO_ROOT), "local")


class RunOrderTest(unittest.TestCase):
    """The domains `data-ops run` builds, upstream first, from dbt's graph."""

    nodes: ClassVar[list[dict[str, Any]]]

    @classmethod
    def setUpClass(cls) -> None:
        cls.nodes = _parsed_nodes()

    def plan(self, project: Path, nodes: list[dict[str, Any]], domain: str | None) -> list[str]:
        from python_ingest.cli.run import plan_run

        return [step.domain for step in plan_run(project, nodes, domain)]

    def test_claims_runs_after_member_which_it_refs(self) -> None:
        from python_ingest.cli.run import plan_run

        self.assertEqual(self.plan(REPO_ROOT, self.nodes, "claims"), ["member", "claims"])
        self.assertEqual(self.plan(REPO_ROOT, self.nodes, "member"), ["member"])
        self.assertEqual(self.plan(REPO_ROOT, self.nodes, None), ["member", "claims"])
        steps = {s.domain: s for s in plan_run(REPO_ROOT, self.nodes, None)}
        self.assertEqual(steps["claims"].upstream, frozenset({"member"}))
        self.assertEqual([c.table for c in steps["member"].contracts], ["member_raw"])

    def test_the_order_follows_refs_between_domain_folders(self) -> None:
        project = Path(tempfile.mkdtemp(prefix="data-ops-order-"))
        self.addCleanup(shutil.rmtree, project, ignore_errors=True)
        for domain in ("alpha", "beta", "gamma", "delta"):
            (project / "models" / domain).mkdir(parents=True)

        def model(name: str, domain: str, *parents: str) -> dict[str, Any]:
            return {
                "unique_id": f"model.p.{name}",
                "original_file_path": f"models/{domain}/silver/{name}.sql",
                "depends_on": {"nodes": [f"model.p.{p}" for p in parents]},
            }

        # alpha refs gamma, gamma refs beta; delta has no models (it is still planned).
        nodes = [
            model("a1", "alpha", "g1"),
            model("b1", "beta"),
            model("g1", "gamma", "b1", "g0"),
            model("g0", "gamma"),
        ]
        self.assertEqual(self.plan(project, nodes, "alpha"), ["beta", "gamma", "alpha"])
        self.assertEqual(self.plan(project, nodes, "beta"), ["beta"])
        self.assertEqual(self.plan(project, nodes, None), ["beta", "gamma", "alpha", "delta"])

    def test_every_data_test_is_reached_by_a_domain_selection(self) -> None:
        from python_ingest.domains import domain_of, domain_selection

        # A domain's build selects models/<domain>/ and tests/dbt/<domain>/ (and, buildable,
        # the tests on its models that also read upstream domains): a test outside every
        # domain's folders would run in no job and no local run.
        outside = [
            (n["name"], n["original_file_path"])
            for n in self.nodes
            if n["unique_id"].startswith("test.")
            and domain_of(n["original_file_path"]) is None
            and not n["original_file_path"].startswith("tests/dbt/")
        ]
        self.assertEqual(outside, [])
        self.assertEqual(
            domain_selection("claims"),
            ["--select", "path:models/claims", "path:tests/dbt/claims",
             "--indirect-selection", "buildable"],
        )  # fmt: skip
        for domain in ("member", "claims"):
            job = (REPO_ROOT / "resources/jobs" / domain / f"{domain}.job.yml").read_text()
            self.assertIn(" ".join(domain_selection(domain)), job)

    def test_an_unknown_domain_is_refused_before_anything_runs(self) -> None:
        from python_ingest.cli.run import plan_run
        from python_ingest.errors import ConfigError

        with self.assertRaisesRegex(ConfigError, r"'lab' has no folder.*data-ops domain new lab"):
            plan_run(REPO_ROOT, self.nodes, "lab")


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


class DomainNewAcceptanceTest(SparkTestCase):
    """A new domain, scaffolded in a copy of the project, builds from one delivered file."""

    project: ClassVar[Path]
    lakehouse: ClassVar[Path]
    new: ClassVar[subprocess.CompletedProcess[str]]
    built: ClassVar[subprocess.CompletedProcess[str]]

    @classmethod
    def setUpClass(cls) -> None:
        root = Path(tempfile.mkdtemp(prefix="data-ops-new-domain-"))
        cls.addClassCleanup(shutil.rmtree, root, ignore_errors=True)
        cls.project, cls.lakehouse = root / "project", root / "lakehouse"
        for name in _git(REPO_ROOT, "ls-files", "-z").split("\0"):
            if name and (REPO_ROOT / name).is_file():
                (cls.project / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO_ROOT / name, cls.project / name)
        _git(cls.project, "init", "-q")
        _git(cls.project, "add", "-A")
        _git(cls.project, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copy")
        env = {**os.environ, "DATA_OPS_LAKEHOUSE": str(cls.lakehouse)}
        for name in ("DBT_TARGET_PATH", "DBT_LOG_PATH", "DATA_OPS_RUN_ID"):
            env.pop(name, None)
        # The code under test is the checkout's (cwd), the project is the copy.
        cls.new = subprocess.run(
            [*CLI, "domain", "new", DOMAIN, "--project-dir", str(cls.project)],
            capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=120, check=False,
        )  # fmt: skip
        if cls.new.returncode == 0:
            with mock.patch.dict(os.environ, {"DATA_OPS_LAKEHOUSE": str(cls.lakehouse)}):
                from python_ingest.discovery import landing_dir
                from python_ingest.naming import Names

                [contract] = load_contracts(cls.project, domain=DOMAIN)
                landing = landing_dir(Names.for_target("local"), contract)
            landing.mkdir(parents=True)
            (landing / f"{DOMAIN}_2026_01.csv").write_text(DELIVERY)
            cls.built = subprocess.run(
                [*CLI, "run", "--target", "local", "--domain", DOMAIN,
                 "--project-dir", str(cls.project)],
                capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=1200, check=False,
            )  # fmt: skip
        super().setUpClass()

    def setUp(self) -> None:
        self.assertEqual(self.new.returncode, 0, self.new.stdout + self.new.stderr)

    def table(self, layer: str, name: str) -> list[dict[str, Any]]:
        path = self.lakehouse / "local" / "warehouse" / f"{layer}.db" / name
        self.assertTrue((path / "_delta_log").is_dir(), f"{path} is not a Delta table")
        rows = self.spark.read.format("delta").load(str(path)).collect()
        return [row.asDict() for row in rows]

    def test_the_run_builds_the_new_domain(self) -> None:
        output = self.built.stdout[-3000:] + self.built.stderr[-3000:]
        self.assertEqual(self.built.returncode, 0, output)
        self.assertIn(f": domains {DOMAIN}\n", self.built.stderr)
        # The domain's own singular test (tests/dbt/<domain>/) ran with its build.
        self.assertIn(f"assert_{DOMAIN}_summary_counts_records", self.built.stdout)

    def test_a_piped_run_prints_one_json_record_per_line(self) -> None:
        # stdout is a pipe here: every line is a JSON record, dbt's own log lines included
        # (the terminal view is tests/ingest/test_console.py).
        records = [json.loads(line) for line in self.built.stdout.splitlines()]
        steps = [r.get("step") for r in records if "step" in r]
        self.assertEqual(steps.count("load_file"), 1)
        self.assertIn("dbt_build", steps)
        self.assertTrue(any("info" in r and "data" in r for r in records))

    def test_silver_holds_the_latest_version_of_each_record(self) -> None:
        rows = self.table("silver", f"{DOMAIN}_records")
        self.assertEqual(
            sorted((r["record_id"], r["category"], r["amount"]) for r in rows),
            [
                ("r1", "books", Decimal("12.50")),
                ("r2", "books", Decimal("4.50")),
                ("r3", "games", Decimal("20.00")),
            ],
        )

    def test_gold_summarises_silver(self) -> None:
        rows = self.table("gold", f"{DOMAIN}_summary")
        self.assertEqual(
            sorted(
                (r["category"], r["record_count"], r["total_amount"], str(r["event_date"]))
                for r in rows
            ),
            [
                ("books", 2, Decimal("17.00"), "2026-01-05"),
                ("games", 1, Decimal("20.00"), "2026-01-06"),
            ],
        )

    def test_only_new_files_are_added_to_the_project(self) -> None:
        status = _git(self.project, "status", "--porcelain", "--untracked-files=all")
        self.assertEqual({line[3:] for line in status.splitlines()}, SCAFFOLD_FILES, status)
        self.assertTrue(all(line.startswith("?? ") for line in status.splitlines()), status)


if __name__ == "__main__":
    unittest.main()
