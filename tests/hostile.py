"""Hostile inputs for csvnlp's commands, shared by the fuzz tests (tests/test_fuzz.py, a quick
run) and the long run (benchmarks/fuzz.py): Hypothesis strategies, and one function per
command that runs it in-process on an input and checks what must hold whatever the input:

- no traceback (an exception other than the CLI's own exit);
- the exit code is a documented one (``ExitStatus``);
- ``tag``: every record is accounted for (output rows = tagged + uncertain + errors = the
  records the reader found; one errors-file line per error row), and where the test built the
  input from known records, the output has exactly those records' ids, in order; a failed run
  leaves no output file.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

from csvnlp.errors import ExitStatus

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "csvnlp-base"
DOCUMENTED = {int(status) for status in ExitStatus} - {int(ExitStatus.ERROR)}  # 1 = a bug

GOOD = "Clusters coach SMEs with innovation vouchers to build a new cross-border value chain."
# issue 19: texts the language gate must stop (status=unsupported_language), so the fuzz runs
# exercise it, and scripts it once took for European languages
FOREIGN = ["Die Cluster unterstützen kleine und mittlere Unternehmen beim Aufbau neuer Wertschöpfungsketten in der Region.",
           "Les pôles de compétitivité accompagnent les PME pour construire de nouvelles chaînes de valeur régionales.",
           "تعمل المجموعات الصناعية على تدريب الشركات الصغيرة والمتوسطة لبناء سلاسل قيمة جديدة",
           "产业集群通过创新券指导中小企业建立新的跨境价值链"]
# the characters that break naive CSV/JSON readers, plus encodings' favourite accidents; a lone
# surrogate (an emoji cut in half by an exporter) and zero-width characters (issue 19)
NASTY = ['"', '""', ",", ";", "\t", "\r", "\n", "\r\n", "\ufeff", "\x00", "é", "ü", "\ufffd", "\\", "{", "}", "[", "]",
         "|", " ", "\u2028", "\x1b", "'", "\x85", "\ud83d", "\udcff", "\u200b", "\u202e"]
HUGE_INTEGER = "9" * 5000  # over Python's 4,300-digit limit for int(str)
LONG = [1, 100, 5_000, 50_000, 200_001]  # 50,000 commas once took spaCy minutes; 200,001: over the text limit


@st.composite
def hostile_text(draw: st.DrawFn) -> str:
    pieces = draw(st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=20), st.just(GOOD), st.sampled_from(FOREIGN)), max_size=25))
    if draw(st.integers(0, 9)) == 0:
        pieces.append(draw(st.sampled_from(["x", '"', ","])) * draw(st.sampled_from(LONG)))
    return "".join(pieces)


@st.composite
def hostile_bytes(draw: st.DrawFn) -> bytes:
    """Random bytes, mixed encodings, BOMs mid-file, NULs, quote storms, long lines."""
    kind = draw(st.integers(0, 6))
    if kind == 0:
        return draw(st.binary(max_size=2000))
    if kind == 1:  # text in a mix of encodings
        parts = draw(st.lists(st.tuples(hostile_text(), st.sampled_from(["utf-8", "latin-1", "utf-16", "cp1252"])), max_size=6))
        return b"".join(text.encode(enc, errors="replace") for text, enc in parts)
    if kind == 2:  # quote storm
        return draw(st.text(alphabet='"\n,;x\r', max_size=3000)).encode()
    if kind == 3:  # one very long line
        return draw(st.sampled_from([b"x", b'"', b",", b"\x00"])) * draw(st.sampled_from(LONG))
    if kind == 4:  # deeply nested JSON
        depth = draw(st.sampled_from([10, 1000, 100_000]))
        return b'{"id": "1", "text": ' + b"[" * depth + b"]" * draw(st.sampled_from([0, depth])) + b"}\n"
    if kind == 5:  # issue 19: a JSON integer past Python's digit limit, or an escaped lone surrogate
        field = draw(st.sampled_from([HUGE_INTEGER, '"G \\ud83d"', '"\\udc00"', "-" + HUGE_INTEGER]))
        return ('{"id": "1", "text": "' + GOOD + '", "n": ' + field + "}\n" + '{"id": "2", "text": ' + field + "}\n").encode()
    return draw(hostile_text()).encode("utf-8", errors="surrogatepass")


@st.composite
def hostile_csv(draw: st.DrawFn) -> bytes:
    """An ``id,text`` header (or another delimiter's) followed by hostile content."""
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    header = f"id{sep}text\n".encode()
    if draw(st.booleans()):
        header = b"\xef\xbb\xbf" + header
    # hostile pieces between good records: what follows a malformed region must still be read
    pieces = draw(st.lists(st.one_of(hostile_bytes(), st.just(b"")), min_size=1, max_size=4))
    body = b"".join(piece + f"\ngood-{i}{sep}{GOOD}\n".encode() for i, piece in enumerate(pieces))
    if draw(st.integers(0, 19)) == 0:  # a row of 100,000 fields
        body += b"1" + sep.encode() * 100_000 + b"\n"
    return header + body


@st.composite
def known_records(draw: st.DrawFn) -> list[tuple[str, str]]:
    """(id, text) records whose texts are hostile but quoted properly: the reader must give
    back exactly these records, in order (any text it cannot tag as an error row)."""
    texts = draw(st.lists(hostile_text(), min_size=0, max_size=12))
    return [(f"r{i}", text) for i, text in enumerate(texts)]


def csv_of(records: list[tuple[str, str]], sep: str = ",") -> bytes:
    buffer = io.StringIO(newline="")
    # "\r\n" (the csv module's default): QUOTE_MINIMAL then quotes any field holding a CR or
    # LF; with "\n" a bare CR would go out unquoted, which is not CSV (an error row)
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\r\n")
    writer.writerow(["id", "text"])
    for record_id, text in records:
        writer.writerow([record_id, text])
    return buffer.getvalue().encode("utf-8", errors="surrogatepass")


def jsonl_of(records: list[tuple[str, str]]) -> bytes:
    return "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in records).encode()


# ---------------------------------------------------------------------------- running the commands


@dataclass
class Outcome:
    exit_code: int
    records: int | None = None  # tag: records read (None when the run failed)
    unsupported: int = 0  # tag: rows with status=unsupported_language (the language gate at work)
    message: str = ""
    stdout: str = ""


def invoke(*args: str, input: bytes | None = None) -> Outcome:
    from typer.testing import CliRunner

    from csvnlp.cli import app

    result = CliRunner().invoke(app, list(args), input=input, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        trace = "".join(traceback.format_exception(type(result.exception), result.exception, result.exception.__traceback__))
        raise AssertionError(f"traceback from csvnlp {' '.join(args)}:\n{trace}")
    assert result.exit_code in DOCUMENTED, (result.exit_code, result.output)
    return Outcome(result.exit_code, message=result.stderr, stdout=result.stdout)


def run_tag(work: Path, data: bytes, name: str = "in.csv", expected_ids: list[str] | None = None) -> Outcome:
    source, out = work / name, work / "out.jsonl"
    for stale in (out, Path(f"{out}.errors.jsonl")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(Path(f"{out}.parts"), ignore_errors=True)
    source.write_bytes(data)
    outcome = invoke("tag", str(source), "--out", str(out), "-t", "text", "--id-column", "id", "--batch-size", "4",
                     "--model", str(MODEL), "--json", "--quiet")
    if outcome.exit_code != 0:
        assert not out.exists(), "a failed run left an output file"
        return outcome
    # split on "\n" only: str.splitlines would also cut at U+0085 or U+2028 inside a JSON string
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").split("\n") if line]
    errors = [json.loads(line) for line in Path(f"{out}.errors.jsonl").read_text(encoding="utf-8").split("\n") if line]
    error_rows = [i + 1 for i, row in enumerate(rows) if row["status"] == "error"]
    assert [e["row"] for e in errors] == error_rows, "errors file and error rows disagree"
    assert all(row["status"] in ("ok", "uncertain", "error", "unsupported_language") for row in rows)
    assert all(row["language"] and not row["predicted"] for row in rows if row["status"] == "unsupported_language")
    assert all(row["error"] for row in rows if row["status"] == "error"), "an error row without a reason"
    summary = json.loads(outcome.stdout)
    assert summary["records"] == summary["rows"] == len(rows), "records read and rows written differ"
    assert (summary["tagged"] + summary["uncertain"] + summary["errors"] + summary["unsupported_language"] == len(rows)
            and summary["errors"] == len(errors))
    assert summary["unsupported_language"] == sum(row["status"] == "unsupported_language" for row in rows)
    if expected_ids is not None:
        assert [row["id"] for row in rows] == expected_ids, "records lost, invented or reordered"
    outcome.records = len(rows)
    outcome.unsupported = summary["unsupported_language"]
    return outcome


def run_classify(work: Path, data: bytes) -> Outcome:
    path = work / "in.txt"
    path.write_bytes(data)
    outcome = invoke("classify", "--file", str(path), "--json", "--no-entities", "--model", str(MODEL))
    invoke("classify", "-", "--json", "--no-entities", "--model", str(MODEL), input=data)
    return outcome


def run_validate(work: Path, data: bytes, suffix: str) -> Outcome:
    path = work / f"corpus{suffix}"
    path.write_bytes(data)
    return invoke("corpus", "validate", str(path))


def run_import(work: Path, data: bytes, suffix: str, corpus_dir: Path) -> Outcome:
    path = work / f"annotations{suffix}"
    path.write_bytes(data)
    outcome = invoke("corpus", "import", str(path), "--corpus-dir", str(corpus_dir), "--name", "fuzz", "--force")
    shutil.rmtree(corpus_dir / "extra", ignore_errors=True)
    return outcome


@st.composite
def hostile_corpus(draw: st.DrawFn) -> tuple[bytes, str]:
    """A corpus file (JSONL or CSV id,text,levels) with hostile records, or hostile bytes."""
    suffix = draw(st.sampled_from([".jsonl", ".csv"]))
    if draw(st.booleans()):
        return draw(hostile_bytes()), suffix
    records = draw(st.lists(st.fixed_dictionaries({
        "id": st.one_of(st.text(max_size=5), st.integers(), st.none()),
        "text": st.one_of(hostile_text(), st.just(GOOD), st.none(), st.integers()),
        "levels": st.one_of(st.lists(st.sampled_from(["value_chain", "products_markets", "cluster_development", "nope", ""]), max_size=3),
                            st.text(max_size=5), st.none()),
        "entities": st.lists(st.one_of(st.fixed_dictionaries({"start": st.integers(-5, 300), "end": st.integers(-5, 300),
                                                              "label": st.sampled_from(["CLUSTER", "PROGRAMME", "X"])}),
                                       st.integers(), st.none()), max_size=3),
    }), max_size=6))
    if suffix == ".jsonl":
        return "".join(json.dumps(r) + "\n" for r in records).encode(), suffix
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["id", "text", "levels"])
    for r in records:
        levels = r["levels"] if isinstance(r["levels"], str) else ";".join(map(str, r["levels"] or []))
        writer.writerow([r["id"], r["text"], levels])
    return buffer.getvalue().encode("utf-8", errors="surrogatepass"), suffix
