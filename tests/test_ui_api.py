"""The web UI's server, driven by gradio_client: /chat, /feedback (and its export), an index
replaced while the server runs, and login. Real embedder, real index, real Gradio server."""
from __future__ import annotations

import json
import shutil
import socket
import threading
from pathlib import Path

import pytest
from gradio_client import Client

from conftest import read_jsonl, run_main

pytestmark = pytest.mark.slow
QUESTION = "遇到情绪激动的上访群众应该怎么接待?"
RESOURCES = Path(__file__).parent / "resources" / "ui"

RECEPTION = (RESOURCES / "接待规范.txt").read_text(encoding="utf-8")

FENGQIAO = (RESOURCES / "枫桥经验.txt").read_text(encoding="utf-8")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_doc(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reception_index(tmp_path_factory, e5) -> Path:
    from ingest.build import ingest

    root = tmp_path_factory.mktemp("ui_api")
    write_doc(root / "docs", "接待规范.txt", RECEPTION)
    ingest([root / "docs"], root / "index", embedder=e5, progress=False)
    return root / "index"


def start(index: Path, **kwargs):
    from ui.app import serve

    app = serve(index, port=free_port(), prevent_thread_lock=True, **kwargs)
    return app, app.local_url


@pytest.fixture(scope="module")
def server(reception_index):
    app, url = start(reception_index)
    yield Client(url, verbose=False)
    app.close()


def test_only_chat_and_feedback_are_public(server):
    api = server.view_api(return_format="dict", print_info=False)
    assert set(api["named_endpoints"]) == {"/chat", "/feedback"} and not api["unnamed_endpoints"]


def test_chat_returns_cited_answer(server):
    ans = server.predict(QUESTION, [], api_name="/chat")
    assert ans["found"] and "[1]" in ans["answer"]
    assert ans["index_version"].startswith("v")
    first = ans["citations"][0]
    assert first["n"] == 1 and first["doc"] == "接待规范.txt" and isinstance(first["id"], int)
    assert "冷静" in first["text"] and first["label"] in {"高度相关", "相关", "可能相关"}
    assert [p["citation"] for p in ans["points"]] == [c["n"] for c in ans["citations"]]


def test_chat_follow_up_uses_history(server):
    """A follow-up with nothing of its own to search for is answered only through the turn before it."""
    alone = server.predict("那之后呢?", [], api_name="/chat")
    assert "error" not in alone and not alone["found"] and not alone["citations"]
    followed = server.predict("那之后呢?", [QUESTION], api_name="/chat")
    assert followed["found"] and followed["query"] == "那之后呢?"
    assert "冷静" in followed["citations"][0]["text"]


def test_chat_error_is_a_message_not_a_traceback(server):
    ans = server.predict("   ", [], api_name="/chat")
    assert "问题为空" in ans["error"] and "Traceback" not in json.dumps(ans)


def test_feedback_is_stored_and_exported(server, tmp_path):
    ans = server.predict(QUESTION, [], api_name="/chat")
    ids = [c["id"] for c in ans["citations"]]
    row = server.predict(QUESTION, ans["answer"], "down", ids, ["之前的问题"], "第二条不相关", api_name="/feedback")
    assert row["rating"] == "down" and row["passage_ids"] == ids
    stored = read_jsonl(tmp_path / "data" / "feedback.jsonl")
    assert len(stored) == 1
    assert stored[0] | {"time": None} == row | {"time": None}
    assert stored[0]["history"] == ["之前的问题"] and stored[0]["answer"] == ans["answer"]
    assert stored[0]["index_version"] == ans["index_version"]

    bad = server.predict(QUESTION, ans["answer"], "meh", ids, [], "", api_name="/feedback")
    assert "rating" in bad["error"]
    assert len(read_jsonl(tmp_path / "data" / "feedback.jsonl")) == 1

    out = run_main(tmp_path, "feedback", "--json").stdout
    assert [json.loads(line) for line in out.splitlines()] == stored
    text = run_main(tmp_path, "feedback").stdout
    assert "down" in text and QUESTION in text and "第二条不相关" in text


def test_index_replaced_while_serving(reception_index, tmp_path, e5):
    """`ingest` publishes a new version: the running server answers from it on the next
    question, and questions asked during the swap all succeed."""
    from ingest.build import ingest

    index = tmp_path / "index"
    shutil.copytree(reception_index, index)
    app, url = start(index)
    try:
        client = Client(url, verbose=False)
        before = client.predict("什么是枫桥经验?网格员怎样调处矛盾纠纷?", [], api_name="/chat")
        assert all(c["doc"] != "枫桥经验.txt" for c in before.get("citations", []))

        results, stop, answered = [], threading.Event(), threading.Condition()

        def ask_in_a_loop():
            c = Client(url, verbose=False)
            while not stop.is_set():
                r = c.predict(QUESTION, [], api_name="/chat")
                with answered:
                    results.append(r)
                    answered.notify_all()

        def wait_for(condition, seconds=60.0):
            with answered:  # woken by each answer, not by a clock
                assert answered.wait_for(condition, timeout=seconds), "answers stopped coming"

        asker = threading.Thread(target=ask_in_a_loop)
        asker.start()
        try:
            wait_for(lambda: len(results) >= 1)  # questions are flowing before the swap
            write_doc(tmp_path / "docs", "接待规范.txt", RECEPTION)
            write_doc(tmp_path / "docs", "枫桥经验.txt", FENGQIAO)
            ingest([tmp_path / "docs"], index, embedder=e5, progress=False)
            served = len(results)
            wait_for(lambda: len(results) >= served + 2)  # and keep flowing after it
        finally:
            stop.set()
            asker.join(timeout=60)
        assert len(results) >= 2
        assert all("error" not in r and r["found"] for r in results), [r.get("error") for r in results]
        assert len({r["index_version"] for r in results}) == 2  # the swap happened mid-stream

        after = client.predict("什么是枫桥经验?网格员怎样调处矛盾纠纷?", [], api_name="/chat")
        assert after["index_version"] != before["index_version"]
        assert after["found"] and after["citations"][0]["doc"] == "枫桥经验.txt"
        assert "枫桥" in after["citations"][0]["text"] or "网格员" in after["citations"][0]["text"]
    finally:
        app.close()


def test_login_required_with_auth(reception_index, monkeypatch):
    monkeypatch.setenv("QUNZHONG_AUTH", "trainer:s3cret")
    app, url = start(reception_index)  # from the environment variable, as a shared deployment would
    try:
        assert url.startswith("http://127.0.0.1:")  # binds localhost unless told otherwise
        with pytest.raises(Exception, match="login"):
            Client(url, verbose=False).predict(QUESTION, [], api_name="/chat")
        with pytest.raises(ValueError, match="login"):
            Client(url, verbose=False, auth=("trainer", "wrong"))
        ok = Client(url, verbose=False, auth=("trainer", "s3cret")).predict(QUESTION, [], api_name="/chat")
        assert ok["found"]
    finally:
        app.close()


def test_bad_auth_value_is_refused(reception_index):
    from index.errors import QunzhongError
    from ui.app import serve

    with pytest.raises(QunzhongError, match="USER:PASS"):
        serve(reception_index, port=free_port(), auth="no-colon", prevent_thread_lock=True)
