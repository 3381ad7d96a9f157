"""``data-ops domain new <name>``: scaffold a domain in its own folders."""

from __future__ import annotations

import argparse
from pathlib import Path

from python_ingest.cli.common import EXIT_OK, Subparsers
from python_ingest.cli.console import View
from python_ingest.scaffold import landing_folder, write_domain

__all__ = ["register"]


def cmd_new(args: argparse.Namespace) -> int:
    view: View = args.view
    name: str = args.name
    project: Path = args.project_dir
    written = write_domain(project, name)
    view.line(f"data-ops domain new: created domain {name!r} in {project.resolve()}:")
    for path in written:
        view.line(f"  {path.relative_to(project).as_posix()}")
    landing = landing_folder(name)
    view.line(
        "\n".join(
            [
                "Next steps:",
                f"  1. Edit models/{name}/_{name}__sources.yml to describe your feed (columns, "
                "formats, keys), then the starter models and their YAML.",
                f"  2. Deliver files to the landing folder {landing}/ of the bronze external "
                f"volume: locally $DATA_OPS_LAKEHOUSE/local/volumes/bronze/external/{landing}/ "
                f"(default .lakehouse/), on Databricks /Volumes/<catalog>/bronze/external/"
                f"{landing}/ (`data-ops upload --target <target> --domain {name} --source "
                "<folder>`).",
                f"  3. Build it locally: data-ops run --target local --domain {name}",
                "  4. Check the bundle offline: make bundle-check",
                "  5. Deploy: databricks bundle deploy -t <target>; the job "
                f"resources/jobs/{name}/{name}.job.yml runs ingest, then dbt build of "
                f"models/{name}. If its models ref another domain's, make the job start that "
                "domain's job first (see the README's 'Adding a domain').",
            ]
        )
    )
    return EXIT_OK


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "domain",
        help="scaffold a new domain",
        description="Work with domains: folders of models/ with their own bundle job.",
    )
    actions = parser.add_subparsers(dest="domain_command", required=True, metavar="ACTION")
    new = actions.add_parser(
        "new",
        help="write a new domain's contract, starter models and job",
        description="Write models/<name>/ (a bronze source with a full ingestion contract, "
        "its group, a starter silver and gold model with YAML and tests) and "
        "resources/jobs/<name>/<name>.job.yml, editing no existing file. Refuses a name that "
        "is not a lower-case identifier, is a SQL keyword, or whose folders exist (exit 2).",
    )
    new.add_argument("name", help="domain name: lower-case letters, digits, underscores")
    new.add_argument(
        "--project-dir",
        type=Path,
        default=Path(),
        dest="project_dir",
        help="data-ops project root holding dbt_project.yml and models/ (default: .)",
    )
    new.set_defaults(func=cmd_new)
