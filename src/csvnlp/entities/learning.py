"""What entity extraction learns from annotated records, always inside the training part:
the phrases of the annotated spans, how reliable each rule kind and each found name is, which
tails the annotations add to programme names, and whether a trained ``ner`` helps.

``build_entity_pipeline`` puts together what is known (the programme registry, the cluster
list, a user's gazetteer) and what is learned; ``train_entity_pipeline`` also measures, on a
held-out share of the training records, how rule and recognizer spans combine best.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from typing import Any, Iterable, Sequence

from spacy.language import Language

from csvnlp.entities.component import NAMES_COMPONENT, MERGE_POLICIES, blank_pipeline, merge_spans, tokenizable
from csvnlp.entities.registry import Registry, load_cluster_list, load_registry, normalise
from csvnlp.entities.rules import ENTITY_LABELS, GUIDELINE_KINDS, shape_matches_by_kind


def learned_patterns(records: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    """Phrase patterns from the records' annotated spans (one per distinct text and label),
    each with the record it was first learned from: the gazetteer of names seen in training."""
    seen: dict[tuple[str, str], str] = {}
    for record in records:
        for entity in record.get("entities") or []:
            phrase = record["text"][entity["start"] : entity["end"]]
            seen.setdefault((entity["label"], phrase), _record_source(record))
    return [{"label": label, "pattern": phrase, "source": source} for (label, phrase), source in sorted(seen.items())]


def _record_source(record: dict[str, Any]) -> str:
    if record.get("source_file"):
        return f"{record['source_file']} {record['row_key']['column']}={record['row_key']['value']}"
    return f"corpus record {record.get('id', '?')}"


def build_entity_pipeline(records: Iterable[dict[str, Any]], gazetteer: Sequence[dict[str, str]] = (),
                          registry: Registry | None = None, clusters: Sequence[dict[str, str]] | None = None) -> Language:
    """Rules and phrases, no recognizer: the programme registry (default: the shipped one),
    the cluster list (default: the shipped one), the ``gazetteer`` entries (a user's, or the
    call-topic programme list) and the phrases learned from ``records`` (the training fold)."""
    nlp = blank_pipeline()
    finder = nlp.add_pipe(NAMES_COMPONENT)
    finder.set_registry(load_registry() if registry is None else registry)  # type: ignore[attr-defined]
    known = list(load_cluster_list() if clusters is None else clusters) + list(gazetteer)
    finder.add_patterns({**p, "kind": "gazetteer"} for p in known)  # type: ignore[attr-defined]
    finder.add_patterns(p for learned in learned_patterns(records) for p in _as_guideline_marks(learned, finder.registry))  # type: ignore[attr-defined]
    return nlp


_BRACKETED = re.compile(r"^(.+?)\s*\(([A-Z][^()]*)\)(.*)$")
_LOWER_PROGRAMME = re.compile(r"\s+programmes?$")


def _as_guideline_marks(pattern: dict[str, str], registry: Registry) -> list[dict[str, str]]:
    """A learned phrase as guideline 6.2 (real-2.1) marks it, where the older (real-1)
    annotations marked it otherwise: a name with its bracketed abbreviation inside is two names
    ("Knowledge for Action in Prevention and Preparedness (KAPP)" -> the name and "KAPP"); a
    registry name with a lower-case "programme" after it is the registry name alone ("ERDF
    programme" -> "ERDF", as the registry's aliases already say), so it is not learned."""
    phrase = pattern["pattern"]
    bracketed = _BRACKETED.match(phrase)
    if bracketed and not bracketed.group(3).strip():
        return [{**pattern, "pattern": part.strip()} for part in bracketed.group(1, 2) if len(part.strip()) > 1]
    if bracketed:
        return []  # "Circular Bio-based Europe (CBE) Joint Undertaking": no guideline span inside the name
    head = _LOWER_PROGRAMME.sub("", phrase)
    return [] if head != phrase and normalise(head) in registry.aliases else [pattern]


DEV_SHARE = 0.2


def _in_dev(record: dict[str, Any], seed: int) -> bool:
    digest = hashlib.sha256(f"{seed}:{record.get('id')}:{record['text'][:200]}".encode()).hexdigest()
    return int(digest[:8], 16) / 0xFFFFFFFF < DEV_SHARE


# A rule kind, or a name as found, is switched off when the training records' annotations agree
# with it less than half the time, over at least this many hits (the training records are the
# only records this looks at: learned inside the training part, like the recognizer). Names
# from the registry or a gazetteer are never switched off (``NameFinder.is_known``).
MIN_HITS_RULE, MIN_HITS_NAME, MIN_PRECISION = 10, 3, 0.5


def learn_rule_reliability(nlp: Language, records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Precision of each rule kind and of each name found, on the training records; the kinds
    and names below MIN_PRECISION are returned to be switched off."""
    finder = nlp.get_pipe(NAMES_COMPONENT)
    kind_found: Counter[str] = Counter()
    kind_right: Counter[str] = Counter()
    name_found: Counter[tuple[str, str]] = Counter()
    name_right: Counter[tuple[str, str]] = Counter()
    for record in records:
        text = tokenizable(record["text"])
        gold = {(e["start"], e["end"], e["label"]) for e in record.get("entities") or []}
        decided = set()  # spans of the rule kinds the guideline decides: older annotations do not switch them off
        for start, end, label, kind in shape_matches_by_kind(text):
            kind_found[kind] += 1
            kind_right[kind] += (start, end, label) in gold
            if kind in GUIDELINE_KINDS:
                decided.add((start, end))
        doc = nlp.make_doc(text)
        for span in finder.rule_spans(doc):  # type: ignore[attr-defined]
            if finder.is_known(span) or (span.start_char, span.end_char) in decided:  # type: ignore[attr-defined]
                continue  # knowledge is never switched off by the training annotations
            key = (span.label_, span.text)
            name_found[key] += 1
            name_right[key] += (span.start_char, span.end_char, span.label_) in gold
    disabled = sorted(k for k, n in kind_found.items()
                      if n >= MIN_HITS_RULE and kind_right[k] / n < MIN_PRECISION and k not in GUIDELINE_KINDS)
    tails = learn_programme_tails(nlp, records, disabled)
    stoplist = sorted([label, name] for (label, name), n in name_found.items()
                      if n >= MIN_HITS_NAME and name_right[(label, name)] / n < MIN_PRECISION)
    return {"disabled_rules": disabled, "stoplist": stoplist, "tails": tails,
            "rule_precision": {k: round(kind_right[k] / n, 3) for k, n in sorted(kind_found.items())}}


def learn_programme_tails(nlp: Language, records: Sequence[dict[str, Any]], disabled: Sequence[str]) -> list[str]:
    """Words the annotations add after a programme name the rules find ("Horizon 2020" +
    " programme", "ERC" + " Advanced Grant"): the guideline marks the longest name. A tail is
    kept when it occurs at least MIN_HITS_NAME - 1 times and extending by it matches the
    annotations at least MIN_PRECISION of the times it applies, on the training records."""
    finder = nlp.get_pipe(NAMES_COMPONENT)
    seen: Counter[str] = Counter()
    docs = []
    for record in records:
        text = tokenizable(record["text"])
        spans = [s for s in finder.rule_spans(nlp.make_doc(text), disabled=disabled) if s.label_ == "PROGRAMME"]  # type: ignore[attr-defined]
        gold = [(e["start"], e["end"]) for e in record.get("entities") or [] if e["label"] == "PROGRAMME"]
        docs.append((text, spans, set(gold)))
        for start, end in gold:
            inside = [s for s in spans if start == s.start_char and s.end_char < end]
            if len(inside) == 1 and len(text[inside[0].end_char:end].split()) <= 4:
                seen[text[inside[0].end_char:end]] += 1
    kept = []
    for tail, count in seen.items():
        if count < MIN_HITS_NAME - 1:
            continue
        applied = right = 0
        for text, spans, gold in docs:
            for span in spans:
                if text.startswith(tail, span.end_char) and not text[span.end_char + len(tail):span.end_char + len(tail) + 1].isalnum():
                    applied += 1
                    right += (span.start_char, span.end_char + len(tail)) in gold
        if applied and right / applied >= MIN_PRECISION:
            kept.append(tail)
    return sorted(kept, key=len, reverse=True)


def train_entity_pipeline(records: Sequence[dict[str, Any]], seed: int, gazetteer: Sequence[dict[str, str]] = (),
                          progress: Any = None, recognizer: bool = True) -> tuple[Language, dict[str, Any]]:
    """Rules, learned phrases, gazetteer and a trained ``ner``, combined per label as measured.

    A seeded DEV_SHARE of ``records`` is held out; the recognizer is trained on the rest and
    each way of combining rule and model spans (``MERGE_POLICIES``) is scored by exact F1 per
    label on the held-out part; the best per label is kept (ties go to the simpler rules).
    Then everything is refitted on all ``records``. Returns the pipeline and what was measured.
    """
    from csvnlp.metrics import entity_scores
    from csvnlp.entities.recognizer import train_recognizer, trigger_words

    fit = [r for r in records if not _in_dev(r, seed)]
    dev = [r for r in records if _in_dev(r, seed)]
    scores: dict[str, dict[str, float]] = {}
    policy = {label: "rules" for label in ENTITY_LABELS}
    if recognizer and dev and any(r.get("entities") for r in fit):
        nlp = build_entity_pipeline(fit, gazetteer)
        reliability = learn_rule_reliability(nlp, fit)
        finder = nlp.get_pipe(NAMES_COMPONENT)
        finder.set_reliability(reliability["disabled_rules"], reliability["stoplist"], reliability["tails"])  # type: ignore[attr-defined]
        train_recognizer(nlp, fit, seed, progress=progress)
        gold = [{(e["start"], e["end"], e["label"]) for e in r.get("entities") or []} for r in dev]
        rule_found, model_found = [], []
        with nlp.select_pipes(disable=[NAMES_COMPONENT]):
            for doc in nlp.pipe(tokenizable(r["text"]) for r in dev):
                rule_found.append(finder.rule_spans(doc))  # type: ignore[attr-defined]
                model_found.append(list(doc.ents))
        stop = finder.stoplist  # type: ignore[attr-defined]
        for how in MERGE_POLICIES:
            found = [{(s.start_char, s.end_char, s.label_) for s in merge_spans(a, b, {label: how for label in ENTITY_LABELS})
                      if (s.label_, s.text) not in stop or finder.is_known(s)} for a, b in zip(rule_found, model_found)]  # type: ignore[attr-defined]
            exact = entity_scores(gold, found)["exact"]
            scores[how] = {label: round(exact[label]["f1"], 4) for label in ENTITY_LABELS}
        for label in ENTITY_LABELS:
            policy[label] = max(MERGE_POLICIES, key=lambda how: (scores[how][label], -MERGE_POLICIES.index(how)))
    nlp = build_entity_pipeline(records, gazetteer)
    reliability = learn_rule_reliability(nlp, records)
    finder = nlp.get_pipe(NAMES_COMPONENT)
    finder.set_reliability(reliability["disabled_rules"], reliability["stoplist"], reliability["tails"])  # type: ignore[attr-defined]
    if policy != {label: "rules" for label in ENTITY_LABELS}:
        train_recognizer(nlp, records, seed, progress=progress)
        finder.set_triggers(trigger_words(records))  # type: ignore[attr-defined]
    finder.set_policy(policy)  # type: ignore[attr-defined]
    info = {"policy": policy, "dev_records": len(dev), "dev_exact_f1": scores,
            "dev_gold": {label: sum(e["label"] == label for r in dev for e in r.get("entities") or []) for label in ENTITY_LABELS},
            "recognizer": "ner" in nlp.pipe_names, "triggers": len(finder.triggers),  # type: ignore[attr-defined]
            "disabled_rules": reliability["disabled_rules"], "stoplist": len(reliability["stoplist"]), "tails": reliability["tails"],
            "rule_precision_on_training": reliability["rule_precision"]}
    return nlp, info

