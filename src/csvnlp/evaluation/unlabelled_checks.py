"""Checks that need no labels, on real texts outside the corpus that nothing is trained on.

- ``basic_research_abstracts``: ERC frontier-research and MSCA fellowship abstracts from the
  CORDIS H2020 extract, selected by the programme column (H2020-EU.1.1. is the ERC,
  H2020-EU.1.3.* the Marie Sklodowska-Curie actions). They are clearly not CSV projects, so the
  share the model calls ``uncertain`` is an abstention rate that needs no labels.
- ``funding_database_sample``: ERDF/ESF operation summaries (England 2014-2020, Northern
  Ireland ESF, Scotland), a real funding database, for the distribution of predicted levels.
- ``multilingual_extracts``: every ERDF/ESF summary and every Kohesio beneficiary name, per
  file, for the share of each language (and of ``unsupported_language``) csvnlp meets there.

All read from ``shared/data/external`` beside the repository (or ``$CSVNLP_SHARED_DATA``) and
return None when it is not there (the check is then left out); nothing is copied into the project.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from csvnlp.levels import LEVEL_KEYS

DEFAULT_SHARED_DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "external"


def shared_data_dir() -> Path:
    return Path(os.environ.get("CSVNLP_SHARED_DATA", DEFAULT_SHARED_DATA))


def basic_research_abstracts() -> dict[str, object] | None:
    import pandas as pd

    path = shared_data_dir() / "cordis_h2020_textile_subset_aguesses" / "training_corrected.csv"
    if not path.exists():
        return None
    frame = pd.read_csv(path, sep=";", dtype=str)
    selected = frame[frame["programme"].str.contains(r"H2020-EU\.1\.1\.|H2020-EU\.1\.3\.", na=False)]
    texts = (selected["titleProject"].fillna("") + ". " + selected["objective"].fillna("")).tolist()
    return {"source": str(path), "selection": "programme H2020-EU.1.1. (ERC) or H2020-EU.1.3.* (MSCA)", "texts": texts}


def funding_database_sample() -> dict[str, object] | None:
    import pandas as pd

    folder = shared_data_dir() / "esif_operations_os_data"
    sources = [
        ("ESIF_2014-2020_List_of_beneficiaries_Oct_2016.csv", "Summary of project (max 100 words)"),
        ("ESF_Northern_Ireland_2014-2020.csv", "Operation Summary"),
        ("ESF-and-ERDF-Scotland-2014-2020.csv", "Description"),
    ]
    texts: list[str] = []
    used = []
    for name, column in sources:
        path = folder / name
        if not path.exists():
            continue
        frame = pd.read_csv(path, dtype=str, encoding="utf-8", encoding_errors="replace")
        if column not in frame.columns:
            continue
        texts += [t for t in frame[column].dropna().tolist() if t.strip()]
        used.append(name)
    if not texts:
        return None
    return {"source": str(folder), "files": used, "texts": texts}


def multilingual_extracts() -> dict[str, list[str]] | None:
    """file -> its non-empty texts: the ERDF/ESF summaries and the Kohesio beneficiary names."""
    import pandas as pd

    root = shared_data_dir()
    sources = [
        ("kohesio_beneficiaries_zachz3394/kohesio-data-export.tsv", "Beneficiary Name", "\t"),
        ("esif_operations_os_data/Final LoB S&E ROP 2007-2013.csv", "Project Summary", ","),
        ("esif_operations_os_data/data.csv", "Non Technical Short Summary Of Project", ","),
        ("esif_operations_os_data/ESIF_2014-2020_List_of_beneficiaries_Oct_2016.csv", "Summary of project (max 100 words)", ","),
        ("esif_operations_os_data/ESF-and-ERDF-Scotland-2014-2020.csv", "Description", ","),
        ("esif_operations_os_data/ESF_Northern_Ireland_2014-2020.csv", "Operation Summary", ","),
    ]
    found: dict[str, list[str]] = {}
    for name, column, sep in sources:
        path = root / name
        if not path.exists():
            continue
        frame = pd.read_csv(path, sep=sep, dtype=str, encoding="utf-8", encoding_errors="replace")
        if column in frame.columns:
            found[name] = [t for t in frame[column].dropna().tolist() if t.strip()]
    return found or None


def unlabelled_checks(bundle: Any) -> dict[str, Any]:
    """Abstention on ERC/MSCA abstracts, the level distribution over ERDF/ESF operations, and
    the share of each language (and of ``unsupported_language``) in the ESIF and Kohesio extracts."""
    from collections import Counter

    from csvnlp.language import model_languages, supported_checks

    out: dict[str, Any] = {}
    extracts = multilingual_extracts()
    if extracts:
        supported = model_languages(bundle)
        shares = {}
        for name, texts in extracts.items():
            checks = supported_checks(texts, supported)
            codes = Counter(guess.code for guess, _ in checks)
            shares[name] = {"texts": len(texts),
                            "unsupported_share": round(sum(not ok for _, ok in checks) / len(texts), 4),
                            "languages": {code: round(n / len(texts), 4) for code, n in codes.most_common(8)}}
        out["languages"] = {"supported": list(supported), "extracts": shares}
    abstracts = basic_research_abstracts()
    if abstracts:
        results = bundle.level_model.classify(abstracts["texts"])
        labelled: dict[str, int] = {}
        for result in results:
            for key in result["predicted"]:
                labelled[key] = labelled.get(key, 0) + 1
        out["abstention"] = {"source": abstracts["source"], "selection": abstracts["selection"], "texts": len(results),
                             "uncertain_share": round(float(np.mean([r["status"] == "uncertain" for r in results])), 4),
                             "labelled_levels": labelled}
    sample = funding_database_sample()
    if sample:
        results = bundle.level_model.classify(sample["texts"])
        out["stability"] = {"source": sample["source"], "files": sample["files"], "texts": len(results),
                            "uncertain_share": round(float(np.mean([r["status"] == "uncertain" for r in results])), 4),
                            "level_share": {key: round(float(np.mean([key in r["predicted"] for r in results])), 4) for key in LEVEL_KEYS}}
    return out
