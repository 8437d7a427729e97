"""Tests of ingest.structure: headings, section paths and document titles."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.cleaning import clean
from ingest.structure import (
    Heading,
    detect_title,
    find_headings,
    is_banner_line,
    is_breadcrumb,
    is_heading_line,
    section_path,
)

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = Path(__file__).parent / "resources" / "cleaning"


def read(path: Path) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def path_at(text: str, needle: str) -> str:
    return section_path(find_headings(text), text.index(needle))


# ------------------------------------------------------------ heading lines

@pytest.mark.parametrize("line", [
    "一、加强信访工作", "(二)规范信访秩序", "(三)群众参与度不高", "体会之一:要强化群众观念,正确对待群众",
    "篇一", "第二篇", "第一章 总则", "第三节 工作要求", "## 工作措施", "1. 畅通渠道", "2、冲",
    "一是要压实责任", "其一,快速反应", "最新做好群众工作心得体会和方法模板篇一", "三、结语",
])
def test_heading_lines(line):
    assert is_heading_line(line)


@pytest.mark.parametrize("line", [
    "", "我们坚持领导干部接访下访制度。", "2022年群众工作心得体会", "2.0分",
    "一、对待群众工作要真心。包村干部直接面对基层,担负着重任。",
    "一是" + "要" * 80, "篇章结构要合理", "第一时间了解相关舆情信息",
])
def test_not_heading_lines(line):
    assert not is_heading_line(line)


# ------------------------------------------------------------ finding headings

def test_headings_on_their_own_lines_with_levels():
    text = "篇一\n一、总体要求\n正文。\n(一)压实责任\n1.领导包案\n正文。\n二、工作措施\n正文。"
    found = [(h.level, h.text) for h in find_headings(text)]
    assert found == [(1, "篇一"), (2, "一、总体要求"), (3, "(一)压实责任"), (4, "1.领导包案"), (2, "二、工作措施")]


def test_heading_spans_index_the_text():
    text = read(RESOURCES / "petition_article.txt")
    for h in find_headings(text):
        assert text[h.start:h.end] == h.text


def test_inline_headings_in_run_on_text():
    text = ("扎实做好新形势下群众工作也摆上了重要议事日程;一、做好新形势下的群众工作,必须把握新形势下群众工作的特点和规律当前,"
            "我国处于黄金发展时期;群众工作主要出现以下特点:(一)群众工作趋向多元化;一是工作对象多元化;随着经济发展,"
            "出现了新的社会阶层。 (二)矛盾纠纷趋向复杂化 当前很多矛盾以非对抗性为主。")
    found = [(h.level, h.text) for h in find_headings(text)]
    assert found == [(2, "一、做好新形势下的群众工作"), (3, "(一)群众工作趋向多元化"),
                     (4, "一是工作对象多元化"), (3, "(二)矛盾纠纷趋向复杂化")]


def test_no_inline_heading_from_decimals_or_scores():
    text = "a.经营制度 b.管理制度 自己得分:2.0 8.在社会建设方面,提出必须加快健全公共服务体系。"
    assert find_headings(text) == []


def test_part_suffix_of_a_title_line_is_the_heading():
    text = "最新做好群众工作心得体会和方法模板篇一\n\n体会之一:要强化群众观念,正确对待群众\n\n群众观念的问题,实质是感情问题。"
    heads = find_headings(text)
    assert [(h.level, h.text) for h in heads] == [(1, "篇一"), (2, "体会之一:要强化群众观念,正确对待群众")]
    assert path_at(text, "群众观念的问题") == "篇一 / 体会之一:要强化群众观念,正确对待群众"


def test_markdown_headings():
    text = "# 总则\n内容。\n## 工作机制\n内容。\n#### 细则\n内容。"
    found = [(h.level, h.text) for h in find_headings(text)]
    assert found == [(1, "总则"), (1.5, "工作机制"), (2.25, "细则")]  # all above a law's articles (2.5)


def test_long_heading_is_cut_to_its_first_clause():
    text = "一、执政为民是做好群众工作的坚实基础,执政为民是我们党的生命之基,历史告诉我们得民心者得天下失民心者失天下的道理。"
    (h,) = find_headings(text)
    assert h.text == "一、执政为民是做好群众工作的坚实基础"


# ------------------------------------------------------------ section paths

def test_section_path_chain():
    heads = [Heading(0, 2, 1, "篇一"), Heading(3, 8, 2, "一、总体"), Heading(9, 14, 3, "(一)责任"),
             Heading(20, 25, 2, "二、措施"), Heading(30, 32, 1, "篇二"), Heading(33, 38, 3, "(一)其他")]
    assert section_path(heads, 0) == "篇一"
    assert section_path(heads, 15) == "篇一 / 一、总体 / (一)责任"
    assert section_path(heads, 21) == "篇一 / 二、措施"
    assert section_path(heads, 40) == "篇二 / (一)其他"
    assert section_path([], 5) == ""
    assert section_path([Heading(10, 12, 2, "一、")], 3) == ""


def test_sections_by_bisection_give_the_same_paths_and_unit_positions():
    """`Sections` (bisection, for documents of thousands of headings) answers as the walks do, at
    every position of a document with divisions, articles, items and a scoped point."""
    from ingest.structure import Sections, unit_position

    text = ("第一章 总则\n第一条 为了规范工作，制定本办法。\n第二条 本办法适用于本市。\n"
            "第二章 接待\n一、接待要求\n接待人员要热情。首先要倾听。其次要记录。三是要答复。\n\n"
            "第三条 有下列情形之一的，不予受理：\n（一）已经受理的；\n（二）正在办理的。\n")
    heads = find_headings(text)
    sections = Sections(heads)
    assert len(heads) >= 6
    for pos in range(len(text) + 1):
        assert sections.path(pos) == section_path(heads, pos), pos
        for end in (pos + 1, pos + 40, len(text)):
            assert sections.unit_position(text, pos, end) == unit_position(heads, text, pos, end), (pos, end)


def test_an_enumerated_point_heads_its_own_paragraph_only():
    """"首先…其次…三是…" points inside a paragraph: the next paragraph is not under "三是…"."""
    text = ("二、联系群众态度要真诚\n深入基层,首先要在感情上贴近群众。其次要在言语上融入群众。"
            "三是要在听取意见上尊重群众。对群众反映的意见要虚心倾听。\n\n"
            "带领群众致富要真干。要发挥政策导向作用,为群众致富营造良好环境。\n")
    heads = find_headings(text)
    point = next(h for h in heads if h.text.startswith("三是"))
    assert section_path(heads, point.end + 2).endswith("三是要在听取意见上尊重群众")
    assert section_path(heads, text.index("带领")) == "二、联系群众态度要真诚"


# ------------------------------------------------------------ titles

def test_title_skips_site_name_and_metadata():
    original = "51范文网\n\n最新做好群众工作心得体会\n\n时间:2023-07-09 13:18:59 作者:某某\n\n正文。"
    assert detect_title(original, clean(original).text, "x.txt") == "最新做好群众工作心得体会"


def test_title_strips_extension_and_site_suffix():
    for first in ("信访工作总结.docx", "信访工作总结 .pdf", "信访工作总结 - 某某范文网", "信访工作总结_某某文库"):
        original = f"{first}\n\n我们坚持领导干部接访下访制度,面对面听取来访群众的意见。"
        assert detect_title(original, clean(original).text, "x.txt") == "信访工作总结", first


def test_title_of_a_text_file_written_in_markdown():
    """A .txt whose first line is "# 条例名" (a law saved from a Markdown source): that line is
    the title, not the promulgation line under it."""
    original = ("# 海洋观测预报管理条例\n\n2012年3月1日中华人民共和国国务院令第615号公布\n\n"
                "## 第一章 总则\n\n第一条 为了加强海洋观测预报管理，制定本条例。\n")
    assert detect_title(original, clean(original).text, "a_hash.txt") == "海洋观测预报管理条例"


def test_title_of_a_page_from_another_site():
    original = read(RESOURCES / "other_site_page.txt")
    assert detect_title(original, clean(original).text, "page.txt") == "基层信访工作经验交流材料"


def test_title_joins_a_broken_first_line():
    original = "当前群众工作面临的挑战及\n对策建议\n群众工作是党建工作中的基础性内容,是巩固和扩大党在基层群众中影响力的科学策略。"
    assert detect_title(original, clean(original).text, "x.txt") == "当前群众工作面临的挑战及对策建议"


def test_an_official_documents_head_is_not_its_title():
    """GB/T 9704's head (issuer mark, document number, signer, secrecy and urgency marks) comes
    above the title, in any format; the title is the line after it."""
    original = ("某市人民政府文件\n\n某政发〔2023〕5号\n\n关于进一步做好信访工作的通知\n\n"
                "各区县人民政府,市政府各部门:\n\n为切实做好新形势下的信访工作,现就有关事项通知如下。")
    assert detect_title(original, clean(original).text, "x.txt") == "关于进一步做好信访工作的通知"
    original = "000123\n机密★1年\n特急\n中共某县委办公室 某县人民政府办公室文件\n某办发[2024]7号  签发人:张三\n某县矛盾纠纷多元化解办法\n第一条 为了…"
    assert detect_title(original, original, "x.pdf") == "某县矛盾纠纷多元化解办法"
    assert is_banner_line("YY县人民政府办公室文件")  # a template's placeholder name
    for line in ("关于印发某市信访工作规定的通知", "信访工作条例", "学习文件汇编"):
        assert not is_banner_line(line), line


def test_title_falls_back_to_the_file_stem():
    original = "第1页 / 共3页\n\n。。。\n"
    assert detect_title(original, clean(original).text, "/data/信访条例解读.docx") == "信访条例解读"


@pytest.mark.parametrize("first", [
    "关于<script>alert(1)</script>的说明", "关于<b>重要</b>事项的通知", "收入>支出的原因分析", "x<y与y>z的比较",
])
def test_title_may_contain_angle_brackets(first):
    original = f"{first}\n\n我们坚持领导干部接访下访制度,面对面听取来访群众的意见。"
    assert detect_title(original, clean(original).text, "x.txt") == first
    assert detect_title(original, original, "x.txt") == first


@pytest.mark.parametrize("crumbs", [
    "首页 > 信访业务 > 工作规范", "首页>工作总结", "您的位置:首页 > 工作总结", "范文 > 心得体会 > 群众工作",
    "Home › News › Local Government", "网站首页 » 通知公告",
])
def test_breadcrumb_is_not_a_title(crumbs):
    original = f"{crumbs}\n信访工作总结\n我们坚持领导干部接访下访制度,面对面听取来访群众的意见。"
    assert is_breadcrumb(crumbs)
    assert detect_title(original, original, "x.txt") == "信访工作总结"  # the title test itself skips it
    assert detect_title(original, clean(original).text, "x.txt") == "信访工作总结"


@pytest.mark.parametrize("line", ["关于<script>alert(1)</script>的说明", "收入>支出", "《意见》>>解读", "A>B>C", "1 > 0"])
def test_not_breadcrumbs(line):
    assert not is_breadcrumb(line)


def test_title_keeps_braces_but_not_a_trailing_template_tag():
    for first, title in (("关于{变量}替换规则的说明", "关于{变量}替换规则的说明"), ("关于{7*7}的说明", "关于{7*7}的说明"),
                         ("信访工作总结{信访工作总结}.", "信访工作总结")):
        original = f"{first}\n\n我们坚持领导干部接访下访制度,面对面听取来访群众的意见。"
        assert detect_title(original, original, "x.txt") == title, first
        assert detect_title(original, clean(original).text, "x.txt") == title, first


def test_title_of_a_page_with_markup_and_braces():
    original = read(RESOURCES / "braces_and_markup.txt")
    assert detect_title(original, clean(original).text, "x.txt") == (
        "关于<script>alert(1)</script>等网页代码混入信访材料的处理说明")


def test_title_keeps_year_prefix():
    original = "2023年信访工作要点\n\n我们坚持领导干部接访下访制度。"
    assert detect_title(original, original, "a.txt") == "2023年信访工作要点"


# ------------------------------------------------------------ the corpus

TITLES = {
    "000_f86c8a067ffc5ca9.txt": "2022年群众工作心得体会",
    "001_f97e909e026fd5b1.txt": "最新做好群众工作心得体会和方法模板",
    "002_7835b66b1029dbc8.txt": "乡镇做好群众工作",
    "003_1ff89043ef5ea4ee.txt": "2023年构建社会主义和谐社会必须加强和改进群众工作",
    "004_75a9b6b516d2ea34.txt": "当前开展群众工作面临的挑战及对策建议思考",
}

PATHS = [
    ("001_f97e909e026fd5b1.txt", "愿不愿意解决群众问题是态度问题", "篇一 / 体会之四:要切实解决问题,尽力帮助群众"),
    ("001_f97e909e026fd5b1.txt", "农村基层组织建设是党的全部工作", "篇二"),
    ("001_f97e909e026fd5b1.txt", "启东市市委书记孙建华", "篇七 / 一、新的要求------领导决策的艺术性"),
    ("000_f86c8a067ffc5ca9.txt", "失地农夫", "一、做好新形势下的群众工作 / (一)群众工作趋向多元化 / 一是工作对象多元化"),
    ("003_1ff89043ef5ea4ee.txt", "案结事不了", "一、和谐社会背景下加强和改进群众工作的必要性 / (三)加强和改进群众工作是保持社会稳定的根本方法"),
    ("004_75a9b6b516d2ea34.txt", "群众对群众工作的认可度不高", "一、当前群众工作开展过程中面临的挑战 / (三)群众参与度不高"),
]


@pytest.fixture(scope="module")
def corpus() -> dict[str, tuple[str, str]]:
    files = sorted((ROOT / "corpus").glob("*.txt"))
    if not files:
        pytest.skip("no corpus")
    out = {}
    for p in files:
        original = read(p)
        out[p.name] = (original, clean(original).text)
    return out


def test_corpus_titles(corpus):
    for name, (original, cleaned) in corpus.items():
        if name in TITLES:
            assert detect_title(original, cleaned, name) == TITLES[name]


@pytest.mark.parametrize("name,needle,expected", PATHS)
def test_corpus_section_paths(corpus, name, needle, expected):
    if name not in corpus:
        pytest.skip(name)
    assert path_at(corpus[name][1], needle) == expected


def test_corpus_headings_are_short_and_exact(corpus):
    for _, cleaned in corpus.values():
        for h in find_headings(cleaned):
            assert cleaned[h.start:h.end] == h.text
            assert 1 <= len(h.text) <= 60


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["一、", "(二)", "篇三", "体会之一:", "1.", "一是", "# ", "。", ";", " ", "\n",
                                 "群众工作", "要强化群众观念", "2.0", "第二篇", "abc"]), max_size=40))
def test_structure_on_any_text(parts):
    text = "".join(parts)
    heads = find_headings(text)
    assert [h.start for h in heads] == sorted(h.start for h in heads)
    for h in heads:
        assert text[h.start:h.end] == h.text and 1 <= h.level <= 4
    for pos in (0, len(text) // 2, len(text)):
        assert isinstance(section_path(heads, pos), str)
    assert detect_title(text, clean(text).text, "some/file.txt")
