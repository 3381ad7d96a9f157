"""Memory of a ``make bench-pipeline`` run, sampled on a thread while the run lives.

Memory, sampled every 0.5 s from this process while the run lives:

- memory of the run's process tree (python + the Spark JVM it starts): the peak of the sum of
  ``Pss`` over the tree's processes (``/proc/<pid>/smaps_rollup``; a JVM thread forked to run a
  helper command shares the JVM's pages, which summed ``VmRSS`` would count twice), and each
  process's ``VmHWM`` (its own peak RSS) as last seen;
- JVM heap: read from the JVM's own performance counters (``/tmp/hsperfdata_<user>/<pid>``, the
  memory-mapped file ``jstat`` reads), so no attach and no extra JVM per sample: peak heap used
  (eden + survivors + old; a sample can miss the top just before a collection, so this is a
  lower bound), peak heap committed, the heap's maximum, and GC pause time and count at the end.
"""

from __future__ import annotations

import getpass
import re
import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SAMPLE_SECONDS = 0.5
MB = 1024 * 1024


def _perf_counters(path: Path) -> dict[str, int]:
    """The long scalar counters of a HotSpot hsperfdata file (the format ``jstat`` reads)."""
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    if len(data) < 32 or data[:4] != b"\xca\xfe\xc0\xc0" or not data[7]:
        return {}  # not perf data, or the JVM has not made it accessible yet
    order = "<" if data[4] == 1 else ">"
    counters: dict[str, int] = {}
    try:
        offset, entries = struct.unpack_from(order + "ii", data, 24)
        for _ in range(entries):
            length, name_at, vector, kind, _f, _u, _v, value_at = struct.unpack_from(
                order + "iiiBBBBi", data, offset
            )
            if length <= 0:
                break
            if vector == 0 and kind == ord("J"):
                start = offset + name_at
                name = data[start : data.index(b"\0", start)].decode("ascii", "replace")
                counters[name] = struct.unpack_from(order + "q", data, offset + value_at)[0]
            offset += length
    except (struct.error, ValueError):
        pass  # an entry being written as we read: keep what was read
    return counters


_HEAP_USED = re.compile(r"sun\.gc\.generation\.\d+\.space\.\d+\.used")
_HEAP_COMMITTED = re.compile(r"sun\.gc\.generation\.\d+\.capacity")
_HEAP_MAX = re.compile(r"sun\.gc\.generation\.\d+\.maxCapacity")
_GC_TIME = re.compile(r"sun\.gc\.collector\.\d+\.time")
_GC_COUNT = re.compile(r"sun\.gc\.collector\.\d+\.invocations")


# A JVM thread forked to start a helper command (Hadoop's chmod...), not yet exec'd: it shares
# the JVM's pages, so its VmHWM repeats the JVM's.
_FORK = re.compile(r"Thread-\d+")


def _total(counters: dict[str, int], pattern: re.Pattern[str]) -> int:
    return sum(v for k, v in counters.items() if pattern.fullmatch(k))


def _proc_status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def _pss(pid: int) -> int | None:
    """Proportional set size in bytes: shared pages split among the processes sharing them."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return None


def _kb(value: str | None) -> int:
    return int(value.split()[0]) * 1024 if value else 0


def _tree(root: int) -> list[int]:
    """``root`` and its descendants, from /proc/<pid>/stat."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue.extend(children.get(pid, []))
    return found


@dataclass
class Heap:
    """One JVM's heap, from its hsperfdata counters."""

    used_peak: int = 0
    committed_peak: int = 0
    max: int = 0
    gc_seconds: float = 0.0
    gc_count: int = 0
    samples: int = 0

    def update(self, counters: dict[str, int]) -> None:
        self.samples += 1
        self.used_peak = max(self.used_peak, _total(counters, _HEAP_USED))
        self.committed_peak = max(self.committed_peak, _total(counters, _HEAP_COMMITTED))
        # G1 lets either generation grow to the whole heap: each one's maximum is the heap's.
        self.max = max([self.max, *(v for k, v in counters.items() if _HEAP_MAX.fullmatch(k))])
        frequency = counters.get("sun.os.hrt.frequency") or 1
        self.gc_seconds = max(self.gc_seconds, _total(counters, _GC_TIME) / frequency)
        self.gc_count = max(self.gc_count, _total(counters, _GC_COUNT))


@dataclass
class Memory:
    tree_peak: int = 0
    hwm: dict[str, int] = field(default_factory=dict)  # "<comm> <pid>" -> VmHWM
    heaps: dict[int, Heap] = field(default_factory=dict)  # every JVM of the tree by pid
    samples: int = 0

    def driver(self) -> tuple[int, Heap] | None:
        """The Spark driver's JVM: the largest (spark-submit first runs a small launcher JVM)."""
        if not self.heaps:
            return None
        return max(self.heaps.items(), key=lambda item: item[1].committed_peak)


class Sampler(threading.Thread):
    """Samples a process tree's memory every ``SAMPLE_SECONDS`` until stopped."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.memory = Memory()
        self.done = threading.Event()
        # HotSpot writes it under /tmp on Linux whatever TMPDIR or java.io.tmpdir say.
        self.perf_dir = Path("/tmp") / f"hsperfdata_{getpass.getuser()}"  # noqa: S108

    def run(self) -> None:
        while not self.done.is_set():
            self.sample()
            self.done.wait(SAMPLE_SECONDS)

    def sample(self) -> None:
        memory = self.memory
        rss = 0
        for pid in _tree(self.root):
            status = _proc_status(pid)
            if not status:
                continue
            pss = _pss(pid)
            rss += _kb(status.get("VmRSS")) if pss is None else pss
            command = status.get("Name", "?").strip()
            if not _FORK.fullmatch(command):
                name = f"{command} {pid}"
                memory.hwm[name] = max(memory.hwm.get(name, 0), _kb(status.get("VmHWM")))
            if command == "java":
                counters = _perf_counters(self.perf_dir / str(pid))
                if counters:
                    memory.heaps.setdefault(pid, Heap()).update(counters)
        memory.tree_peak = max(memory.tree_peak, rss)
        memory.samples += 1

    def stop(self) -> Memory:
        self.done.set()
        self.join()
        return self.memory


def memory_figures(memory: Memory) -> dict[str, Any]:
    driver = memory.driver()
    heap = driver[1] if driver else Heap()

    def mb(value: float) -> float | None:
        return round(value / MB, 1) if driver else None

    return {
        "pss_tree_peak_mb": round(memory.tree_peak / MB, 1),
        # the python driver and the JVM; short-lived helpers (readlink, the launcher) left out
        "vmhwm_mb": {k: round(v / MB, 1) for k, v in sorted(memory.hwm.items()) if v >= 100 * MB},
        "jvm_pid": driver[0] if driver else None,
        "jvm_heap_used_peak_mb": mb(heap.used_peak),
        "jvm_heap_committed_peak_mb": mb(heap.committed_peak),
        "jvm_heap_max_mb": mb(heap.max),
        "jvm_gc_pause_seconds": round(heap.gc_seconds, 2) if driver else None,
        "jvm_gc_count": heap.gc_count if driver else None,
        "samples": memory.samples,
        "heap_samples": heap.samples,
    }
