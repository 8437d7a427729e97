"""The real `qunzhong` command, end to end: ingest -> search -> ask -> export -> status, run in this
process through `main(argv)`; exit codes and one-line errors in real subprocesses."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import CORPUS, run_cli, run_main

pytestmark = pytest.mark.slow
QUESTION = "遇到情绪激动的上访群众应该怎么接待?"


def run(tmp_path, *args, check=True, stdin=None):
    proc = run_main(tmp_path, *args, input=stdin)
    if check and proc.returncode != 0:
        raise AssertionError(f"qunzhong {' '.join(args)} failed: {proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def small_index(tmp_path_factory):
    """Two corpus documents indexed through the CLI, as a user would."""
    tmp = tmp_path_factory.mktemp("cli")
    docs = tmp / "docs"
    docs.mkdir()
    for name in ("002_7835b66b1029dbc8.txt", "004_75a9b6b516d2ea34.txt"):
        shutil.copy(CORPUS / name, docs / name)
    proc = run(tmp, "ingest", str(docs), "--index", str(tmp / "idx"), "--json", "-q")
    return tmp, tmp / "idx", json.loads(proc.stdout)


def test_ingest_summary(small_index):
    _, _, summary = small_index
    assert summary["documents"] == 2 and summary["passages"] > 20
    assert sorted(summary["added"]) == ["002_7835b66b1029dbc8.txt", "004_75a9b6b516d2ea34.txt"]


def test_search_json_shape_and_spans(small_index):
    tmp, idx, _ = small_index
    hits = json.loads(run(tmp, "search", QUESTION, "--json", "--index", str(idx)).stdout)
    assert [h["rank"] for h in hits] == list(range(1, len(hits) + 1)) and len(hits) == 5
    for h in hits:
        assert set(h) >= {"rank", "score", "doc", "title", "section", "text", "source", "start", "end", "relevant",
                          "source_relative", "citation", "date"}
        assert isinstance(h["relevant"], bool) and not Path(h["source_relative"]).is_absolute()
        assert Path(h["source"]).resolve() == (tmp / "docs" / h["source_relative"]).resolve()
        original = Path(h["source"]).read_text(encoding="utf-8")[h["start"]:h["end"]]
        assert _letters(h["text"]) in _letters(original) or _in_order(_letters(h["text"]), _letters(original))
    assert any(w in h["text"] for h in hits[:3] for w in ("上访", "接待", "来访")) and hits[0]["relevant"]


def _letters(s):
    return "".join(ch for ch in s if ch.isalnum())


def _in_order(needle, hay):
    it = iter(hay)
    return all(ch in it for ch in needle)


def test_search_batch(small_index):
    tmp, idx, _ = small_index
    batch = tmp / "batch.jsonl"
    batch.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in [
        {"id": "a", "q": QUESTION},
        {"id": "b", "q": "要是对方火气很大呢?", "history": [QUESTION]},
        {"id": "c", "q": "   "},
    ]), encoding="utf-8")
    lines = run(tmp, "search", "--batch", str(batch), "--json", "--k", "10", "--index", str(idx)).stdout.splitlines()
    rows = [json.loads(x) for x in lines]
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    assert len(rows[0]["hits"]) == 10 and rows[0]["ms"] >= 0
    assert rows[1]["hits"] and rows[2]["hits"] == [] and "error" in rows[2]
    # a line that is no question fails the run before any line is answered: no partial output
    bad = tmp / "bad.jsonl"
    bad.write_text(json.dumps({"id": "a", "q": QUESTION}, ensure_ascii=False) + "\n{\"q\": \"没有 id\"}\n", encoding="utf-8")
    proc = run(tmp, "search", "--batch", str(bad), "--json", "--index", str(idx), check=False)
    assert proc.returncode != 0 and [json.loads(x) for x in proc.stdout.splitlines()] == [
        {"error": f"{bad}:2: expected a JSON object with \"id\" and \"q\""}], proc.stdout


def test_ask_cites_sources(corpus_index, tmp_path):
    tmp, idx = tmp_path, corpus_index
    out = json.loads(run(tmp, "ask", QUESTION, "--json", "--index", str(idx)).stdout)
    assert out["found"] and "[1]" in out["answer"]
    assert out["citations"][0]["n"] == 1 and out["citations"][0]["title"]
    hits = json.loads(run(tmp, "search", QUESTION, "--json", "--index", str(idx)).stdout)
    for c in out["citations"]:  # each citation is a hit as search prints it, without "relevant"
        assert set(c) >= set(hits[0]) - {"relevant"} and c["cited"] is False, c
        assert c["source_relative"] == c["source"] and not Path(c["source"]).is_absolute()
    text = run(tmp, "ask", "How should I handle an emotionally agitated petitioner?", "--index", str(idx)).stdout
    assert "[1]" in text


def test_ask_off_topic_says_not_found(small_index):
    tmp, idx, _ = small_index
    # One off-topic question for the path; the floor itself is measured on whole sets (test_retrieval).
    out = json.loads(run(tmp, "ask", "明天北京的天气怎么样?", "--json", "--index", str(idx)).stdout)
    assert not out["found"] and "未找到相关内容" in out["answer"] and out["citations"] == []


def test_export_and_status(small_index):
    tmp, idx, summary = small_index
    rows = [json.loads(x) for x in run(tmp, "export", "--index", str(idx)).stdout.splitlines()]
    assert len(rows) == summary["passages"]
    assert set(rows[0]) >= {"id", "doc", "title", "section", "text", "source", "start", "end"}
    # the hit fields without rank/score/relevant, as `search --json` gives them
    hits = json.loads(run(tmp, "search", "群众工作", "--json", "--no-floor", "--index", str(idx)).stdout)
    assert set(rows[0]) == set(hits[0]) - {"rank", "score", "relevant", "cited"} | {"id", "also"}
    by_id = {(r["doc"], r["start"]): r for r in rows}
    for h in hits:
        row = by_id[(h["doc"], h["start"])]
        assert (row["source_relative"], row["date"]) == (h["source_relative"], h["date"])
    status = json.loads(run(tmp, "status", "--json", "--index", str(idx)).stdout)
    assert status["documents"] == 2 and status["passages"] == summary["passages"]
    assert status["embedder"] == "e5-small" and status["built_at"]
    assert status["cleaning"]["004_75a9b6b516d2ea34.txt"]["removed_chars"] > 0


@pytest.mark.parametrize("args, words", [
    (("search", "群众", "--index", "{tmp}/nowhere"), "no index"),
    (("search", "   ", "--index", "{idx}"), "问题为空"),
    (("ingest", "{tmp}/does-not-exist", "--index", "{tmp}/x"), "does not exist"),
    (("eval", "{tmp}/missing.jsonl", "--index", "{idx}"), "cannot read"),
])
def test_errors_are_one_line(small_index, args, words):
    tmp, idx, _ = small_index
    proc = run_cli(tmp, *[a.format(tmp=tmp, idx=idx) for a in args])  # a real process: its exit code
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0].lower()


def test_help_shows_examples(tmp_path):
    proc = run_cli(tmp_path, "--help")
    out = proc.stdout
    assert proc.returncode == 0
    assert "examples:" in out and "qunzhong ask" in out


def test_eval_command_scores_a_hand_made_set(small_index):
    tmp, idx, _ = small_index
    qs = tmp / "mine.jsonl"
    qs.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in [
        {"id": "t1", "q": "解决群众生活困难时,为什么要讲政策?", "gold": ["在政策固定的范围内解决问题"]},
        {"id": "t2", "q": "群众工作的组织机构设置存在什么问题?", "gold": ["群众工作组织机构设置滞后于现实发展"]},
        {"id": "t3", "q": "群众工作有哪些挑战?", "gold": ["这句话在语料中并不存在"]},
    ]), encoding="utf-8")
    junk = tmp / "junk.txt"
    junk.write_text("# markers\n群众\n", encoding="utf-8")  # every passage "contains noise" by this list
    out = json.loads(run(tmp, "eval", str(qs), "--json", "--junk", str(junk), "--index", str(idx)).stdout)[0]
    assert out["n"] == 3 and out["missed"] == ["t3"]
    assert out["hit@5"] == pytest.approx(2 / 3, abs=1e-3) and out["hit@1"] <= out["hit@3"] <= out["hit@5"]
    assert out["junk_in_top5"] == 1.0 and out["dup_in_top5"] == 0.0
    table = run(tmp, "eval", str(qs), "--index", str(idx)).stdout
    assert "mrr@10" in table and "t3" in table
