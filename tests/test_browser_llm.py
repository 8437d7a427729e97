"""The chat in a real Chromium with answers written by a real llama.cpp server (Gemma 3 270M):
tokens appear in the bubble while the model writes, then the checked answer replaces them
(kept sentences with [n], struck ones marked 未核实, or the extractive answer with a notice),
and a vote records that the answer was generated."""
from __future__ import annotations

import dataclasses

import pytest
from test_browser import WIDTHS, Page, browser  # noqa: F401  (the Chromium fixture)

from conftest import read_jsonl

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUESTION = "遇到情绪激动的上访群众应该怎么接待?"
WATCH = """() => {
  window.__snaps = [];
  const chat = document.querySelector('#qz-chat');
  new MutationObserver(() => {
    const bots = chat.querySelectorAll("[data-testid='bot']");
    if (bots.length) window.__snaps.push(bots[bots.length - 1].innerText);
  }).observe(chat, {subtree: true, childList: true, characterData: true});
}"""
DONE = """() => {
  const bots = document.querySelectorAll("#qz-chat [data-testid='bot']");
  if (!bots.length) return false;
  const t = bots[bots.length - 1].innerText;
  return t.length > 0 && !t.includes('正在生成') && !t.includes('正在检索');
}"""


@pytest.fixture(scope="module")
def llm_site(llama, llm_index):
    from llm_servers import free_port

    from assistant.generate import LLMConfig
    from ui.app import serve

    llm = dataclasses.replace(LLMConfig.from_options(llama.url, "gemma-3-270m", 60.0, 40),
                              first_token_timeout=60.0, temperature=0.0)
    app = serve(llm_index, port=free_port(), prevent_thread_lock=True, llm=llm)
    yield app.local_url
    app.close()


def test_tokens_stream_into_the_chat_before_the_checked_answer(llm_site, browser, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    p = Page(browser, llm_site, WIDTHS["desktop"])
    pg = p.page
    pg.evaluate(WATCH)
    pg.fill("#qz-input textarea", QUESTION)
    pg.click("#qz-send")
    pg.wait_for_function(DONE, timeout=120_000)
    snaps = pg.evaluate("window.__snaps")
    streaming = [s for s in snaps if "尚未核对出处" in s]
    bodies = [s.split("尚未核对出处", 1)[1].strip("）)……*\n ") for s in streaming]
    assert len({b for b in bodies if b}) >= 2, snaps  # several partial texts were shown, growing
    final = pg.locator("#qz-chat [data-testid='bot']").last.inner_text()
    assert final not in bodies
    if "由语言模型" in final:  # generated: each kept sentence carries its [n]; cards say what they support
        assert "[" in final
        expect(pg.locator("#qz-sources .qz-supports").first).to_contain_text("支持的句子")
    else:  # every sentence failed the check: the extractive answer, under a one-line notice
        assert "以下为资料原文摘录" in final and "[1]" in final
    assert "Traceback" not in pg.inner_text("body") and p.errors == []
    p.shot("chat_generated")

    pg.locator("#qz-chat button[aria-label='赞']").last.click()
    expect(pg.locator(".toast-body", has_text="已记录反馈")).to_be_visible()  # shown once the row is written
    path = tmp_path / "data" / "feedback.jsonl"
    row = read_jsonl(path)[0]
    assert row["generated"] is ("由语言模型" in final)
    assert row["model"] == "gemma-3-270m" and isinstance(row["struck"], list)
    p.close()


@pytest.fixture(scope="module")
def replay_site(llm_index):
    from llm_servers import ReplayServer, free_port

    from assistant.generate import LLMConfig
    from ui.app import serve

    replay = ReplayServer()
    app = serve(llm_index, port=free_port(), prevent_thread_lock=True,
                llm=LLMConfig.from_options(replay.url, "replay", 10.0, 64))
    yield app.local_url, replay
    app.close()
    replay.close()


def test_struck_sentences_are_shown_struck_and_cards_list_support(replay_site, browser):  # noqa: F811
    from playwright.sync_api import expect

    url, replay = replay_site
    kept = "遇到情绪激动的上访群众,接待人员首先要保持冷静,态度和蔼"
    fabricated = "接待人员每月18日要向王建国汇报接待情况"
    replay.play(text=f"{kept}[1]。{fabricated}[1]。")
    p = Page(browser, url, WIDTHS["desktop"])
    pg = p.page
    pg.fill("#qz-input textarea", QUESTION)
    pg.click("#qz-send")
    pg.wait_for_function(DONE, timeout=60_000)
    bot = pg.locator("#qz-chat [data-testid='bot']").last
    expect(bot).to_contain_text("由语言模型 replay")
    expect(bot.locator("del")).to_contain_text(fabricated)
    expect(bot).to_contain_text("未核实")
    expect(bot).to_contain_text(f"{kept}。 [1]")
    supports = pg.locator("#qz-sources .qz-supports").first
    expect(supports).to_contain_text(kept)
    assert fabricated not in supports.inner_text()
    p.shot("chat_generated_struck")
    p.close()
