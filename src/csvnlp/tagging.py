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

import json
import os
import shutil
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from csvnlp.errors import IncompleteRunError, InputError, OutputExistsError
from csvnlp.inputs import text_problem
from csvnlp.journal import Journal, read_entries
from csvnlp.levels import LEVEL_KEYS
from csvnlp.persistence import sha256_of
from csvnlp.tables import OUTPUT_COLUMNS, Chunk, TableReader, TableWriter, table_format

# ============================================================================ options and results


@dataclass
class TagOptions:
    text_columns: list[str]
    id_column: str | None = None
    keep_columns: list[str] = field(default_factory=list)
    batch_size: int = 1000
    jobs: int = 1
    entities: bool = True
    sep: str | None = None
    engine: str = "local"  # or "dask"
    scheduler: str | None = None
    resume: bool = False
    force: bool = False
    files_glob: str | None = None  # issue 13: tag the files matching this pattern (INPUT is then its folder)


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


@dataclass(frozen=True)
class ChunkSpan:
    """What the client remembers of a chunk once its rows are handed to a worker."""

    index: int
    first_row: int
    rows: int


def span_of(chunk: Chunk) -> ChunkSpan:
    return ChunkSpan(chunk.index, chunk.first_row, len(chunk.texts))


# ============================================================================ tagging one chunk


@lru_cache(maxsize=4)
def cached_bundle(model_dir: str) -> Any:
    """The model, loaded once per process (worker processes and Dask workers alike)."""
    from csvnlp.persistence import load_bundle

    return load_bundle(Path(model_dir))


def tag_chunk(model_dir: str, chunk: Chunk, entities: bool) -> dict[str, list[Any]]:
    """Tag one chunk; returns output columns (plain lists: cheap to send between processes)."""
    bundle = cached_bundle(model_dir)
    n = len(chunk.texts)
    # issue 13: rows from a folder carry a file path; the document is read here, in the worker
    from csvnlp.folders import resolve_documents
    from csvnlp.language import classify_in_supported_languages

    texts, problems, documents = resolve_documents(chunk.texts, chunk.problems)
    reasons = [problems[i] or (None if documents[i] else text_problem(texts[i])) for i in range(n)]
    good = [i for i in range(n) if reasons[i] is None]
    # issue 13: texts in a language the model cannot read get status=unsupported_language, no level
    results = classify_in_supported_languages(bundle, [texts[i] for i in good], entities=entities, evidence=False) if good else []
    out: dict[str, list[Any]] = {name: [None] * n for name in OUTPUT_COLUMNS}
    out["id"] = list(chunk.ids)
    for i in range(n):
        if reasons[i] is not None:
            out["status"][i], out["predicted"][i], out["error"][i] = "error", "", reasons[i]
            out["clusters"][i] = out["programmes"][i] = out["language"][i] = ""
    for i, result in zip(good, results, strict=True):
        out["status"][i] = result["status"]
        out["predicted"][i] = ";".join(result["predicted"])
        for item in result["levels"]:
            out[f"p_{item['level']}"][i] = item["probability"]
        out["clusters"][i] = _distinct(result["entities"], "CLUSTER")
        out["programmes"][i] = _distinct(result["entities"], "PROGRAMME")
        out["language"][i] = result["language"]
        out["error"][i] = ""
    for name, values in chunk.kept.items():
        out[name] = list(values)
    out["_row"] = list(range(chunk.first_row, chunk.first_row + n))
    out["_line"] = list(chunk.lines) if chunk.lines else list(out["_row"])
    return out


def _distinct(entities: list[dict[str, Any]], label: str) -> str:
    return ";".join(dict.fromkeys(e["text"] for e in entities if e["label"] == label))


# ============================================================================ parts, resume, output


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
            self.directory.mkdir(parents=True)
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
        if sha256_of(path) != entry.get("sha256"):
            return "corrupt (its sha256 differs from the ledger)"
        return None

    def done(self, span: ChunkSpan) -> bool:
        return self.problem(span) is None

    def write(self, span: ChunkSpan, columns: dict[str, list[Any]]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = columns["_row"]
        if len(rows) != span.rows or (rows and (rows[0], rows[-1]) != (span.first_row, span.first_row + span.rows - 1)):
            # a worker answered for other rows than the chunk's: never write it under this name
            raise RuntimeError(f"chunk {span.index}: the result holds rows {rows[:1]}..{rows[-1:]}, expected {span.first_row}+{span.rows}")
        table = pa.table({name: pa.array(values, type=_arrow_type(name, values)) for name, values in columns.items()})
        path = self.path(span.index)
        tmp = path.with_suffix(".tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, path)  # the part exists only once complete
        entry = {"index": span.index, "first_row": span.first_row, "rows": span.rows, "sha256": sha256_of(path)}
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
    if name in ("_row", "_line"):
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


def _manifest(input_path: Path, options: TagOptions, model_dir: Path, sep: str | None) -> dict[str, Any]:
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
                 summary: TagSummary, keep_columns: Sequence[str]) -> None:
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
                rows = table.column("_row").to_pylist()
                lines = table.column("_line").to_pylist()
                if rows != list(range(span.first_row, span.first_row + span.rows)):
                    raise IncompleteRunError(f"cannot assemble {output}: the part for chunk {span.index} holds other rows; rerun with --resume")
                table = table.drop(["_row", "_line"])
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
    cached_bundle(str(model_dir))  # a bad model fails here, before any work; workers forked later inherit it
    manifest = _manifest(input_path, options, model_dir, getattr(reader, "sep", None))
    if hasattr(reader, "fingerprint"):  # a folder's files, not the folder's own stat
        manifest.update(reader.fingerprint(), input_mtime_ns=None, input_size=None)
    store = PartStore(output, manifest, options.resume)
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
                    store.write(span, tag_chunk(str(model_dir), chunk, options.entities))
                progress(chunk)
        write_output(store, spans, output, errors_file, summary, options.keep_columns)
    except InputError:
        # the input cannot be read to its end (e.g. a truncated .gz): parts made from it could
        # never be resumed (the fixed input is another file), so leave nothing behind
        store.remove()
        raise
    finally:
        store.close()
    store.remove()
    summary.elapsed_s = round(time.perf_counter() - start, 3)
    summary.rows_per_s = round(summary.rows / summary.elapsed_s, 1) if summary.elapsed_s else 0.0
    return summary


def _run_pool(chunks: Iterator[tuple[Chunk, ChunkSpan, bool]], store: PartStore, options: TagOptions, model_dir: Path,
              progress: Callable[[Chunk], None]) -> None:
    """Worker processes each load the model once; at most 2 chunks per worker are in flight."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(options.jobs, mp_context=context, initializer=cached_bundle, initargs=(str(model_dir),)) as pool:
        in_flight: list[tuple[Chunk, ChunkSpan, Future[Any] | None]] = []
        for chunk, span, todo in chunks:
            future = pool.submit(tag_chunk, str(model_dir), chunk, options.entities) if todo else None
            in_flight.append((chunk, span, future))
            while len(in_flight) > 2 * options.jobs:
                _finish(in_flight.pop(0), store, progress)
        while in_flight:
            _finish(in_flight.pop(0), store, progress)


def _finish(item: tuple[Chunk, ChunkSpan, Future[Any] | None], store: PartStore, progress: Callable[[Chunk], None]) -> None:
    chunk, span, future = item
    if future is not None:
        store.write(span, future.result())
    progress(chunk)


def _run_dask(chunks: Iterator[tuple[Chunk, ChunkSpan, bool]], store: PartStore, options: TagOptions, model_dir: Path,
              progress: Callable[[Chunk], None]) -> None:
    """Tag the table as ``dask.dataframe`` partitions on a Dask cluster (a LocalCluster unless
    --scheduler names one).

    The client first stages the chunks still to do as Parquet files (``OUTPUT.parts/input/``),
    one per chunk: CSV exports with quoted multi-line fields cannot be split into byte ranges
    safely, so ``dd.read_csv`` could cut a record in two, but a Parquet file per chunk can be
    read by any worker. ``dd.read_parquet`` over those files gives one partition per chunk,
    ``map_partitions`` tags them on the workers (each loads the model once), and the client
    collects the partitions in order, a few at a time, into the same part files as the local
    engine; each partition is checked to hold exactly its chunk's rows before it is written.
    The staging directory and the model must be visible to the workers at the same paths (a
    shared file system) when the cluster spans machines.
    """
    try:
        import dask.dataframe as dd
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError("--engine dask needs Dask: pip install -e '.[dask]'") from None
    staging = store.directory / "input"
    staging.mkdir(exist_ok=True)
    todo: list[ChunkSpan] = []
    for chunk, span, needed in chunks:
        if not needed:
            progress(chunk)
            continue
        _stage_chunk(chunk, staging / f"chunk-{chunk.index:07d}.parquet")
        todo.append(span)
    if not todo:
        return
    cluster = None
    if options.scheduler:
        client = Client(options.scheduler)
    else:
        cluster = LocalCluster(n_workers=max(options.jobs, 1), threads_per_worker=1, dashboard_address=None, processes=True)
        client = Client(cluster)
    try:
        frame = dd.read_parquet([str(staging / f"chunk-{s.index:07d}.parquet") for s in todo], split_row_groups=False)
        tagged = frame.map_partitions(_tag_frame, str(model_dir), options.entities, meta=_output_meta(options.keep_columns))
        partitions = tagged.to_delayed()
        if len(partitions) != len(todo):
            raise IncompleteRunError(f"Dask made {len(partitions)} partitions of {len(todo)} staged chunks; rerun with --resume")
        window = 2 * max(len(client.scheduler_info().get("workers", {})), 1)
        for begin in range(0, len(partitions), window):
            futures = client.compute(partitions[begin : begin + window])
            for span, future in zip(todo[begin : begin + window], futures, strict=True):
                result = future.result()
                result = result.astype(object).where(result.notna(), None)  # pandas' NaN back to None
                store.write(span, {name: result[name].tolist() for name in result.columns})
                progress(Chunk(span.index, span.first_row, [], [None] * span.rows, [], {}, 0))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _stage_chunk(chunk: Chunk, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {
        "_row": pa.array(range(chunk.first_row, chunk.first_row + len(chunk.texts)), type=pa.int64()),
        # a folder's chunk has no input lines: its record numbers stand in for them
        "_line": pa.array(chunk.lines or list(range(chunk.first_row, chunk.first_row + len(chunk.texts))), type=pa.int64()),
        "_id": pa.array(chunk.ids, type=pa.string()),
        "_text": pa.array([t if isinstance(t, str) else None for t in chunk.texts], type=pa.string()),
        "_problem": pa.array(chunk.problems, type=pa.string()),
    }
    for name, values in chunk.kept.items():
        columns[f"_keep:{name}"] = pa.array(values, type=pa.string())
    tmp = path.with_suffix(".tmp")
    pq.write_table(pa.table(columns), tmp)
    os.replace(tmp, path)


def _tag_frame(frame: Any, model_dir: str, entities: bool) -> Any:
    """One dask.dataframe partition (a staged chunk) -> its output rows, on a worker."""
    import pandas as pd

    if frame.empty:
        return _output_meta([c.split(":", 1)[1] for c in frame.columns if c.startswith("_keep:")])
    rows = frame["_row"].tolist()
    chunk = Chunk(
        index=-1, first_row=int(rows[0]), ids=frame["_id"].tolist(), texts=frame["_text"].tolist(),
        problems=[p if isinstance(p, str) else None for p in frame["_problem"].tolist()],
        kept={c.split(":", 1)[1]: frame[c].tolist() for c in frame.columns if c.startswith("_keep:")},
        position=0, lines=[int(x) for x in frame["_line"].tolist()],
    )
    return pd.DataFrame(tag_chunk(model_dir, chunk, entities))


def _output_meta(keep_columns: Sequence[str]) -> Any:
    import pandas as pd

    columns = {name: pd.Series(dtype="float64" if name.startswith("p_") else "object") for name in OUTPUT_COLUMNS}
    columns.update({name: pd.Series(dtype="object") for name in keep_columns})
    columns["_row"] = pd.Series(dtype="int64")
    columns["_line"] = pd.Series(dtype="int64")
    return pd.DataFrame(columns)
