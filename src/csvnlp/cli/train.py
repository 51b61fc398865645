"""`csvnlp train`: a model from the corpus."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List

import typer

from csvnlp.cli._util import JOBS_OPTION, app, echo_json, run


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

    from csvnlp.training import train_from_corpus

    with Progress(transient=True, disable=as_json or not sys.stderr.isatty()) as progress:
        task = progress.add_task("cross-validating settings", total=None)
        trained = run(lambda: train_from_corpus(
            corpus, out, force=force, seed=seed, n_jobs=jobs, recognizer=recognizer,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        ))
    summary = trained.summary()
    if as_json:
        echo_json(summary)
        return
    held_out = summary["test_split_left_out"]
    typer.echo(f"trained {out} on {summary['cases']} cases {summary['level_counts']}"
               + (f"; {held_out} test-split records left out" if held_out else ""))
    typer.echo(f"settings {summary['hyperparameters']}, thresholds {summary['thresholds']}")
    typer.echo(f"cross-validated macro-F1 {summary['cv_macro_f1']:.3f} (keyword rule {summary['keyword_rule_macro_f1']:.3f}); per level {summary['cv_per_level_f1']}")
