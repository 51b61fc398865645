"""Append-only JSON Lines logs that survive a kill at any moment.

Used for the decisions ``annotate`` records and for the ledger of finished chunks ``tag``
keeps. A process killed in the middle of ``write`` can leave a last line without its newline
(a torn line). Opening a log cuts such a tail off before appending, so the next entry is never
glued to it and lost; the torn entry was never acknowledged (the write did not return), so
dropping it loses no decision the user saw recorded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def repair_torn_tail(path: Path) -> int:
    """Cut a last line that lacks its newline; return how many bytes were cut."""
    if not path.exists():
        return 0
    size = path.stat().st_size
    if size == 0:
        return 0
    with path.open("rb+") as handle:
        # walk back from the end to the last newline, a block at a time (the file may be large)
        end = size
        block = 1 << 16
        handle.seek(max(0, end - 1))
        if handle.read(1) == b"\n":
            return 0
        position = end
        while position > 0:
            start = max(0, position - block)
            handle.seek(start)
            data = handle.read(position - start)
            cut = data.rfind(b"\n")
            if cut >= 0:
                keep = start + cut + 1
                break
            position = start
        else:
            keep = 0
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())
    return size - keep


def read_entries(path: Path) -> list[dict[str, Any]]:
    """Every complete entry; a torn last line (or any line that is not a JSON object) is skipped."""
    if not path.exists():
        return []
    entries = []
    with path.open("rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                break  # torn: the write never finished
            try:
                entry = json.loads(raw)
            except (ValueError, RecursionError):
                continue
            if isinstance(entry, dict):
                entries.append(entry)
    return entries


class Journal:
    """Appends one JSON object a line; each entry is flushed and fsynced before ``append``
    returns, so an entry the caller saw recorded survives a kill or a power cut."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        repair_torn_tail(path)
        self._handle = path.open("a", encoding="utf-8")

    def append(self, entry: dict[str, Any]) -> None:
        self._handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()
