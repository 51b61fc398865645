"""The cold `csvnlp classify` path (issue 20) defers or skips work a single text does not need;
each shortcut here is compared with the eager code it stands for, on real texts."""

from __future__ import annotations

import json

import pytest
from conftest import CORPUS_DIR, SHIPPED_MODEL

from csvnlp.entities import component

EDGE_TEXTS = [
    "", " ", "ab", "\u00a0\t\n", "GAIA", "G A I A", "GAIA\u00a0Cluster", "Horizon 2020.The", "INNOSUP-01-2018-2020",
    "Catalan Water Partnership members met.", "Nothing to see here, only SMEs and markets.",
    "COS-CLUSTER-2015-3-02 (AVEP(Spain)) under ERC and LIFE.", "x" * 700, "北京市科学技术委员会",
]


@pytest.fixture(scope="module")
def texts(records):
    real = [json.loads(line)["text"] for line in (CORPUS_DIR / "extra" / "real-train.jsonl").read_text(encoding="utf-8").splitlines()]
    return EDGE_TEXTS + [r["text"] for r in records] + real + [t[:60] for t in real]


def _fresh_finder():
    from csvnlp.persistence import load_bundle

    bundle = load_bundle(SHIPPED_MODEL)
    return bundle, bundle.entity_pipeline.get_pipe(component.NAMES_COMPONENT)


def test_cold_classify_prefilter_scan_answers_as_the_trie(texts, monkeypatch):
    """``may_find_names`` tests the phrases one by one for the first texts and builds its trie
    regex later: both give the same answer on every text."""
    _, finder = _fresh_finder()
    monkeypatch.setattr(component, "SCANNED_BEFORE_TRIE", len(texts) + 1)
    scanned = [finder.may_find_names(text) for text in texts]
    assert not finder._prefilter_built  # every answer came from the scan
    finder.prepare()
    assert finder._prefilter_built and finder._prefilter is not None
    assert [finder.may_find_names(text) for text in texts] == scanned
    assert any(scanned) and not all(scanned)


def test_cold_classify_prefilter_builds_its_trie_after_a_few_texts_or_for_a_batch():
    _, finder = _fresh_finder()
    for _ in range(component.SCANNED_BEFORE_TRIE):
        finder.may_find_names("Clusters coach SMEs.")
    assert not finder._prefilter_built
    finder.may_find_names("Clusters coach SMEs.")
    assert finder._prefilter_built
    bundle, finder = _fresh_finder()
    list(component.extract_entities(bundle.entity_pipeline, ["Clusters coach SMEs."] * (component.SCANNED_BEFORE_TRIE + 1)))
    assert finder._prefilter_built
    # new patterns (a user's gazetteer) start the scan again, and are found by it
    component.add_gazetteer(bundle.entity_pipeline, [{"label": "CLUSTER", "pattern": "Zyxw Cluster Org", "source": "test"}])
    assert not finder._prefilter_built and finder.may_find_names("the Zyxw  Cluster\nOrg met")


def test_cold_classify_single_texts_get_the_entities_of_one_batch(texts, monkeypatch):
    """Classifying texts one at a time (the scan, a phrase matcher grown text by text) gives what
    one batch gives (the trie, every phrase in the matcher)."""
    monkeypatch.setattr(component, "SCANNED_BEFORE_TRIE", len(texts) + 1)
    bundle, finder = _fresh_finder()
    alone = [list(component.extract_entities(bundle.entity_pipeline, [text])) for text in texts]
    assert not finder._prefilter_built and finder._unmatched  # the lazy path did all of it
    monkeypatch.undo()
    batch, batch_finder = _fresh_finder()
    together = list(component.extract_entities(batch.entity_pipeline, texts))
    assert batch_finder._prefilter_built and not batch_finder._unmatched
    assert [a[0] for a in alone] == together
    assert sum(bool(found) for found in together) > 100


def test_cold_classify_matcher_takes_every_phrase_after_a_few_texts():
    """The pipeline run text by text (training, scoring) stops scanning phrases after a few texts."""
    bundle, finder = _fresh_finder()
    for _ in range(component.SCANNED_BEFORE_TRIE):
        bundle.entity_pipeline("GAIA and the Basque Food Cluster.")
    assert finder._unmatched
    bundle.entity_pipeline("Clusters coach SMEs.")
    assert not finder._unmatched


def test_cold_classify_grown_matcher_finds_what_the_full_matcher_finds(texts):
    """The phrase matcher holding only the phrases that can occur in a text finds, in that text,
    the matches of the matcher holding every phrase, in the same order."""
    lazy_bundle, lazy = _fresh_finder()
    full_bundle, full = _fresh_finder()
    full.prepare()
    assert not full._unmatched and len(lazy._unmatched) == len(lazy.patterns)
    for text in texts:
        text = component.tokenizable(text)
        lazy_doc, full_doc = lazy_bundle.entity_pipeline.make_doc(text), full_bundle.entity_pipeline.make_doc(text)
        lazy._complete_matcher(text)
        lazy_matches = [(lazy.vocab.strings[m], s, e) for m, s, e in lazy.matcher(lazy_doc)]
        assert lazy_matches == [(full.vocab.strings[m], s, e) for m, s, e in full.matcher(full_doc)], text
    assert 0 < len(lazy._unmatched) < len(lazy.patterns)  # some phrases never joined: no text could hold them


def test_cold_classify_entity_pipeline_loads_as_spacy_load_does(tmp_path, texts):
    """load_entity_pipeline starts from an empty tokenizer that the saved one fills: the same
    pipeline as ``spacy.load``, byte for byte, with the config it was saved with."""
    import spacy

    from csvnlp.entities import ENTITY_DIR, load_entity_pipeline, save_entity_pipeline

    fast = load_entity_pipeline(SHIPPED_MODEL)
    plain = spacy.load(SHIPPED_MODEL / ENTITY_DIR)
    assert fast.config.to_str() == plain.config.to_str()
    assert fast.tokenizer.to_bytes() == plain.tokenizer.to_bytes() and fast.to_bytes() == plain.to_bytes()
    for text in texts[:300]:
        assert [(t.text, t.whitespace_) for t in fast.make_doc(text)] == [(t.text, t.whitespace_) for t in plain.make_doc(text)]
    assert list(component.extract_entities(fast, texts)) == list(component.extract_entities(plain, texts))
    save_entity_pipeline(fast, tmp_path)
    assert (tmp_path / ENTITY_DIR / "config.cfg").read_text() == (SHIPPED_MODEL / ENTITY_DIR / "config.cfg").read_text()
    assert (tmp_path / ENTITY_DIR / "tokenizer").read_bytes() == (SHIPPED_MODEL / ENTITY_DIR / "tokenizer").read_bytes()


def test_cold_classify_other_tokenizers_load_the_plain_spacy_way(tmp_path):
    """A pipeline saved with another tokenizer than spaCy's is loaded by ``spacy.load`` as is."""
    import spacy
    from spacy.tokenizer import Tokenizer

    from csvnlp.entities import ENTITY_DIR, build_entity_pipeline, load_entity_pipeline, save_entity_pipeline

    @spacy.registry.tokenizers("test_cold_classify.whitespace.v1")
    def whitespace_tokenizer():
        return lambda nlp: Tokenizer(nlp.vocab)

    save_entity_pipeline(build_entity_pipeline([]), tmp_path)
    config_path = tmp_path / ENTITY_DIR / "config.cfg"
    config_path.write_text(config_path.read_text().replace('"spacy.Tokenizer.v1"', '"test_cold_classify.whitespace.v1"'))
    loaded = load_entity_pipeline(tmp_path)
    assert loaded.config["nlp"]["tokenizer"] == {"@tokenizers": "test_cold_classify.whitespace.v1"}
    assert [t.text for t in loaded.make_doc("GAIA (Spain)")] == ["GAIA", "(", "Spain", ")"]


def test_cold_classify_command_exits_with_its_objects_frozen_and_atexit_run(tmp_path):
    """``csvnlp`` freezes the garbage collector when its command is done (the collection at exit
    is the cost it skips); atexit handlers still run and its output is complete."""
    import subprocess
    import sys

    code = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('atexit ran, frozen', gc.get_freeze_count() > 0, file=sys.stderr))\n"
        "from csvnlp.cli import main\n"
        "sys.argv = ['csvnlp', 'classify', 'Clusters coach SMEs in a new value chain with the region.', '--json', '--no-entities']\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] in {"ok", "uncertain"}
    assert "atexit ran, frozen True" in done.stderr
