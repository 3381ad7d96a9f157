"""Scaffold a new domain: its bronze contract, starter models and Databricks job.

A domain is its own folders (``models/<domain>/``, ``resources/jobs/<domain>/``); nothing
existing is edited. The templates in ``templates/`` are plain text with ``{domain}`` for the
domain name; what they render passes ``dbt parse``, sqlfluff and the bundle check as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath

from python_ingest.errors import ConfigError

__all__ = [
    "RESERVED_NAMES",
    "ScaffoldFile",
    "check_domain_name",
    "landing_folder",
    "render_domain",
    "write_domain",
]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PLACEHOLDER = "{domain}"

# SQL keywords (ANSI and Spark SQL) a domain name may not be: it names a dbt group, a tag, a
# folder and the prefix of its tables, and a keyword there needs quoting somewhere sooner or
# later. Plus the layer schemas and the dbt project, which a domain folder would shadow.
_RESERVED = """
    all alter analyze and any array as asc authorization between both by case cast check
    collate column commit constraint create cross cube current current_date current_time
    current_timestamp current_user database default delete desc describe distinct drop else
    end escape except exists explain external false fetch filter for foreign from full
    function global grant group grouping having if in inner insert intersect interval into is
    join lateral leading left like limit local map merge minus natural not null of on only or
    order outer over overlaps partition position primary range references revoke right
    rollback rollup row rows schema select session_user set show some start struct table
    tablesample then time timestamp to trailing true truncate union unique unknown update
    user using values view when where window with
    bronze silver gold ua default dbt data_ops staging intermediate
    """
RESERVED_NAMES = frozenset(_RESERVED.split())


@dataclass(frozen=True)
class ScaffoldFile:
    """One file the scaffold writes: its path in the project and its text."""

    path: PurePosixPath
    text: str


# template -> path in the project ({domain} replaced in both)
_LAYOUT = (
    ("sources.yml.tmpl", "models/{domain}/_{domain}__sources.yml"),
    ("groups.yml.tmpl", "models/{domain}/_{domain}__groups.yml"),
    ("silver.sql.tmpl", "models/{domain}/silver/{domain}_records.sql"),
    ("silver.yml.tmpl", "models/{domain}/silver/_{domain}_silver__models.yml"),
    ("gold.sql.tmpl", "models/{domain}/gold/{domain}_summary.sql"),
    ("gold.yml.tmpl", "models/{domain}/gold/_{domain}_gold__models.yml"),
    ("reconcile_test.sql.tmpl", "tests/dbt/{domain}/assert_{domain}_summary_counts_records.sql"),
    ("job.yml.tmpl", "resources/jobs/{domain}/{domain}.job.yml"),
)
_MODELS = ("{domain}_records", "{domain}_summary")


def landing_folder(name: str) -> str:
    """The landing folder the scaffolded contract declares."""
    return f"{name}_files"


def check_domain_name(name: str) -> None:
    """Refuse a name that cannot be a domain, naming the value and the fix."""
    if not _NAME.match(name):
        raise ConfigError(
            f"domain name {name!r} is not a lower-case identifier: use lower-case letters, "
            "digits and underscores, starting with a letter (e.g. 'provider' or "
            "'lab_results')"
        )
    if name in RESERVED_NAMES:
        raise ConfigError(
            f"domain name {name!r} is a SQL keyword or a name the project already uses (a "
            f"layer or the dbt project); choose another, e.g. '{name}_domain' or a business "
            "term for what the domain holds"
        )


def render_domain(name: str) -> list[ScaffoldFile]:
    """The files of a new domain ``name`` (not written)."""
    check_domain_name(name)
    templates = resources.files(__package__).joinpath("templates")
    return [
        ScaffoldFile(
            PurePosixPath(target.replace(_PLACEHOLDER, name)),
            templates.joinpath(template).read_text(encoding="utf-8").replace(_PLACEHOLDER, name),
        )
        for template, target in _LAYOUT
    ]


def _conflicts(project_dir: Path, name: str) -> list[str]:
    found = [
        f"{folder} already exists"
        for folder in (f"models/{name}", f"tests/dbt/{name}", f"resources/jobs/{name}")
        if (project_dir / folder).exists()
    ]
    models = {m.replace(_PLACEHOLDER, name) for m in _MODELS}
    for path in sorted((project_dir / "models").rglob("*")):
        if path.suffix in (".sql", ".py") and path.stem in models:
            found.append(
                f"model {path.stem!r} already exists "
                f"({path.relative_to(project_dir).as_posix()}) and dbt model names are unique"
            )
    return found


def write_domain(project_dir: Path, name: str) -> list[Path]:
    """Write the new domain's files into ``project_dir``; nothing is written when the name is
    refused or any of its folders exists."""
    if not (project_dir / "dbt_project.yml").is_file():
        raise ConfigError(
            f"project_dir {str(project_dir.resolve())!r} has no dbt_project.yml; pass "
            "--project-dir pointing at the data-ops checkout"
        )
    files = render_domain(name)
    conflicts = _conflicts(project_dir, name)
    if conflicts:
        raise ConfigError(
            f"domain {name!r} cannot be created: {'; '.join(conflicts)}. Choose another name, "
            f"or edit the existing domain's files instead"
        )
    written: list[Path] = []
    for file in files:
        path = project_dir / file.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(file.text, encoding="utf-8")
        written.append(path)
    return written
