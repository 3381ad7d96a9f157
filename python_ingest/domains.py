"""Domains and their build order.

A domain is a folder of ``models/``. A domain whose models ref (or source) another domain's
models depends on it and is built after it, in the same catalog: ``data-ops run`` follows
:func:`build_order` locally, and each Databricks job starts its upstream domains' jobs first
(``resources/jobs/<domain>/``; the bundle check fails a job that does not). The dependencies are
read from dbt's own graph (a ``manifest.json`` or ``dbt ls --output json``), never declared twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from python_ingest.errors import ConfigError

__all__ = [
    "build_order",
    "domain_dependencies",
    "domain_of",
    "domain_selection",
    "project_domains",
]


def domain_of(original_file_path: str) -> str | None:
    """``models/claims/silver/claims_medical.sql`` -> ``claims``; None outside
    ``models/<domain>/``."""
    parts = PurePosixPath(original_file_path.replace("\\", "/")).parts
    return parts[1] if len(parts) >= 3 and parts[0] == "models" else None


def domain_selection(domain: str) -> list[str]:
    """The ``dbt build`` arguments that build one domain, as its Databricks job passes them:
    its models, its singular tests (``tests/dbt/<domain>/``), and every test whose parents are
    its models or their ancestors (``buildable``: a claims test that also reads member models
    runs with claims, after member; never with member)."""
    return [
        "--select",
        f"path:models/{domain}",
        f"path:tests/dbt/{domain}",
        "--indirect-selection",
        "buildable",
    ]


def project_domains(project_dir: Path) -> list[str]:
    """The domain folders of ``models/`` (sorted; folders starting with ``_`` or ``.`` skipped)."""
    models = project_dir / "models"
    if not models.is_dir():
        return []
    return sorted(
        p.name for p in models.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))
    )


def domain_dependencies(nodes: Iterable[Mapping[str, Any]]) -> dict[str, set[str]]:
    """Upstream domains of every domain, from dbt model nodes.

    ``nodes`` are manifest node dicts (or ``dbt ls --output json`` records) with
    ``unique_id``, ``original_file_path`` and ``depends_on.nodes``; only models count.
    """
    models = [n for n in nodes if str(n.get("unique_id", "")).startswith("model.")]
    domain_by_id = {str(n["unique_id"]): domain_of(str(n["original_file_path"])) for n in models}
    deps: dict[str, set[str]] = {d: set() for d in domain_by_id.values() if d}
    for node in models:
        own = domain_by_id[str(node["unique_id"])]
        if own is None:
            continue
        for parent in (node.get("depends_on") or {}).get("nodes", []):
            other = domain_by_id.get(str(parent))
            if other and other != own:
                deps[own].add(other)
    return deps


def build_order(deps: Mapping[str, set[str]], selected: Iterable[str] | None = None) -> list[str]:
    """The domains to build, upstream first: ``selected`` (all when None) and everything they
    depend on, each once; ties in alphabetical order. A cycle is a configuration error."""
    wanted = sorted(deps) if selected is None else sorted(set(selected))
    order: list[str] = []
    visiting: list[str] = []

    def visit(domain: str) -> None:
        if domain in order:
            return
        if domain in visiting:
            cycle = " -> ".join([*visiting[visiting.index(domain) :], domain])
            raise ConfigError(
                f"domains depend on each other in a cycle ({cycle}): a domain may ref another "
                "domain's public models only if that domain does not ref it back; move the "
                "shared models into one of them"
            )
        visiting.append(domain)
        for upstream in sorted(deps.get(domain, set())):
            visit(upstream)
        visiting.pop()
        order.append(domain)

    for domain in wanted:
        visit(domain)
    return order
