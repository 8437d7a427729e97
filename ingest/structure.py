"""Document structure: the real title, headings and section paths.

Heading levels (smaller = encloses more):

1. a part of a collection: ``篇一`` (also as the suffix of a title line such
   as ``…心得体会篇一``), ``第二篇``, ``第一章``, ``第一部分``, Markdown ``#``;
2. a chapter: ``一、…``, ``一.…``, ``第一节``, ``体会之一:…`` and other
   ``<label>一:…`` lines;
3. a section: ``(一)…``;
4. an item: ``1.…``, ``1、…``, ``(1)…``, ``①…``, ``一是…``, ``其一,…``;
   Markdown ``####`` and deeper.

A heading is found at the start of a line or, in run-on text extracted from
PDF pages (no line breaks), right after a sentence end (。;!?) or a
separating space.  Its text runs to its own end (sentence end, separating
space or line end); when that is far away, only its first clause is kept, so
a citation reads ``篇一 / 体会之一:要强化群众观念,正确对待群众``.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace
from pathlib import Path

from index.chars import HAN, TRADITIONAL_MARKERS, han_count

_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | TRADITIONAL_MARKERS


def fold_width(text: str) -> str:
    """Full-width ASCII forms as ASCII ("（一）" -> "(一)", "：" -> ":"), and the traditional
    forms of the marks that number a law's parts as the simplified ones ("第三條" -> "第三条";
    `index.chars.TRADITIONAL_MARKERS`), one character for one.

    The patterns of structure and cleaning are written over ASCII punctuation
    (as scraped pages print it); official documents print the full-width
    forms.  Matching on the folded text finds both, and since the mapping is
    one to one every span found indexes the original text too.
    """
    return text.translate(_FOLD)


_CN = "一二三四五六七八九十百零〇"
_NUM = rf"[{_CN}]{{1,3}}"

# (pattern, level); patterns are matched at the start of a stripped line or
# at an inline position.  Order matters: first match wins.
_PATTERNS: tuple[tuple[re.Pattern[str], float], ...] = (
    (re.compile(rf"【?篇{_NUM}】?(?![{HAN}])"), 1),
    (re.compile(rf"第(?:{_NUM}|\d{{1,2}})编"), 0.5),
    (re.compile(rf"第(?:{_NUM}|\d{{1,2}})(?:篇|章|部分|卷)"), 1),
    (re.compile(rf"第(?:{_NUM}|\d{{1,2}})节"), 2),
    (re.compile(rf"{_NUM}[、.．](?!\d)"), 2),
    (re.compile(rf"[^\s,，。;；:：、!?！？()（）]{{1,24}}?之?{_NUM}[:：]"), 2),
    (re.compile(rf"[(（]{_NUM}[)）]"), 3),
    (re.compile(r"\d{1,2}[、.．](?![\d.．])"), 4),
    (re.compile(r"[(（]\d{1,2}[)）]"), 4),
    (re.compile(r"[\u2460-\u2473]"), 4),
    (re.compile(rf"{_NUM}是(?![的否非])"), 4),
    (re.compile(r"其[一二三四五六七八九十][,，、:：]"), 4),
)
_MARKDOWN = re.compile(r"(#{1,6})\s+\S")
# Markdown heading levels: nested as written, "###" at the level of a 节, and every one above a
# law's articles: "### 第一节 …" holds the articles after it, as a 节 line does in a .txt.
_MARKDOWN_LEVEL = {1: 1, 2: 1.5, 3: 2, 4: 2.25, 5: 2.25, 6: 2.25}
# Divisions of a law or regulation that carry a name: "第二编 物权", "第四章 信访事项的办理", "第一节 …".
_DIVISION = re.compile(rf"第(?:{_NUM}|\d{{1,2}})[编章节]")
# An article "第三十四条" (also "第十条之一") starting a line, then its text after a space or at once
# (never "第十条的规定…", "第十条、第十一条", which cite an article).
_ARTICLE = re.compile(rf"第(?:[{_CN}]{{1,7}}|\d{{1,4}})条(?:之[{_CN}]{{1,3}})?(?=[ \t\u3000]|$|[^\s的规、,，和与及至或中第款项所之])")
ARTICLE_LEVEL = 2.5  # inside 章 (1) and 节 (2), around its items (一) (3) and 1. (4)
# A title line that names one part of a collection: "…心得体会篇一".
_PART_SUFFIX = re.compile(rf"【?篇{_NUM}】?\s*$")
# Only these may start a heading inside a run-on line (no arabic "1.",
# which collides with decimals and scores such as "2.0 7.坚持").
_INLINE_LEVELS = {0.5, 1, 2, 3}
_INLINE_ITEM = re.compile(rf"{_NUM}是(?![的否非])|其[一二三四五六七八九十][,，、:：]")
_INLINE_BEFORE = re.compile(rf"[。;；!?！？:：]\s*|(?<=[{HAN}。;；!?！？)）,，])\s+")
_HEADING_END = re.compile(r"[。;；!?！？\n]|(?<=\S)\s{1,3}(?=\S)")
_LINE_MAX = 60
_TEXT_MAX = 42


@dataclass(frozen=True)
class Heading:
    start: int  # span of the heading text in the cleaned text
    end: int
    level: float
    text: str
    # An enumerated point ("三是要在听取意见上尊重群众。…", "其一,…") heads its own paragraph
    # only: where that paragraph ends (-1: until the next heading of its level or above).
    scope: int = -1

    @property
    def label(self) -> str:
        """The heading as a section path shows it: inner spaces collapsed ("第一章 总 则")."""
        return " ".join(self.text.split())


def _match_marker(text: str, pos: int) -> tuple[int, int] | None:
    """(level, marker end) of a heading marker starting at text[pos], if any."""
    md = _MARKDOWN.match(text, pos)
    if md:
        return _MARKDOWN_LEVEL[len(md.group(1))], md.end(1)
    for pattern, level in _PATTERNS:
        m = pattern.match(text, pos)
        if m:
            return level, m.end()
    return None


def is_heading_line(line: str) -> bool:
    """True for a short line that is a heading: `一、…`, `(二)…`, `篇一`, `体会之一:…`."""
    s = fold_width(line.strip())
    if not s or len(s) > _LINE_MAX:
        return False
    if _PART_SUFFIX.search(s):
        return True
    found = _match_marker(s, 0)
    if not found:
        return False
    level, marker_end = found
    body = s[marker_end:]
    # A heading is one phrase, not a run of sentences.
    return len(re.findall(r"[。!?！？]", body.rstrip("。!?！？ "))) == 0


def _heading_end(text: str, start: int, limit: int) -> int:
    """End of the heading text that starts at `start` (exclusive).

    A heading alone on its line may be long; one followed by body text on the
    same line (run-on PDF text) keeps only its first clause when long.
    """
    m = _HEADING_END.search(text, start, limit)
    end = m.start() if m else limit
    if end - start <= (_LINE_MAX if end == limit else _TEXT_MAX):
        return end
    clause = re.search(r"[,，]", text[start + 4:end])
    if clause and clause.start() + 4 <= _TEXT_MAX:
        return start + 4 + clause.start()
    return start + _TEXT_MAX


def _heading_at(text: str, pos: int, line_end: int) -> Heading | None:
    found = _match_marker(text, pos)
    if not found:
        return None
    level, marker_end = found
    if text.startswith("#", pos):  # Markdown: the heading is the text after the marks
        pos = marker_end
        while pos < line_end and text[pos] in " \t":
            pos += 1
        marker_end = pos
    end = max(_heading_end(text, pos, line_end), marker_end)
    if _DIVISION.match(text, pos) and _named_division(text[pos:line_end]):
        end = pos + len(text[pos:line_end].rstrip())  # "第四章 信访事项的办理": the name after the space
    while end > marker_end and text[end - 1] in " \t,，、:：":
        end -= 1
    if end <= pos:
        return None
    return Heading(pos, end, level, text[pos:end])


def _named_division(line: str) -> bool:
    """A 编/章/节 line of its own: short, no sentence in it."""
    return len(line.strip()) <= _TEXT_MAX and not re.search("[。;；!?！？]", line)


def _line_headings(text: str, start: int, end: int) -> list[Heading]:
    """Headings in one line: at its start and after sentence ends inside it."""
    out: list[Heading] = []
    lead = start + len(text[start:end]) - len(text[start:end].lstrip())
    article = _ARTICLE.match(text, lead, end)
    if article:  # an article's number is its heading; the rest of the line is its text
        return [Heading(lead, article.end(), ARTICLE_LEVEL, article.group())]
    part = _PART_SUFFIX.search(text, lead, end)
    if part and end - lead <= _LINE_MAX and part.start() > lead:
        s = part.start() + (1 if text[part.start()] == "【" else 0)
        e = s + len(part.group().strip().strip("【】"))
        out.append(Heading(s, e, 1, text[s:e]))
        return out
    first = _heading_at(text, lead, end)
    if first:
        out.append(first)
    for m in _INLINE_BEFORE.finditer(text, lead, end):
        pos = m.end()
        if pos >= end or (out and pos < out[-1].end):
            continue
        found = _match_marker(text, pos)
        if not found:
            continue
        if found[0] not in _INLINE_LEVELS and not _INLINE_ITEM.match(text, pos):
            continue
        h = _heading_at(text, pos, end)
        if h:
            out.append(h)
    return [replace(h, scope=end) if _INLINE_ITEM.match(text, h.start) else h for h in out]


_MIN_ARTICLES = 3  # fewer: "第一条" lines are a list, not a law's articles


# The file's own heading styles as levels: Heading 1/<h1> above 第X章 (1), Heading 2 beside it...
_STYLE_LEVEL = {1: 0.75, 2: 1, 3: 2, 4: 3, 5: 4, 6: 4}


def _styled(cleaned: str, styled: tuple[tuple[int, int, int], ...], found: list[Heading],
            title: str) -> list[Heading]:
    """Headings the file styles as such where the text shows no heading marker."""
    starts = {h.start for h in found}
    out = []
    for a, b, n in styled:
        text = cleaned[a:b]
        if a in starts or not text.strip() or text.strip() == title or len(text) > _LINE_MAX:
            continue
        out.append(Heading(a, b, _STYLE_LEVEL[n], text))
    return out


def find_headings(cleaned: str, styled: tuple[tuple[int, int, int], ...] = (), title: str = "") -> list[Heading]:
    """All headings of the cleaned text, in order of position.

    ``styled`` are (start, end, N) lines of the cleaned text that the file
    styles as heading N (docx Heading N, HTML <hN>); they count where the text
    itself shows no heading marker (the title line is not a section).  In a
    text with articles (第X条), the items inside an article ((一)…, 1.…) are
    its text, not sections of their own.
    """
    out: list[Heading] = []
    pos = 0
    folded = fold_width(cleaned)
    for line in folded.split("\n"):
        end = pos + len(line)
        if line.strip():
            out.extend(Heading(h.start, h.end, h.level, cleaned[h.start:h.end], h.scope)
                       for h in _line_headings(folded, pos, end))
        pos = end + 1
    out = sorted(out + _styled(cleaned, styled, out, title), key=lambda h: h.start)
    if sum(h.level == ARTICLE_LEVEL for h in out) < _MIN_ARTICLES:
        return [h for h in out if h.level != ARTICLE_LEVEL]
    return _without_items_in_articles(out)


def _without_items_in_articles(headings: list[Heading]) -> list[Heading]:
    out: list[Heading] = []
    in_article = False
    for h in headings:
        if h.level == ARTICLE_LEVEL:
            in_article = True
        elif h.level < ARTICLE_LEVEL:
            in_article = False
        elif in_article:
            continue
        out.append(h)
    return out


def heading_cut(text: str, start: int) -> int:
    """Where a passage breaks before the heading whose text starts at `start`: at its line's start
    when only Markdown's marks come before it there ("## 法律依据" is cut before the "##")."""
    line = text.rfind("\n", 0, start) + 1
    return line if not text[line:start].strip(" \t#") else start


def article_cuts(headings: list[Heading], text: str) -> list[int]:
    """Where a passage must break: before each article, with the division headings right above it.

    "第二章 …\n第一节 …\n第十一条 …" starts one unit at "第二章", so the headings
    travel with the first article under them while no passage holds two articles.
    """
    cuts = []
    for k, h in enumerate(headings):
        if h.level != ARTICLE_LEVEL:
            continue
        at = h.start
        j = k - 1
        while j >= 0 and headings[j].level < ARTICLE_LEVEL and not text[headings[j].end:at].strip():
            at = headings[j].start
            j -= 1
        cuts.append(heading_cut(text, at))
    return cuts


def unit_position(headings: list[Heading], text: str, start: int, end: int) -> int:
    """Where a passage's own unit starts: at its article when only division headings come before it.

    A passage "第一章 总则\n第一条 …" belongs to 第一章 总则 / 第一条.
    """
    prev_end, first = start, None
    for h in (h for h in headings if start <= h.start < end):
        if text[prev_end:h.start].strip(" \t\n#") or h.level > ARTICLE_LEVEL:
            break  # body text, or an item, comes first
        if h.level == ARTICLE_LEVEL:
            return h.start
        first = h.start if first is None else first  # "## 法律依据": the heading after its marks
        prev_end = h.end
    return start if first is None else first


class Sections:
    """`section_path` and `unit_position` for the many passages of one document, each found by
    bisection over the headings (sorted by start), not by a walk over all of them: a law
    collection of thousands of headings and passages was quadratic."""

    def __init__(self, headings: list[Heading]):
        self.headings = headings
        self.starts = [h.start for h in headings]
        self._stacks: list[tuple[Heading, ...]] = []
        stack: list[Heading] = []
        for h in headings:
            while stack and stack[-1].level >= h.level:
                stack.pop()
            stack.append(h)
            self._stacks.append(tuple(stack))

    def within(self, start: int, end: int) -> list[Heading]:
        """The headings that start in [start, end)."""
        return self.headings[bisect.bisect_left(self.starts, start):bisect.bisect_left(self.starts, end)]

    def path(self, pos: int) -> str:
        """`section_path(headings, pos)`."""
        k = bisect.bisect_right(self.starts, pos)
        return " / ".join(h.label for h in self._stacks[k - 1] if h.scope < 0 or pos < h.scope) if k else ""

    def unit_position(self, text: str, start: int, end: int) -> int:
        """`unit_position(headings, text, start, end)`."""
        return unit_position(self.within(start, end), text, start, end)


def section_path(headings: list[Heading], pos: int) -> str:
    """Chain of headings enclosing position `pos`, outermost first, joined by " / "."""
    return Sections(headings).path(pos)


# ---------------------------------------------------------------- title

# Markup such as "<b>" or "</script>": its ">" closes a tag and separates nothing.
_MARKUP = re.compile(r"<[^<>\n]*>")
_CRUMB = r"[^\s>›»][^>›»\n]{0,23}?[^\s>›»]"
_TRAIL = re.compile(rf"\s*{_CRUMB}(?:\s*[>›»]{{1,2}}\s*{_CRUMB}){{2,}}\s*")
# "首页 >" at the start, also after a label: "您的位置:首页 > …".
_FROM_HOME = re.compile(r"\s*(?:[^\s:：]{1,8}\s*[:：]\s*)?(?:网站首页|首页|主页|home)\s*[>›»]", re.I)
# A site's template tag glued to the end of a title or heading: "…有效服务群众{做好群众工作心得体会}."
TEMPLATE_TAG = re.compile(r"(?<=\S)\{\w[\w ·]{1,39}\}\.?[ \t]*$")


def is_breadcrumb(line: str) -> bool:
    """A navigation trail: "首页 > 栏目 > 文章", "Home › News", or three crumbs "范文 > 总结 > 信访".

    A ">" inside markup ("关于<script>alert(1)</script>的说明") or a single
    comparison ("收入>支出") does not make a trail.
    """
    s = _MARKUP.sub("", line)
    return bool(_FROM_HOME.match(s) or _TRAIL.fullmatch(s))


# File extensions and site names after a title: "….docx", "… - 某某范文网" (also read by the cleaner's title_tag).
FILE_EXTENSIONS = r"docx?|pdf|pptx?|xlsx?|txt|wps|rtf|html?"
FILE_EXT = re.compile(rf"[^\S\n]*\.(?:{FILE_EXTENSIONS})[^\S\n]*$", re.I | re.M)
SITE_SUFFIX = re.compile(
    r"[^\S\n]*[-_|–—·]+[^\S\n]*[^-_|–—·\s]{1,16}(?:网|文库|网站|之家|文档|范文|资料库|\.com|\.cn|\.net)[^\S\n]*$",
    re.I | re.M)
# A line that is nothing but a site's name: "51范文网", "某某文库", "www.example.com".
_SITE_NAME = re.compile(
    rf"(?:www\.)?[A-Za-z0-9.\-]{{0,16}}?[{HAN}]{{0,8}}(?:网|文库|网站|之家|文档网|范文网|资料网)"
    rf"|[{HAN}]{{0,6}}(?:范文|文库|文档|资料|学习|大全|作文|论文|公文|文秘|写作|办公)[{HAN}]{{0,4}}(?:网|库|之家|网站)"
    r"|(?:https?://)?(?:www\.)?[a-z0-9\-]+\.(?:com|cn|net|org)(?:\.cn)?/?", re.I)


def is_site_name(line: str) -> bool:
    return _SITE_NAME.fullmatch(line.strip()) is not None


_NOT_TITLE = re.compile(
    r"第\s*\d+\s*页|共\s*\d+\s*页|上传|下载|分享|收藏|举报|编号|作者[:：]|时间[:：]|当前位置|"
    r"copyright|©|版权|预览|阅读全文|^\s*[-*•·]\s", re.I)
_TITLE_BREAK = re.compile(r"[及和与的之、对]$")


# The head of an official document (GB/T 9704-2012, 版头) above its title: the issuing body's mark
# ("某市人民政府文件", "中共某县委办公室文件"), the document number ("某政发〔2023〕5号", with or
# without "签发人:…" beside it), the signer, the copy number, the secrecy and urgency marks.
_ISSUER_MARK = re.compile(rf"([{HAN}A-Za-z（）()、 \u3000]{{1,36}}(?:政府|委员会|委|办公室|办公厅|厅|局|部|院|署|会|处|室|中心|组|所|社|团|联|庭))文件")
_DOC_NUMBER = re.compile(r"\S{1,20}?[〔\[［(（【]\s*(?:19|20)\d{2}\s*[〕\]］)）】]\s*第?\s*\d{1,4}\s*号"
                         r"(?:\s+签发人\s*[:：].{1,20})?")
_BANNER_OTHER = re.compile(r"签发人\s*[:：].{1,20}|\d{6}|(?:绝密|机密|秘密)(?:\s*★\s*\S{1,6})?|特急|加急|特提|平急")


def issuer_mark(line: str) -> str:
    """The issuing body a head's issuer mark names ("某市人民政府文件" -> 某市人民政府), else ""."""
    m = _ISSUER_MARK.fullmatch(line.strip())
    return m.group(1).strip() if m and "的" not in m.group(1) and "关于" not in m.group(1) else ""


def is_banner_line(line: str) -> bool:
    """A line of an official document's head (its issuer, number, signer, marks), not its title."""
    s = line.strip()
    if "关于" in s or "的" in s:
        return False  # "关于…的通知", "…的文件": a title
    return any(p.fullmatch(s) for p in (_ISSUER_MARK, _DOC_NUMBER, _BANNER_OTHER))


def _title_candidate(line: str) -> str:
    """Strip file extensions, site suffixes and decoration from a line."""
    s = re.sub(r"^#{1,2}\s+", "", line.strip())  # a Markdown title in a .txt ("# 海洋观测预报管理条例")
    s = s.strip().strip("《》")
    s = TEMPLATE_TAG.sub("", s)
    for _ in range(2):
        s = FILE_EXT.sub("", s)
        s = SITE_SUFFIX.sub("", s)
    return s.strip(" _-|.")


def _plausible_title(s: str) -> bool:
    if not 4 <= len(s) <= 60 or _NOT_TITLE.search(s) or is_site_name(s) or is_breadcrumb(s) or is_banner_line(s):
        return False
    if re.search(r"[。!?！？]", s[:-1]) or _match_marker(s, 0):
        return False  # a sentence or a section heading, not a title
    cjk = han_count(s)
    return cjk >= 2 or len(re.findall(r"[A-Za-z]{2,}", s)) >= 2


def _first_lines(text: str, n: int) -> list[str]:
    return [ln for ln in (x.strip() for x in text.split("\n")) if ln][:n]


def _cleaned_first_line(cleaned: str) -> str:
    """The first line of the cleaned text, joined with the next when broken after 及/和/的…"""
    lines = _first_lines(cleaned, 8)
    while lines and is_banner_line(lines[0]):
        lines = lines[1:]
    if not lines:
        return ""
    first = _title_candidate(lines[0])
    if len(lines) > 1 and _TITLE_BREAK.search(first) and len(lines[1]) <= 20:
        first += _title_candidate(lines[1])
    return first


def detect_title(original: str, cleaned: str, filename: str) -> str:
    """The document's real title, else the file stem.

    The first line of the cleaned text (boilerplate already gone) when it
    looks like a title; else the first plausible line of the original,
    preferring one the original repeats (sites echo the title in their
    upload and download lines).  File extensions, site suffixes and a
    trailing "篇一" are stripped; year prefixes stay.
    """
    first = _cleaned_first_line(cleaned)
    if _plausible_title(first):
        return _PART_SUFFIX.sub("", first).strip() or first
    plausible = [c for c in map(_title_candidate, _first_lines(original, 10)) if _plausible_title(c)]
    repeated = [c for c in plausible if original.count(c) >= 2]
    for title in repeated[:1] + plausible[:1]:
        return _PART_SUFFIX.sub("", title).strip() or title
    stem = Path(filename).stem
    return _title_candidate(stem) or stem
