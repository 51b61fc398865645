"""Benchmark `csvnlp serve` as a user meets it: a real server process (uvicorn), real HTTP.

1. Start-up (model load) and `POST /api/classify` of a one-page submission (text and PDF):
   the first answer after start-up, then the median and 95th percentile of 30 more.
2. A 10^6-row tagged Parquet file: the explore page with a level filter and a chart grouped by
   a kept column (count + grouped shares + first page of rows, as the browser asks for it),
   plus the same with an amount sum, a full-text search and the CSV download of the filtered
   rows; the server's resident memory (its process tree) sampled every 50 ms throughout.
3. The same 10^6 rows as CSV: start-up, which loads them into DuckDB's on-disk database once.

The 10^6 rows are the 240 rows of examples/esif-england/tagged.csv (real `csvnlp tag` output)
repeated with new ids, each text made distinct by its id: the cost of a DuckDB scan depends on
the rows, columns and text lengths, which this keeps. Group columns keep their real cardinality.

    python benchmarks/serve.py            # writes benchmarks/results/serve.{json,md}
"""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
EXAMPLE = ROOT / "examples" / "esif-england" / "tagged.csv"
RESULTS = ROOT / "benchmarks" / "results"
ROWS = int(os.environ.get("CSVNLP_BENCH_ROWS", 1_000_000))  # smaller for a quick check of the script
REPEATS = 30
ONE_PAGE = [  # about 450 words: one page of a call submission
    ("Summary", "The Basque Food Cluster and three partner clusters in Catalonia, Emilia-Romagna and Brittany will coach "
     "120 agri-food SMEs to redesign their value chains around water and energy efficiency. Innovation vouchers "
     "funded by INNOSUP-01-2018-2020 pay for audits, pilot lines and joint procurement of recycled packaging. " * 3),
    ("Objectives", "We will build a shared cold-chain logistics platform for the clusters, train 300 workers in "
     "resource-efficient production, and link regional universities with companies through demonstration projects. "
     "Firms will pool suppliers and logistics to lower costs and emissions, and develop new products for health-"
     "conscious consumers and for low-income neighbourhoods with poor access to fresh food. " * 3),
    ("Work plan", "Work package one maps energy and water flows in each firm. Work package two installs metering and "
     "heat recovery. Work package three pools procurement of packaging. Work package four evaluates productivity "
     "gains and reports them to the regional agencies and the cluster members. " * 3),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`csvnlp serve` in its own process, with its memory sampled from the outside."""

    def __init__(self, *args: str, corpus: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        started = time.perf_counter()
        self.process = subprocess.Popen([sys.executable, "-m", "csvnlp.cli", "serve", "--port", str(self.port),
                                         "--corpus", str(corpus), *args],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
        while True:
            try:
                if httpx.get(self.url + "/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                raise SystemExit(f"serve exited: {self.process.stderr.read().decode()}")
            time.sleep(0.05)
        self.startup_s = time.perf_counter() - started
        self.peak_rss = 0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def rss(self) -> int:
        try:
            tree = [psutil.Process(self.process.pid)]
            tree += tree[0].children(recursive=True)
            return sum(p.memory_info().rss for p in tree)
        except psutil.NoSuchProcess:
            return 0

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_rss = max(self.peak_rss, self.rss())
            time.sleep(0.05)

    def close(self) -> None:
        self._stop.set()
        self._sampler.join()
        self.process.terminate()
        self.process.wait(timeout=30)


def timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    answer = call()
    return time.perf_counter() - started, answer


def summary(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {"median_ms": round(1000 * statistics.median(ordered), 1),
            "p95_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
            "max_ms": round(1000 * ordered[-1], 1), "n": len(ordered)}


def classify_benchmark(work: Path) -> dict[str, object]:
    from document_factory import make_proposal_pdf

    text = "\n\n".join(f"{h}\n\n{b}" for h, b in ONE_PAGE)
    pdf = make_proposal_pdf(work / "one-page.pdf", sections=[("Project", " ".join(b for _, b in ONE_PAGE))])
    server = Server(corpus=work / "corpus")
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            first, answer = timed(lambda: client.post("/api/classify", data={"text": text}))
            assert answer.status_code == 200, answer.text
            texts = [timed(lambda: client.post("/api/classify", data={"text": text}))[0] for _ in range(REPEATS)]
            pdf_bytes = pdf.read_bytes()
            pdfs = []
            for _ in range(REPEATS):
                seconds, answer = timed(lambda: client.post("/api/classify", files={"file": ("one-page.pdf", pdf_bytes, "application/pdf")}))
                assert answer.status_code == 200, answer.text
                pdfs.append(seconds)
            page, answer = timed(lambda: client.post("/classify", data={"text": text, "csrf": "x" * 32}, cookies={"csvnlp_csrf": "x" * 32}))
        return {
            "startup_s": round(server.startup_s, 2),
            "words": len(text.split()),
            "first_text_request_ms": round(1000 * first, 1),
            "text": summary(texts), "pdf": summary(pdfs),
            "classify_page_ms": round(1000 * page, 1),
            "peak_rss_mb": round(server.peak_rss / 2**20, 1),
        }
    finally:
        server.close()


def big_table(work: Path) -> tuple[Path, Path]:
    frame = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    for key in ("products_markets", "value_chain", "cluster_development"):
        frame[f"p_{key}"] = frame[f"p_{key}"].astype(float)
    copies = -(-ROWS // len(frame))
    big = pd.concat([frame] * copies, ignore_index=True).iloc[:ROWS].copy()
    big["id"] = [str(i) for i in range(len(big))]
    # every text distinct, as in a real database (repeated texts would let Parquet's dictionary
    # encoding and DuckDB's scans do far less work than real data needs)
    for column in ("Summary of project (max 100 words)", "Name of Project"):
        big[column] = big[column] + " (operation " + big["id"] + ")"
    parquet, csv = work / "big.parquet", work / "big.csv"
    big.to_parquet(parquet, index=False, row_group_size=100_000)
    big.to_csv(csv, index=False)
    return parquet, csv


def explore_benchmark(work: Path, parquet: Path) -> dict[str, object]:
    server = Server("--data", str(parquet), corpus=work / "corpus")
    group, amount = "Local Enterprise Partnership area", "ERDF/ESF investment £m"
    cases = {
        "level filter + chart by a kept column (explore page)": {"level": "cluster_development", "group": group},
        "level filter + chart + amount sum per level": {"level": "cluster_development", "group": group, "amount": amount},
        "kept-column filter + chart by year": {"column": "Type of fund", "value": "ERDF", "group": "Start year"},
        "full-text search + chart": {"q": "innovation", "group": group},
        "no filter, chart by status (all 10^6 rows)": {"group": "status"},
    }
    out: dict[str, object] = {"startup_s": round(server.startup_s, 2), "rss_after_start_mb": round(server.rss() / 2**20, 1)}
    try:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            for name, query in cases.items():
                seconds = []
                for _ in range(5):
                    t, answer = timed(lambda: client.get("/data/big?" + urlencode(query)))
                    assert answer.status_code == 200, answer.text[:500]
                    seconds.append(t)
                out[name] = summary(seconds)
            t, answer = timed(lambda: client.get(f"/data/big/rows/{3 * ROWS // 4}"))
            assert answer.status_code == 200, answer.text[:500]
            out["record page (classifies its text)_ms"] = round(1000 * t, 1)
            t, answer = timed(lambda: client.get("/data/big/queue"))
            assert answer.status_code == 200, answer.text[:500]
            out["review queue (suggest order over 10^6 rows)_ms"] = round(1000 * t, 1)
            size = 0
            started = time.perf_counter()
            with client.stream("GET", "/data/big/download.csv?" + urlencode({"level": "cluster_development"})) as answer:
                for chunk in answer.iter_bytes():
                    size += len(chunk)
            out["download filtered rows"] = {"seconds": round(time.perf_counter() - started, 2), "mb": round(size / 2**20, 1)}
        out["peak_rss_mb"] = round(server.peak_rss / 2**20, 1)
        return out
    finally:
        server.close()


def csv_startup(work: Path, csv: Path) -> dict[str, object]:
    server = Server("--data", str(csv), corpus=work / "corpus")
    try:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            t, answer = timed(lambda: client.get("/data/big?" + urlencode({"level": "cluster_development", "group": "Start year"})))
            assert answer.status_code == 200
        return {"startup_s": round(server.startup_s, 2), "explore_ms": round(1000 * t, 1), "peak_rss_mb": round(server.peak_rss / 2**20, 1)}
    finally:
        server.close()


def main() -> None:
    from serve_support import small_corpus

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        small_corpus(work / "corpus")
        load_before = os.getloadavg()
        results: dict[str, object] = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                                   "uptime_before": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()}}
        results["classify"] = classify_benchmark(work)
        parquet, csv = big_table(work)
        results["table"] = {"rows": ROWS, "parquet_mb": round(parquet.stat().st_size / 2**20, 1), "csv_mb": round(csv.stat().st_size / 2**20, 1)}
        results["parquet_10e6"] = explore_benchmark(work, parquet)
        results["csv_10e6"] = csv_startup(work, csv)
        results["machine"]["uptime_after"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        results["machine"]["loadavg_before"] = [round(x, 2) for x in load_before]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "serve.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (RESULTS / "serve.md").write_text(markdown(results), encoding="utf-8")
    print(json.dumps(results, indent=2, ensure_ascii=False))


def markdown(r: dict) -> str:
    c, t, p, v = r["classify"], r["table"], r["parquet_10e6"], r["csv_10e6"]
    lines = [
        "# `csvnlp serve`: speed and memory",
        "",
        "Measured by `python benchmarks/serve.py` (figures in [serve.json](serve.json)): a real `csvnlp serve`",
        "process (uvicorn), real HTTP requests from another process, memory = resident set of the server's",
        "process tree sampled every 50 ms.",
        "",
        f"Machine: {r['machine']['cpus']} CPUs shared with other users; load before: `{r['machine']['uptime_before']}`;",
        f"after: `{r['machine']['uptime_after']}`. Python {r['machine']['python']}.",
        "",
        "## Classify a one-page submission (target: under 300 ms after start-up)",
        "",
        f"Start-up (model load, until the start page answers): {c['startup_s']} s.",
        f"A {c['words']}-word, three-section submission; 1 first request then {c['text']['n']} more of each kind.",
        "",
        "| request | median | 95th percentile | max |",
        "| --- | --- | --- | --- |",
        f"| `POST /api/classify` text (first after start-up: {c['first_text_request_ms']} ms) | {c['text']['median_ms']} ms | {c['text']['p95_ms']} ms | {c['text']['max_ms']} ms |",
        f"| `POST /api/classify` one-page PDF upload | {c['pdf']['median_ms']} ms | {c['pdf']['p95_ms']} ms | {c['pdf']['max_ms']} ms |",
        "",
        f"The classify page (HTML, with highlighting) for the same text: {c['classify_page_ms']} ms. Peak memory: {c['peak_rss_mb']} MB.",
        "",
        "## A 10^6-row tagged Parquet file (target: filter + grouped chart under 1 s, server under 1 GB)",
        "",
        f"{t['rows']:,} rows ({t['parquet_mb']} MB Parquet): the 240 real rows of `examples/esif-england/tagged.csv`",
        "repeated with new ids, every text made distinct by its id. Each explore request runs the count, the grouped shares and the first page of rows",
        "(and the amount sums when asked), as the page does; 5 requests each.",
        f"Start-up: {p['startup_s']} s; memory after start-up {p['rss_after_start_mb']} MB.",
        "",
        "| request | median | 95th percentile |",
        "| --- | --- | --- |",
    ]
    for name, value in p.items():
        if isinstance(value, dict) and "median_ms" in value:
            lines.append(f"| {name} | {value['median_ms']} ms | {value['p95_ms']} ms |")
    lines += [
        "",
        f"Record page (re-classifies its text for the highlighting): {p['record page (classifies its text)_ms']} ms; "
        f"review queue (suggest's order over all rows): {p['review queue (suggest order over 10^6 rows)_ms']} ms; "
        f"CSV download of the filtered rows: {p['download filtered rows']['mb']} MB in {p['download filtered rows']['seconds']} s.",
        "",
        f"**Peak memory of the server over all of the above: {p['peak_rss_mb']} MB.**",
        "",
        "## The same rows as CSV",
        "",
        f"A CSV ({t['csv_mb']} MB) is loaded once into DuckDB's on-disk database in a temporary folder: start-up "
        f"{v['startup_s']} s, then the filtered, grouped explore page in {v['explore_ms']} ms; peak memory {v['peak_rss_mb']} MB.",
        "Parquet is read where it lies, so it starts at once.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
