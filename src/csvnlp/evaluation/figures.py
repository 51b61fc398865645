"""The evaluation report's figures (matplotlib, rendered to PNG bytes; no display needed)."""

from __future__ import annotations

import io
from typing import Any

from csvnlp.levels import LEVEL_KEYS


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


def baselines(cv: Any) -> bytes:
    headline = cv.headline

    def draw(plt: Any) -> Any:
        fig, ax = plt.subplots(figsize=(6.4, 3.2))
        names = ["prior", "keyword_rule", "model"]
        means = [headline[n].macro_f1.value for n in names]
        lows = [headline[n].macro_f1.value - headline[n].macro_f1.low for n in names]
        highs = [headline[n].macro_f1.high - headline[n].macro_f1.value for n in names]
        ax.barh(["prior (Dummy)", "keyword rule", "csvnlp model"], means, xerr=[lows, highs], color=["#bbb", "#8fb3d9", "#2a6f4e"], capsize=4)
        ax.set_xlim(0, 1)
        ax.set_xlabel("macro-F1 (cross-validated, 95% bootstrap interval)")
        ax.set_title("Model against baselines, same folds")
        return fig

    return _figure(draw)


def reliability(cv: Any) -> bytes:
    def draw(plt: Any) -> Any:
        fig, ax = plt.subplots(figsize=(5.2, 4.2))
        ax.plot([0, 1], [0, 1], ls="--", color="#999", label="perfect calibration")
        for key in LEVEL_KEYS:
            rows = cv.reliability[key]
            ax.plot([r["mean_probability"] for r in rows], [r["observed"] for r in rows], marker="o", label=key)
        ax.set_xlabel("predicted probability (bin mean)")
        ax.set_ylabel("observed frequency of the level")
        ax.set_title("Reliability (out-of-fold)")
        ax.legend(fontsize=8)
        return fig

    return _figure(draw)


def threshold_sweep(cv: Any) -> bytes:
    sweep = cv.threshold_sweep

    def draw(plt: Any) -> Any:
        fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.4), sharey=True)
        for ax, key in zip(axes, LEVEL_KEYS):
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


def learning_curve(cv: Any) -> bytes:
    points = cv.learning_curve

    def draw(plt: Any) -> Any:
        fig, ax = plt.subplots(figsize=(5.6, 3.6))
        x = [p["train_cases"] for p in points]
        ax.plot(x, [p["macro_f1"].value for p in points], marker="o", color="#2a6f4e", label="model macro-F1")
        ax.fill_between(x, [p["macro_f1"].low for p in points], [p["macro_f1"].high for p in points], alpha=0.25, color="#2a6f4e", label="95% range over folds")
        ax.set_xlabel("training cases")
        ax.set_ylabel("macro-F1 on held-out folds")
        ax.set_ylim(0, 1)
        ax.set_title("Learning curve: what more annotation buys")
        ax.legend(fontsize=8)
        return fig

    return _figure(draw)


def confusion(cv: Any) -> bytes:
    def draw(plt: Any) -> Any:
        fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.2))
        for ax, key in zip(axes, LEVEL_KEYS):
            c = cv.confusion[key]
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


def permutation(cv: Any) -> bytes:
    test = cv.permutation_test

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


def distribution(stability: dict[str, Any]) -> bytes:
    def draw(plt: Any) -> Any:
        fig, ax = plt.subplots(figsize=(5.6, 3.2))
        names = list(LEVEL_KEYS) + ["uncertain"]
        values = [stability["level_share"][k] for k in LEVEL_KEYS] + [stability["uncertain_share"]]
        ax.bar(names, values, color=["#2a6f4e", "#8fb3d9", "#d9a441", "#bbb"])
        ax.set_ylabel("share of operations")
        ax.set_title(f"Predicted levels over {stability['texts']:,} ERDF/ESF operations")
        ax.tick_params(axis="x", labelsize=8)
        return fig

    return _figure(draw)


def frozen_split(view: Any) -> bytes:
    """Every headline figure of each system on the clear rows, with its interval."""
    def draw(plt: Any) -> Any:
        fig, ax = plt.subplots(figsize=(7, 3.2))
        names = list(view.systems)
        groups = ["macro-F1"] + list(LEVEL_KEYS) + ["abstention on none", "coverage of CSV"]
        width = 0.8 / len(names)
        for k, name in enumerate(names):
            m = view.systems[name]
            values = [m.macro_f1] + [m.levels[key].f1 for key in LEVEL_KEYS] + [m.abstention_on_none, m.coverage_of_csv]
            points = [v.value for v in values]
            errors = [[p - v.low for p, v in zip(points, values)], [v.high - p for p, v in zip(points, values)]]
            ax.bar([i + k * width for i in range(len(groups))], points, width, yerr=errors, capsize=2, label=name)
        ax.set_xticks([i + width * (len(names) - 1) / 2 for i in range(len(groups))])
        ax.set_xticklabels([g.replace("_", "\n") for g in groups], fontsize=7)
        ax.set_ylim(0, 1.05)
        ax.set_title(f"Frozen test split, clear rows (n={view.systems['model'].rows}); 95% bootstrap intervals", fontsize=9)
        ax.legend(fontsize=7)
        return fig
    return _figure(draw)
