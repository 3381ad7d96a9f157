"""``data-ops`` command line: ingest, run, logs, and the deployment commands.

Exit codes: 0 ok, 1 data errors (a file or a dbt node failed), 2 usage or configuration errors,
3 the local catalog is busy (another run holds it).
"""

from python_ingest.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
