"""A model on disk: plain data only, so loading one runs no code.

Layout of a model directory (format 3)::

    level_model.npz        arrays: coefficients, intercepts, thresholds, IDF weights, the level
                           centroids and the nearest-case index (each training case's strongest
                           terms: no training matrix); read with ``numpy.load(allow_pickle=False)``
    level_model.json       parameters, vocabulary (in column order), stop words, prototypes
                           (``LevelModel.to_arrays`` writes both, ``LevelModel.from_arrays`` reads them)
    entity_patterns.jsonl  the entity pipeline's learned phrases and gazetteer entries, one
                           {"label", "pattern", "source"} a line
    entity_pipeline.json   how rule and recognizer spans combine per label, and the trigger
                           words that decide which texts the recognizer reads
    recognizer/ner/        the trained spaCy ``ner`` (spaCy's msgpack/JSON serialisation)
    meta.json              label set, thresholds, versions, corpus hash, CV scores, and the
                           sha256 of every file above (a corruption check)
    README.md              the model card

The sha256 list sits in the same directory as the files it describes, so it catches a
damaged or half-copied model, not a deliberate change; safety comes from the format itself:
nothing in a model is executed, and a directory holding a pickle is refused outright.
Saving writes to a temporary sibling directory and renames it into place, so a killed
``train`` never leaves a half-written model that loads.

The default model is the one packaged in the wheel (``csvnlp/model_data/csvnlp-base``),
or, in a source checkout, ``models/csvnlp-base`` beside the package; ``$CSVNLP_MODEL`` or
``--model`` choose another. The current folder is never searched.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from csvnlp.errors import ModelError, OutputExistsError
from csvnlp.predict import ModelBundle

FORMAT_VERSION = 3  # 3: no training matrix, dense centroids, nearest-case index (issue 20)
ARRAYS_FILE = "level_model.npz"
SETTINGS_FILE = "level_model.json"
PATTERNS_FILE = "entity_patterns.jsonl"
META_FILE = "meta.json"
CARD_FILE = "README.md"
MODEL_FILES = (ARRAYS_FILE, SETTINGS_FILE, PATTERNS_FILE)
MODEL_ENV = "CSVNLP_MODEL"
DEFAULT_NAME = "csvnlp-base"
PACKAGED_MODEL_DIR = Path(__file__).resolve().parent / "model_data" / DEFAULT_NAME
CHECKOUT_MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / DEFAULT_NAME
RETRAIN_HINT = "retrain it with `csvnlp train --out DIR` (or `python pipeline/run.py train`)"
# Protocol 2+ pickles start with 0x80; joblib files are pickles (possibly zlib-compressed).
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".pck", ".sav")


def default_model_dir() -> Path:
    """``$CSVNLP_MODEL``; else the model packaged with csvnlp; else, in a source checkout,
    ``models/csvnlp-base`` beside the package (never the current folder)."""
    if os.environ.get(MODEL_ENV):
        return Path(os.environ[MODEL_ENV])
    return PACKAGED_MODEL_DIR if (PACKAGED_MODEL_DIR / META_FILE).exists() else CHECKOUT_MODEL_DIR


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    import sklearn
    import spacy

    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__, "spacy": spacy.__version__}


# ---------------------------------------------------------------------------- saving


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like ``numpy.savez_compressed``, but byte-identical for identical arrays (numpy stamps
    each member with the current time), so retraining on the same corpus gives the same files."""
    import zipfile

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.ascontiguousarray(arrays[name]), allow_pickle=False)


def _bundle_files(directory: Path) -> list[Path]:
    """Files the sha256 list covers: everything but meta.json and the model card, which
    `csvnlp evaluate` refreshes (documentation: it is never loaded or executed)."""
    return sorted(
        p for p in directory.rglob("*")
        if p.is_file() and p.relative_to(directory).as_posix() not in (META_FILE, CARD_FILE)
    )


def save_bundle(bundle: ModelBundle, directory: Path, force: bool = False) -> Path:
    """Write the model atomically; refuse to replace an existing one unless ``force``."""
    from csvnlp.entities import save_entity_pipeline

    directory = directory.resolve()
    if directory.exists() and any(directory.iterdir()) and not force:
        raise OutputExistsError(f"{directory} already holds a model; pass --force to replace it, or choose another --out")
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a model directory is shared like any other
    try:
        arrays, settings = bundle.level_model.to_arrays()
        write_npz(staging / ARRAYS_FILE, arrays)
        (staging / SETTINGS_FILE).write_text(json.dumps(settings, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        save_entity_pipeline(bundle.entity_pipeline, staging, PATTERNS_FILE)
        card = bundle.meta.pop("_card", None)
        if card:
            (staging / CARD_FILE).write_text(card, encoding="utf-8")
        meta = dict(bundle.meta)
        meta["format_version"] = FORMAT_VERSION
        meta["files"] = {p.relative_to(staging).as_posix(): sha256_of(p) for p in _bundle_files(staging)}
        (staging / META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if directory.exists():
            # never replace a model silently: the one replaced is kept beside it
            previous = directory.with_name(f"{directory.name}.previous")
            shutil.rmtree(previous, ignore_errors=True)
            os.replace(directory, previous)
        os.replace(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    bundle.meta = meta
    bundle.path = directory
    return directory


# ---------------------------------------------------------------------------- loading


def read_meta(directory: Path) -> dict[str, Any]:
    meta_path = directory / META_FILE
    if not directory.is_dir():
        raise ModelError(f"no model at {directory}: pass --model DIR (a directory made by `csvnlp train`), or {RETRAIN_HINT}")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{directory} is not a csvnlp model (no {META_FILE}); {RETRAIN_HINT}") from None
    except (ValueError, RecursionError) as exc:  # bad JSON, bad UTF-8, a 5,000-digit number (issue 19)
        raise ModelError(f"{meta_path} is corrupt ({exc}); restore it from git or {RETRAIN_HINT}") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("files"), dict):
        raise ModelError(f"{meta_path} lacks the file checksums a csvnlp model records; {RETRAIN_HINT}")
    validate_meta(meta, meta_path)
    return meta


# Every file a model may hold, by name, and the format its content must have (issue 19, item
# 18): a file is loaded only if it *is* what its name declares, so a pickle of any protocol,
# a zlib-compressed joblib file or anything else under any name is refused before loading.
DECLARED_FORMATS = {".npz": "npz", ".json": "json", ".jsonl": "jsonl", ".md": "text", ".cfg": "json", ".bin": "msgpack"}
DECLARED_BY_NAME = {"model": "msgpack", "moves": "msgpack", "key2row": "msgpack", "vectors": "npy", "cfg": "json"}  # spaCy's files
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


def declared_format(relative: Path) -> str | None:
    """The format a model file's name declares, or None for a name no csvnlp model uses."""
    if relative.suffix.lower() in PICKLE_SUFFIXES:
        return None
    return DECLARED_FORMATS.get(relative.suffix.lower()) or (DECLARED_BY_NAME.get(relative.name) if not relative.suffix else None)


def format_problem(path: Path, declared: str) -> str | None:
    """Why ``path``'s content is not ``declared`` (None when it is)."""
    import zipfile

    data = path.read_bytes()
    try:
        if declared == "npz":
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    with archive.open(info) as member:
                        if not info.filename.endswith(".npy") or member.read(6) != b"\x93NUMPY":
                            return f"member {info.filename} is not a NumPy array"
        elif declared == "npy":
            if not data.startswith(b"\x93NUMPY"):
                return "not a NumPy array"
            import io

            np.load(io.BytesIO(data), allow_pickle=False)
        elif declared == "json":
            json.loads(data.decode("utf-8"))
        elif declared == "jsonl":
            for line in data.decode("utf-8").split("\n"):
                if line.strip():
                    json.loads(line)
        elif declared == "text":
            data.decode("utf-8")
        elif declared == "msgpack":
            import srsly

            srsly.msgpack_loads(data)
    except Exception as exc:  # any parser's failure means the same: not the declared format
        return f"not {declared} ({type(exc).__name__})"
    return None


def _is_pickle(path: Path) -> bool:
    if path.suffix.lower() in PICKLE_SUFFIXES:
        return True
    with path.open("rb") as handle:
        head = handle.read(2)
    return len(head) == 2 and head[0] == 0x80 and head[1] <= 5


def refuse_pickles(directory: Path) -> None:
    """Raise ModelError if any file in the model directory is plainly a pickle (by suffix or a
    protocol-2+ header); ``refuse_undeclared_formats`` catches the rest after the checksums."""
    found = [p for p in sorted(directory.rglob("*")) if p.is_file() and _is_pickle(p)]
    if found:
        raise ModelError(
            f"{directory} holds a pickle ({found[0].relative_to(directory)}); csvnlp models are plain data "
            f"and a pickle can run code when loaded, so this model is refused. Use a model saved by this csvnlp, or {RETRAIN_HINT}"
        )


def refuse_undeclared_formats(directory: Path) -> None:
    """Raise ModelError unless every file in the model directory is plain data in the format
    its name declares (npz, JSON, JSON Lines, msgpack, NumPy, UTF-8 text): a pickle of any
    protocol, compressed or not, can run code when loaded, whatever it is called."""
    for path in sorted(directory.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(directory)
        declared = declared_format(relative)
        problem = "a file no csvnlp model holds" if declared is None else format_problem(path, declared)
        if problem:
            raise ModelError(
                f"{directory} holds {relative} ({problem}): only plain data in the format its name declares is loaded "
                f"(a pickle or other code could run), so this model is refused. Use a model saved by this csvnlp, or {RETRAIN_HINT}"
            )


def validate_meta(meta: dict[str, Any], meta_path: Path) -> None:
    """meta.json's fields that loading relies on, checked like every other model file: file
    names that stay inside the model folder, and languages as a list of ISO 639 codes."""
    directory = meta_path.parent.resolve()
    for name, digest in meta["files"].items():
        target = (directory / name).resolve()
        if not isinstance(digest, str) or Path(name).is_absolute() or ".." in Path(name).parts or directory not in target.parents:
            raise ModelError(f"{meta_path} lists a file outside the model folder ({name!r}); refusing to load it. {RETRAIN_HINT}")
    languages = meta.get("languages")
    if languages is not None and (not isinstance(languages, list) or not languages
                                  or not all(isinstance(code, str) and LANGUAGE_CODE.match(code) for code in languages)):
        raise ModelError(f"{meta_path}: \"languages\" must be a list of ISO 639 codes such as [\"en\"], not {json.dumps(languages)[:40]}; "
                         f"restore it from git or {RETRAIN_HINT}")


def verify_checksums(directory: Path, meta: dict[str, Any]) -> None:
    """Corruption check: every recorded file is there with its sha256, and no file was added."""
    recorded: dict[str, str] = meta["files"]
    for name, expected in recorded.items():
        path = directory / name
        if not path.is_file():
            raise ModelError(f"model file {path} is missing; restore the model directory or {RETRAIN_HINT}")
        if sha256_of(path) != expected:
            raise ModelError(
                f"model file {path} does not match its sha256 in meta.json (corrupted or changed since training); "
                f"refusing to load it. Restore it from git or {RETRAIN_HINT}"
            )
    extra = [p.relative_to(directory).as_posix() for p in _bundle_files(directory) if p.relative_to(directory).as_posix() not in recorded]
    if extra:
        raise ModelError(f"{directory} holds files meta.json does not record ({', '.join(extra[:3])}); refusing to load it")


def check_format(directory: Path, meta: dict[str, Any]) -> None:
    version = meta.get("format_version")
    if version == 1:
        raise ModelError(f"the model at {directory} is in csvnlp's old pickle format, which is no longer loaded; {RETRAIN_HINT}")
    if version == 2:
        raise ModelError(f"the model at {directory} is in format 2 (it holds its training matrix); this csvnlp reads format "
                         f"{FORMAT_VERSION}; {RETRAIN_HINT}")
    if version != FORMAT_VERSION:
        raise ModelError(f"the model at {directory} has format {version}, this csvnlp reads {FORMAT_VERSION}; {RETRAIN_HINT}")
    missing = [name for name in MODEL_FILES if name not in meta["files"]]
    if missing:
        raise ModelError(f"{directory / META_FILE} records no {missing[0]}; {RETRAIN_HINT}")


def load_bundle(directory: Path | None = None) -> ModelBundle:
    """Load a model after checking its format, that it holds no pickle, and its checksums;
    raise ModelError with what to do."""
    from csvnlp.entities import load_entity_pipeline
    from csvnlp.model import LevelModel

    directory = Path(directory or default_model_dir())
    meta = read_meta(directory)
    refuse_pickles(directory)
    check_format(directory, meta)
    verify_checksums(directory, meta)
    refuse_undeclared_formats(directory)
    try:
        with np.load(directory / ARRAYS_FILE, allow_pickle=False) as arrays:
            arrays = {name: arrays[name] for name in arrays.files}
        settings = json.loads((directory / SETTINGS_FILE).read_text(encoding="utf-8"))
        level_model = LevelModel.from_arrays(arrays, settings)
        entity_pipeline = load_entity_pipeline(directory, PATTERNS_FILE)
    except Exception as exc:  # a verified file that still fails to load: say so plainly
        raise ModelError(f"could not load the model at {directory}: {exc}; {RETRAIN_HINT}") from exc
    return ModelBundle(level_model=level_model, entity_pipeline=entity_pipeline, meta=meta, path=directory)


def refresh_model_card(bundle: ModelBundle, evaluation: Any) -> Path:
    """Rewrite the model's README.md from its meta and an evaluation (``csvnlp.evaluation.Evaluation``)."""
    from csvnlp.corpus import write_text_atomically
    from csvnlp.model_card import render_model_card

    assert bundle.path is not None
    path = bundle.path / CARD_FILE
    write_text_atomically(path, render_model_card(bundle.meta, evaluation))
    return path
