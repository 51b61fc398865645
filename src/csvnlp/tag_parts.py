"""``OUTPUT.parts/``: where a tagging run keeps its finished chunks, and how OUTPUT is made.

A part appears only when complete (written beside, then renamed), and is then entered in the
parts ledger (``parts.jsonl``: its row range, sha256, and the sha256 of the input bytes it was
made from). After a kill, ``--resume`` skips every chunk whose part is present *and* matches
its ledger entry, and redoes the rest. OUTPUT is assembled only when every chunk has a
verified part, in input order, into a temporary file renamed into place at the very end.
``OutputLock`` keeps a second run from writing the same OUTPUT at the same time.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from csvnlp.errors import IncompleteRunError, InputError
from csvnlp.journal import Journal, read_entries
from csvnlp.persistence import sha256_of
from csvnlp.tables import OUTPUT_COLUMNS, Chunk, TableWriter, table_format


# Each part's record numbers and input lines travel in columns no input column can be named
# (a NUL cannot be in a CSV header, a command-line argument or a --keep-columns value), so a
# table's own "_row" or "_line" column is carried like any other (issue 19, item 13).
ROW_COLUMN, LINE_COLUMN = "\x00row", "\x00line"


@dataclass(frozen=True)
class ChunkSpan:
    """What the client remembers of a chunk once its rows are handed to a worker."""

    index: int
    first_row: int
    rows: int
    input_sha256: str = ""  # of the input bytes the chunk was read from ("" when not known)


def span_of(chunk: Chunk) -> ChunkSpan:
    return ChunkSpan(chunk.index, chunk.first_row, len(chunk.texts), chunk.input_sha256)



class PartStore:
    """``OUTPUT.parts/``: one Parquet file per finished chunk, the run's manifest (what input,
    model and options the parts were made from) and the ledger of verified parts."""

    def __init__(self, output: Path, manifest: dict[str, Any], resume: bool):
        self.directory = output.with_name(output.name + ".parts")
        self.manifest_path = self.directory / "manifest.json"
        self.ledger_path = self.directory / "parts.jsonl"
        if resume and self.directory.exists():
            try:
                previous = json.loads(self.manifest_path.read_text())
            except (OSError, ValueError):
                previous = None
            if previous != manifest:
                raise InputError(
                    f"cannot resume: {self.directory} was made from another input, model, csvnlp version or options; "
                    "rerun without --resume to start over"
                )
        else:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory.mkdir(parents=True)  # an OSError here is the output's: see output_problem
            tmp = self.manifest_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(manifest, indent=1))
            os.replace(tmp, self.manifest_path)
        # the last entry for a chunk wins (a redone chunk is entered again)
        self.ledger = {entry["index"]: entry for entry in read_entries(self.ledger_path) if isinstance(entry.get("index"), int)}
        self._journal = Journal(self.ledger_path)

    def path(self, index: int) -> Path:
        return self.directory / f"part-{index:07d}.parquet"

    def problem(self, span: ChunkSpan) -> str | None:
        """Why chunk ``span`` has no usable part (None when its part is present and verified)."""
        entry = self.ledger.get(span.index)
        path = self.path(span.index)
        if entry is None:
            return "missing" if not path.exists() else "not in the ledger (killed while writing)"
        if not path.exists():
            return "missing (deleted?)"
        if (entry.get("first_row"), entry.get("rows")) != (span.first_row, span.rows):
            return f"rows {entry.get('first_row')}+{entry.get('rows')} where the input gives {span.first_row}+{span.rows}"
        if entry.get("input_sha256", "") != span.input_sha256:
            return "made from other input bytes (the input changed since the interrupted run)"
        if sha256_of(path) != entry.get("sha256"):
            return "corrupt (its sha256 differs from the ledger)"
        return None

    def done(self, span: ChunkSpan) -> bool:
        return self.problem(span) is None

    def write(self, span: ChunkSpan, columns: dict[str, list[Any]]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = columns[ROW_COLUMN]
        if len(rows) != span.rows or (rows and (rows[0], rows[-1]) != (span.first_row, span.first_row + span.rows - 1)):
            # a worker answered for other rows than the chunk's: never write it under this name
            raise RuntimeError(f"chunk {span.index}: the result holds rows {rows[:1]}..{rows[-1:]}, expected {span.first_row}+{span.rows}")
        table = pa.table({name: pa.array(values, type=_arrow_type(name, values)) for name, values in columns.items()})
        path = self.path(span.index)
        tmp = path.with_suffix(".tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, path)  # the part exists only once complete
        entry = {"index": span.index, "first_row": span.first_row, "rows": span.rows, "sha256": sha256_of(path),
                 "input_sha256": span.input_sha256}
        self._journal.append(entry)
        self.ledger[span.index] = entry

    def close(self) -> None:
        self._journal.close()

    def remove(self) -> None:
        self.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def _arrow_type(name: str, values: list[Any]) -> Any:
    import pyarrow as pa

    if name.startswith("p_"):
        return pa.float64()
    if name in (ROW_COLUMN, LINE_COLUMN):
        return pa.int64()
    return pa.string()


def output_schema(keep_columns: Sequence[str]) -> Any:
    """The schema of OUTPUT (what an empty input still gets, header included)."""
    import pyarrow as pa

    names = OUTPUT_COLUMNS + [c for c in keep_columns if c not in OUTPUT_COLUMNS]
    return pa.schema([(name, _arrow_type(name, [])) for name in names])


def model_fingerprint(model_dir: Path) -> dict[str, str]:
    """sha256 of every file in the model directory, whatever the model's layout: any change
    to the classifier, the entity patterns, the thresholds in its metadata or a file added
    means parts made before cannot be mixed with parts made after."""
    return {
        path.relative_to(model_dir).as_posix(): sha256_of(path)
        for path in sorted(model_dir.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def _manifest(input_path: Path, options: Any, model_dir: Path, sep: str | None) -> dict[str, Any]:
    from csvnlp import __version__

    stat = input_path.stat()
    return {
        "csvnlp": __version__,
        "input": str(input_path.resolve()),
        "input_size": stat.st_size,
        "input_mtime_ns": stat.st_mtime_ns,
        "batch_size": options.batch_size,
        "text_columns": options.text_columns,
        "id_column": options.id_column,
        "keep_columns": options.keep_columns,
        "sep": sep,
        "entities": options.entities,
        "model": model_fingerprint(model_dir),
    }


def write_output(store: PartStore, spans: Sequence[ChunkSpan], output: Path, errors_file: Path,
                 summary: Any, keep_columns: Sequence[str]) -> None:
    """Check that every chunk has a verified part, then join the parts, in order, into OUTPUT
    and OUTPUT.errors.jsonl (each via a temporary file; OUTPUT is renamed last)."""
    import pyarrow.parquet as pq

    for expected, span in enumerate(spans):
        if span.index != expected:
            raise IncompleteRunError(f"internal: chunk {expected} was never read; rerun with --resume")
        problem = store.problem(span)
        if problem is not None:
            raise IncompleteRunError(
                f"cannot assemble {output}: the part for chunk {span.index} (rows {span.first_row}-{span.first_row + span.rows - 1}) "
                f"is {problem}; rerun with --resume to redo it"
            )
    fmt = table_format(output)
    tmp_out = output.with_name(f".{output.name}.tmp")
    tmp_err = errors_file.with_name(f".{errors_file.name}.tmp")
    writer = TableWriter(tmp_out, fmt, gz=output.name.lower().endswith(".gz"), schema=output_schema(keep_columns))
    try:
        with tmp_err.open("w", encoding="utf-8") as errors:
            for span in spans:
                table = pq.read_table(store.path(span.index))
                rows = table.column(ROW_COLUMN).to_pylist()
                lines = table.column(LINE_COLUMN).to_pylist()
                if rows != list(range(span.first_row, span.first_row + span.rows)):
                    raise IncompleteRunError(f"cannot assemble {output}: the part for chunk {span.index} holds other rows; rerun with --resume")
                table = table.drop([ROW_COLUMN, LINE_COLUMN])
                columns = table.to_pydict()
                for i, status in enumerate(columns["status"]):
                    summary.rows += 1
                    if columns["language"][i]:  # issue 13
                        summary.languages[columns["language"][i]] = summary.languages.get(columns["language"][i], 0) + 1
                    if status == "unsupported_language":  # issue 13
                        summary.unsupported_language += 1
                    elif status == "error":
                        summary.errors += 1
                        errors.write(json.dumps({"row": rows[i], "line": lines[i], "id": columns["id"][i], "reason": columns["error"][i]},
                                                ensure_ascii=False) + "\n")
                    elif status == "uncertain":
                        summary.uncertain += 1
                    else:
                        summary.tagged += 1
                        for key in columns["predicted"][i].split(";"):
                            summary.level_counts[key] += 1
                writer.write(table)
        writer.close()
        if summary.rows != summary.records:
            raise IncompleteRunError(f"internal: {summary.records} records read but {summary.rows} rows assembled; rerun with --resume")
        os.replace(tmp_err, errors_file)
        os.replace(tmp_out, output)  # last: OUTPUT appearing means the run is complete
    except BaseException:
        writer.schema = None
        writer.close()
        tmp_out.unlink(missing_ok=True)
        tmp_err.unlink(missing_ok=True)
        raise


# ============================================================================ the output path

# the longest name csvnlp makes beside OUTPUT: ".NAME.errors.jsonl.tmp"
LONGEST_SIBLING_SUFFIX = len("..errors.jsonl.tmp")


def check_output_path(output: Path) -> None:
    """Fail before any work when OUTPUT's folder cannot take OUTPUT and its siblings (the parts
    folder, the errors file, their temporary names, the lock): a file where a folder should
    be, a read-only folder, a name the file system cannot hold."""
    from csvnlp.errors import OutputError

    parent = output.parent
    for folder in (parent, *parent.parents):
        if folder.exists():
            if not folder.is_dir():
                raise OutputError(f"cannot write {output}: {folder} is a file, not a folder; choose another --out")
            if not os.access(folder, os.W_OK | os.X_OK) and folder == parent:
                raise OutputError(f"cannot write {output}: the folder {folder} is not writable; choose another --out")
            try:
                limit = os.pathconf(folder, "PC_NAME_MAX")
            except (OSError, ValueError):
                limit = 255
            break
    else:
        limit = 255
    length = len(os.fsencode(output.name)) + LONGEST_SIBLING_SUFFIX
    if length > limit:
        raise OutputError(f"the output name is {len(os.fsencode(output.name))} bytes; with the {LONGEST_SIBLING_SUFFIX} characters csvnlp "
                          f"adds for its errors and temporary files that passes the file system's {limit}; choose a shorter --out")


def output_problem(exc: OSError, output: Path) -> Exception:
    """The typed error for an OSError met while writing OUTPUT, its parts or its errors file:
    a full disk (or a file-size limit) keeps the finished parts for --resume (exit 7); a
    folder that cannot be written is an output problem (exit 3)."""
    import errno

    from csvnlp.errors import OutputError

    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT) or "No space left" in str(exc) or "File too large" in str(exc):
        return IncompleteRunError(f"cannot write {output}: {reason} (disk full, or a file-size limit); the finished chunks are kept: "
                                  "free some space, then rerun with --resume")
    return OutputError(f"cannot write {output} or its parts ({reason}); choose another --out")


# The lock descriptors this process holds: a forked worker closes its copies at once, so the
# lock lives exactly as long as the run's own process (see tag_workers.start_worker).
HELD_LOCK_FDS: set[int] = set()


class OutputLock:
    """An exclusive lock on ``.OUTPUT.lock`` beside OUTPUT for the whole run, so that two runs
    to one OUTPUT cannot delete each other's parts. ``flock`` is released by the kernel when
    the holder dies, so a killed run never leaves a stale lock behind."""

    def __init__(self, output: Path):
        self.path = output.with_name(f".{output.name}.lock")
        self.fd: int | None = None

    def acquire(self) -> None:
        import fcntl

        from csvnlp.errors import OutputBusyError

        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 32).decode("ascii", errors="replace").strip()
                os.close(fd)
                raise OutputBusyError(f"another csvnlp run{f' (pid {holder})' if holder else ''} is writing {self.path.with_name(self.path.name[1:-5])}; "
                                      "wait for it to finish, or choose another --out") from None
            try:  # the holder before us may have removed the file after we opened it: lock the one on disk
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                self.fd = fd
                HELD_LOCK_FDS.add(fd)
                return
            os.close(fd)

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            HELD_LOCK_FDS.discard(self.fd)
            os.close(self.fd)
            self.fd = None
