"""``python -m python_ingest.cli``: the ``data-ops`` entry point."""

import sys

from python_ingest.cli.main import main

sys.exit(main())
