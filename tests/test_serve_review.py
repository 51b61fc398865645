"""Review and correct in `csvnlp serve`: a decision lands in the decisions log (the format
`csvnlp annotate` writes) and in a corpus file that `csvnlp corpus validate`, `load_corpus`
(what `train` reads) and `corpus import` accept; CSRF, undo, conflicts, the queue moving on."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from serve_support import EXAMPLE, client_for, csrf_of, make_app, small_corpus

SLUG = "tagged"


@pytest.fixture()
def setup(shipped_bundle, tmp_path):
    corpus = small_corpus(tmp_path / "corpus")
    app = make_app(shipped_bundle, corpus)
    with client_for(app) as c:
        yield c, corpus


@pytest.fixture(scope="module")
def example() -> pd.DataFrame:
    return pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_correction_lands_in_the_corpus_and_validates(setup, example, cli):
    client, corpus = setup
    row = 7
    answer = client.post(f"/data/{SLUG}/rows/{row}/review", data={
        "action": "save", "levels": ["value_chain", "products_markets"], "confidence": "borderline",
        "reviewer": "tester", "csrf": csrf_of(client)}, follow_redirects=False)
    assert answer.status_code == 303
    page = client.get(answer.headers["location"])
    assert "Saved:" in page.text and "products_markets, value_chain" in page.text and 'id="standing"' in page.text

    log = lines(corpus / "review" / f"{SLUG}.decisions.jsonl")
    assert len(log) == 1
    entry = log[0]
    text = example["Summary of project (max 100 words)"][row]
    assert entry["action"] == "label" and entry["text"] == text and entry["levels"] == ["products_markets", "value_chain"]
    assert entry["row_key"] == {"column": "id", "value": example["id"][row]} and entry["source_file"] == str(EXAMPLE)
    assert entry["model_predicted"] == [p for p in example["predicted"][row].split(";") if p]

    corpus_file = corpus / "extra" / f"review-{SLUG}.jsonl"
    [record] = lines(corpus_file)
    assert record["id"] == f"serve-{SLUG}-{example['id'][row]}" and record["levels"] == ["products_markets", "value_chain"]
    assert record["confidence"] == "borderline" and record["annotator"] == "tester"
    assert record["row_key"]["value"] == example["id"][row] and record["source_file"] == str(EXAMPLE)

    validated = cli("corpus", "validate", str(corpus_file))
    assert validated.exit_code == 0 and "valid" in validated.stdout
    whole = cli("corpus", "validate", str(corpus / "cases.jsonl"), str(corpus_file), "--json")
    assert whole.exit_code == 0

    from csvnlp.corpus import load_corpus

    loaded = {r["id"]: r for r in load_corpus([corpus])}  # what `csvnlp train --corpus` reads
    assert loaded[record["id"]]["levels"] == ["products_markets", "value_chain"]
    assert len(loaded) == 28


def test_accept_not_csv_and_undo(setup, example):
    client, corpus = setup
    token = csrf_of(client)
    ok_row = int(example.index[example["status"] == "ok"][0])
    client.post(f"/data/{SLUG}/rows/{ok_row}/review", data={"action": "accept", "csrf": token})
    client.post(f"/data/{SLUG}/rows/3/review", data={"action": "none", "csrf": token})
    records = {r["row_key"]["value"]: r for r in lines(corpus / "extra" / f"review-{SLUG}.jsonl")}
    assert records[example["id"][ok_row]]["levels"] == example["predicted"][ok_row].split(";")
    assert records[example["id"][3]]["levels"] == []  # not a CSV project: a negative example

    undone = client.post(f"/data/{SLUG}/undo", data={"csrf": token}, follow_redirects=False)
    assert undone.status_code == 303 and undone.headers["location"].startswith(f"/data/{SLUG}/rows/3?")
    records = {r["row_key"]["value"] for r in lines(corpus / "extra" / f"review-{SLUG}.jsonl")}
    assert records == {example["id"][ok_row]}
    assert lines(corpus / "review" / f"{SLUG}.decisions.jsonl")[-1] == {"action": "undo"}


def test_the_decisions_log_imports_like_annotates(setup, cli, tmp_path):
    client, corpus = setup
    token = csrf_of(client)
    client.post(f"/data/{SLUG}/rows/10/review", data={"action": "save", "levels": ["cluster_development"], "csrf": token})
    client.post(f"/data/{SLUG}/rows/11/review", data={"action": "none", "csrf": token})
    other = small_corpus(tmp_path / "other-corpus")
    imported = cli("corpus", "import", str(corpus / "review" / f"{SLUG}.decisions.jsonl"), "--corpus-dir", str(other), "--name", "from-serve")
    assert imported.exit_code == 0 and "imported 2 record(s)" in imported.stdout


def test_a_decision_replaces_the_earlier_one(setup):
    client, corpus = setup
    token = csrf_of(client)
    client.post(f"/data/{SLUG}/rows/12/review", data={"action": "save", "levels": ["value_chain"], "csrf": token})
    client.post(f"/data/{SLUG}/rows/12/review", data={"action": "save", "levels": ["cluster_development"], "csrf": token})
    [record] = lines(corpus / "extra" / f"review-{SLUG}.jsonl")
    assert record["levels"] == ["cluster_development"]


def test_writes_need_the_pages_csrf_token(setup):
    client, corpus = setup
    csrf_of(client)
    for data, headers in (({"action": "none"}, {}), ({"action": "none", "csrf": "forged-token-forged-token"}, {}),
                          ({"action": "none", "csrf": client.cookies.get("csvnlp_csrf")}, {"origin": "http://evil.example"})):
        answer = client.post(f"/data/{SLUG}/rows/3/review", data=data, headers=headers)
        assert answer.status_code == 403 and "Nothing was saved" in answer.text
    assert client.post(f"/data/{SLUG}/undo", data={}).status_code == 403
    assert not (corpus / "review" / f"{SLUG}.decisions.jsonl").exists()
    assert not (corpus / "extra" / f"review-{SLUG}.jsonl").exists()


def test_bad_decisions_are_refused_and_nothing_is_written(setup):
    client, corpus = setup
    token = csrf_of(client)
    assert client.post(f"/data/{SLUG}/rows/3/review", data={"action": "save", "levels": ["bogus"], "csrf": token}).status_code == 409
    assert client.post(f"/data/{SLUG}/rows/3/review", data={"action": "save", "csrf": token}).status_code == 400
    assert client.post(f"/data/{SLUG}/rows/3/review", data={"action": "delete", "csrf": token}).status_code == 400
    assert client.post(f"/data/{SLUG}/rows/99999/review", data={"action": "none", "csrf": token}).status_code == 404
    assert not (corpus / "review" / f"{SLUG}.decisions.jsonl").exists()


def test_texts_of_the_frozen_test_split_and_conflicts_are_refused(setup, example):
    client, corpus = setup
    token = csrf_of(client)
    (corpus / "external_test").mkdir()
    frozen = {"id": "frozen-1", "text": example["Summary of project (max 100 words)"][20], "levels": []}
    (corpus / "external_test" / "real-test.jsonl").write_text(json.dumps(frozen) + "\n", encoding="utf-8")
    known = {"id": "known-1", "text": example["Summary of project (max 100 words)"][21], "levels": ["value_chain"]}
    (corpus / "extra" / "mine.jsonl").write_text(json.dumps(known) + "\n", encoding="utf-8")
    refused = client.post(f"/data/{SLUG}/rows/20/review", data={"action": "none", "csrf": token})
    assert refused.status_code == 409 and "frozen test split" in refused.text
    conflict = client.post(f"/data/{SLUG}/rows/21/review", data={"action": "none", "csrf": token})
    assert conflict.status_code == 409 and "already in the corpus" in conflict.text
    assert not (corpus / "review" / f"{SLUG}.decisions.jsonl").exists()
    same = client.post(f"/data/{SLUG}/rows/21/review", data={"action": "save", "levels": ["value_chain"], "csrf": token})
    assert same.status_code == 200 and "not added twice" in same.text
    assert lines(corpus / "extra" / f"review-{SLUG}.jsonl") == []


def test_the_queue_moves_to_the_next_uncertain_record(setup):
    import re

    client, corpus = setup
    token = csrf_of(client)
    queue = client.get(f"/data/{SLUG}/queue").text
    rows = [int(r) for r in re.findall(r'<td><a href="/data/tagged/rows/(\d+)\?queue=1">', queue)]
    answer = client.post(f"/data/{SLUG}/rows/{rows[0]}/review", data={"action": "none", "queue": 1, "csrf": token}, follow_redirects=False)
    assert answer.headers["location"].startswith(f"/data/{SLUG}/rows/{rows[1]}?queue=1")
    after = client.get(f"/data/{SLUG}/queue").text
    assert [int(r) for r in re.findall(r'<td><a href="/data/tagged/rows/(\d+)\?queue=1">', after)][0] == rows[1]
    assert "1 decided so far" in after


def test_the_queue_notes_near_duplicates_of_the_corpus(setup, example):
    import re

    client, corpus = setup
    queue = client.get(f"/data/{SLUG}/queue").text
    first = int(re.findall(r'<td><a href="/data/tagged/rows/(\d+)\?queue=1">', queue)[0])
    text = example["Summary of project (max 100 words)"][first]
    assert "near-duplicate" not in queue.split("</tr>")[1]
    (corpus / "extra" / "mine.jsonl").write_text(json.dumps({"id": "mine-1", "text": text + " Extra words.", "levels": []}) + "\n", encoding="utf-8")
    again = client.get(f"/data/{SLUG}/queue").text
    assert "near-duplicate of extra/mine.jsonl:mine-1" in again.split("</tr>")[1]
