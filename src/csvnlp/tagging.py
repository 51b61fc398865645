"""Batch tagging of funding databases: readers, chunks, workers, resume, Dask, writers.

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

import csv
import gzip
import io
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
from csvnlp.levels import LEVEL_KEYS

MALFORMED = "\x00malformed-row:"  # marks a CSV row pandas could not split into the header's fields
OUTPUT_COLUMNS = (
    ["id", "status", "predicted"] + [f"p_{key}" for key in LEVEL_KEYS] + ["clusters", "programmes", "error"]
)
FORMATS = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


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

    def __init__(self, path: Path, options: TagOptions):
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
        "model": meta["files"].get("level_model.npz"),
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
