"""Extraction of the 27 cases and Table 1 from the report's PDF-to-text output."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from csvnlp.report_source import (
    RUNNING_HEADER,
    check_table1_against_report,
    clean_lines,
    extract_cases,
    level_descriptions,
    read_table1,
)

from conftest import CORPUS_DIR

# Table 1, read by eye from the report: every case's levels (issue 2 asks a test to pin them).
TABLE1_LEVELS = {
    "the-biorefinery-of-the-future": ["value_chain"],
    "smedpack": ["products_markets"],
    "school-for-everyone": ["products_markets"],
    "sad-nitrates": ["products_markets"],
    "aerofeeder": ["products_markets"],
    "ict4silver": ["products_markets"],
    "smart-city-tech": ["products_markets"],
    "strategy-of-csv-in-cluster-sifood": ["cluster_development"],
    "olivettian-experience-in-csv": ["cluster_development"],
    "big-torrent": ["products_markets"],
    "emilia-romagna-open-innovation-platform-eroi": ["value_chain"],
    "maestrale": ["products_markets"],
    "innofood": ["products_markets"],
    "iblue": ["products_markets"],
    "proteus": ["products_markets"],
    "track": ["products_markets"],
    "clusgrid-clusters-for-smart-grid": ["products_markets"],
    "circ-eco": ["value_chain"],
    "materialix": ["products_markets"],
    "katana": ["products_markets", "cluster_development"],
    "neptune": ["products_markets", "cluster_development"],
    "superbio": ["products_markets", "cluster_development"],
    "innolabs": ["products_markets", "cluster_development"],
    "inclusilver": ["products_markets", "cluster_development"],
    "cross4health": ["products_markets", "cluster_development"],
    "c-voucher": ["products_markets", "cluster_development"],
    "vida": ["value_chain", "cluster_development"],
}


def test_report_source_extracts_27_cases_in_order(report_text):
    cases = extract_cases(report_text)
    assert [c.number for c in cases] == list(range(1, 28))
    assert [c.case_id for c in cases] == list(TABLE1_LEVELS)
    assert cases[5].title == "ICT4SILVER"  # the subtitle after ". " is not part of the title


def test_report_source_no_case_swallows_the_next_heading(report_text):
    for case in extract_cases(report_text):
        text = case.prose()
        assert not re.search(r"4\.3\.\d+\.", text), case.case_id
        assert "SUMMARY OF THE ANALYSED PROJECTS" not in text


def test_report_source_prose_is_clean(report_text):
    for case in extract_cases(report_text):
        text = case.prose()
        assert RUNNING_HEADER not in text
        assert "Web:" not in text and "http" not in text, case.case_id
        for line in text.splitlines():
            assert line.strip() not in ("", "-"), case.case_id
            assert not re.fullmatch(r"\d{1,3}", line.strip()), case.case_id
            assert line == line.strip()


def test_report_source_cleaning_removes_pdf_damage():
    lines = [RUNNING_HEADER, "29", " -", "the Shared Value Initiative1 refer to", "   page-break line"]
    assert clean_lines(lines) == ["-", "the Shared Value Initiative refer to", "page-break line"]


def test_report_source_structured_fields(report_text):
    cases = {c.case_id: c for c in extract_cases(report_text)}
    assert cases["sad-nitrates"].fields["cluster_partners"].startswith("Catalan Water Partnership")
    assert cases["clusgrid-clusters-for-smart-grid"].fields["funding"] == "COS-CLUSTER-2015-3-02."
    assert cases["katana"].fields["web"] == "https://katanaproject.eu"
    assert "INNOSUP" in cases["vida"].fields["funding"]


def test_table1_levels_pinned_for_every_case():
    rows = read_table1(CORPUS_DIR / "table1.csv")
    assert {row.case_id: row.levels for row in rows} == TABLE1_LEVELS


def test_table1_transcription_agrees_with_report(report_text):
    rows = read_table1(CORPUS_DIR / "table1.csv")
    assert check_table1_against_report(rows, report_text) == []


@pytest.mark.parametrize(
    "column, wrong",
    [("level", "Redefining productivity in value chain"), ("shared_value_intensity", "Low"), ("cluster_participation", "Low")],
)
def test_table1_check_catches_a_transcription_error(report_text, column, wrong):
    rows = read_table1(CORPUS_DIR / "table1.csv")
    index = next(i for i, row in enumerate(rows) if row.case_id == "aerofeeder")
    rows[index] = replace(rows[index], **{column: wrong})
    problems = check_table1_against_report(rows, report_text)
    assert len(problems) == 1 and problems[0].startswith("aerofeeder")


def test_level_descriptions_come_from_sections_2_and_6(report_text):
    descriptions = level_descriptions(report_text)
    assert all(len(texts) == 2 for texts in descriptions.values())
    assert "supplier base" in descriptions["cluster_development"][0]
