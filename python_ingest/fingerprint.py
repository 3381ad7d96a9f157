"""One read pass over a delivered file: content hash, text check, and the JSON key census.

The bytes are read once, in blocks of whole lines: each block updates the SHA-256, is checked
as UTF-8 (where the contract reads the format as UTF-8), and feeds the key census (JSON).
A line that is not valid UTF-8 is row-level damage: its number is kept so the reader can
quarantine the record holding it with its bytes, while the other rows load. A file that is not
UTF-8 text at all (a UTF-16/32 byte-order mark, NUL bytes, most lines invalid) is named as such.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from python_ingest.census import KeyCensus

__all__ = ["Fingerprint", "fingerprint"]

_BLOCK = 8 * 1024 * 1024
_BOMS = (
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
    (b"\xfe\xff", "UTF-16 (big-endian)"),
    (b"\xff\xfe", "UTF-16 (little-endian)"),
)
# Lines kept by number when they are not valid UTF-8; more means the file is in another
# encoding throughout.
_MAX_INVALID_LINES = 10_000


@dataclass(frozen=True)
class Fingerprint:
    """What one pass over the bytes found.

    ``not_text``: why the file is not UTF-8 text at all (None when it is, or was not checked).
    ``invalid_lines``: 1-based numbers of the lines holding bytes that are not valid UTF-8.
    ``keys_checked``: a key census ran and every record carries only declared keys;
    ``census_problem``: why not, when a census ran (its first undeclared key, else its first
    problem).
    """

    sha256: str
    lines: int = 0
    not_text: str | None = None
    invalid_lines: tuple[int, ...] = ()
    keys_checked: bool = False
    census_problem: str | None = None


def _encoding_problem(head: bytes, lines: int, invalid: list[int]) -> str | None:
    for bom, name in _BOMS:
        if head.startswith(bom):
            return (
                f"the file is {name} text (it starts with that byte-order mark), not UTF-8; "
                "re-deliver it as UTF-8, or declare its encoding in the table's "
                "reader_options"
            )
    if b"\x00" in head:
        return (
            "the file holds NUL bytes: it is binary, or text in UTF-16/32 without a byte-order "
            "mark, not UTF-8; re-deliver it as UTF-8 text, or declare its encoding in the "
            "table's reader_options"
        )
    if invalid and (len(invalid) >= _MAX_INVALID_LINES or 2 * len(invalid) > max(lines, 1)):
        return (
            f"{len(invalid)} of its {lines} lines are not valid UTF-8 (the first is line "
            f"{invalid[0]}): the file is in another encoding; re-deliver it as UTF-8, or "
            "declare its encoding in the table's reader_options (e.g. encoding: ISO-8859-1)"
        )
    return None


def fingerprint(path: Path, *, check_utf8: bool, census: KeyCensus | None = None) -> Fingerprint:
    """SHA-256 of the bytes; when asked, the lines that are not UTF-8, and the key census."""
    digest = hashlib.sha256()
    head = b""
    tail = b""
    lines = 0
    invalid: list[int] = []
    with path.open("rb") as handle:
        while chunk := handle.read(_BLOCK):
            digest.update(chunk)
            if not head:
                head = chunk[:4096]
            if not check_utf8:
                continue
            body = tail + chunk
            end = body.rfind(b"\n") + 1
            tail = body[end:]
            lines += _check_block(body[:end], lines, invalid)
            if census is not None:
                census.feed(chunk)
    if check_utf8 and tail:
        lines += _check_block(tail, lines, invalid)
    if not check_utf8:
        return Fingerprint(digest.hexdigest())
    not_text = _encoding_problem(head, lines, invalid)
    if census is None or not_text is not None or invalid:
        # A file that is not clean text is read record by record (no census verdict).
        return Fingerprint(digest.hexdigest(), lines, not_text, tuple(invalid))
    clean = census.finish()
    return Fingerprint(
        digest.hexdigest(), lines, None, (), clean, census.undeclared or census.problem
    )


def _check_block(block: bytes, before: int, invalid: list[int]) -> int:
    """Check whole lines as UTF-8, keeping the numbers of invalid ones; returns the line count.

    ASCII is valid UTF-8, and a block of whole lines never splits a multi-byte character (a
    line feed is never part of one), so most blocks cost one ``isascii`` scan.
    """
    count = block.count(b"\n") + (bool(block) and not block.endswith(b"\n"))
    if block.isascii() or len(invalid) >= _MAX_INVALID_LINES:
        return count
    try:
        block.decode("utf-8")
    except UnicodeDecodeError:
        for number, line in enumerate(block.split(b"\n"), start=before + 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                invalid.append(number)
                if len(invalid) >= _MAX_INVALID_LINES:
                    break
    return count
