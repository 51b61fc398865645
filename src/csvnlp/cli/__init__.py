"""The ``csvnlp`` command line: a thin Typer layer over the library, one module per command.

Each command parses its options, calls one library function and prints the result; the app,
the shared options and the mapping of typed library errors to exit statuses are in ``_util``.
"""

from __future__ import annotations

import gc

from csvnlp.cli._util import app, corpus_app
# registers the commands, in the order `--help` lists them
from csvnlp.cli import corpus, train, classify, tag, evaluate, annotate, compare, serve  # noqa: F401,E402,I001

__all__ = ["app", "corpus_app", "main"]


def main() -> None:
    try:
        app()
    finally:
        # Python's last garbage collection at exit walks every object spaCy and the model made
        # (~0.1 s, an eighth of a cold `csvnlp classify`); frozen objects are left out of it.
        # Nothing else is skipped: atexit handlers run, and files are flushed and closed.
        gc.freeze()
