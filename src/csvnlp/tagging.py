"""Batch tagging of funding databases: chunks, workers, parts, resume, Dask.

Reading and writing the tables themselves is ``tables``. The run streams: the input is read
``batch_size`` records at a time; each chunk is tagged (in this process, in a pool of worker
processes that each load the model once, or on Dask workers), and its rows are written to a
part file in ``OUTPUT.parts/``. A part appears only when complete (written beside, then
renamed), and is then entered in the parts ledger (``parts.jsonl``: its row range and
sha256). After a kill, ``--resume`` skips every chunk whose part is present *and* matches
its ledger entry, and redoes the rest (a deleted or corrupted part included).

OUTPUT is assembled only when every chunk the reader produced has a verified part, in
input order, into a temporary file renamed into place at the very end (errors file first,
OUTPUT last): a file named OUTPUT is always complete.

Accounting: every record of the input is one row of OUTPUT. Rows that cannot be tagged
(empty, binary or undecodable text, a malformed CSV record, an unterminated quote, a bad JSON
line) get ``status=error`` and a reason, and a line in ``OUTPUT.errors.jsonl`` with their
record number and input line; they never stop the run.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from csvnlp.errors import InputError, OutputExistsError
from csvnlp.levels import LEVEL_KEYS
from csvnlp.tables import OUTPUT_COLUMNS, Chunk, TableReader, table_format
from csvnlp.tag_parts import (LINE_COLUMN, ROW_COLUMN, ChunkSpan, OutputLock, PartStore, _manifest, check_output_path,
                              model_fingerprint, output_problem, output_schema, span_of, write_output)
from csvnlp.tag_workers import _run_dask, _run_pool, cached_bundle, tag_chunk

__all__ = ["OUTPUT_COLUMNS", "ROW_COLUMN", "LINE_COLUMN", "TagOptions", "TagSummary", "ChunkSpan", "PartStore", "tag_table",
           "tag_chunk", "cached_bundle", "write_output", "output_schema", "model_fingerprint", "_manifest"]

# ============================================================================ options and results


# Rows per chunk of a table: a chunk is what a worker tags at once and what one part file holds.
# Large enough that the per-chunk costs (a part written and fsynced, a round trip to a worker)
# stay small beside the tagging: 4,000 rows tagged 100,000 rows with --jobs 2 ~7% faster than
# 1,000 (issue 20, benchmarks/results/tagging.md), and a chunk is still ~1 MB of text.
TABLE_ROWS_PER_CHUNK = 4000


@dataclass
class TagOptions:
    text_columns: list[str]
    id_column: str | None = None
    keep_columns: list[str] = field(default_factory=list)
    batch_size: int = TABLE_ROWS_PER_CHUNK
    jobs: int = 1
    entities: bool = True
    sep: str | None = None
    engine: str = "local"  # or "dask"
    scheduler: str | None = None
    resume: bool = False
    force: bool = False
    files_glob: str | None = None  # issue 13: tag the files matching this pattern (INPUT is then its folder)
    gazetteer: str | None = None  # issue 17: a user's names (CSV or JSONL: name, label, id) added to the model's


@dataclass
class TagSummary:
    input: str
    output: str
    errors_file: str
    records: int = 0  # records the reader found in the input
    rows: int = 0  # rows written (always equal to records: the accounting check)
    tagged: int = 0
    uncertain: int = 0
    errors: int = 0
    unsupported_language: int = 0  # issue 13: rows in a language the model was not trained on
    languages: dict[str, int] = field(default_factory=dict)  # issue 13: rows per detected language
    level_counts: dict[str, int] = field(default_factory=lambda: {key: 0 for key in LEVEL_KEYS})
    resumed_chunks: int = 0
    redone_chunks: int = 0  # parts found missing or corrupt on --resume and tagged again
    elapsed_s: float = 0.0
    rows_per_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ============================================================================ the run


def tag_table(
    input_path: Path,
    output: Path,
    options: TagOptions,
    model_dir: Path,
    on_progress: Callable[[int, int, int], None] | None = None,
) -> TagSummary:
    """Tag every record of ``input_path`` into ``output``; see the module docstring."""
    start = time.perf_counter()
    table_format(output)  # fail fast on an unknown output format
    check_output_path(output)
    lock = OutputLock(output)
    try:
        lock.acquire()
    except OSError as exc:
        raise output_problem(exc, output) from None
    try:
        return _tag_locked(input_path, output, options, model_dir, on_progress, start)
    finally:
        lock.release()


def _tag_locked(input_path: Path, output: Path, options: TagOptions, model_dir: Path,
                on_progress: Callable[[int, int, int], None] | None, start: float) -> TagSummary:
    parts_dir = output.with_name(output.name + ".parts")
    # --resume of a run killed after it renamed OUTPUT (but before it tidied up) may replace it
    if output.exists() and not options.force and not (options.resume and parts_dir.exists()):
        raise OutputExistsError(f"{output} exists; pass --force to replace it")
    errors_file = output.with_name(output.name + ".errors.jsonl")
    # issue 13: a folder (or --files GLOB) is read by FolderReader, one row per document
    reader: Any
    if input_path.is_dir() or options.files_glob:
        from csvnlp.folders import FolderReader

        reader = FolderReader(input_path, options.batch_size, options.files_glob, exclude=[output, errors_file, output.with_name(output.name + ".parts")])
    else:
        reader = TableReader(input_path, options)  # checks columns before any work
    model_dir = Path(model_dir).resolve()
    cached_bundle(str(model_dir), options.gazetteer)  # a bad model fails here, before any work; workers forked later inherit it
    manifest = _manifest(input_path, options, model_dir, getattr(reader, "sep", None))
    if hasattr(reader, "fingerprint"):  # a folder's files, not the folder's own stat
        manifest.update(reader.fingerprint(), input_mtime_ns=None, input_size=None)
    try:
        store = PartStore(output, manifest, options.resume)
    except OSError as exc:
        raise output_problem(exc, output) from None
    summary = TagSummary(str(input_path), str(output), str(errors_file))
    spans: list[ChunkSpan] = []
    done_rows = 0

    def progress(chunk: Chunk) -> None:
        nonlocal done_rows
        done_rows += len(chunk.texts)
        if on_progress:
            on_progress(done_rows, chunk.position, reader.size)

    def chunks() -> Iterator[tuple[Chunk, ChunkSpan, bool]]:
        """Each chunk, its span, and whether its part still has to be made."""
        for chunk in reader.chunks():
            span = span_of(chunk)
            spans.append(span)
            summary.records += span.rows
            if options.resume:
                if store.done(span):
                    summary.resumed_chunks += 1
                    yield chunk, span, False
                    continue
                if span.index in store.ledger or store.path(span.index).exists():
                    summary.redone_chunks += 1  # deleted, corrupted or never entered: made again
            yield chunk, span, True

    try:
        if options.engine == "dask":
            _run_dask(chunks(), store, options, model_dir, progress)
        elif options.jobs > 1:
            _run_pool(chunks(), store, options, model_dir, progress)
        else:
            for chunk, span, todo in chunks():
                if todo:
                    store.write(span, tag_chunk(str(model_dir), chunk, options.entities, options.gazetteer))
                progress(chunk)
        write_output(store, spans, output, errors_file, summary, options.keep_columns)
    except InputError:
        # the input cannot be read to its end (e.g. a truncated .gz): parts made from it could
        # never be resumed (the fixed input is another file), so leave nothing behind
        store.remove()
        raise
    except OSError as exc:  # writing a part or OUTPUT: a full disk keeps the parts for --resume
        raise output_problem(exc, output) from None
    finally:
        store.close()
    store.remove()
    summary.elapsed_s = round(time.perf_counter() - start, 3)
    summary.rows_per_s = round(summary.rows / summary.elapsed_s, 1) if summary.elapsed_s else 0.0
    return summary
