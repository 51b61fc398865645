"""The model card (a model directory's README.md): intended use, data, levels, thresholds,
scores and limits, from the model's meta.json and, once evaluated, its evaluation.

Here, not in the evaluation package: training writes the card too, and training must not
depend on evaluation. The evaluation is read by attribute (``csvnlp.evaluation.Evaluation``).
"""

from __future__ import annotations

from typing import Any

from csvnlp.levels import ENTITY_LABELS


def _range(interval: Any) -> str:
    """A cross-validated figure with its interval, in the card's words."""
    return f"{interval.value:.3f} (95% interval {interval.low:.3f}-{interval.high:.3f})"


def _imbalance_line(corpus: dict[str, Any]) -> str:
    counts = sorted(corpus["level_counts"].items(), key=lambda item: -item[1])
    (top, most), (rare, fewest) = counts[0], counts[-1]
    return (f"- Label imbalance: {most} of {corpus['cases']} cases are `{top}`, only {fewest} `{rare}`; "
            f"`{rare}` is the least reliable level.")


def render_model_card(meta: dict[str, Any], evaluation: Any = None) -> str:
    """The bundle's README.md: intended use, data, levels, thresholds, scores, limits."""
    corpus = meta["corpus"]
    cv = meta["cross_validation"]
    lines = [
        f"# Model card: {meta.get('name', 'csvnlp model')}",
        "",
        "## Intended use",
        "Screening English project descriptions (call submissions, CORDIS objectives, ERDF/ESF "
        "operation summaries) for the Creating Shared Value level(s) of Porter & Kramer (2011), and "
        "extracting the cluster organisations and funding programmes they name. It is an aid for "
        "reading many descriptions, not a verdict on any one project: check `uncertain` rows and "
        "low probabilities by hand.",
        "",
        "## Training data",
        f"{corpus['cases']} annotated cases (corpus sha256 `{corpus['sha256'][:16]}...`), level counts "
        f"{corpus['level_counts']}; {corpus['entity_patterns']} entity phrases learned from annotated spans. "
        "They are the 27 cases of section 4.3 of the report *How clusters can contribute to the social and "
        "environmental challenges through the creation of shared value*, labelled as in its Table 1, plus the "
        "training part of the annotated real funding records (`corpus/real/`: CORDIS objectives, ERDF/ESF "
        "operations, call topics, labelled under `corpus/LABELLING_GUIDELINE.md`; records labelled none teach "
        "the relevance model what is not a CSV project).",
        "",
        "## Levels and thresholds",
        "| key | level | threshold |",
        "| --- | --- | --- |",
    ]
    for key, name in meta["labels"].items():
        lines.append(f"| `{key}` | {name} | {meta['thresholds'][key]:.3f} |")
    relevance = meta.get("relevance", {})
    if relevance.get("learned"):
        uncertain = (f"A text is `uncertain` when no level passes its threshold, or when the relevance model (any level "
                     f"against none, learned from {relevance.get('negatives')} annotated non-CSV records) gives it a "
                     f"probability below {relevance.get('threshold'):.3f} of being a CSV project at all.")
    else:
        uncertain = ("A text is `uncertain` when no level passes its threshold (the training corpus had no records "
                     "labelled none, so no relevance model was learned).")
    lines += [
        "",
        uncertain,
        "",
        "## Scores",
        f"Settings chosen by {cv['scheme']} cross-validation: {meta['hyperparameters']}. "
        f"Macro-F1 at the chosen thresholds {cv['macro_f1']:.3f} (keyword rule {cv['keyword_rule_macro_f1']:.3f}); "
        f"per level {cv['per_level_f1']}. {cv['note']}",
    ]
    frozen = evaluation.frozen_split if evaluation else None
    if frozen:
        clear = frozen.clear.systems
        model = clear["model"]
        heading = "## Scores where csvnlp is used: the frozen test split"
        lines[lines.index("## Scores")] = heading
        lines[lines.index(heading) + 1:lines.index(heading) + 1] = [
            f"{frozen.records} real records set aside before any model change, never used to fit, select or tune; "
            f"headline on the {frozen.clear_records} `clear` ones, 95% case-bootstrap intervals (`csvnlp evaluate`):",
            "",
            f"- macro-F1 {model.macro_f1} (keyword rule {clear['keyword rule'].macro_f1}, prior {clear['prior'].macro_f1})",
            *[f"- F1 `{key}` {score.f1} ({score.support} positives)" for key, score in model.levels.items()],
            f"- abstention on records annotated none {model.abstention_on_none}; coverage of CSV records {model.coverage_of_csv}",
            f"- all rows (borderline included): macro-F1 {frozen.views['all'].systems['model'].macro_f1}",
            *_entity_card_lines(frozen.entities),
            "",
            "## Scores in cross-validation (second view)",
        ]
    if evaluation:
        cv = evaluation.cross_validation
        lines += [
            "",
            "From `csvnlp evaluate`, cross-validation on the report's cases (" + cv.scheme["inner"] + "):",
            "",
            f"- model macro-F1 {_range(cv.headline['model'].macro_f1)}",
            f"- keyword rule macro-F1 {_range(cv.headline['keyword_rule'].macro_f1)}",
            f"- prior (DummyClassifier) macro-F1 {_range(cv.headline['prior'].macro_f1)}",
        ]
        if cv.permutation_test:
            lines.append(f"- permutation test p-value {cv.permutation_test['p_value']:.4f}")
        for label, scores in cv.entities.get("exact", {}).items():
            lines.append(f"- entity {label} exact-match F1 {scores['f1'].value:.3f} (range over CV repeats {scores['f1'].low:.3f}-{scores['f1'].high:.3f})")
        abstention = evaluation.unlabelled_checks.get("abstention")
        if abstention:
            lines.append(f"- abstention on ERC/MSCA abstracts: {abstention['uncertain_share']:.1%} `uncertain` of {abstention['texts']}")
    lines += [
        "",
        "## Known limits",
        f"- Trained on {corpus['cases']} cases: every score above has a wide interval; a handful of "
        "new annotations can move it.",
        "- English only. Texts in other languages come out `unsupported_language`, never with a level.",
        "- The real records were annotated by AI annotators under the written guideline (a blind second pass on 100 "
        "agreed at kappa 0.90-0.98, an upper bound for human agreement); the frozen split comes from the same "
        "sources as the training records, so a new source may score lower.",
        _imbalance_line(corpus),
        "- The cases are cluster projects described by one report's authors; descriptions written "
        "for other purposes (research abstracts, operation summaries) differ in style.",
        "- Entity extraction finds names learned from the corpus plus general shapes (call "
        "identifiers, programme names, '... Cluster', 'Cluster ...', an organisation name that says cluster in an EU "
        "language); cluster organisations a description names without such a shape are missed unless annotated.",
        "",
        f"Versions: {meta['versions']}. Trained {meta['trained_at']} with seed {meta['seed']}.",
        "",
    ]
    return "\n".join(lines)


def _entity_card_lines(entities: Any) -> list[str]:
    if not entities:
        return []
    exact, rules = entities.exact, entities.rules_only["exact"]
    return [f"- entities on the frozen entity split ({entities.records} records): " + "; ".join(
        f"{label} exact F1 {exact[label]['f1']:.3f} ({exact[label]['gold']} gold spans, rules only {rules[label]['f1']:.3f})"
        for label in ENTITY_LABELS) + f"; extractor: {entities.extractor}"]
