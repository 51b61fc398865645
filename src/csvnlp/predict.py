"""One description in, levels + entities + explanation out: what ``classify``, ``tag`` and
``suggest`` call on a loaded model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from csvnlp.levels import LEVEL_KEYS


@dataclass
class ModelBundle:
    """A trained model: the level estimator, the entity pipeline and what meta.json records."""

    level_model: Any  # csvnlp.model.LevelModel, fitted
    entity_pipeline: Any  # spacy.Language
    meta: dict[str, Any]
    path: Path | None = None

    def classify(
        self, texts: Sequence[str], entities: bool = True, explain: int = 0, batch_size: int = 256, evidence: bool = True
    ) -> list[dict[str, Any]]:
        """One result per text: ``levels`` (all three with probabilities), ``predicted``,
        ``status``, ``entities``, ``evidence`` (unless ``evidence=False``: tagging has no
        column for it) and, with ``explain=k``, the top k terms per level."""
        from csvnlp.entities import extract_entities

        results = self.level_model.classify(texts, explain=explain, evidence=evidence)
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
            }
            if evidence:
                item["evidence"] = result["evidence"]
            if explain:
                item["explanation"] = result["explanation"]
            out.append(item)
        return out


def classify_documents(
    bundle: ModelBundle, documents: Sequence[Any], entities: bool = True, explain: int = 0
) -> list[dict[str, Any]]:
    """One result per ``documents.Document``: its language checked first (a text the model
    cannot read is ``unsupported_language``), then levels, entities and the top ``explain``
    terms; a document that is not plain text says what it was, and one with sections says
    which of them drove its levels (``sections``, ``drivers``)."""
    from csvnlp.language import classify_in_supported_languages
    from csvnlp.sections import section_report

    results = classify_in_supported_languages(bundle, [d.text for d in documents], entities=entities, explain=explain)
    for document, result in zip(documents, results):
        if document.kind != "text" or document.sections:
            result["document"] = {"kind": document.kind, "pages": document.pages, "chars": len(document.text), "sections": len(document.sections)}
        report = section_report(bundle, document, result)
        if report:
            result.update(report)
        result.setdefault("explanation", {})
    return results
