"""`csvnlp tag`: formats, bad rows, fail-fast, parallel, resume after a real kill, Dask."""

from __future__ import annotations

import csv
import gzip
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from csvnlp.tagging import OUTPUT_COLUMNS, TagOptions, tag_table

from conftest import ROOT, SHIPPED_MODEL


def write_cordis_like_csv(path: Path, records, repeat: int = 1, bad_rows: bool = True) -> int:
    """A ';'-separated export with a BOM and multi-line quoted objectives, like CORDIS."""
    rows = []
    for r in range(repeat):
        for record in records:
            rows.append({"id": f"{record['id']}-{r}", "acronym": record["title"][:12], "title": record["title"], "objective": record["text"]})
    if bad_rows:
        rows.insert(3, {"id": "empty", "acronym": "E", "title": "", "objective": "   "})
        rows.insert(5, {"id": "binary", "acronym": "B", "title": "", "objective": "\x00\x01\x02\x03\x04\x05\x06"})
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "acronym", "title", "objective"], delimiter=";", quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def run_tag(tmp_path, input_path, out_name, **kwargs):
    options = TagOptions(text_columns=["title", "objective"], id_column="id", keep_columns=["acronym"], batch_size=7, **kwargs)
    out = tmp_path / out_name
    return tag_table(input_path, out, options, SHIPPED_MODEL), out


def read_any(path: Path) -> pd.DataFrame:
    name = path.name
    if name.endswith(".parquet"):
        return pd.read_parquet(path)
    if name.endswith((".jsonl", ".jsonl.gz")):
        return pd.read_json(path, lines=True, dtype=False)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def cordis_csv(tmp_path_factory, records):
    path = tmp_path_factory.mktemp("in") / "projects.csv"
    write_cordis_like_csv(path, records)
    return path


def test_tagging_one_row_per_input_row_in_order(tmp_path, cordis_csv, records):
    summary, out = run_tag(tmp_path, cordis_csv, "tagged.csv")
    frame = read_any(out)
    assert list(frame.columns) == OUTPUT_COLUMNS + ["acronym"]
    expected_ids = [f"{r['id']}-0" for r in records]
    expected_ids.insert(3, "empty")
    expected_ids.insert(5, "binary")
    assert frame["id"].tolist() == expected_ids
    assert summary.rows == 29 and summary.errors == 2
    assert summary.tagged + summary.uncertain == 27
    by_id = frame.set_index("id")
    assert "INNOSUP" in by_id.loc["katana-0", "programmes"]
    assert "cluster_development" in by_id.loc["katana-0", "predicted"]


def test_tagging_bad_rows_become_error_rows_and_land_in_the_errors_file(tmp_path, cordis_csv):
    _, out = run_tag(tmp_path, cordis_csv, "tagged.jsonl")
    frame = read_any(out).set_index("id")
    assert frame.loc["empty", "status"] == "error" and frame.loc["empty", "error"] == "empty text"
    assert frame.loc["binary", "status"] == "error" and "binary" in frame.loc["binary", "error"]
    errors = [json.loads(line) for line in Path(str(out) + ".errors.jsonl").read_text().splitlines()]
    assert [(e["row"], e["id"]) for e in errors] == [(4, "empty"), (6, "binary")]


def test_tagging_malformed_csv_rows_and_bad_encoding_are_reported_not_dropped(tmp_path):
    path = tmp_path / "messy.csv"
    good = "Clusters coach SMEs with innovation vouchers to build a new cross-border value chain in the region."
    path.write_bytes(
        b"id,text\n"
        + f"1,{good}\n".encode()
        + b"2,too,many,fields,here\n"
        + b"3,caf\xe9 au lait for local SMEs and clusters in a new value chain\n"
        + f'4,"{good}"\n'.encode()
    )
    summary = tag_table(path, tmp_path / "out.csv", TagOptions(text_columns=["text"], id_column="id"), SHIPPED_MODEL)
    frame = read_any(tmp_path / "out.csv")
    assert frame["id"].tolist() == ["1", "2", "3", "4"]
    assert frame["status"].tolist()[1:3] == ["error", "error"]
    assert "malformed CSV row" in frame["error"][1] and "not valid UTF-8" in frame["error"][2]
    assert summary.errors == 2 and summary.rows == 4


@pytest.mark.parametrize("out_name", ["t.csv", "t.csv.gz", "t.jsonl", "t.parquet"])
def test_tagging_formats_round_trip(tmp_path, cordis_csv, out_name):
    _, reference = run_tag(tmp_path, cordis_csv, "reference.csv")
    _, out = run_tag(tmp_path, cordis_csv, out_name)
    if out_name.endswith(".gz"):
        with gzip.open(out, "rt", encoding="utf-8") as handle:
            frame = pd.read_csv(handle, dtype=str, keep_default_na=False)
    else:
        frame = read_any(out)
    expected = read_any(reference)
    assert frame["id"].astype(str).tolist() == expected["id"].tolist()
    assert frame["status"].tolist() == expected["status"].tolist()
    assert frame["predicted"].fillna("").tolist() == expected["predicted"].tolist()
    assert [float(x) if x != "" else None for x in expected["p_value_chain"]] == pytest.approx(
        [None if pd.isna(x) or x == "" else float(x) for x in frame["p_value_chain"]], abs=1e-9
    )


def test_tagging_reads_jsonl_parquet_and_gzip_inputs(tmp_path, records):
    frame = pd.DataFrame({"id": [r["id"] for r in records], "title": [r["title"] for r in records], "objective": [r["text"] for r in records], "acronym": "x"})
    frame.to_parquet(tmp_path / "in.parquet")
    with gzip.open(tmp_path / "in.jsonl.gz", "wt", encoding="utf-8") as handle:
        for row in frame.to_dict("records"):
            handle.write(json.dumps(row) + "\n")
        handle.write("{not json\n")
    _, a = run_tag(tmp_path, tmp_path / "in.parquet", "a.csv")
    summary, b = run_tag(tmp_path, tmp_path / "in.jsonl.gz", "b.csv")
    first, second = read_any(a), read_any(b)
    assert first.equals(second.iloc[:27])
    assert second["status"].iloc[27] == "error" and "invalid JSON" in second["error"].iloc[27]


def test_tagging_missing_column_fails_fast_without_output(tmp_path, cordis_csv, cli):
    out = tmp_path / "never.csv"
    result = cli("tag", str(cordis_csv), "--out", str(out), "-t", "abstract", "--model", str(SHIPPED_MODEL))
    assert result.exit_code == 3
    assert "no column(s) abstract" in result.stderr and "objective" in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_tagging_unreadable_input_fails_fast(tmp_path, cli):
    binary = tmp_path / "data.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    result = cli("tag", str(binary), "--out", str(tmp_path / "o.csv"), "-t", "text", "--model", str(SHIPPED_MODEL))
    assert result.exit_code == 3 and "binary" in result.stderr
    result = cli("tag", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o.csv"), "-t", "text")
    assert result.exit_code == 3 and "no such input file" in result.stderr


def test_tagging_refuses_to_overwrite_without_force(tmp_path, cordis_csv, cli):
    out = tmp_path / "o.csv"
    out.write_text("keep me")
    result = cli("tag", str(cordis_csv), "--out", str(out), "-t", "objective", "--model", str(SHIPPED_MODEL))
    assert result.exit_code == 6 and out.read_text() == "keep me"


def test_tagging_parallel_jobs_equal_one_job(tmp_path, cordis_csv):
    _, one = run_tag(tmp_path, cordis_csv, "one.csv")
    _, two = run_tag(tmp_path, cordis_csv, "two.csv", jobs=2)
    assert one.read_bytes() == two.read_bytes()


def test_tagging_cli_json_summary(tmp_path, cordis_csv, cli):
    out = tmp_path / "o.csv"
    result = cli("tag", str(cordis_csv), "--out", str(out), "-t", "title", "-t", "objective", "--model", str(SHIPPED_MODEL), "--json", "--no-entities")
    summary = json.loads(result.stdout)
    assert result.exit_code == 0 and summary["rows"] == 29 and summary["errors"] == 2
    assert set(summary["level_counts"]) == {"products_markets", "value_chain", "cluster_development"}
    assert read_any(out)["clusters"].eq("").all()


@pytest.mark.slow
def test_tagging_killed_and_resumed_equals_uninterrupted(tmp_path, records):
    source = tmp_path / "big.csv"
    write_cordis_like_csv(source, records, repeat=40)  # 1,082 rows
    command = [sys.executable, "-m", "csvnlp.cli", "tag", str(source), "-t", "title", "-t", "objective",
               "--id-column", "id", "--batch-size", "20", "--model", str(SHIPPED_MODEL), "--quiet"]
    reference = tmp_path / "reference.csv"
    subprocess.run(command + ["--out", str(reference)], check=True, cwd=ROOT, capture_output=True)

    out = tmp_path / "resumed.csv"
    parts = Path(str(out) + ".parts")
    process = subprocess.Popen(command + ["--out", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(parts.glob("part-*.parquet"))) < 8:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished_before_kill = len(list(parts.glob("part-*.parquet")))
    assert 8 <= finished_before_kill < 55, "the run must be killed midway"
    assert not out.exists()  # nothing that looks complete

    done = subprocess.run(command + ["--out", str(out), "--resume"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "resumed" in done.stdout
    assert out.read_bytes() == reference.read_bytes()
    assert Path(str(out) + ".errors.jsonl").read_bytes() == Path(str(reference) + ".errors.jsonl").read_bytes()
    assert not parts.exists()


def test_tagging_resume_refuses_other_options(tmp_path, cordis_csv):
    out = tmp_path / "o.csv"
    parts = Path(str(out) + ".parts")
    parts.mkdir()
    (parts / "manifest.json").write_text("{}")
    from csvnlp.errors import InputError

    with pytest.raises(InputError, match="cannot resume"):
        run_tag(tmp_path, cordis_csv, "o.csv", resume=True)


@pytest.mark.slow
def test_tagging_dask_engine_equals_local(tmp_path, cordis_csv):
    pytest.importorskip("distributed")
    _, local = run_tag(tmp_path, cordis_csv, "local.csv")
    summary, dask_out = run_tag(tmp_path, cordis_csv, "dask.csv", engine="dask", jobs=2)
    assert dask_out.read_bytes() == local.read_bytes()
    assert summary.rows == 29


# ---------------------------------------------------------------------------- parts, ledger, manifest (issue 12)


def _interrupted_run(tmp_path, source, out_name, monkeypatch):
    """A run stopped just before assembly, as a kill there would leave it."""
    import csvnlp.tagging as tagging

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tagging, "write_output", stop)
    with pytest.raises(KeyboardInterrupt):
        run_tag(tmp_path, source, out_name)
    monkeypatch.undo()
    return tmp_path / out_name, Path(str(tmp_path / out_name) + ".parts")


def test_tagging_regression_issue12_deleted_or_corrupted_part_is_detected_and_redone(tmp_path, cordis_csv, monkeypatch):
    _, reference = run_tag(tmp_path, cordis_csv, "reference.csv")
    out, parts = _interrupted_run(tmp_path, cordis_csv, "o.csv", monkeypatch)
    assert len(list(parts.glob("part-*.parquet"))) == 5  # 29 rows in chunks of 7
    (parts / "part-0000001.parquet").unlink()
    corrupt = parts / "part-0000003.parquet"
    data = bytearray(corrupt.read_bytes())
    data[len(data) // 2] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    summary, _ = run_tag(tmp_path, cordis_csv, "o.csv", resume=True)
    assert (summary.resumed_chunks, summary.redone_chunks) == (3, 2)
    assert out.read_bytes() == reference.read_bytes()
    assert summary.records == summary.rows == 29


def test_tagging_regression_issue12_assembly_refuses_a_missing_part(tmp_path, cordis_csv, monkeypatch):
    from csvnlp.errors import IncompleteRunError
    from csvnlp.tagging import ChunkSpan, PartStore, TagSummary, write_output

    out, parts = _interrupted_run(tmp_path, cordis_csv, "o.csv", monkeypatch)
    manifest = json.loads((parts / "manifest.json").read_text())
    store = PartStore(out, manifest, resume=True)
    spans = [ChunkSpan(i, 1 + 7 * i, min(7, 29 - 7 * i), store.ledger[i]["input_sha256"]) for i in range(5)]
    summary = TagSummary("in", str(out), "err")
    summary.records = 32
    # a chunk read from the input that has no part (the old code joined whatever parts existed)
    with pytest.raises(IncompleteRunError, match="chunk 5 .*rows 30-32.* is missing"):
        write_output(store, spans + [ChunkSpan(5, 30, 3)], out, Path(str(out) + ".errors.jsonl"), summary, ["acronym"])
    (parts / "part-0000004.parquet").unlink()
    summary.records = 29
    with pytest.raises(IncompleteRunError, match="chunk 4 .*rows 29-29.* is missing.*--resume"):
        write_output(store, spans, out, Path(str(out) + ".errors.jsonl"), summary, ["acronym"])
    store.close()
    assert not out.exists() and not list(tmp_path.glob(".o.csv*.tmp"))


def test_tagging_regression_issue12_a_result_for_other_rows_is_never_written_as_the_chunk(tmp_path):
    from csvnlp.tagging import LINE_COLUMN, ROW_COLUMN, ChunkSpan, PartStore

    store = PartStore(tmp_path / "o.csv", {"m": 1}, resume=False)
    with pytest.raises(RuntimeError, match="expected 8\\+7"):
        store.write(ChunkSpan(1, 8, 7), {ROW_COLUMN: list(range(15, 22)), LINE_COLUMN: list(range(15, 22))})
    store.close()
    assert not store.path(1).exists() and store.ledger == {}


def test_tagging_regression_issue12_resume_manifest_covers_every_model_file_and_the_version(tmp_path, monkeypatch):
    import shutil

    import csvnlp
    from csvnlp.tagging import _manifest, model_fingerprint

    model = tmp_path / "model"
    shutil.copytree(SHIPPED_MODEL, model)
    files = sorted(p.relative_to(model).as_posix() for p in model.rglob("*") if p.is_file())
    assert sorted(model_fingerprint(model)) == files and len(files) > 2  # not just the classifier
    (tmp_path / "in.csv").write_text("id,text\n1,x\n")
    options = TagOptions(text_columns=["text"])
    before = _manifest(tmp_path / "in.csv", options, model, ",")
    patterns = next(p for p in model.rglob("*patterns*"))
    patterns.write_text(patterns.read_text() + " ")
    assert _manifest(tmp_path / "in.csv", options, model, ",") != before  # entity patterns count
    (model / "weights.npz").write_bytes(b"new file name, as issue 11 brings")
    assert "weights.npz" in _manifest(tmp_path / "in.csv", options, model, ",")["model"]
    monkeypatch.setattr(csvnlp, "__version__", "9.9.9")
    assert _manifest(tmp_path / "in.csv", options, model, ",")["csvnlp"] == "9.9.9"


def test_tagging_resume_after_output_was_renamed_but_parts_not_removed(tmp_path, cordis_csv, monkeypatch):
    import csvnlp.tagging as tagging

    _, reference = run_tag(tmp_path, cordis_csv, "reference.csv")
    monkeypatch.setattr(tagging.PartStore, "remove", lambda self: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        run_tag(tmp_path, cordis_csv, "o.csv")
    monkeypatch.undo()
    assert (tmp_path / "o.csv").exists() and (tmp_path / "o.csv.parts").exists()
    summary, out = run_tag(tmp_path, cordis_csv, "o.csv", resume=True)  # no OutputExistsError
    assert out.read_bytes() == reference.read_bytes() and summary.resumed_chunks == 5
    assert not (tmp_path / "o.csv.parts").exists()


def test_tagging_freezes_the_loaded_model_once_per_process_so_collections_skip_it():
    # issue 20: gc.freeze after the model loads (tag_workers._freeze_loaded_objects). Run in a
    # fresh process: the test process has frozen (or not) whatever its other tests loaded.
    script = f"""
import gc, json
from csvnlp.tag_workers import cached_bundle
before = gc.get_freeze_count()
bundle = cached_bundle({str(SHIPPED_MODEL)!r})
after = gc.get_freeze_count()
tracked = {{id(o) for o in gc.get_objects()}}
later = [["made after the load"]]
cached_bundle({str(SHIPPED_MODEL)!r}, None)
print(json.dumps({{"before": before, "after": after, "again": gc.get_freeze_count(),
                  "model_tracked": id(bundle.meta) in tracked or id(bundle.entity_pipeline.pipe_names) in tracked,
                  "later_tracked": gc.is_tracked(later) and id(later) in {{id(o) for o in gc.get_objects()}}}}))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["before"] == 0 and result["after"] > 10_000  # the model's objects, tens of thousands
    assert result["again"] == result["after"]  # a second call (a cache hit) freezes nothing more
    assert not result["model_tracked"]  # frozen: no collection walks the model again
    assert result["later_tracked"]  # objects made after the load are collected as usual
