"""The Typer app, the error-to-exit-status mapping and the options several commands share.

Heavy libraries (spaCy, scikit-learn, pandas) are imported inside the commands, so
``--help`` and shell completion stay fast. Library errors (``csvnlp.errors``) become one
line on stderr and a documented exit status (``ExitStatus``); data goes to stdout.
"""

from __future__ import annotations

import re
from typing import Any, Callable, NoReturn

import typer

from csvnlp.errors import CsvnlpError, ExitStatus, exit_codes_text

app = typer.Typer(
    name="csvnlp",
    help=(
        "Label project descriptions with their Creating Shared Value (CSV) level(s) "
        "(Porter & Kramer 2011: products_markets, value_chain, cluster_development) and "
        "extract the CLUSTER organisations and funding PROGRAMMEs they name.\n\n" + exit_codes_text()
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
corpus_app = typer.Typer(help="Build and check the annotated corpus.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")


# What a terminal would act on rather than show: C0/C1 control characters (ESC starts colour,
# title and screen-clearing sequences) and the bidirectional overrides that reorder what is
# shown. Everything printed as text goes through ``terminal_safe`` (issue 19, item 17): a file
# name or a heading in a hostile document cannot drive the officer's terminal.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    return _UNSAFE.sub("", text)


def json_terminal_safe(line: str) -> str:
    """A JSON line with the control characters json.dumps leaves raw (DEL, C1, bidi) escaped."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", line)


def fail(message: str, status: ExitStatus) -> NoReturn:
    typer.echo(f"csvnlp: error: {terminal_safe(message)}", err=True)
    raise typer.Exit(int(status))


def run(action: Callable[[], Any]) -> Any:
    """Run a library call, turning typed errors into one stderr line and an exit status."""
    try:
        return action()
    except CsvnlpError as exc:
        fail(str(exc), exc.exit_status)
    except KeyboardInterrupt:
        fail("interrupted", ExitStatus.INTERRUPTED)


def echo_json(payload: Any) -> None:
    import json

    typer.echo(json.dumps(payload, indent=2))


# Options several commands share, declared once so their names and help stay in step.
MODEL_OPTION = typer.Option(None, "--model", help="Model directory (default: $CSVNLP_MODEL if set, else the model packaged with csvnlp).")
JOBS_OPTION = typer.Option(2, "--jobs", "-j", min=1, help="Processes for cross-validation folds.")
TEXT_COLUMNS_OPTION = typer.Option(..., "--text-column", "-t", help="Column holding the description; repeat to join several (e.g. title + objective).")
ID_COLUMN_OPTION = typer.Option(None, "--id-column", help="Column to use as the row id (default: the row number).")
SEP_OPTION = typer.Option(None, "--sep", help="CSV delimiter (default: the one the header line uses most of , TAB ; |).")
