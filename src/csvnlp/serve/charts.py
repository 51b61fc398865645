"""Charts drawn on the server as SVG geometry (the templates only place the shapes): no
JavaScript, no chart library, nothing fetched from elsewhere."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from csvnlp.levels import LEVEL_KEYS

SERIES = (*LEVEL_KEYS, "uncertain")
LABEL_WIDTH = 210
BAR_AREA = 420
BAR_HEIGHT = 9
GROUP_GAP = 12


@dataclass
class Bar:
    series: str
    x: float
    y: float
    width: float
    share: float


@dataclass
class Row:
    label: str
    rows: int
    y: float
    bars: list[Bar]


@dataclass
class ShareChart:
    rows: list[Row]
    width: int
    height: int
    label_width: int = LABEL_WIDTH
    bar_area: int = BAR_AREA

    @property
    def ticks(self) -> list[tuple[float, str]]:
        return [(self.label_width + self.bar_area * t / 4, f"{25 * t}%") for t in range(5)]


def share_chart(shares: dict[str, Any]) -> ShareChart:
    """Grouped horizontal bars: per group, one bar per level and one for uncertain."""
    rows, y = [], 24.0
    for group in shares["groups"]:
        bars = []
        for i, series in enumerate(SERIES):
            share = group["shares"][series]
            bars.append(Bar(series, LABEL_WIDTH, y + i * (BAR_HEIGHT + 1), round(BAR_AREA * share, 1), share))
        label = str(group["group"]).strip() or "(empty)"
        rows.append(Row(label if len(label) <= 30 else label[:29] + "…", group["rows"], y, bars))
        y += len(SERIES) * (BAR_HEIGHT + 1) + GROUP_GAP
    return ShareChart(rows, LABEL_WIDTH + BAR_AREA + 70, int(y + 6))


def probability_bars(levels: list[dict[str, Any]], thresholds: dict[str, float]) -> list[dict[str, Any]]:
    """One bar per level with its threshold marked, for the classify and record pages."""
    out = []
    for item in levels:
        key, p = item["level"], float(item["probability"])
        out.append({"level": key, "probability": p, "width": round(300 * p, 1),
                    "threshold": thresholds.get(key), "threshold_x": round(300 * thresholds.get(key, 0), 1)})
    return out
