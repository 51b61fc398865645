"""Shared helpers of the `csvnlp serve` tests: an app over the example table with a corpus in
a temporary folder, and the CSRF token a page hands out."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

from conftest import CORPUS_DIR, ROOT

EXAMPLE = ROOT / "examples" / "esif-england" / "tagged.csv"
BASE_URL = "http://127.0.0.1:8000"
# a project description that names a cluster organisation and a programme (the README's example)
SUBMISSION = ("Clusters from five regions coach SMEs with innovation vouchers to build a new cross-sectoral value "
              "chain in agri-food and ICT, funded by INNOSUP-01-2018-2020 and coordinated by the Basque Food Cluster.")
NAMED_SECTIONS = [
    ("Abstract", "Led by the Basque Food Cluster, the project will coach member SMEs to redesign their value chains, cutting water "
     "and energy use in processing and logistics, and sharing suppliers to lower costs. The project is funded by "
     "INNOSUP-01-2018-2020 and innovation vouchers fund audits and pilot lines in twelve firms."),
    ("Objectives", "We will build a shared cold-chain logistics platform for the cluster, train 60 workers in "
     "resource-efficient production, and link local universities with companies through joint demonstration "
     "projects that strengthen the regional innovation ecosystem."),
]


def small_corpus(folder: Path) -> Path:
    """A corpus folder with the report's 27 cases and an empty extra/ (what review writes to)."""
    (folder / "extra").mkdir(parents=True, exist_ok=True)
    shutil.copy(CORPUS_DIR / "cases.jsonl", folder / "cases.jsonl")
    return folder


def client_for(app, **options):
    with warnings.catch_warnings():  # starlette suggests another httpx package; httpx is what FastAPI documents
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    return TestClient(app, base_url=options.pop("base_url", BASE_URL), **options)


def make_app(bundle, corpus: Path, data: list[Path] | None = None, **config):
    from csvnlp.serve import ServeConfig, create_app

    return create_app(ServeConfig(data=list(data if data is not None else [EXAMPLE]), corpus=corpus, **config), bundle=bundle)


def csrf_of(client) -> str:
    client.get("/classify")
    token = client.cookies.get("csvnlp_csrf")
    assert token, "the pages hand out a CSRF cookie"
    return token
