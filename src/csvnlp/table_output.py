"""Writing tagged rows: CSV, JSON Lines or Parquet (gzip for .gz names)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any


class TableWriter:
    """Appends Arrow tables to one CSV, JSONL or Parquet file (gzip for .gz names).

    ``schema`` is written even when no table is: an empty input gives an empty output that
    still has its header (CSV) or schema (Parquet)."""

    def __init__(self, path: Path, fmt: str, gz: bool, schema: Any):
        self.path, self.fmt, self.gz, self.schema = path, fmt, gz, schema
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
        if self._writer is None and self.schema is not None:
            self.write(self.schema.empty_table())
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self.fmt == "csv" and getattr(self, "_stream_obj", None) is not None and self._stream_obj is not self._handle:
            self._stream_obj.close()
        if self._handle is not None and not self._handle.closed:
            self._handle.close()
