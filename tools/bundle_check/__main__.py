"""``python -m tools.bundle_check``."""

from __future__ import annotations

import sys

from tools.bundle_check.check import main

sys.exit(main())
