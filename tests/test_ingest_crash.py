"""The real `qunzhong ingest` killed with SIGKILL mid-run, and two ingests at once: the previous
index stays loadable and searchable, the lock is freed, the next ingest cleans up and succeeds."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import CORPUS, cli_env, index_texts
from index.store import load_index

pytestmark = pytest.mark.slow

BIG = [CORPUS / "000_f86c8a067ffc5ca9.txt", CORPUS / "004_75a9b6b516d2ea34.txt"]  # 18 KB: ~10 s of work
NEW = sorted(p.name for p in BIG)
SMALL = {
    "a.txt": "接待来访群众的基本要求\n\n接待来访群众时要热情耐心，认真倾听群众诉求，做好登记，不能与群众争吵。\n",
    "b.txt": "信访事项的办理时限\n\n信访事项应当自受理之日起六十日内办结，情况复杂的，经批准可以适当延长办理期限。\n",
}


@pytest.fixture(scope="module")
def base(tmp_path_factory, e5) -> Path:
    """Two small documents indexed once; each test works on its own copy."""
    tmp = tmp_path_factory.mktemp("crash")
    index_texts(tmp, SMALL, e5)
    return tmp


@pytest.fixture
def work(base, tmp_path) -> tuple[Path, Path, str]:
    docs, idx = tmp_path / "docs", tmp_path / "idx"
    shutil.copytree(base / "docs", docs)
    shutil.copytree(base / "idx", idx)
    for path in BIG:
        shutil.copy(path, docs / path.name)
    return docs, idx, load_index(idx).version


def qunzhong(tmp_path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "assistant", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=cli_env(tmp_path), cwd=tmp_path)


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    proc = qunzhong(tmp_path, *args)
    out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def status(tmp_path: Path, idx: Path) -> dict:
    proc = run(tmp_path, "status", "--json", "--index", str(idx))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


def search_docs(tmp_path: Path, idx: Path) -> set[str]:
    proc = run(tmp_path, "search", "情绪激动的来访群众怎么接待", "--json", "--k", "3", "--index", str(idx))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    hits = json.loads(proc.stdout)
    assert hits
    return {h["doc"] for h in hits}


def wait_for(predicate, timeout: float, step: float = 0.002) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def temp_versions(idx: Path) -> list[Path]:
    return list((idx / "versions").glob(".tmp-*"))


def kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def test_kill_9_at_any_moment_keeps_the_previous_index(work, tmp_path):
    docs, idx, previous = work
    for moment in (0.5, 2.0, "temporary folder"):
        proc = qunzhong(tmp_path, "ingest", str(docs), "--index", str(idx), "-q")
        if moment == "temporary folder":  # killed while the new version is being written
            assert wait_for(lambda: temp_versions(idx), timeout=240), "ingest never started writing"
        else:
            time.sleep(moment)
            assert proc.poll() is None, "ingest finished before it could be killed"
        kill(proc)
        caught_mid_write = bool(temp_versions(idx))
        info = status(tmp_path, idx)
        if moment != "temporary folder" or caught_mid_write:
            assert (info["version"], info["documents"]) == (previous, 2), moment
        load_index(idx)
    assert caught_mid_write, "the kill did not land while the version was being written"
    assert search_docs(tmp_path, idx) <= set(SMALL)  # served from the previous version

    proc = run(tmp_path, "ingest", str(docs), "--index", str(idx), "--json", "-q")  # no --wait: lock is free
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["written"] and out["added"] == NEW and sorted(out["unchanged"]) == sorted(SMALL)
    assert temp_versions(idx) == [] and not list(idx.glob(".CURRENT.*"))
    assert status(tmp_path, idx)["documents"] == 4
    assert set(NEW) <= {p.doc for p in load_index(idx).passages}


def test_second_ingest_is_refused_or_waits(work, tmp_path):
    docs, idx, previous = work
    first = qunzhong(tmp_path, "ingest", str(docs), "--index", str(idx), "--json", "-q")
    holder = idx / ".lock"
    assert wait_for(lambda: holder.read_text().strip() == str(first.pid), timeout=120, step=0.01)

    second = run(tmp_path, "ingest", str(docs), "--index", str(idx), "-q")
    assert second.returncode == 1 and "Traceback" not in second.stderr
    assert second.stderr.strip().splitlines() == [
        f"error: another ingest (pid {first.pid}) is writing {idx}; wait for it to finish or pass --wait"]

    waiting = qunzhong(tmp_path, "ingest", str(docs), "--index", str(idx), "--wait", "--json", "-q")
    assert status(tmp_path, idx)["version"] == previous  # readers keep working during an ingest
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    built = json.loads(out)
    assert built["written"] and built["added"] == NEW

    out, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err
    assert f"another ingest (pid {first.pid}) is writing" in err  # it did wait
    after = json.loads(out)
    assert not after["written"] and after["version"] == built["version"] and len(after["unchanged"]) == 4

    data = load_index(idx)
    assert data.version == built["version"] and len(data.documents) == 4
    assert sorted(p.name for p in (idx / "versions").iterdir()) == sorted([previous, built["version"]])
