"""Writing tagged rows: CSV, JSON Lines or Parquet (gzip for .gz names).

In CSV output a cell that a spreadsheet would run as a formula (it starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return, and is not a number) gets a leading ``'``, as OWASP
advises against CSV injection: an id or a carried column from a hostile export cannot become
``=HYPERLINK(...)`` in an officer's spreadsheet. JSON Lines and Parquet keep the values as
they are (their readers do not evaluate them).
"""

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
            table = defuse_formulas(table)
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


FORMULA_START = r"^[=+\-@\t\r]"
NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def defuse_formulas(table: Any) -> Any:
    """``table`` with a ``'`` before every string cell a spreadsheet would read as a formula."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            risky = pc.and_(pc.match_substring_regex(column, FORMULA_START), pc.invert(pc.match_substring_regex(column, NUMBER)))
            if pc.any(risky).as_py():
                column = pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=table.schema)
