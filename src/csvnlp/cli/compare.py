"""`csvnlp compare`: should model B replace model A?"""

from __future__ import annotations

from pathlib import Path
from typing import List

import typer

from csvnlp.cli._util import JOBS_OPTION, app, echo_json, run


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
    from csvnlp.evaluation import compare_models, to_jsonable

    result = run(lambda: compare_models(model_a, model_b, test_sets, cv=cv, corpus=corpus, repeats=repeats, n_jobs=jobs))
    if as_json:
        echo_json(to_jsonable(result))
        return
    typer.echo(f"A {model_a} ({result.models[0]['cases']} training cases)   B {model_b} ({result.models[1]['cases']} training cases)")
    typer.echo(f"scored on {result.cases} cases: {result.source}")
    rows = [(label, result.paired[name]) for name, label in (("macro_f1", "macro-F1"), ("micro_f1", "micro-F1"), ("subset_accuracy", "subset accuracy"),
                                                             ("hamming_loss", "Hamming loss (lower is better)"))]
    rows += [(f"  F1 {key}", score) for key, score in result.paired["per_level_f1"].items()]
    for label, score in rows:
        d = score.delta
        typer.echo(f"{label:<31} A {score.a:.3f}   B {score.b:.3f}   B-A {d.value:+.3f} [{d.low:+.3f}, {d.high:+.3f}]")
    if result.uncertain_share:
        ua, ub = result.uncertain_share
        typer.echo(f"uncertain share                 A {ua:.1%}   B {ub:.1%}")
    typer.echo(f"verdict (macro-F1): {result.verdict}")
