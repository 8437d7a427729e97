"""Official documents as admins add them (issue 14): a regulation with chapters and articles as
.docx, .pdf with running headers and page counters, a portal .html page and a GBK .txt, all made
here; and the four real documents of the regs shelf against their plain reference text."""
from __future__ import annotations

import json
import re
from pathlib import Path

import docx
import pytest

from conftest import run_main
from index.settings import Settings
from index.units import match_units
from ingest.loaders import load_file
from ingest.pipeline import process
from ingest.splitting import normalise
from test_loaders import cjk_pdf_pages

TITLE = "某某市矛盾纠纷多元化解条例"
NOTE = "（2021年6月25日某某市第十六届人民代表大会常务委员会第三十二次会议通过）"
LONG = ("调解应当自受理之日起三十日内完成；因特殊情况需要延长的，经双方当事人同意，可以延长十五日，"
        "调解员应当将延长的理由和期限书面告知双方当事人，并记入调解档案，以备上级主管部门检查。")
# (division heading or None, article number, article lines)
LAW = [
    ("第一章　总则", "第一条", ["为了预防和化解矛盾纠纷，维护社会和谐稳定，根据有关法律、法规，结合本市实际，制定本条例。"]),
    (None, "第二条", ["本条例适用于本市行政区域内矛盾纠纷的预防和化解工作。"]),
    ("第二章　化解途径\n第一节　人民调解", "第三条", [
        "调解员在调解工作中不得有下列行为：", "（一）偏袒一方当事人的；", "（二）侮辱当事人的；",
        "（三）索取、收受财物或者牟取其他不正当利益，或者接受当事人请客送礼的；", "（四）泄露当事人的个人隐私、商业秘密的。"]),
    (None, "第四条", [LONG, "当事人拒绝调解的，调解员不得强迫调解，应当告知当事人可以依法通过仲裁、行政、司法等途径维护自己的权利。"
                      "调解不成的，调解员应当终止调解，并依据有关法律、法规的规定，告知当事人可以依法通过其他途径维护自己的权利。",
                      "调解达成协议的，调解员应当制作调解协议书，载明当事人的基本情况、纠纷的主要事实和争议事项以及达成"
                      "协议的内容、履行方式和期限，由双方当事人签名或者盖章，调解员签名并加盖调解委员会印章。",
                      "经调解达成的调解协议，具有法律约束力，当事人应当按照约定履行；当事人之间就调解协议的履行或者调解"
                      "协议的内容发生争议的，一方当事人可以向人民法院提起诉讼。",
                      "调解协议书自双方当事人签名、盖章或者按指印，调解员签名并加盖调解委员会印章之日起生效，"
                      "由当事人各执一份，调解委员会留存一份。",
                      "经调解达成调解协议后，双方当事人认为有必要的，可以自调解协议生效之日起三十日内共同向人民法院"
                      "申请司法确认，人民法院应当及时对调解协议进行审查，依法确认调解协议的效力。",
                      "调解员应当对调解过程作出记录，记录应当由双方当事人签名或者盖章，调解委员会应当妥善保存调解档案和相关材料，保存期限不少于三年。"]),
    ("第三章　附则", "第五条", ["本条例自2021年10月1日起施行。"]),
]
CHROME = ("无障碍", "长者模式", "首页", "主办单位", "网站标识码", "ICP备", "打印本页", "关闭窗口", "通知公告", "页 共")


def law_lines(space: str = "　", divisions: bool = True) -> list[str]:
    out = [TITLE, NOTE]
    for division, number, lines in LAW:
        if division and divisions:
            out += division.split("\n")
        out.append(number + space + lines[0])
        out += lines[1:]
    return out


def make_law_docx(path: Path) -> Path:
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "某某市人大常委会公报"
    document.sections[0].footer.paragraphs[0].text = "内部资料 注意保存"
    document.add_paragraph(TITLE, style="Title")
    document.add_paragraph(NOTE)
    for division, number, lines in LAW:
        for heading in (division or "").split("\n"):
            if heading:
                document.add_heading(heading, level=2)
        p = document.add_paragraph()
        p.add_run(number).bold = True
        p.add_run("　" + lines[0])
        for line in lines[1:]:
            document.add_paragraph(line)
    document.save(path)
    return path


def wrapped(line: str, width: int = 24) -> list[str]:
    return [line[i:i + width] for i in range(0, len(line), width)]


def make_law_pdf(path: Path) -> Path:
    """Lines wrapped mid-sentence at a fixed width, a running header and a page counter on every page."""
    lines = [row for line in law_lines() for row in (wrapped(line) if len(line) > 24 else [line])]
    per_page = 14
    chunks = [lines[i:i + per_page] for i in range(0, len(lines), per_page)]
    pages = [[TITLE, *chunk, f"第 {n} 页 共 {len(chunks)} 页"] for n, chunk in enumerate(chunks, 1)]
    path.write_bytes(cjk_pdf_pages(pages))
    return path


def make_law_html(path: Path) -> Path:
    body = "\n".join(f"<p>{line}</p>" for line in law_lines()[1:])
    page = f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<title>{TITLE}_地方性法规_政策法规_某某市人民政府门户网站</title></head><body>
<div class="top-bar"><span>2024年5月20日 星期一</span> <a href="#">无障碍浏览</a> | <a href="#">长者模式</a></div>
<div class="header"><div class="logo">某某市人民政府门户网站</div></div>
<div class="menu"><ul><li><a href="#">首页</a></li><li><a href="#">政务公开</a></li></ul></div>
<div class="location">当前位置：<a href="#">首页</a> &gt; <a href="#">政策法规</a></div>
<div class="article"><h1>{TITLE}</h1>
<div class="info">发布日期：2021-06-30　　来源：某某市人民代表大会常务委员会　　浏览次数：321</div>
<div class="TRS_Editor">{body}</div></div>
<div class="sidebar"><h3>通知公告</h3><ul><li><a href="#">关于调整来访接待时间的通知</a></li></ul></div>
<div class="footer"><p><a href="javascript:window.print()">【打印本页】</a> <a href="#">【关闭窗口】</a></p>
<p>主办单位：某某市人民政府办公室</p><p>网站标识码：1100000000　京ICP备00000000号</p></div>
</body></html>"""
    path.write_bytes(page.encode("utf-8"))
    return path


def make_law_txt(path: Path) -> Path:
    """GBK with CRLF line ends, articles indented by ideographic spaces, no chapters."""
    lines = ["　　　　" + TITLE, "", NOTE, ""] + ["　　" + line for line in law_lines(divisions=False)[2:]]
    path.write_bytes("\r\n".join(lines).encode("gbk"))
    return path


MAKERS = {"law.docx": make_law_docx, "law.pdf": make_law_pdf, "law.html": make_law_html, "law.txt": make_law_txt}


@pytest.fixture(scope="module")
def processed(tmp_path_factory, e5):
    folder = tmp_path_factory.mktemp("legal")
    out = {}
    for name, make in MAKERS.items():
        loaded = load_file(make(folder / name))
        out[name] = (loaded, process(loaded, name, Settings(), e5))
    return out


def is_subsequence(small: str, big: str) -> bool:
    it = iter(big)
    return all(ch in it for ch in small)


ARTICLE_START = re.compile(r"(?m)^[ \t\u3000]*第[一二三四五六七八九十百]+条")


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_articles_are_units_with_their_path(processed, name):
    _, doc = processed[name]
    for p in doc.passages:
        assert len(ARTICLE_START.findall(p.text)) <= 1, p.text  # never two articles in one passage
    by_text = {p.text: p.section for p in doc.passages}
    long_parts = [s for t, s in by_text.items() if "三十日内完成" in t or "保存期限不少于三年" in t]
    assert long_parts and all(s.endswith("第四条") for s in long_parts)
    assert len([t for t in by_text if any(x in t for x in ("三十日内完成", "终止调解", "三年"))]) >= 2  # split at 款
    if name != "law.txt":
        assert "第二章 化解途径 / 第一节 人民调解 / 第四条" in by_text.values()
        assert any(s == "第三章 附则 / 第五条" for s in by_text.values())
    else:
        assert "第四条" in by_text.values()


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_an_article_is_embedded_under_the_laws_name_in_every_format(processed, name):
    """A Markdown law's "# 标题" heads its section path, so its articles were embedded under
    the law's name; the same law as .docx, .pdf, .html or .txt states its name as its title and
    was embedded without it. Now every format leads an article's units with the title, once."""
    _, doc = processed[name]
    third = next(p for p in doc.passages if "偏袒一方当事人" in p.text)
    divisions = "" if name == "law.txt" else " 第二章 化解途径 第一节 人民调解"  # the .txt has no chapters
    assert all(u.startswith(f"{TITLE}{divisions} 第三条\n") for u in match_units(third)), match_units(third)[:1]


def test_only_articles_take_the_title(e5):
    """A scraped page's title ("…心得体会") is a genre label, not the subject of each section:
    its sections' units are led by their own headings only."""
    page = sorted((Path(__file__).resolve().parents[1] / "corpus").glob("*.txt"))[0]
    doc = process(load_file(page), page.name, Settings(), e5)
    sectioned = [p for p in doc.passages if p.section]
    assert sectioned and doc.record.title
    assert not any(u.startswith(doc.record.title) for p in sectioned for u in match_units(p))


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_law_text_survives_and_chrome_goes(processed, name):
    loaded, doc = processed[name]
    kept = normalise(doc.record.cleaned)
    for line in law_lines(divisions=name != "law.txt"):
        assert normalise(line) in kept, line  # the short enumerated items too
    text = "\n".join(p.text for p in doc.passages)
    for junk in CHROME:
        assert junk not in text, junk
    assert sum(TITLE in p.text for p in doc.passages) <= 1  # a running header is not repeated


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_offsets_trace_to_the_original(processed, name):
    loaded, doc = processed[name]
    assert doc.record.original == loaded.text
    for p in doc.passages:
        assert doc.record.cleaned[p.clean_start:p.clean_end] == p.text
        assert is_subsequence(p.text, loaded.text[p.start:p.end])
    for r in doc.record.removals:
        assert 0 <= r["start"] < r["end"] <= len(loaded.text)


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_title_dates_and_issuer(processed, name):
    _, doc = processed[name]
    rec = doc.record
    assert rec.title == TITLE
    assert {"kind": "通过", "date": "2021-06-25"} in rec.dates
    assert {"kind": "施行", "date": "2021-10-01"} in rec.dates
    assert rec.date == "2021-10-01" and all(p.date == rec.date for p in doc.passages)
    assert rec.issuer in ("某某市人民代表大会常务委员会",)


def test_portal_chrome_is_in_the_removal_view(processed):
    loaded, doc = processed["law.html"]
    chrome = "".join(loaded.text[r["start"]:r["end"]] for r in doc.record.removals if r["rule"] == "page_chrome")
    for junk in ("无障碍浏览", "长者模式", "当前位置", "通知公告", "主办单位", "京ICP备", "打印本页"):
        assert junk in chrome and junk not in doc.record.cleaned, junk
    # the page's "发布日期" says when the portal posted it, not a date of the law, which states its own
    assert {"kind": "发布", "date": "2021-06-30"} not in doc.record.dates


def test_a_portal_pages_info_line_is_not_the_laws_issuer_or_date(tmp_path, e5):
    """A law posted on a portal in 2023 by 司法厅 is the State Council's regulation of 2016: the
    info line (removed as page chrome) named who posted it and when, and its date was the
    citation's. A page that states nothing of itself keeps what its info line says."""
    law = ("<html><head><meta charset='utf-8'><title>某某条例_法规库</title></head><body><div class='article'>"
           "<h1>某某条例</h1><div class='info'>发布时间：2023-05-06　来源：司法厅</div>"
           "<p>（2016年2月6日中华人民共和国国务院令第666号公布）</p>"
           "<p>第一条 为了规范信访秩序，保护信访人的合法权益，制定本条例。</p>"
           "<p>第二条 本条例自2016年3月1日起施行。</p></div></body></html>")
    news = ("<html><head><meta charset='utf-8'><title>县信访局开展接访活动</title></head><body><div class='article'>"
            "<h1>县信访局开展接访活动</h1><div class='info'>发布时间：2023-05-06　来源：县融媒体中心</div>"
            f"<p>{STEPS}</p><p>{GOALS}</p></div></body></html>")
    (tmp_path / "law.html").write_text(law, encoding="utf-8")
    (tmp_path / "news.html").write_text(news, encoding="utf-8")
    rec = process(load_file(tmp_path / "law.html"), "law.html", Settings(), e5).record
    assert (rec.issuer, rec.date) == ("中华人民共和国国务院", "2016-03-01"), (rec.issuer, rec.dates)
    assert {"kind": "公布", "date": "2016-02-06"} in rec.dates
    page = process(load_file(tmp_path / "news.html"), "news.html", Settings(), e5).record
    assert (page.issuer, page.date) == ("县融媒体中心", "2023-05-06")


def test_pdf_running_header_and_counters_go(processed):
    loaded, doc = processed["law.pdf"]
    assert loaded.text.count(TITLE) >= 3 and "第 2 页 共" in loaded.text
    assert doc.record.cleaned.count(TITLE) == 1 and "页 共" not in doc.record.cleaned
    assert LONG in doc.record.cleaned  # wrapped lines joined back, also across the page break
    cleaned_lines = doc.record.cleaned.split("\n")
    for line in law_lines():
        assert line in cleaned_lines, line  # every line whole again, enumerated items too


def test_an_official_documents_page_numbers_and_running_header_go(tmp_path, e5):
    """Official documents number their pages "- 3 -" on a line of their own (GB/T 9704), with
    the issuer's name printed on every page. Both go, and the wrapped lines around each page
    break join again instead of taking the header into the sentence."""
    issuer = "某某市人大常委会公报"
    lines = [row for line in law_lines() for row in (wrapped(line) if len(line) > 24 else [line])]
    chunks = [lines[i:i + 14] for i in range(0, len(lines), 14)]
    pages = [[*chunk, issuer, f"- {n} -"] for n, chunk in enumerate(chunks, 1)]
    (tmp_path / "law.pdf").write_bytes(cjk_pdf_pages(pages))
    loaded = load_file(tmp_path / "law.pdf")
    assert loaded.text.count(issuer) == len(chunks) >= 3 and "- 2 -" in loaded.text
    doc = process(loaded, "law.pdf", Settings(), e5)
    assert issuer not in doc.record.cleaned and "- 2 -" not in doc.record.cleaned
    assert LONG in doc.record.cleaned
    cleaned_lines = doc.record.cleaned.split("\n")
    assert all(line in cleaned_lines for line in law_lines())


def test_index_search_and_report_show_article_and_date(tmp_path, processed, e5):
    from assistant.service import Assistant
    from ingest.build import ingest

    folder = tmp_path / "docs"
    folder.mkdir()
    for name, make in MAKERS.items():
        make(folder / name)
    idx = tmp_path / "idx"
    ingest([folder], idx, embedder=e5, progress=False)
    hits = [h.public() for h in Assistant(idx).retrieve("调解员不得有哪些行为", k=5)]
    assert hits and hits[0]["section"].endswith("第三条") and hits[0]["date"] == "2021-10-01"
    result = run_main(tmp_path, "report", "--index", str(idx), "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {r["title"] for r in rows} == {TITLE}
    assert all(r["date"] == "2021-10-01" and r["issuer"] for r in rows)


# ------------------------------------------------------------ the regs shelf (ground truth plain/)

REGS = Path(__file__).resolve().parents[2] / "shared" / "eval" / "regs"
REGS_DOCS = {"mediation": "docx", "review2023": "pdf", "beijing": "html", "residents": "txt"}


@pytest.fixture(scope="module")
def regs(e5):
    if not (REGS / "plain").is_dir():
        pytest.skip("regs shelf not available")
    return {key: process(load_file(REGS / "docs" / f"{key}.{ext}"), key, Settings(), e5)
            for key, ext in REGS_DOCS.items()}


@pytest.mark.parametrize("key", sorted(REGS_DOCS))
def test_every_reference_line_survives_cleaning(regs, key):
    kept = normalise(regs[key].record.cleaned)
    plain = (REGS / "plain" / f"{key}.md").read_text(encoding="utf-8")
    lost = [line for line in plain.splitlines() if normalise(line) and normalise(line) not in kept]
    assert not lost


@pytest.mark.parametrize("key", sorted(REGS_DOCS))
def test_regs_passages_lie_within_one_article_and_name_it(regs, key):
    doc = regs[key]
    first_article = doc.record.cleaned.find("第一条")
    for p in doc.passages:
        assert len(ARTICLE_START.findall(p.text)) <= 1
        if p.clean_start > first_article:
            assert re.search("第[一二三四五六七八九十百]+条$", p.section), p.section
        for junk in CHROME:
            assert junk not in p.text


def test_regs_titles_are_the_documents_own(regs):
    titles = {key: doc.record.title for key, doc in regs.items()}
    for key, title in titles.items():
        plain = (REGS / "plain" / f"{key}.md").read_text(encoding="utf-8")
        assert plain.splitlines()[0].lstrip("# ").strip() == title


# ------------------------------------------------------------ the file's own heading styles

GOALS = "到年底,全县信访事项按期办结率达到百分之九十五以上,群众满意率明显提高,重复信访逐年下降。"
PREAMBLE = "为深入贯彻落实信访工作条例,进一步做好新时代基层信访工作,切实维护群众合法权益,结合本县实际,提出如下意见。"
STEPS = "各乡镇每月开展一次矛盾纠纷排查,对排查出的问题逐件落实责任人和办结时限,做到早发现早化解。"


def test_docx_heading_styles_are_sections(tmp_path, e5):
    document = docx.Document()
    document.add_paragraph("关于加强基层信访工作的意见", style="Title")
    document.add_paragraph(PREAMBLE)
    document.add_heading("工作目标", level=2)
    document.add_paragraph(GOALS)
    document.add_heading("主要措施", level=2)
    document.add_paragraph(STEPS)
    document.save(tmp_path / "opinion.docx")
    doc = process(load_file(tmp_path / "opinion.docx"), "opinion.docx", Settings(), e5)
    sections = {p.section for p in doc.passages if GOALS[:10] in p.text or STEPS[:10] in p.text}
    assert sections == {"工作目标", "主要措施"}
    assert doc.record.title == "关于加强基层信访工作的意见"


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _numbering(document, abstract_id: int, levels: list[tuple[str, str, str]], num_ids: dict[int, int | None]):
    """Add one list definition to `document` (levels: (numFmt, lvlText, suff)) and list instances
    of it: {numId: a start override of level 0, or None}."""
    from lxml import etree

    w = f'xmlns:w="{W_NS}"'
    lvls = "".join(f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/>'
                   f'<w:lvlText w:val="{text}"/><w:suff w:val="{suff}"/></w:lvl>' for i, (fmt, text, suff) in enumerate(levels))
    root = document.part.numbering_part.element
    first_num = next(root.iterchildren(f"{{{W_NS}}}num"), None)
    abstract = etree.fromstring(f'<w:abstractNum {w} w:abstractNumId="{abstract_id}">{lvls}</w:abstractNum>')
    (first_num.addprevious(abstract) if first_num is not None else root.append(abstract))
    for num_id, start in num_ids.items():
        override = f'<w:lvlOverride w:ilvl="0"><w:startOverride w:val="{start}"/></w:lvlOverride>' if start else ""
        root.append(etree.fromstring(f'<w:num {w} w:numId="{num_id}"><w:abstractNumId w:val="{abstract_id}"/>'
                                     f'{override}</w:num>'))


def _numbered(document, text: str, num_id: int, level: int = 0, style: str | None = None):
    from lxml import etree

    p = document.add_paragraph(text, style=style)
    num_pr = etree.SubElement(p._p.get_or_add_pPr(), f"{{{W_NS}}}numPr")
    etree.SubElement(num_pr, f"{{{W_NS}}}ilvl").set(f"{{{W_NS}}}val", str(level))
    etree.SubElement(num_pr, f"{{{W_NS}}}numId").set(f"{{{W_NS}}}val", str(num_id))
    return p


def make_numbered_law(path: Path) -> Path:
    """A law whose chapter and article numbers are Word list numbering, not typed text: the
    paragraphs say "为了……" and numbering.xml says "第一条"; items (一)(二) are the second level."""
    document = docx.Document()
    _numbering(document, 90, [("chineseCounting", "第%1章", "space")], {90: None})
    _numbering(document, 91, [("chineseCounting", "第%1条", "tab"), ("chineseCounting", "（%2）", "nothing")],
               {91: None, 92: None})
    document.add_paragraph("某市矛盾纠纷化解条例", style="Title")
    _numbered(document, "总则", 90, style="Heading 1")
    _numbered(document, "为了及时化解矛盾纠纷，维护社会和谐稳定，根据有关法律，结合本市实际，制定本条例。", 91)
    _numbered(document, "矛盾纠纷化解工作遵循下列原则：", 91)
    _numbered(document, "属地管理、分级负责；", 91, 1)
    _numbered(document, "依法及时、就地化解。", 91, 1)
    _numbered(document, "调解程序", 90, style="Heading 1")
    # Another list instance of the same list, as copying articles between files makes: Word
    # continues the count (第三条), it does not start again.
    _numbered(document, "调解员应当在受理之日起三十日内完成调解，当事人同意延长的除外。", 92)
    document.add_paragraph("• 本条例所称矛盾纠纷，不含刑事案件。", style="List Bullet")
    document.save(path)
    return path


def test_word_list_numbering_gives_articles_their_numbers(tmp_path, e5):
    loaded = load_file(make_numbered_law(tmp_path / "numbered.docx"))
    lines = loaded.text.splitlines()
    assert "第一章 总则" in lines and "第二章 调解程序" in lines
    assert "第一条 为了及时化解矛盾纠纷，维护社会和谐稳定，根据有关法律，结合本市实际，制定本条例。" in lines
    assert "（一）属地管理、分级负责；" in lines and "（二）依法及时、就地化解。" in lines
    assert any(line.startswith("第三条 调解员应当在受理之日起三十日内") for line in lines)
    assert not any("第四条" in line for line in lines)  # the bullet paragraph is not counted as an article
    doc = process(loaded, "numbered.docx", Settings(), e5)
    by_text = {p.text: p.section for p in doc.passages}
    assert [s for t, s in by_text.items() if "三十日内完成调解" in t] == ["第二章 调解程序 / 第三条"]
    assert [s for t, s in by_text.items() if "属地管理" in t] == ["第一章 总则 / 第二条"]


def test_word_list_numbering_restarts_where_the_file_says(tmp_path):
    document = docx.Document()
    _numbering(document, 93, [("decimal", "%1.", "space"), ("lowerLetter", "%1.%2)", "space")], {93: None, 94: 5})
    _numbered(document, "第一项", 93)
    _numbered(document, "子项甲", 93, 1)
    _numbered(document, "子项乙", 93, 1)
    _numbered(document, "第二项", 93)
    _numbered(document, "再一个子项", 93, 1)   # the deeper level starts again under a new item
    _numbered(document, "从五开始", 94)         # a list instance with a start override
    _numbered(document, "不编号", 0)            # numId 0: numbering switched off
    # Numbering that a paragraph style carries (a "章" heading style, through the style it is based on)
    _numbering(document, 95, [("chineseCountingThousand", "第%1章", "space")], {95: None})
    from docx.enum.style import WD_STYLE_TYPE
    from lxml import etree

    chapter = document.styles.add_style("Chapter", WD_STYLE_TYPE.PARAGRAPH)
    num_pr = etree.SubElement(chapter.element.get_or_add_pPr(), f"{{{W_NS}}}numPr")
    etree.SubElement(num_pr, f"{{{W_NS}}}numId").set(f"{{{W_NS}}}val", "95")
    document.styles.add_style("Chapter Red", WD_STYLE_TYPE.PARAGRAPH).base_style = chapter
    document.add_paragraph("总则", style="Chapter")
    document.add_paragraph("附则", style="Chapter Red")
    document.save(tmp_path / "restarts.docx")
    lines = load_file(tmp_path / "restarts.docx").text.splitlines()
    # a number that closes itself runs on into Chinese text, as typed ("1.第一项"); 第一章 keeps its space
    assert lines == ["1.第一项", "1.a)子项甲", "1.b)子项乙", "2.第二项", "2.a)再一个子项", "5.从五开始", "不编号",
                     "第一章 总则", "第二章 附则"]


def test_html_headings_are_sections(tmp_path, e5):
    page = (f"<html><head><meta charset='utf-8'><title>意见_政策文件_某某县人民政府</title></head><body>"
            f"<div class='nav'>首页 | 政务公开</div><div class='content'><h1>关于加强基层信访工作的意见</h1>"
            f"<p>{PREAMBLE}</p><h2>工作目标</h2><p>{GOALS}</p><h2>主要措施</h2><p>{STEPS}</p></div></body></html>")
    (tmp_path / "opinion.html").write_text(page, encoding="utf-8")
    doc = process(load_file(tmp_path / "opinion.html"), "opinion.html", Settings(), e5)
    by = {p.section for p in doc.passages if GOALS[:10] in p.text or STEPS[:10] in p.text}
    assert by == {"工作目标", "主要措施"}
    assert doc.record.title == "关于加强基层信访工作的意见"


def test_a_markdown_laws_first_heading_is_its_title_and_named_once(tmp_path, e5):
    """A law saved as Markdown (as the regs shelf's distractors are): "# 标题", the passage
    note with its dates, "## 第一章 …", "### 第一节 …" and the articles. The title is the "# "
    line, not the date note under it (before, the shelf's 100 Markdown regulations were cited
    as "1987年1月22日 第六届…会议通过 · 中华人民共和国海关法 · 第一章 总则 · 第一条"); it stays
    the root of the file's own headings, and a citation names it once. A 节 written as "###"
    holds its articles, as a 节 line does in a .txt."""
    lines = [f"# {TITLE}", "", NOTE, ""]
    for division, number, body in LAW:
        for heading in (division or "").split("\n"):
            if heading:
                marks = "###" if "节" in heading else "##"
                lines += [f"{marks} {heading.replace('　', ' ')}", ""]
        lines += [f"{number} {body[0]}", *body[1:], ""]
    (tmp_path / "law.md").write_text("\n".join(lines), encoding="utf-8")
    loaded = load_file(tmp_path / "law.md")
    assert loaded.title == TITLE
    doc = process(loaded, "law.md", Settings(), e5)
    assert doc.record.title == TITLE
    third = next(p for p in doc.passages if "偏袒一方当事人" in p.text)
    assert third.section == f"{TITLE} / 第二章 化解途径 / 第一节 人民调解 / 第三条"
    assert third.citation == f"{TITLE} · 第二章 化解途径 · 第一节 人民调解 · 第三条 (2021-10-01)"
    assert match_units(third)[0].startswith(f"{TITLE} 第二章 化解途径 第一节 人民调解 第三条\n")  # named once


FORMATS = Path(__file__).parent / "resources" / "eval" / "heldout" / "formats"


@pytest.mark.parametrize("path", sorted(FORMATS.iterdir()), ids=lambda p: p.suffix)
def test_real_laws_in_four_formats_read_as_laws(path, e5):
    """Four real regulations as an admin receives them (.docx with styles, header and footer; a
    PDF with wrapped lines, a running header and "- N -" page numbers; a portal page; GBK .txt):
    each is read under its own name, every passage after the first article lies in one article,
    and no page furniture is left in the text."""
    doc = process(load_file(path), path.name, Settings(), e5)
    assert re.fullmatch(r"\S{4,40}(?:法|条例)", doc.record.title), doc.record.title
    first = doc.record.cleaned.find("第一条")
    articles = [p for p in doc.passages if p.clean_start > first]
    assert articles and all(re.search(r"第[一二三四五六七八九十百零]+条(?:之[一二三四五六七八九十]+)?$", p.section)
                            for p in articles), [p.section for p in articles][:5]
    assert not re.search(r"(?m)^\s*-\s*\d+\s*-\s*$|ICP备|网站标识码|内部资料", doc.record.cleaned)
