"""Nothing lost under kills and hostile input: the figures of issue 12.

    python benchmarks/robustness.py                       # 20+ kills per engine, 1,000 fuzz cases per command
    python benchmarks/robustness.py --kills 4 --fuzz 50   # a quick look

Three parts, each written to benchmarks/results/robustness.json and robustness.md:

1. Kills (tests/faults.py): for each engine (local, dask), SIGKILL real `csvnlp tag` runs at
   random points -- during start-up, after k parts, in the middle of assembling the final
   file, after its rename -- in trials of two kills each followed by `--resume`; every third
   trial also deletes one part and corrupts another before resuming. Each trial's output and
   errors file are compared byte for byte with an uninterrupted run of the same engine.
2. The annotation decisions log: a kill in the middle of writing a decision, simulated by
   cutting the log at every byte of its last line, then deciding again; counts decisions lost
   and invented.
3. Fuzzing (tests/hostile.py, Hypothesis): hostile bytes, quote storms, NULs, BOMs, mixed
   encodings, very long lines, deep JSON, 10^5-field rows at `tag`, `classify`, `corpus
   validate` and `corpus import`; counts cases, exit codes, tracebacks, and for `tag` the
   records accounted for (output rows = tagged + uncertain + errors = records read, every run).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
RESULTS = ROOT / "benchmarks" / "results"
WORK = ROOT / "benchmarks" / "work" / "robustness"


def kills(engines: list[str], count: int) -> list[dict]:
    from faults import inject

    reports = []
    for engine in engines:
        report = inject(WORK / engine, engine, kills=count, repeat=20, batch_size=40, kills_per_trial=2, seed=12)
        print(f"{engine}: {report.kills_survived}/{report.kills_injected} kills survived, points {report.points}, "
              f"parts damaged {report.parts_damaged} redone {report.parts_redone}, {report.seconds} s", flush=True)
        reports.append(report.as_dict())
    return reports


def torn_log() -> dict:
    from csvnlp.annotation import DecisionLog, read_decisions, resolve_decisions

    def label(record_id, levels):
        return {"id": record_id, "text": f"text {record_id}", "levels": levels, "action": "label"}

    work = Path(tempfile.mkdtemp(prefix="csvnlp-torn-"))
    before = [label("a", ["value_chain"]), label("b", []), {"action": "undo"}, label("c", ["products_markets"]), label("a", [])]
    expected = {"a": [], "c": ["products_markets"], "e": ["value_chain"]}
    complete = "".join(json.dumps(a) + "\n" for a in before).encode()
    torn = (json.dumps(label("d", ["cluster_development"])) + "\n").encode()
    lost = invented = 0
    for cut in range(len(torn)):
        path = work / f"log-{cut}.jsonl"
        path.write_bytes(complete + torn[:cut])
        log = DecisionLog(path)
        log.append(label("e", ["value_chain"]))
        log.close()
        standing = {k: v["levels"] for k, v in resolve_decisions(read_decisions(path)).items()}
        lost += sum(1 for k, v in expected.items() if standing.get(k) != v)
        invented += sum(1 for k in standing if k not in expected)
    shutil.rmtree(work, ignore_errors=True)
    return {"torn_writes_simulated": len(torn), "decisions_lost": lost, "decisions_invented": invented}


def fuzz(cases: int, seed: int) -> dict:
    from hypothesis import HealthCheck, given, settings, strategies as st

    import hostile

    work = Path(tempfile.mkdtemp(prefix="csvnlp-fuzz-"))
    corpus_dir = work / "corpus"
    corpus_dir.mkdir()
    shutil.copy(ROOT / "corpus" / "cases.jsonl", corpus_dir / "cases.jsonl")
    stats: dict[str, dict] = {}
    options = settings(max_examples=cases, deadline=None, database=None,
                       suppress_health_check=list(HealthCheck))

    def record(name: str, outcome) -> None:
        entry = stats.setdefault(name, {"cases": 0, "exit_codes": Counter(), "tag_runs_completed": 0,
                                        "records_accounted": 0, "unsupported_language_rows": 0})
        entry["cases"] += 1
        entry["exit_codes"][outcome.exit_code] += 1
        if outcome.records is not None:
            entry["tag_runs_completed"] += 1
            entry["records_accounted"] += outcome.records
            entry["unsupported_language_rows"] += getattr(outcome, "unsupported", 0)

    @options
    @given(data=st.one_of(hostile.hostile_csv(), hostile.hostile_bytes()),
           name=st.sampled_from(["in.csv", "in.csv", "in.tsv", "in.jsonl", "in.parquet"]))
    def tag_hostile(data, name):
        record("tag (hostile bytes)", hostile.run_tag(work, data, name))

    @options
    @given(records=hostile.known_records(), fmt=st.sampled_from(["csv", "jsonl"]))
    def tag_known(records, fmt):
        data = hostile.csv_of(records) if fmt == "csv" else hostile.jsonl_of(records)
        record("tag (known records)", hostile.run_tag(work, data, f"in.{fmt}", expected_ids=[i for i, _ in records]))

    @options
    @given(data=hostile.hostile_bytes())
    def classify(data):
        record("classify (--file and stdin)", hostile.run_classify(work, data))

    @options
    @given(corpus=hostile.hostile_corpus())
    def validate(corpus):
        record("corpus validate", hostile.run_validate(work, *corpus))

    @options
    @given(corpus=hostile.hostile_corpus())
    def import_(corpus):
        record("corpus import", hostile.run_import(work, *corpus, corpus_dir))

    failures = {}
    for test in (tag_hostile, tag_known, classify, validate, import_):
        started = time.monotonic()
        try:
            test()
        except Exception as exc:  # a falsified property: report it, never hide it
            failures[test.__name__] = str(exc)[:2000]
        print(f"fuzz {test.__name__}: {time.monotonic() - started:.0f} s", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    for entry in stats.values():
        entry["exit_codes"] = {str(k): v for k, v in sorted(entry["exit_codes"].items())}
    return {"per_command": stats, "failures": failures}


def reader_cost(rows: int = 100_000) -> dict:
    """What the record-accounting CSV reader costs against pandas' C parser (which it replaced,
    and which let an unterminated quote swallow the rest of a file): the same file, read only."""
    import csv
    import pandas as pd

    from csvnlp.tables import TableReader
    from csvnlp.tagging import TagOptions

    records = [json.loads(line) for line in (ROOT / "corpus" / "cases.jsonl").read_text(encoding="utf-8").splitlines()]
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"read-{rows}.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["id", "title", "objective"])
        for i in range(rows):
            record = records[i % len(records)]
            writer.writerow([i, record["title"], record["text"][:900]])  # multi-line quoted objectives
    best = {"csvnlp": float("inf"), "pandas": float("inf")}
    for _ in range(3):
        started = time.perf_counter()
        n = sum(len(c.texts) for c in TableReader(path, TagOptions(text_columns=["title", "objective"], id_column="id")).chunks())
        best["csvnlp"] = min(best["csvnlp"], time.perf_counter() - started)
        started = time.perf_counter()
        m = sum(len(f) for f in pd.read_csv(path, sep=";", dtype=str, chunksize=1000, keep_default_na=False))
        best["pandas"] = min(best["pandas"], time.perf_counter() - started)
        assert n == m == rows
    return {"rows": rows, "megabytes": round(path.stat().st_size / 1e6, 1), "csvnlp_reader_s": round(best["csvnlp"], 2),
            "pandas_c_parser_s": round(best["pandas"], 2)}


def worst_inputs() -> list[dict]:
    """Issue 19: the most expensive inputs of at most 20 MiB tried against `classify --file` and
    `tag`, each run in a child process; its wall time and peak resident memory (wait4's
    ru_maxrss), exit code and first line of stderr. The bound is 60 s and 1 GB each."""
    import csv
    import os
    import random
    import subprocess
    import zlib

    sys.path.insert(0, str(ROOT / "tests"))
    from hostile_documents import deflate_bomb, docx_with_body, paragraph, raw_pdf, text_ops

    work = WORK / "worst"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    csvnlp = str(Path(sys.executable).with_name("csvnlp"))
    model = str(ROOT / "models" / "csvnlp-base")
    g = "Clusters coach SMEs with innovation vouchers to build a new cross-border value chain in agri-food and ICT. "
    words = "cluster coach small firms value chain regional innovation vouchers growth".split()
    page = text_ops([(40, 800 - 12 * i, " ".join(words[(i + j) % 10] for j in range(12))) for i in range(60)])
    generator = random.Random(1)
    inputs: list[tuple[str, str, bytes]] = [
        ("PDF: FlateDecode bomb (1 GiB of spaces in one stream)", "bomb.pdf", raw_pdf([deflate_bomb(1 << 30)], compress=False)),
        ("PDF: RunLength bomb (20 MB of runs, 1.3 GB decoded)", "rle.pdf", _rle_pdf(raw_pdf, 10_000_000)),
        ("PDF: one page of 3,000 scattered words", "busy.pdf",
         raw_pdf([text_ops([(generator.uniform(10, 580), generator.uniform(10, 830), f"w{i}") for i in range(3000)], size=4)])),
        ("PDF: one page of 29,000 characters (just under the page bound)", "dense.pdf",
         raw_pdf([b"BT /F1 4 Tf 10 10 Td (" + b"x " * 14_500 + b") Tj ET"])),
        ("PDF: 160 pages of running text (~800,000 characters)", "long.pdf", raw_pdf([page] * 160)),
        ("PDF: 1,000 pages (the page bound) of 3 lines each", "pages.pdf", raw_pdf([text_ops([(40, 800, g), (40, 780, g), (40, 760, g)])] * 1000)),
        ("PDF: 1,000 pages of 9 lines (~970,000 characters, under both bounds)", "full.pdf",
         raw_pdf([text_ops([(40, 800 - 20 * i, g) for i in range(9)])] * 1000)),
        ("PDF: 1,001 pages (one past the page bound)", "pages1001.pdf", raw_pdf([text_ops([(40, 800, g)])] * 1001)),
        ("DOCX: 300,000 empty paragraphs (66 kB zipped)", "empty.docx", docx_with_body("<w:p/>" * 300_000 + paragraph(g))),
        ("DOCX: 3,000,000 empty paragraphs", "empty3m.docx", docx_with_body("<w:p/>" * 3_000_000 + paragraph(g))),
        ("DOCX: 99,000 paragraphs, 9,900 of them text (~960,000 characters)", "long.docx",
         docx_with_body(paragraph(g[:95]) * 9_900 + "<w:p/>" * 89_000)),
        ("DOCX: 4,900 paragraphs of text (~470,000 characters, classified)", "ok.docx", docx_with_body(paragraph(g[:95]) * 4_900)),
        ("text: 700,000 blank-line paragraphs (2.1 MB)", "blank.txt", b"x\n\n" * 700_000),
        ("text: 499,000 characters of running text", "long.txt", (g * 5000)[:499_000].encode()),
    ]
    rows = []
    for label, name, data in inputs:
        (work / name).write_bytes(data)
        rows.append(_measure(label, name, len(data), [csvnlp, "classify", "--file", str(work / name), "--model", model, "--json"], work))
    tables = {
        "CSV: 20 MiB, one well-formed quoted field of 5 MB among 15,000 records": ("field.csv", _table(15_000, 5_000_000, False)),
        "CSV: 20 MiB, a quote that never closes on line 2": ("stray.csv", _table(20_000, 0, True)),
        "CSV: one 20 MiB line without a newline": ("line.csv", b"id,text\n1," + b"x" * (20 * 2**20)),
        "JSONL: 5,000-digit integers and lone surrogates on every other line (7,000 lines)": ("ints.jsonl", b"".join(
            (b'{"id":"%d","text":"G","n":' % i + b"9" * 5000 + b"}\n") if i % 2 else
            (b'{"id":"%d","text":"' % i + g.encode() + b' \\ud83d"}\n') for i in range(7_000))),
    }
    for label, (name, data) in tables.items():
        (work / name).write_bytes(data)
        rows.append(_measure(label, name, len(data), [csvnlp, "tag", str(work / name), "--out", str(work / f"{name}.out.csv"), "-t", "text",
                                                      "--model", model, "--quiet", "--force"], work))
    shutil.rmtree(work, ignore_errors=True)
    return rows


def _rle_pdf(raw_pdf, runs: int) -> bytes:
    """A page whose content stream is RunLengthDecode runs of 128 bytes, 2 bytes each."""
    return raw_pdf([b"\x81 " * runs + b"\x80"], compress=False, filter_name=b"RunLengthDecode")


def _table(records: int, big_field: int, stray_quote: bool) -> bytes:
    import csv
    import io

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["id", "text"])
    text = "Clusters coach SMEs with innovation vouchers to build a new value chain in the region. " * 12
    for i in range(records):
        if i == 1 and big_field:
            writer.writerow([i, "a long field line\n" * (big_field // 18)])
        elif i == 1 and stray_quote:
            buffer.write(f'{i},"{text}\n')
        else:
            writer.writerow([i, text])
    return buffer.getvalue().encode()[: 20 * 2**20]


def _measure(label: str, name: str, size: int, command: list[str], work: Path) -> dict:
    import os
    import subprocess

    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = started + 300
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            process.kill()
            pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    stderr = process.stderr.read().decode("utf-8", errors="replace").strip().splitlines()
    code = os.waitstatus_to_exitcode(status)
    row = {"input": label, "bytes": size, "command": command[1], "exit": code, "seconds": round(seconds, 1),
           "peak_mb": round(usage.ru_maxrss / 1024), "message": (stderr[0].replace(f"{work}/", "")[:160] if stderr else "")}
    print(f"worst: {label}: exit {code}, {row['seconds']} s, {row['peak_mb']} MB", flush=True)
    return row


def write_markdown(result: dict, command: str) -> str:
    lines = ["# Nothing lost under kills and hostile input (issues 12 and 19)", "",
             f"Commands: {command}. Machine: {result['machine']}; {result['date']}.", "",
             "## Kills (`csvnlp tag`, SIGKILL of the whole process group, then `--resume`)", "",
             "| engine | records | chunks | kills injected | survived (output byte-identical) | by point | incomplete OUTPUT seen after a kill | parts damaged / detected and redone | seconds |",
             "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |"]
    for r in result.get("kills", []):
        points = ", ".join(f"{k} {v}" for k, v in sorted(r["points"].items()))
        lines.append(f"| {r['engine']} | {r['records']:,} | {r['chunks']} | {r['kills_injected']} | {r['kills_survived']} | {points} | "
                     f"{r['incomplete_outputs_seen']} | {r['parts_damaged']} / {r['parts_redone']} | {r['seconds']} |")
    lines += ["", "Points: `time` = during start-up/reading/staging; `parts` = after k new part files (plus up to 0.1 s, so some land "
              "mid-write); `assembly` = while the temporary output is being written; `output` = after the rename, before the "
              "parts are removed. A kill the run outran is not counted.", ""]
    t = result.get("torn_log", {"torn_writes_simulated": 0, "decisions_lost": "-", "decisions_invented": "-"})
    lines += ["## Annotation decisions log (a kill in the middle of writing a decision)", "",
              f"Cut at every byte of the last line ({t['torn_writes_simulated']} torn writes), reopened, one more decision: "
              f"**{t['decisions_lost']} decisions lost, {t['decisions_invented']} invented**.", "",
              "## Fuzzing (Hypothesis; no traceback, documented exit codes, every record accounted for)", "",
              "| command | cases | exit codes | tag runs completed | records accounted for (output = tagged + uncertain + unsupported_language + errors) | of them unsupported_language |",
              "| --- | ---: | --- | ---: | ---: | ---: |"]
    fuzzed = result.get("fuzz", {"per_command": {}, "failures": {}})
    for name, s in fuzzed["per_command"].items():
        codes = ", ".join(f"{k}: {v}" for k, v in s["exit_codes"].items())
        extra = (f"{s['tag_runs_completed']} | {s['records_accounted']:,} | {s.get('unsupported_language_rows', '-')}"
                 if name.startswith("tag") else "- | - | -")
        lines.append(f"| {name} | {s['cases']} | {codes} | {extra} |")
    failures = fuzzed["failures"]
    lines += ["", "Falsified properties: " + ("none" if not failures else "; ".join(f"{k}: {v[:300]}" for k, v in failures.items())), ""]
    if "reader" in result:
        r = result["reader"]
        extra = r["csvnlp_reader_s"] - r["pandas_c_parser_s"]
        lines += ["## What the accounting costs (reading only)", "",
                  f"{r['rows']:,} records ({r['megabytes']} MB, multi-line quoted objectives), best of 3: the csvnlp reader "
                  f"{r['csvnlp_reader_s']} s, pandas' C parser (used before, which let an unterminated quote swallow the rest "
                  f"of a file) {r['pandas_c_parser_s']} s: {extra:.1f} s more per {r['rows']:,} rows, against 21-37 s to tag "
                  f"them (benchmarks/results/tagging.md), i.e. {extra / 37:.0%}-{extra / 21:.0%} of a run.", ""]
    if "worst" in result:
        lines += ["## The worst inputs tried (issue 19: at most 20 MiB each, bound 60 s and 1 GB)", "",
                  "Each input run once in a child process (`csvnlp classify --file X --json` or `csvnlp tag X -t text`, "
                  "entities on, `--jobs 1`); wall time and peak resident memory of that process (wait4's ru_maxrss), on "
                  "a machine shared by several people, so times are upper bounds.", "",
                  "| input | size | command | exit | seconds | peak memory (MB) | what csvnlp said |", "| --- | ---: | --- | ---: | ---: | ---: | --- |"]
        for r in result["worst"]:
            lines.append(f"| {r['input']} | {r['bytes']:,} B | {r['command']} | {r['exit']} | {r['seconds']} | {r['peak_mb']} | "
                         f"{r['message'].replace('|', '/')[:120]} |")
        lines.append("")
    from csvnlp.errors import exit_codes_text

    lines += [exit_codes_text() + " Every case is checked for a traceback (any exception other than the CLI's exit) and "
              "an undocumented exit code; one would falsify the property and be listed above with its input.", "",
              "Reproduce: `python benchmarks/robustness.py` (all), or `--parts kills|torn|fuzz|reader|worst`; "
              "quick versions run in the test suite (`tests/test_fault_injection.py`, `tests/test_fuzz.py`, "
              "`tests/test_regressions_issue12.py`)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=20, help="kills per engine")
    parser.add_argument("--engines", nargs="+", default=["local", "dask"])
    parser.add_argument("--fuzz", type=int, default=1000, help="Hypothesis cases per property")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--parts", nargs="+", default=["kills", "torn", "fuzz", "reader", "worst"])
    args = parser.parse_args()
    command = "python benchmarks/robustness.py " + " ".join(sys.argv[1:])
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "robustness.json"
    result = json.loads(path.read_text()) if path.exists() else {}
    result.update({"machine": f"{platform.machine()}, Python {platform.python_version()}, 2 cores shared",
                   "date": time.strftime("%Y-%m-%d")})
    commands = result.setdefault("commands", {})
    if "kills" in args.parts:
        result["kills"] = kills(args.engines, args.kills)
        commands["kills"] = command
    if "torn" in args.parts:
        result["torn_log"] = torn_log()
        commands["torn"] = command
    if "fuzz" in args.parts:
        result["fuzz"] = fuzz(args.fuzz, args.seed)
        commands["fuzz"] = command
    if "reader" in args.parts:
        result["reader"] = reader_cost()
        commands["reader"] = command
    if "worst" in args.parts:
        result["worst"] = worst_inputs()
        commands["worst"] = command
    path.write_text(json.dumps(result, indent=2) + "\n")
    shown = "; ".join(f"{part}: `{cmd.strip()}`" for part, cmd in commands.items())
    (RESULTS / "robustness.md").write_text(write_markdown(result, shown))
    print((RESULTS / "robustness.md").read_text())


if __name__ == "__main__":
    main()
