"""The 资料库 page with a hundred documents in a real Chromium, at desktop and phone width:
paging, search by title, sort by date and by size, and each row still opens its own report."""
from __future__ import annotations

import pytest
from llm_servers import free_port
from test_browser import WIDTHS, Page, browser  # noqa: F401  (browser is a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REGIONS = ["东城区", "西城区", "朝阳区", "海淀区", "丰台区", "通州区", "顺义区", "昌平区", "大兴区", "房山区"]
TOPICS = ["信访接待", "矛盾调解", "网格管理", "社区服务", "村务公开", "应急处置", "法律援助", "困难救助", "物业纠纷", "劳资调处"]
SENTENCE = "工作人员应当热情接待来访群众,认真登记诉求,按照规定期限办理并答复。"


def shelf() -> dict[str, tuple[str, str, str]]:
    """file name -> (title, ISO date, text): a hundred small regulations of varied size and date."""
    out = {}
    for n in range(100):
        title = f"{REGIONS[n % 10]}{TOPICS[n // 10]}规定"
        year, month, day = 2000 + (n * 7) % 24, n % 12 + 1, n % 28 + 1
        note = f"({year}年{month}月{day}日{REGIONS[n % 10]}人民政府发布)"
        body = "\n".join(f"第{k}条 {TOPICS[n // 10]}{SENTENCE}" for k in "一二三"[:1 + n % 3])
        out[f"doc{n:03d}.txt"] = (title, f"{year:04d}-{month:02d}-{day:02d}", f"{title}\n{note}\n{body}\n")
    return out


@pytest.fixture(scope="module")
def library_site(tmp_path_factory, e5):
    from ingest.build import ingest
    from ui.app import serve

    root = tmp_path_factory.mktemp("library100")
    docs = root / "docs"
    docs.mkdir()
    for name, (_, _, text) in shelf().items():
        (docs / name).write_text(text, encoding="utf-8")
    ingest([docs], root / "index", embedder=e5, progress=False)
    app = serve(root / "index", port=free_port(), prevent_thread_lock=True)
    yield app.local_url
    app.close()


def visible(pg):
    return pg.locator("#qz-library tbody tr:visible")  # shown on screen, not merely unflagged


@pytest.mark.parametrize("width", list(WIDTHS))
def test_library_of_a_hundred_documents(library_site, browser, width):  # noqa: F811
    from playwright.sync_api import expect

    docs = shelf()
    p = Page(browser, library_site, WIDTHS[width])
    pg = p.page
    pg.get_by_role("tab", name="资料库").click()
    expect(pg.locator("#qz-library tbody tr")).to_have_count(100)
    expect(visible(pg)).to_have_count(20)
    expect(pg.locator("#qz-library .qz-libcount")).to_have_text("共 100 份")
    expect(pg.locator("#qz-library .qz-pageinfo")).to_have_text("第 1 / 5 页")
    first_page = visible(pg).first.inner_text()
    p.shot(f"library100_{width}")
    assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # no sideways scroll

    pg.locator("#qz-library .qz-pager button", has_text="下一页").click()
    expect(pg.locator("#qz-library .qz-pageinfo")).to_have_text("第 2 / 5 页")
    expect(visible(pg)).to_have_count(20)
    assert visible(pg).first.inner_text() != first_page

    pg.fill("#qz-library .qz-libq", "西城区")
    wanted = sorted(t for t, _, _ in docs.values() if "西城区" in t)
    expect(visible(pg)).to_have_count(len(wanted))
    expect(pg.locator("#qz-library .qz-libcount")).to_contain_text(f"找到 {len(wanted)} 份")
    expect(pg.locator("#qz-library .qz-pageinfo")).to_have_text("第 1 / 1 页")
    assert sorted(visible(pg).locator(".qz-lt b").all_inner_texts()) == wanted

    expect(pg.locator("#qz-library .qz-libnone")).to_be_hidden()
    pg.fill("#qz-library .qz-libq", "<b>没有这份</b>")
    expect(visible(pg)).to_have_count(0)
    expect(pg.locator("#qz-library .qz-libnone")).to_have_text("没有标题、文件名或发布机关含“<b>没有这份</b>”的文档。")
    pg.fill("#qz-library .qz-libq", "")
    expect(pg.locator("#qz-library .qz-libnone")).to_be_hidden()
    pg.select_option("#qz-library .qz-libsort", "date")
    dates = visible(pg).evaluate_all("rows => rows.map(r => r.dataset.date)")
    newest = sorted((d for _, d, _ in docs.values()), reverse=True)[:20]
    assert dates == newest

    pg.select_option("#qz-library .qz-libsort", "size")
    sizes = visible(pg).evaluate_all("rows => rows.map(r => Number(r.dataset.chars))")
    assert sizes == sorted(sizes, reverse=True) and sizes[0] == max(len(t) for _, _, t in docs.values())

    pg.fill("#qz-library .qz-libq", "海淀区法律援助")
    row = visible(pg)
    expect(row).to_have_count(1)
    row.locator("button", has_text="清洗报告").click()
    expect(pg.locator("#qz-report h4")).to_have_text("清洗报告:海淀区法律援助规定")
    assert p.dialogs == [] and p.errors == []
    p.close()


def test_the_library_follows_a_reindex_when_opened(tmp_path, e5, browser):  # noqa: F811
    """An admin removes a document and re-indexes while a trainee has the page open: opening the
    资料库 tab shows the library as it is now (it listed the removed document until 刷新)."""
    from playwright.sync_api import expect

    from ingest.build import ingest
    from ui.app import serve

    docs = tmp_path / "docs"
    docs.mkdir()
    items = list(shelf().items())[:2]
    for name, (_, _, text) in items:
        (docs / name).write_text(text, encoding="utf-8")
    ingest([docs], tmp_path / "index", embedder=e5, progress=False)
    app = serve(tmp_path / "index", port=free_port(), prevent_thread_lock=True)
    p = Page(browser, app.local_url, WIDTHS["desktop"])
    pg = p.page
    try:
        pg.get_by_role("tab", name="资料库").click()
        expect(pg.locator("#qz-library .qz-libcount")).to_have_text("共 2 份")
        pg.get_by_role("tab", name="问答").click()
        (docs / items[0][0]).unlink()
        ingest([docs], tmp_path / "index", embedder=e5, progress=False)
        pg.get_by_role("tab", name="资料库").click()
        expect(pg.locator("#qz-library .qz-libcount")).to_have_text("共 1 份")
        assert items[0][1][0] not in pg.locator("#qz-library").inner_text()
        assert p.errors == []
    finally:
        p.close()
        app.close()
