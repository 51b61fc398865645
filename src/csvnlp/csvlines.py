"""Physical lines read in bounded pieces, and the CSV records made of them.

The low level of ``tables``: ``Lines`` hands out a binary stream's lines without ever holding
more than ``MAX_RECORD_BYTES`` of one record, and can push a failed record's lines back so the
reader resynchronises on the next line; ``csv_records`` turns them into records, never raising
on malformed content (a bad record is a ``(line, leading_fields, reason)`` triple).
"""

from __future__ import annotations

import csv
import zlib
from collections import deque
from typing import Any, Iterator

from csvnlp.errors import InputError

# A record (all its lines) larger than this is an error row rather than memory: four times the
# longest text csvnlp classifies (inputs.MAX_TEXT_CHARS, up to 4 UTF-8 bytes a character).
MAX_RECORD_BYTES = 4 * 200_000 * 4
DELIMITERS = (",", "\t", ";", "|")  # in order of preference when the header line ties
# The csv module's own per-field cap (128 KiB by default) would reject legitimate long texts
# before our per-record cap can report them as one error row; the limit is module-wide.
csv.field_size_limit(max(csv.field_size_limit(), MAX_RECORD_BYTES + 1))
# How far past MAX_RECORD_BYTES a quoted field is followed to its closing quote (issue 19, item
# 12): a well-formed field this long is one error row, not its lines read again as records;
# a quote still open here (or at the end of the input) is taken for an unterminated one.
MAX_SKIPPED_RECORD_BYTES = 64 * 1024 * 1024


class Lines:
    """Physical lines of a binary stream, read in bounded pieces, with a push-back queue so a
    reader can go back to the line after a failed record and read on from there.

    ``take`` raises ``TooLong`` once the current record's lines pass ``MAX_RECORD_BYTES``;
    the record's lines are remembered until ``start_record`` so they can be pushed back."""

    def __init__(self, stream: Any, limit: int = MAX_RECORD_BYTES):
        self.stream = stream
        self.limit = limit
        self.queue: deque[tuple[int, bytes, bool]] = deque()  # (line, bytes, complete)
        self.next_line = 1
        self.record: list[tuple[int, bytes]] = []  # lines taken for the current record
        self.partial: tuple[int, bytes] | None = None  # a line cut short by the limit
        self.used = 0
        self.exhausted = False
        self.first = True

    def start_record(self) -> None:
        self.record = []
        self.used = 0
        self.partial = None
        self.exhausted = False

    def _piece(self, size: int) -> tuple[int, bytes, bool]:
        if self.queue:
            return self.queue.popleft()
        try:
            data = self.stream.readline(size)
        except (OSError, EOFError, zlib.error) as exc:
            raise Unreadable(str(exc)) from None
        number = self.next_line
        if data.endswith(b"\n") or not data:
            self.next_line += 1
        # readline(size) stops short of size without a newline only at the end of the input
        return number, data, data.endswith(b"\n") or len(data) < size

    def take(self) -> tuple[int, bytes] | None:
        """The next complete physical line (None at the end of the input)."""
        if not self.queue and not self.first:
            # the common case, kept short (it runs once per line of the input): a whole line
            # read straight from the stream, within the limit
            try:
                data = self.stream.readline(self.limit - self.used + 1)
            except (OSError, EOFError, zlib.error) as exc:
                raise Unreadable(str(exc)) from None
            if data.endswith(b"\n") and self.used + len(data) <= self.limit:
                number = self.next_line
                self.next_line = number + 1
                self.record.append((number, data))
                self.used += len(data)
                return number, data
            number = self.next_line
            if data.endswith(b"\n") or not data:
                self.next_line += 1
            self.queue.appendleft((number, data, data.endswith(b"\n") or len(data) < self.limit - self.used + 1))
        number, data, complete = self._piece(self.limit - self.used + 1)
        if not data:
            self.exhausted = True
            return None
        while not complete and self.used + len(data) <= self.limit:
            _, more, complete = self._piece(self.limit - self.used - len(data) + 1)
            if not more:
                break
            data += more
        if self.used + len(data) > self.limit:
            self.partial = (number, data)
            raise TooLong()
        if self.first:
            self.first = False
            if data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]
        self.record.append((number, data))
        self.used += len(data)
        return number, data

    def skip_rest_of_record(self) -> bool:
        """After ``TooLong``: read on to the end of the record when its quotes close (a field too
        long to be a description, but well formed), so that its lines are not read again as
        records. True when the record ended; False, with the stream back where it was, when
        the input ends (or ``MAX_SKIPPED_RECORD_BYTES`` pass) inside a quote: then the quote
        is unterminated and the caller resynchronises on the line after the record's first."""
        if not self.stream.seekable():
            return False
        taken = [data for _, data in self.record] + ([self.partial[1]] if self.partial else [])
        inside = sum(data.count(b'"') for data in taken) & 1  # '""' inside a quoted field counts twice
        if not inside and taken and taken[-1].endswith(b"\n"):
            return True
        saved = (deque(self.queue), self.stream.tell(), self.next_line)
        scanned = 0
        while scanned <= MAX_SKIPPED_RECORD_BYTES:
            _, data, _ = self._piece(1 << 16)
            if not data:
                if not inside:
                    return True
                break
            scanned += len(data)
            inside ^= data.count(b'"') & 1
            if not inside and data.endswith(b"\n"):
                return True
        self.queue, position, self.next_line = saved
        self.stream.seek(position)
        return False

    def start_line(self) -> int:
        """The line the current record started on."""
        if self.record:
            return self.record[0][0]
        return self.partial[0] if self.partial else self.next_line

    def resynchronise(self) -> None:
        """After a failed record: read again from the line after its first one."""
        later = [(n, d, True) for n, d in self.record[1:]]
        if self.partial is not None:
            if self.record:
                later.append((self.partial[0], self.partial[1], False))
            else:
                self._skip_line()  # the record's own first line is too long: drop the rest of it
        self.queue.extendleft(reversed(later))

    def _skip_line(self) -> None:
        while True:
            _, data, complete = self._piece(1 << 16)
            if not data or complete:
                return


class TooLong(Exception):
    pass


class Unreadable(Exception):
    pass


def decode_line(data: bytes) -> tuple[str, bool]:
    """The line as text, and whether it was valid UTF-8."""
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), False


class _CsvFeed:
    """Hands the csv module one decoded physical line at a time and notes, per record, what it
    was made of: undecodable bytes, NUL bytes, and whether the input ended inside it."""

    def __init__(self, lines: Lines):
        self.lines = lines
        self.undecodable = False
        self.nul = False
        self.ended_inside = False

    def start_record(self) -> None:
        self.lines.start_record()
        self.undecodable = self.nul = self.ended_inside = False

    def __iter__(self) -> "_CsvFeed":
        return self

    def __next__(self) -> str:
        taken = self.lines.take()
        if taken is None:
            # the csv module asks for another line mid-record only inside a quoted field
            self.ended_inside = bool(self.lines.record)
            raise StopIteration
        data = taken[1]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("utf-8", errors="replace")
            self.undecodable = True
        if b"\x00" in data:
            self.nul = True
        return text


def csv_records(stream: Any, sep: str, digest: Any = None) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """(line, fields, problem) for every record of a CSV stream, the header included.

    Never raises on malformed content: an unterminated quote, a record over the size limit or
    a field the csv module rejects gives ``(line, leading_fields, reason)``, where
    ``leading_fields`` are the fields complete on the record's first line (so the error row
    can still carry the record's id), and reading goes on from the line after that record's
    first line, so later records are still read. ``digest`` (a hashlib object), when given,
    is fed each record's bytes as it is read (what ``--resume`` checks the input against)."""
    lines = Lines(stream)
    for item in _csv_records(lines, sep):
        if digest is not None:
            for _, data in lines.record:
                digest.update(data)
            if lines.partial is not None:
                digest.update(lines.partial[1])
        yield item


def _csv_records(lines: Lines, sep: str) -> Iterator[tuple[int, list[str] | None, str | None]]:
    feed = _CsvFeed(lines)
    # strict: a quote closed and followed by anything but a delimiter ("a"b) is an error, not
    # glued on; that is how a stray quote that swallowed later records is caught mid-file
    reader = csv.reader(feed, delimiter=sep, strict=True)
    while True:
        feed.start_record()
        try:
            fields = next(reader)
        except StopIteration:
            return
        except TooLong:
            start, leading = lines.start_line(), _leading_fields(lines, sep)
            try:
                whole = lines.skip_rest_of_record()
            except Unreadable as exc:
                raise InputError(f"the input cannot be read past line {lines.next_line} ({exc}); is it a complete, uncorrupted file?") from None
            if whole:
                yield start, leading, f"record longer than {MAX_RECORD_BYTES:,} bytes (a quoted field too long to be a description); reading goes on after it"
                continue
            lines.resynchronise()
            yield start, leading, f"record longer than {MAX_RECORD_BYTES:,} bytes (an unterminated quote, or a field too long to be a description); reading goes on at the next line"
            continue
        except csv.Error as exc:
            if feed.ended_inside:
                yield _unterminated(lines, sep)
                continue
            start, leading = lines.start_line(), _leading_fields(lines, sep)
            lines.resynchronise()
            reason = str(exc)
            if "new-line character" in reason:
                reason = "a bare carriage return (CR) inside an unquoted field"
            yield start, leading, f"malformed CSV row ({reason})"
            continue
        except Unreadable as exc:
            raise InputError(f"the input cannot be read past line {lines.next_line} ({exc}); is it a complete, uncorrupted file?") from None
        start = lines.start_line()
        if feed.ended_inside:
            yield _unterminated(lines, sep)
            continue
        if not fields:  # a blank line is not a record
            continue
        if feed.nul:
            yield start, fields, "binary data (NUL byte) in this record"
        elif feed.undecodable:
            yield start, fields, "undecodable bytes: this record is not valid UTF-8"
        else:
            yield start, fields, None


def _leading_fields(lines: "Lines", sep: str) -> list[str]:
    first = lines.record[0][1] if lines.record else lines.partial[1] if lines.partial else b""
    text, _ = decode_line(first[:65536])
    try:  # (a bare CR is what may have broken the record: read past it here)
        fields = next(csv.reader([text.rstrip("\r\n").replace("\r", " ")], delimiter=sep, strict=False), [])
    except csv.Error:
        return []
    return fields[:-1]  # the last one is the field the record broke in


def _unterminated(lines: Lines, sep: str) -> tuple[int, list[str], str]:
    start = lines.start_line()
    span = f"lines {start}-{lines.record[-1][0]}" if len(lines.record) > 1 else f"line {start}"
    leading = _leading_fields(lines, sep)
    lines.resynchronise()
    return start, leading, (f"unterminated quote: the quoted field opened on line {start} never closes (it swallowed {span}); "
                            "the lines after it are read again as records")


def delimiter_from_header(header: str) -> tuple[str, str]:
    """The delimiter the header line uses most (outside quotes), and how it was chosen."""
    counts = {d: 0 for d in DELIMITERS}
    quoted = False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))
    if not counts[best]:
        return ",", "the header line holds none of , TAB ; | so it is one column"
    seen = ", ".join(f"{counts[d]} {delimiter_name(d)}" for d in DELIMITERS if counts[d])
    return best, f"detected from the header line: {seen}"


def delimiter_name(delimiter: str) -> str:
    return "TAB" if delimiter == "\t" else repr(delimiter)

