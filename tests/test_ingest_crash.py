"""The real `qunzhong ingest` killed with SIGKILL at each step of a run, and two ingests at once:
the previous index stays loadable and searchable, the lock is freed, the next ingest cleans up
and succeeds. Each kill lands at a named pause point (index.pause), never after a guessed sleep."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import cli_env, index_texts
from index.pause import ENV, STEPS
from index.store import load_index

pytestmark = pytest.mark.slow

SMALL = {
    "a.txt": "接待来访群众的基本要求\n\n接待来访群众时要热情耐心，认真倾听群众诉求，做好登记，不能与群众争吵。\n",
    "b.txt": "信访事项的办理时限\n\n信访事项应当自受理之日起六十日内办结，情况复杂的，经批准可以适当延长办理期限。\n",
}
ADDED = {
    "c.txt": "矛盾纠纷排查化解\n\n基层组织要定期开展矛盾纠纷排查，做到小事不出村、大事不出镇。\n",
    "d.txt": "群众满意度回访\n\n信访事项办结后应当回访群众，了解对处理结果是否满意，并记录在案。\n",
}
NEW = sorted(ADDED)


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
    for name, text in ADDED.items():
        (docs / name).write_text(text, encoding="utf-8")
    return docs, idx, load_index(idx).version


def qunzhong(tmp_path: Path, *args: str, pause: str | None = None) -> subprocess.Popen:
    env = cli_env(tmp_path, **({ENV: pause} if pause else {}))
    return subprocess.Popen([sys.executable, "-m", "assistant", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)


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


def wait_for_line(proc: subprocess.Popen, words: str) -> str:
    """Read the process's stderr until a line with `words` (a blocking read: no polling)."""
    seen = []
    for line in proc.stderr:
        if words in line:
            return line
        seen.append(line)
    raise AssertionError(f"the process ended (code {proc.wait()}) without saying {words!r}: {''.join(seen)}")


def paused(tmp_path: Path, step: str, *args: str) -> subprocess.Popen:
    """`qunzhong ARGS` stopped at pause point `step`, still running."""
    proc = qunzhong(tmp_path, *args, pause=step)
    wait_for_line(proc, f"paused at {step} (pid {proc.pid})")
    assert proc.poll() is None
    return proc


def temp_versions(idx: Path) -> list[Path]:
    return list((idx / "versions").glob(".tmp-*"))


def temp_names(idx: Path) -> list[str]:
    return [p.name for p in temp_versions(idx)]


def kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def test_kill_9_at_each_step_keeps_the_previous_index(work, tmp_path):
    docs, idx, previous = work
    left = {"locked": (0, 0), "writing": (1, 0), "renamed": (0, 1)}  # (temporary folders, unpublished versions)
    assert set(left) == set(STEPS)
    for step in STEPS:
        proc = paused(tmp_path, step, "ingest", str(docs), "--index", str(idx), "-q")
        assert (idx / ".lock").read_text().strip() == str(proc.pid)
        kill(proc)
        unpublished = [p for p in (idx / "versions").iterdir() if p.name not in (previous, *temp_names(idx))]
        assert (len(temp_versions(idx)), len(unpublished)) == left[step], step
        info = status(tmp_path, idx)
        assert (info["version"], info["documents"]) == (previous, 2), step
        load_index(idx)
    assert search_docs(tmp_path, idx) <= set(SMALL)  # served from the previous version

    proc = run(tmp_path, "ingest", str(docs), "--index", str(idx), "--json", "-q")  # no --wait: lock is free
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["written"] and out["added"] == NEW and sorted(out["unchanged"]) == sorted(SMALL)
    assert temp_versions(idx) == [] and not list(idx.glob(".CURRENT.*"))
    assert sorted(p.name for p in (idx / "versions").iterdir()) == sorted([previous, out["version"]])
    assert status(tmp_path, idx)["documents"] == 4
    assert set(NEW) <= {p.doc for p in load_index(idx).passages}


def test_second_ingest_is_refused_or_waits(work, tmp_path):
    docs, idx, previous = work
    first = paused(tmp_path, "locked", "ingest", str(docs), "--index", str(idx), "--json", "-q")
    assert (idx / ".lock").read_text().strip() == str(first.pid)

    second = run(tmp_path, "ingest", str(docs), "--index", str(idx), "-q")
    assert second.returncode == 1 and "Traceback" not in second.stderr
    assert second.stderr.strip().splitlines() == [
        f"error: another ingest (pid {first.pid}) is writing {idx}; wait for it to finish or pass --wait"]

    waiting = qunzhong(tmp_path, "ingest", str(docs), "--index", str(idx), "--wait", "--json", "-q")
    wait_for_line(waiting, f"another ingest (pid {first.pid}) is writing")  # it waits for the lock
    assert status(tmp_path, idx)["version"] == previous  # readers keep working during an ingest
    out, err = first.communicate("\n", timeout=300)  # let the first one go on from its pause point
    assert first.returncode == 0, err
    built = json.loads(out)
    assert built["written"] and built["added"] == NEW

    out, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err
    after = json.loads(out)
    assert not after["written"] and after["version"] == built["version"] and len(after["unchanged"]) == 4

    data = load_index(idx)
    assert data.version == built["version"] and len(data.documents) == 4
    assert sorted(p.name for p in (idx / "versions").iterdir()) == sorted([previous, built["version"]])
