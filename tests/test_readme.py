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

    export = shared_data("cordis_fp7_sample_bowowzahoya", "fp7_test_projects.csv")
    command = next(c for c in readme_commands() if c.startswith("csvnlp tag ../shared"))
    monkeypatch.chdir(ROOT)
    args = shlex.split(command)[1:]
    args[1] = str(export)  # the same file, wherever $CSVNLP_SHARED_DATA puts it (e.g. in a git worktree)
    args[args.index("--out") + 1] = str(tmp_path / "fp7-tagged.csv")
    result = cli(*args, "--quiet")
    assert result.exit_code == 0, result.stderr
    assert "tagged 59 rows" in result.stdout
    assert (tmp_path / "fp7-tagged.csv").exists()


def test_readme_folder_workflow_tags_a_folder_of_submissions(cli, tmp_path, monkeypatch):
    """issue 13: the README's folder commands, on a folder of generated submissions."""
    from document_factory import make_encrypted_pdf, make_proposal_docx, make_proposal_pdf, make_scanned_pdf

    from conftest import SHIPPED_MODEL

    folder = tmp_path / "submissions"
    (folder / "round-1").mkdir(parents=True)
    make_proposal_pdf(folder / "round-1" / "a.pdf")
    make_proposal_docx(folder / "b.docx")
    make_scanned_pdf(folder / "scan.pdf", pages=1)
    make_encrypted_pdf(folder / "locked.pdf")
    monkeypatch.chdir(tmp_path)
    commands = [c for c in readme_commands() if c.startswith("csvnlp tag submissions/") or c.startswith("csvnlp tag --files")]
    assert len(commands) == 2
    outputs = []
    for command in commands:
        args = shlex.split(command)[1:]
        result = cli(*args, "--quiet", "--json", "--model", str(SHIPPED_MODEL))
        assert result.exit_code == 0, result.stderr
        outputs.append(json.loads(result.stdout))
    assert (outputs[0]["rows"], outputs[0]["errors"]) == (4, 2)
    assert (outputs[1]["rows"], outputs[1]["errors"]) == (3, 2)
    import pandas as pd

    tagged = pd.read_csv(tmp_path / "tagged.csv", dtype=str, keep_default_na=False)
    assert list(tagged["id"]) == ["b.docx", "locked.pdf", "round-1/a.pdf", "scan.pdf"]
    pdf = next(c for c in readme_commands() if c.startswith("csvnlp classify --file proposal.pdf"))
    (tmp_path / "proposal.pdf").write_bytes((folder / "round-1" / "a.pdf").read_bytes())
    result = cli(*shlex.split(pdf, comments=True)[1:], "--model", str(SHIPPED_MODEL))
    assert result.exit_code == 0 and json.loads(result.stdout)["document"]["kind"] == "pdf"


def test_readme_and_help_give_the_one_exit_code_text(cli):
    """issue 20: the exit statuses and their meanings are written once (errors.EXIT_STATUS_MEANING)."""
    from csvnlp.errors import EXIT_STATUS_MEANING, ExitStatus, exit_codes_text

    assert set(EXIT_STATUS_MEANING) == set(ExitStatus)
    assert exit_codes_text() in (ROOT / "README.md").read_text(encoding="utf-8")
    help_text = " ".join(cli("--help").stdout.split())
    for status, meaning in EXIT_STATUS_MEANING.items():
        assert f"{int(status)} {meaning}" in help_text
