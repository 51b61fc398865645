"""csvnlp as a user installs it: a wheel that carries its model, and a module graph without cycles."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from conftest import ROOT

SUBMISSION = (
    "Clusters from five regions coach SMEs with innovation vouchers to build a new cross-sectoral value chain "
    "in agri-food and ICT, funded by INNOSUP-01-2018-2020 and coordinated by the Basque Food Cluster."
)


@pytest.mark.slow
def test_packaging_wheel_installs_and_classifies_from_any_folder(tmp_path):
    """Issue 11: build the wheel, install it into a fresh venv, classify from a temporary folder.

    Offline: the build uses this environment's setuptools (--no-build-isolation) and the
    install takes no dependencies from an index (--no-deps --no-index); the fresh venv sees
    this environment's installed dependencies through a .pth line, but not its csvnlp, which
    is an editable install (its finder is not activated by a plain path entry)."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copytree(ROOT / "models" / "csvnlp-base", source / "models" / "csvnlp-base")
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
                    "-w", str(dist), str(source)], check=True, capture_output=True, text=True)
    wheel = next(dist.glob("csvnlp-*.whl"))

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "_csvnlp_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
                   check=True, capture_output=True, text=True)

    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "models" / "csvnlp-base").mkdir(parents=True)  # a decoy the default must ignore
    (elsewhere / "models" / "csvnlp-base" / "meta.json").write_text("{}")
    env = {k: v for k, v in os.environ.items() if k not in ("CSVNLP_MODEL", "PYTHONPATH", "VIRTUAL_ENV")}
    where = subprocess.run([str(python), "-c", "import csvnlp, csvnlp.persistence as p; print(csvnlp.__file__); print(p.default_model_dir())"],
                           cwd=elsewhere, env=env, check=True, capture_output=True, text=True).stdout.split()
    assert where[0].startswith(site) and where[1].startswith(site), where
    done = subprocess.run([str(venv / "bin" / "csvnlp"), "classify", SUBMISSION, "--json"], cwd=elsewhere, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "cluster_development" in result["predicted"]
    assert {("Basque Food Cluster", "CLUSTER"), ("INNOSUP-01-2018-2020", "PROGRAMME")} <= {(e["text"], e["label"]) for e in result["entities"]}


def _imports(path: Path) -> set[str]:
    """csvnlp modules a module imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("csvnlp."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("csvnlp.")}
    return found


def test_packaging_no_import_cycles_between_modules():
    package = ROOT / "src" / "csvnlp"
    graph = {p.stem: _imports(p) - {p.stem} for p in package.glob("*.py")}
    for sub in (p for p in package.iterdir() if (p / "__init__.py").exists()):  # a subpackage is one node
        graph[sub.name] = set().union(*(_imports(p) for p in sub.glob("*.py"))) - {sub.name}
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            assert state.get(target) != 1, "import cycle: " + " -> ".join(trail + [module, target])
            if target not in state:
                visit(target, trail + [module])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    assert "annotation" not in graph["corpus"] and "persistence" not in graph["model"]
    assert "evaluation" not in graph["training"] and "cli" not in set().union(*(graph[m] for m in graph if m != "cli"))
