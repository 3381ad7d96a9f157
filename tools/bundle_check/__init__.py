"""Offline check of the Databricks bundle (``databricks.yml`` + ``resources/``).

It checks what the Databricks CLI cannot without a workspace, and the project's own rules, with
the real tools: ``jsonschema`` for the bundle schema (each file as written), Python's glob for
``include`` coverage, ``dbt ls`` for what each job's dbt task builds and for the order between
domains, ``uv build`` for the wheel's entry point. It does not merge targets or resolve
``${...}`` references: ``databricks bundle validate -t <target>`` does that, and this check runs
it when the CLI is on the PATH. Run ``python -m tools.bundle_check --help``; exit code 0 = ok,
1 = problems, 2 = cannot check.
"""

from __future__ import annotations

from tools.bundle_check.check import CheckOptions, CheckReport, build_parser, check_bundle, main
from tools.bundle_check.model import Problem
from tools.bundle_check.schema import SCHEMA_CANDIDATES, load_schema_validator

__all__ = [
    "SCHEMA_CANDIDATES",
    "CheckOptions",
    "CheckReport",
    "Problem",
    "build_parser",
    "check_bundle",
    "load_schema_validator",
    "main",
]
