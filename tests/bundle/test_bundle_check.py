"""tools.bundle_check: the real bundle passes; broken bundles fail with messages naming the fix.

Most tests run the checker on a temporary copy of the bundle (databricks.yml + resources/) with a
small dbt project of its own (models/member, models/claims, a profiles.yml in the form the jobs
need) and a synthetic wheel, so they do not depend on the state of the real models/ folder. The
dbt parse behind the selection checks is cached per project content, so the fixture is parsed
once per test run.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
import unittest
import zipfile
from pathlib import Path

from tests.support import REPO_ROOT
from tools.bundle_check import (
    SCHEMA_CANDIDATES,
    CheckOptions,
    CheckReport,
    DbtModel,
    Map,
    Seq,
    check_bundle,
    go_glob,
    load_schema_validator,
    main,
    merge,
    merge_by_key,
    parse_dbt_command,
    select_models,
)

DOMAINS = ("member", "claims")
FIXTURE_PROJECT = """\
name: data_ops
version: "1.0.0"
config-version: 2
profile: data_ops
model-paths: ["models"]
macro-paths: ["macros"]
test-paths: ["tests/dbt"]
flags:
  send_anonymous_usage_stats: false
models:
  data_ops:
    +submission_method: serverless_cluster
"""
# The profile form the serverless dbt task needs: host and token fall back to what Databricks
# injects (DBT_HOST, DBT_ACCESS_TOKEN), the warehouse comes from the task's --vars.
FIXTURE_PROFILE_OUTPUT = """\
    {target}:
      type: databricks
      catalog: {target}
      schema: default
      host: "{{{{ env_var('DATABRICKS_HOST', env_var('DBT_HOST', '')) }}}}"
      http_path: "{{{{ env_var('DATABRICKS_HTTP_PATH',
        '/sql/1.0/warehouses/' ~ var('warehouse_id', '')) }}}}"
      token: "{{{{ env_var('DATABRICKS_TOKEN', env_var('DBT_ACCESS_TOKEN', '')) }}}}"
      threads: 4
"""
FIXTURE_PROFILES = "data_ops:\n  target: dev\n  outputs:\n" + "".join(
    FIXTURE_PROFILE_OUTPUT.format(target=t) for t in ("dev", "sit", "prod")
)


def write_wheel(path: Path, *, entry_point: str = "data-ops", extra: tuple[str, ...] = ()) -> Path:
    """A minimal wheel with the layout `uv build` produces for this project."""
    info = "data_ops-0.1.0.dist-info"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("python_ingest/__init__.py", "")
        archive.writestr("python_ingest/cli.py", "def main() -> int:\n    return 0\n")
        archive.writestr(
            f"{info}/METADATA", "Metadata-Version: 2.4\nName: data-ops\nVersion: 0.1.0\n"
        )
        archive.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nTag: py3-none-any\n")
        archive.writestr(
            f"{info}/entry_points.txt",
            f"[console_scripts]\n{entry_point} = python_ingest.cli:main\n",
        )
        for name in extra:
            archive.writestr(name, "select 1\n")
        archive.writestr(f"{info}/RECORD", "")
    return path


class BundleFixture(unittest.TestCase):
    """Each test gets a fresh copy of the bundle with a fixture dbt project and wheel."""

    def setUp(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="bundle-fixture-"))
        self.addCleanup(shutil.rmtree, self.root, ignore_errors=True)
        shutil.copy(REPO_ROOT / "databricks.yml", self.root)
        shutil.copytree(REPO_ROOT / "resources", self.root / "resources")
        for name in ("pyproject.toml", "uv.lock"):
            shutil.copy(REPO_ROOT / name, self.root)
        (self.root / "dbt_project.yml").write_text(FIXTURE_PROJECT)
        (self.root / "profiles.yml").write_text(FIXTURE_PROFILES)
        for domain in DOMAINS:
            self.write(f"models/{domain}/{domain}_fixture.sql", f"select 1 as {domain}_id\n")
        self.wheel = write_wheel(self.root / "data_ops-0.1.0-py3-none-any.whl")

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.root / relative
        text = path.read_text()
        self.assertIn(old, text, f"fixture edit: {old!r} not in {relative}")
        path.write_text(text.replace(old, new, 1))

    def check(self, *, skip_dbt: bool = True, targets: tuple[str, ...] = ()) -> CheckReport:
        return check_bundle(
            CheckOptions(
                root=self.root,
                wheel=self.wheel,
                skip_dbt=skip_dbt,
                targets=targets,
                environ={},
            )
        )

    def assertProblem(self, report: CheckReport, file: str, path_end: str, *phrases: str) -> None:
        found = [p for p in report.problems if p.file == file and p.path.endswith(path_end)]
        self.assertTrue(found, f"no problem at {file} {path_end}:\n{report.format()}")
        for phrase in phrases:
            self.assertTrue(
                any(phrase in p.message for p in found),
                f"{phrase!r} not in the message(s):\n{report.format()}",
            )


class BundlePassesTest(BundleFixture):
    def test_fixture_bundle_passes_for_every_target(self) -> None:
        report = self.check(skip_dbt=False)
        self.assertEqual(report.problems, [], report.format())
        self.assertEqual(report.targets, ["dev", "sit", "prod"])
        self.assertTrue(any("dbt parse --target sit" in c for c in report.checked), report.checked)

    def test_command_line_exit_codes(self) -> None:
        args = ["--root", str(self.root), "--wheel", str(self.wheel), "--skip-dbt"]
        with contextlib.redirect_stdout(io.StringIO()) as out:
            self.assertEqual(main(args), 0)
        self.assertIn("bundle check: ok (targets: dev, sit, prod)", out.getvalue())
        self.edit("databricks.yml", "  name: data-ops\n", "  name: data-ops\n  nmae: x\n")
        with contextlib.redirect_stdout(io.StringIO()) as out:
            self.assertEqual(main(args), 1)
        self.assertIn("unknown field 'nmae'", out.getvalue())
        with contextlib.redirect_stderr(io.StringIO()) as err:
            self.assertEqual(main([*args, "--schema", str(self.root / "missing.json")]), 2)
        self.assertIn("bundle JSON schema not found", err.getvalue())


class BrokenBundleTest(BundleFixture):
    def test_unknown_field_names_file_line_path_and_fix(self) -> None:
        job = "resources/jobs/claims/claims.job.yml"
        self.edit(
            job, "          max_retries: 2\n", "          max_retries: 2\n          max_retry: 2\n"
        )
        report = self.check()
        self.assertEqual(len(report.problems), 1, report.format())
        problem = report.problems[0]
        self.assertEqual(
            (problem.file, problem.path), (job, "resources.jobs.claims.tasks[0].max_retry")
        )
        self.assertEqual(problem.targets, ("dev", "sit", "prod"))
        self.assertIn("unknown field 'max_retry' (did you mean 'max_retries'?)", problem.message)
        line = (self.root / job).read_text().splitlines()[problem.line - 1]
        self.assertEqual(line.strip(), "max_retry: 2")

    def test_unknown_field_in_a_target_is_reported_where_it_is_written(self) -> None:
        self.edit(
            "databricks.yml", "  prod:\n    mode: production", "  prod:\n    mood: production"
        )
        report = self.check()
        self.assertProblem(report, "databricks.yml", "targets.prod.mood", "did you mean 'mode'?")

    def test_dangling_variable(self) -> None:
        job = "resources/jobs/member/member.job.yml"
        self.edit(
            job,
            "- --catalog\n              - ${var.catalog}",
            "- --catalog\n              - ${var.catalgo}",
        )
        report = self.check()
        self.assertProblem(
            report,
            job,
            "python_wheel_task.parameters[4]",
            "undefined variable 'catalgo' (did you mean 'catalog'?)",
            "Fix: declare it under variables:",
        )

    def test_dangling_resource_reference(self) -> None:
        self.edit(
            "resources/volumes/external.volume.yml",
            "${resources.schemas.bronze.name}",
            "${resources.schemas.brnze.name}",
        )
        report = self.check()
        self.assertProblem(
            report,
            "resources/volumes/external.volume.yml",
            "volumes.external.schema_name",
            "resource schemas.brnze, which target 'sit' does not define (did you mean 'bronze'?)",
        )

    def test_variable_without_a_value(self) -> None:
        self.edit("databricks.yml", "    default: ${bundle.target}\n", "")
        report = self.check()
        self.assertProblem(report, "databricks.yml", "variables.catalog", "has no value for target")

    def test_target_assigning_an_undeclared_variable(self) -> None:
        self.edit(
            "databricks.yml",
            '      service_principal: ""',
            '      service_principal: ""\n      warehouse: x',
        )
        report = self.check()
        self.assertProblem(
            report, "databricks.yml", "targets.dev.variables.warehouse", "not declared"
        )

    def test_job_selecting_a_missing_domain(self) -> None:
        job = "resources/jobs/member/member.job.yml"
        self.edit(job, "--select path:models/member", "--select path:models/finance")
        report = self.check()
        self.assertProblem(
            report,
            job,
            "dbt_task.commands[0]",
            "selects 'path:models/finance', but models/finance does not exist",
            "domains: claims, member",
        )

    def test_domain_without_a_job(self) -> None:
        self.write("models/finance/finance_fixture.sql", "select 1 as finance_id\n")
        report = self.check()
        self.assertProblem(
            report,
            "models/finance",
            "models/finance",
            "domain 'finance' (models/finance/) has no job",
            "resources/jobs/finance/finance.job.yml",
        )

    def test_resource_file_no_include_pattern_reaches(self) -> None:
        text = (self.root / "resources/jobs/claims/claims.job.yml").read_text()
        self.write(
            "resources/jobs/claims/extra/deep/claims2.job.yml",
            text.replace("claims:", "claims2:", 1),
        )
        report = self.check()
        self.assertProblem(
            report,
            "resources/jobs/claims/extra/deep/claims2.job.yml",
            "<file>",
            "not matched by any include pattern",
        )

    def test_profile_needing_an_env_var_the_job_does_not_set(self) -> None:
        self.edit(
            "profiles.yml",
            "env_var('DATABRICKS_HOST', env_var('DBT_HOST', ''))",
            "env_var('DATABRICKS_HOST')",
        )
        report = self.check(targets=("dev",))
        self.assertProblem(
            report,
            "profiles.yml",
            "data_ops.outputs.dev.host",
            "needs env var DATABRICKS_HOST",
            "env_var('DBT_HOST', '')",
        )

    def test_dbt_target_missing_from_profiles(self) -> None:
        self.edit("profiles.yml", "    prod:\n", "    production:\n")
        report = self.check(targets=("prod",))
        self.assertProblem(
            report,
            "profiles.yml",
            "data_ops.outputs",
            "--target 'prod' is not an output of profile 'data_ops'",
        )

    def test_wheel_with_domain_code_and_without_the_entry_point(self) -> None:
        self.wheel = write_wheel(
            self.root / "bad-0.1.0-py3-none-any.whl",
            entry_point="data-ops-cli",
            extra=("models/member/member_fixture.sql",),
        )
        report = self.check(targets=("sit",))
        self.assertProblem(report, "pyproject.toml", "wheel", "contains 'models'")
        self.assertProblem(
            report,
            "resources/jobs/member/member.job.yml",
            "python_wheel_task.entry_point",
            "entry point 'data-ops' is not in",
            "available: data-ops-cli",
        )

    def test_task_parameters_the_cli_rejects(self) -> None:
        self.edit("resources/jobs/member/member.job.yml", "- --domain\n", "- --domian\n")
        report = self.check(targets=("sit",))
        self.assertProblem(
            report,
            "resources/jobs/member/member.job.yml",
            "python_wheel_task.parameters",
            "data-ops rejects the task parameters",
        )


class SelectionAgainstManifestTest(BundleFixture):
    """Selections evaluated on `dbt parse --target sit` (cached across these tests)."""

    def test_selection_matching_no_model(self) -> None:
        job = "resources/jobs/claims/claims.job.yml"
        self.edit(job, "--select path:models/claims", "--select tag:nightly")
        report = self.check(skip_dbt=False, targets=("sit",))
        self.assertProblem(
            report, job, "dbt_task.commands[0]", "no model in the manifest matches it"
        )

    def test_selection_reaching_into_another_domain(self) -> None:
        job = "resources/jobs/member/member.job.yml"
        self.edit(job, "--select path:models/member", "--select path:models")
        report = self.check(skip_dbt=False, targets=("sit",))
        self.assertProblem(
            report,
            job,
            "dbt_task.commands[0]",
            "other domains' models: models/claims/claims_fixture.sql",
        )

    def test_domain_without_models_fails_its_job(self) -> None:
        (self.root / "models/claims/claims_fixture.sql").unlink()
        report = self.check(skip_dbt=False, targets=("sit",))
        self.assertProblem(
            report,
            "resources/jobs/claims/claims.job.yml",
            "dbt_task.commands[0]",
            "models/claims/ has no models yet",
        )


class RealBundleTest(unittest.TestCase):
    def test_real_bundle_passes(self) -> None:
        """The repository's bundle, all targets, with the wheel `uv build` produces.

        dbt selections are checked once both domains have models (they are being written);
        until then the schema, references, profiles and wheel checks run.
        """
        with_models = all(
            any(any((REPO_ROOT / "models" / d).rglob(pattern)) for pattern in ("*.sql", "*.py"))
            for d in DOMAINS
        )
        report = check_bundle(CheckOptions(root=REPO_ROOT, skip_dbt=not with_models, environ={}))
        self.assertEqual(report.problems, [], report.format())
        self.assertEqual(report.targets, ["dev", "sit", "prod"])
        self.assertTrue(
            any(c.startswith("wheel data_ops-") for c in report.checked), report.checked
        )


class MechanicsTest(unittest.TestCase):
    """The CLI semantics the checker reproduces."""

    def test_go_glob_double_star_matches_exactly_one_folder(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            for rel in ("resources/a.yml", "resources/jobs/b.yml", "resources/jobs/x/c.yml"):
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_text("{}")
            found = [p.relative_to(root).as_posix() for p in go_glob(root, "resources/**/*.yml")]
        self.assertEqual(found, ["resources/jobs/b.yml"])

    def test_merge_maps_deep_sequences_appended_tasks_by_key(self) -> None:
        def seq(*items: object) -> Seq:
            out = Seq()
            for item in items:
                out.push(item, None)
            return out

        def mapping(**items: object) -> Map:
            out = Map()
            for key, value in items.items():
                out.put(key, value, None)
            return out

        base = mapping(
            name="job",
            tags=mapping(a="1"),
            tasks=seq(mapping(task_key="ingest", max_retries=1), mapping(task_key="dbt")),
        )
        override = mapping(
            tags=mapping(b="2"), tasks=seq(mapping(task_key="ingest", max_retries=3))
        )
        merged = merge(base, override)
        self.assertEqual(merged["tags"], {"a": "1", "b": "2"})
        self.assertEqual(len(merged["tasks"]), 3)
        tasks = merge_by_key(merged["tasks"], "task_key")
        self.assertEqual(tasks, [{"task_key": "ingest", "max_retries": 3}, {"task_key": "dbt"}])

    def test_schema_patterns_use_the_regex_package(self) -> None:
        validator = load_schema_validator(next(p for p in SCHEMA_CANDIDATES if p.is_file()))
        ok = {"resources": {"jobs": {"j": {"max_concurrent_runs": "${var.runs}"}}}}
        bad = {"resources": {"jobs": {"j": {"max_concurrent_runs": "many"}}}}
        self.assertEqual(list(validator.iter_errors(ok)), [])
        self.assertNotEqual(list(validator.iter_errors(bad)), [])

    def test_dbt_command_and_selectors(self) -> None:
        command = parse_dbt_command(
            'dbt build --target sit --select path:models/member tag:x --vars "{a: 1}"'
        )
        self.assertEqual(
            (command.subcommand, command.target, command.select, command.vars_text),
            ("build", "sit", ("path:models/member", "tag:x"), "{a: 1}"),
        )
        models = [
            DbtModel(
                "m1",
                ("data_ops", "member", "silver", "m1"),
                "models/member/silver/m1.sql",
                frozenset({"pii"}),
                "member",
            ),
            DbtModel(
                "c1",
                ("data_ops", "claims", "gold", "c1"),
                "models/claims/gold/c1.sql",
                frozenset(),
                "claims",
            ),
        ]

        def paths(*selectors: str) -> set[str]:
            return select_models(models, selectors)[0]

        self.assertEqual(paths("path:models/member"), {"models/member/silver/m1.sql"})
        self.assertEqual(paths("member"), {"models/member/silver/m1.sql"})
        self.assertEqual(paths("+group:claims+"), {"models/claims/gold/c1.sql"})
        self.assertEqual(paths("tag:pii,path:models/claims"), set())
        self.assertEqual(len(paths("member", "claims")), 2)
        self.assertIn("not evaluated", select_models(models, ["config.materialized:table"])[1])


if __name__ == "__main__":
    unittest.main()
