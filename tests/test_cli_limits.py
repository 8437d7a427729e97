"""The CLI refuses what it cannot do as one line, before any slow work: bad numbers, a busy port;
`feedback` skips lines that are not votes; `search` applies the relevance floor `ask` applies.
Usage errors and `serve` in real subprocesses (exit codes, nothing slow loaded first); feedback and
search through `main(argv)` in this process; real e5 index."""
from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from conftest import read_jsonl, run_cli, run_main

pytestmark = pytest.mark.slow
RESOURCES = Path(__file__).parent / "resources" / "ui"
ON_TOPIC = "遇到情绪激动的上访群众应该怎么接待?"
OFF_TOPIC = "红烧肉怎么做才好吃?"


@pytest.fixture(scope="module")
def index(tmp_path_factory, e5) -> Path:
    from conftest import index_texts

    root = tmp_path_factory.mktemp("cli_limits")
    return index_texts(root, {"接待规范.txt": (RESOURCES / "接待规范.txt").read_text(encoding="utf-8")}, e5)


def one_line_error(proc, words: str, code: int = 1) -> None:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == code and "Traceback" not in proc.stderr, proc.stderr
    assert len(lines) == 1 and words in lines[0], proc.stderr


@pytest.mark.parametrize("args, words", [
    (("search", "接待", "--k", "0"), "argument --k: must be between 1 and 1000, not 0"),
    (("search", "接待", "--k", "-3"), "must be between 1 and 1000, not -3"),
    (("search", "接待", "--k", "many"), "'many' is not a number"),
    (("eval", "x.jsonl", "--k", "0"), "argument --k: must be between 1 and 1000"),
    (("ingest", "--max-file-mb", "0"), "argument --max-file-mb: must be between"),
    (("ingest", "--max-file-mb", "nan"), "argument --max-file-mb: must be between"),
    (("serve", "--port", "70000"), "argument --port: must be between 1 and 65535"),
    (("serve", "--port", "0"), "argument --port: must be between 1 and 65535"),
])
def test_numeric_options_are_validated(tmp_path, index, args, words):
    one_line_error(run_cli(tmp_path, *args, "--index", str(index)), words, code=2)


def test_serve_on_a_busy_port_is_one_line_at_once(tmp_path, index):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        t0 = time.monotonic()
        proc = run_cli(tmp_path, "serve", "--index", str(index), "--port", str(port), timeout=60)
        seconds = time.monotonic() - t0
    one_line_error(proc, f"cannot serve on 127.0.0.1:{port} (Address already in use): pass another --port")
    assert seconds < 3, seconds  # no model, no gradio loaded first


def test_serve_on_an_unknown_host_is_one_line(tmp_path, index):
    proc = run_cli(tmp_path, "serve", "--index", str(index), "--host", "no-such-host.invalid", timeout=60)
    one_line_error(proc, "cannot serve on no-such-host.invalid:7860")


def test_feedback_skips_and_counts_lines_that_are_not_votes(tmp_path):
    path = tmp_path / "data" / "feedback.jsonl"
    path.parent.mkdir(parents=True)
    good = {"time": "2026-01-01T00:00:00+0000", "rating": "up", "question": "怎么接待?", "comment": ""}
    path.write_text("\n".join([json.dumps(good, ensure_ascii=False), json.dumps({"question": "no rating"}),
                               "[1, 2]", '{"rating": "up", "question": 5}', "{torn"]) + "\n", encoding="utf-8")
    proc = run_main(tmp_path, "feedback")
    assert proc.returncode == 0 and "怎么接待?" in proc.stdout and proc.stdout.count("\n") == 1, proc.stderr
    assert "skipped 4 unreadable line(s)" in proc.stderr
    proc = run_main(tmp_path, "feedback", "--json")
    assert [json.loads(line)["question"] for line in proc.stdout.splitlines()] == ["怎么接待?"]


def test_search_applies_the_relevance_floor(tmp_path, index):
    on = json.loads(run_main(tmp_path, "search", ON_TOPIC, "--json", "--index", str(index)).stdout)
    assert isinstance(on, list) and on and on[0]["relevant"] is True
    assert all(isinstance(h["relevant"], bool) for h in on)
    off = run_main(tmp_path, "search", OFF_TOPIC, "--json", "--index", str(index))
    assert off.returncode == 0 and json.loads(off.stdout) == []
    assert "未找到相关内容" in run_main(tmp_path, "search", OFF_TOPIC, "--index", str(index)).stdout
    diag = json.loads(run_main(tmp_path, "search", OFF_TOPIC, "--json", "--no-floor", "--index", str(index)).stdout)
    assert diag and not any(h["relevant"] for h in diag)
    ask = json.loads(run_main(tmp_path, "ask", OFF_TOPIC, "--json", "--index", str(index)).stdout)
    assert ask["found"] is False  # the same decision as ask


def test_search_batch_lines_say_if_the_question_is_relevant(tmp_path, index):
    batch = tmp_path / "q.jsonl"
    batch.write_text(json.dumps({"id": "a", "q": ON_TOPIC}, ensure_ascii=False) + "\n"
                     + json.dumps({"id": "b", "q": OFF_TOPIC}, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    proc = run_main(tmp_path, "search", "--batch", str(batch), "--json", "--index", str(index))
    out.write_text(proc.stdout, encoding="utf-8")
    rows = {r["id"]: r for r in read_jsonl(out)}
    assert rows["a"]["relevant"] is True and rows["a"]["hits"] and rows["a"]["hits"][0]["relevant"]
    assert rows["b"]["relevant"] is False and rows["b"]["hits"] and not any(h["relevant"] for h in rows["b"]["hits"])
