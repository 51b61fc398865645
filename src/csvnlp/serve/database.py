"""A ``csvnlp tag`` output opened through DuckDB: filtered pages, grouped shares, amount sums,
one record, the uncertain-first review queue and a streamed download.

A Parquet output is queried where it lies (DuckDB reads only the columns and row groups a
query needs); a CSV or JSON Lines output is loaded once into an on-disk DuckDB database in a
temporary folder, so memory stays bounded by DuckDB's ``memory_limit`` whatever the size.
Request values only ever reach SQL as bound parameters; column names only from the file's
own column list.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Iterator

from csvnlp.errors import InputError
from csvnlp.levels import LEVEL_KEYS
from csvnlp.tables import OUTPUT_COLUMNS

PROBABILITY_COLUMNS = [f"p_{key}" for key in LEVEL_KEYS]
REQUIRED_COLUMNS = ["id", "status", "predicted", *PROBABILITY_COLUMNS]
ROW = "_row"  # the row's position in the file (0-based): how a page links to a record
MAX_GROUPS = 20
PREVIEW_CHARS = 160
STATUSES = ("ok", "uncertain", "unsupported_language", "error")


def search_words(query: str) -> list[str]:
    """The lower-cased words (or "quoted phrases") a search asks for; at most 10."""
    import shlex

    try:
        words = shlex.split(query)
    except ValueError:  # an unbalanced quote: take the words as they are
        words = query.replace('"', " ").split()
    return [w for w in words if w.strip()][:10]


def anywhere(text: str) -> str:
    """A RE2 pattern matching ``text`` literally, in any case, anywhere in a value."""
    import re

    return "(?i)" + re.escape(text)


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass
class Filters:
    """What the explore page filters on; every field is optional ("" = no filter)."""

    level: str = ""  # a level key, "any" (some level) or "none" (no level)
    status: str = ""
    programme: str = ""
    cluster: str = ""
    column: str = ""  # a kept column ...
    value: str = ""  # ... equal to this value
    q: str = ""  # words in the text columns

    def as_query(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


class Database:
    """One DuckDB database (in a temporary folder) holding every served table."""

    def __init__(self, memory_limit: str = "256MB", threads: int = 2):
        import duckdb

        self.folder = Path(tempfile.mkdtemp(prefix="csvnlp-serve-"))
        self.connection = duckdb.connect(
            str(self.folder / "tables.duckdb"),
            config={"memory_limit": memory_limit, "threads": threads, "temp_directory": str(self.folder / "spill")},
        )

    def cursor(self) -> Any:
        return self.connection.cursor()  # one per request: a DuckDB connection is not shared between threads

    def close(self) -> None:
        try:
            self.connection.close()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


class TaggedTable:
    def __init__(self, database: Database, path: Path, slug: str, text_columns: list[str] | None = None):
        self.database, self.path, self.slug = database, path, slug
        self.view = quoted(f"v_{slug}")
        self._open()
        cursor = database.cursor()
        self.columns = [row[0] for row in cursor.execute(f"DESCRIBE {self.view}").fetchall() if row[0] != ROW]
        missing = [c for c in REQUIRED_COLUMNS if c not in self.columns]
        if missing:
            raise InputError(f"--data {path}: not a `csvnlp tag` output (no column {', '.join(missing)}); tag it first with `csvnlp tag`")
        self.kept = [c for c in self.columns if c not in OUTPUT_COLUMNS]
        self.rows = int(cursor.execute(f"SELECT count(*) FROM {self.view}").fetchone()[0])
        self.text_columns = self._text_columns(text_columns or [])

    # ---------------------------------------------------------------- opening

    def _open(self) -> None:
        cursor = self.database.cursor()
        name = self.path.name.lower()
        source = sql_literal(str(self.path.resolve()))
        try:
            if name.endswith(".parquet"):
                relation = f"read_parquet({source}, file_row_number = true)"
                row = "file_row_number"
            else:
                table = quoted(f"t_{self.slug}")
                reader = (f"read_csv({source}, header = true, all_varchar = true, delim = ',', quote = '\"', escape = '\"')"
                          if ".csv" in name else f"read_json({source}, format = 'newline_delimited')")
                cursor.execute(f"CREATE TABLE {table} AS SELECT * FROM {reader}")
                relation, row = table, "rowid"
            names = [r[0] for r in cursor.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall() if r[0] != "file_row_number"]
            if ROW in names:
                raise InputError(f"--data {self.path}: has a column named {ROW!r}, which csvnlp serve uses for row positions")
            selected = [f"CAST({row} AS BIGINT) AS {ROW}"] + [
                (f"TRY_CAST({quoted(c)} AS DOUBLE) AS {quoted(c)}" if c in PROBABILITY_COLUMNS else f"CAST({quoted(c)} AS VARCHAR) AS {quoted(c)}")
                for c in names
            ]
            cursor.execute(f"CREATE VIEW {self.view} AS SELECT {', '.join(selected)} FROM {relation}")
        except InputError:
            raise
        except Exception as exc:  # duckdb's errors: a file that is not the table it claims to be
            raise InputError(f"--data {self.path}: cannot read it as a `csvnlp tag` output ({str(exc).splitlines()[0]})") from None

    def _text_columns(self, wanted: list[str]) -> list[str]:
        """The kept columns holding the text: the ones named, else the kept column with the
        longest values (a summary or objective is longer than a name or a code)."""
        unknown = [c for c in wanted if c not in self.kept]
        if unknown:
            raise InputError(f"--text-column {', '.join(unknown)}: not a kept column of {self.path}; it has: {', '.join(self.kept) or 'none'}")
        if wanted or not self.kept:
            return wanted
        lengths = ", ".join(f"avg(length({quoted(c)}))" for c in self.kept)
        averages = self.database.cursor().execute(f"SELECT {lengths} FROM (SELECT * FROM {self.view} LIMIT 2000)").fetchone()
        best = max(zip(averages, self.kept), key=lambda pair: pair[0] or 0)
        return [best[1]] if (best[0] or 0) >= 40 else []

    # ---------------------------------------------------------------- queries

    def where(self, filters: Filters) -> tuple[str, list[Any]]:
        clauses, params = [], []
        if filters.level in LEVEL_KEYS:
            clauses.append("contains(';' || coalesce(predicted, '') || ';', ?)")
            params.append(f";{filters.level};")
        elif filters.level == "any":
            clauses.append("coalesce(predicted, '') <> ''")
        elif filters.level == "none":
            clauses.append("coalesce(predicted, '') = ''")
        if filters.status:
            clauses.append("status = ?")
            params.append(filters.status)
        for column, wanted in (("programmes", filters.programme), ("clusters", filters.cluster)):
            if wanted and column in self.columns:
                clauses.append(f"regexp_matches(coalesce({column}, ''), ?)")
                params.append(anywhere(wanted))
        if filters.column in self.columns and filters.value:
            clauses.append(f"{quoted(filters.column)} = ?")
            params.append(filters.value)
        # full-text search without an index (DuckDB's fts extension would be a download): every
        # word must occur, in any order, in one of the text columns; "quoted words" stay together
        searched = self.text_columns or self.kept or ["id"]
        for word in search_words(filters.q):
            clauses.append("(" + " OR ".join(f"regexp_matches(coalesce({quoted(c)}, ''), ?)" for c in searched) + ")")
            params.extend([anywhere(word)] * len(searched))
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def count(self, filters: Filters) -> int:
        where, params = self.where(filters)
        return int(self.database.cursor().execute(f"SELECT count(*) FROM {self.view}{where}", params).fetchone()[0])

    def page(self, filters: Filters, offset: int, limit: int) -> list[dict[str, Any]]:
        where, params = self.where(filters)
        shown = [ROW, *(c for c in OUTPUT_COLUMNS if c in self.columns and c != "error"), *self.kept]
        select = ", ".join(f"left({quoted(c)}, {PREVIEW_CHARS})" if c in self.kept else quoted(c) for c in shown)
        cursor = self.database.cursor()
        rows = cursor.execute(f"SELECT {select} FROM {self.view}{where} ORDER BY {ROW} LIMIT ? OFFSET ?",
                              params + [limit, offset]).fetchall()
        return [dict(zip(shown, row)) for row in rows]

    def shares(self, filters: Filters, group: str | None) -> dict[str, Any]:
        """Per group (or for all filtered rows): rows, the share predicted with each level,
        the share uncertain; the MAX_GROUPS largest groups, how many groups there are, and how
        many rows match the filters (one scan for the chart and the count)."""
        where, params = self.where(filters)
        level_shares = ", ".join(
            f"avg(CASE WHEN contains(';' || coalesce(predicted, '') || ';', ';{key};') THEN 1.0 ELSE 0.0 END)" for key in LEVEL_KEYS
        )
        uncertain = "avg(CASE WHEN status = 'uncertain' THEN 1.0 ELSE 0.0 END)"
        cursor = self.database.cursor()
        if group in self.columns:
            key = f"coalesce(CAST({quoted(group)} AS VARCHAR), '')"
            sql = (f"SELECT {key} AS g, count(*) AS n, {level_shares}, {uncertain}, count(*) OVER () AS groups, "
                   f"sum(count(*)) OVER () AS matching "
                   f"FROM {self.view}{where} GROUP BY g ORDER BY n DESC, g LIMIT {MAX_GROUPS}")
        else:
            sql = f"SELECT 'all rows' AS g, count(*) AS n, {level_shares}, {uncertain}, 1 AS groups, count(*) AS matching FROM {self.view}{where}"
        rows = cursor.execute(sql, params).fetchall()
        out = []
        for row in rows:
            if row[1] == 0:
                continue
            out.append({"group": row[0], "rows": int(row[1]),
                        "shares": {**{k: float(v or 0) for k, v in zip(LEVEL_KEYS, row[2:5])}, "uncertain": float(row[5] or 0)}})
        return {"group": group if group in self.columns else None, "groups": out, "total_groups": int(rows[0][6]) if rows else 0,
                "matching": int(rows[0][7] or 0) if rows else 0}

    def amounts(self, filters: Filters, column: str) -> dict[str, Any] | None:
        """The sum of a numeric-looking column per level (a row with two levels counts in
        both), for uncertain rows and for all filtered rows; values that are not numbers are
        counted, not summed."""
        if column not in self.kept:
            return None
        where, params = self.where(filters)
        value = f"TRY_CAST(regexp_replace(trim(coalesce({quoted(column)}, '')), '[,£€$ ]', '', 'g') AS DOUBLE)"
        parts = [f"sum(CASE WHEN contains(';' || coalesce(predicted, '') || ';', ';{key};') THEN {value} END)" for key in LEVEL_KEYS]
        parts += [f"sum(CASE WHEN status = 'uncertain' THEN {value} END)", f"sum({value})",
                  f"count(*) FILTER (WHERE {value} IS NULL AND trim(coalesce({quoted(column)}, '')) <> '')"]
        row = self.database.cursor().execute(f"SELECT {', '.join(parts)} FROM {self.view}{where}", params).fetchone()
        sums = {key: float(v or 0) for key, v in zip([*LEVEL_KEYS, "uncertain", "all"], row[:5])}
        return {"column": column, "sums": sums, "not_numbers": int(row[5])}

    def record(self, row: int) -> dict[str, Any] | None:
        cursor = self.database.cursor()
        found = cursor.execute(f"SELECT * FROM {self.view} WHERE {ROW} = ?", [row]).fetchone()
        if found is None:
            return None
        names = [d[0] for d in cursor.description]
        return dict(zip(names, found))

    def text_of(self, record: dict[str, Any]) -> str | None:
        """The record's text as `csvnlp tag` read it (its text columns joined by newlines)."""
        parts = [record.get(c) for c in self.text_columns]
        parts = [p for p in parts if isinstance(p, str) and p.strip()]
        return "\n".join(parts) if parts else None

    def queue(self, thresholds: dict[str, float], decided: set[str], limit: int, offset: int = 0) -> list[dict[str, Any]]:
        """Records ordered as ``csvnlp suggest`` orders them: each row's margin is its smallest
        distance to a level's threshold; rows take turns by the level they are closest to
        (most uncertain first within a level), so the queue is spread over the three levels.
        The order is that of the whole table; rows already decided are then skipped, so the
        queue does not reshuffle as a reviewer works through it. Error rows and rows in an
        unsupported language are left out."""
        margins = [f"abs(p_{key} - {float(thresholds[key])!r})" for key in LEVEL_KEYS]
        closest = "CASE " + " ".join(
            f"WHEN {m} = least({', '.join(margins)}) THEN '{key}'" for key, m in zip(LEVEL_KEYS, margins)
        ) + " END"
        order = "CASE closest " + " ".join(f"WHEN '{key}' THEN {i}" for i, key in enumerate(LEVEL_KEYS)) + " END"
        cursor = self.database.cursor()
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS decided_ids (id VARCHAR)")
        cursor.execute("DELETE FROM decided_ids")
        if decided:
            cursor.executemany("INSERT INTO decided_ids VALUES (?)", [[i] for i in decided])
        sql = f"""
            WITH scored AS (
                SELECT {ROW}, id, status, predicted, {', '.join(PROBABILITY_COLUMNS)},
                       least({', '.join(margins)}) AS margin, {closest} AS closest
                FROM {self.view}
                WHERE status IN ('ok', 'uncertain') AND {' AND '.join(f'p_{k} IS NOT NULL' for k in LEVEL_KEYS)}
            ), ranked AS (
                SELECT *, row_number() OVER (PARTITION BY closest ORDER BY margin, {ROW}) AS turn FROM scored
            )
            SELECT {ROW}, id, status, predicted, {', '.join(PROBABILITY_COLUMNS)}, margin, closest
            FROM ranked WHERE id NOT IN (SELECT id FROM decided_ids) ORDER BY turn, {order} LIMIT ? OFFSET ?"""
        rows = cursor.execute(sql, [limit, offset]).fetchall()
        names = [d[0] for d in cursor.description]
        chosen = [dict(zip(names, r)) for r in rows]
        # the texts of the chosen rows only: ranking a million rows with their texts would
        # carry every text through the window (seconds and hundreds of MB)
        if chosen and self.text_columns:
            text = " || chr(10) || ".join(f"coalesce({quoted(c)}, '')" for c in self.text_columns)
            found = dict(cursor.execute(f"SELECT {ROW}, {text} FROM {self.view} WHERE {ROW} IN (SELECT unnest(?::BIGINT[]))",
                                        [[r[ROW] for r in chosen]]).fetchall())
            for row in chosen:
                row["text"] = found.get(row[ROW])
        return chosen

    def export(self, filters: Filters, batch_rows: int = 10_000) -> Iterator[bytes]:
        """The filtered rows as CSV (the file's own columns), streamed in batches."""
        import pyarrow.csv as pacsv

        where, params = self.where(filters)
        cursor = self.database.cursor()
        select = ", ".join(quoted(c) for c in self.columns)
        # no ORDER BY: DuckDB keeps the file's order (preserve_insertion_order), and a sort would
        # hold every matching row, texts included, in memory before the first byte goes out
        reader = cursor.sql(f"SELECT {select} FROM {self.view}{where}", params=params).to_arrow_reader(batch_rows)
        first = True
        for batch in reader:
            buffer = io.BytesIO()
            pacsv.write_csv(batch, buffer, write_options=pacsv.WriteOptions(include_header=first))
            first = False
            yield buffer.getvalue()
        if first:  # no row matched: still a header
            yield (",".join('"' + c.replace('"', '""') + '"' for c in self.columns) + "\n").encode("utf-8")
