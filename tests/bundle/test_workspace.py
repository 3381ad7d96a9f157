"""`data-ops upload` and `data-ops status` against a local stub of the REST endpoints they call.

The stub serves exactly those endpoints (Unity Catalog volume lookup, Files API directories and
files, Jobs list and runs list) plus the host metadata the SDK reads when a client is created
(/.well-known/databricks-config), over HTTP on 127.0.0.1; any
other request is recorded as unexpected and fails the test. The real databricks-sdk client talks
to it (`WorkspaceClient(host="http://127.0.0.1:PORT", token="x")`).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import tempfile
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, unquote, urlparse

from databricks.sdk import WorkspaceClient

from python_ingest.cli import main
from python_ingest.cli.deploy import cmd_status, cmd_upload
from python_ingest.contract import TableContract, load_contracts
from python_ingest.deploy.workspace import job_run_statuses, upload_landing_files
from python_ingest.errors import ConfigError
from python_ingest.naming import Names
from tests.support import REPO_ROOT

INGEST_FIXTURE = REPO_ROOT / "tests" / "fixtures" / "ingest_project"


def member_contract() -> TableContract:
    (contract,) = load_contracts(REPO_ROOT, domain="member")
    return contract


FILES = "/api/2.0/fs/files"
DIRECTORIES = "/api/2.0/fs/directories"
VOLUMES = "/api/2.1/unity-catalog/volumes/"


class WorkspaceState:
    """What the stub workspace holds: volumes, files (path -> bytes), jobs and their runs."""

    def __init__(self) -> None:
        self.volumes: set[str] = set()
        self.files: dict[str, bytes] = {}
        self.directories: set[str] = set()
        self.jobs: list[dict[str, Any]] = []
        self.runs: dict[int, list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, str]] = []
        self.unexpected: list[tuple[str, str]] = []
        self.lock = threading.Lock()


class StubHandler(BaseHTTPRequestHandler):
    state: WorkspaceState

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean."""

    def _reply(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)

    def _not_found(self, what: str) -> None:
        self._reply(404, {"error_code": "NOT_FOUND", "message": f"{what} does not exist"})

    def _route(self) -> None:
        url = urlparse(self.path)
        path = unquote(url.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        state = self.state
        with state.lock:
            state.requests.append((self.command, path))
        if self.command == "GET" and path == "/.well-known/databricks-config":
            self._reply(200, {"workspace_id": "1234567890123456"})
        elif self.command == "GET" and path.startswith(VOLUMES):
            name = path.removeprefix(VOLUMES)
            if name in state.volumes:
                catalog, schema, volume = name.split(".")
                info = {"full_name": name, "catalog_name": catalog, "schema_name": schema}
                self._reply(200, {**info, "name": volume, "volume_type": "MANAGED"})
            else:
                self._not_found(f"Volume '{name}'")
        elif self.command == "PUT" and path.startswith(DIRECTORIES):
            state.directories.add(path.removeprefix(DIRECTORIES))
            self._reply(200, {})
        elif self.command == "HEAD" and path.startswith(FILES):
            remote = path.removeprefix(FILES)
            if remote in state.files:
                size = str(len(state.files[remote]))
                self._reply(200, headers={"Content-Length": size, "Last-Modified": "x"})
            else:
                self._reply(404)
        elif self.command == "PUT" and path.startswith(FILES):
            remote = path.removeprefix(FILES)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if remote in state.files and query.get("overwrite") == "false":
                self._reply(409, {"error_code": "ALREADY_EXISTS", "message": "exists"})
                return
            state.files[remote] = body
            self._reply(204)
        elif self.command == "GET" and path == "/api/2.2/jobs/list":
            self._reply(200, {"jobs": state.jobs, "has_more": False})
        elif self.command == "GET" and path == "/api/2.2/jobs/runs/list":
            runs = state.runs.get(int(query["job_id"]), [])[: int(query.get("limit", "25"))]
            self._reply(200, {"runs": runs, "has_more": False})
        else:
            with state.lock:
                state.unexpected.append((self.command, path))
            self._reply(501, {"error_code": "NOT_IMPLEMENTED", "message": path})

    do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = _route  # noqa: N815


class StubWorkspaceTest(unittest.TestCase):
    """A fresh stub workspace per test."""

    def setUp(self) -> None:
        self.state = WorkspaceState()
        handler = type("Handler", (StubHandler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.host = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.tmp = Path(tempfile.mkdtemp(prefix="upload-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.addCleanup(lambda: self.assertEqual(self.state.unexpected, []))

    def client(self) -> WorkspaceClient:
        return WorkspaceClient(host=self.host, token="x")

    def landing(self, files: dict[str, str]) -> Path:
        source = self.tmp / "member_files"
        for name, text in files.items():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_text(text)
        return source

    def env(self) -> Any:
        """The SDK's unified auth picks these up, as it would in a terminal."""
        return mock.patch.dict(os.environ, {"DATABRICKS_HOST": self.host, "DATABRICKS_TOKEN": "x"})


class UploadTest(StubWorkspaceTest):
    def test_upload_writes_new_files_and_keeps_subfolders(self) -> None:
        self.state.volumes.add("sit.bronze.external")
        source = self.landing({"roster_2026_01.csv": "a,b\n1,2\n", "2026/02/roster.csv": "a\n"})
        names = Names.for_target("sit")
        results = upload_landing_files(self.client(), names, member_contract(), source)
        remote = "/Volumes/sit/bronze/external/member_files"
        self.assertEqual(
            self.state.files,
            {
                f"{remote}/2026/02/roster.csv": b"a\n",
                f"{remote}/roster_2026_01.csv": b"a,b\n1,2\n",
            },
        )
        self.assertEqual([r.status for r in results], ["uploaded", "uploaded"])
        self.assertEqual(self.state.directories, {remote, f"{remote}/2026/02"})

    def test_files_already_there_are_skipped_and_changed_ones_conflict(self) -> None:
        self.state.volumes.add("dev.bronze.external")
        remote = "/Volumes/dev/bronze/external/member_files"
        self.state.files[f"{remote}/same.csv"] = b"1234"
        self.state.files[f"{remote}/changed.csv"] = b"12"
        source = self.landing({"same.csv": "abcd", "changed.csv": "abcdef", "new.csv": "x"})
        args = argparse.Namespace(
            target="dev",
            catalog=None,
            domain="member",
            table=None,
            project_dir=REPO_ROOT,
            source=str(source),
            overwrite=False,
            profile=None,
        )
        with (
            self.env(),
            contextlib.redirect_stdout(io.StringIO()) as out,
            contextlib.redirect_stderr(io.StringIO()) as err,
        ):
            code = cmd_upload(args)
        self.assertEqual(code, 1)
        self.assertEqual(self.state.files[f"{remote}/changed.csv"], b"12")
        self.assertEqual(self.state.files[f"{remote}/new.csv"], b"x")
        lines = sorted(line.split()[0] for line in out.getvalue().splitlines())
        self.assertEqual(lines, ["conflict", "skipped", "uploaded"])
        self.assertIn("1 uploaded, 1 already there, 1 conflict(s)", err.getvalue())
        self.assertIn("exists with 2 bytes, the local file has 6", err.getvalue())

    def test_the_landing_folder_is_the_contracts_own(self) -> None:
        # Ingest reads orders from the contract's landing_folder ("order_files"); upload writes
        # there too, whatever the domain is called.
        self.state.volumes.add("sit.bronze.external")
        source = self.landing({"o1.jsonl": "{}\n"})
        args = argparse.Namespace(
            target="sit",
            catalog=None,
            domain="shop",
            table="orders_raw",
            project_dir=INGEST_FIXTURE,
            source=str(source),
            overwrite=False,
            profile=None,
        )
        with (
            self.env(),
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            self.assertEqual(cmd_upload(args), 0)
        self.assertEqual(
            self.state.files, {"/Volumes/sit/bronze/external/order_files/o1.jsonl": b"{}\n"}
        )

    def test_a_domain_with_several_tables_needs_the_table(self) -> None:
        args = argparse.Namespace(
            target="sit", catalog=None, domain="shop", table=None, project_dir=INGEST_FIXTURE
        )
        with self.assertRaisesRegex(ConfigError, r"2 bronze tables \(customers_raw, orders_raw\)"):
            cmd_upload(args)

    def test_missing_volume_is_a_config_error_naming_the_fix(self) -> None:
        source = self.landing({"roster.csv": "a\n"})
        names = Names.for_target("prod")
        with self.assertRaisesRegex(ConfigError, r"volume prod\.bronze\.external does not exist"):
            upload_landing_files(self.client(), names, member_contract(), source)
        self.assertEqual(self.state.files, {})

    def test_upload_refuses_the_local_target(self) -> None:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), self.assertRaises(SystemExit) as exited:
            main(["upload", "--target", "local", "--domain", "member"])
        self.assertEqual(exited.exception.code, 2)
        self.assertIn("invalid choice: 'local'", err.getvalue())


def job(job_id: int, name: str, **tags: str) -> dict[str, Any]:
    return {"job_id": job_id, "settings": {"name": name, "tags": tags}}


def run(run_id: int, life_cycle: str, result: str | None, start_ms: int) -> dict[str, Any]:
    state: dict[str, Any] = {"life_cycle_state": life_cycle}
    if result:
        state["result_state"] = result
    return {
        "run_id": run_id,
        "state": state,
        "start_time": start_ms,
        "run_duration": 90_000,
        "run_page_url": f"https://example.invalid/runs/{run_id}",
    }


class StatusTest(StubWorkspaceTest):
    def setUp(self) -> None:
        super().setUp()
        self.state.jobs = [
            job(1, "data-ops member (sit)", project="data-ops", domain="member", target="sit"),
            job(2, "data-ops claims (sit)", project="data-ops", domain="claims", target="sit"),
            job(3, "data-ops member (prod)", project="data-ops", domain="member", target="prod"),
            job(4, "someone else's job", project="other", target="sit"),
            job(5, "data-ops record wheel (sit)", project="data-ops", target="sit"),
        ]
        self.state.runs = {
            1: [run(11, "TERMINATED", "SUCCESS", 1_780_000_000_000)],
            2: [
                run(22, "TERMINATED", "FAILED", 1_780_000_100_000),
                run(21, "TERMINATED", "SUCCESS", 1_779_900_000_000),
            ],
            3: [run(31, "TERMINATED", "FAILED", 1_780_000_000_000)],
        }

    def test_latest_runs_of_the_targets_jobs(self) -> None:
        statuses = job_run_statuses(self.client(), "sit")
        self.assertEqual(
            [(s.job_name, s.run_id, s.state, s.result) for s in statuses],
            [
                ("data-ops claims (sit)", 22, "TERMINATED", "FAILED"),
                ("data-ops member (sit)", 11, "TERMINATED", "SUCCESS"),
                ("data-ops record wheel (sit)", None, "NEVER_RUN", None),
            ],
        )
        self.assertEqual(statuses[0].duration_seconds, 90.0)

    def test_status_exits_1_when_a_latest_run_failed(self) -> None:
        args = argparse.Namespace(target="sit", profile=None, runs=2)
        with self.env(), contextlib.redirect_stdout(io.StringIO()) as out:
            self.assertEqual(cmd_status(args), 1)
        rows = out.getvalue().splitlines()
        self.assertEqual(len(rows), 4)
        self.assertTrue(rows[0].startswith("data-ops claims (sit)"), rows)
        self.assertIn("FAILED", rows[0])

    def test_no_deployed_jobs_is_a_config_error(self) -> None:
        with self.assertRaisesRegex(ConfigError, "no jobs tagged project=data-ops, target=dev"):
            job_run_statuses(self.client(), "dev")


if __name__ == "__main__":
    unittest.main()
