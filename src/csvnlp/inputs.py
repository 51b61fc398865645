"""Checking and decoding the free text a user gives csvnlp (one description, or a table cell)."""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import BinaryIO

from csvnlp.errors import InputError

MAX_TEXT_CHARS = 200_000  # longer than any project description; guards against whole dumps
# Reading stops here: a UTF-8 character is at most 4 bytes, so nothing longer can pass the check
# above, and a 10 GB file piped in by mistake costs 800 kB, not 10 GB.
MAX_INPUT_BYTES = 4 * MAX_TEXT_CHARS
# A lone UTF-16 surrogate: valid in a JSON string ("\ud83d", an emoji cut in half by an
# exporter) and in a str Python made from undecodable bytes (argv, file names), but not text:
# spaCy and pyarrow both fail on it.
SURROGATE = re.compile("[\ud800-\udfff]")
# Control characters other than tab, line feed, carriage return and form feed (what binary data
# is made of); found by one regex, not a Python loop over every character of every row.
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f]")
ICONV_NAMES = {"UTF-16": "UTF-16", "Latin-1 (or Windows-1252)": "WINDOWS-1252"}


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
    controls = len(_CONTROL.findall(text)) if _CONTROL.search(text) else 0
    if controls > max(3, len(text) // 20):
        return "binary data (control characters), not text"
    if "\ufffd" in text and text.count("\ufffd") > max(3, len(text) // 50):
        return "text with many undecodable characters (U+FFFD); check the file's encoding"
    if len(text) > MAX_TEXT_CHARS:
        return f"text of {len(text):,} characters is longer than {MAX_TEXT_CHARS:,}; split it"
    surrogate = SURROGATE.search(text)
    if surrogate:
        if "\udc80" <= surrogate.group() <= "\udcff":  # how Python keeps bytes that are not UTF-8
            return "undecodable bytes: the text is not valid UTF-8"
        return (f"a lone surrogate (U+{ord(surrogate.group()):04X}): a character cut in half, e.g. an emoji split "
                "by the program that exported it")
    return None


def without_surrogates(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (for ids and carried cells)."""
    return SURROGATE.sub("\ufffd", text) if SURROGATE.search(text) else text


def json_value_problem(exc: ValueError) -> str:
    """What a ValueError from ``json.loads`` that is not a syntax error means, in words."""
    if "digits" in str(exc):
        return "a number of more than 4,300 digits"
    return str(exc)


def non_regular_file(path: Path) -> str | None:
    """What ``path`` is when it is not a regular file or a directory ('a named pipe (FIFO)',
    'a character device', ...), else None; a path that cannot be stat'ed is left to the open."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def guess_encoding(data: bytes) -> str | None:
    """The likely encoding of bytes that are not UTF-8, when it is one people export by
    mistake: UTF-16 (a BOM, or a NUL beside every ASCII byte) or Latin-1/Windows-1252."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "UTF-16"
    sample = data[:4096]
    if len(sample) >= 4 and (sample[1::2].count(0) > len(sample) // 4 or sample[0::2].count(0) > len(sample) // 4):
        return "UTF-16"
    if b"\x00" in sample:
        return None
    text = sample.decode("cp1252", errors="replace")
    letters = sum(ch.isalpha() for ch in text)
    high = [ch for ch in text if ord(ch) > 127]
    if high and "\ufffd" not in text and sum(ch.isalpha() for ch in high) >= len(high) / 2 and letters > len(text) / 3:
        return "Latin-1 (or Windows-1252)"
    return None


def decode_bytes(data: bytes, source: str) -> str:
    """UTF-8 (with or without BOM); a clear error naming the source (and, when it is UTF-16 or
    Latin-1, the encoding) otherwise."""
    encoding = guess_encoding(data) if b"\x00" in data[:8192] or data[:2] in (b"\xff\xfe", b"\xfe\xff") else None
    if encoding == "UTF-16":
        raise InputError(f"{source} is UTF-16 text, not UTF-8; convert it, e.g. `iconv -f UTF-16 -t UTF-8 FILE > FILE.txt`")
    if b"\x00" in data[:8192]:
        raise InputError(f"{source} is binary data, not text; give a plain-text (UTF-8) description")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if guess_encoding(data[max(0, exc.start - 2000):exc.start + 2000]):
            raise InputError(f"{source} is Latin-1 (or Windows-1252) text, not UTF-8; convert it, e.g. "
                             f"`iconv -f WINDOWS-1252 -t UTF-8 FILE > FILE.txt`") from None
        raise InputError(
            f"{source} is not UTF-8 (undecodable byte at position {exc.start}); re-save it as UTF-8, "
            f"e.g. `iconv -f latin1 -t utf-8 FILE > FILE.utf8`"
        ) from None


def read_bounded(stream: BinaryIO | None, source: str, limit: int = MAX_INPUT_BYTES) -> bytes:
    """At most ``limit`` bytes from ``stream``; a clear error when there is more (a pipe or a
    device such as /dev/zero, whose size ``stat`` cannot tell, is read this way too) or when
    there is no stream at all (standard input closed: ``csvnlp classify - <&-``)."""
    if stream is None:
        raise InputError(f"{source} is closed; pipe a description into it or give TEXT or --file PATH")
    try:
        data = stream.read(limit + 1)
    except OSError as exc:
        raise InputError(f"cannot read {source}: {exc.strerror or exc}") from None
    if data is None:  # a non-blocking stream with nothing ready
        data = b""
    if len(data) > limit:
        raise InputError(
            f"{source} is longer than {limit:,} bytes, more than any project description; "
            "give one description (use `csvnlp tag` for a table of them)"
        )
    return data


def read_standard_input(limit: int) -> bytes:
    """Standard input's bytes, at most ``limit``; an InputError when it is closed or longer."""
    import sys

    stream = getattr(sys.stdin, "buffer", None) if sys.stdin is not None else None
    return read_bounded(stream, "standard input", limit)


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
