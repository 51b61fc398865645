"""Reading and writing tables: CSV/TSV, JSON Lines and Parquet, streamed in chunks.

What ``csvnlp tag`` (and ``suggest``) read, and how tagged rows are written back; the batch
tagging itself (workers, parts, resume) lives in ``tagging``.

Every record of the input comes out of a reader exactly once, as a row of a chunk: either
with its text, or with a ``problem`` saying why it cannot be tagged (a malformed CSV record,
an unterminated quote, a bad JSON line, a NUL byte, bytes that are not UTF-8, a record longer
than ``MAX_RECORD_BYTES``). A bad record never ends the file: the reader resynchronises on the
next line and carries on. Lines are read in bounded pieces, so memory stays flat whatever the
input holds (a 1 GB line costs at most ``MAX_RECORD_BYTES``). The line reading and CSV record
parsing live in ``csvlines``, the writing in ``table_output``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from csvnlp.csvlines import (MAX_RECORD_BYTES, Lines, TooLong, Unreadable, csv_records, decode_line, delimiter_from_header,
                             delimiter_name)
from csvnlp.errors import InputError
from csvnlp.inputs import ICONV_NAMES, guess_encoding, json_value_problem, non_regular_file, without_surrogates
from csvnlp.levels import LEVEL_KEYS
from csvnlp.table_output import TableWriter

__all__ = ["FORMATS", "OUTPUT_COLUMNS", "MAX_RECORD_BYTES", "Record", "Chunk", "TableReader", "TableWriter", "csv_records",
           "delimiter_from_header", "table_format"]

FORMATS = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
# the output columns csvnlp writes itself (keep-columns may not clash with them)
OUTPUT_COLUMNS = (
    ["id", "status", "predicted"] + [f"p_{key}" for key in LEVEL_KEYS] + ["clusters", "programmes", "programme_ids", "language", "error"]
)

def table_format(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    fmt = FORMATS.get(suffixes[-1] if suffixes else "")
    if fmt is None:
        raise InputError(f"{path}: unknown table format; use .csv, .tsv, .jsonl or .parquet (optionally .gz for csv/jsonl)")
    return fmt


# ============================================================================ records and chunks


@dataclass
class Record:
    """One input record: its physical line (1-based; Parquet: the row), cells or a problem."""

    line: int
    cells: dict[str, Any]
    problem: str | None = None


@dataclass
class Chunk:
    index: int
    first_row: int  # 1-based number of the chunk's first record
    ids: list[str]
    texts: list[Any]  # str, or None when the record has a problem
    problems: list[str | None]  # a reason when the reader already knows the row is bad
    kept: dict[str, list[Any]]
    position: int  # bytes (csv/jsonl) or rows (parquet) read so far, for progress
    lines: list[int] = field(default_factory=list)  # physical line of each record
    # sha256 of the input read up to the end of this chunk, for --resume ("" for a folder)
    input_sha256: str = ""



# ============================================================================ the reader


class TableReader:
    """Reads a CSV/TSV, JSONL or Parquet table in chunks of ``batch_size`` records."""

    def __init__(self, path: Path, options: Any):  # TagOptions, or anything with its reading fields
        self.path = path
        self.options = options
        self.format = table_format(path)
        if not path.exists():
            raise InputError(f"no such input file: {path}")
        if path.is_dir():
            raise InputError(f"{path} is a directory; give a table file")
        kind = non_regular_file(path)
        if kind:  # a pipe would be read twice (header, then rows) and could never be resumed
            raise InputError(f"{path} is {kind}, not a file; csvnlp reads a table twice and resumes from it, so save it to a file first")
        self.digest = hashlib.sha256()  # of every record's bytes as they are read (issue 19: resume checks it)
        self.sep: str | None = options.sep
        self.sep_reason = "given with --sep"
        self.empty = False
        self.size = path.stat().st_size if self.format != "parquet" else self._parquet_rows()
        self.columns = self._header()
        wanted = list(dict.fromkeys(options.text_columns + ([options.id_column] if options.id_column else []) + list(options.keep_columns)))
        clash = [c for c in options.keep_columns if c in OUTPUT_COLUMNS]
        if clash:
            raise InputError(f"--keep-columns {', '.join(clash)} would overwrite csvnlp's own output column(s)")
        self.wanted = wanted
        if self.columns is not None and not self.empty:
            missing = [c for c in wanted if c not in self.columns]
            if missing:
                raise InputError(self._missing_message(missing))

    def _missing_message(self, missing: list[str]) -> str:
        shown = ", ".join(self.columns[:30]) + (" ..." if len(self.columns) > 30 else "")
        message = f"{self.path}: no column(s) {', '.join(missing)}; the table has: {shown}"
        if self.format == "csv":
            message += (f" (split on {delimiter_name(self.sep)}, {self.sep_reason}); if that is the wrong delimiter, "
                        f"pass --sep (e.g. --sep ';' or --sep $'\\t')")
        return message

    # ---------------------------------------------------------------- opening and the header

    def _open_binary(self) -> tuple[Any, Any]:
        try:
            raw = self.path.open("rb")
        except OSError as exc:
            raise InputError(f"cannot read {self.path}: {exc.strerror}") from None
        if self.path.suffix.lower() == ".gz":
            return raw, gzip.GzipFile(fileobj=raw)
        return raw, raw

    def _header(self) -> list[str] | None:
        if self.format == "parquet":
            import pyarrow.parquet as pq

            try:
                names = list(pq.ParquetFile(self.path).schema_arrow.names)
            except Exception as exc:
                raise InputError(f"{self.path} is not a readable Parquet file ({exc})") from None
            self.empty = self.size == 0
            return names
        if self.format == "jsonl":
            return self._check_jsonl_sample()
        return self._csv_header()

    def _csv_header(self) -> list[str] | None:
        raw, stream = self._open_binary()
        try:
            lines = Lines(stream)
            first = None
            while first is None:
                lines.start_record()
                try:
                    taken = lines.take()
                except TooLong:
                    raise InputError(f"{self.path}: the header line is longer than {MAX_RECORD_BYTES:,} bytes; is it a CSV file?") from None
                except Unreadable as exc:
                    raise InputError(f"{self.path}: cannot read it ({exc}); is it a complete, uncorrupted file?") from None
                if taken is None:
                    self.empty = True  # nothing but blank lines: an empty table
                    return None
                if taken[1].strip():
                    first = taken[1]
        finally:
            raw.close()
        header_line, valid = decode_line(first)
        if "\x00" in header_line or not valid:
            encoding = guess_encoding(first)
            if encoding:
                raise InputError(f"{self.path} is encoded in {encoding}, not UTF-8; convert it first, e.g. "
                                 f"`iconv -f {ICONV_NAMES[encoding]} -t UTF-8 IN > OUT.csv`")
            raise InputError(f"{self.path}: the header line is not UTF-8 text (binary data?); give a CSV file with a header line")
        if self.sep is None:
            if self.path.name.lower().endswith((".tsv", ".tsv.gz")):
                self.sep, self.sep_reason = "\t", "from the .tsv name"
            else:
                self.sep, self.sep_reason = delimiter_from_header(header_line)
        elif len(self.sep) != 1:
            raise InputError(f"--sep must be one character, not {self.sep!r}")
        raw, stream = self._open_binary()
        try:
            for line, fields, problem in csv_records(stream, self.sep):
                if problem:
                    raise InputError(f"{self.path}: the header (line {line}) cannot be read: {problem}")
                return [name.strip() for name in fields]
        finally:
            raw.close()
        self.empty = True
        return None

    def _check_jsonl_sample(self) -> None:
        """JSON Lines has no header: a record lacking a column is an error row, like any other.
        Only when no record in the first lines has any text column is it refused up front
        (a wrong --text-column would otherwise make every row an error)."""
        raw, stream = self._open_binary()
        seen: dict[str, None] = {}
        parsed = records = 0
        try:
            lines = Lines(stream)
            while records < 200:
                lines.start_record()
                try:
                    taken = lines.take()
                except TooLong:
                    lines.resynchronise()
                    records += 1
                    continue
                except Unreadable as exc:
                    raise InputError(f"{self.path}: cannot read it ({exc}); is it a complete, uncorrupted file?") from None
                if taken is None:
                    break
                if not taken[1].strip():
                    continue
                records += 1
                try:
                    record = json.loads(taken[1])
                except (ValueError, RecursionError):
                    continue
                if isinstance(record, dict):
                    parsed += 1
                    if any(c in record for c in self.options.text_columns):
                        return None
                    seen.update(dict.fromkeys(list(record)[:30]))
        finally:
            raw.close()
        if records == 0:
            self.empty = True
            return None
        if parsed == 0:
            raise InputError(f"{self.path}: none of its first {records} line(s) is a JSON object; is it JSON Lines (one object a line)?")
        raise InputError(
            f"{self.path}: no record in its first {records} line(s) has the field(s) {', '.join(self.options.text_columns)}; "
            f"fields seen: {', '.join(seen) or 'none'}"
        )

    def _parquet_rows(self) -> int:
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(self.path).metadata.num_rows
        except Exception as exc:
            raise InputError(f"{self.path} is not a readable Parquet file ({exc})") from None

    # ---------------------------------------------------------------- chunks

    def records(self) -> Iterator[tuple[Record, int]]:
        """Every data record, with the input position after it (for progress)."""
        if self.empty:
            return iter(())
        return {"csv": self._csv_records, "jsonl": self._jsonl_records, "parquet": self._parquet_records}[self.format]()

    def chunks(self) -> Iterator[Chunk]:
        batch: list[Record] = []
        index, first_row, position = 0, 1, 0
        for record, position in self.records():
            batch.append(record)
            if len(batch) == self.options.batch_size:
                yield self._chunk(index, first_row, batch, position)
                index, first_row, batch = index + 1, first_row + len(batch), []
        if batch:
            yield self._chunk(index, first_row, batch, position)

    def _chunk(self, index: int, first_row: int, batch: list[Record], position: int) -> Chunk:
        chunk = self._chunk_of(index, first_row, batch, position)
        chunk.input_sha256 = self.digest.hexdigest()
        return chunk

    def _chunk_of(self, index: int, first_row: int, batch: list[Record], position: int) -> Chunk:
        texts: list[Any] = []
        problems: list[str | None] = []
        for record in batch:
            problem = record.problem
            text = None
            if problem is None:
                text, problem = self._text(record.cells)
            texts.append(text if problem is None else None)
            problems.append(problem)
        if self.options.id_column:
            ids = [_cell(r.cells.get(self.options.id_column)) for r in batch]
        else:
            ids = [str(first_row + i) for i in range(len(batch))]
        # carried columns become text, so every chunk (and every format) has one schema
        kept = {c: [_cell(r.cells.get(c)) for r in batch] for c in self.options.keep_columns}
        return Chunk(index, first_row, ids, texts, problems, kept, position, [r.line for r in batch])

    def _text(self, cells: dict[str, Any]) -> tuple[str | None, str | None]:
        parts = []
        for column in self.options.text_columns:
            value = cells.get(column)
            if value is None:
                continue
            if isinstance(value, bytes):
                try:
                    value = value.decode("utf-8")
                except UnicodeDecodeError:
                    return None, f"undecodable bytes in {column}: not valid UTF-8"
            if isinstance(value, (dict, list)):
                return None, f"{column} holds a JSON {'object' if isinstance(value, dict) else 'array'}, not text"
            value = value if isinstance(value, str) else str(value)
            if value.strip():
                parts.append(value)
        return "\n".join(parts), None

    def _csv_records(self) -> Iterator[tuple[Record, int]]:
        raw, stream = self._open_binary()
        expected = len(self.columns)
        positions = {name: self.columns.index(name) for name in self.wanted}
        try:
            records = csv_records(stream, self.sep, self.digest)
            next(records)  # the header, checked in __init__
            for line, fields, problem in records:
                if problem is None and len(fields) != expected:
                    problem = f"malformed CSV row: {len(fields)} field(s), the header has {expected}"
                elif problem is None and fields[0].strip() == self.columns[0] and [f.strip() for f in fields] == self.columns:
                    # (the first field first: a data row almost never repeats the header's first name,
                    # and a wide export would otherwise strip every field of every row)
                    problem = "the header line again (several exports joined into one file?): not a record"
                if problem is None:
                    cells = {name: fields[i] for name, i in positions.items()}
                else:  # an error row still carries what could be read (its id, above all)
                    cells = {name: fields[i] for name, i in positions.items() if fields and i < len(fields)}
                yield Record(line, cells, problem), raw.tell()
        except InputError as exc:
            raise InputError(f"{self.path}: {exc}") from None
        finally:
            raw.close()

    def _jsonl_records(self) -> Iterator[tuple[Record, int]]:
        raw, stream = self._open_binary()
        lines = Lines(stream)
        try:
            while True:
                lines.start_record()
                try:
                    taken = lines.take()
                except TooLong:
                    start = lines.start_line()
                    self.digest.update(lines.partial[1] if lines.partial else b"")
                    lines.resynchronise()
                    yield Record(start, {}, f"line longer than {MAX_RECORD_BYTES:,} bytes"), raw.tell()
                    continue
                except Unreadable as exc:
                    raise InputError(f"{self.path}: cannot be read past line {lines.next_line} ({exc}); is it a complete, uncorrupted file?") from None
                if taken is None:
                    return
                number, data = taken
                self.digest.update(data)
                if not data.strip():
                    continue
                yield Record(number, *_json_record(data, self.wanted, self.options.text_columns)), raw.tell()
        finally:
            raw.close()

    def _parquet_records(self) -> Iterator[tuple[Record, int]]:
        import pyarrow.parquet as pq

        done = 0
        try:
            batches = pq.ParquetFile(self.path).iter_batches(batch_size=self.options.batch_size, columns=self.wanted)
            for batch in batches:
                columns = {name: batch.column(name).to_pylist() for name in self.wanted}
                for i in range(batch.num_rows):
                    done += 1
                    cells = {name: values[i] for name, values in columns.items()}
                    self.digest.update(repr(cells).encode("utf-8", errors="surrogatepass"))
                    yield Record(done, cells), done
        except InputError:
            raise
        except Exception as exc:
            raise InputError(f"{self.path}: the Parquet file cannot be read past row {done} ({exc}); is it complete?") from None


def _json_record(data: bytes, wanted: list[str], text_columns: list[str]) -> tuple[dict[str, Any], str | None]:
    line, valid = decode_line(data)
    if not valid:
        return {}, "undecodable bytes: this line is not valid UTF-8"
    if "\x00" in line:
        return {}, "binary data (NUL byte) in this line"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return {}, f"invalid JSON ({exc.msg} at column {exc.colno})"
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits (Python's int limit)
        return {}, f"invalid JSON ({json_value_problem(exc)})"
    except RecursionError:
        return {}, "invalid JSON: nested too deeply"
    if not isinstance(record, dict):
        return {}, "the JSON line is not an object"
    if not any(c in record for c in text_columns):
        return {}, f"no field {' or '.join(text_columns)} in this record"
    return {c: record.get(c) for c in wanted}, None


def _cell(value: Any) -> str:
    """A carried value (id or kept column) as text that any output format can hold: a lone
    surrogate (an emoji cut in half by an exporter) becomes U+FFFD, a Parquet struct or list
    holding timestamps or bytes becomes JSON with those as text."""
    if value is None or (isinstance(value, float) and value != value):  # None or NaN
        return ""
    if isinstance(value, (dict, list, tuple)):
        text = json.dumps(value, ensure_ascii=False, default=_json_default)
    elif isinstance(value, bytes):
        text = value.decode("utf-8", errors="replace")
    else:
        text = value if isinstance(value, str) else str(value)
    return without_surrogates(text)


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


