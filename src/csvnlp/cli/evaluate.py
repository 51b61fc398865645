"""`csvnlp evaluate`: the evaluation report."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from csvnlp.cli._util import JOBS_OPTION, app, echo_json, run


@app.command()
def evaluate(
    out: Path = typer.Option(..., "--out", help="Directory for report.md (+ figures/), report.html and metrics.json."),
    corpus: List[Path] = typer.Option([Path("corpus/cases.jsonl")], "--corpus", help="Corpus directories or files for the cross-validation view (repeatable; default: the report's 27 cases). Cross-validating a large corpus is slow."),
    frozen_split: Path = typer.Option(Path("corpus/external_test"), "--frozen-split", "--external-test", help="The frozen test split of annotated real records (a directory or a file in the corpus format): the headline, scored with the model as it is."),
    entity_split: Path = typer.Option(Path("corpus/real/entity_fresh2_records.jsonl"), "--entity-split", "--entity-test", help="The entity test split (a JSONL file of annotated records, or a directory holding entity-test.jsonl); default: the current one. The report names the split it scored and marks a spent split (corpus/entity_test, corpus/real/entity_fresh_records.jsonl) as development figures, not a test."),
    training_corpus: Path = typer.Option(Path("corpus"), "--training-corpus", help="The corpus the model was trained on: the prior baseline is fitted on its labels."),
    model: Optional[Path] = typer.Option(None, "--model", help="Model whose settings are evaluated (default: $CSVNLP_MODEL, else the packaged model)."),
    test_sets: List[Path] = typer.Option([], "--test-set", help="A labelled file in the corpus format (JSONL or CSV id,text,levels), scored with the model as it is (repeatable)."),
    repeats: int = typer.Option(10, "--repeats", min=1, help="Cross-validation repeats."),
    permutations: int = typer.Option(100, "--permutations", min=0, help="Label permutations for the significance test."),
    no_unlabelled: bool = typer.Option(False, "--no-unlabelled-checks", "--no-external", help="Skip the unlabelled checks (ERC/MSCA abstention, ERDF/ESF level spread, languages of the funding extracts)."),
    nested: bool = typer.Option(True, "--nested/--no-nested", help="Choose the settings inside each training fold too (nested CV); --no-nested reuses the model's settings (faster, slightly optimistic)."),
    leave_source_out: bool = typer.Option(True, "--leave-source-out/--no-leave-source-out", help="Also hold out each source family of the training records in turn (CORDIS H2020, FP7, Horizon Europe, water SME, ERDF/ESF per country, call topics, the report's cases), refitting the training recipe on the others: what to expect on a database csvnlp has not seen (several minutes)."),
    update_card: bool = typer.Option(True, "--update-card/--no-update-card", help="Refresh the model card (MODEL/README.md) from these metrics."),
    force: bool = typer.Option(False, "--force", help="Replace an existing report in --out."),
    jobs: int = JOBS_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the headline figures as JSON."),
) -> None:
    """Write an evaluation report a policy analyst and an ML engineer can both check.

    Headline: the model as shipped on the frozen test split of annotated real records
    (corpus/external_test/): macro-F1 and per-level F1 on the clear rows with
    case-bootstrap intervals, abstention on records annotated none and coverage of CSV
    records, beside the keyword rule and the prior on the same rows, per source, the targets
    met or missed, and entity precision/recall on the current entity test split (the report
    says which split it scored, and marks a spent one as such).

    Beside it, leave-one-source-out over the training records: each source family held out in
    turn, the training recipe refitted on the others, clear-row macro-F1, per level,
    abstention and coverage per held-out family beside the keyword rule on the same rows
    (--no-leave-source-out skips it).

    Second view: repeated iterative-stratified k-fold on the report's cases (plus
    leave-one-out), everything learned fitted on training folds only; baselines in the same
    folds; a permutation test; per-level metrics, confusion, reliability, threshold sweep,
    learning curve; entity precision/recall; every misclassified case. Unlabelled checks: the
    ERC/MSCA abstention and the level distribution over ERDF/ESF operations (when ../shared/data
    is present).
    """
    from csvnlp.evaluation import evaluate_to_directory, evaluation_summary

    say = (lambda message: typer.echo(f"... {message}", err=True)) if not as_json else None
    evaluation, paths = run(lambda: evaluate_to_directory(
        out, corpus, frozen_split, entity_split, training_corpus, model=model, test_sets=test_sets, repeats=repeats,
        permutations=permutations, unlabelled=not no_unlabelled, nested=nested, update_card=update_card, force=force,
        n_jobs=jobs, progress=say, leave_source_out=leave_source_out,
    ))
    summary = evaluation_summary(evaluation, paths)
    if as_json:
        echo_json(summary)
        return
    typer.echo(f"wrote {paths['markdown']}, {paths['html']}, {paths['metrics']}")
    frozen = evaluation.frozen_split
    if frozen:
        typer.echo(f"frozen test split, {frozen.clear_records} clear rows:")
        for name, scores in frozen.clear.systems.items():
            typer.echo(f"  macro-F1 {name:<13} {scores.macro_f1}  abstention on none {scores.abstention_on_none.value:.1%}  "
                       f"coverage {scores.coverage_of_csv.value:.1%}")
        missed = [t.target for t in frozen.targets if not t.met]
        typer.echo("  targets: " + ("all met" if not missed else "missed: " + ", ".join(missed)))
    for view in evaluation.views:
        summary_line = getattr(view, "summary", None)
        if summary_line and "macro_f1" in summary_line:
            strict = summary_line["macro_f1"]
            typer.echo(f"leave-one-source-out (training records, clear rows): mean macro-F1 over {strict['families_judged']} held-out "
                       f"families {strict['mean']}; {strict['families_met']} meet the issue-18 targets")
    typer.echo("cross-validation on the report's cases (second view):")
    for name, scores in evaluation.cross_validation.headline.items():
        typer.echo(f"macro-F1 {name:<13} {scores.macro_f1}")
    typer.echo(f"permutation p-value {summary['permutation_p_value']}")
