"""The project's test command (``make test``): lint, types, unittest suites.

Ends with one plain line ``N passed, N failed`` counting the unittest tests and the lint/type
checks, so a run that executed nothing is visible; the line before it counts the dbt nodes the
tests built (models, data tests, unit tests), which the tests assert on. Exit status is non-zero
when anything failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LINT_PATHS = ["python_ingest", "adapters", "tools", "tests", "models"]


def _check(name: str, cmd: list[str]) -> bool:
    started = time.monotonic()
    # sqlfluff's dbt templater opens the local engine (is_incremental() asks the catalog):
    # give it a throw-away lakehouse so it never contends with a developer's .lakehouse.
    env = {**os.environ, "DATA_OPS_LAKEHOUSE": tempfile.mkdtemp(prefix="data-ops-lint-")}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
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


# Two workers, one per core: the domain pipeline suites (they share one built lakehouse), and
# everything else. Each worker is its own process with its own Spark session and throw-away
# lakehouse (one catalog per process). The crash-recovery and scaffold tests run with the
# pipeline suites to balance the two (clean clone with the scaffold in core: core 1,123 s,
# pipeline 936 s); the engine fixture build cannot (it replaces the schemas they read). Each
# worker prints its slowest modules and tests. A third worker did not pay on two cores: 1,041 s
# against 1,046 s, with the load at 6. Balance on 2026-12-04 (clean clone, this split): core
# 775 s, pipeline 785 s; the worker that starts Spark first pays its start in its first test.
GROUPS: dict[str, tuple[str, ...]] = {
    "pipeline": (
        "tests.e2e",
        "tests.member",
        "tests.claims",
        "tests.report.test_report",
        "tests.ingest.test_crash",
        "tests.scaffold",
    ),
    "core": (),  # every other test module
}


def _in_group(test_id: str, group: str) -> bool:
    pipeline = test_id.startswith(GROUPS["pipeline"])
    return pipeline if group == "pipeline" else not pipeline


def _flatten(suite: unittest.TestSuite) -> list[unittest.TestCase]:
    out: list[unittest.TestCase] = []
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            out.extend(_flatten(item))
        else:
            out.append(item)
    return out


_MODULE_SECONDS: dict[str, float] = {}
_TEST_SECONDS: dict[str, float] = {}
_CLOCK = [time.monotonic()]  # end of the previous test


class _TimedResult(unittest.TextTestResult):
    """Adds each test's wall time, class set-up included, to its module's total."""

    def stopTest(self, test: unittest.TestCase) -> None:
        super().stopTest(test)
        now = time.monotonic()
        module = test.id().rsplit(".", 2)[0]
        _MODULE_SECONDS[module] = _MODULE_SECONDS.get(module, 0.0) + now - _CLOCK[0]
        _TEST_SECONDS[test.id()] = now - _CLOCK[0]
        _CLOCK[0] = now


class _TimedRunner(unittest.TextTestRunner):
    def _makeResult(self) -> unittest.TextTestResult:
        return _TimedResult(self.stream, self.descriptions, self.verbosity)


def _print_module_times() -> None:
    slowest = sorted(_MODULE_SECONDS.items(), key=lambda kv: -kv[1])
    print("slowest test modules (seconds, class set-up included):", flush=True)
    for module, seconds in slowest[:12]:
        print(f"  {seconds:7.1f}  {module}", flush=True)
    print("slowest tests (seconds, the first of a class includes its set-up):", flush=True)
    for test_id, seconds in sorted(_TEST_SECONDS.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {seconds:7.1f}  {test_id.removeprefix('tests.')}", flush=True)


def run_worker(group: str, pattern: str | None, result_file: Path) -> int:
    """Run one group's tests in this process; write counts to ``result_file``."""
    lakehouse = Path(tempfile.mkdtemp(prefix=f"data-ops-test-{group}-"))
    os.environ["DATA_OPS_TEST_LAKEHOUSE"] = str(lakehouse)
    os.environ["DATA_OPS_LAKEHOUSE"] = str(lakehouse)
    try:
        loader = unittest.TestLoader()
        suite = loader.discover(str(REPO / "tests"), pattern="test_*.py", top_level_dir=str(REPO))
        tests = [t for t in _flatten(suite) if _in_group(t.id(), group)]
        if pattern:
            tests = [t for t in tests if pattern in t.id()]
        runner = _TimedRunner(verbosity=2, stream=sys.stdout)
        _CLOCK[0] = time.monotonic()
        result = runner.run(unittest.TestSuite(tests))
        _print_module_times()
        from tests.support import DBT_NODE_RESULTS

        problems = [t for t, _ in result.failures + result.errors]
        problems += list(result.unexpectedSuccesses)
        failing_tests = {t.id() for t in problems if isinstance(t, unittest.TestCase)}
        summary = {
            "group": group,
            "run": result.testsRun,
            "failing_tests": len(failing_tests),
            "problems": len(problems),  # includes class/module set-up errors
            "skipped": len(result.skipped),
            "dbt_ok": sum(r.status in ("success", "pass", "warn") for r in DBT_NODE_RESULTS),
            # Exposures and other nodes with nothing to run report "no-op": neither counted.
            "dbt_noop": sum(r.status == "no-op" for r in DBT_NODE_RESULTS),
            "dbt_other": sum(
                r.status not in ("success", "pass", "warn", "no-op") for r in DBT_NODE_RESULTS
            ),
        }
        result_file.write_text(json.dumps(summary))
        return 0
    finally:
        shutil.rmtree(lakehouse, ignore_errors=True)


def _stream(prefix: str, proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        print(f"[{prefix}] {line}", end="", flush=True)


def start_workers(
    pattern: str | None,
) -> tuple[Path, dict[str, subprocess.Popen[str]], list[threading.Thread]]:
    """Start one worker process per group; their output streams with a [group] prefix."""
    results_dir = Path(tempfile.mkdtemp(prefix="data-ops-test-results-"))
    procs: dict[str, subprocess.Popen[str]] = {}
    threads: list[threading.Thread] = []
    for group in GROUPS:
        cmd = [
            sys.executable,
            "-m",
            "tests.run",
            "--worker",
            group,
            "--result-file",
            str(results_dir / f"{group}.json"),
        ]
        if pattern:
            cmd += ["-k", pattern]
        proc = subprocess.Popen(
            cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        procs[group] = proc
        thread = threading.Thread(target=_stream, args=(group, proc), daemon=True)
        thread.start()
        threads.append(thread)
    return results_dir, procs, threads


def collect_workers(
    results_dir: Path, procs: dict[str, subprocess.Popen[str]], threads: list[threading.Thread]
) -> tuple[int, int, dict[str, int]]:
    """Wait for the workers; returns (passed, failed) over the tests, and the dbt node counts."""
    passed = failed = 0
    dbt = {"passed": 0, "no-op": 0, "other": 0}
    for group, proc in procs.items():
        code = proc.wait()
        result_file = results_dir / f"{group}.json"
        if code != 0 or not result_file.exists():
            print(f"[{group}] worker exited {code} without results", flush=True)
            failed += 1
            continue
        r = json.loads(result_file.read_text())
        passed += max(r["run"] - r["failing_tests"] - r["skipped"], 0)
        failed += r["problems"] + r["skipped"]  # a skipped test proves nothing
        dbt["passed"] += r["dbt_ok"]
        dbt["no-op"] += r["dbt_noop"]
        dbt["other"] += r["dbt_other"]
        print(
            f"[{group}] unittest: {r['run']} run, {r['problems']} failed, {r['skipped']} "
            f"skipped; dbt nodes: {r['dbt_ok']} passed, {r['dbt_noop']} no-op (exposures), "
            f"{r['dbt_other']} failed or skipped on purpose (tests provoke and assert them)",
            flush=True,
        )
    for thread in threads:
        thread.join(timeout=5)
    shutil.rmtree(results_dir, ignore_errors=True)
    return passed, failed, dbt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lint-only", action="store_true")
    parser.add_argument("--no-lint", action="store_true")
    parser.add_argument("-k", dest="pattern", default=None, help="only tests whose id contains it")
    parser.add_argument("--worker", choices=tuple(GROUPS), help=argparse.SUPPRESS)
    parser.add_argument("--result-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return run_worker(args.worker, args.pattern, args.result_file)

    started = time.monotonic()
    passed = failed = 0
    workers = None if args.lint_only else start_workers(args.pattern)
    if not args.no_lint:  # static checks run while the test workers start their engines
        for _name, ok in lint_checks():
            passed += ok
            failed += not ok
    if workers is not None:
        unit_passed, unit_failed, dbt = collect_workers(*workers)
        passed += unit_passed
        failed += unit_failed
        print(
            f"dbt nodes built by the tests: {dbt['passed']} passed, {dbt['no-op']} no-op, "
            f"{dbt['other']} failed or skipped on purpose (asserted by the tests)"
        )
    print(f"total time {time.monotonic() - started:.0f}s")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
