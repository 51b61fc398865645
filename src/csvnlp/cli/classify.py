"""`csvnlp classify`: call submissions and project descriptions, one result each."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, List, Optional

import typer

from csvnlp.cli._util import MODEL_OPTION, app, fail, json_terminal_safe, run, terminal_safe
from csvnlp.errors import ExitStatus
from csvnlp.levels import ENTITY_LABELS


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
    # Files and standard input may be PDF or DOCX (sniffed by content, documents.py).
    from csvnlp.documents import MAX_DOCUMENT_BYTES, Document, document_from_bytes, read_document
    from csvnlp.inputs import checked_text, read_standard_input

    inputs: list[tuple[str, Document]] = []
    if text == "-":  # one byte over the limit is enough to refuse an over-size input
        inputs.append(("<stdin>", run(lambda: document_from_bytes(read_standard_input(MAX_DOCUMENT_BYTES), "standard input"))))
    elif text is not None:
        inputs.append(("<argument>", Document("the text argument", "text", run(lambda: checked_text(text, "the text argument")))))
    for path in files:
        inputs.append((str(path), run(lambda p=path: read_document(p))))
    if not inputs:
        fail("nothing to classify: give TEXT, --file PATH or '-' for standard input (see --help)", ExitStatus.BAD_INPUT)

    from csvnlp.persistence import load_bundle
    from csvnlp.predict import classify_documents

    bundle = run(lambda: load_bundle(model))
    results = classify_documents(bundle, [document for _, document in inputs], entities=not no_entities, explain=top_terms)
    for (source, _), result in zip(inputs, results):
        if as_json:
            typer.echo(json_terminal_safe(json.dumps({"source": source, **result}, ensure_ascii=False)))
        else:
            _print_result(source, result, show_source=len(inputs) > 1)


def _print_result(source: str, result: dict[str, Any], show_source: bool) -> None:
    from rich.markup import escape

    console = _SafeConsole(highlight=False)
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
    for label in ENTITY_LABELS:
        names = sorted({e["text"] for e in result["entities"] if e["label"] == label})
        if names:
            console.print(f" {label.lower()}s: " + escape("; ".join(names)))
    for level, headings in (result.get("drivers") or {}).items():  # issue 13: sections that drove the levels
        console.print(f" sections driving {level}: " + escape("; ".join(headings)), soft_wrap=True)
    console.print()




def _SafeConsole(**options: Any) -> Any:
    """A rich Console whose ``print`` drops terminal control characters from what it shows."""
    from rich.console import Console

    class SafeConsole(Console):
        def print(self, *objects: Any, **kwargs: Any) -> None:  # type: ignore[override]
            super().print(*(terminal_safe(o) if isinstance(o, str) else o for o in objects), **kwargs)

    return SafeConsole(**options)
