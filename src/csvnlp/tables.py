"""Reading and writing tables: CSV/TSV, JSON Lines and Parquet, streamed in chunks.

What ``csvnlp tag`` (and ``suggest``) read, and how tagged rows are written back; the batch
tagging itself (workers, parts, resume) lives in ``tagging``.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from csvnlp.errors import InputError

MALFORMED = "\x00malformed-row:"  # marks a CSV row pandas could not split into the header's fields
FORMATS = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
# the output columns csvnlp writes itself (keep-columns may not clash with them)
from csvnlp.levels import LEVEL_KEYS  # noqa: E402

OUTPUT_COLUMNS = (
    ["id", "status", "predicted"] + [f"p_{key}" for key in LEVEL_KEYS] + ["clusters", "programmes", "error"]
)


def table_format(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    fmt = FORMATS.get(suffixes[-1] if suffixes else "")
    if fmt is None:
        raise InputError(f"{path}: unknown table format; use .csv, .tsv, .jsonl or .parquet (optionally .gz for csv/jsonl)")
    return fmt



# ============================================================================ readers


@dataclass
class Chunk:
    index: int
    first_row: int  # 1-based number of the chunk's first data row
    ids: list[str]
    texts: list[Any]  # str, or None for a missing cell
    problems: list[str | None]  # a reason when the reader already knows the row is bad
    kept: dict[str, list[Any]]
    position: int  # bytes (csv/jsonl) or rows (parquet) read so far, for progress


class TableReader:
    """Reads a CSV/TSV, JSONL or Parquet table in chunks of ``batch_size`` rows."""

    def __init__(self, path: Path, options: Any):  # TagOptions, or anything with its reading fields
        self.path = path
        self.options = options
        self.format = table_format(path)
        if not path.exists():
            raise InputError(f"no such input file: {path}")
        if path.is_dir():
            raise InputError(f"{path} is a directory; give a table file")
        self.size = path.stat().st_size if self.format != "parquet" else self._parquet_rows()
        self.columns = self._header()
        wanted = list(dict.fromkeys(options.text_columns + ([options.id_column] if options.id_column else []) + options.keep_columns))
        missing = [c for c in wanted if c not in self.columns]
        if missing:
            shown = ", ".join(self.columns[:30]) + (" ..." if len(self.columns) > 30 else "")
            raise InputError(f"{path}: no column(s) {', '.join(missing)}; the table has: {shown}")
        clash = [c for c in options.keep_columns if c in OUTPUT_COLUMNS]
        if clash:
            raise InputError(f"--keep-columns {', '.join(clash)} would overwrite csvnlp's own output column(s)")
        self.wanted = wanted

    # ---------------------------------------------------------------- header sniffing

    def _open_binary(self) -> Any:
        raw = self.path.open("rb")
        if self.path.suffix.lower() == ".gz":
            return raw, gzip.GzipFile(fileobj=raw)
        return raw, raw

    def _sample(self, size: int = 65536) -> str:
        raw, stream = self._open_binary()
        try:
            data = stream.read(size)
        except (OSError, EOFError) as exc:
            raise InputError(f"{self.path}: cannot read it ({exc}); is it a complete, uncorrupted file?") from None
        finally:
            raw.close()
        first_line = data.split(b"\n", 1)[0]
        if b"\x00" in first_line or data.count(b"\x00") > len(data) // 100:
            raise InputError(f"{self.path} looks binary (NUL bytes), not a {self.format.upper()} text file")
        return data.decode("utf-8-sig", errors="replace")

    def _header(self) -> list[str]:
        if self.format == "parquet":
            import pyarrow.parquet as pq

            try:
                return list(pq.ParquetFile(self.path).schema_arrow.names)
            except Exception as exc:
                raise InputError(f"{self.path} is not a readable Parquet file ({exc})") from None
        sample = self._sample()
        if not sample.strip():
            raise InputError(f"{self.path} is empty")
        if self.format == "jsonl":
            for line in sample.splitlines():
                if line.strip():
                    try:
                        first = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    if isinstance(first, dict):
                        return list(first)
            raise InputError(f"{self.path}: no JSON object found in its first lines; is it JSON Lines?")
        if self.options.sep is None:
            self.options.sep = self._sniff(sample)
        first_record = next(csv.reader(io.StringIO(sample, newline=""), delimiter=self.options.sep))
        return [name.strip() for name in first_record]

    def _sniff(self, sample: str) -> str:
        if self.path.name.lower().endswith((".tsv", ".tsv.gz")):
            return "\t"
        header = sample.splitlines()[0] if sample else ""
        try:
            return csv.Sniffer().sniff(sample[: 1 << 14], delimiters=",;\t|").delimiter
        except csv.Error:
            counts = {d: header.count(d) for d in ",;\t|"}
            return max(counts, key=counts.get) if max(counts.values()) else ","

    def _parquet_rows(self) -> int:
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(self.path).metadata.num_rows
        except Exception as exc:
            raise InputError(f"{self.path} is not a readable Parquet file ({exc})") from None

    # ---------------------------------------------------------------- chunks

    def chunks(self) -> Iterator[Chunk]:
        reader = {"csv": self._csv_frames, "jsonl": self._jsonl_frames, "parquet": self._parquet_frames}[self.format]
        first_row = 1
        for index, (frame, problems, position) in enumerate(reader()):
            yield self._chunk(index, first_row, frame, problems, position)
            first_row += len(frame)

    def _chunk(self, index: int, first_row: int, frame: Any, problems: list[str | None], position: int) -> Chunk:
        n = len(frame)
        columns = self.options.text_columns
        texts: list[Any] = []
        values = [frame[c].tolist() for c in columns]
        for i in range(n):
            parts = [v[i] for v in values]
            if any(isinstance(p, str) and p.startswith(MALFORMED) for p in parts):
                problems[i] = problems[i] or next(p for p in parts if isinstance(p, str) and p.startswith(MALFORMED))[len(MALFORMED):]
                texts.append(None)
                continue
            present = [_cell(p) for p in parts]
            texts.append("\n".join(p for p in present if p and p.strip()) or "")
        if self.options.id_column:
            ids = [_cell(v) for v in frame[self.options.id_column].tolist()]
        else:
            ids = [str(first_row + i) for i in range(n)]
        # carried columns become text, so every chunk (and every format) has one schema
        kept = {c: [_cell(v) for v in frame[c].tolist()] for c in self.options.keep_columns}
        return Chunk(index, first_row, ids, texts, problems, kept, position)

    def _csv_frames(self) -> Iterator[tuple[Any, list[str | None], int]]:
        """pandas' C parser while the file is clean; at the first malformed row, start again
        with the Python parser (which can report bad rows in place) and skip what was read.
        Chunk boundaries stay every ``batch_size`` rows either way, so --resume lines up."""
        import pandas as pd

        yielded_chunks = 0
        try:
            for item in self._csv_frames_with("c"):
                yield item
                yielded_chunks += 1
            return
        except pd.errors.ParserError:
            pass
        for index, item in enumerate(self._csv_frames_with("python")):
            if index >= yielded_chunks:
                yield item

    def _csv_frames_with(self, parser: str) -> Iterator[tuple[Any, list[str | None], int]]:
        import pandas as pd

        expected = len(self.columns)

        def malformed(fields: list[str]) -> list[str]:
            # Keep the row's place: pad/trim it to the header and mark the text columns.
            row = (fields + [""] * expected)[:expected]
            for name in self.options.text_columns:
                row[self.columns.index(name)] = f"{MALFORMED}malformed CSV row: {len(fields)} fields, the header has {expected}"
            return row

        raw, stream = self._open_binary()
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
        try:
            frames = pd.read_csv(
                text, sep=self.options.sep, dtype=str, keep_default_na=False, na_filter=False,
                engine=parser, on_bad_lines=malformed if parser == "python" else "error",
                chunksize=self.options.batch_size,
                # no usecols: with it, pandas drops a row's extra fields silently
            )
            for frame in frames:
                frame.columns = [c.strip() for c in frame.columns]
                frame = frame[self.wanted]
                yield frame, _undecodable_rows(frame, self.options.text_columns), raw.tell()
        except pd.errors.ParserError as exc:
            if parser == "c":
                raise
            raise InputError(f"{self.path}: the CSV cannot be parsed past this point ({exc}); check its quoting or pass --sep") from None
        finally:
            raw.close()

    def _jsonl_frames(self) -> Iterator[tuple[Any, list[str | None], int]]:
        import pandas as pd

        raw, stream = self._open_binary()
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
        rows: list[dict[str, Any]] = []
        problems: list[str | None] = []
        try:
            for line in text:
                if not line.strip():
                    continue
                problem = None
                try:
                    record = json.loads(line)
                    if not isinstance(record, dict):
                        record, problem = {}, "the JSON line is not an object"
                except json.JSONDecodeError as exc:
                    record, problem = {}, f"invalid JSON ({exc.msg} at column {exc.colno})"
                if problem is None and "\ufffd" in line:
                    problem = "undecodable bytes: this line is not valid UTF-8"
                if problem is None and not any(c in record for c in self.options.text_columns):
                    problem = f"no field {' or '.join(self.options.text_columns)} in this record"
                rows.append({c: record.get(c) for c in self.wanted})
                problems.append(problem)
                if len(rows) == self.options.batch_size:
                    yield pd.DataFrame(rows, columns=self.wanted), problems, raw.tell()
                    rows, problems = [], []
            if rows:
                yield pd.DataFrame(rows, columns=self.wanted), problems, raw.tell()
        finally:
            raw.close()

    def _parquet_frames(self) -> Iterator[tuple[Any, list[str | None], int]]:
        import pyarrow.parquet as pq

        done = 0
        for batch in pq.ParquetFile(self.path).iter_batches(batch_size=self.options.batch_size, columns=self.wanted):
            frame = batch.to_pandas()
            done += len(frame)
            yield frame, [None] * len(frame), done


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):  # None or NaN
        return ""
    return value if isinstance(value, str) else str(value)


def _undecodable_rows(frame: Any, columns: Sequence[str]) -> list[str | None]:
    """A reason for each row whose text holds U+FFFD, the mark of bytes that were not UTF-8."""
    flagged = None
    for column in columns:
        hit = frame[column].str.contains("\ufffd", regex=False).to_numpy(dtype=bool)
        flagged = hit if flagged is None else flagged | hit
    reason = "undecodable bytes: this row is not valid UTF-8"
    return [reason if bad else None for bad in flagged] if flagged is not None else [None] * len(frame)



# ============================================================================ writing


class _TableWriter:
    """Appends Arrow tables to one CSV, JSONL or Parquet file (gzip for .gz names)."""

    def __init__(self, path: Path, fmt: str, gz: bool):
        self.path, self.fmt, self.gz = path, fmt, gz
        self._writer: Any = None
        self._handle: Any = None

    def _stream(self) -> Any:
        handle = self.path.open("wb")
        self._handle = handle
        return gzip.GzipFile(fileobj=handle, mode="wb", mtime=0) if self.gz else handle

    def write(self, table: Any) -> None:
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        if self.fmt == "parquet":
            if self._writer is None:
                self._writer = pq.ParquetWriter(self.path, table.schema)
            self._writer.write_table(table)
        elif self.fmt == "csv":
            if self._writer is None:
                self._stream_obj = self._stream()
                self._writer = pacsv.CSVWriter(self._stream_obj, table.schema)
            self._writer.write_table(table)
        else:
            if self._writer is None:
                self._writer = self._stream()
            lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in table.to_pylist())
            self._writer.write(lines.encode("utf-8"))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self.fmt == "csv" and getattr(self, "_stream_obj", None) is not None and self._stream_obj is not self._handle:
            self._stream_obj.close()
        if self._handle is not None and not self._handle.closed:
            self._handle.close()
