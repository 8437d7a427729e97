"""The web UI in a real Chromium (Debian's /usr/bin/chromium, installed by `make browser`):
ask, read the cited answer, open the source viewer from a citation card, switch to the
original text, browse the library, leave feedback; and markup in documents or questions
never executes. Screenshots go to test-output/screenshots/."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from llm_servers import free_port

from conftest import CORPUS, ROOT, read_jsonl

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
RESOURCES = Path(__file__).parent / "resources" / "ui"
SHOTS = ROOT / "test-output" / "screenshots"
QUESTION = "遇到情绪激动的上访群众应该怎么接待?"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
ORIGINAL = "原文(标出清洗删除的内容)"

RECEPTION = (RESOURCES / "接待规范.txt").read_text(encoding="utf-8")

MARKUP = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
HOSTILE_NAME = f"{IMG}村务公开.txt"  # a file name is shown too (as the document id)
HOSTILE = f"""村务公开工作指引{MARKUP}
一、村务公开的内容{IMG}
村务公开栏应当公开村级财务收支、集体资产处置、低保评定和惠民资金发放等群众关心的事项。{IMG}
公开内容要真实、及时、完整,接受村民监督,村民对公开内容有疑问的,村委会要当面解释清楚。{MARKUP}
二、村务公开的形式
除公开栏外,还可以通过村民微信群、村民代表会议等形式公开,模板标记 ${{7*7}} 与 {{{{7*7}}}} 原样显示。
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory, e5):
    """Three documents indexed with the real embedder, served in-process on a free port."""
    from ingest.build import ingest
    from ui.app import serve

    root = tmp_path_factory.mktemp("browser")
    docs = root / "docs"
    docs.mkdir()
    (docs / "接待规范.txt").write_text(RECEPTION, encoding="utf-8")
    (docs / HOSTILE_NAME).write_text(HOSTILE, encoding="utf-8")
    (docs / "004_75a9b6b516d2ea34.txt").write_bytes((CORPUS / "004_75a9b6b516d2ea34.txt").read_bytes())
    ingest([docs], root / "index", embedder=e5, progress=False)
    app = serve(root / "index", port=free_port(), prevent_thread_lock=True)
    yield app.local_url
    app.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not at /usr/bin/chromium: run `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield b
        b.close()


class Page:
    """A Chinese-locale page that records dialogs (an executed alert) and script errors."""

    def __init__(self, browser, url: str, size: tuple[int, int]):
        self.ctx = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="zh-CN")
        self.page = self.ctx.new_page()
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.set_default_timeout(30_000)
        self.page.goto(url)
        self.page.wait_for_selector("#qz-status:has-text('份文档')")

    def ask(self, question: str) -> None:
        pg = self.page
        answers = pg.locator("#qz-chat [data-testid='bot']").count()
        pg.fill("#qz-input textarea", question)
        pg.click("#qz-send")
        pg.wait_for_function(f"document.querySelectorAll(\"#qz-chat [data-testid='bot']\").length > {answers}")
        pg.wait_for_function("!document.querySelector('#qz-chat').innerText.includes('正在检索资料')")

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.ctx.close()


def _letters(s: str) -> str:
    return "".join(ch for ch in s if ch.isalnum())


@pytest.mark.parametrize("width", list(WIDTHS))
def test_mission_question_citation_opens_source(site, browser, width):
    from playwright.sync_api import expect

    p = Page(browser, site, WIDTHS[width])
    pg = p.page
    status = pg.inner_text("#qz-status")
    assert "3 份文档" in status and "版本 v" in status and "建于" in status

    p.ask(QUESTION)
    bot = pg.locator("#qz-chat [data-testid='bot']").last
    expect(bot).to_contain_text("[1]")
    cards = pg.locator("#qz-sources .qz-card")
    assert cards.count() >= 1
    first = cards.first
    expect(first).to_contain_text("[1]")
    expect(first.locator(".qz-label")).to_have_text(re.compile("相关"))
    expect(first.locator("mark").first).to_be_visible()  # the question's terms highlighted
    p.shot(f"chat_{width}")

    card_text = first.locator(".qz-text").inner_text()
    first.click()
    focus = pg.locator("#qz-viewer #qz-focus")
    expect(focus).to_be_visible()
    expect(pg.get_by_role("tab", name="原文核对")).to_have_attribute("aria-selected", "true")
    expect(focus).to_be_in_viewport()
    assert _letters(card_text)[:20] in _letters("".join(pg.locator("#qz-viewer mark.qz-focus").all_inner_texts()))
    p.shot(f"viewer_{width}")

    pg.get_by_label(ORIGINAL).check()
    expect(pg.locator("#qz-viewer del.qz-del").first).to_be_attached()
    expect(pg.locator("#qz-viewer .qz-legend")).to_contain_text("删除线")
    focus = pg.locator("#qz-viewer #qz-focus")
    expect(focus).to_be_visible()
    expect(focus).to_be_in_viewport()
    expect(pg.locator("#qz-info .qz-cited")).to_contain_text("原文第")
    assert _letters(card_text)[:20] in _letters("".join(pg.locator("#qz-viewer mark.qz-focus").all_inner_texts()))
    p.shot(f"original_{width}")

    pg.get_by_role("tab", name="资料库").click()
    rows = pg.locator("#qz-library .qz-lib tbody tr")
    expect(rows).to_have_count(3)
    row = rows.filter(has_text="接待规范.txt")
    row.locator("button", has_text="清洗报告").click()
    expect(pg.locator("#qz-report")).to_contain_text("页码/页眉页脚")
    p.shot(f"library_{width}")
    rows.filter(has_text="004_75a9b6b516d2ea34.txt").locator("button", has_text="原文核对").click()
    expect(pg.locator("#qz-info h3")).to_have_text("当前开展群众工作面临的挑战及对策建议思考")
    expect(pg.locator("#qz-viewer .qz-rule").first).to_be_visible()  # still the original view
    assert p.dialogs == [] and p.errors == []
    p.close()


def test_feedback_per_answer_and_new_chat(site, browser, tmp_path):
    from playwright.sync_api import expect

    p = Page(browser, site, WIDTHS["desktop"])
    pg = p.page
    pg.fill("#qz-input textarea", "???")  # an unusable question: a warning, no traceback, page usable
    pg.click("#qz-send")
    expect(pg.locator(".toast-body", has_text="问题为空")).to_be_visible()
    assert "Traceback" not in pg.inner_text("body")
    p.ask(QUESTION)
    first_ids = [int(x) for x in pg.locator("#qz-sources .qz-card").evaluate_all("els => els.map(e => e.dataset.pid)")]
    p.ask("那对方一直不肯走怎么办?")
    bots = pg.locator("#qz-chat [data-testid='bot']")
    expect(bots).to_have_count(2)

    pg.fill("#qz-comment textarea", "第一条回答很实用")
    pg.locator("#qz-chat button[aria-label='赞']").first.click()  # feedback on the first answer
    expect(pg.locator("#qz-comment textarea")).to_have_value("")
    recorded = pg.locator(".toast-body", has_text="已记录反馈")  # shown once the row is written
    expect(recorded).to_have_count(1)
    recorded.locator(".toast-close").click()
    expect(recorded).to_have_count(0)
    pg.locator("#qz-chat button[aria-label='踩']").last.click()
    expect(recorded).to_have_count(1)
    path = tmp_path / "data" / "feedback.jsonl"
    up, down = read_jsonl(path)
    assert up["rating"] == "up" and up["question"] == QUESTION and up["history"] == []
    assert up["comment"] == "第一条回答很实用" and up["passage_ids"] == first_ids and "[1]" in up["answer"]
    assert down["rating"] == "down" and down["history"] == [QUESTION] and down["comment"] == ""

    pg.click("#qz-new")
    expect(bots).to_have_count(0)
    expect(pg.locator("#qz-sources")).to_contain_text("新对话已开始")
    p.close()


def test_questions_that_found_nothing_are_no_context_for_the_next(site, browser):
    """"接待群众" after two off-topic questions is answered as in a new chat (it was refused,
    judged in a conversation about the weather and shares)."""
    from playwright.sync_api import expect

    p = Page(browser, site, WIDTHS["desktop"])
    bots = p.page.locator("#qz-chat [data-testid='bot']")
    for question in ("明天股票会涨吗?", "今天天气怎么样"):
        p.ask(question)
        expect(bots.last).to_contain_text("未找到相关内容")
    p.ask("接待群众")
    expect(bots.last).to_contain_text("[1]")
    p.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_each_new_answer_is_brought_into_view(site, browser, width):
    """The chat box has a maximum height: after the third long answer the newest question is
    in view, not the first one (Gradio's autoscroll had left the box at its top)."""
    from playwright.sync_api import expect

    p = Page(browser, site, WIDTHS[width])
    for question in (QUESTION, "接待工作纪律有哪些要求?", "怎样把问题解决在基层?"):
        p.ask(question)
    users = p.page.locator("#qz-chat [data-testid='user']")
    expect(users.last).to_be_in_viewport()
    expect(users.first).not_to_be_in_viewport()
    p.close()


def test_a_keyboard_user_opens_a_source_and_comes_back_to_the_input(site, browser):
    """Enter on a card opens 原文核对 with the focus on 返回问答 (it was lost to the page), and
    Enter there goes back to the chat with the focus in the question box."""
    from playwright.sync_api import expect

    p = Page(browser, site, WIDTHS["desktop"])
    pg = p.page
    p.ask(QUESTION)
    pg.locator("#qz-sources .qz-card").first.focus()
    pg.keyboard.press("Enter")
    expect(pg.locator("#qz-viewer #qz-focus")).to_be_visible()
    expect(pg.locator("#qz-back")).to_be_focused()
    pg.keyboard.press("Enter")
    expect(pg.get_by_role("tab", name="问答")).to_have_attribute("aria-selected", "true")
    expect(pg.locator("#qz-input textarea")).to_be_focused()
    p.close()


def test_repeated_section_shows_its_other_location(site, browser):
    from playwright.sync_api import expect

    p = Page(browser, site, WIDTHS["desktop"])
    pg = p.page
    p.ask("接待工作纪律有哪些要求?")
    card = pg.locator("#qz-sources .qz-card", has_text="重复出现 2 次").first
    card.click()
    locs = pg.locator("#qz-info .qz-locs button")
    expect(locs).to_have_count(2)
    expect(locs.nth(0)).to_have_class(re.compile("qz-on"))
    top = pg.locator("#qz-focus").evaluate("e => e.offsetTop")
    locs.nth(1).click()
    expect(pg.locator("#qz-info .qz-locs button").nth(1)).to_have_class(re.compile("qz-on"))
    assert pg.locator("#qz-focus").evaluate("e => e.offsetTop") > top
    expect(pg.locator("#qz-viewer mark.qz-other")).to_have_count(1)  # the first place, still marked
    p.close()


def test_markup_in_documents_and_questions_never_executes(site, browser):
    from playwright.sync_api import expect

    p = Page(browser, site, WIDTHS["desktop"])
    pg = p.page
    p.ask(f"{IMG} 村务公开栏应该公开哪些内容?{MARKUP}")
    user = pg.locator("#qz-chat [data-testid='user']").last
    expect(user).to_contain_text(IMG)  # the question's markup shown as characters
    card = pg.locator("#qz-sources .qz-card", has_text=HOSTILE_NAME).first
    expect(card).to_contain_text(IMG)
    expect(card.locator(".qz-src")).to_contain_text(HOSTILE_NAME)
    p.shot("xss_chat_desktop")
    card.click()
    expect(pg.locator("#qz-info .qz-meta")).to_contain_text(HOSTILE_NAME)
    body = pg.locator("#qz-viewer .qz-doc")
    expect(body).to_contain_text(f"村务公开工作指引{MARKUP}")
    expect(body).to_contain_text(IMG)
    pg.get_by_label(ORIGINAL).check()
    expect(pg.locator("#qz-viewer .qz-legend")).to_be_visible()
    expect(pg.locator("#qz-viewer .qz-doc")).to_contain_text(MARKUP)
    expect(pg.locator("#qz-viewer .qz-doc")).to_contain_text("{7*7}")  # template syntax stays text
    assert "49" not in pg.locator("#qz-viewer .qz-doc").inner_text()
    p.shot("xss_original_desktop")
    pg.get_by_role("tab", name="资料库").click()
    expect(pg.locator("#qz-library")).to_contain_text(HOSTILE_NAME)
    # every image on the page has loaded or failed, so an injected onerror would have fired
    pg.wait_for_function("() => [...document.images].every(img => img.complete)")
    for where in ("#qz-chat", "#qz-sources", "#qz-viewer", "#qz-info", "#qz-library"):
        assert pg.locator(f"{where} script, {where} img[src='x'], {where} [onerror]").count() == 0, where
    assert p.dialogs == [], f"markup executed: {p.dialogs}"
    assert p.errors == []
    p.close()


def test_addresses_in_the_chat_show_as_written(site, browser):
    """Markdown would link a web address and show the backslashes that keep its "-" and "_"
    literal ("2022\\-04/c\\_1.htm", a link to "…%5C-04…"): the chat shows it as written, as code."""
    from playwright.sync_api import expect

    url = "http://www.example.gov.cn/cwgk/2022-04/07/c_1310548963.htm"
    p = Page(browser, site, WIDTHS["desktop"])
    p.ask(f"村务公开栏的内容能在网上看吗?比如 {url}。邮箱 cun_wu-gk@example.gov.cn")
    user = p.page.locator("#qz-chat [data-testid='user']").last
    expect(user).to_contain_text(url)
    expect(user).to_contain_text("cun_wu-gk@example.gov.cn")
    assert "\\" not in user.inner_text() and user.locator("a").count() == 0
    assert p.errors == []
    p.close()
