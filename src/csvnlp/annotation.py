"""Growing the corpus: picking what to annotate next, the terminal labelling loop, and the
append-only decisions log both write.

An annotation file (what ``suggest`` writes) is JSON Lines, one description a line:
``{"id", "text", "suggested": [level keys], "probabilities": {...}, "entities": [...]}``.
``annotate`` appends each decision to ``FILE.decisions.jsonl`` the moment it is made
(``{"id", "text", "levels", "action": "label"}``, or ``{"id", "action": "undo"}``), flushed
and synced, so quitting or a killed terminal loses nothing and a restart continues after the
last decision. ``corpus import`` reads that log (the last word on each id wins; an undo takes
back the decision before it). ``levels: []`` is a "none" decision: a negative example the
classifier learns from.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from csvnlp.corpus_import import resolve_decisions
from csvnlp.errors import InputError, OutputExistsError
from csvnlp.journal import Journal, read_entries
from csvnlp.levels import LEVEL_KEYS

LEVEL_KEYS_BY_DIGIT = {str(i + 1): key for i, key in enumerate(LEVEL_KEYS)}


# ============================================================================ suggest


def uncertainty(probabilities: dict[str, float], thresholds: dict[str, float]) -> tuple[float, str]:
    """How close the text is to a decision (0 = on a threshold), and the level closest to it."""
    margins = {key: abs(probabilities[key] - thresholds[key]) for key in LEVEL_KEYS}
    level = min(margins, key=margins.get)
    return margins[level], level


def suggest(
    bundle: Any,
    chunks: Iterable[Any],
    corpus_texts: Sequence[str],
    n: int,
    max_similarity: float = 0.8,
    pool_factor: int = 20,
) -> list[dict[str, Any]]:
    """The ``n`` records most worth annotating: closest to a threshold, spread over the levels,
    and no near-duplicate (TF-IDF cosine >= ``max_similarity``) of each other or the corpus.

    Streams the chunks; keeps only the ``pool_factor * n`` most uncertain rows in memory.
    """
    from csvnlp.inputs import text_problem

    model = bundle.level_model
    thresholds = dict(zip(LEVEL_KEYS, (float(t) for t in model.thresholds_)))
    pool: list[tuple[float, int, dict[str, Any]]] = []
    order = 0
    for chunk in chunks:
        rows = [(i, t) for i, t in enumerate(chunk.texts) if chunk.problems[i] is None and text_problem(t) is None]
        if not rows:
            continue
        results = model.classify([t for _, t in rows])
        for (i, text), result in zip(rows, results):
            margin, level = uncertainty(result["probabilities"], thresholds)
            item = {"id": chunk.ids[i], "text": text, "closest_level": level, "margin": round(margin, 4),
                    "suggested": result["predicted"], "probabilities": {k: round(v, 4) for k, v in result["probabilities"].items()}}
            order += 1
            entry = (-margin, -order, item)  # a max-heap on margin keeps the smallest margins
            if len(pool) < pool_factor * n:
                heapq.heappush(pool, entry)
            elif entry > pool[0]:
                heapq.heapreplace(pool, entry)
    candidates = [item for _, _, item in sorted(pool, key=lambda e: (-e[0], -e[1]))]
    known = model.tfidf(corpus_texts) if corpus_texts else None
    chosen: list[dict[str, Any]] = []
    chosen_vectors: list[Any] = []
    # round-robin over the level each candidate is closest to, most uncertain first
    queues = {key: [c for c in candidates if c["closest_level"] == key] for key in LEVEL_KEYS}
    while len(chosen) < n and any(queues.values()):
        for key in LEVEL_KEYS:
            while queues[key]:
                candidate = queues[key].pop(0)
                vector = model.tfidf([candidate["text"]])
                if known is not None and known.shape[0] and (vector @ known.T).max() >= max_similarity:
                    continue
                if any((vector @ other.T).toarray()[0, 0] >= max_similarity for other in chosen_vectors):
                    continue
                chosen.append(candidate)
                chosen_vectors.append(vector)
                break
            if len(chosen) >= n:
                break
    for item in chosen:
        item["entities"] = next(iter(_entities(bundle, [item["text"]])))
    return chosen


def _entities(bundle: Any, texts: list[str]) -> Iterable[list[dict[str, Any]]]:
    from csvnlp.entities import extract_entities

    return extract_entities(bundle.entity_pipeline, texts)


def check_annotation_target(path: Path, force: bool) -> None:
    """Refuse to replace an annotation file (or one whose decisions were started) without
    ``force``: its decisions log refers to the file's records by id."""
    log = decisions_path(path)
    if not force and (path.exists() or log.exists()):
        what = f"{path} exists" + (f" and decisions were already made in {log}" if log.exists() else "")
        raise OutputExistsError(f"{what}; pass --force to replace it, or choose another --out")


def write_annotation_file(items: Sequence[dict[str, Any]], path: Path) -> None:
    from csvnlp.corpus import dump_jsonl, write_text_atomically

    write_text_atomically(path, dump_jsonl(items))


def suggest_to_file(
    input_path: Path, out: Path, text_columns: Sequence[str], id_column: str | None, n: int,
    model: Path | None, corpus: Sequence[Path], sep: str | None = None, force: bool = False,
) -> list[dict[str, Any]]:
    """``suggest`` over a table, written to ``out`` as an annotation file; returns the items.
    Refuses an existing ``out`` (or one whose decisions were started) before any work."""
    from csvnlp.corpus import load_corpus
    from csvnlp.persistence import load_bundle
    from csvnlp.tables import TableReader
    from csvnlp.tagging import TagOptions

    check_annotation_target(out, force)
    reader = TableReader(input_path, TagOptions(text_columns=list(text_columns), id_column=id_column, sep=sep, batch_size=2000))
    bundle = load_bundle(model)
    corpus_texts = [r["text"] for r in load_corpus(corpus)]
    items = suggest(bundle, reader.chunks(), corpus_texts, n)
    write_annotation_file(items, out)
    return items


# ============================================================================ decisions log


def decisions_path(annotation_file: Path) -> Path:
    return annotation_file.with_name(annotation_file.name + ".decisions.jsonl")


def read_decisions(path: Path) -> list[dict[str, Any]]:
    """Every logged action; a torn last line (a kill mid-write) is ignored."""
    return read_entries(path)


class DecisionLog:
    """Appends one JSON line per decision, flushed and fsynced before the next prompt. Opening
    it cuts a torn last line (a kill mid-write), so the next decision is not glued to it."""

    def __init__(self, path: Path):
        self.path = path
        self._journal = Journal(path)  # repairs a torn tail before anything is appended
        self.actions = read_entries(path)

    def append(self, action: dict[str, Any]) -> None:
        self._journal.append(action)
        self.actions.append(action)

    def standing(self) -> dict[str, dict[str, Any]]:
        return resolve_decisions(self.actions)

    def close(self) -> None:
        self._journal.close()


# ============================================================================ the terminal loop


HELP = "keys: 1 products_markets  2 value_chain  3 cluster_development  (toggle)   enter/a accept   n none (not CSV)   s skip   u undo   q quit"


@dataclass
class AnnotateResult:
    decided: int
    remaining: int
    quit: bool


def read_annotation_file(path: Path) -> list[dict[str, Any]]:
    from csvnlp.corpus import read_records

    records, problems = read_records(path)
    if problems:
        raise InputError(f"{path}: {problems[0]}")
    for record in records:
        if "id" not in record or "text" not in record:
            raise InputError(f"{path}: line {record.get('_line')}: an annotation record needs id and text")
    return records


def highlight(text: str, entities: Sequence[dict[str, Any]]) -> str:
    """Rich markup: the text with CLUSTER names in cyan and PROGRAMME names in magenta."""
    from rich.markup import escape

    out, at = [], 0
    for entity in sorted(entities, key=lambda e: e["start"]):
        style = "bold cyan" if entity["label"] == "CLUSTER" else "bold magenta"
        out.append(escape(text[at : entity["start"]]))
        out.append(f"[{style}]{escape(text[entity['start']:entity['end']])}[/{style}]")
        at = entity["end"]
    out.append(escape(text[at:]))
    return "".join(out)


def annotate_loop(
    items: Sequence[dict[str, Any]],
    log: DecisionLog,
    getkey: Callable[[], str],
    show: Callable[[str], None],
) -> AnnotateResult:
    """Label each undecided item. Every decision goes to ``log`` before the next key is read.
    Skipped items come back in the next session (a skip is not a decision)."""
    decided_now = 0
    skipped: set[str] = set()
    while True:
        standing = log.standing()
        pending = [item for item in items if item["id"] not in standing and item["id"] not in skipped]
        if not pending:
            return AnnotateResult(decided_now, 0, quit=False)
        item = pending[0]
        selection = list(item.get("suggested") or [])
        while True:
            show(_screen(item, selection, len(standing), len(items)))
            key = getkey()
            if key in LEVEL_KEYS_BY_DIGIT:
                level = LEVEL_KEYS_BY_DIGIT[key]
                selection = [k for k in LEVEL_KEYS if (k in selection) != (k == level)]
            elif key in ("\r", "\n", "a"):
                log.append({"id": item["id"], "text": item["text"], "levels": selection, "action": "label"})
                decided_now += 1
                break
            elif key == "n":
                log.append({"id": item["id"], "text": item["text"], "levels": [], "action": "label"})
                decided_now += 1
                break
            elif key == "s":
                skipped.add(item["id"])
                break
            elif key == "u":
                if log.standing():
                    log.append({"action": "undo"})
                    decided_now -= 1
                break
            elif key in ("q", "\x03", "\x04", ""):
                remaining = len([i for i in items if i["id"] not in log.standing()])
                return AnnotateResult(decided_now, remaining, quit=True)


def _screen(item: dict[str, Any], selection: list[str], decided: int, total: int) -> str:
    wrapped = highlight(item["text"], item.get("entities") or [])  # rich wraps it to the terminal
    probabilities = item.get("probabilities") or {}
    lines = [
        f"[dim]{decided}/{total} decided[/dim]   [bold]{item['id']}[/bold]",
        "",
        wrapped,
        "",
        "model suggests: " + (", ".join(item.get("suggested") or []) or "uncertain")
        + ("   (" + ", ".join(f"{k} {v:.2f}" for k, v in probabilities.items()) + ")" if probabilities else ""),
        "your labels:    " + (", ".join(selection) or "none"),
        f"[dim]{HELP}[/dim]",
    ]
    return "\n".join(lines)
