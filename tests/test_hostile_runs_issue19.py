"""Issue 19, runs: what ends or disturbs a `csvnlp tag` run from outside (output paths that
cannot be written, a second run to the same output, a killed worker, a killed parent, a wrong
Dask scheduler, an input changed behind --resume's back). Each test names the item it covers."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SHIPPED_MODEL

G = "Clusters coach SMEs with innovation vouchers to build a new cross-border value chain in agri-food and ICT."
CSVNLP = str(Path(sys.executable).with_name("csvnlp"))


def write_table(path: Path, rows: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        for i in range(rows):
            writer.writerow([f"r{i}", f"{G} Record {i} of the export, about regional food clusters."])
    return path


def tag(cli, source: Path, out: Path, *extra: str):
    return cli("tag", str(source), "--out", str(out), "-t", "text", "--model", str(SHIPPED_MODEL), "--no-entities",
               "--quiet", *extra)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_tagging_issue19_item4_read_only_output_folder_is_exit_3(cli, tmp_path):
    source = write_table(tmp_path / "in.csv", 3)
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = tag(cli, source, folder / "o.csv")
    finally:
        folder.chmod(0o755)
    assert result.exit_code == 3 and "not writable" in result.output


def test_tagging_issue19_item4_output_under_a_file_and_too_long_a_name_are_exit_3(cli, tmp_path):
    source = write_table(tmp_path / "in.csv", 3)
    result = tag(cli, source, source / "o.csv")
    assert result.exit_code == 3 and "is a file, not a folder" in result.output
    result = tag(cli, source, tmp_path / ("x" * 241 + ".csv"))
    assert result.exit_code == 3 and "shorter --out" in result.output
    assert not list(tmp_path.glob("xxx*"))


def test_tagging_issue19_item4_a_full_disk_keeps_the_parts_and_resume_finishes(tmp_path):
    source = write_table(tmp_path / "in.csv", 300)
    out = tmp_path / "o.csv"
    command = [CSVNLP, "tag", str(source), "--out", str(out), "-t", "text", "--model", str(SHIPPED_MODEL), "--no-entities",
               "--quiet", "--batch-size", "50"]
    # a file-size limit of 146 blocks (~73 kB): the parts fit, the assembled output does not
    limited = subprocess.run(["bash", "-c", 'ulimit -f 146 && exec "$@"', "bash", *command], capture_output=True, text=True, timeout=300)
    assert limited.returncode == 7, limited.stderr
    assert "Traceback" not in limited.stderr and "--resume" in limited.stderr
    assert not out.exists()
    done = subprocess.run(command + ["--resume"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert len(out.read_text().splitlines()) == 301


def test_tagging_issue19_item9_a_second_run_to_the_same_output_is_refused_while_the_first_runs(tmp_path):
    source = write_table(tmp_path / "in.csv", 2000)
    out = tmp_path / "o.csv"
    command = [CSVNLP, "tag", str(source), "--out", str(out), "-t", "text", "--model", str(SHIPPED_MODEL), "--no-entities",
               "--quiet", "--batch-size", "100"]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        parts = Path(f"{out}.parts")
        deadline = time.time() + 120
        while time.time() < deadline and not list(parts.glob("part-*.parquet")):
            time.sleep(0.05)
        # paused while the second run starts: tagging 2,000 rows can end before a second process is up
        first.send_signal(signal.SIGSTOP)
        try:
            second = subprocess.run(command + ["--force"], capture_output=True, text=True, timeout=120)
        finally:
            first.send_signal(signal.SIGCONT)
        assert second.returncode == 6, second.stderr
        assert "another csvnlp run" in second.stderr
        assert first.wait(timeout=300) == 0, first.stderr.read()
    finally:
        if first.poll() is None:
            first.kill()
    assert len(out.read_text().splitlines()) == 2001
    assert not Path(f"{tmp_path}/.o.csv.lock").exists()


def test_tagging_issue19_item9_lock_is_free_again_after_a_kill(tmp_path):
    from csvnlp.tag_parts import OutputLock

    out = tmp_path / "o.csv"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pathlib import Path; from csvnlp.tag_parts import OutputLock; "
                               f"OutputLock(Path({str(out)!r})).acquire(); print('locked', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    from csvnlp.errors import OutputBusyError

    with pytest.raises(OutputBusyError, match=f"pid {holder.pid}"):
        OutputLock(out).acquire()
    holder.kill()
    holder.wait()
    lock = OutputLock(out)
    lock.acquire()
    lock.release()


def _start_and_wait_for_workers(command: list[str], parts: Path) -> tuple[subprocess.Popen, list[int]]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not list(parts.glob("part-*.parquet")):
        time.sleep(0.05)
    workers = children(process.pid)
    assert len(workers) >= 2, "the pool's workers should be running"
    return process, workers


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_tagging_issue19_item15_no_worker_outlives_its_parent(tmp_path, how):
    source = write_table(tmp_path / "in.csv", 6000)
    out = tmp_path / "o.csv"
    command = [CSVNLP, "tag", str(source), "--out", str(out), "-t", "text", "--model", str(SHIPPED_MODEL), "--no-entities",
               "--quiet", "--batch-size", "100", "--jobs", "2"]
    process, workers = _start_and_wait_for_workers(command, Path(f"{out}.parts"))
    process.send_signal(how)
    process.wait(timeout=60)
    deadline = time.time() + 10
    while time.time() < deadline and any(alive(pid) for pid in workers):
        time.sleep(0.1)
    survivors = [pid for pid in workers if alive(pid)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert not survivors, f"workers {survivors} outlived their parent ({how.name})"


def test_tagging_issue19_item8_a_killed_worker_is_exit_7_and_resume_finishes(tmp_path):
    source = write_table(tmp_path / "in.csv", 6000)
    out = tmp_path / "o.csv"
    command = [CSVNLP, "tag", str(source), "--out", str(out), "-t", "text", "--model", str(SHIPPED_MODEL), "--no-entities",
               "--quiet", "--batch-size", "100", "--jobs", "2"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    parts = Path(f"{out}.parts")
    deadline = time.time() + 120
    while time.time() < deadline and not list(parts.glob("part-*.parquet")):
        time.sleep(0.05)
    workers = children(process.pid)
    os.kill(workers[0], signal.SIGKILL)  # what the out-of-memory killer does
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 7, stderr
    assert "Traceback" not in stderr and "worker process died" in stderr
    done = subprocess.run(command + ["--resume"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert len(out.read_text().splitlines()) == 6001


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:9", "not-an-address"])
def test_tagging_issue19_item10_a_wrong_dask_scheduler_is_a_usage_error(cli, tmp_path, address):
    pytest.importorskip("distributed")
    source = write_table(tmp_path / "in.csv", 3)
    result = tag(cli, source, tmp_path / "o.csv", "--engine", "dask", "--scheduler", address)
    assert result.exit_code == 2, result.output
    assert "cannot reach a Dask scheduler" in result.output


def test_tagging_issue19_also_resume_notices_an_input_changed_with_the_same_size_and_mtime(tmp_path):
    from csvnlp.tagging import TagOptions, tag_table

    source = write_table(tmp_path / "in.csv", 40)
    out = tmp_path / "o.jsonl"
    parts = Path(f"{out}.parts")
    _run_and_keep_parts(source, out, TagOptions(text_columns=["text"], id_column="id", batch_size=10, entities=False))
    assert parts.exists() and not out.exists()
    # the input is then edited in place: same size, same modification time
    stat = source.stat()
    data = source.read_bytes()
    changed = data.replace(b"r25,", b"X25,", 1)
    assert len(changed) == len(data) and changed != data
    source.write_bytes(changed)
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    resumed = TagOptions(text_columns=["text"], id_column="id", batch_size=10, entities=False, resume=True)
    summary = tag_table(source, out, resumed, SHIPPED_MODEL)
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert "X25" in ids and "r25" not in ids
    assert summary.redone_chunks >= 1


def _run_and_keep_parts(source: Path, out: Path, options) -> None:
    """A run killed between its last part and the assembly: every part made, no OUTPUT."""
    import csvnlp.tagging as tagging

    original = tagging.write_output

    def killed(*args, **kwargs):
        raise KeyboardInterrupt()

    tagging.write_output = killed
    try:
        with pytest.raises(KeyboardInterrupt):
            tagging.tag_table(source, out, options, SHIPPED_MODEL)
    finally:
        tagging.write_output = original


def test_tagging_issue19_item4_an_output_folder_that_refuses_writes_is_exit_3_even_for_root(cli, tmp_path):
    source = write_table(tmp_path / "in.csv", 3)
    result = tag(cli, source, Path("/proc/csvnlp-o.csv"))  # /proc takes no new files, whoever asks
    assert result.exit_code == 3 and "cannot write" in result.output
