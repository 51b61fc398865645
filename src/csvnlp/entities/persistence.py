"""Saving and loading the entity pipeline the spaCy way.

A model directory holds the entity pipeline in ``entities/``, written by ``Language.to_disk``:
``config.cfg`` (the pipeline: tokenizer, an optional ``ner``, the ``csvnlp_names`` component),
``meta.json``, the tokenizer's rules, the vocab's strings, the ``ner`` weights when one was
trained (msgpack), and the component's own files (phrase patterns, settings, registry: JSON).
``spacy.load(model_dir / "entities")`` restores it (the ``csvnlp_names`` factory is found
through csvnlp's ``spacy_factories`` entry point); nothing in it is a pickle or runs code.
"""

from __future__ import annotations

from pathlib import Path

import spacy
from spacy.language import Language

import csvnlp.entities.component  # noqa: F401  (registers the csvnlp_names factory)

ENTITY_DIR = "entities"


def save_entity_pipeline(nlp: Language, directory: Path) -> Path:
    """Write ``nlp`` to ``directory/entities`` with ``Language.to_disk``; return that folder."""
    target = Path(directory) / ENTITY_DIR
    nlp.to_disk(target)
    return target


def load_entity_pipeline(directory: Path) -> Language:
    """``spacy.load`` of ``directory/entities``; raise ValueError when there is none (a model
    saved by a csvnlp before the entity pipeline was saved the spaCy way)."""
    target = Path(directory) / ENTITY_DIR
    if not (target / "config.cfg").is_file():
        raise ValueError(f"{target} holds no spaCy pipeline (config.cfg); the model predates csvnlp's spaCy-native "
                         "entity pipeline")
    return spacy.load(target)
