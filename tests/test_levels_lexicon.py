"""Every hand-written term list is traceable to the report's text outside its 27 cases."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from csvnlp.levels import DEFINITIONS, DOMAIN_KEYWORDS, LEVEL_KEYS
from csvnlp.report_source import text_outside_cases

REPORT = Path(__file__).resolve().parents[1] / "corpus" / "source" / "clusters-and-shared-value-report.txt"
TERM_LISTS = {f"{key} keywords": DEFINITIONS[key].keywords for key in LEVEL_KEYS} | {"domain keywords": DOMAIN_KEYWORDS}


@pytest.fixture(scope="module")
def outside_text() -> str:
    return text_outside_cases(REPORT.read_text(encoding="utf-8"))


@pytest.mark.parametrize("list_name", sorted(TERM_LISTS))
def test_levels_every_term_occurs_in_the_report_outside_its_cases(list_name, outside_text):
    missing = [term for term in TERM_LISTS[list_name]
               if not re.search(rf"(?<![\w-]){re.escape(term.lower())}(?![\w-])", outside_text)]
    assert not missing, f"{list_name}: not in the report outside sections 4.3 and 5: {missing}"


def test_levels_outside_text_leaves_the_cases_out(outside_text):
    # words that occur only in the cases' prose must not be found: the check would be empty otherwise
    for case_only in ("vouchers", "coaching", "remanufacturing", "aerofeeder"):
        assert case_only not in outside_text
    assert "enabling local cluster development" in outside_text
