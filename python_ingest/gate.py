"""A Delta write whose commit waits for a check that runs beside the write.

Delta commits a write only after every task of its Spark job has succeeded. The gate adds one
task to the write: a partition with no rows whose task (in a Python worker) waits for the
check's verdict and fails when the check refused. So the write's data files are produced while
the check runs, and nothing is committed before the check has passed. A refusal also interrupts
the write's job at once (by its job tag), instead of letting it run to the gate.

The verdict is a file in a folder of the driver's file system, which the Python workers read:
the gate needs executors on the driver's machine (a ``local`` master, the embedded engine).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pyspark.sql import functions as F
from pyspark.sql import types as T

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["CommitGate", "GateRefusedError", "gate_supported"]

_PASSED = "passed"
_POLL_SECONDS = 0.01
# Spark's loggers that report a failing task and the write it aborts, with stack traces: for a
# refusal (an expected outcome, reported by the caller) they stay quiet.
_TASK_FAILURE_LOGGERS = (
    "org.apache.spark.executor.Executor",
    "org.apache.spark.scheduler.TaskSetManager",
    "org.apache.spark.util.Utils",
    "org.apache.spark.sql.delta.files.DeltaFileFormatWriter",
    "org.apache.spark.sql.execution.datasources.FileFormatWriter",
)


class GateRefusedError(RuntimeError):
    """The check beside the write refused: the write was stopped before its commit."""


def gate_supported(spark: SparkSession) -> bool:
    """Whether the executors share the driver's file system (a ``local`` master)."""
    return (spark.sparkContext.master or "").startswith("local")


def _wait_for_verdict(verdict: str) -> bool:
    """In the gate's task: wait for the verdict file; fail the task unless it says passed."""
    path = Path(verdict)
    while not path.exists():
        time.sleep(_POLL_SECONDS)
    text = path.read_text(encoding="utf-8")
    if text != _PASSED:
        raise GateRefusedError(f"data-ops commit gate {text}")
    return False  # the gate's partition has no rows


def _lower_priority() -> None:
    """Let the write's tasks have the CPU first: the check fills the cores they leave idle.

    Linux sets the niceness of one thread when given its thread id; elsewhere it would apply to
    the whole process, so other systems keep the normal priority.
    """
    if sys.platform == "linux":
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


class CommitGate:
    """Runs ``check`` beside one Delta write and holds the write's commit for its verdict.

    ``check`` returns None when the write may commit, else the reason it may not. Use:
    ``df = gate.guard(df)``, ``gate.start()`` right before the write (the check then does not
    compete with the write's planning for the interpreter), the write, then ``gate.refusal()``.
    """

    def __init__(self, spark: SparkSession, check: Callable[[], str | None]) -> None:
        self._spark = spark
        self._check = check
        self._folder = Path(tempfile.mkdtemp(prefix="data-ops-gate-"))
        self._verdict = self._folder / "verdict"
        self.tag = f"data-ops-gate-{uuid.uuid4().hex}"
        self._thread: threading.Thread | None = None
        self._reason: str | None = None
        self._error: BaseException | None = None
        self._quieted: dict[str, str | None] = {}
        self._write_returned = threading.Event()

    def guard(self, df: DataFrame) -> DataFrame:
        """``df`` plus the gate's partition (no rows): its task waits for the verdict."""
        wait = F.udf(_wait_for_verdict, T.BooleanType(), useArrow=False)
        gate = (
            self._spark.range(1, numPartitions=1)
            .where(wait(F.lit(str(self._verdict))))
            .select(*[F.lit(None).cast(f.dataType).alias(f.name) for f in df.schema.fields])
        )
        return df.unionByName(gate)

    def start(self) -> None:
        """Start the check on its own thread, and tag the caller's Spark jobs (the write)."""
        self._spark.addTag(self.tag)
        self._thread = threading.Thread(target=self._run, name="commit-gate", daemon=True)
        self._thread.start()

    def refusal(self) -> str | None:
        """Wait for the check; None when it passed, else why not. Ends the gate."""
        self._spark.removeTag(self.tag)
        self._write_returned.set()
        if self._thread is not None:
            self._thread.join()
        with contextlib.suppress(Exception):
            self._set_log_levels(self._quieted)
        shutil.rmtree(self._folder, ignore_errors=True)
        if self._error is not None:
            raise self._error
        return self._reason

    def _run(self) -> None:
        _lower_priority()
        reason: str | None = "the check did not finish"
        try:
            reason = self._check()
        except BaseException as err:  # noqa: BLE001 - reported by refusal(), in the caller
            self._error = err
            reason = f"the check failed: {err}"
        finally:
            self._reason = reason
            if reason is not None:
                # Quieter logs are a courtesy: failing to set them must not hold the verdict.
                with contextlib.suppress(Exception):
                    self._quieted = self._set_log_levels(
                        dict.fromkeys(_TASK_FAILURE_LOGGERS, "FATAL")
                    )
            self._publish(_PASSED if reason is None else f"refused: {reason}")
            # A refusal can come before the write's job has started: the tag is interrupted
            # until the write has returned, so a job started after the refusal stops too.
            while reason is not None:
                self._spark.interruptTag(self.tag)
                if self._write_returned.wait(_POLL_SECONDS * 5):
                    break

    def _set_log_levels(self, levels: dict[str, str | None]) -> dict[str, str | None]:
        """Set log4j levels (None: inherit the parent's); returns the levels they replace."""
        jvm = self._spark.sparkContext._jvm
        if not levels or jvm is None:
            return {}
        log4j = jvm.org.apache.logging.log4j
        root = str(log4j.LogManager.getRootLogger().getLevel())
        previous: dict[str, str | None] = {}
        for name, level in levels.items():
            current = str(log4j.LogManager.getLogger(name).getLevel())
            previous[name] = None if current == root else current
            new = None if level is None else log4j.Level.toLevel(level)
            jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(name, new)
        return previous

    def _publish(self, text: str) -> None:
        """Write the verdict whole, then rename it into place: the gate never reads half."""
        partial = self._folder / "verdict.partial"
        partial.write_text(text, encoding="utf-8")
        partial.replace(self._verdict)
