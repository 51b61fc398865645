"""Throughput of `csvnlp tag DIR` on a folder of 200 generated call submissions with good and
bad files, against plain text extraction alone, measured in the same run.

    python benchmarks/document_throughput.py            # 200 documents (the figure in results/)
    python benchmarks/document_throughput.py --n 50     # a quick look

The folder (benchmarks/work/submissions/, not in git) is built from real English ERDF
operation summaries (../shared/data/external/esif_operations_os_data, England 2014-2020):
each good document is a proposal of three sections (Abstract, Objectives, Work plan), each a
different summary. Mix (for 200): 70 multi-page PDFs with running header/footer and page
numbers, 10 of them with a two-column page; 50 DOCX with headings and a partner table; 40
Markdown/text files; 10 German/French/Polish texts (unsupported_language); and 30 bad files:
8 scans (no text layer), 8 password-protected PDFs, 8 truncated PDFs, 6 pictures/binaries.

Runs, each the median of ``--repeats`` wall-clock times (default 3) including start-up:
- plain extraction: pdfminer.six `extract_text` / python-docx paragraphs / bytes.decode, one
  process, no layout work and no classification (bad files caught and counted);
- csvnlp extraction: `documents.read_document` on every file, one process (layout, headers,
  de-hyphenation, sections);
- `csvnlp tag DIR --jobs 1` and `--jobs 2` (subprocesses: extraction + language + levels +
  entities + output), checked to account for every file.
Results go to benchmarks/results/documents.json and documents.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the fixture factory the tests use

from document_factory import make_encrypted_pdf, make_proposal_docx, make_proposal_pdf, make_scanned_pdf  # noqa: E402

WORK = ROOT / "benchmarks" / "work"
RESULTS = ROOT / "benchmarks" / "results"
ESIF = ROOT.parent / "shared" / "data" / "external" / "esif_operations_os_data" / "ESIF_2014-2020_List_of_beneficiaries_Oct_2016.csv"
FOREIGN = [
    "Das Cluster unterstützt kleine und mittlere Unternehmen bei der gemeinsamen Beschaffung, bildet Fachkräfte "
    "in der Region aus und verbindet Hochschulen mit Betrieben in gemeinsamen Demonstrationsprojekten.",
    "Le pôle de compétitivité accompagne les petites entreprises dans la mutualisation de leurs achats, forme "
    "des techniciens dans la région et rapproche les universités des entreprises locales.",
    "Klaster wspiera małe i średnie przedsiębiorstwa we wspólnych zakupach, szkoli pracowników w regionie "
    "oraz łączy uczelnie z firmami w ramach wspólnych projektów demonstracyjnych.",
]


def summaries() -> list[str]:
    import pandas as pd

    frame = pd.read_csv(ESIF, dtype=str, keep_default_na=False)
    texts = [t.strip() for t in frame["Summary of project (max 100 words)"] if len(t.split()) >= 40]
    return [t[:900] for t in texts]


def build_folder(folder: Path, n: int, seed: int = 13) -> dict[str, int]:
    """n files; returns the expected count per outcome."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = random.Random(seed)
    texts = summaries()
    scale = n / 200
    plan = {"pdf": round(70 * scale), "docx": round(50 * scale), "text": round(40 * scale), "foreign": round(10 * scale),
            "scan": round(8 * scale), "encrypted": round(8 * scale), "truncated": round(8 * scale)}
    plan["binary"] = n - sum(plan.values())

    def proposal() -> list[tuple[str, str]]:
        return list(zip(("Abstract", "Objectives", "Work plan"), rng.sample(texts, 3)))

    table = [["Partner", "Country", "Role"], ["Regional cluster", "UK", "Coordinator"], ["University", "UK", "Research"]]
    for i in range(plan["pdf"]):
        columns = tuple(rng.sample(texts, 2)) if i % 7 == 0 else None
        _mk(folder / "pdf")
        make_proposal_pdf(folder / "pdf" / f"proposal-{i:03d}.pdf", proposal(), two_column_page=columns)
    for i in range(plan["docx"]):
        _mk(folder / "docx")
        make_proposal_docx(folder / "docx" / f"proposal-{i:03d}.docx", proposal(), table=table)
    for i in range(plan["text"]):
        _mk(folder / "text")
        body = "\n\n".join(f"## {h}\n\n{t}" for h, t in proposal())
        (folder / "text" / f"proposal-{i:03d}.md").write_text(body, encoding="utf-8")
    for i in range(plan["foreign"]):
        _mk(folder / "foreign")
        (folder / "foreign" / f"antrag-{i:03d}.txt").write_text(FOREIGN[i % 3], encoding="utf-8")
    _mk(folder / "bad")
    for i in range(plan["scan"]):
        make_scanned_pdf(folder / "bad" / f"scan-{i:03d}.pdf", pages=2)
    for i in range(plan["encrypted"]):
        make_encrypted_pdf(folder / "bad" / f"locked-{i:03d}.pdf")
    for i in range(plan["truncated"]):
        whole = make_proposal_pdf(folder / "bad" / f"cut-{i:03d}.pdf", proposal()).read_bytes()
        (folder / "bad" / f"cut-{i:03d}.pdf").write_bytes(whole[: len(whole) // 4])
    for i in range(plan["binary"]):
        (folder / "bad" / f"photo-{i:03d}.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + rng.randbytes(20000))
    return {"files": n, "errors": plan["scan"] + plan["encrypted"] + plan["truncated"] + plan["binary"],
            "unsupported_language": plan["foreign"]}


def _mk(path: Path) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return True


PLAIN = """
import io, sys, time
from pathlib import Path
start = time.perf_counter()
from pdfminer.high_level import extract_text
import docx
ok = bad = 0
for path in sorted(p for p in Path(sys.argv[1]).rglob("*") if p.is_file()):
    data = path.read_bytes()
    try:
        if data.startswith(b"%PDF"):
            text = extract_text(io.BytesIO(data))
        elif data.startswith(b"PK"):
            text = "\\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)
        else:
            text = data.decode("utf-8")
        ok += bool(text.strip())
        bad += not text.strip()
    except Exception:
        bad += 1
print(ok, bad)
"""

CSVNLP_EXTRACTION = """
import sys
from pathlib import Path
from csvnlp.documents import read_document
from csvnlp.errors import InputError
ok = bad = 0
for path in sorted(p for p in Path(sys.argv[1]).rglob("*") if p.is_file()):
    try:
        read_document(path)
        ok += 1
    except InputError:
        bad += 1
print(ok, bad)
"""


def timed(command: list[str], repeats: int) -> tuple[list[float], str]:
    """Wall times of ``repeats`` runs, and the last run's stdout."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
        times.append(time.perf_counter() - start)
    return times, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="documents in the folder")
    parser.add_argument("--repeats", type=int, default=3, help="runs per configuration (the median is kept)")
    args = parser.parse_args()
    folder = WORK / "submissions"
    expected = build_folder(folder, args.n)
    files = [p for p in folder.rglob("*") if p.is_file()]
    megabytes = sum(p.stat().st_size for p in files) / 1e6
    runs = []
    load_before = os.getloadavg()[0]

    def record(name: str, times: list[float], extra: dict | None = None) -> None:
        seconds, best = statistics.median(times), min(times)
        runs.append({"run": name, "seconds": round(seconds, 2), "docs_per_s": round(len(files) / seconds, 1),
                     "mb_per_s": round(megabytes / seconds, 2), "best_seconds": round(best, 2),
                     "best_docs_per_s": round(len(files) / best, 1), "times": [round(t, 2) for t in times], **(extra or {})})
        print(runs[-1], flush=True)

    seconds, out = timed([sys.executable, "-c", PLAIN, str(folder)], args.repeats)
    record("plain extraction (pdfminer extract_text / python-docx / decode), 1 process", seconds, {"readable": int(out.split()[0])})
    seconds, out = timed([sys.executable, "-c", CSVNLP_EXTRACTION, str(folder)], args.repeats)
    record("csvnlp extraction only (documents.read_document), 1 process", seconds, {"readable": int(out.split()[0]), "refused": int(out.split()[1])})
    # start-up (imports, model and language model loads, one part, output): a one-file folder
    single = WORK / "one-file"
    shutil.rmtree(single, ignore_errors=True)
    single.mkdir(parents=True)
    shutil.copy(next((folder / "text").iterdir()), single / "proposal.md")
    startup, _ = timed([sys.executable, "-m", "csvnlp.cli", "tag", str(single), "--out", str(WORK / "one.csv"), "--force", "--quiet"], args.repeats)
    startup_s = statistics.median(startup)
    for jobs in (1, 2):
        target = WORK / f"tagged-{jobs}.csv"
        seconds, out = timed([sys.executable, "-m", "csvnlp.cli", "tag", str(folder), "--out", str(target), "--force",
                              "--jobs", str(jobs), "--json", "--quiet"], args.repeats)
        summary = json.loads(out)
        accounted = summary["tagged"] + summary["uncertain"] + summary["unsupported_language"] + summary["errors"]
        assert summary["rows"] == len(files) == accounted, summary
        assert summary["errors"] == expected["errors"] and summary["unsupported_language"] == expected["unsupported_language"], summary
        record(f"csvnlp tag DIR --jobs {jobs}", seconds, {k: summary[k] for k in ("rows", "tagged", "uncertain", "unsupported_language", "errors", "languages")})
        runs[-1]["docs_per_s_after_startup"] = round(len(files) / max(statistics.median(seconds) - startup_s, 1e-9), 1)
    result = {
        "command": "python benchmarks/document_throughput.py" + (f" --n {args.n}" if args.n != 200 else "") + (f" --repeats {args.repeats}" if args.repeats != 3 else ""),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)]},
        "folder": {"files": len(files), "megabytes": round(megabytes, 2), **expected},
        "startup_seconds": round(startup_s, 2),
        "runs": runs,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "documents.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# `csvnlp tag DIR` throughput on call submissions",
        "",
        f"Command: `{result['command']}`; {result['machine']['cpus']} cores (shared); folder: {len(files)} files, "
        f"{megabytes:.1f} MB ({expected['errors']} bad files, {expected['unsupported_language']} not in English).",
        "",
        f"Load average (1 min) at start / end: {result['machine']['load_average_1min']} on a machine shared with other work.",
        "",
        "| run | median s | documents/s | MB/s | best s | best documents/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ] + [f"| {r['run']} | {r['seconds']} | {r['docs_per_s']} | {r['mb_per_s']} | {r['best_seconds']} | {r['best_docs_per_s']} |" for r in runs] + [
        "",
        f"Start-up of `csvnlp tag` (a one-file folder: imports, model and language-model loads, output): {startup_s:.2f} s; "
        "documents/s after start-up: " + ", ".join(f"{r['run'].split('DIR ')[1]} {r['docs_per_s_after_startup']}" for r in runs if "docs_per_s_after_startup" in r) + ".",
        "",
        "Every file is accounted for in each `tag` run (rows = files = tagged + uncertain + unsupported_language + errors; "
        "errors and unsupported_language equal the planted counts; the script asserts it).",
        f"Each figure is the median of {args.repeats} wall-clock runs including start-up (imports, model load: about 3 s; "
        "the language model: 0.6 s); the machine is shared, so single runs vary by 30% or more.",
    ]
    (RESULTS / "documents.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
