"""`csvnlp serve`: the local web application (``csvnlp.serve``)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from csvnlp.cli._util import MODEL_OPTION, app, run


@app.command()
def serve(
    model: Optional[Path] = MODEL_OPTION,
    data: List[Path] = typer.Option([], "--data", help="A `csvnlp tag` output (CSV, JSONL or Parquet) to explore and review (repeatable). Only these files are served."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; anything but the loopback address needs --token."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    token: Optional[str] = typer.Option(None, "--token", envvar="CSVNLP_SERVE_TOKEN", show_envvar=False, help="Access token every request must carry (default: $CSVNLP_SERVE_TOKEN); required with a non-loopback --host."),
    corpus: Path = typer.Option(Path("corpus"), "--corpus", help="Corpus that review decisions go to: CORPUS/review/NAME.decisions.jsonl and CORPUS/extra/review-NAME.jsonl."),
    text_columns: List[str] = typer.Option([], "--text-column", "-t", help="Kept column(s) of --data holding the text (default: the kept column with the longest values)."),
) -> None:
    """A local web page: classify a submission (paste, or upload PDF/DOCX/text), explore a
    tagged database (filters, level shares by any column, amount sums, download), and review
    and correct levels into the corpus that `csvnlp train` reads.

    Example, from the repository root:

      csvnlp serve --data examples/esif-england/tagged.csv
    """
    from csvnlp.serve import ServeConfig, run as run_server

    config = ServeConfig(model=model, data=list(data), host=host, port=port, token=token, corpus=corpus, text_columns=list(text_columns))
    run(lambda: run_server(config, announce=lambda line: typer.echo(line, err=True)))
