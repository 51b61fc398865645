"""CLUSTER / PROGRAMME extraction on spacy.blank("en")."""

from __future__ import annotations

import pytest

from csvnlp.entities import build_entity_pipeline, learned_patterns


@pytest.fixture(scope="module")
def shape_only():
    return build_entity_pipeline([])  # no learned phrases: only the general patterns


def names(nlp, text):
    return {(e.text, e.label_) for e in nlp(text).ents}


@pytest.mark.parametrize(
    "text, expected",
    [
        # names that appear nowhere in the corpus
        ("The Basque Maritime Cluster leads the project.", {("Basque Maritime Cluster", "CLUSTER")}),
        ("Cluster Alimentario de Galicia coordinates it.", {("Cluster Alimentario de Galicia", "CLUSTER")}),
        ("Partners include Pôle Mer Méditerranée.", {("Pôle Mer Méditerranée", "CLUSTER")}),
        ("Funded under INNOSUP-01-2018-2020.", {("INNOSUP-01-2018-2020", "PROGRAMME")}),
        ("Call HORIZON-CL6-2021-FARM2FORK-01-02 opened.", {("HORIZON-CL6-2021-FARM2FORK-01-02", "PROGRAMME")}),
        ("Topic H2020-SMEINST-1-2016-2017 of Horizon 2020.", {("H2020-SMEINST-1-2016-2017", "PROGRAMME"), ("Horizon 2020", "PROGRAMME")}),
        ("Co-financed by the ERDF and Interreg Europe.", {("ERDF", "PROGRAMME"), ("Interreg Europe", "PROGRAMME")}),
        # no "... Partnership" shape any more: it fired on Local Enterprise Partnerships and research
        # partnerships (issue 10); a partnership that is a cluster is learned from annotated spans
        ("The Andalusian Aerospace Partnership joined.", set()),
        # any shape, when listed as cluster partners
        (
            "Cluster partners: Foodvalley NL (Netherlands), Agropole and Vitagora (France) as coordinator.",
            {("Foodvalley NL", "CLUSTER"), ("Agropole", "CLUSTER"), ("Vitagora", "CLUSTER")},
        ),
        ("Participating clusters: Innovalia; BioVale (UK)", {("Innovalia", "CLUSTER"), ("BioVale", "CLUSTER")}),
    ],
)
def test_entities_find_names_never_seen_in_training(shape_only, text, expected):
    assert names(shape_only, text) == expected


def test_entities_ignore_field_labels_and_generic_mentions(shape_only):
    assert names(shape_only, "Cluster Partners: clusters from Denmark and Spain.") == set()
    assert names(shape_only, "Cluster partner: no formal cluster organization, promoted by government.") == set()
    assert names(shape_only, "The cluster conducted studies in 2016-2018.") == set()


def test_entities_learned_phrases_are_case_sensitive(records):
    nlp = build_entity_pipeline(records)
    assert ("Systematic", "CLUSTER") in names(nlp, "Partners: Systematic and GAIA.")
    assert names(nlp, "a systematic review") == set()


def test_entities_reproduce_the_gold_spans_of_the_training_corpus(records):
    nlp = build_entity_pipeline(records)
    for record in records:
        gold = {(e["start"], e["end"], e["label"]) for e in record["entities"]}
        found = {(e.start_char, e.end_char, e.label_) for e in nlp(record["text"]).ents}
        assert gold <= found, record["id"]


def test_entities_learned_patterns_come_only_from_given_records(records):
    patterns = learned_patterns(records[:1])
    assert {p["pattern"] for p in patterns} == {e["text"] for e in records[0]["entities"]}


def test_entities_survive_to_disk_and_back(tmp_path, records):
    from csvnlp.entities import load_entity_pipeline, save_entity_pipeline

    nlp = build_entity_pipeline(records)
    save_entity_pipeline(nlp, tmp_path)
    loaded = load_entity_pipeline(tmp_path)
    text = "GAIA and the Basque Maritime Cluster applied to COS-CLUSTER-2015-3-02 (AVEP(Spain)) under ERC and LIFE."
    found = [(e.text, e.label_, e.kb_id_) for e in loaded(text).ents]
    assert found == [(e.text, e.label_, e.kb_id_) for e in nlp(text).ents]
    assert ("COS-CLUSTER-2015-3-02", "PROGRAMME", "cosme") in found and ("ERC", "PROGRAMME", "erc") in found


def test_spacy_load_restores_the_entity_component_from_config(tmp_path, records):
    """The model's entity folder is a spaCy pipeline: ``spacy.load`` rebuilds it from config.cfg
    (the csvnlp_names factory comes from csvnlp's entry point), with its data, and no pickle."""
    import spacy

    from csvnlp.entities import ENTITY_DIR, NAMES_COMPONENT, extract_entities, save_entity_pipeline
    from csvnlp.persistence import refuse_pickles

    nlp = build_entity_pipeline(records)
    save_entity_pipeline(nlp, tmp_path)
    config = (tmp_path / ENTITY_DIR / "config.cfg").read_text(encoding="utf-8")
    assert f"factory = \"{NAMES_COMPONENT}\"" in config
    loaded = spacy.load(tmp_path / ENTITY_DIR)
    assert loaded.pipe_names == [NAMES_COMPONENT]
    texts = [r["text"] for r in records] + ["Building Better Opportunities, funded by the Big Lottery Fund and ESF."]
    assert list(extract_entities(loaded, texts)) == list(extract_entities(nlp, texts))
    refuse_pickles(tmp_path)


def test_entities_skipping_texts_without_candidates_changes_nothing(records):
    """The fast path (no spaCy for texts with no possible name) equals running every text."""
    from csvnlp.entities import doc_entities, extract_entities

    nlp = build_entity_pipeline(records[:20])
    texts = [r["text"] for r in records] + [
        "A study of proton spin with lattice methods.",
        "Catalan Water Partnership members met.",  # a learned phrase (no "... Partnership" shape any more)
        "Nothing to see here, only SMEs and markets.",
    ]
    fast = list(extract_entities(nlp, texts))
    full = [doc_entities(doc) for doc in nlp.pipe(texts)]
    assert fast == full
    assert fast[-2] and fast[-2][0]["label"] == "CLUSTER"
    assert fast[-3] == [] and fast[-1] == []


def test_entities_patterns_file_must_hold_label_pattern_objects(tmp_path):
    from csvnlp.entities import ENTITY_DIR, NAMES_COMPONENT, load_entity_pipeline, save_entity_pipeline

    save_entity_pipeline(build_entity_pipeline([]), tmp_path)
    path = tmp_path / ENTITY_DIR / NAMES_COMPONENT / "patterns.jsonl"
    path.write_text('{"label": "CLUSTER", "pattern": "GAIA"}\n["not", "an", "object"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        load_entity_pipeline(tmp_path)
