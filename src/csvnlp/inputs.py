"""Checking and decoding the free text a user gives csvnlp (one description, or a table cell)."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from csvnlp.errors import InputError

MAX_TEXT_CHARS = 200_000  # longer than any project description; guards against whole dumps
# Reading stops here: a UTF-8 character is at most 4 bytes, so nothing longer can pass the check
# above, and a 10 GB file piped in by mistake costs 800 kB, not 10 GB.
MAX_INPUT_BYTES = 4 * MAX_TEXT_CHARS


def text_problem(text: object) -> str | None:
    """Why ``text`` cannot be classified, or None when it can.

    The one U+FFFD policy, for ``classify`` and ``tag`` alike: bytes that are not UTF-8 are
    refused where they are read (``decode_bytes``; a table's record becomes an error row); a
    U+FFFD *character* in valid text is a character, and only a text with many of them (the
    mark of a file mis-decoded before csvnlp saw it) is refused, here."""
    if text is None:
        return "empty text"
    if not isinstance(text, str):
        return f"text is {type(text).__name__}, not text"
    if not text.strip():
        return "empty text" if not text else "whitespace-only text"
    if "\x00" in text:
        return "binary data (NUL bytes), not text"
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    if controls > max(3, len(text) // 20):
        return "binary data (control characters), not text"
    if "\ufffd" in text and text.count("\ufffd") > max(3, len(text) // 50):
        return "text with many undecodable characters (U+FFFD); check the file's encoding"
    if len(text) > MAX_TEXT_CHARS:
        return f"text of {len(text):,} characters is longer than {MAX_TEXT_CHARS:,}; split it"
    return None


def decode_bytes(data: bytes, source: str) -> str:
    """UTF-8 (with or without BOM); a clear error naming the source otherwise."""
    if b"\x00" in data[:8192]:
        raise InputError(f"{source} is binary data, not text; give a plain-text (UTF-8) description")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source} is not UTF-8 (undecodable byte at position {exc.start}); re-save it as UTF-8, "
            f"e.g. `iconv -f latin1 -t utf-8 FILE > FILE.utf8`"
        ) from None


def read_bounded(stream: BinaryIO, source: str) -> bytes:
    """At most MAX_INPUT_BYTES from ``stream``; a clear error when there is more."""
    data = stream.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(
            f"{source} is longer than {MAX_INPUT_BYTES:,} bytes, more than any project description; "
            "give one description (use `csvnlp tag` for a table of them)"
        )
    return data


def read_text_file(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = read_bounded(handle, str(path))
    except IsADirectoryError:
        raise InputError(f"{path} is a directory; give a text file") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    return checked_text(decode_bytes(data, str(path)), str(path))


def checked_text(text: str, source: str) -> str:
    problem = text_problem(text)
    if problem:
        raise InputError(f"{source}: {problem}; give a project description to classify")
    return text
