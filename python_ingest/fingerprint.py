"""One read pass over a delivered file: content hash, UTF-8 check, and the JSON key census."""

from __future__ import annotations

import codecs
import hashlib
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from python_ingest.census import KeyCensus

__all__ = ["Fingerprint", "FingerprintStoppedError", "fingerprint"]

_CHUNK = 8 * 1024 * 1024


class FingerprintStoppedError(Exception):
    """The fingerprint was stopped before the end of the file (it was no longer wanted)."""


@dataclass(frozen=True)
class Fingerprint:
    """What one pass over the bytes found.

    ``keys_checked``: a key census ran and every record carries only declared keys (see
    ``census``); ``census_problem`` says why not when a census ran: its first undeclared key,
    else its first problem.
    """

    sha256: str
    encoding_problem: str | None = None
    keys_checked: bool = False
    census_problem: str | None = None


def _line_of(path: Path, offset: int) -> int:
    """1-based line number of the byte at ``offset``."""
    lines = 1
    with path.open("rb") as handle:
        while offset > 0 and (chunk := handle.read(min(_CHUNK, offset))):
            lines += chunk.count(b"\n")
            offset -= len(chunk)
    return lines


def fingerprint(
    path: Path,
    *,
    check_utf8: bool,
    census: KeyCensus | None = None,
    stop: threading.Event | None = None,
) -> Fingerprint:
    """SHA-256 of the bytes; when asked, where they stop being UTF-8, and the key census.
    ``stop``, once set, ends the pass at the next chunk (``FingerprintStoppedError``).

    Hashing runs on a worker thread (hashlib releases the GIL) while this thread checks the
    encoding and feeds the census, so the work costs the time of the slower side.
    """
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    problem: str | None = None
    offset = 0
    hashing: Future[None] | None = None
    with path.open("rb") as handle, ThreadPoolExecutor(max_workers=1) as hasher:
        while chunk := handle.read(_CHUNK):
            if stop is not None and stop.is_set():
                raise FingerprintStoppedError(str(path))
            if hashing is not None:
                hashing.result()
            hashing = hasher.submit(digest.update, chunk)
            # An ASCII chunk is valid UTF-8 unless it follows an unfinished multi-byte char.
            ascii_only = chunk.isascii() and not decoder.getstate()[0]
            if check_utf8 and problem is None and not ascii_only:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as err:
                    bad = chunk[err.start : err.start + 1]
                    at = offset + err.start
                    problem = (
                        f"not valid UTF-8: byte {bad!r} at offset {at} (line "
                        f"{_line_of(path, at)}); re-deliver the file as UTF-8 or declare its "
                        "encoding in reader_options"
                    )
            if census is not None and problem is None:
                census.feed(chunk)
            offset += len(chunk)
        if hashing is not None:
            hashing.result()
    if check_utf8 and problem is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            problem = "not valid UTF-8: the file ends inside a multi-byte character"
    if census is None or problem is not None:
        return Fingerprint(digest.hexdigest(), problem)
    clean = census.finish()
    return Fingerprint(digest.hexdigest(), None, clean, census.undeclared or census.problem)
