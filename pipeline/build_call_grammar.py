"""Write ``corpus/registry/call_prefixes.jsonl``: the first segment of every call and topic
identifier in the shared data, with how often it occurs and in which list.

Call and topic identifiers are built from a programme code, a year and parts (``HORIZON-CL5-2024-
D3-01-02``, ``H2020-SMEINST-1-2016-2017``, ``SC5-10-2016``, ``ERC-2014-STG``, ``FP7-ICT-2013-10``).
The lists read here are the complete CORDIS project lists of FP7 and Horizon 2020 (``Topic Code``)
and the Funding & Tenders call topics (``topicId`` with its ``programme`` field). Only the
prefix counts are written; the registry (``programmes.jsonl``, field ``call_prefixes``) says which
programme a prefix belongs to, and ``csvnlp.entities.registry`` resolves the framework of a
thematic prefix used by both FP7 and Horizon 2020 ("ICT", "NMP") by the identifier's year.

Run: ``python pipeline/build_call_grammar.py`` (needs ``../shared/data``; set
``CSVNLP_SHARED_DATA`` when the repository is not beside it).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import sys
import zipfile
from collections import Counter, defaultdict
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CSVNLP_SHARED_DATA") or ROOT.parent / "shared" / "data")
OUT = ROOT / "corpus" / "registry" / "call_prefixes.jsonl"
_SHEET = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def xlsx_column(path: Path, header: str) -> list[str]:
    """One column of the first sheet of an .xlsx file (read with the standard library only)."""
    with zipfile.ZipFile(path) as archive:
        shared = ["".join(t.text or "" for t in item.iter(f"{_SHEET}t"))
                  for item in ElementTree.fromstring(archive.read("xl/sharedStrings.xml")).findall(f"{_SHEET}si")]
        sheet = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    values, column = [], None
    for row in sheet.iter(f"{_SHEET}row"):
        cells = {}
        for cell in row.findall(f"{_SHEET}c"):
            value = cell.find(f"{_SHEET}v")
            text = "" if value is None else (shared[int(value.text)] if cell.get("t") == "s" else value.text or "")
            cells[re.match(r"[A-Z]+", cell.get("r")).group()] = text
        if column is None:
            column = next(c for c, v in cells.items() if v == header)
            continue
        values.append(cells.get(column, ""))
    return values


def prefix(identifier: str) -> str:
    return re.split(r"[-_. ]", identifier.strip(), maxsplit=1)[0]


def main() -> None:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for framework, name in (("h2020", "h2020-projects.xlsx"), ("fp7", "fp7-projects.xlsx")):
        base = f"cordis_project_lists_zambujo/{name}"
        for code in xlsx_column(SHARED / "external" / base, "Topic Code"):
            if code.strip():
                counts[prefix(code)][f"{base} Topic Code"] += 1
    base = "ft_portal_calls_oscarsalgado/open.jsonl.gz"
    raw = gzip.open(SHARED / "external" / base, "rt", encoding="utf-8-sig").read()
    decoder, at = json.JSONDecoder(), 0
    while at < len(raw):
        while at < len(raw) and raw[at].isspace():
            at += 1
        if at >= len(raw):
            break
        item, at = decoder.raw_decode(raw, at)
        if item.get("topicId"):
            counts[prefix(item["topicId"])][f"{base} topicId (programme {item.get('programme', '')!r})"] += 1
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as handle:
        for code in sorted(counts, key=lambda c: (-sum(counts[c].values()), c)):
            if "/" in code:
                continue  # EuropeAid/186246/DD/ACT/NG: external-action references, not call codes
            handle.write(json.dumps({"prefix": code, "count": sum(counts[code].values()), "seen_in": dict(counts[code].most_common())},
                                    ensure_ascii=False) + "\n")
    print(f"{OUT.relative_to(ROOT)}: {len(counts)} prefixes", file=sys.stderr)


if __name__ == "__main__":
    main()
