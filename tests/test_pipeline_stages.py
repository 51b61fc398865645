"""pipeline/run.py reruns a stage when any source file it runs changes: its code inputs must
include the modules it reaches only through a package's lazy exports (csvnlp.evaluation)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run_module():
    spec = importlib.util.spec_from_file_location("pipeline_run", ROOT / "pipeline" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_evaluate_stage_tracks_the_evaluation_modules_it_runs():
    run = _run_module()
    inputs = run.code_inputs(run.STAGES["evaluate"]["code"])
    # cli/evaluate.py imports evaluate_to_directory from csvnlp.evaluation, whose __getattr__
    # loads csvnlp.evaluation.protocol; protocol reaches the report and the entity scoring
    for module in ("protocol", "report", "entity_evaluation", "frozen_split", "leave_source_out"):
        assert f"src/csvnlp/evaluation/{module}.py" in inputs


def test_lazy_exports_are_read_from_the_package_source():
    import ast

    run = _run_module()
    exports = run._lazy_exports(ast.parse((ROOT / "src/csvnlp/evaluation/__init__.py").read_text(encoding="utf-8")))
    from csvnlp import evaluation

    assert exports == evaluation._EXPORTS
