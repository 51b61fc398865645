"""Where chunks are tagged: in this process, in a pool of worker processes, or on Dask.

Each worker process loads the model once (``cached_bundle``) and tags whole chunks
(``tag_chunk``); the client writes each result as a part (``tag_parts.PartStore``).
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from csvnlp.errors import IncompleteRunError, InputError, SchedulerError
from csvnlp.inputs import text_problem, without_surrogates
from csvnlp.tables import OUTPUT_COLUMNS, Chunk
from csvnlp.tag_parts import LINE_COLUMN, ROW_COLUMN, ChunkSpan, PartStore

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def cached_bundle(model_dir: str, gazetteer: str | None = None) -> Any:
    """The model, loaded once per process (worker processes and Dask workers alike), with the
    names of a user's gazetteer file (issue 17) added to its entity pipeline. One cache key
    however it is called (a pool worker forked after the parent loaded it must find it, not
    load it again), and ready to tag (see ``_ready_to_tag``)."""
    return _loaded_bundle(str(model_dir), gazetteer or None)


@lru_cache(maxsize=4)
def _loaded_bundle(model_dir: str, gazetteer: str | None) -> Any:
    from csvnlp.language import load_detector_in_background
    from csvnlp.persistence import load_bundle

    detector = load_detector_in_background()  # its model decompresses outside the GIL while spaCy loads
    bundle = load_bundle(Path(model_dir))
    if gazetteer:
        from csvnlp.entities import add_gazetteer, read_gazetteer

        add_gazetteer(bundle.entity_pipeline, read_gazetteer(Path(gazetteer)))
    _ready_to_tag(bundle)
    detector.join()  # before any fork: workers inherit the loaded detector
    _freeze_loaded_objects()
    return bundle


_FROZEN = False


def _freeze_loaded_objects() -> None:
    """Move every object alive now (the loaded model: about 90,000 tracked objects) out of the
    garbage collector's reach, once per process. The model lives as long as the process, but
    each full collection would walk it again: tagging allocates many short-lived objects
    (spaCy docs, spans, dicts), which starts full collections, and freezing made tagging 6%
    faster in A/B runs on 10^5 real rows (issue 20, benchmarks/results/tagging.md). Done before any fork, it also spares
    workers the copy-on-write of the model's pages that a collection's bookkeeping causes
    (the advice of ``gc.freeze``'s documentation). Once per process, because a frozen object
    is never freed: only what was alive at the first load is kept for good."""
    global _FROZEN
    if not _FROZEN:
        import gc

        gc.freeze()
        _FROZEN = True


def _ready_to_tag(bundle: Any) -> None:
    """Build what the first tagged row would otherwise build (the entity prefilter and its
    regex guards), so that forked workers inherit it instead of each building it."""
    from csvnlp.entities import NAMES_COMPONENT
    from csvnlp.features import mask_programme_names

    if NAMES_COMPONENT in bundle.entity_pipeline.pipe_names:
        finder = bundle.entity_pipeline.get_pipe(NAMES_COMPONENT)
        finder.prepare()
        finder.may_find_names("")  # (and the guarded rule shapes)
    mask_programme_names("")


def tag_chunk(model_dir: str, chunk: Chunk, entities: bool, gazetteer: str | None = None) -> dict[str, list[Any]]:
    """Tag one chunk; returns output columns (plain lists: cheap to send between processes)."""
    bundle = cached_bundle(model_dir, gazetteer)
    n = len(chunk.texts)
    # issue 13: rows from a folder carry a file path; the document is read here, in the worker
    from csvnlp.folders import resolve_documents
    from csvnlp.predict import tag_columns

    texts, problems, documents = resolve_documents(chunk.texts, chunk.problems)
    reasons = [problems[i] or (None if documents[i] else text_problem(texts[i])) for i in range(n)]
    reasons = [without_surrogates(r) if r else r for r in reasons]  # a reason may quote a file name that is not UTF-8
    good = [i for i in range(n) if reasons[i] is None]
    out: dict[str, list[Any]] = {name: [None] * n for name in OUTPUT_COLUMNS}
    out["id"] = list(chunk.ids)
    if len(good) == n:  # the usual chunk: every row readable, the columns as they come
        out.update(tag_columns(bundle, texts, entities))
        out["error"] = [""] * n
    else:
        # issue 13: texts in a language the model cannot read get status=unsupported_language, no level
        tagged = tag_columns(bundle, [texts[i] for i in good], entities) if good else {}
        for name, values in tagged.items():
            column = out[name]
            for i, value in zip(good, values):
                column[i] = value
        for i in range(n):
            if reasons[i] is not None:
                out["status"][i], out["predicted"][i], out["error"][i] = "error", "", reasons[i]
                out["clusters"][i] = out["programmes"][i] = out["programme_ids"][i] = out["language"][i] = ""
            else:
                out["error"][i] = ""
    for name, values in chunk.kept.items():
        out[name] = list(values)
    out[ROW_COLUMN] = list(range(chunk.first_row, chunk.first_row + n))
    out[LINE_COLUMN] = list(chunk.lines) if chunk.lines else list(out[ROW_COLUMN])
    return out


def _run_pool(chunks: Iterator[tuple[Chunk, ChunkSpan, bool]], store: PartStore, options: Any, model_dir: Path,
              progress: Callable[[Chunk], None]) -> None:
    """Worker processes each load the model once; at most 2 chunks per worker are in flight."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    try:
        with ProcessPoolExecutor(options.jobs, mp_context=context, initializer=start_worker, initargs=(str(model_dir), os.getpid(), options.gazetteer)) as pool:
            in_flight: list[tuple[Chunk, ChunkSpan, Future[Any] | None]] = []
            for chunk, span, todo in chunks:
                future = pool.submit(tag_chunk, str(model_dir), chunk, options.entities, options.gazetteer) if todo else None
                in_flight.append((chunk, span, future))
                while len(in_flight) > 2 * options.jobs:
                    _finish(in_flight.pop(0), store, progress)
            while in_flight:
                _finish(in_flight.pop(0), store, progress)
    except BrokenProcessPool:
        raise IncompleteRunError(
            "a worker process died while tagging (killed by a signal, or by the system when memory ran out); the finished "
            "chunks are kept: rerun with --resume (with fewer --jobs or a smaller --batch-size if memory is short)"
        ) from None


def start_worker(model_dir: str, parent: int, gazetteer: str | None = None) -> None:
    """Pool initializer: tie the worker's life to the parent's, drop the parent's output lock
    (closing a copy never releases it; holding one would keep it past the parent), then load
    the model once."""
    from csvnlp.tag_parts import HELD_LOCK_FDS

    die_with_parent(parent)
    for fd in list(HELD_LOCK_FDS):
        try:
            os.close(fd)
        except OSError:
            pass
    HELD_LOCK_FDS.clear()
    cached_bundle(model_dir, gazetteer)


def die_with_parent(parent: int) -> None:
    """End this worker process when ``parent`` ends, whatever ends it (issue 19, item 15): a
    SIGTERM or SIGKILL of the parent gives its workers no chance to be told, and a forked
    worker never sees its task pipe close (its siblings hold the same pipe open), so without
    this each would wait forever with the model in memory. Linux's PR_SET_PDEATHSIG has the
    kernel send SIGKILL the moment the parent dies; a thread that checks the parent pid once
    a second covers systems without it."""
    import ctypes
    import signal
    import threading
    import time

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the thread below does it
        pass
    if os.getppid() != parent:  # the parent died before the kernel was told
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="csvnlp-parent-watch", daemon=True).start()


def _finish(item: tuple[Chunk, ChunkSpan, Future[Any] | None], store: PartStore, progress: Callable[[Chunk], None]) -> None:
    chunk, span, future = item
    if future is not None:
        store.write(span, future.result())
    progress(chunk)


def _run_dask(chunks: Iterator[tuple[Chunk, ChunkSpan, bool]], store: PartStore, options: Any, model_dir: Path,
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
    client = _connect(options.scheduler) if options.scheduler else None  # a wrong address fails before any staging
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
        if client is not None:
            client.close()
        return
    cluster = None
    if client is None:
        cluster = LocalCluster(n_workers=max(options.jobs, 1), threads_per_worker=1, dashboard_address=None, processes=True)
        client = Client(cluster)
    try:
        frame = dd.read_parquet([str(staging / f"chunk-{s.index:07d}.parquet") for s in todo], split_row_groups=False)
        tagged = frame.map_partitions(_tag_frame, str(model_dir), options.entities, options.gazetteer, meta=_output_meta(options.keep_columns))
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


def _connect(address: str) -> Any:
    from distributed import Client

    try:
        return Client(address, timeout="10s")
    except Exception as exc:  # distributed raises OSError, ValueError, TimeoutError... for a bad address
        raise SchedulerError(
            f"cannot reach a Dask scheduler at {address!r} ({type(exc).__name__}: {exc}); give the address of a running "
            "scheduler (--scheduler tcp://HOST:8786), or leave --scheduler out to start a local cluster"
        ) from None


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


def _tag_frame(frame: Any, model_dir: str, entities: bool, gazetteer: str | None = None) -> Any:
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
    return pd.DataFrame(tag_chunk(model_dir, chunk, entities, gazetteer))


def _output_meta(keep_columns: Sequence[str]) -> Any:
    import pandas as pd

    columns = {name: pd.Series(dtype="float64" if name.startswith("p_") else "object") for name in OUTPUT_COLUMNS}
    columns.update({name: pd.Series(dtype="object") for name in keep_columns})
    columns[ROW_COLUMN] = pd.Series(dtype="int64")
    columns[LINE_COLUMN] = pd.Series(dtype="int64")
    return pd.DataFrame(columns)
