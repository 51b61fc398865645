"""Typed errors and the exit statuses the CLI maps them to.

Library code raises these with a message written for a person (what is wrong, what to do);
only the CLI (``csvnlp.cli``) turns them into exit codes and coloured output.
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """Documented exit codes; scripts may rely on them."""

    OK = 0
    ERROR = 1  # unexpected failure (a bug: please report it)
    USAGE = 2  # wrong command-line arguments (Typer/Click's own code)
    BAD_INPUT = 3  # empty/binary/undecodable text, unreadable or malformed input file
    BAD_MODEL = 4  # model missing, corrupt (sha256 mismatch), in the old pickle format, or holding a pickle
    INVALID_CORPUS = 5  # corpus file has problems (``corpus validate``)
    EXISTS = 6  # refusing to overwrite an existing output without --force
    INCOMPLETE = 7  # a tagging run's part files are missing or corrupt; rerun with --resume
    # the two document problems a user fixes with another tool
    NO_TEXT_LAYER = 8  # a PDF with no text layer (a scan): run OCR first
    ENCRYPTED = 9  # a password-protected PDF or Word file: save an unprotected copy
    INTERRUPTED = 130  # Ctrl-C


# What each exit status means, for people: the one text ``--help``, the README and the
# robustness benchmark show (a test checks the README quotes it verbatim).
EXIT_STATUS_MEANING: dict[ExitStatus, str] = {
    ExitStatus.OK: "ok",
    ExitStatus.ERROR: "unexpected error",
    ExitStatus.USAGE: "usage",
    ExitStatus.BAD_INPUT: "bad input (empty, binary, undecodable, unreadable, malformed, over a size bound; or an --out that cannot be written)",
    ExitStatus.BAD_MODEL: "bad model (missing, corrupt, old pickle format, holds a pickle)",
    ExitStatus.INVALID_CORPUS: "invalid corpus",
    ExitStatus.EXISTS: "output exists (pass --force) or another run is writing it",
    ExitStatus.INCOMPLETE: "a tagging run is incomplete (a part is missing or corrupt, a worker died, the disk is full: rerun with --resume)",
    ExitStatus.NO_TEXT_LAYER: "a PDF with no text layer (a scan: run OCR first)",
    ExitStatus.ENCRYPTED: "a password-protected PDF or Word file",
    ExitStatus.INTERRUPTED: "interrupted",
}


def exit_codes_text() -> str:
    """One line listing every exit status and its meaning."""
    return "Exit codes: " + "; ".join(f"{int(status)} {meaning}" for status, meaning in EXIT_STATUS_MEANING.items()) + "."


class CsvnlpError(Exception):
    """Base class: a problem the user can fix, with a message saying how."""

    exit_status: ExitStatus = ExitStatus.ERROR


class UsageError(CsvnlpError):
    """A command was given options that cannot work together (or nothing to work on)."""

    exit_status = ExitStatus.USAGE


class InputError(CsvnlpError):
    exit_status = ExitStatus.BAD_INPUT


class ModelError(CsvnlpError):
    exit_status = ExitStatus.BAD_MODEL


class CorpusError(CsvnlpError):
    exit_status = ExitStatus.INVALID_CORPUS


class ReportFormatError(CsvnlpError):
    """The report text does not have the structure the extractor expects."""

    exit_status = ExitStatus.BAD_INPUT


class OutputExistsError(CsvnlpError):
    exit_status = ExitStatus.EXISTS


class IncompleteRunError(CsvnlpError):
    """A batch run cannot be assembled: a chunk's part is missing or fails its check."""

    exit_status = ExitStatus.INCOMPLETE


# ---- documents (PDF/DOCX) ------------------------------------------------------------------


class NoTextLayerError(InputError):
    """A PDF whose pages are images (a scan): nothing to read without OCR."""

    exit_status = ExitStatus.NO_TEXT_LAYER


class EncryptedDocumentError(InputError):
    """A PDF or Word file that needs a password to open."""

    exit_status = ExitStatus.ENCRYPTED


# ---- output and run environment (issue 19) --------------------------------------------------


class OutputError(CsvnlpError):
    """An --out that cannot be written: a read-only folder, a file where a folder should be,
    a name too long for the file system."""

    exit_status = ExitStatus.BAD_INPUT


class OutputBusyError(OutputExistsError):
    """Another run is writing the same output right now."""


class SchedulerError(UsageError):
    """A --scheduler address that is malformed or where no Dask scheduler answers."""

    exit_status = ExitStatus.USAGE
