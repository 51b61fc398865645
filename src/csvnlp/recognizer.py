"""The trained part of entity extraction: a spaCy ``ner`` on ``spacy.blank("en")``.

It learns CLUSTER and PROGRAMME from the annotated spans of the training records (the report's
27 cases, the real records' training split and the organisation-name records), seeded, from
Python with spaCy's default ``ner`` architecture (a hash-embedding CNN over NORM, PREFIX,
SUFFIX and SHAPE, and a transition-based parser). Nothing is downloaded.

Two things keep it affordable on millions of rows:

- training sees each record's text cut into lines (paragraphs), every line with a gold span
  and a seeded share of the others, since most lines of a funding record name nothing;
- at run time it runs only on texts that may hold a name (``entities.NameFinder`` decides,
  with the rules, the learned phrases and the *trigger words* learned here: words that are
  inside gold spans most of the times they occur in the training texts, such as "klaster").

The weights are saved with spaCy's own serialisation (msgpack and JSON: data, never code),
under the model directory's checksums like every other model file.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Sequence

from spacy.language import Language
from spacy.training import Example
from spacy.util import filter_spans, fix_random_seed, minibatch

from csvnlp.levels import ENTITY_LABELS

RECOGNIZER_COMPONENT = "ner"
LABELS = ENTITY_LABELS
EPOCHS = 30  # on held-out training records 30 epochs beat 12 (PROGRAMME exact F1 0.712 against 0.683)
DROPOUT = 0.2
# Share of lines without a gold span kept for training (seeded); they teach what is no name.
NEGATIVE_LINE_SHARE = 0.25
# A word is a trigger when at least this share of its occurrences in the training texts is
# inside a gold span, and it is inside gold spans at least TRIGGER_MIN_COUNT times.
TRIGGER_SHARE = 0.5
TRIGGER_MIN_COUNT = 2
_WORD = re.compile(r"[^\W\d_][\w.+-]*[\w+]|[^\W\d_]", re.UNICODE)


def _lines(text: str) -> list[tuple[int, int]]:
    """Character ranges of the text's non-empty lines."""
    spans, at = [], 0
    for line in text.split("\n"):
        if line.strip():
            spans.append((at, at + len(line)))
        at += len(line) + 1
    return spans


def training_pieces(records: Iterable[dict[str, Any]], seed: int) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """(line text, spans in line offsets): every line holding a gold span, a seeded share of the rest."""
    rng = random.Random(seed)
    pieces = []
    for record in records:
        text, entities = record["text"], record.get("entities") or []
        for start, end in _lines(text):
            inside = [(e["start"] - start, e["end"] - start, e["label"]) for e in entities
                      if start <= e["start"] and e["end"] <= end and e["label"] in LABELS]
            if inside or rng.random() < NEGATIVE_LINE_SHARE:
                pieces.append((text[start:end], inside))
    return pieces


def _example(nlp: Language, text: str, spans: Sequence[tuple[int, int, str]]) -> Example:
    doc = nlp.make_doc(text)
    ents = [doc.char_span(s, e, label=label, alignment_mode="expand") for s, e, label in spans]
    ents = [span for span in ents if span is not None]
    return Example.from_dict(doc, {"entities": [(span.start_char, span.end_char, span.label_) for span in filter_spans(ents)]})


def add_recognizer(nlp: Language) -> Any:
    """Add an untrained ``ner`` (spaCy's default architecture) with the two labels."""
    ner = nlp.add_pipe(RECOGNIZER_COMPONENT, first=True)
    for label in LABELS:
        ner.add_label(label)
    return ner


def train_recognizer(nlp: Language, records: Sequence[dict[str, Any]], seed: int, epochs: int = EPOCHS,
                     progress: Any = None) -> Language:
    """Add a ``ner`` to ``nlp`` and train it on the records' spans (seeded: same records and seed,
    same weights). Returns ``nlp``."""
    fix_random_seed(seed)
    add_recognizer(nlp)
    examples = [_example(nlp, t, s) for t, s in training_pieces(records, seed)]
    if not examples:
        raise ValueError("no training text for the entity recognizer")
    rng = random.Random(seed)
    with nlp.select_pipes(enable=[RECOGNIZER_COMPONENT]):
        optimizer = nlp.initialize(lambda: examples)
        for epoch in range(epochs):
            rng.shuffle(examples)
            losses: dict[str, float] = {}
            for batch in minibatch(examples, size=32):
                nlp.update(batch, drop=DROPOUT, sgd=optimizer, losses=losses)
            if progress:
                progress(epoch + 1, epochs)
    return nlp


def trigger_words(records: Iterable[dict[str, Any]]) -> list[str]:
    """Lower-cased words that are inside a gold span most of the times they occur in the
    training texts: the words that make a text worth running the recognizer on."""
    inside: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for record in records:
        text = record["text"]
        covered = [(e["start"], e["end"]) for e in record.get("entities") or []]
        for match in _WORD.finditer(text):
            word = match.group().lower()
            total[word] += 1
            if any(s <= match.start() and match.end() <= e for s, e in covered):
                inside[word] += 1
    return sorted(w for w, n in inside.items() if n >= TRIGGER_MIN_COUNT and n / total[w] >= TRIGGER_SHARE and len(w) > 2)


def trigger_regex(words: Sequence[str]) -> re.Pattern[str] | None:
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")(?!\w)", re.IGNORECASE)


def save_recognizer(nlp: Language, directory: Path) -> None:
    """The trained ``ner`` with spaCy's own serialisation (msgpack + JSON, no pickle)."""
    directory.mkdir(parents=True, exist_ok=True)
    nlp.get_pipe(RECOGNIZER_COMPONENT).to_disk(directory / RECOGNIZER_COMPONENT)
    (directory / "labels.json").write_text(json.dumps(list(LABELS)) + "\n", encoding="utf-8")


def load_recognizer(nlp: Language, directory: Path) -> Language:
    """Add the saved ``ner`` to ``nlp`` (built with csvnlp's own fixed settings: the saved
    files give weights and labels, never code or architecture)."""
    ner = add_recognizer(nlp)
    ner.from_disk(directory / RECOGNIZER_COMPONENT)
    return nlp
