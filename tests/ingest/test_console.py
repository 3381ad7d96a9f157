"""The operator's console: `data-ops run` on a terminal shows live progress and a summary, no
JSON. (With stdout to a pipe every line is a JSON record: the scaffold acceptance test,
``tests/scaffold/test_domain_new.py``, checks that on its piped `data-ops run`.)

The run is a real `data-ops run` of the feeds fixture project (ingest two files, then dbt builds
a staging view, a gold table and their tests) under a pseudo-terminal, in a child process with
its own lakehouse.
"""

from __future__ import annotations

import os
import pty
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from tests.support import REPO_ROOT

FEEDS = REPO_ROOT / "tests" / "fixtures" / "feeds_project"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")
PATIENTS = (
    "Id,BIRTHDATE,First Name,HEALTHCARE_EXPENSES,UPDATED_AT\n"
    "p1,1980-02-03,Ann,2191.712,2019-02-17T05:07:38Z\n"
    "p2,1990-01-01,Bo,10.50,2019-02-17T05:07:38Z\n"
    "p3,1975-05-05,Cy,0.1,2019-02-17T05:07:38Z\n"
)


def lakehouse() -> tuple[Path, dict[str, str]]:
    root = Path(tempfile.mkdtemp(prefix="data-ops-console-"))
    landing = root / "local" / "volumes" / "bronze" / "external" / "ehr"
    (landing / "patients").mkdir(parents=True)
    (landing / "encounters").mkdir(parents=True)
    (landing / "patients" / "patients.csv").write_text(PATIENTS)
    (landing / "encounters" / "e.jsonl").write_text('{"Id":"e1","PATIENT":"p1"}\n')
    env = {**os.environ, "DATA_OPS_LAKEHOUSE": str(root), "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    return root, env


COMMAND = [sys.executable, "-m", "python_ingest.cli", "run", "--project-dir", str(FEEDS)]


def run_in_terminal() -> tuple[int, str]:
    root, env = lakehouse()
    env["COLUMNS"] = "160"
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        COMMAND, stdin=secondary, stdout=secondary, stderr=secondary, env=env, cwd=REPO_ROOT
    )
    os.close(secondary)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    code = proc.wait(timeout=900)
    shutil.rmtree(root, ignore_errors=True)
    return code, ANSI.sub("", b"".join(chunks).decode(errors="replace"))


class ConsoleTest(unittest.TestCase):
    terminal: tuple[int, str]

    @classmethod
    def setUpClass(cls) -> None:
        cls.terminal = run_in_terminal()

    def test_a_terminal_shows_files_dbt_progress_and_the_summary(self) -> None:
        code, screen = self.terminal
        self.assertEqual(code, 0, screen[-3000:])
        # Each file with its outcome, size and rows.
        self.assertRegex(screen, r"loaded\s+patients\.csv \(\d+ B\)\s+read 3\s+loaded 3")
        self.assertIn("rescued 1", screen)
        # dbt's nodes as they are built, counted against the total.
        self.assertRegex(screen, r"dbt (stg_ehr__patients|ehr_patient_totals)")
        self.assertRegex(screen, r"\b\d/\d\b")
        # The summary table.
        self.assertRegex(screen, r"layer\s.*tables\s.*rows")
        self.assertRegex(screen, r"gold\s.*\b1\b")
        json_lines = [line for line in screen.splitlines() if line.lstrip().startswith('{"')]
        self.assertEqual(json_lines, [])


if __name__ == "__main__":
    unittest.main()
