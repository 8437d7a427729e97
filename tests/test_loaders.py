"""ingest.loaders on real files written to tmp_path."""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import docx
import pytest
from fpdf import FPDF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.errors import ConfigError, LoadError
from ingest.loaders import (
    DEFAULT_MAX_BYTES,
    SUPPORTED_SUFFIXES,
    LoadedFile,
    Skipped,
    discover,
    load_file,
)

SIMPLIFIED = (
    "第一条 为了坚持和加强党对信访工作的全面领导，做好新时代信访工作，保持党和政府同人民群众的密切联系，制定本条例。\n"
    "信访工作是党的群众工作的重要组成部分，是党和政府了解民情、集中民智、维护民利、凝聚民心的一项重要工作。\n"
    "各级机关应当畅通信访渠道，认真处理信访事项，倾听人民群众建议、意见和要求，接受人民群众监督，为人民群众服务。\n"
    "对于群众反映的问题，要认真调查研究，区分不同情况，依法及时处理，做到件件有着落、事事有回音。\n"
)
TRADITIONAL = (
    "第一條 為了堅持和加強黨對信訪工作的全面領導，做好新時代信訪工作，保持黨和政府同人民群眾的密切聯繫，制定本條例。\n"
    "信訪工作是黨的群眾工作的重要組成部分，是黨和政府瞭解民情、集中民智、維護民利、凝聚民心的一項重要工作。\n"
    "各級機關應當暢通信訪渠道，認真處理信訪事項，傾聽人民群眾建議、意見和要求，接受人民群眾監督，為人民群眾服務。\n"
    "臺灣地區的鄉鎮公所也設有為民服務中心，處理民眾陳情案件，並定期公佈辦理結果，讓民眾瞭解進度。\n"
)
PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def reason_of(path: Path, **kwargs) -> str:
    with pytest.raises(LoadError) as info:
        load_file(path, **kwargs)
    assert info.value.path == str(path)
    return info.value.reason


# --------------------------------------------------------------------------
# Fixture builders


def make_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_heading("信访工作条例", level=1)
    document.add_paragraph("第一条 为了坚持和加强党对信访工作的全面领导。")
    table = document.add_table(rows=3, cols=3)
    rows = [["事项", "时限", "备注"], ["受理", "15日", ""], ["办理", "60日", "可延长"]]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    table.cell(1, 2).merge(table.cell(2, 2))  # vertical merge: shown once
    document.add_paragraph("第二条 本条例适用于各级机关。")
    document.save(path)
    return path


def make_pdf(path: Path, pages: list[str]) -> Path:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    pdf.output(str(path))
    return path


def cjk_pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text layer is Chinese (see cjk_pdf_pages)."""
    return cjk_pdf_pages([lines])


def cjk_pdf_pages(pages: list[list[str]]) -> bytes:
    """A PDF whose pages' text layers are Chinese, one line of text per item.

    No CJK font is installed here, so fpdf2 cannot embed one; this PDF uses
    the standard non-embedded Adobe font STSong-Light with the UniGB-UTF16-H
    CMap, which text extraction decodes without the font file.
    """
    first = 6  # catalog, page tree and three font objects come first; then a page and its content per page
    page_refs = " ".join(f"{first + 2 * i} 0 R" for i in range(len(pages))).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (page_refs, len(pages)),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light"
        b" /Encoding /UniGB-UTF16-H /DescendantFonts [4 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /FontDescriptor 5 0 R"
        b" /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [0 -200 1000 900]"
        b" /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 700 /StemV 80 >>",
    ]
    for i, lines in enumerate(pages):
        ops = ["BT /F1 14 Tf 72 780 Td"]
        for k, line in enumerate(lines):
            ops += ["0 -24 Td"] if k else []
            ops.append(f"<{line.encode('utf-16-be').hex().upper()}> Tj")
        stream = "\n".join([*ops, "ET"]).encode("ascii")
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
                       b" /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (first + 2 * i + 1))
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>网站标题</title>
<style>p {{ color: red }}</style><script>var s = "脚本内容";</script></head>
<body><header><nav><a href="/">首页</a> | <a href="/x">栏目</a></nav></header>
<div class="breadcrumb">首页 &gt; 学习园地</div>
<main><article><header><h1>做好新时代信访工作</h1></header>
<p>信访工作是党的<b>群众工作</b>的重要组成部分，
是了解民情的重要途径。</p>
<p>第二段<br>换行后<br><br><br>空行后</p>
<ul><li>一、畅通渠道</li><li>二、依法处理</li></ul>
<table><tr><th>事项</th><th>时限</th></tr><tr><td>办理</td><td>60日</td></tr></table>
<div class="share-buttons">分享到微信</div>
<pre>  缩进  保留
  第二行</pre>
<!-- 注释不出现 -->
</article></main>
<aside id="sidebar">热门文章</aside><div id="comments">评论区</div>
<footer>版权所有 {copyright}</footer><noscript>请启用脚本</noscript></body></html>"""
PAGE_TEXT = (
    "做好新时代信访工作\n信访工作是党的群众工作的重要组成部分，是了解民情的重要途径。\n"
    "第二段\n换行后\n\n空行后\n一、畅通渠道\n二、依法处理\n事项 | 时限\n办理 | 60日\n"
    "  缩进  保留\n  第二行"
)


# --------------------------------------------------------------------------
# discover


def test_supported_suffixes_and_limit():
    assert SUPPORTED_SUFFIXES == {".txt", ".md", ".markdown", ".docx", ".pdf", ".html", ".htm"}
    assert DEFAULT_MAX_BYTES == 50 * 1024 * 1024


def test_discover_walks_sorted_and_ignores_junk(tmp_path):
    names = ["b.txt", "a.md", "sub/z.PDF", "sub/deeper/c.htm", "sub/x.docx", "notes.markdown",
             "table.xls", "~$x.docx", ".~lock.x.docx#", "draft.tmp", "Thumbs.db", ".DS_Store",
             ".hidden.txt", ".git/config.txt", "sub/.cache/d.txt"]
    for name in names:
        write(tmp_path, name, b"x")
    files, skipped = discover([tmp_path])
    assert skipped == []
    expected = ["a.md", "b.txt", "notes.markdown", "sub/deeper/c.htm", "sub/x.docx", "sub/z.PDF"]
    assert [p.relative_to(tmp_path.resolve()).as_posix() for p in files] == expected
    assert all(p.is_absolute() for p in files)
    assert discover([str(tmp_path)]) == (files, [])  # deterministic, str accepted


def test_discover_explicit_files(tmp_path):
    good = write(tmp_path, "a.txt", b"x")
    sheet = write(tmp_path, "b.xls", b"x")
    lock = write(tmp_path, "~$c.docx", b"x")
    bare = write(tmp_path, "README", b"x")
    files, skipped = discover([good, sheet, lock, bare, good, tmp_path])
    assert files == [good.resolve()]  # duplicates collapse, directory adds nothing new
    assert skipped == [
        Skipped(str(sheet), "unsupported type .xls"),
        Skipped(str(lock), "temporary or lock file"),
        Skipped(str(bare), "unsupported type (no suffix)"),
    ]


def test_discover_missing_path_is_config_error(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(ConfigError, match="path does not exist: .*nope"):
        discover([missing])


# --------------------------------------------------------------------------
# Text files: encodings


ENCODED = [
    ("utf-8", SIMPLIFIED, "utf-8"),
    ("utf-8-sig", SIMPLIFIED, "utf-8-sig"),
    ("gb18030", SIMPLIFIED, "gb18030"),
    ("gbk", SIMPLIFIED, "gb18030"),
    ("gb2312", SIMPLIFIED, "gb18030"),
    ("gbk", TRADITIONAL, "gb18030"),  # GBK holds traditional characters too
    ("big5", TRADITIONAL, "big5"),
    ("utf-16", SIMPLIFIED, "utf-16"),
    ("utf-32", TRADITIONAL, "utf-32"),
]


@pytest.mark.parametrize("codec,text,expected", ENCODED)
@pytest.mark.parametrize("size", ["short", "long"])
def test_text_encodings_decode_exactly(tmp_path, codec, text, expected, size):
    if size == "short":
        text = text[4:12]  # eight characters: "为了坚持和加强党"
    path = write(tmp_path, "doc.txt", text.encode(codec))
    loaded = load_file(path)
    assert loaded.text == text
    assert loaded.encoding == expected
    assert loaded.format == "txt"


@pytest.mark.parametrize("text,codec", [
    ("信访", "gbk"), ("群众工作", "gbk"), ("信访工作条例", "gb18030"), ("为", "gbk"),
    ("路", "gbk"), ("一些", "gbk"), ("abc 中文 def", "gbk"), ("用Python编程", "gb18030"),
    ("信訪工作條例", "big5"), ("臺灣信訪工作", "big5"), ("民眾陳情案件", "big5"),
    ("信访", "utf-16-le"), ("信访", "utf-16-be"),
])
def test_short_chinese_is_not_mojibake(tmp_path, text, codec):
    """charset-normalizer alone reads "信访" in GBK as Big5 and "群众工作" as cp949."""
    data = text.encode(codec)
    if codec.startswith("utf-16-"):
        data = ("\ufeff" + text).encode(codec)
    assert load_file(write(tmp_path, "s.txt", data)).text == text


def test_rare_characters_in_gb18030(tmp_path):
    text = SIMPLIFIED + "生僻字：𠮷、龘、㐀，四字节编码。\n"
    loaded = load_file(write(tmp_path, "rare.txt", text.encode("gb18030")))
    assert (loaded.text, loaded.encoding) == (text, "gb18030")


@pytest.mark.parametrize("text,codec", [
    ("Die Bürger können ihre Anliegen schriftlich einreichen. Größere Beschwerden folgen.", "cp1252"),
    ("Le président a annoncé une réforme; à la fin de l'année, ça coûte cher.", "latin-1"),
    ("Müller", "cp1252"),
    ("温度25°C，湿度±5%，单位：kΩ", "utf-8"),
    ("xìn fǎng 信访", "gb18030"),
])
def test_non_chinese_and_mixed_text(tmp_path, text, codec):
    assert load_file(write(tmp_path, "w.txt", text.encode(codec))).text == text


def test_line_endings_and_spacing_are_kept(tmp_path):
    text = "第一行\r\n第二行\r第三行\n\n\t缩进  两个空格 \n"
    for codec in ("utf-8", "gb18030", "utf-16"):
        assert load_file(write(tmp_path, "e.txt", text.encode(codec))).text == text


def test_markdown_file(tmp_path):
    text = "# 信访工作\n\n- 畅通渠道\n- 依法处理\n"
    loaded = load_file(write(tmp_path, "notes.markdown", text.encode("utf-8")))
    assert (loaded.text, loaded.format, loaded.encoding) == (text, "md", "utf-8")
    assert load_file(write(tmp_path, "n.MD", text.encode("gb18030"))).format == "md"


def test_loaded_file_fields(tmp_path):
    data = SIMPLIFIED.encode("gbk")
    path = write(tmp_path, "sub/../f.txt", data)
    loaded = load_file(str(path))
    assert isinstance(loaded, LoadedFile)
    assert loaded.path == (tmp_path / "f.txt").resolve()
    assert loaded.sha256 == hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------
# Text files: refusals


def test_empty_and_blank_files(tmp_path):
    assert reason_of(write(tmp_path, "e.txt", b"")) == "empty file"
    assert reason_of(write(tmp_path, "b.md", " \r\n\t\u3000\n".encode())) == "no text in document"


def test_binary_files_renamed_to_text(tmp_path):
    assert reason_of(write(tmp_path, "image.txt", PNG_HEADER + bytes(range(256)))) == "binary file"
    controls = bytes(b % 32 for b in range(1, 400) if b % 32 not in (0, 9, 10, 13))
    assert reason_of(write(tmp_path, "c.txt", controls)) == "binary file"


def test_undecodable_text(tmp_path):
    assert reason_of(write(tmp_path, "u.txt", b"\x81\x20" * 50)) == (
        "cannot decode text (not UTF-8, GB18030, Big5 or UTF-16; the first byte that is not UTF-8 is at offset 0)")


@pytest.mark.parametrize("codec, damage", [("utf-8", lambda b: b[:-2]),                       # cut mid-character
                                           ("gb18030", lambda b: b[:300] + b"\xff" + b[300:]),   # one stray byte
                                           ("utf-8", lambda b: b[:300] + b"\xff\xfe" + b[300:])])
def test_a_few_bad_bytes_cost_only_themselves(tmp_path, codec, damage):
    """A file cut with `head -c`, or with a stray byte, was rejected whole ("cannot decode
    text"); now it is read, each bad byte as U+FFFD, and the encoding says it is damaged."""
    from ingest.loaders import load_file

    text = "信访工作条例\n\n" + "各级机关应当畅通信访渠道，认真处理来信、接待来访，倾听人民群众的意见和建议。\n" * 30
    loaded = load_file(write(tmp_path, "cut.txt", damage(text.encode(codec))))
    assert loaded.text.count("\ufffd") <= 4 and loaded.text.count("倾听人民群众的意见和建议") >= 29
    assert codec in loaded.encoding and "damaged" in loaded.encoding


def test_size_limit(tmp_path):
    path = write(tmp_path, "big.txt", b"a" * (1024 * 1024 + 1))
    assert reason_of(path, max_bytes=1024 * 1024) == "larger than 1 MB"
    assert reason_of(write(tmp_path, "s.txt", b"abcdef"), max_bytes=5) == "larger than 5 bytes"
    assert load_file(path, max_bytes=2 * 1024 * 1024).text.startswith("aaa")


def test_missing_unsupported_and_directory(tmp_path):
    assert reason_of(tmp_path / "gone.txt") == "file not found"
    assert reason_of(write(tmp_path, "t.xls", b"x")) == "unsupported type .xls"
    (tmp_path / "dir.txt").mkdir()
    assert reason_of(tmp_path / "dir.txt") == "not a regular file"


# --------------------------------------------------------------------------
# DOCX


def test_docx_paragraphs_and_tables_in_body_order(tmp_path):
    loaded = load_file(make_docx(tmp_path / "r.docx"))
    assert loaded.text == (
        "信访工作条例\n第一条 为了坚持和加强党对信访工作的全面领导。\n"
        "事项 | 时限 | 备注\n受理 | 15日 | 可延长\n办理 | 60日\n第二条 本条例适用于各级机关。"
    )
    assert (loaded.format, loaded.encoding) == ("docx", None)


def test_docx_tracked_changes_tabs_and_content_controls(tmp_path):
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    paragraph = document.add_paragraph("原有文字，")
    paragraph._p.append(parse_xml(
        f'<w:ins {nsdecls("w")} w:id="1" w:author="a"><w:r><w:t>插入的文字</w:t></w:r></w:ins>'))
    paragraph._p.append(parse_xml(
        f'<w:del {nsdecls("w")} w:id="2" w:author="a"><w:r><w:delText>删除的文字</w:delText></w:r></w:del>'))
    document.add_paragraph("甲\t乙")
    document.element.body.insert(0, parse_xml(
        f'<w:sdt {nsdecls("w")}><w:sdtContent><w:p><w:r><w:t>封面标题</w:t></w:r></w:p>'
        '</w:sdtContent></w:sdt>'))
    document.save(tmp_path / "t.docx")
    assert load_file(tmp_path / "t.docx").text == "封面标题\n原有文字，插入的文字\n甲\t乙"


def test_docx_corrupt_or_empty(tmp_path):
    data = make_docx(tmp_path / "ok.docx").read_bytes()
    truncated = write(tmp_path, "cut.docx", data[: len(data) // 2])
    assert reason_of(truncated).startswith("corrupt docx")
    assert reason_of(write(tmp_path, "fake.docx", b"not a zip at all")).startswith("corrupt docx")
    # a password-protected .docx (or an old .doc renamed) is an OLE compound file: say what to do
    ole = write(tmp_path, "locked.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000))
    assert "password-protected .docx or an old .doc" in reason_of(ole) and "save it as .docx" in reason_of(ole)
    import zipfile

    with zipfile.ZipFile(tmp_path / "photos.docx", "w") as archive:  # a renamed .zip
        archive.writestr("photo.txt", "not a document")
    assert reason_of(tmp_path / "photos.docx").startswith("not a Word document"), reason_of(tmp_path / "photos.docx")
    empty = tmp_path / "empty.docx"
    docx.Document().save(empty)
    assert reason_of(empty) == "no text in document"


# --------------------------------------------------------------------------
# PDF


def test_pdf_text_layer_pages_joined(tmp_path):
    path = make_pdf(tmp_path / "a.pdf", ["Petition work rules.\nArticle 1: serve the people.",
                                         "Second page."])
    loaded = load_file(path)
    assert loaded.text == "Petition work rules.\nArticle 1: serve the people.\nSecond page."
    assert (loaded.format, loaded.encoding) == ("pdf", None)


def test_pdf_chinese_text_layer(tmp_path):
    path = write(tmp_path, "cn.pdf", cjk_pdf(["信访工作条例", "第一条 坚持以人民为中心"]))
    assert load_file(path).text == "信访工作条例\n第一条 坚持以人民为中心"


def test_scanned_pdf_has_no_text_layer(tmp_path):
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    pdf.output(str(tmp_path / "scan.pdf"))
    assert reason_of(tmp_path / "scan.pdf") == "scanned PDF: no text layer"


def test_pdf_corrupt_and_truncated(tmp_path):
    data = make_pdf(tmp_path / "ok.pdf", ["Some text."]).read_bytes()
    assert reason_of(write(tmp_path, "cut.pdf", data[: len(data) // 2])).startswith("corrupt pdf")
    assert reason_of(write(tmp_path, "png.pdf", PNG_HEADER)).startswith("corrupt pdf")
    garbled = data[:200] + b"\xff" * 300 + data[500:]
    try:
        load_file(write(tmp_path, "garbled.pdf", garbled))
    except LoadError:
        pass  # either outcome is fine; nothing but LoadError may escape


def test_encrypted_pdf(tmp_path):
    for user_password, expected in (("secret", None), ("", "Locked text.")):
        pdf = FPDF()
        pdf.add_page()
        pdf.set_font("Helvetica", size=12)
        pdf.cell(0, 8, "Locked text.")
        pdf.set_encryption(owner_password="owner", user_password=user_password)
        path = tmp_path / f"enc{len(user_password)}.pdf"
        pdf.output(str(path))
        if expected is None:
            assert reason_of(path).startswith("encrypted PDF")
        else:
            assert load_file(path).text == expected  # no user password: readable


# --------------------------------------------------------------------------
# HTML


def test_html_main_content_without_boilerplate(tmp_path):
    loaded = load_file(write(tmp_path, "p.html", PAGE.format(copyright="©2024").encode("utf-8")))
    assert loaded.content().strip("\n") == PAGE_TEXT  # the furniture stays in `text`, marked as chrome
    assert "首页 > 学习园地" in loaded.text and "版权所有" in loaded.text
    assert (loaded.format, loaded.encoding) == ("html", "utf-8")


def test_html_meta_charset_and_class_filters(tmp_path):
    page = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
            '</head><body class="has-sidebar"><div id="topnav">导航</div>'
            '<div class="content"><h2>标题二</h2><p>正文：群众\n工作。</p></div>'
            '<div class="mainMenu">菜单</div><div class="advert-box">广告</div>'
            '<p class="unavailable">保留这一段</p></body></html>')
    loaded = load_file(write(tmp_path, "g.htm", page.encode("gbk")))
    assert loaded.content().strip("\n") == "标题二\n正文：群众工作。\n保留这一段"
    assert loaded.encoding == "gb18030"


def test_html_box_of_links_is_page_furniture(tmp_path):
    """A portal's 相关链接 box after the law (no furniture name, outside no <main>) was kept inside
    the last article and found first for a question on the linked page's title; a box that is
    mostly links is a list of other pages. A link inside a sentence, or one link, stays text."""
    page = ('<html><body><div class="article"><h1>某某条例</h1>'
            '<p>第一条 为了规范信访工作，依照<a href="/law">《信访工作条例》</a>的规定，制定本条例。</p>'
            '<p>第二条 本条例自2024年1月1日起施行。</p></div>'
            '<div class="related"><h3>相关链接</h3><ul><li><a href="/a">关于进一步加强信访工作的意见</a></li>'
            '<li><a href="/b">政务服务便民热线</a></li></ul></div>'
            '<div class="box"><a href="/c">下一篇：某某办法</a></div></body></html>')
    loaded = load_file(write(tmp_path, "portal.html", page.encode("utf-8")))
    assert loaded.content().strip("\n") == ("某某条例\n第一条 为了规范信访工作，依照《信访工作条例》的规定，制定本条例。\n"
                                            "第二条 本条例自2024年1月1日起施行。\n下一篇：某某办法")
    assert "相关链接" in loaded.text  # kept in the original, marked as chrome


def test_html_without_charset_is_detected(tmp_path):
    page = "<html><body><p>" + TRADITIONAL.replace("\n", "</p><p>") + "</p></body></html>"
    loaded = load_file(write(tmp_path, "t.html", page.encode("big5")))
    assert loaded.text == TRADITIONAL.strip()
    assert loaded.encoding == "big5"


def test_html_rejected_markup(tmp_path):
    page = "<p>正文内容</p>".encode() * 10 + b"<![\x01 abc"
    assert reason_of(write(tmp_path, "bad.html", page)).startswith("corrupt html")


def test_html_boilerplate_only_is_no_text(tmp_path):
    page = b"<html><body><nav>menu</nav><script>x()</script><footer>c</footer></body></html>"
    assert reason_of(write(tmp_path, "n.html", page)) == "no text in document"


# --------------------------------------------------------------------------
# Properties


def chinese_text(source: str, min_len: int):
    """Realistic text: a window of real Chinese with ASCII words mixed in."""
    window = st.integers(0, len(source) - min_len).flatmap(
        lambda i: st.integers(i + min_len, len(source)).map(lambda j: source[i:j]))
    ascii_words = st.lists(st.sampled_from(["2024", " Python ", "abc", " ", "\n", "\r\n", "\t", "(1)"]),
                           max_size=4)
    return st.tuples(window, ascii_words, st.randoms(use_true_random=False)).map(_mix)


def _mix(parts) -> str:
    text, words, rng = parts
    for word in words:
        i = rng.randrange(len(text) + 1)
        text = text[:i] + word + text[i:]
    return text


ANY_CJK = st.text(
    st.one_of(st.characters(min_codepoint=0x20, max_codepoint=0x7E), st.sampled_from("\n\r\t"),
              st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
              st.characters(min_codepoint=0x3001, max_codepoint=0x3011),
              st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E)),
    min_size=1, max_size=80)

# UTF encodings carry any text; legacy GB18030/Big5 must be guessed, which is
# only meaningful for real text (a string of two characters that is common
# Chinese in both encodings is ambiguous; such ties go to GB18030).
ROUND_TRIP = st.one_of(
    st.tuples(ANY_CJK, st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])),
    st.tuples(chinese_text(SIMPLIFIED, 2), st.just("gb18030")),
    st.tuples(chinese_text(SIMPLIFIED, 2), st.just("gbk")),
    st.tuples(chinese_text(TRADITIONAL, 8), st.just("big5")),
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=ROUND_TRIP)
def test_property_text_round_trips(tmp_path, case):
    text, codec = case
    if not text.strip():
        return
    data = text.encode(codec)
    if codec in ("utf-16-le", "utf-16-be"):
        data = ("\ufeff" + text).encode(codec)  # BOM-less UTF-16 counts as binary
    assert load_file(write(tmp_path, "p.txt", data)).text == text


PREFIXES = [b"", b"%PDF-1.4\n", b"PK\x03\x04", b"\xef\xbb\xbf", b"\xff\xfe",
            b"<html><meta charset=big5><p>", b"<![", b"<!DOCTYPE html><main>"]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=600),
       suffix=st.sampled_from([".txt", ".md", ".html", ".docx", ".pdf"]),
       eof=st.booleans())
def test_property_random_bytes_only_raise_load_error(tmp_path, prefix, body, suffix, eof):
    path = write(tmp_path, "r" + suffix, prefix + body + (b"\n%%EOF\n" if eof else b""))
    try:
        loaded = load_file(path)
    except LoadError:
        return
    assert loaded.text.strip()


def test_no_stray_output(tmp_path, capsys, caplog):
    caplog.set_level(logging.DEBUG, logger="ingest.loaders")
    load_file(write(tmp_path, "q.txt", SIMPLIFIED.encode("gbk")))
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(("n", "fmt", "shown"), [
    (12, "chineseCounting", "十二"), (105, "chineseCountingThousand", "一百零五"), (12, "chineseLegalSimplified", "壹拾贰"),
    (2024, "ideographDigital", "二〇二四"), (3, "ideographTraditional", "丙"), (3, "decimalEnclosedCircle", "③"),
    (28, "lowerLetter", "bb"), (14, "upperRoman", "XIV"), (7, "decimalZero", "07"), (4, "bullet", ""),
    (9, "someFutureFormat", "9"),
])
def test_word_number_formats(n, fmt, shown):
    from ingest.docx_numbering import format_number

    assert format_number(n, fmt) == shown
