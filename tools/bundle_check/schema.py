"""The bundle JSON schema (the Databricks CLI's ``bundle schema``), applied with ``jsonschema``.

Each file is validated as written: ``databricks.yml`` and every included file are fragments of
the bundle root, so the root schema applies to each. Wherever the schema allows a value it also
allows a ``${...}`` reference string, so references need no resolving here.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import regex
from jsonschema.exceptions import ValidationError

from python_ingest.errors import ConfigError
from tools.bundle_check.model import Doc, PathKey, Sink

_REPO_ROOT = Path(__file__).resolve().parents[2]
# A copy vendored in the repository wins over the workspace-shared one next to the checkout.
SCHEMA_CANDIDATES = (
    _REPO_ROOT / "tools" / "schemas" / "databricks-bundle.schema.json",
    _REPO_ROOT.parent / "shared" / "schemas" / "databricks-bundle.schema.json",
)


def _regex_pattern(
    validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """``pattern`` with the ``regex`` package: the schema uses ``\\p{L}``, which ``re`` rejects."""
    if validator.is_type(instance, "string") and regex.search(pattern, instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _regex_format(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    try:
        regex.compile(instance)
    except regex.error:
        return False
    return True


@functools.lru_cache(maxsize=4)
def load_schema_validator(path: Path) -> Any:
    """A Draft 2020-12 validator (the schema has ``$defs`` and no ``$schema``) using ``regex``."""
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ConfigError(
            f"bundle JSON schema not found at {path}; pass --schema with the output of "
            "`databricks bundle schema`"
        ) from err
    base = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    checker = jsonschema.FormatChecker()
    checker.checks("regex")(_regex_format)
    validator_class = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        base, {"pattern": _regex_pattern}
    )
    return validator_class(schema, format_checker=checker)


def _is_reference_branch(error: ValidationError) -> bool:
    return error.validator == "pattern" and str(error.validator_value).startswith("\\$\\{")


def _leaves(error: ValidationError) -> list[ValidationError]:
    """The errors of the oneOf branch the value was meant to match (not the ``${...}`` one)."""
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return [error]
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    meant = [
        errs
        for errs in branches.values()
        if not any(e.validator == "type" and not e.relative_path for e in errs)
        and not all(_is_reference_branch(e) for e in errs)
    ]
    if not meant:
        return [error]
    best = min(meant, key=lambda errs: (-max(len(e.absolute_path) for e in errs), len(errs)))
    return [leaf for sub in best for leaf in _leaves(sub)]


def _close(word: str, choices: Sequence[str]) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _message(error: ValidationError) -> tuple[list[PathKey], str]:
    path: list[PathKey] = list(error.absolute_path)
    value = error.instance
    if error.validator == "additionalProperties":
        schema = error.schema if isinstance(error.schema, dict) else {}
        allowed = sorted(schema.get("properties", {}))
        extras = sorted(k for k in value if k not in allowed) if isinstance(value, dict) else []
        key = extras[0] if extras else "?"
        shown = ", ".join(allowed[:25]) + (", ..." if len(allowed) > 25 else "")
        return [*path, key], (
            f"unknown field {key!r}{_close(key, allowed)}; fix: remove it or use one of: {shown}"
        )
    if error.validator == "required":
        return path, f"missing required field: {error.message}; fix: add it"
    if error.validator == "enum":
        values = error.validator_value
        allowed = [str(v) for v in values] if isinstance(values, list) else []
        return path, (
            f"value {value!r} is not allowed{_close(str(value), allowed)}; fix: use one of: "
            f"{', '.join(allowed)}"
        )
    if error.validator in ("oneOf", "anyOf", "type"):
        expected = sorted(
            {
                str(t)
                for sub in [error, *(error.context or [])]
                if sub.validator == "type" and not sub.relative_path
                for t in (
                    sub.validator_value
                    if isinstance(sub.validator_value, list)
                    else [sub.validator_value]
                )
            }
        )
        return path, (
            f"value {value!r} has the wrong type; fix: write "
            f"{' or '.join(expected) or 'another value'}"
            " (or a ${var.*} reference)"
        )
    return path, f"{error.message}; fix: see `databricks bundle schema` for the field"


def schema_problems(validator: Any, doc: Doc, sink: Sink) -> None:
    """Validate one file as written and report each failure at its line, in plain words."""
    if doc.data is None:
        return
    for error in validator.iter_errors(doc.data):
        for leaf in _leaves(error):
            path, message = _message(leaf)
            sink.at(doc, path, f"schema: {message}")
