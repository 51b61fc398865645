"""`csvnlp corpus build|validate|import`: the annotated corpus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from csvnlp.cli._util import corpus_app, fail, run
from csvnlp.errors import ExitStatus


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
    from csvnlp.corpus_build import build_corpus_files
    from csvnlp.real_records import ENTITY_TEST_FILE, ENTITY_TRAIN_FILE, TEST_FILE, TRAIN_FILE

    built = run(lambda: build_corpus_files(corpus_dir, out, check=check))
    if check:
        if not built.current:
            fail(f"{built.target} is out of date with the report; run `csvnlp corpus build`", ExitStatus.INVALID_CORPUS)
        typer.echo(f"{built.target} is up to date ({len(built.records)} cases)")
        return
    entities = sum(len(r["entities"]) for r in built.records)
    typer.echo(f"wrote {built.target}: {len(built.records)} cases, levels {built.level_counts()}, {entities} entity spans")
    splits = built.splits
    if splits:
        typer.echo(f"wrote {corpus_dir / TRAIN_FILE} ({splits['train']} real records) and the frozen "
                   f"test split {corpus_dir / TEST_FILE} ({splits['test']})")
    if splits.get("entity_train"):
        typer.echo(f"wrote {corpus_dir / ENTITY_TRAIN_FILE} ({splits['entity_train']} names-only records) and the "
                   f"frozen entity test part {corpus_dir / ENTITY_TEST_FILE} ({splits.get('entity_test', 0)})")


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
    from csvnlp.corpus_import import import_file

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


