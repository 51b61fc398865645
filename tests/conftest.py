from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = ROOT / "corpus"
SHIPPED_MODEL = ROOT / "models" / "csvnlp-base"
# $CSVNLP_SHARED_DATA (as csvnlp.evaluation.unlabelled_checks reads it) lets a git worktree use the shared data too
SHARED_DATA = Path(os.environ.get("CSVNLP_SHARED_DATA", ROOT.parent / "shared" / "data" / "external"))


@pytest.fixture(scope="session")
def records() -> list[dict]:
    return [json.loads(line) for line in (CORPUS_DIR / "cases.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def report_text() -> str:
    return (CORPUS_DIR / "source" / "clusters-and-shared-value-report.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def shipped_bundle():
    from csvnlp.persistence import load_bundle

    return load_bundle(SHIPPED_MODEL)


@pytest.fixture()
def cli():
    """Invoke the CLI in-process; returns the Click result (exit_code, stdout, stderr)."""
    from typer.testing import CliRunner

    from csvnlp.cli import app

    runner = CliRunner()

    def invoke(*args: str, input: str | bytes | None = None):
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke


def shared_data(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not present: {path}")
    return path
