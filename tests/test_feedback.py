"""The feedback log: append-only, a changed vote and a vote taken back are rows of their own, and
`qunzhong feedback` exports the standing vote per answer; another process appending to the same
log counts; a torn last line costs no vote; `serve` refuses a log it could not write, in one line.
Real files, the CLI through `main(argv)` and in real subprocesses."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from llm_servers import free_port

from conftest import cli_env, read_jsonl, run_main

VOTE = {"question": "怎么接待?", "history": [], "answer": "热情接待 [1]", "passage_ids": [0], "index_version": "v1"}
OTHER = {**VOTE, "question": "怎么答复?", "answer": "按期答复 [1]"}


def exported(tmp_path) -> list[dict]:
    proc = run_main(tmp_path, "feedback", "--json")
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_a_vote_taken_back_is_recorded_and_left_out_of_the_export(tmp_path):
    from assistant.feedback import record_feedback, withdraw_feedback

    path = tmp_path / "data" / "feedback.jsonl"
    down = record_feedback(path, rating="down", comment="不相关", **VOTE)
    kept = record_feedback(path, rating="up", **OTHER)
    before = path.read_bytes()
    withdraw_feedback(path, comment="ignored", **VOTE)
    assert path.read_bytes().startswith(before)  # appended, nothing rewritten
    rows = read_jsonl(path)
    assert [r["rating"] for r in rows] == ["down", "up", "withdrawn"]
    assert rows[2]["answer_id"] == down["answer_id"] and rows[2]["comment"] == ""
    assert exported(tmp_path) == [kept]
    proc = run_main(tmp_path, "feedback")
    assert proc.returncode == 0 and proc.stdout.count("\n") == 1 and "怎么答复?" in proc.stdout
    assert "怎么接待?" not in proc.stdout and "skipped" not in proc.stderr

    again = withdraw_feedback(path, **VOTE)  # nothing standing to take back: nothing written
    assert again["duplicate"] is True and len(read_jsonl(path)) == 3


def test_a_changed_vote_replaces_the_earlier_one(tmp_path):
    from assistant.feedback import record_feedback, withdraw_feedback

    path = tmp_path / "data" / "feedback.jsonl"
    record_feedback(path, rating="up", **VOTE)
    record_feedback(path, rating="down", comment="第二条不相关", **VOTE)
    out = exported(tmp_path)
    assert [(r["rating"], r["comment"]) for r in out] == [("down", "第二条不相关")]
    assert set(out[0]) == set(read_jsonl(path)[0])  # the exported row keeps the stored fields
    text = run_main(tmp_path, "feedback").stdout
    assert text.count("\n") == 1 and "down" in text and " up " not in text

    back = record_feedback(path, rating="up", **VOTE)  # up -> down -> up: the third vote is stored
    assert "duplicate" not in back and [r["rating"] for r in exported(tmp_path)] == ["up"]
    assert record_feedback(path, rating="up", **VOTE)["duplicate"] is True  # a retry is stored once
    withdraw_feedback(path, **VOTE)
    record_feedback(path, rating="down", **VOTE)  # a vote after a withdrawal stands again
    assert [r["rating"] for r in read_jsonl(path)] == ["up", "down", "up", "withdrawn", "down"]
    assert [r["rating"] for r in exported(tmp_path)] == ["down"]


def test_votes_another_server_appends_count(tmp_path):
    from assistant.feedback import record_feedback

    path = tmp_path / "data" / "feedback.jsonl"
    record_feedback(path, rating="up", **VOTE)  # this process now knows the log
    other = ("import sys, json; from assistant.feedback import record_feedback; "
             "record_feedback(sys.argv[1], rating='down', **json.loads(sys.argv[2]))")
    subprocess.run([sys.executable, "-c", other, str(path), json.dumps(VOTE)], check=True, env=cli_env(tmp_path),
                   timeout=120)
    back = record_feedback(path, rating="up", **VOTE)  # up again here, after the other server's down
    assert "duplicate" not in back
    assert [r["rating"] for r in read_jsonl(path)] == ["up", "down", "up"]
    assert [r["rating"] for r in exported(tmp_path)] == ["up"]


def test_a_torn_last_line_does_not_swallow_the_next_vote(tmp_path):
    from assistant.feedback import record_feedback

    path = tmp_path / "data" / "feedback.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text('{"rating": "up", "question": "半行', encoding="utf-8")  # a crash mid-write
    record_feedback(path, rating="down", **VOTE)
    proc = run_main(tmp_path, "feedback", "--json")
    assert [json.loads(line)["rating"] for line in proc.stdout.splitlines()] == ["down"]
    assert "skipped 1 unreadable line(s)" in proc.stderr


def test_serve_refuses_a_feedback_log_it_cannot_write(tmp_path):
    folder = tmp_path / "votes"
    folder.mkdir()
    proc = subprocess.run([sys.executable, "-m", "assistant", "serve", "--port", str(free_port())],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300,
                          env=cli_env(tmp_path, QUNZHONG_FEEDBACK=str(folder)))
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert len(lines) == 1 and "cannot write the feedback log" in lines[0] and "Is a directory" in lines[0]
    assert "QUNZHONG_FEEDBACK" in lines[0]


def test_writable_check_creates_nothing(tmp_path):
    from assistant.feedback import FeedbackError, check_writable

    check_writable(tmp_path / "new" / "feedback.jsonl")  # a folder still to be made is fine
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(FeedbackError, match="Not a directory"):
        check_writable(tmp_path / "file" / "feedback.jsonl")
    assert (tmp_path / "file").read_text(encoding="utf-8") == "x"
