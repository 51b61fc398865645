"""Source families: the funding databases a user meets as one, for grouping records.

Training groups by them (settings chosen on held-out families) and evaluation holds each out
in turn (``evaluation.leave_source_out``), so they live here, outside both.
"""

from __future__ import annotations

from typing import Any

REPORT_CASES = "report cases"
# Source field of a real record -> the family a user would meet as one database.
FAMILIES: dict[str, str] = {
    "cordis_h2020": "CORDIS H2020",
    "cordis_h2020_xml": "CORDIS H2020",
    "cordis_fp7": "CORDIS FP7",
    "cordis_water_fp7": "CORDIS FP7",
    "cordis_horizon_europe": "CORDIS Horizon Europe",
    "cordis_water_sme": "CORDIS water SME",
    "esif_england": "ERDF/ESF England",
    "esif_scotland": "ERDF/ESF Scotland",
    "esif_northern_ireland": "ERDF/ESF Northern Ireland",
    "esif_malta": "ERDF/ESF Malta",
    "esif_ireland": "ERDF/ESF Ireland",
    "call_topics": "call topics",
}


def source_family(record: dict[str, Any]) -> str:
    """The family of a record: its database for a real record (``source_file`` present), the
    report for one of the 27 cases, else the record's own source (an analyst's addition)."""
    if "source_file" not in record:
        return REPORT_CASES if "section" in record else str(record.get("source") or "unknown")
    return FAMILIES.get(str(record.get("source")), str(record.get("source")))
