"""A trained model on disk: save, load, integrity and version checks, and classification.

Layout of a bundle directory::

    classifier.joblib   the fitted LevelClassifier (a pickle: loaded only after its hash checks)
    entities/           the spaCy entity pipeline, in spaCy's own to_disk format
    meta.json           label set, thresholds, versions, corpus hash, CV scores, sha256 of files
    README.md           the model card

Loading verifies every file's sha256 against ``meta.json`` *before* unpickling anything,
because unpickling runs code; then it refuses a scikit-learn version other than the one the
model was trained with. Saving writes to a temporary sibling directory and renames it into
place, so a killed ``train`` never leaves a half-written bundle that loads.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from csvnlp.errors import ModelError, OutputExistsError
from csvnlp.levels import LEVEL_KEYS

FORMAT_VERSION = 1
CLASSIFIER_FILE = "classifier.joblib"
ENTITIES_DIR = "entities"
META_FILE = "meta.json"
CARD_FILE = "README.md"
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "csvnlp-base"
RETRAIN_HINT = "retrain it with `csvnlp train --out DIR` (or `python pipeline/run.py train`)"


def default_model_dir() -> Path:
    """$CSVNLP_MODEL; else ``models/csvnlp-base`` under the working directory, else in this checkout."""
    if os.environ.get("CSVNLP_MODEL"):
        return Path(os.environ["CSVNLP_MODEL"])
    local = Path("models") / DEFAULT_MODEL_DIR.name
    return local if (local / META_FILE).exists() else DEFAULT_MODEL_DIR


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _bundle_files(directory: Path) -> list[Path]:
    """Files whose hashes meta.json records: everything but meta.json and the model card,
    which `csvnlp evaluate` refreshes (documentation: it is never loaded or executed)."""
    return sorted(
        p for p in directory.rglob("*")
        if p.is_file() and p.relative_to(directory).as_posix() not in (META_FILE, CARD_FILE)
    )


def library_versions() -> dict[str, str]:
    import sklearn
    import spacy

    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__, "spacy": spacy.__version__}


@dataclass
class ModelBundle:
    classifier: Any  # LevelClassifier
    entity_pipeline: Any  # spacy.Language
    meta: dict[str, Any]
    path: Path | None = None

    def classify(
        self, texts: Sequence[str], entities: bool = True, explain: int = 0, batch_size: int = 256
    ) -> list[dict[str, Any]]:
        """One result per text: ``levels`` (all three with probabilities), ``predicted``,
        ``status``, ``entities`` and, with ``explain=k``, the top k terms per level."""
        from csvnlp.entities import extract_entities

        results = self.classifier.classify(texts, explain=explain)
        found = (
            extract_entities(self.entity_pipeline, texts, batch_size=batch_size) if entities else ([] for _ in texts)
        )
        out = []
        for result, names in zip(results, found):
            item = {
                "levels": [{"level": key, "probability": round(result["probabilities"][key], 4)} for key in LEVEL_KEYS],
                "predicted": result["predicted"],
                "status": result["status"],
                "entities": names,
                "evidence": result["evidence"],
            }
            if explain:
                item["explanation"] = result["explanation"]
            out.append(item)
        return out


def save_bundle(bundle: ModelBundle, directory: Path, force: bool = False) -> Path:
    """Write the bundle atomically; refuse to replace an existing one unless ``force``."""
    import joblib

    from csvnlp.entities import save_entity_pipeline

    directory = directory.resolve()
    if directory.exists() and any(directory.iterdir()) and not force:
        raise OutputExistsError(f"{directory} already holds a model; pass --force to replace it, or choose another --out")
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a model directory is shared like any other
    try:
        joblib.dump(bundle.classifier, staging / CLASSIFIER_FILE)
        save_entity_pipeline(bundle.entity_pipeline, staging / ENTITIES_DIR)
        card = bundle.meta.pop("_card", None)
        if card:
            (staging / CARD_FILE).write_text(card, encoding="utf-8")
        meta = dict(bundle.meta)
        meta["format_version"] = FORMAT_VERSION
        meta["files"] = {str(p.relative_to(staging)): sha256_of(p) for p in _bundle_files(staging)}
        (staging / META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if directory.exists():
            # never replace a model silently: the one replaced is kept beside it
            previous = directory.with_name(f"{directory.name}.previous")
            shutil.rmtree(previous, ignore_errors=True)
            os.replace(directory, previous)
            os.replace(staging, directory)
        else:
            os.replace(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    bundle.meta = meta
    bundle.path = directory
    return directory


def read_meta(directory: Path) -> dict[str, Any]:
    meta_path = directory / META_FILE
    if not directory.is_dir():
        raise ModelError(f"no model at {directory}: pass --model DIR (a directory made by `csvnlp train`), or {RETRAIN_HINT}")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{directory} is not a csvnlp model (no {META_FILE}); {RETRAIN_HINT}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{meta_path} is corrupt ({exc}); restore it from git or {RETRAIN_HINT}") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("files"), dict):
        raise ModelError(f"{meta_path} lacks the file hashes a csvnlp model records; {RETRAIN_HINT}")
    return meta


def verify_bundle(directory: Path, meta: dict[str, Any]) -> None:
    """Check every recorded file's sha256, and that no file was added; raise ModelError."""
    recorded: dict[str, str] = meta["files"]
    if CLASSIFIER_FILE not in recorded:
        raise ModelError(f"{directory / META_FILE} records no {CLASSIFIER_FILE}; {RETRAIN_HINT}")
    for name, expected in recorded.items():
        path = directory / name
        if not path.is_file():
            raise ModelError(f"model file {path} is missing; restore the model directory or {RETRAIN_HINT}")
        if sha256_of(path) != expected:
            raise ModelError(
                f"model file {path} does not match the sha256 in meta.json (corrupted or tampered); "
                f"refusing to load it. Restore it from git or {RETRAIN_HINT}"
            )
    extra = [str(p.relative_to(directory)) for p in _bundle_files(directory) if str(p.relative_to(directory)) not in recorded]
    if extra:
        raise ModelError(f"{directory} holds files meta.json does not record ({', '.join(extra[:3])}); refusing to load it")


def check_versions(directory: Path, meta: dict[str, Any]) -> None:
    trained = (meta.get("versions") or {}).get("scikit-learn")
    current = library_versions()["scikit-learn"]
    if trained != current:
        raise ModelError(
            f"the model at {directory} was trained with scikit-learn {trained}, but {current} is installed; "
            f"a pickled model is only safe with the version that made it. Install scikit-learn=={trained}, "
            f"or {RETRAIN_HINT}"
        )
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"the model at {directory} has format {meta.get('format_version')}, this csvnlp reads {FORMAT_VERSION}; {RETRAIN_HINT}")


def load_bundle(directory: Path | None = None) -> ModelBundle:
    """Load a bundle after verifying hashes and versions; raise ModelError with what to do."""
    import joblib

    from csvnlp.entities import load_entity_pipeline

    directory = Path(directory or default_model_dir())
    meta = read_meta(directory)
    verify_bundle(directory, meta)
    check_versions(directory, meta)
    try:
        classifier = joblib.load(directory / CLASSIFIER_FILE)
        entity_pipeline = load_entity_pipeline(directory / ENTITIES_DIR)
    except Exception as exc:  # a verified file that still fails to load: say so plainly
        raise ModelError(f"could not load the model at {directory}: {exc}; {RETRAIN_HINT}") from exc
    return ModelBundle(classifier=classifier, entity_pipeline=entity_pipeline, meta=meta, path=directory)


def refresh_model_card(bundle: ModelBundle, evaluation: dict[str, Any]) -> Path:
    """Rewrite the bundle's README.md from its meta and an evaluation's metrics."""
    from csvnlp.corpus import write_text_atomically
    from csvnlp.reporting import render_model_card

    assert bundle.path is not None
    path = bundle.path / CARD_FILE
    write_text_atomically(path, render_model_card(bundle.meta, evaluation))
    return path
