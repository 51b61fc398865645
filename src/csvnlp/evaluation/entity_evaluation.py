"""The entity extractor on the frozen entity split: the shipped pipeline beside its rules alone."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Sequence

from csvnlp.metrics import entity_scores


@dataclass
class EntityEvaluation:
    """Exact and overlapping P/R/F1 per label (``exact``/``partial``: label -> scores) of the
    shipped extractor and of its rules alone, per source, and the most frequent errors."""

    extractor: str
    records: int
    exact: dict[str, dict[str, float]]
    partial: dict[str, dict[str, float]]
    rules_only: dict[str, dict[str, dict[str, float]]]
    exact_by_source: dict[str, dict[str, Any]]
    frequent_false_hits: list[dict[str, Any]]
    frequent_misses: list[dict[str, Any]]
    split: str = "issue 10's entity split"  # which split was scored
    spent: bool = True  # a spent split's figures are development figures, not a test
    split_note: str = ""


def rules_only(nlp: Any) -> Any:
    """The same pipeline without its trained recognizer or anything learned about rule
    reliability: the registry, the rules, and the phrases and gazetteers it holds."""
    from csvnlp.entities import NAMES_COMPONENT, build_entity_pipeline

    finder = nlp.get_pipe(NAMES_COMPONENT)
    phrases = [p for p in finder.patterns if p.get("kind") != "registry"]
    return build_entity_pipeline([], phrases, registry=finder.registry, clusters=[])


def evaluate_entities(bundle: Any, records: Sequence[dict[str, Any]], split: Any = None) -> EntityEvaluation:
    """Score the shipped extractor and its rules alone on ``records``' annotated spans;
    ``split`` (``test_sets.EntitySplitInfo``) says which split they are."""
    from csvnlp.entities import NAMES_COMPONENT, extract_entities

    texts = [r["text"] for r in records]
    gold = [{(e["start"], e["end"], e["label"]) for e in r.get("entities", [])} for r in records]
    pipeline = bundle.entity_pipeline
    systems = {"model": pipeline, "rules only": rules_only(pipeline)}
    found = {name: [{(e["start"], e["end"], e["label"]) for e in spans} for spans in extract_entities(nlp, texts)]
             for name, nlp in systems.items()}
    sources = [r.get("source", "?") for r in records]
    by_source: dict[str, Any] = {}
    for source in sorted(set(sources)):
        idx = [i for i, s in enumerate(sources) if s == source]
        by_source[source] = {name: entity_scores([gold[i] for i in idx], [f[i] for i in idx])["exact"] for name, f in found.items()}
        by_source[source]["records"] = len(idx)
    model = found["model"]
    # A current test split is scored once: naming its errors would invite the next change to fix
    # exactly them (issue 17 found the old split spent that way), so they are counted for spent
    # (development) splits only.
    false_hits: Counter[tuple[str, str]] = Counter()
    misses: Counter[tuple[str, str]] = Counter()
    if split is None or split.spent:
        false_hits.update((texts[i][s:e], label) for i in range(len(texts)) for s, e, label in model[i] - gold[i])
        misses.update((texts[i][s:e], label) for i in range(len(texts)) for s, e, label in gold[i] - model[i])
    finder = pipeline.get_pipe(NAMES_COMPONENT)
    recognizer = "ner" in pipeline.pipe_names
    scores = entity_scores(gold, model)
    return EntityEvaluation(
        extractor=("trained spaCy recognizer with rules, learned phrases and gazetteers, combined per label as "
                   f"{finder.policy}" if recognizer else "rules, learned phrases and gazetteers (no trained recognizer)"),
        records=len(records),
        exact=scores["exact"],
        partial=scores["partial"],
        rules_only=entity_scores(gold, found["rules only"]),
        exact_by_source=by_source,
        frequent_false_hits=[{"text": t, "label": lab, "count": n} for (t, lab), n in false_hits.most_common(15)],
        frequent_misses=[{"text": t, "label": lab, "count": n} for (t, lab), n in misses.most_common(15)],
        **({} if split is None else {"split": split.name, "spent": split.spent, "split_note": split.note}),
    )
