"""The evaluation report: built once as a list of blocks (heading, paragraph, table, figure)
from the typed ``Evaluation`` and rendered twice: Markdown with figures as PNG files beside
it, and one self-contained HTML file with the same figures embedded, so it opens offline and
can be mailed as it is. ``metrics.json`` records the same results as data.

Each view has its block builder; a new typed view (in ``Evaluation.views``) gets one by
registering it with ``view_blocks.register``.
"""

from __future__ import annotations

import base64
import html
import json
from functools import singledispatch
from pathlib import Path
from typing import Any

from csvnlp.evaluation import figures
from csvnlp.evaluation.bootstrap import Interval
from csvnlp.evaluation.cross_validation import CrossValidationResult
from csvnlp.evaluation.entity_evaluation import EntityEvaluation
from csvnlp.evaluation.frozen_split import FrozenSplitResult, FrozenSplitView
from csvnlp.evaluation.leave_source_out import LeaveSourceOutResult
from csvnlp.evaluation.protocol import Evaluation, to_jsonable
from csvnlp.levels import ENTITY_LABELS, LEVEL_KEYS

Block = tuple


def percent(interval: Interval) -> str:
    return f"{interval.value:.1%} [{interval.low:.1%}, {interval.high:.1%}]"


def _maybe(value: float, fmt: str) -> str:
    return "-" if value != value else fmt.format(value)  # NaN: undefined on this slice


def _metric_rows(per_level: dict[str, Any]) -> list[list[str]]:
    return [[key, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", str(int(m["support"]))]
            for key, m in ((key, per_level[key]) for key in LEVEL_KEYS)]


@singledispatch
def view_blocks(result: Any) -> list[Block]:
    """The report's blocks for one typed result."""
    raise TypeError(f"the report has no blocks for {type(result).__name__}; register them with view_blocks.register")


# ---------------------------------------------------------------------------- leave-one-source-out


@view_blocks.register
def _leave_source_out_blocks(result: LeaveSourceOutResult) -> list[Block]:
    """Beside the headline: each source family of the training records held out in turn."""
    show = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    pct = lambda v: "-" if v is None else f"{v:.0%}"  # noqa: E731
    mark = {True: "yes", False: "no", None: "n/a"}
    strict = {row["family"]: row for row in result.summary["macro_f1"]["families"]}
    gold = {row["family"]: row for row in result.summary["macro_f1_gold_levels"]["families"]}
    rows = []
    for family, entry in result.families.items():
        model = entry["clear"]["model"]
        support = "/".join(str(model["levels"][k]["support"]) for k in LEVEL_KEYS)
        rows.append([family, f"{entry['clear_records']} ({support}/{model['none_rows']})",
                     show(strict[family]["macro_f1"]), show(strict[family]["keyword_rule"]), mark[strict[family]["met"]],
                     show(gold[family]["macro_f1"]), mark[gold[family]["met"]]]
                    + [show(model["levels"][k]["f1"]) for k in LEVEL_KEYS]
                    + [pct(model["abstention_on_none"]), pct(model["coverage_of_csv"])])
    pooled = result.pooled["clear"]
    s, g = result.summary["macro_f1"], result.summary["macro_f1_gold_levels"]
    targets = result.summary["targets"]
    return [
        ("h2", "Beside it: sources the model never saw (leave-one-source-out)"),
        ("p", f"The frozen split comes from the same source families as the training records. Here each family of the "
              f"{result.records} training records is held out in turn and the training recipe ({result.recipe}) is refitted on "
              "the others, settings and thresholds included, then scored on the held-out family's clear rows beside the "
              "keyword rule. Macro-F1 is over the levels present: in the gold labels or the predictions (strict: a level "
              "the family never has but the model predicts counts 0), and over the gold levels only. Several families hold "
              "1-4 clear records of a level, so their figures move by a whole record's worth."),
        ("table", ["held-out family", "clear rows (PM/VC/CD/none)", "macro-F1 (strict)", "keyword rule", "met",
                   "macro-F1 (gold levels)", "met"] + [f"F1 {k}" for k in LEVEL_KEYS] + ["abstention", "coverage"], rows),
        ("p", f"Mean over the {s['families_judged']} families with at least {targets['min_clear_rows']} clear rows and a level: "
              f"{show(s['mean'])} strict, {show(g['mean'])} over gold levels, against {show(result.summary['frozen_macro_f1'])} "
              f"on the frozen split (target: within {targets['gap_to_frozen']}); families at macro-F1 >= {targets['macro_f1']} "
              f"and >= {targets['margin_over_keyword_rule']} above the rule: {s['families_met']} (strict), {g['families_met']} "
              f"(gold levels). Pooled over every held-out clear row: macro-F1 {show(pooled['macro_f1_three_levels']['model'])} "
              f"against the rule's {show(pooled['macro_f1_three_levels']['keyword_rule'])}, abstention "
              f"{pct(pooled['model']['abstention_on_none'])}, coverage {pct(pooled['model']['coverage_of_csv'])}."),
        ("p", "What this means for you: on a funding database csvnlp has not seen, expect clearly lower agreement than on the "
              "frozen split. Levels whose evidence is the same wording across databases (a firm's product for a societal "
              "need; cluster and ecosystem support) carry over best; value_chain, whose records in one database (Irish "
              "energy retrofits of a firm's own premises) look like product records of another, carries over worst. Before "
              "relying on csvnlp for a new database, annotate a few dozen of its records and check (`csvnlp compare "
              "--test-set`)."),
    ]


# ---------------------------------------------------------------------------- the frozen split


@view_blocks.register
def _frozen_split_blocks(headline: FrozenSplitResult) -> list[Block]:
    """The headline: the model as shipped on the frozen test split of real records."""
    clear, everything = headline.clear, headline.views["all"]

    def rows(view: FrozenSplitView) -> list[list[str]]:
        return [[name, str(s.macro_f1)] + [str(s.levels[k].f1) for k in LEVEL_KEYS]
                + [percent(s.abstention_on_none), percent(s.coverage_of_csv)] for name, s in view.systems.items()]
    header = ["system", "macro-F1"] + [f"F1 {k}" for k in LEVEL_KEYS] + ["abstention on none", "coverage of CSV records"]
    model = clear.systems["model"]
    blocks: list[Block] = [
        ("h2", "Headline: the model as shipped, on the frozen test split"),
        ("p", f"{headline.records} real records (CORDIS objectives, ERDF/ESF operations, call topics) annotated under "
              "corpus/LABELLING_GUIDELINE.md and set aside by a seeded rule before any model change; nothing was fitted, "
              f"selected or tuned on them. Headline rows: the {headline.clear_records} `clear` ones (positives: "
              + ", ".join(f"{k} {model.levels[k].support}" for k in LEVEL_KEYS)
              + f"; none {model.none_rows}). Intervals: 95% case bootstrap "
              "(records resampled with replacement). Abstention = share of records annotated none that get no level; "
              "coverage = share of CSV records that get at least one."),
        ("table", header, rows(clear)),
        ("figure", "frozen_split", "Frozen test split, clear rows", figures.frozen_split(clear)),
    ]
    if clear.margin_over_keyword_rule is not None:
        blocks.append(("p", f"Model minus keyword rule, macro-F1 on the same rows: {clear.margin_over_keyword_rule} (paired bootstrap)."))
    blocks += [
        ("h3", "Against the targets"),
        ("table", ["target", "measured", "goal", "met"],
         [[t.target, f"{t.value:.3f}", f"{t.goal:.2f}", "yes" if t.met else f"no, short by {t.short_by:.3f}"] for t in headline.targets]),
        ("h3", "All rows (clear and borderline), second view"),
        ("table", header, rows(everything)),
        ("h3", "Per source (clear rows)"),
        ("table", ["source", "rows", "model macro-F1", "keyword rule macro-F1", "model abstention on none", "model coverage"],
         [[source, str(v["model"].rows), _maybe(v["model"].macro_f1, "{:.3f}"), _maybe(v["keyword rule"].macro_f1, "{:.3f}"),
           _maybe(v["model"].abstention_on_none, "{:.1%}"), _maybe(v["model"].coverage_of_csv, "{:.1%}")]
          for source, v in clear.by_source.items()]),
        ("p", "Per-source macro-F1 averages the levels that occur in that source's gold labels or predictions (a level "
              "with neither has no F1); '-' where nothing is defined. Per-source figures rest on few rows each; read them "
              "for direction, not precision."),
    ]
    if headline.entities:
        blocks += view_blocks(headline.entities)
    elif headline.entities_missing:
        blocks += [("h3", "Entities"), ("p", headline.entities_missing + ".")]
    return blocks


@view_blocks.register
def _entity_blocks(entities: EntityEvaluation) -> list[Block]:
    """The frozen entity split: the shipped extractor beside its rules alone, per label and per source."""
    systems = [("shipped", {"exact": entities.exact, "partial": entities.partial}), ("rules only", entities.rules_only)]
    status = "SPENT split, development figures, not a test" if entities.spent else "current test split"
    blocks: list[Block] = [
        ("h3", f"Entities on {entities.split} ({entities.records} records; {status})"),
        ("p", f"Scored: {entities.split}; {entities.split_note}." if entities.split_note else
              f"Scored: {entities.split}. SPENT: it was scored three times during issue 10's development; these are "
              "development figures, not a test. It is the level test split's records plus the names-only test "
              "records drawn by a seeded rule."),
        ("p", f"Extractor: {entities.extractor}. The split holds {entities.exact['CLUSTER']['gold']} gold CLUSTER and "
              f"{entities.exact['PROGRAMME']['gold']} gold PROGRAMME spans; few CLUSTER spans mean a wide margin on CLUSTER "
              "figures. 'Rules only' is the same rules and names without what was learned from the training annotations "
              "(rule kinds and names switched off, programme tails) and without a recognizer."),
        ("table", ["extractor", "label", "match", "precision", "recall", "F1", "gold spans", "found"],
         [[name, label, mode, f"{scores[mode][label]['precision']:.3f}", f"{scores[mode][label]['recall']:.3f}",
           f"{scores[mode][label]['f1']:.3f}", str(scores[mode][label]["gold"]), str(scores[mode][label]["found"])]
          for label in ENTITY_LABELS for mode in ("exact", "partial") for name, scores in systems]),
    ]
    if entities.exact_by_source:
        def cell(row: dict[str, Any], label: str) -> str:
            return f"{row['model'][label]['f1']:.3f} / {row['rules only'][label]['f1']:.3f}" if row["model"][label]["gold"] else "-"
        blocks.append(("table", ["source", "records", "CLUSTER gold", "CLUSTER exact F1 (shipped / rules only)",
                                 "PROGRAMME gold", "PROGRAMME exact F1 (shipped / rules only)"],
                       [[source, str(row.get("records", "")), str(row["model"]["CLUSTER"]["gold"]), cell(row, "CLUSTER"),
                         str(row["model"]["PROGRAMME"]["gold"]), cell(row, "PROGRAMME")]
                        for source, row in entities.exact_by_source.items()]))
    if not entities.spent:
        blocks.append(("p", "Errors are not listed for a current test split: it is scored once, and error analysis "
                            "uses development data."))
        return blocks
    blocks.append(("p", "Most frequent false hits: " + (", ".join(f"{e['text']!r} ({e['label']}, {e['count']})" for e in entities.frequent_false_hits) or "none")
                   + ". Most frequent misses: " + (", ".join(f"{e['text']!r} ({e['label']}, {e['count']})" for e in entities.frequent_misses) or "none") + "."))
    return blocks


# ---------------------------------------------------------------------------- cross-validation


def _permutation_sentence(perm: dict[str, Any]) -> str:
    smallest = perm["p_value"] <= perm["smallest_possible_p"]
    return (f"Permutation test (scikit-learn's permutation_test_score): macro-F1 {perm['observed_macro_f1']:.3f} with the real "
            f"labels against {perm['null_mean']:.3f} on average (95th percentile {perm['null_95th']:.3f}) over "
            f"{perm['permutations']} shuffles of the label rows; p = {perm['p_value']:.4f}"
            + (" (the smallest p this many permutations can give)" if smallest else "")
            + ". Every run, with real or shuffled labels, refits vocabulary, weights, thresholds and relevance model inside "
            "each training fold with the model's settings; only the settings are not re-chosen per fold.")


def _leave_one_out_blocks(cv: CrossValidationResult) -> list[Block]:
    loo = cv.leave_one_out
    if not loo:
        return [("h3", "Leave-one-out (second view)"), ("p", f"Skipped: {cv.cases} cases ({cv.scheme['caveat']}).")]
    return [
        ("h3", "Leave-one-out (second view)"),
        ("p", f"macro-F1 {loo['macro_f1']:.3f}, micro-F1 {loo['micro_f1']:.3f}, subset accuracy {loo['subset_accuracy']:.3f}."),
        ("table", ["level", "precision", "recall", "F1", "support"], _metric_rows(loo["per_level"])),
    ]


@view_blocks.register
def _cross_validation_blocks(cv: CrossValidationResult) -> list[Block]:
    headline, scheme, entities = cv.headline, cv.scheme, cv.entities
    blocks: list[Block] = [
        ("p", f"{cv.cases} annotated cases {cv.level_counts}. With so few cases this report is "
              "mostly about uncertainty: every headline figure carries a 95% interval from resampling the cases."),
        ("p", f"Scheme: {scheme['outer']}; {scheme['inner']}. Vocabulary, weights, "
              f"thresholds, relevance model and entity patterns are fitted on training folds only. "
              f"The shipped model's settings: {scheme['hyperparameters']}; settings chosen inside the folds: "
              + "; ".join(f"C={s['C']}, lexicon weight {s['lexicon_weight']}, n-grams 1-{s['ngram_max']} in {s['folds']} folds"
                          for s in scheme["settings_chosen_in_folds"])
              + f". Caveat: {scheme['caveat']}."),
        ("h3", "Model against baselines (same folds)"),
        ("table", ["system", "macro-F1", "micro-F1", "subset accuracy", "Hamming loss"],
         [[name, str(headline[key].macro_f1), str(headline[key].micro_f1), str(headline[key].subset_accuracy), str(headline[key].hamming_loss)]
          for name, key in (("csvnlp model", "model"), ("keyword rule (level definitions)", "keyword_rule"), ("prior (DummyClassifier)", "prior"))]),
        ("figure", "baselines", "Model against baselines", figures.baselines(cv)),
    ]
    if cv.permutation_test:
        blocks += [("p", _permutation_sentence(cv.permutation_test)), ("figure", "permutation", "Permutation test", figures.permutation(cv))]
    blocks += [
        ("h2", "Per level"),
        ("table", ["level", "precision", "recall", "F1", "support"], _metric_rows(cv.per_level["model"])),
        ("p", "Per-level F1 with intervals: " + "; ".join(f"{k} {v}" for k, v in headline["model"].per_level_f1.items())
              + ". Thresholds fitted inside the folds: " + "; ".join(f"{k} {v}" for k, v in cv.fold_thresholds.items()) + "."),
        ("figure", "confusion", "Confusion per level", figures.confusion(cv)),
        ("figure", "reliability", "Reliability diagram", figures.reliability(cv)),
        ("figure", "threshold_sweep", "Threshold sweep", figures.threshold_sweep(cv)),
        *_leave_one_out_blocks(cv),
    ]
    if cv.learning_curve:
        blocks += [
            ("h2", "Learning curve"),
            ("table", ["training cases", "macro-F1 (mean)", "95% range"],
             [[str(p["train_cases"]), f"{p['macro_f1'].value:.3f}", f"{p['macro_f1'].low:.3f}-{p['macro_f1'].high:.3f}"] for p in cv.learning_curve]),
            ("figure", "learning_curve", "Learning curve", figures.learning_curve(cv)),
        ]
    blocks += [
        ("h2", "Entities (patterns learned from training folds only)"),
        ("p", "Mean over the CV repeats, with the 2.5-97.5 percentile range over repeats in brackets (the same "
              f"{sum(entities['exact'][label]['gold'] for label in ENTITY_LABELS)} gold spans "
              "each time, so the range shows fold-assignment variation, not case sampling)."),
        ("table", ["label", "match", "precision", "recall", "F1", "gold spans"],
         [[label, mode, str(entities[mode][label]["precision"]), str(entities[mode][label]["recall"]),
           str(entities[mode][label]["f1"]), str(entities[mode][label]["gold"])]
          for label in ENTITY_LABELS for mode in ("exact", "partial")]),
        ("p", "Names missed in cross-validation (first repeat): "
              + (", ".join(sorted({f"{m['text']} ({m['label']})" for m in entities["missed"]})) or "none") + "."),
        ("p", "False hits: " + (", ".join(sorted({f"{m['text']} ({m['label']})" for m in entities["false_hits"]})) or "none") + "."),
        ("h2", "Error analysis (first CV repeat)"),
        ("table", ["case", "gold", "predicted", "probabilities", "terms that drove it"],
         [[e["case"], ", ".join(e["gold"]), ", ".join(e["predicted"]), json.dumps(e["probabilities"]),
           "; ".join(f"{k}: {', '.join(v)}" for k, v in e["terms"].items())] for e in cv.errors]),
    ]
    return blocks


# ---------------------------------------------------------------------------- the whole report


def _unlabelled_blocks(checks: dict[str, Any]) -> list[Block]:
    blocks: list[Block] = [("h2", "Unlabelled checks (real texts, no labels needed)")]
    abstention = checks.get("abstention")
    if abstention:
        blocks.append(("p", f"Abstention: of {abstention['texts']} ERC and MSCA abstracts ({abstention['selection']}), "
                            f"{abstention['uncertain_share']:.1%} come out `uncertain` (target: at least 80%). "
                            f"Those labelled: {abstention['labelled_levels']}."))
    else:
        blocks.append(("p", "Abstention check skipped: shared/data/external is not present on this machine."))
    stability = checks.get("stability")
    if stability:
        blocks.append(("p", f"Stability: over {stability['texts']:,} ERDF/ESF operation summaries ({', '.join(stability['files'])}), "
                            f"{stability['uncertain_share']:.1%} are `uncertain`; level shares {stability['level_share']}."))
        blocks.append(("figure", "funding_database", "Predicted levels over a funding database", figures.distribution(stability)))
    languages = checks.get("languages")
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
    return blocks


def build_report_blocks(evaluation: Evaluation, meta: dict[str, Any]) -> list[Block]:
    blocks: list[Block] = [("h1", f"csvnlp evaluation: {meta.get('name', 'model')}")]
    if evaluation.frozen_split:
        blocks += view_blocks(evaluation.frozen_split)
    else:
        blocks += [("h2", "Headline: frozen test split"),
                   ("p", "No frozen test split was found (corpus/external_test/), so this report has only the "
                         "cross-validation view below.")]
    for view in evaluation.views:
        blocks += view_blocks(view)
    blocks += [("h2", "Second view: cross-validation on the report's cases"),
               ("p", "How well the report's own Table 1 labels are learned from its 27 narrative cases. These cases are one "
                     "template (the report's case write-ups), not the texts csvnlp is run on; the figures above are the ones "
                     "that say how it does in use.")]
    blocks += view_blocks(evaluation.cross_validation)
    blocks += _unlabelled_blocks(evaluation.unlabelled_checks)
    for name, result in evaluation.test_sets.items():
        blocks.append(("h2", f"Labelled test set: {name}"))
        blocks.append(("p", f"{result.cases} cases; macro-F1 {result.macro_f1:.3f}, micro-F1 {result.micro_f1:.3f}, "
                            f"subset accuracy {result.subset_accuracy:.3f}, Hamming loss {result.hamming_loss:.3f}, "
                            f"uncertain {result.uncertain_share:.1%}."))
        blocks.append(("table", ["level", "precision", "recall", "F1", "support"], _metric_rows(result.per_level)))
    return blocks


def render_markdown(blocks: list[Block], figures_dir: str = "figures") -> tuple[str, dict[str, bytes]]:
    lines: list[str] = []
    pictures: dict[str, bytes] = {}
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
            pictures[name] = block[3]
            lines += [f"![{block[2]}]({figures_dir}/{name})", ""]
    return "\n".join(lines), pictures


def render_html(blocks: list[Block], title: str) -> str:
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


def write_report(evaluation: Evaluation, meta: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Write report.md (+ figures/), report.html (self-contained) and metrics.json."""
    blocks = build_report_blocks(evaluation, meta)
    markdown, pictures = render_markdown(blocks)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "figures").mkdir(exist_ok=True)
    for stale in (out_dir / "figures").glob("*.png"):  # a figure an earlier report had and this one has not
        if stale.name not in pictures:
            stale.unlink()
    for name, data in pictures.items():
        (out_dir / "figures" / name).write_bytes(data)
    paths = {"markdown": out_dir / "report.md", "html": out_dir / "report.html", "metrics": out_dir / "metrics.json"}
    paths["markdown"].write_text(markdown, encoding="utf-8")
    paths["html"].write_text(render_html(blocks, f"csvnlp evaluation: {meta.get('name', 'model')}"), encoding="utf-8")
    paths["metrics"].write_text(json.dumps(to_jsonable(evaluation), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return paths
