"""The built corpus (corpus/cases.jsonl) and `csvnlp corpus validate`."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from csvnlp.corpus import build_corpus, dump_jsonl

from conftest import CORPUS_DIR


def test_corpus_build_reproduces_the_committed_file_byte_for_byte():
    committed = (CORPUS_DIR / "cases.jsonl").read_text(encoding="utf-8")
    assert dump_jsonl(build_corpus(CORPUS_DIR)) == committed
    assert dump_jsonl(build_corpus(CORPUS_DIR)) == committed  # and again: deterministic


def test_corpus_build_cli_writes_the_same_file(cli, tmp_path):
    out = tmp_path / "cases.jsonl"
    result = cli("corpus", "build", "--corpus-dir", str(CORPUS_DIR), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == (CORPUS_DIR / "cases.jsonl").read_bytes()
    assert cli("corpus", "build", "--corpus-dir", str(CORPUS_DIR), "--check").exit_code == 0


def test_corpus_level_counts(records):
    assert len(records) == 27
    counts = Counter(level for record in records for level in record["levels"])
    assert counts == {"products_markets": 21, "value_chain": 4, "cluster_development": 10}


def test_corpus_records_carry_table1_fields(records):
    by_id = {r["id"]: r for r in records}
    assert by_id["sad-nitrates"]["cluster_participation"] == "high"
    assert by_id["innolabs"]["shared_value_intensity"] == "high"
    assert by_id["circ-eco"]["funding"] == "ERASMUS+"
    assert by_id["innofood"]["funding"] is None  # Table 1 leaves the cell empty
    assert by_id["track"]["stated"]["funding"] == "COS-CLUSTPARTN-2017-3-02."


def test_corpus_entity_spans_match_their_text(records):
    for record in records:
        for entity in record["entities"]:
            assert record["text"][entity["start"] : entity["end"]] == entity["text"]


def test_corpus_cases_have_their_cluster_partners_and_funding_annotated(records):
    for record in records:
        labels = {e["label"] for e in record["entities"]}
        funding = record["stated"].get("funding", "")
        if any(name in funding for name in ("INNOSUP", "INTERREG", "VINNOVA", "COS-", "Erasmus")):
            assert "PROGRAMME" in labels, record["id"]
        partners = record["stated"].get("cluster_partners", "")
        if partners and not partners.startswith(("no formal", "clusters from", "The project aims")):
            assert "CLUSTER" in labels, record["id"]


def test_corpus_validate_accepts_the_corpus(cli):
    result = cli("corpus", "validate", str(CORPUS_DIR / "cases.jsonl"))
    assert result.exit_code == 0, result.output


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "extra.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD = {"id": "a", "text": "Clusters coach SMEs in the GAIA network.", "levels": ["cluster_development"]}


@pytest.mark.parametrize(
    "bad_line, message",
    [
        ('{"id": "b", "text": "broken"', "invalid JSON"),
        (json.dumps({"id": "b", "levels": []}), "missing text"),
        (json.dumps({"id": "b", "text": "Other text here.", "levels": ["shared_value"]}), "unknown level key 'shared_value'"),
        (json.dumps({"id": "b", "text": "GAIA helps.", "levels": [], "entities": [{"start": 0, "end": 40, "label": "CLUSTER"}]}), "out of range"),
        (
            json.dumps({"id": "b", "text": "GAIA Cluster helps.", "levels": [],
                        "entities": [{"start": 0, "end": 12, "label": "CLUSTER"}, {"start": 5, "end": 12, "label": "CLUSTER"}]}),
            "overlap",
        ),
        (json.dumps({"id": "a", "text": "A different text.", "levels": []}), "duplicate id 'a'"),
        (json.dumps({"id": "b", "text": "GAIA helps.", "levels": [], "entities": [{"start": 1, "end": 4, "label": "CLUSTER"}]}), "token boundaries"),
    ],
)
def test_corpus_validate_rejects_with_line_number(cli, tmp_path, bad_line, message):
    path = _write(tmp_path, [json.dumps(GOOD), bad_line])
    result = cli("corpus", "validate", str(path))
    assert result.exit_code == 5
    assert f"{path}:2: " in result.stderr and message in result.stderr, result.stderr


def test_corpus_validate_reads_spreadsheet_csv(cli, tmp_path):
    path = tmp_path / "extra.csv"
    path.write_text(
        'id,text,levels\nx1,"Clusters build a new value chain,\nacross borders.",cluster_development;value_chain\n'
        "x2,,products_markets\nx3,Another text,made_up\n",
        encoding="utf-8",
    )
    result = cli("corpus", "validate", str(path), "--json")
    problems = json.loads(result.stdout)[str(path)]
    assert result.exit_code == 5
    assert [(p["line"], p["message"].split(" ")[0]) for p in problems] == [(4, "missing"), (5, "unknown")]
