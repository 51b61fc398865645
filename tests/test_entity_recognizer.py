"""Issue 10: the names-only records, the trained recognizer, the merge policy, the rule fixes,
and what `csvnlp tag` must never report on real funding records."""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

import pytest

from csvnlp.entities import (
    ENTITY_LABELS,
    MERGE_POLICIES,
    NAMES_COMPONENT,
    blank_pipeline,
    build_entity_pipeline,
    extract_entities,
    merge_spans,
    shape_matches,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
needs_shared = pytest.mark.skipif(not (SHARED / "external").is_dir(), reason="../shared/data is not present")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def found(text: str) -> list[tuple[str, str]]:
    return [(text[s:e], label) for s, e, label in shape_matches(text)]


# ---------------------------------------------------------------------------- rule fixes


def test_rules_report_no_generic_programme_phrase():
    # the guideline's generic phrases (section 6): "the Programme", "this programme", "the Work Programme"
    for text in ("The Programme will fund SMEs.", "under this Work Programme, applicants", "The Operational Programme aims",
                 "the Framework Programme and the Research and Innovation Programme"):
        assert [f for f in found(text) if f[1] == "PROGRAMME"] == [], text


def test_rules_keep_a_named_operational_programme_whole():
    assert ("ERDF Operational Programme", "PROGRAMME") in found("Funded by the ERDF Operational Programme for England.")


def test_rules_report_no_partnership_or_work_programme_cluster():
    text = ("The Local Enterprise Partnership and the CCAM Partnership support Horizon Europe Cluster 4 "
            "and Cluster 5 calls; the Marches Local Enterprise Partnership area.")
    assert [f for f in found(text) if f[1] == "CLUSTER"] == []


def test_rules_call_identifiers_open_with_an_upper_case_code():
    ids = [t for t, label in found("HORIZON-CL4-2026-04-DIGITAL-18, COS-CLUSTER-2015-3-02, Social Innovation Award-2015 "
                                    "and the SME-Start-2016 scheme") if label == "PROGRAMME"]
    assert "HORIZON-CL4-2026-04-DIGITAL-18" in ids and "COS-CLUSTER-2015-3-02" in ids
    assert not any(t.startswith(("Award", "-Start", "Start")) for t in ids)


def test_rules_follow_an_abbreviation_the_text_defines():
    text = "Support from the Horizon 2020 Framework (H2020) and later H2020 calls."
    assert [t for t, _ in found(text)].count("H2020") == 2


# ---------------------------------------------------------------------------- merge policy


def test_merge_policies_choose_the_side_asked_for():
    nlp = blank_pipeline()
    doc = nlp("The Basque Food Cluster and the Horizon Europe programme")
    rule = [doc.char_span(4, 23, label="CLUSTER")]  # "Basque Food Cluster"
    model = [doc.char_span(11, 23, label="CLUSTER"), doc.char_span(32, 46, label="PROGRAMME")]  # "Food Cluster", "Horizon Europe"
    as_text = lambda spans: sorted((s.text, s.label_) for s in spans)  # noqa: E731
    both = {label: "rules" for label in ENTITY_LABELS}
    assert as_text(merge_spans(rule, model, both)) == [("Basque Food Cluster", "CLUSTER")]
    assert as_text(merge_spans(rule, model, {label: "model" for label in ENTITY_LABELS})) == [
        ("Food Cluster", "CLUSTER"), ("Horizon Europe", "PROGRAMME")]
    assert as_text(merge_spans(rule, model, {label: "rules_first" for label in ENTITY_LABELS})) == [
        ("Basque Food Cluster", "CLUSTER"), ("Horizon Europe", "PROGRAMME")]
    assert as_text(merge_spans(rule, model, {label: "model_first" for label in ENTITY_LABELS})) == [
        ("Food Cluster", "CLUSTER"), ("Horizon Europe", "PROGRAMME")]
    assert set(MERGE_POLICIES) == {"rules", "model", "rules_first", "model_first"}


# ---------------------------------------------------------------------------- recognizer


def _small_training_set() -> list[dict]:
    cases = read_jsonl(ROOT / "corpus" / "cases.jsonl")
    names = read_jsonl(ROOT / "corpus" / "entities" / "train.jsonl")
    return cases + names[:60]


def test_recognizer_training_is_seeded():
    from csvnlp.entities.recognizer import train_recognizer

    records = _small_training_set()
    weights = [train_recognizer(blank_pipeline(), records, seed=5, epochs=2).get_pipe("ner").model.to_bytes() for _ in range(2)]
    assert weights[0] == weights[1]


def test_recognizer_survives_saving_and_loading(tmp_path):
    from csvnlp.entities import load_entity_pipeline, save_entity_pipeline
    from csvnlp.entities.recognizer import train_recognizer, trigger_words

    records = _small_training_set()
    nlp = train_recognizer(build_entity_pipeline(records), records, seed=3, epochs=3)
    finder = nlp.get_pipe(NAMES_COMPONENT)
    finder.set_policy({"CLUSTER": "model_first", "PROGRAMME": "rules_first"})
    finder.set_triggers(trigger_words(records))
    save_entity_pipeline(nlp, tmp_path)
    loaded = load_entity_pipeline(tmp_path)
    texts = [r["text"] for r in read_jsonl(ROOT / "corpus" / "entity_test" / "entity-test.jsonl")[:80]]
    assert list(extract_entities(loaded, texts)) == list(extract_entities(nlp, texts))
    assert loaded.get_pipe(NAMES_COMPONENT).policy == finder.policy
    # the recognizer's files are plain data: JSON and msgpack, no pickle
    from csvnlp.persistence import refuse_pickles

    refuse_pickles(tmp_path)


def test_trigger_words_are_words_mostly_inside_gold_spans():
    from csvnlp.entities.recognizer import trigger_words

    records = [
        {"text": "KLASTER A and KLASTER B", "entities": [{"start": 0, "end": 9, "label": "CLUSTER"}, {"start": 14, "end": 23, "label": "CLUSTER"}]},
        {"text": "the cluster of firms and the market", "entities": []},
    ]
    words = trigger_words(records)
    assert "klaster" in words and "the" not in words and "and" not in words


def test_shipped_model_records_how_its_entity_spans_combine(shipped_bundle):
    entities = shipped_bundle.meta["entities"]
    assert set(entities["policy"]) == set(ENTITY_LABELS)
    assert all(how in MERGE_POLICIES for how in entities["policy"].values())
    assert entities["dev_records"] > 0 and entities["dev_exact_f1"]
    finder = shipped_bundle.entity_pipeline.get_pipe(NAMES_COMPONENT)
    assert finder.policy == entities["policy"]


def test_shipped_patterns_each_name_their_source(shipped_bundle):
    patterns = shipped_bundle.entity_pipeline.get_pipe(NAMES_COMPONENT).patterns
    assert patterns and all(p.get("source") for p in patterns)


# ---------------------------------------------------------------------------- the entity split


def test_entity_split_is_frozen_disjoint_and_large_enough():
    pool = {r["id"]: r for r in read_jsonl(ROOT / "corpus" / "real" / "entity_pool.jsonl")}
    train = read_jsonl(ROOT / "corpus" / "entities" / "train.jsonl")
    test = read_jsonl(ROOT / "corpus" / "entity_test" / "entity-test.jsonl")
    assert all(pool[r["id"]]["split"] == "train" for r in train)
    assert all(pool[r["id"]]["split"] == "test" for r in test)
    assert not {r["text"] for r in train} & {r["text"] for r in test}
    level_test = read_jsonl(ROOT / "corpus" / "external_test" / "real-test.jsonl")
    assert len(test) + len(level_test) >= 120
    for record in test + train:
        for entity in record["entities"]:
            assert record["text"][entity["start"]:entity["end"]] == entity["text"]


@needs_shared
def test_programme_gazetteer_comes_from_training_rows_only():
    test_keys = {r["row_key"]["value"] for r in read_jsonl(ROOT / "corpus" / "external_test" / "real-test.jsonl")
                 + read_jsonl(ROOT / "corpus" / "entity_test" / "entity-test.jsonl") if r["source"] == "call_topics"}
    for entry in read_jsonl(ROOT / "corpus" / "gazetteers" / "programmes.jsonl"):
        assert entry["label"] == "PROGRAMME" and entry["source"].startswith("ft_portal_calls_oscarsalgado/")
        first_row = re.search(r"topicId (\S+)", entry["source"]).group(1)
        assert first_row not in test_keys


# ---------------------------------------------------------------------------- what tag must never report


def _fixed_sample() -> list[tuple[str, str]]:
    sys.path.insert(0, str(ROOT / "pipeline"))
    from sample_real_records import read_sources

    by_source: dict[str, list[str]] = {"esif_england": [], "cordis_h2020": [], "call_topics": []}
    for row in read_sources():
        if row["source"] in by_source:
            by_source[row["source"]].append(row["title"] + "\n" + row["text"])
    rng = random.Random(20261127)
    return [(source, text) for source, texts in by_source.items() for text in rng.sample(texts, min(150, len(texts)))]


GENERIC_PROGRAMME = re.compile(r"^(?:the |this |that )?(?:work |operational |framework |annual )?programme$", re.IGNORECASE)
NOT_A_CLUSTER = re.compile(r"Partnership|\bLEP\b|Horizon|^Cluster \d", re.IGNORECASE)


@needs_shared
def test_tag_reports_no_lep_research_partnership_or_generic_phrase(shipped_bundle, tmp_path):
    """Over a fixed sample of England ERDF/ESF summaries, CORDIS H2020 objectives and call topics
    (150 each, seeded), run through `csvnlp tag` itself."""
    import csv

    from typer.testing import CliRunner

    from csvnlp.cli import app

    sample = _fixed_sample()
    england = SHARED / "external" / "esif_operations_os_data" / "ESIF_2014-2020_List_of_beneficiaries_Oct_2016.csv"
    with england.open(encoding="utf-8-sig", newline="") as handle:
        lep_areas = {row["Local Enterprise Partnership area"].strip() for row in csv.DictReader(handle)} - {""}
    source = tmp_path / "sample.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        for i, (_, text) in enumerate(sample):
            writer.writerow([i, text])
    out = tmp_path / "tagged.csv"
    result = CliRunner().invoke(app, ["tag", str(source), "--out", str(out), "-t", "text", "--id-column", "id", "--model", str(shipped_bundle.path), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(sample)
    clusters = [c for row in rows for c in row["clusters"].split(";") if c]
    programmes = [p for row in rows for p in row["programmes"].split(";") if p]
    assert programmes, "the sample names programmes; an extractor that finds none cannot pass this test"
    assert not [c for c in clusters if NOT_A_CLUSTER.search(c) or c in lep_areas]
    assert not [p for p in programmes if GENERIC_PROGRAMME.match(p.strip())]


# ---------------------------------------------------------------------------- where each list term comes from

# "cluster" in the official EU languages (a dictionary fact, not read off any record), plural or
# case forms where the language inflects the word in organisation names.
CLUSTER_WORD_LANGUAGES = {
    "cluster": "English, German, Dutch, Italian, Romanian, Maltese", "clusters": "English plural",
    "clusterul": "Romanian (definite)", "clúster": "Spanish", "clústeres": "Spanish plural",
    "klaster": "Croatian, Slovak, Slovenian, Polish, Estonian", "klastr": "Czech",
    "klaszter": "Hungarian", "klasteris": "Lithuanian, Latvian", "klasteri": "Latvian plural",
    "klusteri": "Finnish", "kluster": "Swedish", "klynge": "Danish", "grozd": "Slovenian",
    "клъстер": "Bulgarian", "σύμπλεγμα": "Greek",
}


def test_cluster_words_are_the_dictionary_translations():
    from csvnlp.entities import CLUSTER_WORDS

    assert set(CLUSTER_WORDS) == set(CLUSTER_WORD_LANGUAGES)


def test_legal_and_company_forms_come_from_the_guideline():
    """Each term, or the spelling it stands for (without diacritics, or in Cyrillic), is written in
    the guideline's section 6.1, which says a span leaves legal forms out and a company is no cluster."""
    import unicodedata

    from csvnlp.entities import COMPANY_FORMS, LEGAL_FORM_WORDS

    guideline = (ROOT / "corpus" / "LABELLING_GUIDELINE.md").read_text(encoding="utf-8")
    section = guideline[guideline.index("### 6.1"):guideline.index("## 7.")].casefold()
    spelled_as = {"associacao": "associação", "asociacion": "asociación", "z.s": "z.s.", "оод": "ood", "еоод": "eood"}

    def plain(term: str) -> str:
        return "".join(c for c in unicodedata.normalize("NFD", term) if not unicodedata.combining(c))

    for term in LEGAL_FORM_WORDS + COMPANY_FORMS:
        wanted = spelled_as.get(term, term)
        assert wanted in section or plain(wanted) in plain(section), term
