"""Batch tagging of funding databases: chunks, workers, resume, Dask (tables: ``tables``).

The run streams: the input is read ``batch_size`` rows at a time; each chunk is tagged (in
this process, in a pool of worker processes that each load the model once, or on Dask
workers), and its rows are written to a part file in ``OUTPUT.parts/``. A part file appears
only when complete (written beside, then renamed), so after a kill ``--resume`` skips every
chunk whose part exists and tags the rest. When all chunks are done the parts are joined, in
input order, into a temporary file that is renamed to OUTPUT: a half-finished run never leaves
a file that looks complete.

Rows that cannot be tagged (empty, binary or undecodable text, a malformed CSV row, a bad
JSON line) get ``status=error`` and a reason in the output, and a line in
``OUTPUT.errors.jsonl``; they never stop the run.
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

from csvnlp.errors import InputError, OutputExistsError
from csvnlp.inputs import text_problem
from csvnlp.tables import OUTPUT_COLUMNS, Chunk, TableReader, _TableWriter, table_format
from csvnlp.levels import LEVEL_KEYS



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


@dataclass
class TagSummary:
    input: str
    output: str
    errors_file: str
    rows: int = 0
    tagged: int = 0
    uncertain: int = 0
    errors: int = 0
    level_counts: dict[str, int] = field(default_factory=lambda: {key: 0 for key in LEVEL_KEYS})
    resumed_chunks: int = 0
    elapsed_s: float = 0.0
    rows_per_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ============================================================================ tagging one chunk


@lru_cache(maxsize=4)
def cached_bundle(model_dir: str) -> Any:
    """The model, loaded once per process (worker processes and Dask workers alike)."""
    from csvnlp.bundle import load_bundle

    return load_bundle(Path(model_dir))


def tag_chunk(model_dir: str, chunk: Chunk, entities: bool) -> dict[str, list[Any]]:
    """Tag one chunk; returns output columns (plain lists: cheap to send between processes)."""
    bundle = cached_bundle(model_dir)
    n = len(chunk.texts)
    reasons = [chunk.problems[i] or text_problem(chunk.texts[i]) for i in range(n)]
    good = [i for i in range(n) if reasons[i] is None]
    results = bundle.classify([chunk.texts[i] for i in good], entities=entities) if good else []
    out: dict[str, list[Any]] = {name: [None] * n for name in OUTPUT_COLUMNS}
    out["id"] = list(chunk.ids)
    for i in range(n):
        if reasons[i] is not None:
            out["status"][i], out["predicted"][i], out["error"][i] = "error", "", reasons[i]
            out["clusters"][i] = out["programmes"][i] = ""
    for i, result in zip(good, results):
        out["status"][i] = result["status"]
        out["predicted"][i] = ";".join(result["predicted"])
        for item in result["levels"]:
            out[f"p_{item['level']}"][i] = item["probability"]
        out["clusters"][i] = _distinct(result["entities"], "CLUSTER")
        out["programmes"][i] = _distinct(result["entities"], "PROGRAMME")
        out["error"][i] = ""
    for name, values in chunk.kept.items():
        out[name] = list(values)
    out["_row"] = list(range(chunk.first_row, chunk.first_row + n))
    return out


def _distinct(entities: list[dict[str, Any]], label: str) -> str:
    return ";".join(dict.fromkeys(e["text"] for e in entities if e["label"] == label))


# ============================================================================ parts, resume, output


class PartStore:
    """``OUTPUT.parts/``: one Parquet file per finished chunk, plus the run's manifest."""

    def __init__(self, output: Path, manifest: dict[str, Any], resume: bool):
        self.directory = output.with_name(output.name + ".parts")
        self.manifest_path = self.directory / "manifest.json"
        if resume and self.directory.exists():
            try:
                previous = json.loads(self.manifest_path.read_text())
            except (OSError, json.JSONDecodeError):
                previous = None
            if previous != manifest:
                raise InputError(
                    f"cannot resume: {self.directory} was made from another input, model or options; "
                    "rerun without --resume to start over"
                )
        else:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory.mkdir(parents=True)
            self.manifest_path.write_text(json.dumps(manifest, indent=1))

    def path(self, index: int) -> Path:
        return self.directory / f"part-{index:07d}.parquet"

    def done(self, index: int) -> bool:
        return self.path(index).exists()

    def write(self, index: int, columns: dict[str, list[Any]]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({name: pa.array(values, type=_arrow_type(name, values)) for name, values in columns.items()})
        tmp = self.path(index).with_suffix(".tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, self.path(index))  # the part exists only once complete

    def parts(self) -> list[Path]:
        return sorted(self.directory.glob("part-*.parquet"))

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def _arrow_type(name: str, values: list[Any]) -> Any:
    import pyarrow as pa

    if name.startswith("p_"):
        return pa.float64()
    if name == "_row":
        return pa.int64()
    return pa.string() if all(v is None or isinstance(v, str) for v in values) else None


def _manifest(input_path: Path, options: TagOptions, model_dir: Path) -> dict[str, Any]:
    stat = input_path.stat()
    meta = json.loads((model_dir / "meta.json").read_text())
    return {
        "input": str(input_path.resolve()),
        "input_size": stat.st_size,
        "input_mtime_ns": stat.st_mtime_ns,
        "batch_size": options.batch_size,
        "text_columns": options.text_columns,
        "id_column": options.id_column,
        "keep_columns": options.keep_columns,
        "sep": options.sep,
        "entities": options.entities,
        "model": meta["files"].get("classifier.joblib"),
    }


def write_output(store: PartStore, output: Path, errors_file: Path, summary: TagSummary) -> None:
    """Join the parts, in order, into OUTPUT and OUTPUT.errors.jsonl (each via a temporary file)."""
    import pyarrow.parquet as pq

    fmt = table_format(output)
    tmp_out = output.with_name(f".{output.name}.tmp")
    tmp_err = errors_file.with_name(f".{errors_file.name}.tmp")
    writer = _TableWriter(tmp_out, fmt, gz=output.name.lower().endswith(".gz"))
    try:
        with tmp_err.open("w", encoding="utf-8") as errors:
            for part in store.parts():
                table = pq.read_table(part)
                rows = table.column("_row").to_pylist()
                table = table.drop(["_row"])
                columns = table.to_pydict()
                for i, status in enumerate(columns["status"]):
                    summary.rows += 1
                    if status == "error":
                        summary.errors += 1
                        errors.write(json.dumps({"row": rows[i], "id": columns["id"][i], "reason": columns["error"][i]}, ensure_ascii=False) + "\n")
                    elif status == "uncertain":
                        summary.uncertain += 1
                    else:
                        summary.tagged += 1
                        for key in columns["predicted"][i].split(";"):
                            summary.level_counts[key] += 1
                writer.write(table)
        writer.close()
        os.replace(tmp_out, output)
        os.replace(tmp_err, errors_file)
    except BaseException:
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
    """Tag every row of ``input_path`` into ``output``; see the module docstring."""
    start = time.perf_counter()
    table_format(output)  # fail fast on an unknown output format
    if output.exists() and not options.force:
        raise OutputExistsError(f"{output} exists; pass --force to replace it")
    errors_file = output.with_name(output.name + ".errors.jsonl")
    reader = TableReader(input_path, options)  # checks columns before any work
    model_dir = Path(model_dir).resolve()
    cached_bundle(str(model_dir))  # a bad model fails here, before any work; workers forked later inherit it
    store = PartStore(output, _manifest(input_path, options, model_dir), options.resume)
    summary = TagSummary(str(input_path), str(output), str(errors_file))
    done_rows = 0

    def progress(chunk: Chunk) -> None:
        nonlocal done_rows
        done_rows += len(chunk.texts)
        if on_progress:
            on_progress(done_rows, chunk.position, reader.size)

    pending = (chunk for chunk in reader.chunks())
    if options.engine == "dask":
        _run_dask(pending, store, options, model_dir, progress, summary)
    elif options.jobs > 1:
        _run_pool(pending, store, options, model_dir, progress, summary)
    else:
        for chunk in pending:
            if store.done(chunk.index):
                summary.resumed_chunks += 1
            else:
                store.write(chunk.index, tag_chunk(str(model_dir), chunk, options.entities))
            progress(chunk)
    write_output(store, output, errors_file, summary)
    store.remove()
    summary.elapsed_s = round(time.perf_counter() - start, 3)
    summary.rows_per_s = round(summary.rows / summary.elapsed_s, 1) if summary.elapsed_s else 0.0
    return summary


def _run_pool(chunks: Iterator[Chunk], store: PartStore, options: TagOptions, model_dir: Path,
              progress: Callable[[Chunk], None], summary: TagSummary) -> None:
    """Worker processes each load the model once; at most 2 chunks per worker are in flight."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(options.jobs, mp_context=context, initializer=cached_bundle, initargs=(str(model_dir),)) as pool:
        in_flight: list[tuple[Chunk, Future[Any]]] = []
        for chunk in chunks:
            if store.done(chunk.index):
                summary.resumed_chunks += 1
                in_flight.append((chunk, None))  # type: ignore[arg-type]
            else:
                in_flight.append((chunk, pool.submit(tag_chunk, str(model_dir), chunk, options.entities)))
            while len(in_flight) > 2 * options.jobs:
                _finish(in_flight.pop(0), store, progress)
        while in_flight:
            _finish(in_flight.pop(0), store, progress)


def _finish(item: tuple[Chunk, Any], store: PartStore, progress: Callable[[Chunk], None]) -> None:
    chunk, future = item
    if future is not None:
        store.write(chunk.index, future.result())
    progress(chunk)


def _run_dask(chunks: Iterator[Chunk], store: PartStore, options: TagOptions, model_dir: Path,
              progress: Callable[[Chunk], None], summary: TagSummary) -> None:
    """Tag the table as ``dask.dataframe`` partitions on a Dask cluster (a LocalCluster unless
    --scheduler names one).

    The client first stages the chunks still to do as Parquet files (``OUTPUT.parts/input/``),
    one per chunk: CSV exports with quoted multi-line fields cannot be split into byte ranges
    safely, so ``dd.read_csv`` could cut a record in two, but a Parquet file per chunk can be
    read by any worker. ``dd.read_parquet`` over those files gives one partition per chunk,
    ``map_partitions`` tags them on the workers (each loads the model once), and the client
    collects the partitions in order, a few at a time, into the same part files as the local
    engine. The staging directory and the model must be visible to the workers at the same
    paths (a shared file system) when the cluster spans machines.
    """
    try:
        import dask.dataframe as dd
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError("--engine dask needs Dask: pip install -e '.[dask]'") from None
    staging = store.directory / "input"
    staging.mkdir(exist_ok=True)
    todo: list[Chunk] = []
    for chunk in chunks:
        if store.done(chunk.index):
            summary.resumed_chunks += 1
            progress(chunk)
            continue
        _stage_chunk(chunk, staging / f"chunk-{chunk.index:07d}.parquet")
        todo.append(_chunk_header(chunk))
    if not todo:
        return
    cluster = None
    if options.scheduler:
        client = Client(options.scheduler)
    else:
        cluster = LocalCluster(n_workers=max(options.jobs, 1), threads_per_worker=1, dashboard_address=None, processes=True)
        client = Client(cluster)
    try:
        frame = dd.read_parquet([str(staging / f"chunk-{c.index:07d}.parquet") for c in todo], split_row_groups=False)
        tagged = frame.map_partitions(_tag_frame, str(model_dir), options.entities, meta=_output_meta(options.keep_columns))
        partitions = tagged.to_delayed()
        window = 2 * max(len(client.scheduler_info().get("workers", {})), 1)
        for begin in range(0, len(partitions), window):
            futures = client.compute(partitions[begin : begin + window])
            for chunk, future in zip(todo[begin : begin + window], futures):
                result = future.result()
                result = result.astype(object).where(result.notna(), None)  # pandas' NaN back to None
                store.write(chunk.index, {name: result[name].tolist() for name in result.columns})
                progress(chunk)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _stage_chunk(chunk: Chunk, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists():
        return
    columns = {
        "_row": pa.array(range(chunk.first_row, chunk.first_row + len(chunk.texts)), type=pa.int64()),
        "_id": pa.array(chunk.ids, type=pa.string()),
        "_text": pa.array([t if isinstance(t, str) else None for t in chunk.texts], type=pa.string()),
        "_problem": pa.array(chunk.problems, type=pa.string()),
    }
    for name, values in chunk.kept.items():
        columns[f"_keep:{name}"] = pa.array(values, type=pa.string())
    tmp = path.with_suffix(".tmp")
    pq.write_table(pa.table(columns), tmp)
    os.replace(tmp, path)


def _chunk_header(chunk: Chunk) -> Chunk:
    """The chunk without its rows: the client keeps only what it needs to write parts in order."""
    return Chunk(chunk.index, chunk.first_row, [], [], [], {}, chunk.position)


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
        position=0,
    )
    return pd.DataFrame(tag_chunk(model_dir, chunk, entities))


def _output_meta(keep_columns: Sequence[str]) -> Any:
    import pandas as pd

    columns = {name: pd.Series(dtype="float64" if name.startswith("p_") else "object") for name in OUTPUT_COLUMNS}
    columns.update({name: pd.Series(dtype="object") for name in keep_columns})
    columns["_row"] = pd.Series(dtype="int64")
    return pd.DataFrame(columns)
