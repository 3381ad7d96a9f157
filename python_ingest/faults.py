"""Crash points for the exactly-once tests: a real SIGKILL at a named point of a run.

Inactive unless ``DATA_OPS_CRASH_AT`` names the point; production runs never set it. Tests use
it to kill the process during a data write and between the data and ledger commits, then check
that a re-run loads every file exactly once.
"""

from __future__ import annotations

import os
import signal
import threading
import time

__all__ = ["CRASH_ENV", "crash_during_spark_job", "crash_point"]

CRASH_ENV = "DATA_OPS_CRASH_AT"


def crash_point(name: str) -> None:
    """Kill this process with SIGKILL when ``DATA_OPS_CRASH_AT`` equals ``name``."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def crash_during_spark_job(name: str, status_tracker: object) -> None:
    """Arm a watcher that SIGKILLs the process once a Spark job is running (mid-write)."""
    if os.environ.get(CRASH_ENV) != name:
        return

    def watch() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if status_tracker.getActiveJobsIds():  # type: ignore[attr-defined]
                time.sleep(0.05)
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(0.01)

    threading.Thread(target=watch, daemon=True, name="crash-during-write").start()
