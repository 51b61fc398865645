"""`csvnlp suggest` and `csvnlp annotate`: choosing and labelling the next records."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from csvnlp.cli._util import ID_COLUMN_OPTION, MODEL_OPTION, SEP_OPTION, TEXT_COLUMNS_OPTION, app, run
from csvnlp.levels import LEVEL_KEYS


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
    from csvnlp.annotation import suggest_to_file

    items = run(lambda: suggest_to_file(input_path, out, text_columns, id_column, n, model, corpus, sep=sep, force=force))
    spread = {key: sum(1 for i in items if i["closest_level"] == key) for key in LEVEL_KEYS}
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


