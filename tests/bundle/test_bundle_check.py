"""tools.bundle_check: the project's bundle passes; broken copies fail, naming file, path and fix.

Every test runs the check on a temporary copy of the project (its tracked files, `git ls-files`),
with one wheel built once by `uv build`. The dbt checks run the real `dbt ls` on the copy with
the Databricks profiles (placeholder credentials; nothing connects and no Spark session starts:
`ls` runs no on-run-start hooks), on dbt's partial parse of the pristine copy.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from tests.support import REPO_ROOT
from tools.bundle_check import CheckOptions, CheckReport, Problem, check_bundle, main

CLAIMS_JOB = "resources/jobs/claims/claims.job.yml"
MEMBER_JOB = "resources/jobs/member/member.job.yml"


def copy_project(dest: Path) -> Path:
    """The project's tracked files (as in the working tree) under ``dest``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    for name in filter(None, listed.stdout.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


_PRISTINE: list[tuple[Path, Path]] = []  # (project copy, wheel), made once per test run


def setUpModule() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bundle-check-test-"))
    unittest.addModuleCleanup(shutil.rmtree, tmp, ignore_errors=True)
    pristine = copy_project(tmp / "pristine")
    uv = shutil.which("uv") or str(REPO_ROOT / ".tools/uv/bin/uv")
    out = tmp / "dist"
    subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(out), "--quiet"],
        cwd=pristine,
        check=True,
        capture_output=True,
    )
    wheel = next(out.glob("*.whl"))
    # One check of the pristine copy leaves dbt's partial parse per target in its
    # target/bundle-check/; every copy inherits it, so a test's `dbt ls` takes about 1.5 s
    # instead of a 17 s full parse (the edits are to bundle files, which dbt does not read).
    check_bundle(CheckOptions(root=pristine, wheel=wheel, skip_cli=True))
    _PRISTINE.append((pristine, wheel))


class BundleCheckCase(unittest.TestCase):
    """One pristine copy and one wheel per module; each test edits a fresh copy of that copy."""

    pristine: Path
    wheel: Path

    @classmethod
    def setUpClass(cls) -> None:
        cls.pristine, cls.wheel = _PRISTINE[0]

    def setUp(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="bundle-check-copy-"))
        self.addCleanup(shutil.rmtree, self.root, ignore_errors=True)
        shutil.copytree(self.pristine, self.root, dirs_exist_ok=True)

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.root / relative
        text = path.read_text(encoding="utf-8")
        self.assertIn(old, text, f"test edit: {old!r} not in {relative}")
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def line_of(self, relative: str, text: str) -> int:
        lines = (self.root / relative).read_text(encoding="utf-8").splitlines()
        return next(number for number, line in enumerate(lines, 1) if text in line)

    def check(self, *, dbt: bool = False, targets: tuple[str, ...] = ("sit",)) -> CheckReport:
        options = CheckOptions(
            root=self.root, targets=targets, skip_dbt=not dbt, wheel=self.wheel, skip_cli=True
        )
        return check_bundle(options)

    def problem(self, report: CheckReport, file: str, *phrases: str) -> Problem:
        """The one problem in ``file`` whose message has every phrase."""
        found = [
            p
            for p in report.problems
            if p.file == file and all(phrase in p.message for phrase in phrases)
        ]
        self.assertEqual(len(found), 1, f"{phrases} in {file}:\n{report.format()}")
        return found[0]


class ProjectBundleTest(BundleCheckCase):
    def test_passes_for_every_target(self) -> None:
        with mock.patch("tools.bundle_check.check.shutil.which", return_value=None):
            report = check_bundle(CheckOptions(root=self.root, wheel=self.wheel))
        self.assertEqual(report.problems, [], report.format())
        self.assertEqual(report.targets, ["dev", "sit", "prod"])
        text = report.format()
        for target in ("dev", "sit", "prod"):
            self.assertIn(f"dbt ls --target {target}: ", text)
        self.assertIn("member -> claims", text)
        self.assertIn("databricks bundle validate: skipped, the `databricks` CLI is not", text)

    def test_command_line_exit_codes(self) -> None:
        quick = ["--root", str(self.root), "--skip-dbt", "--skip-wheel", "--skip-cli"]
        with contextlib.redirect_stdout(io.StringIO()) as out:
            self.assertEqual(main(quick), 0, out.getvalue())
        self.edit(MEMBER_JOB, "      max_concurrent_runs: 1", '      max_concurrent_runs: "one"')
        with contextlib.redirect_stdout(io.StringIO()) as out:
            self.assertEqual(main(quick), 1)
        self.assertIn("1 problem(s)", out.getvalue())
        with contextlib.redirect_stderr(io.StringIO()) as err:
            self.assertEqual(main([*quick, "--target", "staging"]), 2)
        self.assertIn("unknown target(s) ['staging']", err.getvalue())


class DomainOrderTest(BundleCheckCase):
    def test_claims_without_the_member_dependency_fails(self) -> None:
        self.edit(
            CLAIMS_JOB,
            "            - task_key: ingest\n            - task_key: member\n",
            "            - task_key: ingest\n",
        )
        found = self.problem(self.check(dbt=True), CLAIMS_JOB, "does not depend on task 'member'")
        self.assertIn("models/claims refs domain 'member'", found.message)
        self.assertIn("fix: add `- task_key: member` to its depends_on", found.message)
        self.assertEqual(found.path, "resources.jobs.claims.tasks[2].depends_on")
        self.assertEqual(found.targets, ("sit",))

    def test_claims_without_a_member_run_fails_with_the_task_to_add(self) -> None:
        text = (self.root / CLAIMS_JOB).read_text(encoding="utf-8")
        start = text.index("        - task_key: member\n")
        end = text.index("        - task_key: dbt\n")
        (self.root / CLAIMS_JOB).write_text(text[:start] + text[end:], encoding="utf-8")
        self.edit(CLAIMS_JOB, "            - task_key: member\n", "")
        found = self.problem(self.check(dbt=True), CLAIMS_JOB, "no task runs")
        self.assertIn(
            "the dbt task of job 'claims' must not start before job 'member'", found.message
        )
        self.assertIn("job_id: ${resources.jobs.member.id}", found.message)
        self.assertEqual(found.path, "resources.jobs.claims.tasks")

    def test_selection_with_another_domains_models_fails(self) -> None:
        self.edit(CLAIMS_JOB, "--select path:models/claims", "--select +path:models/claims")
        found = self.problem(self.check(dbt=True), CLAIMS_JOB, "outside domain 'claims'")
        self.assertIn("model.data_ops.member_eligibility (models/member/", found.message)
        self.assertIn("`dbt ls --select +path:models/claims", found.message)
        self.assertIn("fix: select `path:models/claims` only", found.message)
        self.assertEqual(found.line, self.line_of(CLAIMS_JOB, "dbt build --target"))


class BundleFilesTest(BundleCheckCase):
    def test_schema_error_names_file_line_value_and_fix(self) -> None:
        self.edit(MEMBER_JOB, "      timeout_seconds: 14400", "      timeout_second: 14400")
        found = self.problem(self.check(), MEMBER_JOB, "unknown field 'timeout_second'")
        self.assertIn("did you mean 'timeout_seconds'?", found.message)
        self.assertEqual(found.path, "resources.jobs.member.timeout_second")
        self.assertEqual(found.line, self.line_of(MEMBER_JOB, "timeout_second: 14400"))

    def test_schema_accepts_references_and_rejects_wrong_types(self) -> None:
        self.edit(MEMBER_JOB, "      max_concurrent_runs: 1", '      max_concurrent_runs: "one"')
        found = self.problem(self.check(), MEMBER_JOB, "value 'one' has the wrong type")
        self.assertIn("fix: write integer", found.message)
        self.assertEqual(len(self.check().problems), 1)

    def test_resource_file_not_included_fails(self) -> None:
        extra = self.root / "resources/jobs/member/nightly/member_nightly.job.yml"
        extra.parent.mkdir()
        extra.write_text("resources:\n  jobs:\n    member_nightly:\n      name: x\n")
        found = self.problem(
            self.check(),
            "resources/jobs/member/nightly/member_nightly.job.yml",
            "is not picked by any include pattern",
        )
        self.assertIn("fix: add `- resources/*/*/*/*.yml` to include", found.message)

    def test_include_pattern_matching_nothing_fails(self) -> None:
        self.edit(
            "databricks.yml",
            "  - resources/*/*.yml\n",
            "  - resources/*.yml\n  - resources/*/*.yml\n",
        )
        found = self.problem(self.check(), "databricks.yml", "'resources/*.yml' matches no file")
        self.assertEqual(found.path, "include[0]")

    def test_domain_without_a_job_fails(self) -> None:
        (self.root / "models/pharmacy").mkdir()
        rel = "resources/jobs/pharmacy/pharmacy.job.yml"
        self.problem(self.check(), rel, "domain 'pharmacy' (models/pharmacy/) needs its job")

    def test_ingest_task_of_another_domain_fails(self) -> None:
        self.edit(
            CLAIMS_JOB,
            "              - --domain\n              - claims",
            "              - --domain\n              - member",
        )
        found = self.problem(self.check(), CLAIMS_JOB, "passes --domain 'member'")
        self.assertEqual(found.path, "resources.jobs.claims.tasks[0].python_wheel_task.parameters")

    def test_wheel_entry_point_and_dashboard(self) -> None:
        self.edit(MEMBER_JOB, "entry_point: data-ops", "entry_point: data_ops")
        (self.root / "resources/dashboards/operations.lvdash.json").write_text('{"pages": []}')
        report = check_bundle(
            CheckOptions(
                root=self.root, skip_dbt=True, skip_cli=True, wheel=self.wheel, targets=("sit",)
            )
        )
        found = self.problem(report, MEMBER_JOB, "entry point 'data_ops' is not in")
        self.assertIn("console_scripts: data-ops", found.message)
        self.problem(report, "resources/dashboards/operations.dashboard.yml", "has no datasets")


if __name__ == "__main__":
    unittest.main()
