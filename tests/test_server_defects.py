"""The web server under abuse, driven over HTTP as a browser or a script would: citations after a
reindex, a garbage CURRENT, /feedback limits, login throttling, security headers, no server
paths, and every hidden handler called by fn_index with hostile arguments.
Real e5 embedder, real index, real Gradio server."""
from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import httpx
import pytest
from gradio_client import Client
from gradio_raw import call, config, fn_index
from test_ui_api import QUESTION, RECEPTION, start, write_doc

from conftest import read_jsonl

pytestmark = pytest.mark.slow
INSERTED = ("信访接待室新设立了群众等候区\n\n等候区配有座椅、饮水机和政策宣传资料,"
            "工作人员定时巡查,保持环境整洁。\n\n来访登记的新流程\n\n来访群众先取号,再到登记窗口填写来访登记表。\n\n")
SECURITY_HEADERS = {"x-frame-options": "DENY", "content-security-policy": "frame-ancestors 'none'",
                    "x-content-type-options": "nosniff"}


@pytest.fixture
def fresh_index(tmp_path, e5) -> Path:
    from ingest.build import ingest

    write_doc(tmp_path / "docs", "接待规范.txt", RECEPTION)
    ingest([tmp_path / "docs"], tmp_path / "index", embedder=e5, progress=False)
    return tmp_path / "index"


@pytest.fixture
def served(fresh_index):
    app, url = start(fresh_index)
    yield fresh_index, url
    app.close()


def ask_in_page(url: str, cfg: dict, session: str, question: str = QUESTION) -> str:
    out = call(url, fn_index(cfg, "qz-input", "submit"), [question, [], None, None], session=session)
    assert out["success"], out
    return out["data"][2]  # the citation cards


def open_target(url: str, cfg: dict, session: str, target: str) -> dict:
    return call(url, fn_index(cfg, "qz-open", "change"), [target, "清洗后文本", None, None, None], session=session)


def focused_text(viewer_body: str) -> str:
    m = re.search(r'<mark class="qz-hl qz-focus"[^>]*>(.*?)</mark>', viewer_body, re.S)
    return re.sub(r"<[^>]+>", "", m.group(1)) if m else ""


def test_a_card_shown_before_a_reindex_never_opens_another_passage(served, e5, tmp_path):
    from ingest.build import ingest

    index, url = served
    cfg = config(url)
    cards = ask_in_page(url, cfg, "s1")
    target = re.findall(r'data-open="(p:\d+)"', cards)[0]
    cited = re.sub(r"<[^>]+>", "", re.search(r'<div class="qz-text">(.*?)</div>', cards, re.S).group(1))
    opened = open_target(url, cfg, "s1", target)
    assert opened["success"] and cited[:20] in focused_text(opened["data"][2])  # before: the right passage

    write_doc(tmp_path / "docs", "接待规范.txt", INSERTED + RECEPTION)  # ids shift by the new paragraphs
    ingest([tmp_path / "docs"], index, embedder=e5, progress=False)
    opened = open_target(url, cfg, "s1", target)
    assert ("warning", "资料库已更新,请重新提问。") in opened["logs"]
    assert opened["data"][2] == {"__type__": "update"} or "qz-focus" not in str(opened["data"][2])
    cards = ask_in_page(url, cfg, "s1")  # asking again shows cards of the new version, which open
    target = re.findall(r'data-open="(p:\d+)"', cards)[0]
    assert "qz-focus" in str(open_target(url, cfg, "s1", target)["data"][2])


def test_a_garbage_current_while_serving_keeps_the_loaded_version(served):
    index, url = served
    client = Client(url, verbose=False)
    assert client.predict(QUESTION, [], api_name="/chat")["found"]
    (index / "CURRENT").write_bytes(b"\x00\xffgarbage{")
    after = client.predict(QUESTION, [], api_name="/chat")
    assert "error" not in after and after["found"]


def test_every_response_has_security_headers(served):
    _, url = served
    for path in ("", "config", "gradio_api/info", "no-such-page", "gradio_api/queue/data?session_hash=x"):
        with httpx.stream("GET", url + path, timeout=30) as r:
            assert all(r.headers.get(k) == v for k, v in SECURITY_HEADERS.items()), (path, dict(r.headers))


def test_no_server_path_in_answers_or_pages(served):
    index, url = served
    root = str(index.parent)
    answer = Client(url, verbose=False).predict(QUESTION, [], api_name="/chat")
    assert answer["citations"] and all(c["source"] == "接待规范.txt" for c in answer["citations"])
    cfg = config(url)
    status = call(url, fn_index(cfg, None, "load"), [None])
    assert status["success"] and root not in json.dumps(status["data"], ensure_ascii=False)
    assert root not in json.dumps(answer, ensure_ascii=False)


def feedback(client, **fields):
    base = {"question": QUESTION, "answer": "答", "rating": "up", "passage_ids": [0], "history": [], "comment": ""}
    return client.predict(*{**base, **fields}.values(), api_name="/feedback")


def test_feedback_fields_are_checked_before_anything_is_written(served, tmp_path):
    _, url = served
    client = Client(url, verbose=False)
    path = tmp_path / "data" / "feedback.jsonl"
    cases = [({"rating": ["up"]}, 'rating must be "up" or "down"'),
             ({"question": "问" * 3000}, "question is longer than 2000 characters"),
             ({"answer": "答" * 30_000}, "answer is longer than 20000 characters"),
             ({"comment": "意" * 2001}, "comment is longer than 2000 characters"),
             ({"history": ["问"] * 51}, "history must be a list of at most 50 strings"),
             ({"passage_ids": [2 ** 64]}, "passage_ids must be passages of the index version"),
             ({"passage_ids": [999]}, "passage_ids must be passages of the index version"),
             ({"passage_ids": ["0"]}, "passage_ids must be integers")]
    for fields, message in cases:
        out = feedback(client, **fields)
        assert message in out.get("error", ""), (fields, out)
    assert not path.exists()
    big = {"data": [QUESTION, "答" * (2 << 20), "up", [0], [], ""]}
    r = httpx.post(url + "gradio_api/call/feedback", json=big, timeout=30)
    assert r.status_code == 413 and not path.exists()


def test_a_repeated_vote_is_stored_once(served, tmp_path):
    _, url = served
    client = Client(url, verbose=False)
    answer = client.predict(QUESTION, [], api_name="/chat")
    vote = {"answer": answer["answer"], "passage_ids": [c["id"] for c in answer["citations"]]}
    first = client.predict(QUESTION, vote["answer"], "down", vote["passage_ids"], [], "不清楚",
                           answer["index_version"], answer["answer_id"], api_name="/feedback")
    again = client.predict(QUESTION, vote["answer"], "down", vote["passage_ids"], [], "不清楚",
                           answer["index_version"], answer["answer_id"], api_name="/feedback")
    assert "error" not in first and again.get("duplicate") is True
    rows = read_jsonl(tmp_path / "data" / "feedback.jsonl")
    assert len(rows) == 1 and rows[0]["answer_id"] == answer["answer_id"]
    other = client.predict(QUESTION, vote["answer"], "up", vote["passage_ids"], [], "", answer["index_version"],
                           answer["answer_id"], api_name="/feedback")  # a changed vote is a new row
    assert "error" not in other and len(read_jsonl(tmp_path / "data" / "feedback.jsonl")) == 2
    args = (QUESTION, vote["answer"], "withdrawn", vote["passage_ids"], [], "", answer["index_version"])
    back = client.predict(*args, answer["answer_id"], api_name="/feedback")  # taken back: no standing vote
    assert back["rating"] == "withdrawn" and client.predict(*args, answer["answer_id"], api_name="/feedback")["duplicate"]
    assert "answer_id" in client.predict(*args, "", api_name="/feedback")["error"]
    rows = read_jsonl(tmp_path / "data" / "feedback.jsonl")
    assert [r["rating"] for r in rows] == ["down", "up", "withdrawn"]
    # Another caller gets the same answer under its own id: its vote does not merge with these.
    twin = Client(url, verbose=False).predict(QUESTION, [], api_name="/chat")
    assert twin["answer"] == answer["answer"] and twin["answer_id"] != answer["answer_id"]
    from assistant.feedback import read_feedback

    assert read_feedback(tmp_path / "data" / "feedback.jsonl") == []
    stale = client.predict(QUESTION, "答", "up", [0], [], "", "v20000101T000000-000000", "", api_name="/feedback")
    assert "资料库已更新" in stale["error"]


def test_feedback_is_rate_limited_per_client(fresh_index, monkeypatch, tmp_path):
    monkeypatch.setattr("ui.api.FEEDBACK_RATE", (3, 60.0))
    app, url = start(fresh_index)
    try:
        client = Client(url, verbose=False)
        outs = [feedback(client, comment=f"第{i}条") for i in range(5)]
        assert [("error" in o) for o in outs] == [False, False, False, True, True]
        assert "too many votes" in outs[-1]["error"] and len(read_jsonl(tmp_path / "data" / "feedback.jsonl")) == 3
    finally:
        app.close()


def test_failed_logins_are_throttled_and_credentials_come_from_a_file(fresh_index, tmp_path):
    secret = tmp_path / "auth.txt"
    secret.write_text("# trainers\ntrainer:s3cret\n", encoding="utf-8")
    app, url = start(fresh_index, auth_file=str(secret))
    try:
        login = lambda pw: httpx.post(url + "login", data={"username": "trainer", "password": pw}, timeout=30)  # noqa: E731
        assert login("s3cret").status_code in (200, 302)
        codes = [login(f"wrong{i}").status_code for i in range(7)]
        assert codes[:5] == [400] * 5 and codes[5:] == [429, 429]
        assert login("s3cret").status_code == 429  # locked out for the rest of the window
    finally:
        app.close()


HOSTILE = [None, "", "x" * 100_000, -1, 2 ** 64, 1.5, True, "../../../../etc/passwd", "p:0#" + "9" * 50,
           "a:0:9999", "d:99999", "r:-1", {"doc": "../../etc/passwd"}, ["<script>alert(1)</script>"],
           [{"role": "user", "content": "<img src=x onerror=alert(1)>"}]]


def test_hidden_handlers_are_safe_with_hostile_arguments(served, tmp_path):
    """Every handler the page can fire, called directly by fn_index with junk in every input: each
    call ends (done or refused), shows no traceback or server path, and the server keeps working."""
    index, url = served
    cfg = config(url)
    root = str(index.parent)
    deps = [(i, d) for i, d in enumerate(cfg["dependencies"]) if d.get("backend_fn")]
    assert len(deps) >= 12
    results = []

    def hammer(i, dep):
        for value in HOSTILE:
            out = call(url, i, [value] * len(dep["inputs"]), event_data={"index": value, "value": value,
                                                                         "liked": value})
            results.append((i, value, out))

    threads = [threading.Thread(target=hammer, args=d) for d in deps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert len(results) == len(deps) * len(HOSTILE)
    for i, value, out in results:
        text = json.dumps(out, ensure_ascii=False, default=str)
        assert "Traceback" not in text and root not in text and "/etc/passwd</" not in text, (i, value, text[:300])
        shown = json.dumps(out["data"], ensure_ascii=False)  # what reaches the page as HTML
        assert "<script>" not in shown and "<img src=x" not in shown, (i, value, shown[:300])
    assert not (tmp_path / "data" / "feedback.jsonl").exists()  # no junk vote was stored
    assert Client(url, verbose=False).predict(QUESTION, [], api_name="/chat")["found"]


def test_sessions_kept_by_the_server_are_bounded(fresh_index):
    """Every REST call is a new Gradio session: the server keeps at most SESSIONS of them (it kept
    10,000, ~80 KB each: memory grew 82 KB per request)."""
    from ui.app import SESSIONS

    app, url = start(fresh_index)
    try:
        with httpx.Client(base_url=url, timeout=120) as http:
            for _ in range(SESSIONS + 30):
                event = http.post("gradio_api/call/chat", json={"data": ["", []]}).json()["event_id"]
                assert "event: complete" in http.get(f"gradio_api/call/chat/{event}").text
        assert len(app.server_app.state_holder.session_data) <= SESSIONS
        assert len(app._queue.pending_event_ids_session) <= 2 * 200  # finished sessions' sets are dropped
    finally:
        app.close()
