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
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokenizer import Tokenizer

import csvnlp.entities.component  # noqa: F401  (registers the csvnlp_names factory)

ENTITY_DIR = "entities"
SPACY_TOKENIZER = {"@tokenizers": "spacy.Tokenizer.v1"}
EMPTY_TOKENIZER = "csvnlp.EmptyTokenizer.v1"


@spacy.registry.tokenizers(EMPTY_TOKENIZER)
def empty_tokenizer() -> Any:
    """A tokenizer with no rules, for ``load_entity_pipeline`` to fill from the saved one."""

    def create(nlp: Language) -> Tokenizer:
        return Tokenizer(nlp.vocab)

    return create


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
    # spacy.load builds English's default tokenizer (1,300 special cases, three affix regexes:
    # ~70 ms, a tenth of a cold `csvnlp classify`) and then replaces all of it with the saved
    # one (Tokenizer.from_bytes resets every field before it reads them). Starting from an
    # empty tokenizer gives the same pipeline; its config then names the tokenizer it was saved
    # with again, so saving it writes the same config.cfg.
    config = spacy.util.load_config(target / "config.cfg", interpolate=False)
    if dict(config["nlp"].get("tokenizer", {})) != SPACY_TOKENIZER:
        return spacy.load(target)
    nlp = spacy.load(target, config={"nlp": {"tokenizer": {"@tokenizers": EMPTY_TOKENIZER}}})
    restored = nlp.config
    restored["nlp"]["tokenizer"] = dict(SPACY_TOKENIZER)
    nlp.config = restored
    return nlp
