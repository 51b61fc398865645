"""A folder of documents as a table for ``csvnlp tag``: one row per file, ``id`` = relative path.

``FolderReader`` has the interface ``tagging.tag_table`` uses from ``TableReader`` (``size``,
``chunks()``), so a folder gets the same chunks, workers, part files, ``--resume``, error
rows and progress bar as a table. The reader only lists files: a row's text is the file's
path and its ``problems`` entry is ``DOCUMENT_MARK`` (a value no table reader produces, so a
table cell can never make csvnlp open a file), and ``resolve_documents`` extracts the text in
the worker that tags the chunk, so PDF parsing runs in parallel (on Dask too: the mark
travels in the staged ``_problem`` column). A file that cannot be read (a
scan, a password, a corrupt or over-size file, a picture, anything not PDF/DOCX/text) becomes
an error row with the reason; it never ends the run.

Every entry under the folder is a row, whatever its name (content decides what it is), except
hidden files and folders (``.DS_Store``, ``.git/``) and csvnlp's own output files when
``--out`` points inside the folder. What is not a document is an error row, never left out
(issue 19, items 16 and 23): a named pipe, a device, a socket, a symbolic link that loops, a
link to a folder (not followed), and a link to anything outside the folder (csvnlp stays
inside the folder it is given). A file name that is not UTF-8 gets an id with its bytes
escaped (``caf\\xe9.txt``); the path itself travels to the worker intact. ``--files GLOB`` narrows the rows to the files matching
the pattern (``**`` crosses folders), ids relative to the pattern's fixed leading folder.
"""

from __future__ import annotations

import glob
import hashlib
import os
from pathlib import Path
from typing import Any, Iterator, Sequence

from csvnlp.errors import InputError

DOCUMENT_MARK = "\x00document"  # in a row's ``problems`` slot: its text is a file's absolute path
DOCUMENTS_PER_CHUNK = 16  # default --batch-size for folders: documents are ~100x a table row's work


def glob_root(pattern: str) -> Path:
    """The fixed leading folder of a glob pattern ('subs/2024/**/*.pdf' -> 'subs/2024')."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts[:-1]:
        if glob.has_magic(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


class FolderReader:
    """Lists the documents under ``root`` (or those matching ``pattern``) in a stable order."""

    format = "folder"

    def __init__(self, root: Path, batch_size: int, pattern: str | None = None, exclude: Sequence[Path] = ()):
        self.root = root
        self.batch_size = batch_size
        if pattern is None and not root.is_dir():
            raise InputError(f"no such folder: {root}")
        excluded = {os.path.realpath(p) for p in exclude}
        self.real_root = os.path.realpath(root)
        listed = self._list(root, pattern)
        self.files = [p for p in listed if os.path.realpath(p) not in excluded and not _inside_any(p, excluded)]
        if not self.files:
            where = f"matches {pattern}" if pattern else f"is under {root}"
            raise InputError(f"no file {where}; give a folder of PDF, DOCX or text files (or check --files)")
        self.problems = [self._problem(p) for p in self.files]
        self.sizes = [_size(p) for p in self.files]
        self.size = sum(self.sizes)
        self.columns: list[str] = []

    @staticmethod
    def _list(root: Path, pattern: str | None) -> list[Path]:
        found: list[Path] = []
        if pattern is not None:
            found = [Path(p) for p in glob.glob(pattern, recursive=True)]
        else:
            for directory, dirs, names in os.walk(root):
                # a link to a folder is not walked (it could lead anywhere, or in a circle): a row says so
                found.extend(Path(directory) / d for d in dirs if os.path.islink(os.path.join(directory, d)))
                dirs[:] = [d for d in dirs if not d.startswith(".") and not os.path.islink(os.path.join(directory, d))]
                found.extend(Path(directory) / name for name in names)
        files = [p for p in found if (p.is_symlink() or not p.is_dir())
                 and not any(part.startswith(".") for part in p.relative_to(root).parts)]
        return sorted(files, key=lambda p: os.fsencode(p.relative_to(root).as_posix()))

    def _problem(self, path: Path) -> str | None:
        """Why ``path`` is no document, found from the listing (None: the worker reads it)."""
        if path.is_symlink():
            target = os.path.realpath(path)
            if not (target == self.real_root or target.startswith(self.real_root + os.sep)):
                return (f"a symbolic link to {_printable_path(target)}, outside the folder; csvnlp reads only what is "
                        "inside the folder it is given (copy the file in)")
            if os.path.isdir(target):
                return "a symbolic link to a folder; csvnlp does not follow links to folders (give that folder itself)"
        from csvnlp.inputs import non_regular_file

        kind = non_regular_file(path)
        if kind:
            return f"{kind}, not a document file"
        return None

    def fingerprint(self) -> dict[str, Any]:
        """What --resume must find unchanged: the file list, sizes and modification times."""
        digest = hashlib.sha256()
        for path, size in zip(self.files, self.sizes):
            digest.update(f"{file_id(path.relative_to(self.root))}\t{size}\t{_mtime(path)}\n".encode())
        return {"documents": len(self.files), "documents_sha256": digest.hexdigest()}

    def chunks(self) -> Iterator[Any]:
        from csvnlp.tables import Chunk

        position = 0
        for index, begin in enumerate(range(0, len(self.files), self.batch_size)):
            files = self.files[begin : begin + self.batch_size]
            problems = self.problems[begin : begin + self.batch_size]
            position += sum(self.sizes[begin : begin + self.batch_size])
            yield Chunk(
                index=index, first_row=begin + 1,
                ids=[file_id(p.relative_to(self.root)) for p in files],
                texts=[path_cell(Path(os.path.abspath(p))) if problem is None else None for p, problem in zip(files, problems)],
                problems=[DOCUMENT_MARK if problem is None else problem for problem in problems], kept={}, position=position,
            )


def file_id(relative: Path) -> str:
    """A row id for a file: its relative path, with bytes that are not UTF-8 escaped (\\xe9)."""
    return os.fsencode(relative.as_posix()).decode("utf-8", errors="backslashreplace")


def path_cell(path: Path) -> str:
    """A path as a string any engine can carry (pyarrow refuses the lone surrogates Python
    uses for file names that are not UTF-8): its bytes, one character each."""
    return os.fsencode(path).decode("latin-1")


def path_from_cell(cell: str) -> Path:
    return Path(os.fsdecode(cell.encode("latin-1")))


def _printable_path(path: str) -> str:
    return os.fsencode(path).decode("utf-8", errors="backslashreplace")


def resolve_documents(texts: Sequence[Any], problems: Sequence[str | None]) -> tuple[list[Any], list[str | None], list[bool]]:
    """For each row marked ``DOCUMENT_MARK``, the file's extracted text in place of its path
    and no problem, or, for a file that cannot be read, the reason (an error row). The third
    list says which rows are documents, already checked by ``read_document`` (which allows a
    document more text than a table cell). Other rows are returned as they are."""
    from csvnlp.documents import read_document

    texts, problems = list(texts), list(problems)
    documents = [problem == DOCUMENT_MARK for problem in problems]
    for i in (i for i, is_document in enumerate(documents) if is_document):
        path = path_from_cell(texts[i])
        problems[i] = None
        try:
            texts[i] = read_document(path, regular_only=True).text
        except InputError as exc:
            texts[i], problems[i] = None, _without_path(str(exc), path)
        except Exception as exc:  # a parser bug on one odd file must not end the run
            texts[i], problems[i] = None, f"could not read the file ({type(exc).__name__}: {exc})"
    return texts, problems, documents


def _without_path(message: str, path: Path) -> str:
    """The row's id already names the file: keep the reason short."""
    return message.replace(f"{path}: ", "").replace(f"{path} ", "the file ").replace(str(path), "the file")


def _inside_any(path: Path, folders: set[str]) -> bool:
    resolved = os.path.realpath(path)
    return any(resolved.startswith(folder + os.sep) for folder in folders)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0
