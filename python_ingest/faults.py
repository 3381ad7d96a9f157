"""Crash points for the exactly-once tests: a real SIGKILL at a named point of a run.

Inactive unless ``DATA_OPS_CRASH_AT`` names the point; production runs never set it. Tests use
it to kill the process while a data write is under way (its data files written, its commit not
made) and between the data and ledger commits, then check that a re-run loads every file
exactly once.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

__all__ = ["CRASH_ENV", "crash_during_write", "crash_point"]

CRASH_ENV = "DATA_OPS_CRASH_AT"


def crash_point(name: str) -> None:
    """Kill this process with SIGKILL when ``DATA_OPS_CRASH_AT`` equals ``name``."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def crash_during_write(name: str, table_dir: str | None) -> None:
    """Arm a watcher that SIGKILLs the process as soon as the next write to the Delta table
    stored in ``table_dir`` has created a data file (so before that write's commit)."""
    if os.environ.get(CRASH_ENV) != name or table_dir is None:
        return
    root = Path(table_dir)
    before = set(root.rglob("*.parquet"))

    def watch() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if any(p not in before for p in root.rglob("*.parquet")):
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(0.005)

    threading.Thread(target=watch, daemon=True, name="crash-during-write").start()
