"""The README's commands, run as documented (through the CLI in-process)."""

from __future__ import annotations

import json
import re
import shlex


from conftest import ROOT


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    commands = []
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            commands += [part.strip() for part in line.split("&&") if part.strip().startswith("csvnlp ")]
    return commands


def test_readme_two_commands_match_ci():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    test_command = next(line for line in text.splitlines() if "pip install -e \".[test]\"" in line)
    assert test_command.strip() in (ROOT / ".ci" / "run").read_text()


def test_readme_first_command_classifies_the_example_submission(cli):
    first = next(c for c in readme_commands() if c.startswith("csvnlp classify \"Clusters"))
    args = shlex.split(first)[1:]
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["status"] == "ok" and "cluster_development" in payload["predicted"]


def test_readme_tag_example_runs_on_the_real_cordis_export(cli, tmp_path, monkeypatch):
    from conftest import shared_data

    shared_data("cordis_fp7_sample_bowowzahoya", "fp7_test_projects.csv")
    command = next(c for c in readme_commands() if c.startswith("csvnlp tag ../shared"))
    monkeypatch.chdir(ROOT)
    args = shlex.split(command)[1:]
    args[args.index("--out") + 1] = str(tmp_path / "fp7-tagged.csv")
    result = cli(*args, "--quiet")
    assert result.exit_code == 0, result.stderr
    assert "tagged 59 rows" in result.stdout
    assert (tmp_path / "fp7-tagged.csv").exists()
