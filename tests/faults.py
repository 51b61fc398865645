"""Fault injection for ``csvnlp tag``: SIGKILL a real run at chosen or random points, resume,
and compare the result byte for byte with an uninterrupted run (issue 12, item 2).

Used by the quick test (tests/test_fault_injection.py) and the long run
(benchmarks/fault_injection.py). A kill point is one of:

- ``time:<s>``: that many seconds after the process started (imports, reading, staging);
- ``parts:<k>``: once ``k`` new part files exist (mid-tagging; a random extra delay of up to
  0.1 s lands some kills in the middle of writing a part);
- ``assembly``: as soon as the temporary output exists (mid-assembly of the final file);
- ``output``: as soon as OUTPUT exists (after the rename, before the parts are removed).

After every kill the harness checks that OUTPUT either does not exist or is already the
complete, correct file; a run that finished before the kill point was reached counts as not
injected. The whole process group is killed (Dask's worker processes included), since a
SIGKILL gives the client no chance to stop its cluster.
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "csvnlp-base"


def make_input(path: Path, repeat: int) -> int:
    """A ';'-separated, BOM-prefixed export of the corpus texts, with bad records mixed in."""
    records = [json.loads(line) for line in (ROOT / "corpus" / "cases.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = []
    for r in range(repeat):
        for record in records:
            rows.append([f"{record['id']}-{r}", record["title"], record["text"]])
        rows.append([f"empty-{r}", "", "  "])
        rows.append([f"nul-{r}", "x", "binary \x00 field"])
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(["id", "title", "objective"])
        writer.writerows(rows)
    with path.open("ab") as handle:  # a record whose quote never closes, then one more record
        handle.write(b'tail-1;"open quote;never closed\ntail-2;last;' + " ".join(records[0]["text"][:200].split()).encode() + b"\n")
    return len(rows) + 2


def command(source: Path, out: Path, engine: str, batch_size: int, resume: bool) -> list[str]:
    args = [sys.executable, "-m", "csvnlp.cli", "tag", str(source), "--out", str(out), "-t", "title", "-t", "objective",
            "--id-column", "id", "--batch-size", str(batch_size), "--model", str(MODEL), "--quiet", "--engine", engine]
    if engine == "dask":
        args += ["--jobs", "2"]
    return args + (["--resume"] if resume else [])


def run_to_end(args: list[str]) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, start_new_session=True)
    if done.returncode != 0:
        raise AssertionError(f"exit {done.returncode}: {done.stderr[-2000:]}")
    return done


@dataclass
class KillResult:
    point: str
    injected: bool
    output_complete_or_absent: bool


def run_and_kill(args: list[str], out: Path, point: str, rng: random.Random, timeout: float = 600) -> KillResult:
    parts = Path(f"{out}.parts")
    tmp_out = out.with_name(f".{out.name}.tmp")
    before = len(list(parts.glob("part-*.parquet"))) if parts.exists() else 0
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    started = time.monotonic()
    kind, _, value = point.partition(":")
    try:
        while True:
            if process.poll() is not None:
                return KillResult(point, injected=False, output_complete_or_absent=True)
            elapsed = time.monotonic() - started
            if elapsed > timeout:
                raise AssertionError(f"no kill point {point} within {timeout} s")
            if kind == "time" and elapsed >= float(value):
                break
            if kind == "parts" and parts.exists() and len(list(parts.glob("part-*.parquet"))) >= before + int(value):
                time.sleep(rng.uniform(0, 0.1))
                break
            if kind == "assembly" and tmp_out.exists():
                break
            if kind == "output" and out.exists():
                break
            time.sleep(0.003)
        injected = process.poll() is None
        os.killpg(process.pid, signal.SIGKILL)  # the group: the tag process and any Dask workers
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    return KillResult(point, injected, output_complete_or_absent=True)


@dataclass
class EngineReport:
    engine: str
    records: int
    chunks: int
    kills_injected: int = 0
    kills_survived: int = 0  # after the kill(s), resume gave OUTPUT byte-identical to the reference
    kills_not_reached: int = 0  # the run finished before the point: not counted as injected
    outputs_checked_after_kills: int = 0
    incomplete_outputs_seen: int = 0  # OUTPUT present but not the complete file: must stay 0
    parts_damaged: int = 0  # parts deleted or corrupted before a resume
    parts_redone: int = 0  # ... that the resume detected and tagged again
    trials: int = 0
    points: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def random_point(rng: random.Random, chunks: int, startup_s: float) -> str:
    kind = rng.choices(["time", "parts", "assembly", "output"], weights=[2, 5, 2, 1])[0]
    if kind == "time":
        return f"time:{rng.uniform(0.2, startup_s):.2f}"
    if kind == "parts":
        return f"parts:{rng.randint(1, max(1, chunks // 2))}"
    return kind


def damage_parts(out: Path, rng: random.Random) -> int:
    """Delete one part and flip a byte in another (when there are parts)."""
    parts = sorted(Path(f"{out}.parts").glob("part-*.parquet"))
    damaged = 0
    if parts:
        rng.choice(parts).unlink()
        damaged += 1
        parts = [p for p in parts if p.exists()]
    if parts:
        victim = rng.choice(parts)
        data = bytearray(victim.read_bytes())
        data[rng.randrange(len(data))] ^= 0xFF
        victim.write_bytes(bytes(data))
        damaged += 1
    return damaged


def inject(work: Path, engine: str, kills: int, repeat: int = 20, batch_size: int = 40, kills_per_trial: int = 2,
           seed: int = 12, fixed_points: list[str] | None = None, damage_every: int = 3,
           reference_engine: str | None = None) -> EngineReport:
    """Kill ``tag`` ``kills`` times (in trials of ``kills_per_trial`` kills, each followed by a
    resume), and check each trial's final output against an uninterrupted run."""
    rng = random.Random(seed)
    work.mkdir(parents=True, exist_ok=True)
    source = work / "input.csv"
    records = make_input(source, repeat)
    chunks = -(-records // batch_size)
    report = EngineReport(engine, records, chunks)
    clock = time.monotonic()
    reference = work / "reference.csv"
    for stale in (reference, Path(f"{reference}.errors.jsonl")):
        stale.unlink(missing_ok=True)
    started = time.monotonic()
    # the uninterrupted run; the quick Dask test may make it with the local engine, whose output
    # is byte-identical (tests/test_tagging.py::test_tagging_dask_engine_equals_local)
    summary = json.loads(run_to_end(command(source, reference, reference_engine or engine, batch_size, False) + ["--json"]).stdout)
    startup_s = max(1.0, (time.monotonic() - started) * 0.5)
    assert summary["records"] == summary["rows"] == records, summary
    expected = (reference.read_bytes(), Path(f"{reference}.errors.jsonl").read_bytes())
    points = list(fixed_points or [])
    while report.kills_injected < kills:
        report.trials += 1
        out = work / f"trial-{report.trials}.csv"
        resume = False
        injected_here = 0
        attempts = 0
        while injected_here < kills_per_trial and report.kills_injected < kills and attempts < 3 * kills_per_trial:
            attempts += 1
            point = points.pop(0) if points else random_point(rng, chunks, startup_s)
            result = run_and_kill(command(source, out, engine, batch_size, resume), out, point, rng)
            if out.exists():
                report.outputs_checked_after_kills += 1
                if (out.read_bytes(), Path(f"{out}.errors.jsonl").read_bytes() if Path(f"{out}.errors.jsonl").exists() else b"") != expected:
                    report.incomplete_outputs_seen += 1
            if not result.injected:
                report.kills_not_reached += 1
                if out.exists():
                    break  # this trial's run completed: start the next trial
                continue
            injected_here += 1
            report.kills_injected += 1
            report.points[point.split(":")[0]] = report.points.get(point.split(":")[0], 0) + 1
            resume = Path(f"{out}.parts").exists() or out.exists()
        damaged = 0
        if report.trials % damage_every == 0 and Path(f"{out}.parts").exists() and not out.exists():
            damaged = damage_parts(out, rng)
            report.parts_damaged += damaged
        if out.exists() and not Path(f"{out}.parts").exists():
            complete = True  # killed after the run had finished its work: nothing to resume
        else:
            final = run_to_end(command(source, out, engine, batch_size, resume) + ["--json"])
            summary = json.loads(final.stdout)
            report.parts_redone += min(summary.get("redone_chunks", 0), damaged)
            complete = summary["records"] == summary["rows"] == records and not Path(f"{out}.parts").exists()
        same = (out.read_bytes(), Path(f"{out}.errors.jsonl").read_bytes()) == expected
        if same and complete:
            report.kills_survived += injected_here
        for leftover in (out, Path(f"{out}.errors.jsonl")):
            leftover.unlink(missing_ok=True)
    report.seconds = round(time.monotonic() - clock, 1)
    return report
