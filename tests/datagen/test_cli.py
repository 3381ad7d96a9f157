"""``python -m tools.datagen``: files, manifest, and one-more-month continuation."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import unittest
from pathlib import Path

from tools.datagen.__main__ import main


def _run(*argv: str) -> tuple[int, dict[str, object], str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    summary = json.loads(out.getvalue()) if code == 0 else {}
    return code, summary, err.getvalue()


class CliTest(unittest.TestCase):
    common = ("--members", "150", "--start", "2025-01", "--seed", "9", "--defect-rate", "0.05")

    def test_writes_both_domains_and_the_manifest(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            root = Path(directory)
            code, summary, _ = _run(
                "--out-member", str(root / "m"), "--out-claims", str(root / "c"),
                "--months", "3", "--manifest", str(root / "defects.jsonl"), *self.common,
            )  # fmt: skip
            self.assertEqual(code, 0)
            self.assertEqual(
                sorted(p.name for p in (root / "m").iterdir()),
                ["roster_2025_01.csv", "roster_2025_02.parquet", "roster_2025_03.csv"],
            )
            self.assertEqual(
                sorted(p.name for p in (root / "c").iterdir()),
                ["claims_2025_01.jsonl", "claims_2025_02.parquet", "claims_2025_03.jsonl"],
            )
            manifest = (root / "defects.jsonl").read_text(encoding="utf-8").splitlines()
            counts = summary["defects"]
            assert isinstance(counts, dict)
            self.assertEqual(len(manifest), sum(counts.values()))
            self.assertGreater(len(manifest), 0)

    def test_only_month_delivers_the_same_file_a_longer_run_did(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            root = Path(directory)
            full = ("--out-member", str(root / "full_m"), "--out-claims", str(root / "full_c"))
            later = ("--out-member", str(root / "later_m"), "--out-claims", str(root / "later_c"))
            self.assertEqual(_run(*full, "--months", "4", *self.common)[0], 0)
            self.assertEqual(_run(*later, "--only-month", "2025-04", *self.common)[0], 0)
            self.assertEqual(
                [p.name for p in (root / "later_m").iterdir()], ["roster_2025_04.parquet"]
            )
            for name in ("later_m/roster_2025_04.parquet", "later_c/claims_2025_04.parquet"):
                full_name = name.replace("later_", "full_")
                self.assertEqual((root / name).read_bytes(), (root / full_name).read_bytes())

    def test_formats_and_kinds_can_be_narrowed(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            root = Path(directory)
            code, summary, _ = _run(
                "--out-member", str(root / "m"), "--months", "2", "--member-formats", "csv",
                "--defect-kinds", "duplicate_row,malformed_json", *self.common,
            )  # fmt: skip
            self.assertEqual(code, 0)
            self.assertEqual(sorted(p.suffix for p in (root / "m").iterdir()), [".csv", ".csv"])
            self.assertEqual(list(summary["defects"]), ["duplicate_row"])  # type: ignore[call-overload]

    def test_refuses_a_manifest_inside_a_landing_folder(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            landing = Path(directory) / "m"
            code, _, err = _run(
                "--out-member",
                str(landing),
                "--manifest",
                str(landing / "defects.jsonl"),
                *self.common,
            )
            self.assertEqual(code, 2)
            self.assertIn("inside landing folder", err)
            self.assertFalse(landing.exists())

    def test_refuses_to_run_without_an_output_folder(self) -> None:
        code, _, err = _run(*self.common)
        self.assertEqual(code, 2)
        self.assertIn("--out-member", err)


if __name__ == "__main__":
    unittest.main()
