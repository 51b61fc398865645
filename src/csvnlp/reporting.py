"""Rendering: the model card, and the evaluation report (Markdown, self-contained HTML)."""

from __future__ import annotations

from typing import Any


def _fmt_interval(block: dict[str, Any] | None) -> str:
    if not block:
        return "n/a"
    return f"{block['mean']:.3f} (95% interval {block['low']:.3f}-{block['high']:.3f})"


def render_model_card(meta: dict[str, Any], evaluation: dict[str, Any] | None = None) -> str:
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
        "The 27 core cases are section 4.3 of the report *How clusters can contribute to the social and "
        "environmental challenges through the creation of shared value*, labelled as in its Table 1.",
        "",
        "## Levels and thresholds",
        "| key | level | threshold |",
        "| --- | --- | --- |",
    ]
    for key, name in meta["labels"].items():
        lines.append(f"| `{key}` | {name} | {meta['thresholds'][key]:.3f} |")
    gate = meta.get("evidence_gate", {})
    lines += [
        "",
        f"A text is `uncertain` when no level passes its threshold, or when it has fewer than "
        f"{gate.get('min_words')} words, or fewer than {gate.get('min_domain_terms')} distinct "
        f"shared-value/cluster/business terms while its TF-IDF similarity to every training case is "
        f"below {gate.get('min_similarity')}.",
        "",
        "## Scores",
        f"Settings chosen by {cv['scheme']} cross-validation: {meta['hyperparameters']}. "
        f"Macro-F1 at the chosen thresholds {cv['macro_f1']:.3f} (keyword rule {cv['keyword_rule_macro_f1']:.3f}); "
        f"per level {cv['per_level_f1']}. {cv['note']}",
    ]
    if evaluation:
        headline = evaluation["cross_validation"]["headline"]
        lines += [
            "",
            "From `csvnlp evaluate` (nested: thresholds and patterns fitted inside each training fold):",
            "",
            f"- model macro-F1 {_fmt_interval(headline['model']['macro_f1'])}",
            f"- keyword rule macro-F1 {_fmt_interval(headline['keyword_rule']['macro_f1'])}",
            f"- prior (DummyClassifier) macro-F1 {_fmt_interval(headline['prior']['macro_f1'])}",
        ]
        if evaluation.get("permutation_test"):
            lines.append(f"- permutation test p-value {evaluation['permutation_test']['p_value']:.4f}")
        entities = evaluation.get("entities", {}).get("exact", {})
        for label, scores in entities.items():
            lines.append(f"- entity {label} exact-match F1 {_fmt_interval(scores['f1'])}")
        abstention = evaluation.get("external", {}).get("abstention")
        if abstention:
            lines.append(f"- abstention on ERC/MSCA abstracts: {abstention['uncertain_share']:.1%} `uncertain` of {abstention['texts']}")
    lines += [
        "",
        "## Known limits",
        f"- Trained on {corpus['cases']} cases: every score above has a wide interval; a handful of "
        "new annotations can move it.",
        "- English only. Texts in other languages come out `uncertain` or wrong.",
        "- Label imbalance: 21 of 27 cases are `products_markets`, only 4 `value_chain`; "
        "`value_chain` is the least reliable level.",
        "- The cases are cluster projects described by one report's authors; descriptions written "
        "for other purposes (research abstracts, operation summaries) differ in style.",
        "- Entity extraction finds names learned from the corpus plus general shapes (call "
        "identifiers, programme names, '... Cluster', 'Cluster ...'); cluster organisations whose "
        "names have no such shape are missed unless annotated.",
        "",
        f"Versions: {meta['versions']}. Trained {meta['trained_at']} with seed {meta['seed']}.",
        "",
    ]
    return "\n".join(lines)
