"""What a job's ``dbt build`` selects, answered by the real ``dbt ls`` (dbt's ``dbtRunner``).

dbt renders ``profiles.yml`` itself; the check only gives the environment variables the profile
reads placeholder values (``PLACEHOLDER_ENV``, plus ``placeholder`` for any ``env_var('X')``
without a default), because ``dbt ls`` parses the project and never connects. ``ls`` runs no
``on-run-start`` hooks, so no warehouse (and no Spark session) is needed.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from python_ingest.errors import ConfigError

PLACEHOLDER_ENV = {
    "DATABRICKS_HOST": "placeholder.cloud.databricks.com",
    "DATABRICKS_TOKEN": "placeholder-token",
    "DBT_HOST": "placeholder.cloud.databricks.com",
    "DBT_ACCESS_TOKEN": "placeholder-token",
}
_REQUIRED_ENV = re.compile(r"env_var\(\s*['\"](\w+)['\"]\s*\)")
_REFERENCE = re.compile(r"\$\{([a-zA-Z0-9_.\[\]-]+)\}")
# `dbt build` options that decide what is selected; each is passed to `dbt ls` unchanged.
_SELECTION_MULTI = {
    "--select": "--select",
    "-s": "--select",
    "--models": "--select",
    "-m": "--select",
    "--exclude": "--exclude",
}
_SELECTION_SINGLE = ("--selector", "--indirect-selection")
_LS_FLAGS = ["--quiet", "--resource-type", "model", "--output", "json", "--output-keys"]
_LS_FLAGS += ["unique_id", "original_file_path", "depends_on"]
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class DbtError(Exception):
    """dbt could not parse the project or list the selection; the message is dbt's own."""


@dataclass(frozen=True)
class DbtCommand:
    """The parts of a ``dbt build`` command line the check needs."""

    subcommand: str
    target: str | None
    selection: tuple[str, ...]
    vars_text: str | None


def parse_dbt_command(text: str) -> DbtCommand:
    """Split a dbt task command (``dbt build --target ... --select ...``) the way a shell does."""
    tokens = shlex.split(text)
    if len(tokens) < 2 or tokens[0] != "dbt":
        return DbtCommand("", None, (), None)
    target: str | None = None
    vars_text: str | None = None
    selection: list[str] = []
    index = 2
    while index < len(tokens):
        token = tokens[index]
        value = tokens[index + 1] if index + 1 < len(tokens) else ""
        if token in ("--target", "-t"):
            target, index = value, index + 2
        elif token == "--vars":  # noqa: S105
            vars_text, index = value, index + 2
        elif token in _SELECTION_SINGLE:
            selection += [token, value]
            index += 2
        elif token in _SELECTION_MULTI:
            selection.append(_SELECTION_MULTI[token])
            index += 1
            while index < len(tokens) and not tokens[index].startswith("-"):
                selection.append(tokens[index])
                index += 1
        else:
            index += 1
    return DbtCommand(tokens[1], target, tuple(selection), vars_text)


def substitute(text: str | None, target: str) -> str | None:
    """``${bundle.target}`` becomes the target; any other reference ``placeholder_<name>``."""

    def replace(match: re.Match[str]) -> str:
        ref = match.group(1)
        return target if ref == "bundle.target" else "placeholder_" + ref.split(".")[-1]

    return None if text is None else _REFERENCE.sub(replace, text)


class DbtLister:
    """``dbt ls`` on one project for one dbt target, in-process; later calls reuse dbt's partial
    parse of the first (same target path, profile and vars)."""

    def __init__(self, project: Path, target: str, work_dir: Path) -> None:
        self.project = project
        self.target = target
        self.work_dir = work_dir / target
        texts = [
            (project / name).read_text(encoding="utf-8")
            for name in ("profiles.yml", "dbt_project.yml")
            if (project / name).is_file()
        ]
        required = {name for text in texts for name in _REQUIRED_ENV.findall(text)}
        self.env = {name: "placeholder" for name in required} | PLACEHOLDER_ENV

    def ls(self, selection: Sequence[str], vars_text: str | None) -> list[dict[str, Any]]:
        """Model records (unique_id, original_file_path, depends_on) that ``selection`` picks."""
        try:
            from dbt.cli.main import dbtRunner  # a 4 s import, only when used
        except ImportError as err:
            raise ConfigError(
                f"dbt is not importable ({err}); run the check with the project's .venv "
                "(`make bundle-check`) or pass --skip-dbt"
            ) from err
        args = ["ls", "--project-dir", str(self.project), "--profiles-dir", str(self.project)]
        args += ["--target", self.target, "--target-path", str(self.work_dir / "target")]
        args += ["--log-path", str(self.work_dir / "logs"), *_LS_FLAGS, *selection]
        if vars_text is not None:
            args += ["--vars", vars_text]
        captured = io.StringIO()
        with mock.patch.dict(os.environ, self.env), contextlib.redirect_stdout(captured):
            result = dbtRunner().invoke(args)
        if not result.success:
            detail = str(result.exception or "") or _ANSI.sub("", captured.getvalue()).strip()
            raise DbtError(detail[-1500:] or "dbt ls failed without a message")
        lines = result.result if isinstance(result.result, list) else []
        return [json.loads(line) for line in lines if str(line).startswith("{")]
