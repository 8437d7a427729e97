"""Ingest of real files in every supported format and encoding, next to bad and junk files:
the good ones are indexed exactly, the bad ones listed with their reason, junk silently skipped."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fpdf import FPDF

from conftest import cli_env, run_main
from index.settings import Settings
from index.store import load_index
from ingest.build import StrictModeError, doc_ids, ingest
from test_loaders import PNG_HEADER, cjk_pdf, make_docx

GBK = "接待来访群众的基本要求\n\n接待室应当整洁明亮，工作人员要热情耐心，认真倾听群众诉求，逐项登记来访事由和联系方式。\n"
BIG5 = "鄉鎮公所的陳情案件\n\n鄉鎮公所設有為民服務中心，受理民眾陳情案件，並定期公佈辦理結果，讓民眾瞭解進度。\n"
GB18030 = "# 生僻字的处理\n\n姓名中有生僻字𠮷、㐀的来访人，登记时应当核对身份证件，不得随意改写姓名用字。\n"
BOM_MD = "## 网上信访渠道\n\n群众可以通过网上信访平台提交诉求，系统自动生成查询码，群众凭查询码了解办理进度。\n"
UTF16 = "信访事项的办理时限\r\n\r\n信访事项应当自受理之日起六十日内办结，情况复杂的，经批准可以适当延长办理期限。\r\n"
UTF16_BARE = "领导干部接访下访\n\n领导干部定期到信访接待场所接待群众来访，也可以带案下访，面对面解决群众反映的问题。\n"
NESTED = "矛盾纠纷排查化解\n\n基层组织应当定期排查矛盾纠纷，做到早发现、早报告、早化解，把问题解决在萌芽状态。\n"
HTML = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>站点标题</title>
<style>.x {{ color: red }}</style><script>var tracking = "脚本统计代码";</script></head>
<body><nav><a href="/">网站首页</a> | <a href="/news">新闻中心</a></nav>
<div class="breadcrumb">首页 &gt; 学习园地</div>
<main><h1>信访听证的程序</h1>
<p>对重大、复杂、疑难的信访事项，可以举行听证，听证应当公开进行，邀请人大代表和群众代表参加。</p></main>
<footer>版权所有 某某网站 备案号</footer></body></html>"""
PDF_LINES = ["信访工作责任制", "各级领导干部对信访工作负有领导责任，要把信访工作纳入考核。"]

GOOD = {
    "gbk.txt": (GBK, "gbk"), "big5.txt": (BIG5, "big5"), "rare.md": (GB18030, "gb18030"),
    "bom.md": (BOM_MD, "utf-8-sig"), "utf16.txt": (UTF16, "utf-16"), "bare16.txt": (UTF16_BARE, "utf-16-le"),
    "sub/deeper/nested.txt": (NESTED, "utf-8"),
}
BAD = {
    "empty.txt": "empty file", "image.txt": "binary file", "scan.pdf": "scanned PDF: no text layer",
    "cut.docx": "corrupt docx", "cut.pdf": "corrupt pdf", "big.txt": "larger than 64 KB",
    "pages.txt": "no text left after cleaning",
}
JUNK = [".hidden.txt", "~$table.docx", ".DS_Store", "Thumbs.db", ".git/notes.txt", "draft.tmp", "sheet.xls"]
LIMIT = Settings(max_file_bytes=64 * 1024)


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def scanned_pdf(path: Path) -> Path:
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")  # an image-only page: no text layer
    pdf.output(str(path))
    return path


def make_corpus(folder: Path) -> Path:
    for name, (text, codec) in GOOD.items():
        write(folder, name, text.encode(codec))
    make_docx(folder / "table.docx")
    write(folder, "text.pdf", cjk_pdf(PDF_LINES))
    write(folder, "page.html", HTML.format().encode("utf-8"))
    write(folder, "empty.txt", b"")
    write(folder, "image.txt", PNG_HEADER + bytes(range(256)) * 4)
    scanned_pdf(folder / "scan.pdf")
    write(folder, "cut.docx", (folder / "table.docx").read_bytes()[:900])
    write(folder, "cut.pdf", (folder / "text.pdf").read_bytes()[:400])
    write(folder, "big.txt", ("信访工作条例。" * 4000).encode("utf-8"))
    write(folder, "pages.txt", "第1页 共3页\n第2页 共3页\n".encode("utf-8"))
    for name in JUNK:
        write(folder, name, GBK.encode("utf-8"))
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory, e5):
    tmp = tmp_path_factory.mktemp("formats")
    corpus = make_corpus(tmp / "corpus")
    report = ingest([corpus], tmp / "idx", settings=LIMIT, embedder=e5, progress=False)
    return corpus, tmp / "idx", report


pytestmark = pytest.mark.slow


def test_good_files_are_indexed_and_bad_ones_listed(built):
    _, _, report = built
    indexed = sorted([*GOOD, "table.docx", "text.pdf", "page.html"])
    assert sorted(report.added) == indexed and report.documents == len(indexed)
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert set(reasons) == set(BAD)
    for name, reason in BAD.items():
        assert reasons[name].startswith(reason), (name, reasons[name])
    mentioned = set(report.added) | set(reasons)
    assert not any(Path(j).name in mentioned for j in JUNK)  # hidden and temporary files: silently ignored


@pytest.mark.parametrize("name", sorted(GOOD))
def test_every_encoding_is_decoded_exactly(built, name):
    _, idx, _ = built
    text, _ = GOOD[name]
    data = load_index(idx)
    assert data.documents[name].original == text.lstrip("\ufeff")  # never mojibake
    body = text.strip().splitlines()[-1]
    assert body[:12] in "".join(p.text for p in data.passages if p.doc == name)


def test_docx_table_pdf_text_and_html_main_text(built):
    _, idx, _ = built
    data = load_index(idx)
    text = {doc: "\n".join(p.text for p in data.passages if p.doc == doc) for doc in data.documents}
    assert "受理 | 15日 | 可延长" in data.documents["table.docx"].original
    assert "第二条 本条例适用于各级机关" in text["table.docx"]
    assert "各级领导干部对信访工作负有领导责任" in text["text.pdf"]
    assert "听证应当公开进行" in text["page.html"]
    page = data.documents["page.html"]
    for noise in ("脚本统计代码", "color", "站点标题"):  # never shown by a browser: not in the text at all
        assert noise not in page.original
    chrome = "".join(page.original[r["start"]:r["end"]] for r in page.removals if r["rule"] == "page_chrome")
    for noise in ("网站首页", "新闻中心", "学习园地", "版权所有"):  # shown, removed by name in the report
        assert noise not in text["page.html"] and noise not in page.cleaned
        assert noise in chrome


def test_search_finds_each_format(built):
    from assistant.service import Assistant

    _, idx, _ = built
    assistant = Assistant(idx)
    for question, doc in [("接待室应该是什么样的?", "gbk.txt"), ("鄉鎮公所如何處理陳情?", "big5.txt"),
                          ("信访听证邀请谁参加?", "page.html"), ("领导干部带案下访", "bare16.txt")]:
        assert assistant.retrieve(question, k=3)[0].passage.doc == doc, question


def test_strict_fails_before_writing_anything(built, tmp_path, e5):
    corpus, _, _ = built
    with pytest.raises(StrictModeError, match="could not be indexed") as info:
        ingest([corpus], tmp_path / "strict", settings=LIMIT, embedder=e5, strict=True, progress=False)
    assert "scan.pdf: scanned PDF" in str(info.value) and "empty.txt: empty file" in str(info.value)
    assert not (tmp_path / "strict" / "CURRENT").exists()


def test_cli_strict_exit_and_size_limit(built, tmp_path):
    corpus, idx, _ = built
    before = (idx / "CURRENT").read_bytes()
    proc = subprocess.run([sys.executable, "-m", "assistant", "ingest", str(corpus), "--index", str(idx),
                           "--strict", "--max-file-mb", "0.0625", "-q"],
                          capture_output=True, text=True, env=cli_env(tmp_path), timeout=300)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ") and len(proc.stderr.strip().splitlines()) == 1
    assert "--strict" in proc.stderr and "big.txt: larger than 64 KB" in proc.stderr
    assert (idx / "CURRENT").read_bytes() == before
    # with --json the error carries the report: each file that failed, and why, as a list
    out = run_main(tmp_path, "ingest", str(corpus), "--index", str(idx), "--strict", "--json", "-q")
    error = json.loads(out.stdout)
    assert out.returncode == 1 and "--strict" in error["error"], out.stdout
    assert {Path(s["path"]).name: s["reason"] for s in error["report"]["skipped"]}["cut.docx"].startswith("corrupt docx")
    assert (idx / "CURRENT").read_bytes() == before


def test_cli_lists_skipped_files_and_indexes_the_rest(built, tmp_path):
    corpus, idx, report = built
    proc = run_main(tmp_path, "ingest", str(corpus), "--index", str(idx), "--max-file-mb", "0.0625", "--json", "-q")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["written"] is False and sorted(out["unchanged"]) == sorted(report.added)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == len(BAD) and all(line.startswith("skipped ") for line in lines)
    assert any("scan.pdf: scanned PDF: no text layer" in line for line in lines)


def test_a_processing_bug_on_one_file_costs_only_that_file(tmp_path, e5, monkeypatch):
    from ingest import pipeline

    real = pipeline.process

    def process(loaded, doc, *args):
        if doc == "bug.txt":
            raise ValueError("chunk not found in source\nsecond line")
        return real(loaded, doc, *args)

    monkeypatch.setattr(pipeline, "process", process)
    corpus = tmp_path / "docs"
    write(corpus, "bug.txt", GBK.encode("gbk"))
    write(corpus, "ok.txt", NESTED.encode("utf-8"))
    report = ingest([corpus], tmp_path / "idx", embedder=e5, progress=False)
    assert report.added == ["ok.txt"] and report.written
    assert [(Path(s.path).name, s.reason) for s in report.skipped] == [
        ("bug.txt", "could not be processed (ValueError: chunk not found in source)")]


def test_doc_ids_are_relative_and_unique(tmp_path):
    a = write(tmp_path, "a/x.txt", b"1")
    b = write(tmp_path, "b/x.txt", b"2")
    c = write(tmp_path, "a/sub/y.txt", b"3")
    ids = doc_ids([tmp_path / "a", tmp_path / "b"], [a, c, b])
    assert ids == {a.resolve(): "x.txt", c.resolve(): "sub/y.txt", b.resolve(): "b/x.txt"}


NOTICE = ("某市人民政府文件\n\n某政发〔2023〕5号\n\n关于进一步做好信访工作的通知\n\n各区县人民政府,市政府各部门:\n\n"
          "为切实做好新形势下的信访工作,畅通群众诉求渠道,现就有关事项通知如下。\n\n一、提高思想认识\n\n"
          "各级各部门要充分认识做好信访工作的重要意义,把信访工作摆上重要议事日程,主要负责同志亲自抓。\n")
RULES_TXT = ("信访接待工作规范\n\n第一条 接待来访群众应当文明礼貌,使用普通话,认真听取诉求。\n\n"
             "第二条 对集体访,应当要求推选代表,代表人数不超过五人。\n\n"
             "第三条 接待人员不得泄露信访人的个人信息,不得将检举材料转给被检举人。\n")
NOTES_MD = "# 培训笔记\n\n" + "".join(
    f"## {name}\n\n关于{name}的内容,要结合实际情况认真把握,做到依法依规、情理兼顾,{tail}。\n\n"
    for name, tail in (("沟通技巧", "先听清诉求再作解释"), ("法律依据", "引用条文要准确"), ("心理疏导", "先平复情绪")))


def test_titles_heads_and_markdown_sections(tmp_path, e5):
    """An official document's head is not its title; a title alone is not a passage (it would be
    offered as an answer); a Markdown section starts at its "##" line and is cited under its heading."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "通知.txt").write_text(NOTICE, encoding="utf-8")
    (docs / "规范.txt").write_text(RULES_TXT, encoding="utf-8")
    (docs / "笔记.md").write_text(NOTES_MD, encoding="utf-8")
    ingest([docs], tmp_path / "idx", embedder=e5, progress=False)
    data = load_index(tmp_path / "idx")
    assert data.documents["通知.txt"].title == "关于进一步做好信访工作的通知"
    assert data.documents["通知.txt"].issuer == "某市人民政府"  # from its head's issuer mark
    rules = [p for p in data.passages if p.doc == "规范.txt"]
    assert [p.section for p in rules] == ["第一条", "第二条", "第三条"]
    assert "信访接待工作规范" in data.documents["规范.txt"].cleaned  # still in the document
    notes = [p for p in data.passages if p.doc == "笔记.md"]
    assert [p.section.split(" / ")[-1] for p in notes] == ["沟通技巧", "法律依据", "心理疏导"]
    assert all(not p.text.rstrip().endswith("#") for p in notes)
    assert [p.text.startswith("## ") for p in notes[1:]] == [True, True]


def test_a_pdfs_running_header_without_page_numbers_is_page_furniture(tmp_path, e5):
    """A header printed above every page, no page number beside it: on pages 2.. it is marked
    (page_chrome), so the sentence a page break split is joined without it; page 1's copy stays
    (it may be the title itself), and an official document's head is not the title."""
    from test_loaders import cjk_pdf_pages

    head = "某市人民政府办公室文件"
    pages = [[head, "某市矛盾纠纷多元化解办法", "某市人民政府办公室", "2024年3月8日",
              "第一条 各级调解组织应当坚持自愿合法公正的原则,", "及时化解矛盾纠纷,防止"],
             [head, "矛盾激化和转化为信访事项。", "第二条 调解委员会应当及时登记群众反映的土地纠纷。"],
             [head, "第三条 司法所应当在十日内答复群众的投诉。"]]
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "办法.pdf").write_bytes(cjk_pdf_pages(pages))
    ingest([docs], tmp_path / "idx", embedder=e5, progress=False)
    data = load_index(tmp_path / "idx")
    record = data.documents["办法.pdf"]
    assert record.title == "某市矛盾纠纷多元化解办法"
    assert (record.issuer, list(record.dates)) == ("某市人民政府办公室", [{"kind": "成文", "date": "2024-03-08"}])
    assert record.cleaned.count(head) == 1 and record.cleaned.startswith(head)
    assert sum(r["rule"] == "page_chrome" for r in record.removals) == 2
    text = " ".join(p.text for p in data.passages)
    assert head not in text and "防止矛盾激化" in text.replace("\n", "")
