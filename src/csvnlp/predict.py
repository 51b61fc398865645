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


def tag_columns(bundle: ModelBundle, texts: Sequence[str], entities: bool = True) -> dict[str, list[Any]]:
    """What ``csvnlp tag`` writes for ``texts`` (already checked by ``inputs.text_problem``), as
    columns: ``status``, ``predicted``, ``p_<level>``, ``clusters``, ``programmes``,
    ``programme_ids``, ``language``.

    The same cells as ``language.classify_in_supported_languages(bundle, texts,
    evidence=False)`` turned into a row each (a test compares them on real rows), without a
    dict per text and level: tagging runs this on every row of a database."""
    from csvnlp.entities import extract_entities
    from csvnlp.language import UNSUPPORTED, model_languages, supported_checks
    from csvnlp.levels import UNCERTAIN

    n = len(texts)
    checks = supported_checks(texts, model_languages(bundle))
    readable = [i for i, (_, ok) in enumerate(checks) if ok]
    columns: dict[str, list[Any]] = {
        "status": [UNSUPPORTED] * n, "predicted": [""] * n, "clusters": [""] * n, "programmes": [""] * n,
        "programme_ids": [""] * n, "language": [guess.code for guess, _ in checks],
    }
    for key in LEVEL_KEYS:
        columns[f"p_{key}"] = [None] * n
    if not readable:
        return columns
    chosen = [texts[i] for i in readable]
    model = bundle.level_model
    probabilities, relevance = model._probabilities(chosen)[:2]
    decided = model.decide(probabilities, relevance).tolist()
    rounded = [[round(p, 4) for p in row] for row in probabilities.tolist()]
    # one level set per pattern of decisions, not one join per row
    labels = {}
    for i, on, row in zip(readable, decided, rounded):
        pattern = tuple(on)
        if pattern not in labels:
            labels[pattern] = ";".join(key for key, flag in zip(LEVEL_KEYS, pattern) if flag)
        columns["predicted"][i] = labels[pattern]
        columns["status"][i] = "ok" if labels[pattern] else UNCERTAIN
        for key, p in zip(LEVEL_KEYS, row):
            columns[f"p_{key}"][i] = p
    if entities:
        for i, names in zip(readable, extract_entities(bundle.entity_pipeline, chosen)):
            if names:
                columns["clusters"][i] = _distinct(names, "CLUSTER")
                columns["programmes"][i] = _distinct(names, "PROGRAMME")
                # issue 17: the canonical ids of the programmes named, so projects can be counted per
                # programme whatever the spelling ("H2020", "Horizon 2020", "SC5-10-2016" -> h2020)
                columns["programme_ids"][i] = ";".join(dict.fromkeys(e["id"] for e in names if e["label"] == "PROGRAMME" and e.get("id")))
    return columns


def _distinct(entities: list[dict[str, Any]], label: str) -> str:
    return ";".join(dict.fromkeys(e["text"] for e in entities if e["label"] == label))


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
