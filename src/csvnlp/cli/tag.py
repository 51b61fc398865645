"""`csvnlp tag`: a funding database export or a folder of documents, row by row."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import List, Optional

import typer

from csvnlp.cli._util import ID_COLUMN_OPTION, GAZETTEER_OPTION, MODEL_OPTION, SEP_OPTION, app, echo_json, fail, run
from csvnlp.errors import ExitStatus


@app.command()
def tag(
    input_path: Optional[Path] = typer.Argument(None, metavar="INPUT", help="Table to tag: .csv/.tsv (any delimiter, optionally .gz), .jsonl (optionally .gz) or .parquet; or a folder of documents (PDF, DOCX, text), one row per file."),
    out: Path = typer.Option(..., "--out", "-o", help="Output table; its format follows its extension (.csv, .csv.gz, .jsonl, .parquet)."),
    # issue 13: a folder needs no text column, so -t is checked below (tables only) rather than required here
    text_columns: List[str] = typer.Option([], "--text-column", "-t", help="Column holding the description (tables only); repeat to join several (e.g. title + objective)."),
    files_glob: Optional[str] = typer.Option(None, "--files", help="Tag the documents matching this glob instead of INPUT, e.g. 'subs/**/*.pdf' (quote it); ids are paths relative to its fixed leading folder."),
    id_column: Optional[str] = ID_COLUMN_OPTION,
    keep_columns: List[str] = typer.Option([], "--keep-columns", "-k", help="Input column to carry into the output (repeatable)."),
    model: Optional[Path] = MODEL_OPTION,
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Worker processes (each loads the model once); with --engine dask, local workers."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1, help="Rows per chunk; memory stays flat whatever the input size (default: 4000 table rows, 16 documents)."),
    resume: bool = typer.Option(False, "--resume", help="Continue a killed run from its finished chunks (same input, model and options)."),
    engine: str = typer.Option("local", "--engine", help="'local' (this machine) or 'dask' (a Dask cluster)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: start a LocalCluster)."),
    no_entities: bool = typer.Option(False, "--no-entities", help="Skip cluster/programme extraction (faster)."),
    gazetteer: Optional[Path] = GAZETTEER_OPTION,
    sep: Optional[str] = SEP_OPTION,
    force: bool = typer.Option(False, "--force", help="Replace an existing output file."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    as_json: bool = typer.Option(False, "--json", help="Print the end-of-run summary as JSON."),
) -> None:
    """Tag every row of a funding database export with CSV levels and entity names.

    Streams in chunks, in parallel, and can resume after a kill. One output row per input
    row, in input order, with columns: id, status (ok / uncertain / unsupported_language /
    error), predicted (level keys joined by ';'), p_products_markets, p_value_chain,
    p_cluster_development, clusters, programmes (distinct names joined by ';'), programme_ids
    (the canonical ids of those programmes, e.g. h2020, erdf, uk-bbo, joined by ';'), language (the
    detected ISO 639-1 code), error (the reason for status=error), then any --keep-columns.
    Every input record is one output row: records that cannot be
    tagged (malformed, unterminated quote, NUL byte, not UTF-8, bad JSON line, empty text)
    are error rows, also listed in OUTPUT.errors.jsonl (record number, input line, id,
    reason), and the records after them are still tagged. The CSV delimiter is read from the
    header line unless --sep gives it. An empty input gives an empty output with its header.

    Example (a CORDIS export, ';'-separated, with multi-line objectives):

      csvnlp tag projects.csv --out tagged.csv -t title -t objective --id-column id -k acronym

    A folder of call submissions (PDF, DOCX, text; one row per file, id = its relative path;
    a scan, a password-protected or a corrupt file is an error row):

      csvnlp tag submissions/ --out tagged.csv --jobs 2

    Each row's language is detected; a text the model cannot read (not English) gets
    status=unsupported_language and its code in the language column, never a level.
    """
    from csvnlp.persistence import default_model_dir
    from csvnlp.tagging import TABLE_ROWS_PER_CHUNK, TagOptions, tag_table

    if engine not in ("local", "dask"):
        fail(f"--engine must be 'local' or 'dask', not {engine!r}", ExitStatus.USAGE)
    # issue 13: INPUT may be a folder, or --files GLOB replaces it
    from csvnlp.folders import DOCUMENTS_PER_CHUNK, glob_root

    if files_glob is not None:
        if input_path is not None:
            fail("give INPUT or --files GLOB, not both", ExitStatus.USAGE)
        input_path = glob_root(files_glob)
    if input_path is None:
        fail("nothing to tag: give a table, a folder, or --files GLOB (see --help)", ExitStatus.USAGE)
    documents = files_glob is not None or input_path.is_dir()
    if not documents and not text_columns:
        fail("a table needs --text-column/-t NAME: the column holding the description", ExitStatus.USAGE)
    if documents and (id_column or keep_columns or text_columns):
        fail("--text-column, --id-column and --keep-columns are for tables; a folder's rows are its files (id = relative path)", ExitStatus.USAGE)
    batch_size = batch_size or (DOCUMENTS_PER_CHUNK if documents else TABLE_ROWS_PER_CHUNK)
    options = TagOptions(
        text_columns=list(text_columns), id_column=id_column, keep_columns=list(keep_columns),
        batch_size=batch_size, jobs=jobs, entities=not no_entities, sep=sep, engine=engine,
        scheduler=scheduler, resume=resume, force=force, files_glob=files_glob,
        gazetteer=str(gazetteer.resolve()) if gazetteer is not None else None,
    )
    if gazetteer is not None:  # a bad file is one clear error before any row is read
        from csvnlp.entities import read_gazetteer

        run(lambda: read_gazetteer(gazetteer))
    show = not quiet and sys.stderr.isatty()
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = [
        TextColumn("tagging"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[rows]:,} rows  {task.fields[rate]:,.0f} rows/s"),
        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
    ]
    started = time.perf_counter()
    with Progress(*columns, console=Console(stderr=True), disable=not show) as progress:
        task = progress.add_task("tag", total=None, rows=0, rate=0.0)

        def on_progress(rows: int, position: int, total: int) -> None:
            rate = rows / max(time.perf_counter() - started, 1e-9)
            progress.update(task, completed=position, total=total, rows=rows, rate=rate)

        summary = run(lambda: tag_table(input_path, out, options, model or default_model_dir(), on_progress))
    if as_json:
        echo_json(summary.as_dict())
        return
    typer.echo(
        f"tagged {summary.rows:,} rows into {summary.output} in {summary.elapsed_s:.1f} s ({summary.rows_per_s:,.0f} rows/s): "
        f"{summary.tagged:,} with a level, {summary.uncertain:,} uncertain, "
        f"{summary.unsupported_language:,} unsupported language, {summary.errors:,} errors"  # issue 13
        + (f" (listed in {summary.errors_file})" if summary.errors else "")
    )
    if summary.languages:  # issue 13: rows per detected language
        typer.echo("languages: " + ", ".join(f"{k} {v:,}" for k, v in sorted(summary.languages.items(), key=lambda kv: -kv[1])))
    typer.echo("levels: " + ", ".join(f"{k} {v:,}" for k, v in summary.level_counts.items()))
    if summary.resumed_chunks or summary.redone_chunks:
        typer.echo(f"resumed: {summary.resumed_chunks} chunk(s) were already done"
                   + (f"; {summary.redone_chunks} missing or corrupt part(s) redone" if summary.redone_chunks else ""))


