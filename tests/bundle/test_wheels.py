"""Wheel tracking: `data-ops record-wheel` run twice for one build leaves one row in gold.wheels."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import shutil
import tempfile
import unittest
import zipfile
from datetime import timedelta
from pathlib import Path

from python_ingest.cli.deploy import cmd_record_wheel
from python_ingest.deploy.wheels import (
    WHEELS_TABLE,
    WheelRecord,
    inspect_wheel,
    record_wheel,
    resolve_wheel_path,
)
from python_ingest.errors import ConfigError
from python_ingest.naming import Names
from tests.support import SparkTestCase


def make_wheel(folder: Path, version: str, payload: str = "") -> Path:
    """A small wheel with the METADATA `uv build` writes; ``payload`` varies its sha256."""
    path = folder / f"data_ops-{version}-py3-none-any.whl"
    info = f"data_ops-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("python_ingest/__init__.py", f'"""{payload}"""\n')
        archive.writestr(
            f"{info}/METADATA", f"Metadata-Version: 2.4\nName: data-ops\nVersion: {version}\n"
        )
        archive.writestr(f"{info}/RECORD", "")
    return path


class WheelFileTest(unittest.TestCase):
    def setUp(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="wheels-"))
        self.addCleanup(shutil.rmtree, self.folder, ignore_errors=True)

    def test_inspect_reads_metadata_and_hashes_the_file(self) -> None:
        path = make_wheel(self.folder, "0.1.0")
        info = inspect_wheel(path)
        self.assertEqual((info.name, info.version), ("data-ops", "0.1.0"))
        self.assertEqual(info.sha256, hashlib.sha256(path.read_bytes()).hexdigest())
        # The file's mtime as an aware UTC time, to the microsecond (datetime rounds the
        # sub-microsecond part, so compare within one microsecond, not by truncation).
        self.assertEqual(info.build_time.utcoffset(), timedelta(0))
        self.assertAlmostEqual(info.build_time.timestamp(), path.stat().st_mtime, delta=1e-6)

    def test_a_file_that_is_not_a_wheel_is_a_config_error(self) -> None:
        path = self.folder / "notes.whl"
        path.write_text("not a zip")
        with self.assertRaisesRegex(ConfigError, "cannot read wheel .*notes.whl"):
            inspect_wheel(path)

    def test_glob_picks_the_installed_version_among_several(self) -> None:
        make_wheel(self.folder, "0.1.0+20260101")
        wanted = make_wheel(self.folder, "0.1.0+20260202")
        pattern = str(self.folder / "data_ops-*.whl")
        with self.assertRaisesRegex(ConfigError, "matches 2 wheels"):
            resolve_wheel_path(pattern)
        self.assertEqual(resolve_wheel_path(pattern, prefer_version="0.1.0+20260202"), wanted)
        with self.assertRaisesRegex(ConfigError, "no wheel at"):
            resolve_wheel_path(str(self.folder / "missing-*.whl"))


class RecordWheelTest(SparkTestCase):
    """The local catalog's gold.wheels, written by the same code path the bundle job runs."""

    names = Names.for_target("local")

    def setUp(self) -> None:
        super().setUp()
        self.folder = Path(tempfile.mkdtemp(prefix="wheels-"))
        self.addCleanup(shutil.rmtree, self.folder, ignore_errors=True)
        self.table = self.names.table(*WHEELS_TABLE)

    def rows(self, sha256: str) -> list[tuple[object, ...]]:
        return [
            tuple(row)
            for row in self.spark.sql(
                f"select name, version, sha256, git_commit, target, deployed_by from {self.table} "
                f"where sha256 = '{sha256}' order by target"
            ).collect()
        ]

    def run_cli(self, wheel: Path, target: str = "local") -> str:
        args = argparse.Namespace(
            target=target,
            catalog="local",
            wheel=str(wheel),
            git_commit="4f13f0b",
            deployed_by="ci@example.com",
        )
        with contextlib.redirect_stdout(io.StringIO()) as out:
            self.assertEqual(cmd_record_wheel(args), 0)
        return out.getvalue()

    def test_recording_the_same_wheel_twice_leaves_one_row(self) -> None:
        wheel = make_wheel(self.folder, "0.1.0", payload="twice")
        sha = inspect_wheel(wheel).sha256
        self.assertIn("recorded: data-ops 0.1.0", self.run_cli(wheel))
        self.assertIn("already recorded: data-ops 0.1.0", self.run_cli(wheel))
        self.assertEqual(
            self.rows(sha),
            [("data-ops", "0.1.0", sha, "4f13f0b", "local", "ci@example.com")],
        )
        columns = [f.name for f in self.spark.table(self.table).schema.fields]
        self.assertEqual(
            columns,
            [
                "name",
                "version",
                "sha256",
                "build_time",
                "git_commit",
                "target",
                "deployed_by",
                "deployed_at",
            ],
        )

    def test_the_same_build_gets_one_row_per_target(self) -> None:
        info = inspect_wheel(make_wheel(self.folder, "0.2.0", payload="targets"))
        for target in ("local", "sit"):
            record = WheelRecord.of(info, target=target, git_commit=None, deployed_by=None)
            self.assertTrue(record_wheel(self.spark, self.names, record))
        self.assertEqual([row[4] for row in self.rows(info.sha256)], ["local", "sit"])


if __name__ == "__main__":
    unittest.main()
