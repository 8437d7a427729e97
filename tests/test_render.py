"""The web UI's HTML: escaping, citation cards, highlighted spans, struck-through removals,
and the strict parsing of what the browser sends. Fast: no model, no server."""
from __future__ import annotations

import re

import pytest

from assistant.answer import Answer, Citation
from assistant.reports import rule_label
from index.schema import Hit, Location, Passage
from ui import render
from ui.render_doc import Mark, document_view, legend
from ui.viewer import parse_target

EVIL = '<script>alert(1)</script><img src=x onerror=alert(1)>"\'&'


def _passage(pid=7, text="接待群众要耐心倾听。", also=()) -> Passage:
    return Passage(id=pid, doc=f"{EVIL}.txt", title=f"标题{EVIL}", section=f"一、{EVIL}", text=text + EVIL,
                   source="/secret/path.txt", start=10, end=40, clean_start=5, clean_end=35, also=also)


def _answer(p: Passage, dense=0.9) -> Answer:
    hit = Hit(rank=1, score=1.0, passage=p, dense=dense)
    return Answer(query=f"怎么接待群众{EVIL}", text="根据资料库中的相关内容,要点如下:\n\n1. 接待群众 [1]", found=True,
                  citations=(Citation(1, hit),), points=((f"接待群众{EVIL}", 1),))


def _no_live_markup(html: str) -> None:
    assert "<script" not in html and "<img" not in html and "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_citation_card_escapes_everything_and_carries_only_integers():
    ans = _answer(_passage())
    html = render.citation_cards(ans)
    _no_live_markup(html)
    assert 'data-open="p:7"' in html and 'data-pid="7"' in html
    assert "/secret/path.txt" not in html  # the server's file path never reaches the page
    assert "<mark>接待</mark>" in html and "<mark>群众</mark>" in html  # the question's terms highlighted
    assert 'qz-label' in html and ans.citations[0].label in html  # the relevance label
    assert "[1]" in html and "一、" in html


def test_answer_markdown_is_literal_text_with_markers():
    md = render.answer_markdown(_answer(_passage()))
    assert "<script" not in md and "&lt;script&gt;" in md
    assert "**\\[1\\]**" in md  # the [n] marker, shown bold
    assert render.md_text("[x](javascript:alert(1)) **b** $$x$$") == \
        "\\[x\\]\\(javascript:alert\\(1\\)\\) \\*\\*b\\*\\* \\$\\$x\\$\\$"


@pytest.mark.parametrize("text, shown", [
    ("见http://www.gjxfj.gov.cn/2022-04/07/c_1310548963.htm。", "见`http://www.gjxfj.gov.cn/2022-04/07/c_1310548963.htm`。"),
    ("(http://example.com)。", "\\(`http://example.com`\\)。"),
    ("写信到 xfj_office@bj.gov.cn, 或 www.a-b.cn/x_y?a=1&b=2,谢谢",
     "写信到 `xfj_office@bj.gov.cn`, 或 `www.a-b.cn/x_y?a=1&b=2`,谢谢"),
    ("https://zh.wikipedia.org/wiki/X_(y)) 完", "`https://zh.wikipedia.org/wiki/X_(y)`\\) 完"),
    ("http://a.cn/<script>", "`http://a.cn/`&lt;script&gt;"),
])
def test_addresses_are_shown_as_written(text, shown):
    assert render.md_text(text) == shown


def test_not_found_answer_has_no_cards():
    ans = Answer(query="天气", text="未找到相关内容。", found=False)
    assert "未找到相关内容" in render.citation_cards(ans)
    assert "qz-card" not in render.citation_cards(ans)


def test_repeated_passage_card_says_how_often():
    p = _passage(also=(Location("b.txt", 1, 2, 3, 4),))
    assert "重复出现 2 次" in render.citation_cards(_answer(p))


def test_document_view_marks_focus_and_other_locations():
    text = "甲乙丙丁戊己庚辛壬癸" + EVIL
    html = document_view(text, [Mark(2, 4, "qz-focus", True), Mark(6, 8, "qz-loc-1")])
    _no_live_markup(html)
    assert '<mark class="qz-hl qz-focus" id="qz-focus">丙丁</mark>' in html
    assert '<mark class="qz-hl qz-other" id="qz-loc-1">庚辛</mark>' in html
    assert html.count('id="qz-focus"') == 1


def test_original_view_strikes_removals_with_their_rule():
    text = "正文一。第1页 共2页\n正文二很长的内容。  \n结尾" + EVIL
    removals = [{"start": 4, "end": 12, "rule": "page_counter"}, {"start": 21, "end": 23, "rule": "whitespace"}]
    html = document_view(text, [Mark(2, 16, "qz-focus", True)], removals, rule_label)
    _no_live_markup(html)
    assert ('<del class="qz-del" title="页码/页眉页脚">第1页 共2页</del><sup class="qz-rule">页码/页眉页脚</sup>'
            '<del class="qz-del">\n</del>') in html
    assert '<del class="qz-del qz-ws" title="多余空白">␣</del>' in html
    assert html.count('id="qz-focus"') == 1  # the focus spans a removal but is one scroll target
    assert re.search(r'<mark class="qz-hl qz-focus" id="qz-focus">一。</mark><mark class="qz-hl qz-focus">'
                     r'<del class="qz-del"', html)
    assert "多余空白 × 1" in legend(removals, rule_label)


def test_overlapping_removals_never_duplicate_text():
    text = "0123456789"
    html = document_view(text, [], [{"start": 2, "end": 6, "rule": "a"}, {"start": 4, "end": 8, "rule": "b"}], str)
    assert re.sub(r"<sup[^>]*>.*?</sup>|<[^>]+>", "", html) == text


def test_library_table_and_report_escape_titles():
    rows = [{"doc": f"{EVIL}.txt", "title": EVIL, "chars": 100, "kept": 80, "removed_chars": 20, "passages": 3}]
    html = render.library_table(rows)
    _no_live_markup(html)
    assert 'data-open="d:0"' in html and 'data-open="r:0"' in html and "20%" in html
    rep = {"title": EVIL, "chars": 10, "kept": 8, "removed_chars": 2, "passages": 1,
           "rules": {"page_counter": {"spans": 1, "chars": 2}},
           "removed": {"page_counter": [{"start": 0, "end": 2, "text": EVIL}]}}
    _no_live_markup(render.report_html(rep, rule_label))


def test_status_line_escapes():
    html = render.status_line({"documents": 2, "passages": 9, "index": EVIL, "version": EVIL,
                               "built_at": "2026-01-01T00:00:00", "embedder": "e5-small"})
    _no_live_markup(html)
    assert "2026-01-01 00:00:00" in html


@pytest.mark.parametrize("raw,expected", [
    ("p:12", ("p", 12, 0)), ("p:12#1790000000000", ("p", 12, 0)), ("a:3:1#5", ("a", 3, 1)),
    ("d:0", ("d", 0, 0)), ("r:4#", ("r", 4, 0)),
])
def test_parse_target_accepts_small_integers(raw, expected):
    t = parse_target(raw)
    assert (t.kind, t.num, t.sub) == expected


@pytest.mark.parametrize("raw", [
    None, "", "p:", "p:-1", "p:1.5", "x:1", "d:../../etc/passwd", "d:/etc/passwd", "p:1 ", " p:1",
    "p:1;d:2", "p:1\n", "d:0001234567890", "p:1:2:3", 12, ["p:1"],
])
def test_parse_target_rejects_everything_else(raw):
    assert parse_target(raw) is None


def test_build_time_reads_as_a_time():
    from ui.render import built_time

    assert built_time("2026-12-04T21:40:55+0000") == "2026-12-04 21:40 (UTC)"
    assert built_time("2026-12-04T21:40:55+0800") == "2026-12-04 21:40 (UTC+8)"
    assert built_time("2026-12-04T21:40:55+0530") == "2026-12-04 21:40 (UTC+5:30)"
    assert built_time("2026-12-04T21:40:55-0300") == "2026-12-04 21:40 (UTC-3)"
    assert built_time("2026-12-04T21:40:55-0330") == "2026-12-04 21:40 (UTC-3:30)"
    assert built_time(None) == "" and built_time("yesterday") == "yesterday"
