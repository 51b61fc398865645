"""The ``csvnlp`` command line: a thin Typer layer over the library.

Heavy libraries (spaCy, scikit-learn, pandas) are imported inside the commands, so
``--help`` and shell completion stay fast. Library errors (``csvnlp.errors``) become one
line on stderr and a documented exit status (``ExitStatus``); data goes to stdout.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, List, Optional

import typer

from csvnlp.errors import CsvnlpError, ExitStatus

EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 unexpected error; 2 usage; 3 bad input (empty, binary, undecodable, "
    "unreadable, malformed); 4 bad model (missing, corrupt, old format, holds a pickle); "
    "5 invalid corpus; 6 output exists (use --force); 7 a tagging run is incomplete (rerun with --resume); "
    "8 PDF with no text layer (run OCR first); 9 password-protected PDF/DOCX; 130 interrupted."
)

app = typer.Typer(
    name="csvnlp",
    help=(
        "Label project descriptions with their Creating Shared Value (CSV) level(s) "
        "(Porter & Kramer 2011: products_markets, value_chain, cluster_development) and "
        "extract the CLUSTER organisations and funding PROGRAMMEs they name.\n\n" + EXIT_CODES_HELP
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
corpus_app = typer.Typer(help="Build and check the annotated corpus.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")


def fail(message: str, status: ExitStatus) -> None:
    typer.echo(f"csvnlp: error: {message}", err=True)
    raise typer.Exit(int(status))


def run(action: Callable[[], Any]) -> Any:
    """Run a library call, turning typed errors into one stderr line and an exit status."""
    try:
        return action()
    except CsvnlpError as exc:
        fail(str(exc), exc.exit_status)
    except KeyboardInterrupt:
        fail("interrupted", ExitStatus.INTERRUPTED)


# Options several commands share, declared once so their names and help stay in step.
MODEL_OPTION = typer.Option(None, "--model", help="Model directory (default: $CSVNLP_MODEL if set, else the model packaged with csvnlp).")
JOBS_OPTION = typer.Option(2, "--jobs", "-j", min=1, help="Processes for cross-validation folds.")
TEXT_COLUMNS_OPTION = typer.Option(..., "--text-column", "-t", help="Column holding the description; repeat to join several (e.g. title + objective).")
ID_COLUMN_OPTION = typer.Option(None, "--id-column", help="Column to use as the row id (default: the row number).")
SEP_OPTION = typer.Option(None, "--sep", help="CSV delimiter (default: the one the header line uses most of , TAB ; |).")


# ---------------------------------------------------------------------------- corpus


@corpus_app.command("build")
def corpus_build(
    corpus_dir: Path = typer.Option(Path("corpus"), "--corpus-dir", help="Holds source/ (the report), table1.csv and entity_annotations.json."),
    out: Optional[Path] = typer.Option(None, "--out", help="Where to write the records (default: CORPUS_DIR/cases.jsonl)."),
    check: bool = typer.Option(False, "--check", help="Do not write; exit 5 if the file on disk differs from a fresh build."),
) -> None:
    """Extract the 27 cases of section 4.3 from the report, attach Table 1's labels and the
    entity annotations, and write corpus/cases.jsonl (byte-identical on every build). When
    corpus/real/records.jsonl exists, also write its training part (corpus/extra/real-train.jsonl)
    and its frozen test split (corpus/external_test/real-test.jsonl)."""
    from csvnlp.corpus import CASES_FILE, build_corpus, dump_jsonl, write_text_atomically

    target = out or corpus_dir / CASES_FILE
    records = run(lambda: build_corpus(corpus_dir))
    content = dump_jsonl(records)
    if check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != content:
            fail(f"{target} is out of date with the report; run `csvnlp corpus build`", ExitStatus.INVALID_CORPUS)
        typer.echo(f"{target} is up to date ({len(records)} cases)")
        return
    write_text_atomically(target, content)
    counts = {key: sum(key in r["levels"] for r in records) for key in ("products_markets", "value_chain", "cluster_development")}
    entities = sum(len(r["entities"]) for r in records)
    typer.echo(f"wrote {target}: {len(records)} cases, levels {counts}, {entities} entity spans")
    if out is None:
        from csvnlp.real_records import TEST_FILE, TRAIN_FILE, build_real_splits

        split_counts = run(lambda: build_real_splits(corpus_dir))
        if split_counts:
            typer.echo(f"wrote {corpus_dir / TRAIN_FILE} ({split_counts['train']} real records) and the frozen "
                       f"test split {corpus_dir / TEST_FILE} ({split_counts['test']})")
        if split_counts.get("entity_train"):
            from csvnlp.real_records import ENTITY_TEST_FILE, ENTITY_TRAIN_FILE

            typer.echo(f"wrote {corpus_dir / ENTITY_TRAIN_FILE} ({split_counts['entity_train']} names-only records) and the "
                       f"frozen entity test part {corpus_dir / ENTITY_TEST_FILE} ({split_counts.get('entity_test', 0)})")


@corpus_app.command("validate")
def corpus_validate(
    paths: List[Path] = typer.Argument(..., help="Corpus files: JSONL (one record a line) or CSV with columns id,text,levels (levels joined by ';')."),
    as_json: bool = typer.Option(False, "--json", help="Print the problems as JSON."),
) -> None:
    """Check corpus files: required fields, known level keys, entity offsets inside the text
    and on token boundaries, no overlapping spans, unique ids and texts. Each problem is
    reported with its line number; exit 0 when valid, 5 otherwise."""
    from csvnlp.corpus import validate_file

    report = {}
    for path in paths:
        problems = run(lambda p=path: validate_file(p))
        report[str(path)] = problems
    total = sum(len(p) for p in report.values())
    if as_json:
        typer.echo(json.dumps({path: [{"line": p.line, "message": p.message} for p in problems] for path, problems in report.items()}, indent=2))
    else:
        for path, problems in report.items():
            for problem in problems:
                typer.echo(f"{path}:{problem.line}: {problem.message}", err=True)
            if not problems:
                typer.echo(f"{path}: valid")
    if total:
        if not as_json:
            typer.echo(f"{total} problem(s) found", err=True)
        raise typer.Exit(int(ExitStatus.INVALID_CORPUS))


# ---------------------------------------------------------------------------- train


@app.command()
def train(
    corpus: List[Path] = typer.Option([Path("corpus")], "--corpus", help="Corpus directories or files (JSONL/CSV); a directory contributes cases.jsonl and extra/*. Repeatable."),
    out: Path = typer.Option(..., "--out", help="Directory for the new model bundle, e.g. models/my-model."),
    force: bool = typer.Option(False, "--force", help="Replace an existing model at --out."),
    seed: int = typer.Option(13, "--seed", help="Random seed; the same corpus and seed give the same model."),
    jobs: int = JOBS_OPTION,
    recognizer: bool = typer.Option(True, "--recognizer/--no-recognizer", help="Train the spaCy entity recognizer (a few minutes on the shipped corpus); --no-recognizer keeps entities to rules, learned phrases and gazetteers."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Train a model from the corpus (corpus/ plus corpus/extra/).

    Chooses settings and thresholds by stratified cross-validation, fits the level model,
    and trains the entity recognizer (a spaCy ner on spacy.blank("en")) on every annotated
    span, including the names-only records of corpus/entities/ and the gazetteers of
    corpus/gazetteers/; how its spans combine with the rules is measured on held-out training
    records. Writes the model atomically (plain npz/JSON/msgpack files, no pickle); records
    marked "split": "test" are left out. An existing model is replaced only with --force, and
    then kept as DIR.previous."""
    from rich.progress import Progress

    from csvnlp.corpus import load_corpus, split_records
    from csvnlp.training import prototypes_for, train_to_directory

    from csvnlp.real_records import entity_training_records, gazetteer_entries

    records, held_out = split_records(run(lambda: load_corpus(corpus)))
    prototypes = prototypes_for(corpus)
    entity_records, gazetteer = entity_training_records(corpus), gazetteer_entries(corpus)
    with Progress(transient=True, disable=as_json or not sys.stderr.isatty()) as progress:
        task = progress.add_task("cross-validating settings", total=None)
        bundle = run(
            lambda: train_to_directory(
                records, prototypes, out, force=force, seed=seed, n_jobs=jobs,
                entity_records=entity_records, gazetteer=gazetteer, recognizer=recognizer,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        )
    meta = bundle.meta
    summary = {
        "model": str(out),
        "cases": meta["corpus"]["cases"],
        "test_split_left_out": len(held_out),
        "level_counts": meta["corpus"]["level_counts"],
        "hyperparameters": meta["hyperparameters"],
        "thresholds": meta["thresholds"],
        "cv_macro_f1": meta["cross_validation"]["macro_f1"],
        "cv_per_level_f1": meta["cross_validation"]["per_level_f1"],
        "keyword_rule_macro_f1": meta["cross_validation"]["keyword_rule_macro_f1"],
        "entities": meta.get("entities"),
    }
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    typer.echo(f"trained {out} on {summary['cases']} cases {summary['level_counts']}"
               + (f"; {len(held_out)} test-split records left out" if held_out else ""))
    typer.echo(f"settings {summary['hyperparameters']}, thresholds {summary['thresholds']}")
    typer.echo(f"cross-validated macro-F1 {summary['cv_macro_f1']:.3f} (keyword rule {summary['keyword_rule_macro_f1']:.3f}); per level {summary['cv_per_level_f1']}")


# ---------------------------------------------------------------------------- classify


@app.command()
def classify(
    text: Optional[str] = typer.Argument(None, help="A project description, or '-' to read one from standard input."),
    files: List[Path] = typer.Option([], "--file", "-f", help="Read a description from a PDF, Word (.docx), UTF-8 text or Markdown file, recognised by content, up to 20 MiB (repeatable; one result per file)."),
    model: Optional[Path] = MODEL_OPTION,
    as_json: bool = typer.Option(False, "--json", help="One JSON object per input (JSON Lines) with keys levels, predicted, status, entities, explanation."),
    top_terms: int = typer.Option(5, "--top-terms", min=0, help="How many terms explain each level."),
    no_entities: bool = typer.Option(False, "--no-entities", help="Skip cluster/programme extraction."),
) -> None:
    """Classify call submissions or project descriptions.

    Prints, per input, the probability of each CSV level, the predicted level(s) or
    'uncertain' (not enough evidence of shared value), the clusters and programmes named, and
    the terms that drove each level.

    Examples:

      csvnlp classify "Clusters coach SMEs with innovation vouchers to build new value chains."

      csvnlp classify --file submission.txt --json

      cat submission.txt | csvnlp classify - --json
    """
    # issue 13: files and standard input may be PDF or DOCX (sniffed by content, documents.py);
    # each text's language is checked before the model sees it (language.py), and a document
    # with sections reports which of them drove its levels (sections.py).
    from csvnlp.documents import MAX_DOCUMENT_BYTES, Document, document_from_bytes, read_document
    from csvnlp.inputs import checked_text

    inputs: list[tuple[str, Document]] = []
    if text == "-":  # one byte over the limit is enough to refuse an over-size input
        inputs.append(("<stdin>", run(lambda: document_from_bytes(sys.stdin.buffer.read(MAX_DOCUMENT_BYTES + 1), "standard input"))))
    elif text is not None:
        inputs.append(("<argument>", Document("the text argument", "text", run(lambda: checked_text(text, "the text argument")))))
    for path in files:
        inputs.append((str(path), run(lambda p=path: read_document(p))))
    if not inputs:
        fail("nothing to classify: give TEXT, --file PATH or '-' for standard input (see --help)", ExitStatus.BAD_INPUT)

    from csvnlp.language import classify_in_supported_languages
    from csvnlp.persistence import load_bundle
    from csvnlp.sections import section_report

    bundle = run(lambda: load_bundle(model))
    results = classify_in_supported_languages(bundle, [d.text for _, d in inputs], entities=not no_entities, explain=top_terms)
    for (source, document), result in zip(inputs, results):
        if document.kind != "text" or document.sections:
            result["document"] = {"kind": document.kind, "pages": document.pages, "chars": len(document.text), "sections": len(document.sections)}
        report = section_report(bundle, document, result)
        if report:
            result.update(report)
        if as_json:
            result = {"source": source, **result}
            result.setdefault("explanation", {})
            typer.echo(json.dumps(result, ensure_ascii=False))
        else:
            _print_result(source, result, show_source=len(inputs) > 1)


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
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1, help="Rows per chunk; memory stays flat whatever the input size (default: 1000 table rows, 16 documents)."),
    resume: bool = typer.Option(False, "--resume", help="Continue a killed run from its finished chunks (same input, model and options)."),
    engine: str = typer.Option("local", "--engine", help="'local' (this machine) or 'dask' (a Dask cluster)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: start a LocalCluster)."),
    no_entities: bool = typer.Option(False, "--no-entities", help="Skip cluster/programme extraction (faster)."),
    sep: Optional[str] = SEP_OPTION,
    force: bool = typer.Option(False, "--force", help="Replace an existing output file."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    as_json: bool = typer.Option(False, "--json", help="Print the end-of-run summary as JSON."),
) -> None:
    """Tag every row of a funding database export with CSV levels and entity names.

    Streams in chunks, in parallel, and can resume after a kill. One output row per input
    row, in input order, with columns: id, status (ok / uncertain / unsupported_language /
    error), predicted (level keys joined by ';'), p_products_markets, p_value_chain,
    p_cluster_development, clusters, programmes (distinct names joined by ';'), language (the
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
    from csvnlp.tagging import TagOptions, tag_table

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
    batch_size = batch_size or (DOCUMENTS_PER_CHUNK if documents else 1000)
    options = TagOptions(
        text_columns=list(text_columns), id_column=id_column, keep_columns=list(keep_columns),
        batch_size=batch_size, jobs=jobs, entities=not no_entities, sep=sep, engine=engine,
        scheduler=scheduler, resume=resume, force=force, files_glob=files_glob,
    )
    show = not quiet and sys.stderr.isatty()
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = [
        TextColumn("tagging"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[rows]:,} rows  {task.fields[rate]:,.0f} rows/s"),
        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
    ]
    started = __import__("time").perf_counter()
    with Progress(*columns, console=Console(stderr=True), disable=not show) as progress:
        task = progress.add_task("tag", total=None, rows=0, rate=0.0)

        def on_progress(rows: int, position: int, total: int) -> None:
            rate = rows / max(__import__("time").perf_counter() - started, 1e-9)
            progress.update(task, completed=position, total=total, rows=rows, rate=rate)

        summary = run(lambda: tag_table(input_path, out, options, model or default_model_dir(), on_progress))
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), indent=2))
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


@app.command()
def evaluate(
    out: Path = typer.Option(..., "--out", help="Directory for report.md (+ figures/), report.html and metrics.json."),
    corpus: List[Path] = typer.Option([Path("corpus/cases.jsonl")], "--corpus", help="Corpus directories or files for the cross-validation view (repeatable; default: the report's 27 cases). Cross-validating a large corpus is slow."),
    external_test: Path = typer.Option(Path("corpus/external_test"), "--external-test", help="The frozen external test split (a directory or a file in the corpus format): the headline, scored with the model as it is."),
    entity_test: Path = typer.Option(Path("corpus/entity_test"), "--entity-test", help="Names-only records of the frozen entity test split (a directory or a JSONL file); scored with the external test split's spans."),
    training_corpus: Path = typer.Option(Path("corpus"), "--training-corpus", help="The corpus the model was trained on: the prior baseline is fitted on its labels."),
    model: Optional[Path] = typer.Option(None, "--model", help="Model whose settings are evaluated (default: $CSVNLP_MODEL, else the packaged model)."),
    test_sets: List[Path] = typer.Option([], "--test-set", help="A labelled file in the corpus format (JSONL or CSV id,text,levels), scored with the model as it is (repeatable)."),
    repeats: int = typer.Option(10, "--repeats", min=1, help="Cross-validation repeats."),
    permutations: int = typer.Option(100, "--permutations", min=0, help="Label permutations for the significance test."),
    no_external: bool = typer.Option(False, "--no-external", help="Skip the ERC/MSCA abstention and ERDF/ESF stability checks."),
    nested: bool = typer.Option(True, "--nested/--no-nested", help="Choose the settings inside each training fold too (nested CV); --no-nested reuses the model's settings (faster, slightly optimistic)."),
    update_card: bool = typer.Option(True, "--update-card/--no-update-card", help="Refresh the model card (MODEL/README.md) from these metrics."),
    force: bool = typer.Option(False, "--force", help="Replace an existing report in --out."),
    jobs: int = JOBS_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the headline figures as JSON."),
) -> None:
    """Write an evaluation report a policy analyst and an ML engineer can both check.

    Headline: the model as shipped on the frozen external test split of annotated real
    records (corpus/external_test/): macro-F1 and per-level F1 on the clear rows with
    case-bootstrap intervals, abstention on records annotated none and coverage of CSV
    records, beside the keyword rule and the prior on the same rows, per source, the targets
    met or missed, and entity precision/recall on the same records.

    Second view: repeated iterative-stratified k-fold on the report's cases (plus
    leave-one-out), everything learned fitted on training folds only; baselines in the same
    folds; a permutation test; per-level metrics, confusion, reliability, threshold sweep,
    learning curve; entity precision/recall; every misclassified case; the ERC/MSCA abstention
    check and the level distribution over ERDF/ESF operations (when ../shared/data is present).
    """
    from csvnlp.corpus import load_corpus, split_records
    from csvnlp.errors import OutputExistsError
    from csvnlp.evaluation import evaluate_model
    from csvnlp.persistence import load_bundle, refresh_model_card
    from csvnlp.reporting import write_report
    from csvnlp.training import prototypes_for

    if (out / "metrics.json").exists() and not force:
        fail(f"{out} already holds a report; pass --force to replace it", OutputExistsError.exit_status)
    records, frozen = split_records(run(lambda: load_corpus(corpus)))
    tests = {str(path): run(lambda p=path: load_corpus([p])) for path in test_sets}
    frozen = frozen + (run(lambda: load_corpus([external_test])) if external_test.exists() else [])
    from csvnlp.real_records import ENTITY_TEST_FILE, read_jsonl_records

    entity_split = read_jsonl_records(entity_test / ENTITY_TEST_FILE.name if entity_test.is_dir() else entity_test)
    training_records = split_records(run(lambda: load_corpus([training_corpus])))[0] if training_corpus.exists() else records
    bundle = run(lambda: load_bundle(model))
    prototypes = prototypes_for(corpus)
    say = (lambda message: typer.echo(f"... {message}", err=True)) if not as_json else None
    evaluation = run(lambda: evaluate_model(records, prototypes, bundle, tests, repeats=repeats,
                                            permutations=permutations, external=not no_external, progress=say,
                                            nested=nested, n_jobs=jobs, frozen_split=frozen,
                                            training_records=training_records, entity_split=entity_split))
    paths = write_report(evaluation, bundle.meta, out)
    if update_card and bundle.path is not None:
        refresh_model_card(bundle, evaluation)
    headline = evaluation["cross_validation"]["headline"]
    external = evaluation.get("external_test")
    summary = {
        "report": {k: str(v) for k, v in paths.items()},
        "external_test": None if not external else {
            "records": external["records"], "clear_records": external["clear_records"],
            "clear": {name: {"macro_f1": view["macro_f1"], "abstention_on_none": view["abstention_on_none"]["value"],
                             "coverage_of_csv": view["coverage_of_csv"]["value"],
                             "level_f1": {k: v["f1"]["value"] for k, v in view["levels"].items()}}
                      for name, view in external["views"]["clear"].items() if name in ("model", "keyword rule", "prior")},
            "targets": external["targets"],
        },
        "macro_f1": {name: headline[name]["macro_f1"] for name in ("model", "keyword_rule", "prior")},
        "permutation_p_value": (evaluation["permutation_test"] or {}).get("p_value"),
        "entity_exact_f1": {label: evaluation["entities"]["exact"][label]["f1"] for label in ("CLUSTER", "PROGRAMME")},
        "abstention_uncertain_share": (evaluation.get("external") or {}).get("abstention", {}).get("uncertain_share"),
    }
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    m = summary["macro_f1"]
    typer.echo(f"wrote {paths['markdown']}, {paths['html']}, {paths['metrics']}")
    if external:
        typer.echo(f"frozen external test split, {external['clear_records']} clear rows:")
        for name, view in summary["external_test"]["clear"].items():
            f1 = view["macro_f1"]
            typer.echo(f"  macro-F1 {name:<13} {f1['value']:.3f} [{f1['low']:.3f}, {f1['high']:.3f}]  abstention on none "
                       f"{view['abstention_on_none']:.1%}  coverage {view['coverage_of_csv']:.1%}")
        missed = [t["target"] for t in external["targets"] if not t["met"]]
        typer.echo("  targets: " + ("all met" if not missed else "missed: " + ", ".join(missed)))
    typer.echo("cross-validation on the report's cases (second view):")
    for name in ("model", "keyword_rule", "prior"):
        typer.echo(f"macro-F1 {name:<13} {m[name]['mean']:.3f} [{m[name]['low']:.3f}, {m[name]['high']:.3f}]")
    typer.echo(f"permutation p-value {summary['permutation_p_value']}")


@corpus_app.command("import")
def corpus_import(
    path: Path = typer.Argument(..., help="Annotations to add: CSV or JSONL with id, text, levels (or an annotate decisions log)."),
    corpus_dir: Path = typer.Option(Path("corpus"), "--corpus-dir", help="The corpus to extend; the file goes to CORPUS_DIR/extra/."),
    name: Optional[str] = typer.Option(None, "--name", help="Name of the new file in extra/ (default: the input's name)."),
    id_column: str = typer.Option("id", "--id-column", help="Column holding the id."),
    text_column: str = typer.Option("text", "--text-column", help="Column holding the description."),
    levels_column: str = typer.Option("levels", "--levels-column", help="Column holding the level keys ('none' or empty = not CSV)."),
    levels_sep: str = typer.Option(";", "--levels-sep", help="Separator between level keys in a cell."),
    force: bool = typer.Option(False, "--force", help="Replace an existing extra/NAME.jsonl."),
) -> None:
    """Add annotated descriptions to corpus/extra/ after validating them like `corpus validate`.

    Texts already in the corpus with the same levels are reported and left out; the same text
    with other levels is a conflict and stops the import (nothing is written). Rows labelled
    'none' are kept as negative examples, so the model learns what is not CSV.
    """
    from csvnlp.corpus import import_file

    report = run(lambda: import_file(path, corpus_dir, name, id_column, text_column, levels_column, levels_sep, force))
    for problem in report.problems:
        typer.echo(f"{path}:{problem.line}: {problem.message}", err=True)
    for conflict in report.conflicts:
        typer.echo(f"{path}: conflict: {conflict}", err=True)
    for duplicate in report.duplicates:
        typer.echo(f"{path}: duplicate: {duplicate}", err=True)
    if report.problems or report.conflicts:
        fail(f"nothing imported: {len(report.problems)} problem(s), {len(report.conflicts)} conflict(s)", ExitStatus.INVALID_CORPUS)
    if report.target is None:
        fail("nothing imported: every record is already in the corpus", ExitStatus.INVALID_CORPUS)
    typer.echo(f"imported {report.imported} record(s) into {report.target}; {len(report.duplicates)} duplicate(s) left out")


@app.command()
def suggest(
    input_path: Path = typer.Argument(..., metavar="INPUT", help="Unlabelled descriptions: any table `csvnlp tag` reads."),
    out: Path = typer.Option(..., "--out", "-o", help="Annotation file to write (JSONL) for `csvnlp annotate`."),
    text_columns: List[str] = TEXT_COLUMNS_OPTION,
    id_column: Optional[str] = ID_COLUMN_OPTION,
    n: int = typer.Option(50, "--n", min=1, help="How many records to suggest."),
    model: Optional[Path] = MODEL_OPTION,
    corpus: List[Path] = typer.Option([Path("corpus")], "--corpus", help="Corpus whose texts suggestions must not duplicate."),
    sep: Optional[str] = SEP_OPTION,
    force: bool = typer.Option(False, "--force", help="Replace an existing annotation file (its decisions log is left as it is)."),
) -> None:
    """Pick the descriptions most worth annotating next.

    Those the model is least sure of, spread over the three levels, and no near-duplicates of
    each other or of the corpus; written with the model's suggestions pre-filled."""
    from csvnlp.annotation import check_annotation_target, suggest as pick, write_annotation_file
    from csvnlp.persistence import load_bundle
    from csvnlp.corpus import load_corpus
    from csvnlp.tables import TableReader
    from csvnlp.tagging import TagOptions

    run(lambda: check_annotation_target(out, force))
    reader = run(lambda: TableReader(input_path, TagOptions(text_columns=list(text_columns), id_column=id_column, sep=sep, batch_size=2000)))
    bundle = run(lambda: load_bundle(model))
    corpus_texts = [r["text"] for r in run(lambda: load_corpus(corpus))]
    items = run(lambda: pick(bundle, reader.chunks(), corpus_texts, n))
    write_annotation_file(items, out)
    spread = {key: sum(1 for i in items if i["closest_level"] == key) for key in ("products_markets", "value_chain", "cluster_development")}
    typer.echo(f"wrote {len(items)} suggestions to {out} (closest level: {spread}); label them with `csvnlp annotate {out}`")


@app.command()
def annotate(
    path: Path = typer.Argument(..., help="Annotation file from `csvnlp suggest` (or any JSONL with id and text)."),
) -> None:
    """Label descriptions in the terminal, one key per action.

    1/2/3 toggle products_markets / value_chain / cluster_development; enter or a accepts;
    n marks 'none' (not CSV: kept as a negative example); s skips; u undoes the last decision;
    q quits. Each decision is saved at once to PATH.decisions.jsonl; run the command again to
    continue where you stopped, then `csvnlp corpus import PATH.decisions.jsonl`.
    """
    import click
    from rich.console import Console

    from csvnlp.annotation import DecisionLog, annotate_loop, decisions_path, read_annotation_file

    items = run(lambda: read_annotation_file(path))
    log = DecisionLog(decisions_path(path))
    console = Console(highlight=False)

    def show(screen: str) -> None:
        console.print()
        console.print(screen)

    pending_keys: list[str] = []

    def getkey() -> str:
        # One key, no Enter, on a terminal (keys typed fast arrive together: hand them out one
        # by one); from a pipe (scripts, tests) one character at a time.
        if not sys.stdin.isatty():
            return sys.stdin.read(1)
        if not pending_keys:
            pending_keys.extend(click.getchar(echo=False) or "q")
        return pending_keys.pop(0)

    try:
        result = annotate_loop(items, log, getkey=getkey, show=show)
    except (KeyboardInterrupt, EOFError):
        result = None
    finally:
        log.close()
    standing = len(log.standing())
    typer.echo(f"{standing} of {len(items)} decided; saved in {log.path}" + ("" if result is None or not result.quit else " (quit: run again to continue)"))


@app.command()
def compare(
    model_a: Path = typer.Argument(..., help="The current model, e.g. models/csvnlp-base."),
    model_b: Path = typer.Argument(..., help="The candidate, e.g. a model trained with corpus/extra/."),
    test_sets: List[Path] = typer.Option([], "--test-set", help="Labelled file(s) (JSONL or CSV id,text,levels) to score both trained models on (default: the frozen external test split, corpus/external_test/ or records marked split=test)."),
    cv: bool = typer.Option(False, "--cv", help="Instead: refit both models' settings on the same CV folds of --corpus (their trained weights are not used)."),
    corpus: List[Path] = typer.Option([Path("corpus")], "--corpus", help="Corpus for --cv, and where the default test split is looked for."),
    repeats: int = typer.Option(5, "--repeats", min=1, help="CV repeats with --cv."),
    jobs: int = JOBS_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
) -> None:
    """Should B replace A? Score both trained models on the same labelled test set.

    Prints each model's macro-F1, micro-F1, subset accuracy, Hamming loss and per-level F1,
    B minus A with a paired bootstrap 95% interval (the same resampled cases for both), and a
    verdict. The test set is --test-set, else the frozen external split corpus/external_test/."""
    from csvnlp.corpus import load_corpus, split_records
    from csvnlp.evaluation import DEFAULT_TEST_SET_DIR, compare_by_cv, compare_on_test_set, verdict
    from csvnlp.persistence import load_bundle
    from csvnlp.training import prototypes_for

    bundles = [run(lambda p=p: load_bundle(p)) for p in (model_a, model_b)]
    if cv:
        records = split_records(run(lambda: load_corpus(corpus)))[0]
        result = run(lambda: _compare(compare_by_cv, bundles, records, prototypes_for(corpus), repeats=repeats, n_jobs=jobs))
        source = f"{repeats} x 4-fold CV of {', '.join(map(str, corpus))} (settings refitted, trained weights unused)"
    else:
        frozen_dir = corpus[0] / DEFAULT_TEST_SET_DIR if corpus else Path("corpus") / DEFAULT_TEST_SET_DIR
        if test_sets:
            records, where = run(lambda: load_corpus(test_sets)), ", ".join(map(str, test_sets))
        elif frozen_dir.is_dir():
            records, where = run(lambda: load_corpus([frozen_dir])), str(frozen_dir)
        else:
            present = [c for c in corpus if c.exists()]
            records = split_records(run(lambda: load_corpus(present)))[1] if present else []
            where = f"records marked split=test in {', '.join(map(str, present))}"
        if not records:
            fail(f"no test set: pass --test-set FILE (labelled, corpus format), or --cv to refit both models' settings on the "
                 f"corpus's folds; there is no frozen external test split yet ({frozen_dir}/ or records marked split=test)",
                 ExitStatus.USAGE)
        result = compare_on_test_set(bundles, records)
        source = f"{where}, trained weights as they are"
    result["models"] = [{"path": str(bundle.path), "name": bundle.meta.get("name"), "cases": bundle.meta["corpus"]["cases"]} for bundle in bundles]
    result["source"] = source
    paired = result["paired"]
    result["verdict"] = verdict(paired["macro_f1"]["delta"])
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(f"A {model_a} ({result['models'][0]['cases']} training cases)   B {model_b} ({result['models'][1]['cases']} training cases)")
    typer.echo(f"scored on {result['cases']} cases: {source}")
    for name, label in (("macro_f1", "macro-F1"), ("micro_f1", "micro-F1"), ("subset_accuracy", "subset accuracy"), ("hamming_loss", "Hamming loss (lower is better)")):
        m = paired[name]
        d = m["delta"]
        typer.echo(f"{label:<31} A {m['a']:.3f}   B {m['b']:.3f}   B-A {d['mean']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]")
    for key, m in paired["per_level_f1"].items():
        d = m["delta"]
        typer.echo(f"  F1 {key:<26} A {m['a']:.3f}   B {m['b']:.3f}   B-A {d['mean']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]")
    if "uncertain_share" in result:
        ua, ub = result["uncertain_share"]
        typer.echo(f"uncertain share                 A {ua:.1%}   B {ub:.1%}")
    typer.echo(f"verdict (macro-F1): {result['verdict']}")


def _compare(compare: Callable[..., Any], bundles: list[Any], records: list[Any], prototypes: Any, **options: Any) -> Any:
    """A CV comparison with its failures as typed errors: a corpus too small or too one-sided
    for the shared folds, or a model whose metadata lacks what the comparison reads."""
    from csvnlp.errors import CorpusError, ModelError

    try:
        return compare(bundles, records, prototypes, **options)
    except KeyError as exc:
        raise ModelError(f"cannot compare: a model's meta.json lacks {exc}; retrain it with `csvnlp train`") from None
    except ValueError as exc:
        raise CorpusError(f"cannot compare on this corpus ({len(records)} cases): {exc}; give a larger --corpus") from None


def _print_result(source: str, result: dict[str, Any], show_source: bool) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False)
    if show_source:
        console.print(f"[bold]{escape(source)}[/bold]")
    if result["status"] == "unsupported_language":  # issue 13
        console.print(f"status: [yellow]unsupported_language[/yellow] ({escape(result['language'])}): {escape(result['message'])}")
        console.print()
        return
    if result["status"] == "uncertain":
        console.print("status: [yellow]uncertain[/yellow] (too little evidence of a shared-value level)")
    else:
        console.print(f"status: [green]ok[/green]  predicted: [bold]{', '.join(result['predicted'])}[/bold]")
    for item in result["levels"]:
        mark = "*" if item["level"] in result["predicted"] else " "
        bar = "#" * round(item["probability"] * 20)
        console.print(f" {mark} {item['level']:<20} {item['probability']:.2f} {bar}")
    for level, terms in (result.get("explanation") or {}).items():
        if terms:
            console.print(f"   why {level}: " + escape(", ".join(t["term"] for t in terms)), soft_wrap=True)
    for label in ("CLUSTER", "PROGRAMME"):
        names = sorted({e["text"] for e in result["entities"] if e["label"] == label})
        if names:
            console.print(f" {label.lower()}s: " + escape("; ".join(names)))
    for level, headings in (result.get("drivers") or {}).items():  # issue 13: sections that drove the levels
        console.print(f" sections driving {level}: " + escape("; ".join(headings)), soft_wrap=True)
    console.print()


@app.command()
def serve(
    model: Optional[Path] = MODEL_OPTION,
    data: List[Path] = typer.Option([], "--data", help="A `csvnlp tag` output (CSV, JSONL or Parquet) to explore and review (repeatable). Only these files are served."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; anything but the loopback address needs --token."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    token: Optional[str] = typer.Option(None, "--token", envvar="CSVNLP_SERVE_TOKEN", help="Access token every request must carry (default: $CSVNLP_SERVE_TOKEN); required with a non-loopback --host.", show_envvar=False),
    corpus: Path = typer.Option(Path("corpus"), "--corpus", help="Corpus that review decisions go to: CORPUS/review/NAME.decisions.jsonl and CORPUS/extra/review-NAME.jsonl."),
    text_columns: List[str] = typer.Option([], "--text-column", "-t", help="Kept column(s) of --data holding the text (default: the kept column with the longest values)."),
) -> None:
    """A local web page: classify a submission (paste or upload PDF/DOCX/text), explore a
    tagged database (filters, charts by any column, download), review and correct levels.

    Example, from the repository root: csvnlp serve --data examples/esif-england/tagged.csv
    """
    from csvnlp.serve import ServeConfig, run as run_server

    config = ServeConfig(model=model, data=list(data), host=host, port=port, token=token, corpus=corpus, text_columns=list(text_columns))
    run(lambda: run_server(config, announce=lambda line: typer.echo(line, err=True)))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
