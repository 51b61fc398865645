"""Leave-one-source-out figures of a training recipe over the training records (issue 18).

Holds out each source family in turn (CORDIS H2020, FP7, Horizon Europe, water SME, ERDF/ESF
per country, call topics, the report's 27 cases), refits the recipe on the others (settings,
thresholds and relevance model chosen inside them) and scores the held-out family beside the
keyword rule. Only training records are read (``corpus/cases.jsonl`` and ``corpus/extra/``):
the frozen test split is never touched here.

Usage (from the repository root):
    python benchmarks/leave_source_out.py                       # the recipe csvnlp train uses ("both")
    python benchmarks/leave_source_out.py --recipe NAME --jobs 1
    python benchmarks/leave_source_out.py --list                # the recipes
Writes benchmarks/results/leave_source_out/<recipe>.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from csvnlp.corpus import load_corpus, split_records  # noqa: E402
from csvnlp.evaluation.leave_source_out import evaluate_leave_source_out  # noqa: E402
from csvnlp.training import report_prototypes  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "leave_source_out"
METRICS = ROOT / "reports" / "evaluation" / "metrics.json"


def frozen_reference() -> float | None:
    """The shipped model's clear macro-F1 on the frozen level split, as the last ``csvnlp
    evaluate`` wrote it (each such scoring is a row of reports/SCORING_LEDGER.md), to 3 places:
    the reference the mean over held-out families is compared with. Read, not typed in, so a
    retrained and rescored model cannot leave it behind. None when there is no scoring yet."""
    try:
        metrics = json.loads(METRICS.read_text(encoding="utf-8"))
        return round(float(metrics["frozen_split"]["views"]["clear"]["systems"]["model"]["macro_f1"]["value"]), 3)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def recipes() -> dict:
    from csvnlp import transfer

    return transfer.RECIPES


def table(result: dict) -> str:
    """One row per held-out family (clear rows): macro-F1 under both readings of "levels present"."""
    show = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    pct = lambda v: "-" if v is None else f"{v:.0%}"  # noqa: E731
    mark = {True: "yes", False: "no", None: "n/a"}
    strict = {row["family"]: row for row in result["summary"]["macro_f1"]["families"]}
    gold = {row["family"]: row for row in result["summary"]["macro_f1_gold_levels"]["families"]}
    lines = ["| held-out family | clear rows (PM/VC/CD/none) | macro-F1, gold or predicted levels: model / rule / met | "
             "macro-F1, gold levels: model / rule / met | F1 PM / VC / CD | abstention | coverage |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for family, entry in result["families"].items():
        model = entry["clear"]["model"]
        levels = model["levels"]
        support = "/".join(str(levels[k]["support"]) for k in ("products_markets", "value_chain", "cluster_development"))
        s_row, g_row = strict[family], gold[family]
        lines.append(
            f"| {family} | {entry['clear_records']} ({support}/{model['none_rows']}) | "
            f"{show(s_row['macro_f1'])} / {show(s_row['keyword_rule'])} / {mark[s_row['met']]} | "
            f"{show(g_row['macro_f1'])} / {show(g_row['keyword_rule'])} / {mark[g_row['met']]} | "
            + " / ".join(show(levels[k]["f1"]) for k in ("products_markets", "value_chain", "cluster_development"))
            + f" | {pct(model['abstention_on_none'])} | {pct(model['coverage_of_csv'])} |")
    pooled = result["pooled"]["clear"]
    lines.append("")
    for metric, name in (("macro_f1", "gold or predicted levels"), ("macro_f1_gold_levels", "gold levels")):
        s = result["summary"][metric]
        lines.append(f"- macro-F1 over {name}: mean over the {s['families_judged']} judged families {s['mean']} "
                     f"(frozen reference {result['summary']['frozen_macro_f1']}, gap {s['gap_to_frozen']}); "
                     f"{s['families_met']} of {s['families_judged']} meet both targets.")
    lines.append(f"- pooled over every held-out clear row: macro-F1 (three levels) {pooled['macro_f1_three_levels']['model']} "
                 f"vs rule {pooled['macro_f1_three_levels']['keyword_rule']}; abstention {pct(pooled['model']['abstention_on_none'])}, "
                 f"coverage {pct(pooled['model']['coverage_of_csv'])}.")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default="both")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--in-source", action="store_true",
                        help="the known-sources control: stratified 4-fold over the same records (every family on both sides)")
    args = parser.parse_args()
    if args.list:
        for name, recipe in recipes().items():
            print(f"{name}: {(recipe.__doc__ or '').strip().splitlines()[0]}")
        return 0
    records, _frozen = split_records(load_corpus([args.corpus]))
    prototypes = report_prototypes(args.corpus)
    started = time.time()
    if args.in_source:
        from csvnlp.evaluation.leave_source_out import hold_out_each_family, in_source_groups, score_held_out

        held = hold_out_each_family(records, prototypes, recipes()[args.recipe], seed=args.seed, n_jobs=args.jobs,
                                    outer_groups=in_source_groups(records, seed=args.seed), progress=lambda m: print(m, file=sys.stderr))
        result = score_held_out(records, held)
        pooled = result["pooled"]["clear"]
        print(f"recipe {args.recipe}, known sources (stratified 4-fold): clear macro-F1 {pooled['macro_f1_three_levels']['model']} "
              f"(rule {pooled['macro_f1_three_levels']['keyword_rule']}), abstention {pooled['model']['abstention_on_none']}, "
              f"coverage {pooled['model']['coverage_of_csv']}; all rows {result['pooled']['all']['macro_f1_three_levels']['model']}")
        RESULTS.mkdir(parents=True, exist_ok=True)
        result["command"] = f"python benchmarks/leave_source_out.py --recipe {args.recipe} --in-source"
        (RESULTS / f"{args.recipe}.in-source.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        return 0
    result = evaluate_leave_source_out(records, prototypes, recipes()[args.recipe], seed=args.seed, n_jobs=args.jobs,
                                       frozen_macro_f1=frozen_reference(), progress=lambda m: print(m, file=sys.stderr))
    result["recipe"] = args.recipe
    result["seconds"] = round(time.time() - started, 1)
    result["command"] = f"python benchmarks/leave_source_out.py --recipe {args.recipe} --seed {args.seed}"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.recipe}.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"recipe {args.recipe} ({result['seconds']} s)")
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
