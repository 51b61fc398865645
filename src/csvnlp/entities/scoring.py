"""Scoring found names against gold spans: spaCy's ``Scorer`` (token spans, per label), the
character-exact and overlap figures of ``csvnlp.metrics.entity_scores``, and how often a
correctly found programme carries the right canonical id.

Gold and found entities are dicts with ``start``, ``end`` (character offsets), ``label`` and,
for linking, ``id``.
"""

from __future__ import annotations

from typing import Any, Sequence

from spacy.language import Language
from spacy.scorer import Scorer
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import filter_spans

from csvnlp.entities.rules import ENTITY_LABELS


def _with_ents(doc: Doc, entities: Sequence[dict[str, Any]]) -> Doc:
    spans = [doc.char_span(e["start"], e["end"], label=e["label"], alignment_mode="expand") for e in entities]
    doc.ents = filter_spans([s for s in spans if s is not None])
    return doc


def spacy_scores(nlp: Language, texts: Sequence[str], gold: Sequence[Sequence[dict[str, Any]]],
                 found: Sequence[Sequence[dict[str, Any]]]) -> dict[str, Any]:
    """``Scorer.score_spans`` over ``doc.ents`` (spans widened to whole tokens of ``nlp``'s
    tokenizer): micro P/R/F and per label."""
    examples = [Example(_with_ents(nlp.make_doc(t), f), _with_ents(nlp.make_doc(t), g)) for t, g, f in zip(texts, gold, found)]
    scores = Scorer.score_spans(examples, "ents")
    per_type = scores.get("ents_per_type") or {}
    return {"p": scores["ents_p"], "r": scores["ents_r"], "f": scores["ents_f"],
            "per_label": {label: per_type.get(label, {"p": 0.0, "r": 0.0, "f": 0.0}) for label in ENTITY_LABELS}}


def linking_accuracy(gold: Sequence[Sequence[dict[str, Any]]], found: Sequence[Sequence[dict[str, Any]]],
                     label: str = "PROGRAMME") -> dict[str, Any]:
    """Of the ``label`` spans found exactly (same offsets as a gold span), the share whose ``id``
    equals the gold span's ``id`` (a gold span without an id expects None)."""
    right = total = 0
    for gold_entities, found_entities in zip(gold, found):
        expected = {(e["start"], e["end"]): e.get("id") for e in gold_entities if e["label"] == label}
        for entity in found_entities:
            key = (entity["start"], entity["end"])
            if entity["label"] == label and key in expected:
                total += 1
                right += (entity.get("id") or None) == (expected[key] or None)
    return {"correct": right, "found_exactly": total, "accuracy": right / total if total else 0.0}


def score_entities(nlp: Language, texts: Sequence[str], gold: Sequence[Sequence[dict[str, Any]]],
                   found: Sequence[Sequence[dict[str, Any]]]) -> dict[str, Any]:
    """Everything a report prints: character-exact and overlap P/R/F1 per label with gold and
    found counts, spaCy's Scorer figures, and programme linking accuracy."""
    from csvnlp.metrics import entity_scores

    as_sets = lambda rows: [{(e["start"], e["end"], e["label"]) for e in entities} for entities in rows]  # noqa: E731
    out = entity_scores(as_sets(gold), as_sets(found))
    out["spacy_scorer"] = spacy_scores(nlp, texts, gold, found)
    out["linking"] = linking_accuracy(gold, found)
    out["gold_counts"] = {label: sum(e["label"] == label for entities in gold for e in entities) for label in ENTITY_LABELS}
    return out
