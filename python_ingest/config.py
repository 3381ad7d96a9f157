"""Run configuration, validated once at the CLI entry point."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from python_ingest.errors import ConfigError
from python_ingest.naming import DATABRICKS_CATALOGS, LOCAL_CATALOG, Names

__all__ = ["TARGETS", "RunConfig", "load_run_config"]

TARGETS = (LOCAL_CATALOG, *DATABRICKS_CATALOGS)
Target = Literal["local", "dev", "sit", "prod"]
_IDENT = r"^[a-z][a-z0-9_]*$"


class RunConfig(BaseModel):
    """What one CLI invocation works on: target/catalog, project, and an optional scope."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target: Target = "local"
    catalog: str = Field(default="", pattern=r"^$|" + _IDENT)
    project_dir: Path = Path()
    domain: str | None = Field(default=None, pattern=_IDENT)
    table: str | None = Field(default=None, pattern=_IDENT)

    @model_validator(mode="after")
    def _defaults(self) -> RunConfig:
        if not self.catalog:
            # The catalog of a target is its name (local, dev, sit, prod).
            object.__setattr__(self, "catalog", self.target)
        project = self.project_dir.resolve()
        if not (project / "dbt_project.yml").is_file():
            raise ValueError(
                f"project_dir {str(project)!r} has no dbt_project.yml; pass --project-dir "
                "pointing at the data-ops checkout (or the bundle's synced files)"
            )
        object.__setattr__(self, "project_dir", project)
        return self

    @property
    def names(self) -> Names:
        """Table names of this run: the target decides local engine or Databricks."""
        return Names.for_target(self.target, self.catalog)


def load_run_config(**values: object) -> RunConfig:
    """Build a RunConfig, turning pydantic's report into one ConfigError that names the fix."""
    clean = {k: v for k, v in values.items() if v is not None}
    try:
        return RunConfig.model_validate(clean)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'config'}={e.get('input')!r}: {e['msg']}"
            for e in err.errors()
        )
        raise ConfigError(f"invalid run configuration: {problems}") from err
