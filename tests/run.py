"""The project's test command (``make test``): lint, types, unittest suites, dbt nodes.

Ends with one plain line ``N passed, N failed`` counting unittest tests, dbt nodes run by the
tests (models, data tests, unit tests) and the lint/type checks, so a run that executed nothing
is visible. Exit status is non-zero when anything failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LINT_PATHS = ["python_ingest", "adapters", "tools", "tests", "models"]


def _check(name: str, cmd: list[str]) -> bool:
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    ok = proc.returncode == 0
    print(f"[{'PASS' if ok else 'FAIL'}] {name} ({time.monotonic() - started:.1f}s)", flush=True)
    if not ok:
        print((proc.stdout + proc.stderr).strip()[-6000:], flush=True)
    return ok


def lint_checks() -> list[tuple[str, bool]]:
    py = [p for p in LINT_PATHS if (REPO / p).exists()]
    results = [
        ("ruff check", _check("ruff check", [sys.executable, "-m", "ruff", "check", *py])),
        (
            "ruff format",
            _check("ruff format --check", [sys.executable, "-m", "ruff", "format", "--check", *py]),
        ),
        ("mypy", _check("mypy --strict", [sys.executable, "-m", "mypy"])),
    ]
    sql_paths = [p for p in ("models", "tests/dbt") if any((REPO / p).rglob("*.sql"))]
    if sql_paths:
        results.append(
            (
                "sqlfluff",
                _check("sqlfluff lint", [sys.executable, "-m", "sqlfluff", "lint", *sql_paths]),
            )
        )
    return results


def unit_tests(pattern: str | None) -> unittest.TestResult:
    loader = unittest.TestLoader()
    suite = loader.discover(str(REPO / "tests"), pattern="test_*.py", top_level_dir=str(REPO))
    if pattern:
        suite = unittest.TestSuite(t for t in _flatten(suite) if pattern in t.id())
    runner = unittest.TextTestRunner(verbosity=2, stream=sys.stdout)
    return runner.run(suite)


def _flatten(suite: unittest.TestSuite) -> list[unittest.TestCase]:
    out: list[unittest.TestCase] = []
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            out.extend(_flatten(item))
        else:
            out.append(item)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lint-only", action="store_true")
    parser.add_argument("--no-lint", action="store_true")
    parser.add_argument("-k", dest="pattern", default=None, help="only tests whose id contains it")
    args = parser.parse_args()

    started = time.monotonic()
    passed = failed = 0
    if not args.no_lint:
        for _name, ok in lint_checks():
            passed += ok
            failed += not ok
    if not args.lint_only:
        lakehouse = Path(tempfile.mkdtemp(prefix="data-ops-test-"))
        os.environ["DATA_OPS_TEST_LAKEHOUSE"] = str(lakehouse)
        os.environ["DATA_OPS_LAKEHOUSE"] = str(lakehouse)
        try:
            result = unit_tests(args.pattern)
            from tests.support import DBT_NODE_RESULTS

            problems = [t for t, _ in result.failures + result.errors]
            problems += list(result.unexpectedSuccesses)
            failing_tests = {t.id() for t in problems if isinstance(t, unittest.TestCase)}
            bad = len(problems)  # includes class/module set-up errors, which run no test
            skipped = len(result.skipped)
            passed += max(result.testsRun - len(failing_tests) - skipped, 0)
            failed += bad + skipped  # a skipped test proves nothing: it counts as not passed
            dbt_ok = sum(r.status in ("success", "pass", "warn") for r in DBT_NODE_RESULTS)
            dbt_bad = len(DBT_NODE_RESULTS) - dbt_ok
            print(
                f"unittest: {result.testsRun} run, {bad} failed, {skipped} skipped; "
                f"dbt nodes: {dbt_ok} passed, {dbt_bad} failed (expected failures included "
                "only where a test asserts them)"
            )
            passed += dbt_ok
        finally:
            shutil.rmtree(lakehouse, ignore_errors=True)
    print(f"total time {time.monotonic() - started:.0f}s")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
