"""Rendering: the model card, and the evaluation report (Markdown, self-contained HTML)."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any


def _fmt_interval(block: dict[str, Any] | None) -> str:
    if not block:
        return "n/a"
    return f"{block['mean']:.3f} (95% interval {block['low']:.3f}-{block['high']:.3f})"


def _fmt_block(block: dict[str, Any]) -> str:
    return f"{block['value']:.3f} [{block['low']:.3f}, {block['high']:.3f}]"


def _imbalance_line(corpus: dict[str, Any]) -> str:
    counts = sorted(corpus["level_counts"].items(), key=lambda item: -item[1])
    (top, most), (rare, fewest) = counts[0], counts[-1]
    return (f"- Label imbalance: {most} of {corpus['cases']} cases are `{top}`, only {fewest} `{rare}`; "
            f"`{rare}` is the least reliable level.")


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
    external = (evaluation or {}).get("external_test")
    if external:
        clear = external["views"]["clear"]
        model = clear["model"]
        lines[lines.index("## Scores")] = "## Scores where csvnlp is used: the frozen external test split"
        lines[lines.index("## Scores where csvnlp is used: the frozen external test split") + 1:lines.index("## Scores where csvnlp is used: the frozen external test split") + 1] = [
            f"{external['records']} real records set aside before any model change, never used to fit, select or tune; "
            f"headline on the {external['clear_records']} `clear` ones, 95% case-bootstrap intervals (`csvnlp evaluate`):",
            "",
            f"- macro-F1 {_fmt_block(model['macro_f1'])} (keyword rule {_fmt_block(clear['keyword rule']['macro_f1'])}, "
            f"prior {_fmt_block(clear['prior']['macro_f1'])})",
            *[f"- F1 `{key}` {_fmt_block(model['levels'][key]['f1'])} ({model['levels'][key]['support']} positives)" for key in model["levels"]],
            f"- abstention on records annotated none {_fmt_block(model['abstention_on_none'])}; coverage of CSV records "
            f"{_fmt_block(model['coverage_of_csv'])}",
            f"- all rows (borderline included): macro-F1 {_fmt_block(external['views']['all']['model']['macro_f1'])}",
            *_entity_card_lines(external.get("entities")),
            "",
            "## Scores in cross-validation (second view)",
        ]
    if evaluation:
        headline = evaluation["cross_validation"]["headline"]
        lines += [
            "",
            "From `csvnlp evaluate`, cross-validation on the report's cases (" + evaluation["scheme"]["inner"] + "):",
            "",
            f"- model macro-F1 {_fmt_interval(headline['model']['macro_f1'])}",
            f"- keyword rule macro-F1 {_fmt_interval(headline['keyword_rule']['macro_f1'])}",
            f"- prior (DummyClassifier) macro-F1 {_fmt_interval(headline['prior']['macro_f1'])}",
        ]
        if evaluation.get("permutation_test"):
            lines.append(f"- permutation test p-value {evaluation['permutation_test']['p_value']:.4f}")
        entities = evaluation.get("entities", {}).get("exact", {})
        for label, scores in entities.items():
            lines.append(f"- entity {label} exact-match F1 {scores['f1']['mean']:.3f} (range over CV repeats {scores['f1']['low']:.3f}-{scores['f1']['high']:.3f})")
        abstention = evaluation.get("external", {}).get("abstention")
        if abstention:
            lines.append(f"- abstention on ERC/MSCA abstracts: {abstention['uncertain_share']:.1%} `uncertain` of {abstention['texts']}")
    lines += [
        "",
        "## Known limits",
        f"- Trained on {corpus['cases']} cases: every score above has a wide interval; a handful of "
        "new annotations can move it.",
        "- English only. Texts in other languages come out `unsupported_language`, never with a level.",
        "- The real records were annotated by AI annotators under the written guideline (a blind second pass on 100 "
        "agreed at kappa 0.90-0.98, an upper bound for human agreement); the external split comes from the same "
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


# ============================================================================ evaluation report
#
# The report is built once as a list of blocks (heading, paragraph, table, figure) and
# rendered twice: Markdown with figures as PNG files beside it, and one self-contained HTML
# file with the same figures embedded, so it opens offline and can be mailed as it is.

LEVEL_ORDER = ("products_markets", "value_chain", "cluster_development")


def _iv(block: dict[str, float]) -> str:
    return f"{block['mean']:.3f} [{block['low']:.3f}, {block['high']:.3f}]"


def _figure(draw: Any) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = draw(plt)
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def _plot_baselines(evaluation: dict[str, Any]) -> bytes:
    headline = evaluation["cross_validation"]["headline"]

    def draw(plt: Any) -> Any:
        fig, ax = plt.subplots(figsize=(6.4, 3.2))
        names = ["prior", "keyword_rule", "model"]
        means = [headline[n]["macro_f1"]["mean"] for n in names]
        lows = [headline[n]["macro_f1"]["mean"] - headline[n]["macro_f1"]["low"] for n in names]
        highs = [headline[n]["macro_f1"]["high"] - headline[n]["macro_f1"]["mean"] for n in names]
        ax.barh(["prior (Dummy)", "keyword rule", "csvnlp model"], means, xerr=[lows, highs], color=["#bbb", "#8fb3d9", "#2a6f4e"], capsize=4)
        ax.set_xlim(0, 1)
        ax.set_xlabel("macro-F1 (cross-validated, 95% bootstrap interval)")
        ax.set_title("Model against baselines, same folds")
        return fig

    return _figure(draw)


def _plot_reliability(evaluation: dict[str, Any]) -> bytes:
    def draw(plt: Any) -> Any:
        fig, ax = plt.subplots(figsize=(5.2, 4.2))
        ax.plot([0, 1], [0, 1], ls="--", color="#999", label="perfect calibration")
        for key in LEVEL_ORDER:
            rows = evaluation["reliability"][key]
            ax.plot([r["mean_probability"] for r in rows], [r["observed"] for r in rows], marker="o", label=key)
        ax.set_xlabel("predicted probability (bin mean)")
        ax.set_ylabel("observed frequency of the level")
        ax.set_title("Reliability (out-of-fold)")
        ax.legend(fontsize=8)
        return fig

    return _figure(draw)


def _plot_threshold_sweep(evaluation: dict[str, Any]) -> bytes:
    sweep = evaluation["threshold_sweep"]

    def draw(plt: Any) -> Any:
        fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.4), sharey=True)
        for ax, key in zip(axes, LEVEL_ORDER):
            rows = sweep["levels"][key]
            t = [r["threshold"] for r in rows]
            ax.plot(t, [r["precision"] if r["precision"] is not None else float("nan") for r in rows], label="precision")
            ax.plot(t, [r["recall"] for r in rows], label="recall")
            ax.plot(t, [r["coverage"] for r in rows], label="coverage (share labelled)")
            ax.axvline(sweep["stored"][key], color="k", ls=":", label="stored threshold")
            ax.set_title(key, fontsize=10)
            ax.set_xlabel("threshold")
        axes[0].set_ylabel("out-of-fold rate")
        axes[0].legend(fontsize=7)
        fig.suptitle("Threshold sweep: coverage against precision")
        return fig

    return _figure(draw)


def _plot_learning_curve(evaluation: dict[str, Any]) -> bytes:
    points = evaluation["learning_curve"]

    def draw(plt: Any) -> Any:
        fig, ax = plt.subplots(figsize=(5.6, 3.6))
        x = [p["train_cases"] for p in points]
        mean = [p["macro_f1"]["mean"] for p in points]
        ax.plot(x, mean, marker="o", color="#2a6f4e", label="model macro-F1")
        ax.fill_between(x, [p["macro_f1"]["low"] for p in points], [p["macro_f1"]["high"] for p in points], alpha=0.25, color="#2a6f4e", label="95% range over folds")
        ax.set_xlabel("training cases")
        ax.set_ylabel("macro-F1 on held-out folds")
        ax.set_ylim(0, 1)
        ax.set_title("Learning curve: what more annotation buys")
        ax.legend(fontsize=8)
        return fig

    return _figure(draw)


def _plot_confusion(evaluation: dict[str, Any]) -> bytes:
    confusion = evaluation["cross_validation"]["confusion"]

    def draw(plt: Any) -> Any:
        fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.2))
        for ax, key in zip(axes, LEVEL_ORDER):
            c = confusion[key]
            grid = [[c["tn"], c["fp"]], [c["fn"], c["tp"]]]
            ax.imshow(grid, cmap="Greens")
            for i in range(2):
                for j in range(2):
                    ax.text(j, i, str(grid[i][j]), ha="center", va="center")
            ax.set_xticks([0, 1], ["predicted no", "predicted yes"], fontsize=8)
            ax.set_yticks([0, 1], ["gold no", "gold yes"], fontsize=8)
            ax.set_title(key, fontsize=10)
        fig.suptitle("Confusion per level (summed over CV repeats)")
        return fig

    return _figure(draw)


def _plot_permutation(evaluation: dict[str, Any]) -> bytes:
    test = evaluation["permutation_test"]

    def draw(plt: Any) -> Any:
        fig, ax = plt.subplots(figsize=(5.6, 3.2))
        ax.hist(test["null"], bins=20, color="#bbb", label="shuffled labels")
        ax.axvline(test["observed_macro_f1"], color="#2a6f4e", lw=2, label="real labels")
        ax.set_xlabel("macro-F1 (one CV run)")
        ax.set_ylabel("permutations")
        ax.set_title(f"Permutation test, p = {test['p_value']:.3f}")
        ax.legend(fontsize=8)
        return fig

    return _figure(draw)


def _plot_distribution(external: dict[str, Any]) -> bytes:
    stability = external["stability"]

    def draw(plt: Any) -> Any:
        fig, ax = plt.subplots(figsize=(5.6, 3.2))
        names = list(LEVEL_ORDER) + ["uncertain"]
        values = [stability["level_share"][k] for k in LEVEL_ORDER] + [stability["uncertain_share"]]
        ax.bar(names, values, color=["#2a6f4e", "#8fb3d9", "#d9a441", "#bbb"])
        ax.set_ylabel("share of operations")
        ax.set_title(f"Predicted levels over {stability['texts']:,} ERDF/ESF operations")
        ax.tick_params(axis="x", labelsize=8)
        return fig

    return _figure(draw)


def _metric_rows(metrics: dict[str, Any]) -> list[list[str]]:
    rows = []
    for key in LEVEL_ORDER:
        m = metrics["per_level"][key] if "per_level" in metrics else metrics[key]
        rows.append([key, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", str(int(m["support"]))])
    return rows


def _permutation_sentence(perm: dict[str, Any]) -> str:
    smallest = perm["p_value"] <= perm["smallest_possible_p"]
    return (f"Permutation test (scikit-learn's permutation_test_score): macro-F1 {perm['observed_macro_f1']:.3f} with the real "
            f"labels against {perm['null_mean']:.3f} on average (95th percentile {perm['null_95th']:.3f}) over "
            f"{perm['permutations']} shuffles of the label rows; p = {perm['p_value']:.4f}"
            + (" (the smallest p this many permutations can give)" if smallest else "")
            + ". Every run, with real or shuffled labels, refits vocabulary, weights, thresholds and relevance model inside "
            "each training fold with the model's settings; only the settings are not re-chosen per fold.")


def _leave_one_out_blocks(evaluation: dict[str, Any]) -> list[tuple]:
    loo = evaluation["leave_one_out"]
    if not loo:
        return [("h3", "Leave-one-out (second view)"), ("p", f"Skipped: {evaluation['cases']} cases ({evaluation['scheme']['caveat']}).")]
    return [
        ("h3", "Leave-one-out (second view)"),
        ("p", f"macro-F1 {loo['macro_f1']:.3f}, micro-F1 {loo['micro_f1']:.3f}, subset accuracy {loo['subset_accuracy']:.3f}."),
        ("table", ["level", "precision", "recall", "F1", "support"], _metric_rows(loo)),
    ]


def _pct(block: dict[str, Any]) -> str:
    return f"{block['value']:.1%} [{block['low']:.1%}, {block['high']:.1%}]"


def _val(block: dict[str, Any]) -> str:
    return f"{block['value']:.3f} [{block['low']:.3f}, {block['high']:.3f}]"


def _plot_external(headline: dict[str, Any]) -> bytes:
    view = headline["views"]["clear"]

    def draw(plt: Any) -> Any:
        fig, ax = plt.subplots(figsize=(7, 3.2))
        names = [n for n in ("model", "keyword rule", "prior") if n in view]
        groups = ["macro-F1"] + list(LEVEL_ORDER) + ["abstention on none", "coverage of CSV"]
        width = 0.8 / len(names)
        for k, name in enumerate(names):
            m = view[name]
            values = [m["macro_f1"]] + [m["levels"][key]["f1"] for key in LEVEL_ORDER] + [m["abstention_on_none"], m["coverage_of_csv"]]
            points = [v["value"] for v in values]
            errors = [[p - v["low"] for p, v in zip(points, values)], [v["high"] - p for p, v in zip(points, values)]]
            ax.bar([i + k * width for i in range(len(groups))], points, width, yerr=errors, capsize=2, label=name)
        ax.set_xticks([i + width * (len(names) - 1) / 2 for i in range(len(groups))])
        ax.set_xticklabels([g.replace("_", "\n") for g in groups], fontsize=7)
        ax.set_ylim(0, 1.05)
        ax.set_title(f"Frozen external test split, clear rows (n={view['model']['rows']}); 95% bootstrap intervals", fontsize=9)
        ax.legend(fontsize=7)
        return fig
    return _figure(draw)


def _maybe(value: float, fmt: str) -> str:
    return "-" if value != value else fmt.format(value)  # NaN: undefined on this slice


def _entity_card_lines(entities: dict[str, Any] | None) -> list[str]:
    if not entities:
        return []
    exact = entities["exact"]
    return [f"- entities on the frozen entity split ({entities.get('records', '?')} records): " + "; ".join(
        f"{label} exact F1 {exact[label]['f1']:.3f} ({exact[label]['gold']} gold spans, rules only "
        f"{entities['rules_only']['exact'][label]['f1']:.3f})" if entities.get("rules_only") else
        f"{label} exact F1 {exact[label]['f1']:.3f} ({exact[label]['gold']} gold spans)"
        for label in ("CLUSTER", "PROGRAMME")) + f"; extractor: {entities['extractor']}"]


def entity_blocks(entities: dict[str, Any]) -> list[tuple]:
    """The frozen entity split: the shipped extractor beside its rules alone, per label and per source."""
    rules = entities.get("rules_only")
    systems = [("shipped", entities)] + ([("rules only", rules)] if rules else [])
    gold_clusters = entities["exact"]["CLUSTER"]["gold"]
    blocks: list[tuple] = [
        ("h3", f"Entities on the frozen entity split ({entities.get('records', '?')} records)"),
        ("p", f"Extractor: {entities['extractor']}. The split is the level test split's records plus the names-only "
              f"test records (organisation names from Kohesio, ERDF/ESF and CORDIS lists, and texts naming clusters), "
              f"drawn by a seeded rule and committed before the recognizer was built. It holds {gold_clusters} gold "
              "CLUSTER spans: every cluster organisation the shared data name, split 60/40 between test and training, "
              "gives no more, so CLUSTER figures carry a wide margin. 'Rules only' is the same rules and names without "
              "what was learned from the training annotations (rule kinds and names switched off, programme tails) "
              "and without a recognizer."),
        ("table", ["extractor", "label", "match", "precision", "recall", "F1", "gold spans", "found"],
         [[name, label, mode, f"{scores[mode][label]['precision']:.3f}", f"{scores[mode][label]['recall']:.3f}",
           f"{scores[mode][label]['f1']:.3f}", str(scores[mode][label]["gold"]), str(scores[mode][label]["found"])]
          for label in ("CLUSTER", "PROGRAMME") for mode in ("exact", "partial") for name, scores in systems]),
    ]
    by_source = entities.get("exact_by_source") or {}
    if by_source and rules:
        blocks.append(("table", ["source", "records", "CLUSTER gold", "CLUSTER exact F1 (shipped / rules only)",
                                 "PROGRAMME gold", "PROGRAMME exact F1 (shipped / rules only)"],
                       [[source, str(row.get("records", "")), str(row["model"]["CLUSTER"]["gold"]),
                         f"{row['model']['CLUSTER']['f1']:.3f} / {row['rules only']['CLUSTER']['f1']:.3f}" if row["model"]["CLUSTER"]["gold"] else "-",
                         str(row["model"]["PROGRAMME"]["gold"]),
                         f"{row['model']['PROGRAMME']['f1']:.3f} / {row['rules only']['PROGRAMME']['f1']:.3f}" if row["model"]["PROGRAMME"]["gold"] else "-"]
                        for source, row in by_source.items()]))
    blocks.append(("p", "Most frequent false hits: " + (", ".join(f"{e['text']!r} ({e['label']}, {e['count']})" for e in entities["frequent_false_hits"]) or "none")
                   + ". Most frequent misses: " + (", ".join(f"{e['text']!r} ({e['label']}, {e['count']})" for e in entities["frequent_misses"]) or "none") + "."))
    return blocks


def external_blocks(headline: dict[str, Any] | None) -> list[tuple]:
    """The headline: the model as shipped on the frozen external test split of real records."""
    if not headline:
        return [("h2", "Headline: frozen external test split"),
                ("p", "No frozen external test split was found (corpus/external_test/), so this report has only the "
                      "cross-validation view below.")]
    clear = headline["views"]["clear"]
    everything = headline["views"]["all"]
    names = [n for n in ("model", "keyword rule", "prior") if n in clear]

    def rows(view: dict[str, Any]) -> list[list[str]]:
        return [[name, _val(view[name]["macro_f1"])] + [_val(view[name]["levels"][k]["f1"]) for k in LEVEL_ORDER]
                + [_pct(view[name]["abstention_on_none"]), _pct(view[name]["coverage_of_csv"])] for name in names]
    header = ["system", "macro-F1"] + [f"F1 {k}" for k in LEVEL_ORDER] + ["abstention on none", "coverage of CSV records"]
    support = clear["model"]["levels"]
    blocks: list[tuple] = [
        ("h2", "Headline: the model as shipped, on the frozen external test split"),
        ("p", f"{headline['records']} real records (CORDIS objectives, ERDF/ESF operations, call topics) annotated under "
              "corpus/LABELLING_GUIDELINE.md and set aside by a seeded rule before any model change; nothing was fitted, "
              f"selected or tuned on them. Headline rows: the {headline['clear_records']} `clear` ones (positives: "
              + ", ".join(f"{k} {support[k]['support']}" for k in LEVEL_ORDER)
              + f"; none {clear['model']['abstention_on_none']['rows']}). Intervals: 95% case bootstrap "
              "(records resampled with replacement). Abstention = share of records annotated none that get no level; "
              "coverage = share of CSV records that get at least one."),
        ("table", header, rows(clear)),
        ("figure", "external_test", "Frozen external test split, clear rows", _plot_external(headline)),
    ]
    if "delta" in clear:
        blocks.append(("p", f"Model minus keyword rule, macro-F1 on the same rows: {_val(clear['delta'])} (paired bootstrap)."))
    blocks += [
        ("h3", "Against the targets"),
        ("table", ["target", "measured", "goal", "met"],
         [[t["target"], f"{t['value']:.3f}", f"{t['goal']:.2f}", "yes" if t["met"] else f"no, short by {t['short_by']:.3f}"]
          for t in headline["targets"]]),
        ("h3", "All rows (clear and borderline), second view"),
        ("table", header, rows(everything)),
        ("h3", "Per source (clear rows)"),
        ("table", ["source", "rows", "model macro-F1", "keyword rule macro-F1", "model abstention on none", "model coverage"],
         [[source, str(v["model"]["rows"]), _maybe(v["model"]["macro_f1"], "{:.3f}"), _maybe(v["keyword rule"]["macro_f1"], "{:.3f}"),
           "-" if v["model"]["abstention_on_none"] != v["model"]["abstention_on_none"] else f"{v['model']['abstention_on_none']:.1%}",
           "-" if v["model"]["coverage_of_csv"] != v["model"]["coverage_of_csv"] else f"{v['model']['coverage_of_csv']:.1%}"]
          for source, v in clear["by_source"].items()]),
        ("p", "Per-source macro-F1 averages the levels that occur in that source's gold labels or predictions (a level "
              "with neither has no F1); '-' where nothing is defined. Per-source figures rest on few rows each; read them "
              "for direction, not precision."),
    ]
    entities = headline.get("entities")
    if entities:
        blocks += entity_blocks(entities)
    blocks.append(("h2", "Second view: cross-validation on the report's cases"))
    blocks.append(("p", "How well the report's own Table 1 labels are learned from its 27 narrative cases. These cases are one "
                        "template (the report's case write-ups), not the texts csvnlp is run on; the figures above are the ones "
                        "that say how it does in use."))
    return blocks


def build_report_blocks(evaluation: dict[str, Any], meta: dict[str, Any]) -> list[tuple]:
    cv = evaluation["cross_validation"]
    headline = cv["headline"]
    perm = evaluation["permutation_test"]
    blocks: list[tuple] = [
        ("h1", f"csvnlp evaluation: {meta.get('name', 'model')}"),
        *external_blocks(evaluation.get("external_test")),
        ("p", f"{evaluation['cases']} annotated cases {evaluation['level_counts']}. With so few cases this report is "
              "mostly about uncertainty: every headline figure carries a 95% interval from resampling the cases."),
        ("p", f"Scheme: {evaluation['scheme']['outer']}; {evaluation['scheme']['inner']}. Vocabulary, weights, "
              f"thresholds, relevance model and entity patterns are fitted on training folds only. "
              f"The shipped model's settings: {evaluation['scheme']['hyperparameters']}; settings chosen inside the folds: "
              + "; ".join(f"C={s['C']}, lexicon weight {s['lexicon_weight']}, n-grams 1-{s['ngram_max']} in {s['folds']} folds"
                          for s in evaluation['scheme']['settings_chosen_in_folds'])
              + f". Caveat: {evaluation['scheme']['caveat']}."),
        ("h3", "Model against baselines (same folds)"),
        ("table", ["system", "macro-F1", "micro-F1", "subset accuracy", "Hamming loss"],
         [[name, _iv(headline[key]["macro_f1"]), _iv(headline[key]["micro_f1"]), _iv(headline[key]["subset_accuracy"]), _iv(headline[key]["hamming_loss"])]
          for name, key in (("csvnlp model", "model"), ("keyword rule (level definitions)", "keyword_rule"), ("prior (DummyClassifier)", "prior"))]),
        ("figure", "baselines", "Model against baselines", _plot_baselines(evaluation)),
        ("p", _permutation_sentence(perm)),
        ("figure", "permutation", "Permutation test", _plot_permutation(evaluation)),
        ("h2", "Per level"),
        ("table", ["level", "precision", "recall", "F1", "support"], _metric_rows({"per_level": cv["per_level"]["model"]})),
        ("p", "Per-level F1 with intervals: " + "; ".join(f"{k} {_iv(v)}" for k, v in headline["model"]["per_level_f1"].items())
              + ". Thresholds fitted inside the folds: " + "; ".join(f"{k} {_iv(v)}" for k, v in cv["fold_thresholds"].items()) + "."),
        ("figure", "confusion", "Confusion per level", _plot_confusion(evaluation)),
        ("figure", "reliability", "Reliability diagram", _plot_reliability(evaluation)),
        ("figure", "threshold_sweep", "Threshold sweep", _plot_threshold_sweep(evaluation)),
        *_leave_one_out_blocks(evaluation),
        ("h2", "Learning curve"),
        ("table", ["training cases", "macro-F1 (mean)", "95% range"],
         [[str(p["train_cases"]), f"{p['macro_f1']['mean']:.3f}", f"{p['macro_f1']['low']:.3f}-{p['macro_f1']['high']:.3f}"] for p in evaluation["learning_curve"]]),
        ("figure", "learning_curve", "Learning curve", _plot_learning_curve(evaluation)),
        ("h2", "Entities (patterns learned from training folds only)"),
        ("p", "Mean over the CV repeats, with the 2.5-97.5 percentile range over repeats in brackets (the same "
              f"{sum(evaluation['entities']['exact'][label]['gold'] for label in ('CLUSTER', 'PROGRAMME'))} gold spans "
              "each time, so the range shows fold-assignment variation, not case sampling)."),
        ("table", ["label", "match", "precision", "recall", "F1", "gold spans"],
         [[label, mode, _iv(evaluation["entities"][mode][label]["precision"]), _iv(evaluation["entities"][mode][label]["recall"]),
           _iv(evaluation["entities"][mode][label]["f1"]), str(evaluation["entities"][mode][label]["gold"])]
          for label in ("CLUSTER", "PROGRAMME") for mode in ("exact", "partial")]),
        ("p", "Names missed in cross-validation (first repeat): "
              + (", ".join(sorted({f"{m['text']} ({m['label']})" for m in evaluation["entities"]["missed"]})) or "none") + "."),
        ("p", "False hits: " + (", ".join(sorted({f"{m['text']} ({m['label']})" for m in evaluation["entities"]["false_hits"]})) or "none") + "."),
        ("h2", "Error analysis (first CV repeat)"),
        ("table", ["case", "gold", "predicted", "probabilities", "terms that drove it"],
         [[e["case"], ", ".join(e["gold"]), ", ".join(e["predicted"]), json.dumps(e["probabilities"]),
           "; ".join(f"{k}: {', '.join(v)}" for k, v in e["terms"].items())] for e in evaluation["errors"]]),
    ]
    external = evaluation.get("external") or {}
    blocks.append(("h2", "External checks (no labels needed)"))
    abstention = external.get("abstention")
    if abstention:
        blocks.append(("p", f"Abstention: of {abstention['texts']} ERC and MSCA abstracts ({abstention['selection']}), "
                            f"{abstention['uncertain_share']:.1%} come out `uncertain` (target: at least 80%). "
                            f"Those labelled: {abstention['labelled_levels']}."))
    else:
        blocks.append(("p", "Abstention check skipped: shared/data/external is not present on this machine."))
    stability = external.get("stability")
    if stability:
        blocks.append(("p", f"Stability: over {stability['texts']:,} ERDF/ESF operation summaries ({', '.join(stability['files'])}), "
                            f"{stability['uncertain_share']:.1%} are `uncertain`; level shares {stability['level_share']}."))
        blocks.append(("figure", "funding_database", "Predicted levels over a funding database", _plot_distribution(external)))
    languages = external.get("languages")
    if languages:
        blocks.append(("h3", "Languages in the funding extracts"))
        blocks.append(("p", f"The model reads {', '.join(languages['supported'])}; any other language gets "
                            "`status=unsupported_language` and no level (py3langid, model inside its package). Share per "
                            "extract (every non-empty text); detector accuracy on a hand-checked sample of 100: "
                            "reports/languages/README.md."))
        blocks.append(("table", ["extract", "texts", "unsupported_language", "languages (share)"],
                       [[name, f"{v['texts']:,}", f"{v['unsupported_share']:.1%}",
                         ", ".join(f"{code} {share:.1%}" for code, share in v["languages"].items())]
                        for name, v in languages["extracts"].items()]))
    for name, result in (evaluation.get("test_sets") or {}).items():
        blocks.append(("h2", f"Test set: {name}"))
        blocks.append(("p", f"{result['cases']} cases; macro-F1 {result['macro_f1']:.3f}, micro-F1 {result['micro_f1']:.3f}, "
                            f"subset accuracy {result['subset_accuracy']:.3f}, Hamming loss {result['hamming_loss']:.3f}, "
                            f"uncertain {result['uncertain_share']:.1%}."))
        blocks.append(("table", ["level", "precision", "recall", "F1", "support"], _metric_rows(result)))
    return blocks


def render_markdown(blocks: list[tuple], figures_dir: str = "figures") -> tuple[str, dict[str, bytes]]:
    lines: list[str] = []
    figures: dict[str, bytes] = {}
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            lines += ["#" * int(kind[1]) + " " + block[1], ""]
        elif kind == "p":
            lines += [block[1], ""]
        elif kind == "table":
            headers, rows = block[1], block[2]
            lines.append("| " + " | ".join(headers) + " |")
            lines.append("| " + " | ".join("---" for _ in headers) + " |")
            lines += ["| " + " | ".join(str(c).replace("|", "/") for c in row) + " |" for row in rows]
            lines.append("")
        elif kind == "figure":
            name = f"{block[1]}.png"
            figures[name] = block[3]
            lines += [f"![{block[2]}]({figures_dir}/{name})", ""]
    return "\n".join(lines), figures


def render_html(blocks: list[tuple], title: str) -> str:
    body = []
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            body.append(f"<{kind}>{html.escape(block[1])}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{html.escape(block[1])}</p>")
        elif kind == "table":
            head = "".join(f"<th>{html.escape(h)}</th>" for h in block[1])
            rows = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in block[2])
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif kind == "figure":
            data = base64.b64encode(block[3]).decode("ascii")
            body.append(f'<figure><img alt="{html.escape(block[2])}" src="data:image/png;base64,{data}"><figcaption>{html.escape(block[2])}</figcaption></figure>')
    style = ("body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}"
             "table{border-collapse:collapse;margin:1em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}"
             "th{background:#eef4f0}img{max-width:100%}figure{margin:1em 0}figcaption{font-size:.85em;color:#555}")
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")


def write_report(evaluation: dict[str, Any], meta: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Write report.md (+ figures/), report.html (self-contained) and metrics.json."""
    blocks = build_report_blocks(evaluation, meta)
    markdown, figures = render_markdown(blocks)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "figures").mkdir(exist_ok=True)
    for name, data in figures.items():
        (out_dir / "figures" / name).write_bytes(data)
    paths = {"markdown": out_dir / "report.md", "html": out_dir / "report.html", "metrics": out_dir / "metrics.json"}
    paths["markdown"].write_text(markdown, encoding="utf-8")
    paths["html"].write_text(render_html(blocks, f"csvnlp evaluation: {meta.get('name', 'model')}"), encoding="utf-8")
    paths["metrics"].write_text(json.dumps(evaluation, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return paths
