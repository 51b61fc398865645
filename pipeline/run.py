"""Rebuild corpus/, models/ and reports/ from the report, skipping stages whose inputs did not change.

Usage (from the repository root):
    python pipeline/run.py                 # every stage, in order, when its inputs changed
    python pipeline/run.py train           # one stage (and nothing else)
    python pipeline/run.py --force         # run every stage even when nothing changed
    python pipeline/run.py --dry-run       # say what would run
    python pipeline/run.py --record train  # inputs changed in a way shown not to alter the outputs

Each stage declares its inputs and outputs. After a stage succeeds, the sha256 of its inputs is
recorded in pipeline/state.json; a stage runs again only when an input's hash differs from the
record or an output is missing. Stages run the same `csvnlp` commands a user would.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATE_FILE = ROOT / "pipeline" / "state.json"
PACKAGE = ROOT / "src" / "csvnlp"

# Each stage's inputs: data files and folders, plus the code it runs. Code is given as the
# module the stage enters by (its CLI command, or a script); every csvnlp module that one
# imports, directly or inside a function, is an input too (``code_inputs``), so no module the
# stage runs can change without the stage running again.
STAGES = {
    "build-corpus": {
        "command": ["corpus", "build"],
        "inputs": [
            "corpus/source/clusters-and-shared-value-report.txt", "corpus/table1.csv",
            "corpus/entity_annotations.json", "corpus/real/records.jsonl", "corpus/real/entity_records.jsonl",
        ],
        "code": ["csvnlp.cli.corpus"],
        "outputs": ["corpus/cases.jsonl"],
    },
    "train": {
        "command": ["train", "--out", "models/csvnlp-base", "--force"],
        "inputs": [
            "corpus/cases.jsonl", "corpus/extra", "corpus/entities", "corpus/gazetteers", "corpus/registry",
            "corpus/source/clusters-and-shared-value-report.txt",
        ],
        "code": ["csvnlp.cli.train"],
        "outputs": ["models/csvnlp-base/meta.json"],
    },
    "reference-outputs": {
        "script": "pipeline/reference_outputs.py",
        "inputs": ["models/csvnlp-base/meta.json", "pipeline/reference_outputs.py"],
        "code": ["csvnlp.persistence"],
        "outputs": ["tests/data/reference_outputs.json"],
    },
    # what `tag` writes for a fixed sample of real rows (needs ../shared/data); not re-run when
    # the inference code changes: tests/test_tagging_reference.py pins that code's outputs
    "tagging-reference": {
        "script": "pipeline/tagging_reference.py",
        "inputs": ["models/csvnlp-base/meta.json", "pipeline/tagging_reference.py"],
        "code": [],
        "outputs": ["tests/data/tagging_reference.json"],
    },
    "evaluate": {
        "command": ["evaluate", "--model", "models/csvnlp-base", "--out", "reports/evaluation", "--force"],
        "inputs": [
            "corpus/cases.jsonl", "corpus/extra", "corpus/external_test", "corpus/entity_test", "corpus/real/entity_fresh2_records.jsonl",
            "corpus/source/clusters-and-shared-value-report.txt", "models/csvnlp-base",
        ],
        "code": ["csvnlp.cli.evaluate"],
        "outputs": ["reports/evaluation/metrics.json", "reports/evaluation/report.md", "reports/evaluation/report.html"],
    },
}


def module_path(name: str) -> Path | None:
    """The source file of a csvnlp module (a package's ``__init__.py``), or None."""
    parts = name.split(".")[1:]
    folder = PACKAGE.joinpath(*parts)
    for candidate in ([folder.with_suffix(".py")] if parts else []) + [folder / "__init__.py"]:
        if candidate.is_file():
            return candidate
    return None


def _imports(tree: ast.AST, in_functions: bool) -> list[str]:
    """csvnlp modules a module imports (with ``in_functions``, also inside its functions)."""
    names: list[str] = []
    pending = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not in_functions:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("csvnlp"):
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names if alias.name.startswith("csvnlp")]
        pending.extend(ast.iter_child_nodes(node))
    return names


def _lazy_exports(tree: ast.AST) -> dict[str, str]:
    """A package's ``_EXPORTS`` (name -> submodule), which its ``__getattr__`` imports on first
    use (``csvnlp.evaluation``): invisible to ``_imports``, since the import is by string."""
    for node in getattr(tree, "body", []):
        if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_EXPORTS" for t in node.targets)
                and isinstance(node.value, ast.Dict)):
            return {k.value: v.value for k, v in zip(node.value.keys, node.value.values)
                    if isinstance(k, ast.Constant) and isinstance(v, ast.Constant)}
    return {}


def code_inputs(entry_modules: list[str]) -> list[str]:
    """The csvnlp source files a stage runs, as paths from the repository root: its entry
    modules and everything they import, transitively, imports inside functions included (any
    function of a module the stage uses may run). A module that is only imported on the way
    (a parent package, a sibling CLI command registered by ``csvnlp.cli``) counts with what it
    imports at module level only, since none of its functions run."""
    running: set[str] = set()
    loaded: set[str] = set()
    pending = [(name, True) for name in entry_modules]
    while pending:
        name, runs = pending.pop()
        path = module_path(name)
        if path is None and "." in name:  # ``from package import name``: a lazily exported name runs its submodule
            package, _, attribute = name.rpartition(".")
            package_path = module_path(package)
            submodule = _lazy_exports(ast.parse(package_path.read_text(encoding="utf-8"))).get(attribute) if package_path else None
            if submodule:
                pending.append((f"{package}.{submodule}", runs))
            continue
        if path is None or name in running or (name in loaded and not runs):
            continue
        (running if runs else loaded).add(name)
        parts = name.split(".")
        pending += [(".".join(parts[:i]), False) for i in range(1, len(parts))]  # parent packages are imported first
        pending += [(module, runs) for module in _imports(ast.parse(path.read_text(encoding="utf-8")), in_functions=runs)]
    return sorted(str(module_path(name).relative_to(ROOT)) for name in running | loaded)


def stage_inputs(stage: dict) -> list[str]:
    return list(stage["inputs"]) + code_inputs(stage["code"])


def fingerprint(paths: list[str]) -> dict[str, str]:
    """sha256 per input; a directory hashes its files' names and contents, sorted."""
    result = {}
    for name in paths:
        path = ROOT / name
        digest = hashlib.sha256()
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path] if path.exists() else []
        for file in files:
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
        result[name] = digest.hexdigest() if files else "absent"
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stages", nargs="*", help=f"stages to run: {', '.join(STAGES)} (default: all)")
    parser.add_argument("--force", action="store_true", help="run even when inputs did not change")
    parser.add_argument("--dry-run", action="store_true", help="only say what would run")
    parser.add_argument("--record", action="store_true",
                        help="record the named stages' current inputs as built, without running them (their outputs must "
                             "exist): for a change shown not to alter a stage's outputs; say why in the commit")
    args = parser.parse_args()
    unknown = [name for name in args.stages if name not in STAGES]
    if unknown:
        parser.error(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
    state = json.loads(STATE_FILE.read_text()) if STATE_FILE.exists() else {}
    if args.record:
        if not args.stages:
            parser.error("--record needs the stage(s) to record, by name")
        for name in args.stages:
            missing = [out for out in STAGES[name]["outputs"] if not (ROOT / out).exists()]
            if missing:
                parser.error(f"cannot record {name}: its output {missing[0]} is missing; run the stage")
            state[name] = fingerprint(stage_inputs(STAGES[name]))
            print(f"[{name}] recorded as built from the current inputs (not run)")
        STATE_FILE.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
        return 0
    for name in args.stages or list(STAGES):
        stage = STAGES[name]
        inputs = fingerprint(stage_inputs(stage))
        outputs_present = all((ROOT / out).exists() for out in stage["outputs"])
        if not args.force and outputs_present and state.get(name) == inputs:
            print(f"[{name}] up to date, skipped")
            continue
        if "script" in stage:
            command = [sys.executable, stage["script"]]
            print(f"[{name}] running: python {stage['script']}")
        else:
            command = [sys.executable, "-m", "csvnlp.cli", *stage["command"]]
            print(f"[{name}] running: csvnlp {' '.join(stage['command'])}")
        if args.dry_run:
            continue
        done = subprocess.run(command, cwd=ROOT)
        if done.returncode != 0:
            print(f"[{name}] failed with exit status {done.returncode}", file=sys.stderr)
            return done.returncode
        state[name] = fingerprint(stage_inputs(stage))
        STATE_FILE.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
