"""Feedback and notices in a real Chromium on a real server: 👎 clicked again takes the vote back,
👍 then 👎 leaves one vote in `qunzhong feedback`; toasts have Chinese titles and Chinese text;
a paste longer than the input box takes is reported. Fixtures from test_browser."""
from __future__ import annotations

import json
import time

import pytest
from test_browser import QUESTION, WIDTHS, Page, browser, site  # noqa: F401  (fixtures)

from conftest import read_jsonl, run_main

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def ratings(path) -> list[str]:
    return [r["rating"] for r in read_jsonl(path)] if path.exists() else []


def wait_for_ratings(path, expected: list[str], timeout: float = 30) -> None:
    """The vote is written after the click returns: wait until the log holds `expected`."""
    deadline = time.monotonic() + timeout
    while ratings(path) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ratings(path) == expected


def exported(tmp_path) -> list[str]:
    out = run_main(tmp_path, "feedback", "--json").stdout
    return [json.loads(line)["rating"] for line in out.splitlines()]


def toast_titles(pg) -> list[str]:
    """The titles as shown: the type name Gradio writes is hidden (font size 0), a title drawn before it."""
    shown = pg.locator(".toast-title").evaluate_all(
        "els => els.map(e => [getComputedStyle(e).fontSize, getComputedStyle(e, '::before').content])")
    return [title.strip('"') if size == "0px" else "(the type name)" for size, title in shown]


def test_votes_taken_back_and_changed(site, browser, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    p = Page(browser, site, WIDTHS["desktop"])
    pg = p.page
    path = tmp_path / "data" / "feedback.jsonl"
    p.ask(QUESTION)
    down = pg.locator("#qz-chat button[aria-label='踩'], #qz-chat button[aria-label='Disliked']").last
    up = pg.locator("#qz-chat button[aria-label='赞'], #qz-chat button[aria-label='Liked']").last

    down.click()
    wait_for_ratings(path, ["down"])
    down.click()  # the same button again: the vote is taken back
    expect(pg.locator(".toast-body", has_text="已取消评价")).to_be_visible()
    wait_for_ratings(path, ["down", "withdrawn"])
    assert exported(tmp_path) == []

    pg.fill("#qz-comment textarea", "第一条很实用")
    up.click()
    wait_for_ratings(path, ["down", "withdrawn", "up"])
    expect(pg.locator("#qz-comment textarea")).to_have_value("")  # the vote took the comment
    down.click()  # 👍 changed to 👎: the comment stays with the vote
    wait_for_ratings(path, ["down", "withdrawn", "up", "down"])
    assert exported(tmp_path) == ["down"]
    assert [r["comment"] for r in read_jsonl(path)][-2:] == ["第一条很实用", "第一条很实用"]
    assert len({r["answer_id"] for r in read_jsonl(path)}) == 1
    p.shot("feedback-toasts")
    titles = toast_titles(pg)
    assert titles and set(titles) <= {"提示", "注意"}, titles
    assert p.dialogs == [] and p.errors == []
    p.close()


def test_two_trainees_vote_on_the_same_answer_apart(site, browser, tmp_path):  # noqa: F811
    """Two trainees ask the same question and get the same text: each vote is its own, and one
    trainee taking a vote back leaves the other's standing (a digest of the text as the answer
    id merged them: the second 👍 was stored as the first's duplicate and its withdrawal took the
    first trainee's vote back)."""
    path = tmp_path / "data" / "feedback.jsonl"
    first, second = Page(browser, site, WIDTHS["desktop"]), Page(browser, site, WIDTHS["desktop"])
    for p in (first, second):
        p.ask(QUESTION)

    def up(p):
        return p.page.locator("#qz-chat button[aria-label='赞'], #qz-chat button[aria-label='Liked']").last

    up(first).click()
    wait_for_ratings(path, ["up"])
    up(second).click()
    wait_for_ratings(path, ["up", "up"])
    rows = read_jsonl(path)
    assert rows[0]["answer"] == rows[1]["answer"] and rows[0]["answer_id"] != rows[1]["answer_id"]
    assert exported(tmp_path) == ["up", "up"]
    up(second).click()  # the second trainee takes their vote back
    wait_for_ratings(path, ["up", "up", "withdrawn"])
    votes = [json.loads(line) for line in run_main(tmp_path, "feedback", "--json").stdout.splitlines()]
    assert [v["answer_id"] for v in votes] == [rows[0]["answer_id"]]
    for p in (first, second):
        assert p.dialogs == [] and p.errors == []
        p.close()


def test_notices_are_chinese(site, browser):  # noqa: F811
    from playwright.sync_api import expect

    p = Page(browser, site, WIDTHS["desktop"])
    pg = p.page
    for unusable in ("？？？", "🙂🙂"):
        pg.fill("#qz-input textarea", unusable)
        pg.click("#qz-send")
        message = pg.locator(".toast-message-text", has_text="问题为空").last
        expect(message).to_have_text("问题为空:请输入要查询的问题。")
    assert set(toast_titles(pg)) == {"注意"}
    p.close()


def test_a_paste_longer_than_the_box_is_reported(site, browser):  # noqa: F811
    from playwright.sync_api import expect

    p = Page(browser, site, WIDTHS["desktop"])
    pg = p.page
    box = pg.locator("#qz-input textarea")
    assert "2000" in box.get_attribute("placeholder")
    p.ask((QUESTION * 30)[:600])  # the box takes it; retrieval reads max_query_chars (500) of it
    expect(pg.locator(".toast-message-text", has_text="问题较长:检索只使用开头和结尾各 250 字")).to_be_visible()
    box.focus()
    pg.keyboard.insert_text((QUESTION * 200)[:5000])  # as a paste: the box keeps 2000 characters
    assert len(box.input_value()) == 2000
    pg.click("#qz-send")
    expect(pg.locator(".toast-body", has_text="输入框最多接收 2000 字")).to_be_visible()
    pg.wait_for_function("!document.querySelector('#qz-chat').innerText.includes('正在检索资料')")
    p.shot("long-paste-notice")
    assert "提示" in toast_titles(pg)
    comment = pg.locator("#qz-comment textarea")
    assert "2000" in comment.get_attribute("placeholder")
    comment.focus()
    pg.keyboard.insert_text("意见" * 2500)
    pg.locator("#qz-chat button[aria-label='赞']").last.click()
    expect(pg.locator(".toast-message-text", has_text="意见框最多接收 2000 字")).to_be_visible()
    p.close()


def test_a_vote_that_cannot_be_saved_says_so_in_chinese(site, browser, tmp_path, monkeypatch):  # noqa: F811
    from playwright.sync_api import expect

    from ui.chat import NOT_SAVED

    p = Page(browser, site, WIDTHS["desktop"])
    pg = p.page
    p.ask(QUESTION)
    folder = tmp_path / "votes"
    folder.mkdir()
    monkeypatch.setenv("QUNZHONG_FEEDBACK", str(folder))  # the log became a folder while serving
    pg.locator("#qz-chat button[aria-label='踩']").last.click()
    message = pg.locator(".toast-message-text", has_text="反馈未能保存").last
    expect(message).to_have_text(NOT_SAVED)
    assert "Errno" not in pg.inner_text("body") and list(folder.iterdir()) == []
    assert toast_titles(pg) == ["注意"]
    p.close()


def test_a_chat_the_server_no_longer_holds_says_so(tmp_path, e5, browser):  # noqa: F811
    """The server drops a session's state (after 200 newer sessions, ui.app.SESSIONS, or a
    restart) while the page still shows its chat: a vote, a card and a follow-up say that the
    session expired (they said "this message cannot be rated" and "the library was updated", and
    the follow-up lost its context silently). The drop is Gradio's own eviction, done at once."""
    from llm_servers import free_port
    from playwright.sync_api import expect

    from conftest import CORPUS
    from ingest.build import ingest
    from ui.app import serve

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "004.txt").write_bytes((CORPUS / "004_75a9b6b516d2ea34.txt").read_bytes())
    ingest([tmp_path / "docs"], tmp_path / "index", embedder=e5, progress=False)
    app = serve(tmp_path / "index", port=free_port(), prevent_thread_lock=True)
    p = Page(browser, app.local_url, WIDTHS["desktop"])
    pg = p.page
    try:
        p.ask(QUESTION)
        app.state_holder.session_data.clear()  # as the least recently used sessions are dropped
        pg.locator("#qz-sources .qz-card").first.click()
        expect(pg.locator(".toast-body", has_text="会话已过期").first).to_be_visible()
        pg.locator("#qz-chat button[aria-label='赞'], #qz-chat button[aria-label='Liked']").last.click()
        expect(pg.locator(".toast-body", has_text="无法核对或评价").first).to_be_visible()
        assert not (tmp_path / "data" / "feedback.jsonl").exists()
        p.ask("要是对方火气很大呢?")
        expect(pg.locator(".toast-body", has_text="按新对话回答")).to_be_visible()
        assert p.dialogs == [] and p.errors == []
    finally:
        p.close()
        app.close()
