"""Rules for a site's page furniture: chrome lines, link lists of titles, filler intros, tags after titles."""
from __future__ import annotations

import re

from ingest.cleaning.core import Span
from ingest.cleaning.helpers import (KEYWORDS, LICENCE, NEIGHBOURS, PREVIEW_END, RELATED, RELATED_LABELS,
                                     ends_sentence, line_with_break, lines_of)
from ingest.structure import FILE_EXT, SITE_SUFFIX, TEMPLATE_TAG, is_breadcrumb, is_heading_line, is_site_name
from index.chars import HAN
from index.units import SENTENCE

# Lines that *start* like page metadata: upload/author/time lines, breadcrumbs,
# copyright and disclaimer lines, keyword/tag lines.
_META_START = re.compile(
    rf"\s*[-*·•]?\s*(?:{LICENCE}|特别声明|当前位置|您的位置|你的位置|"
    rf"上传人|上传者|上传时间|上传日期|文档编号|文档格式|文档分类|{KEYWORDS}\s*[:：]|标签\s*[:：]|"
    r"tags?\s*:|来源\s*[:：]|作者\s*[:：]|(?:发布|更新|上传)?(?:时间|日期)\s*[:：]\s*\d{4}[-/.]\d{1,2}|发布于\s*\d|"
    r"更新时间|责任编辑|编辑\s*[:：]|浏览(?:次数|量)?\s*[:：]|(?:阅读|点击)(?:次数|量)?\s*[:：]\s*\d|"
    r"所属分类|本文(?:链接|地址|网址)|原文(?:链接|地址)|转载请注明|文章来源|(?:主办|承办|协办)单位\s*[:：]|"
    r"内容提供方|(?:首页|主页|home)\s*[>›»/]|"
    r"(?:posted|uploaded|published|written|shared)\s+(?:on|by)\b|published\s*:|last\s+updated)", re.I)
# A run of page statistics "浏览:356 下载:12 大小:30KB" (breadcrumbs: ingest.structure.is_breadcrumb).
_STAT = re.compile(
    rf"[{HAN}A-Za-z]{{1,6}}\s*[:：]\s*(?:\d[\d.,:/\-\s]*(?:KB|MB|GB|页|次|人|个|分|元)?|[A-Za-z0-9_*]{{2,}})(?=\s|$)",
    re.I)
_META_LINE_SHORT = 120

# Site chrome anywhere in a line: sharing/upload notes, download and preview
# prompts, follow prompts, licence lines.  A line up to _CHROME_LINE_MAX
# characters with one of these goes whole.
_CHROME = re.compile(
    r"由会员分享|会员分享|用户上传|网友(?:上传|投稿|分享)|本文由.{0,20}?(?:上传|提供|整理|发布|收集)|"
    rf"可在线阅读|{PREVIEW_END}|免费预览|预览范围|剩余\s*\d+\s*页|超出.{{0,8}}预览|喜欢就下载|"
    r"点击(?:此处)?下载|立即下载|免费下载|下载完整|下载文档|下载本文|下载地址|付费下载|下载积分|下载券|欢迎下载|"
    rf"下载\s+相关\s+举报|{RELATED}|(?:{NEIGHBOURS})\s*[:：]|扫一扫关注|扫码关注|"
    r"资源描述|文档简介|特殊限制|收藏\s*分享|分享\s*[(（]赏[)）]|ICP\s*备|ICP证|经营许可证(?:编号)?\s*[:：]\s*\S{0,3}[A-Z0-9][A-Z0-9-]{4,}|"
    r"公网安备|网站版权|版权所有|请在.{1,40}?网站?上?(?:搜索|查找)|all rights reserved|download (?:now|pdf|full)|"
    r"privacy policy|terms of (?:use|service)|"
    r"无障碍(?:浏览|阅读|模式)|长者模式|关怀(?:模式|版)|适老化(?:模式|版)|打印本页|关闭窗口|网站标识码|网站地图\s*\|",
    re.I)
# Widget labels that are also ordinary words ("阅读全文", "微信公众号"): only a
# line that is little more than the label goes.
_WIDGET = re.compile(
    rf"{RELATED_LABELS}|查看全文|全文阅读|继续阅读|相关文章|精品推荐|返回首页|返回顶部|"
    r"返回列表|分享到|扫一扫|微信公众号|关注公众号|(?:长按|扫描)(?:识别)?二维码|其他文档|更多文档|相关下载|"
    r"read more|click here|share (?:this|on|to)|sign up|log in|subscribe|download|report this|"
    r"facebook|twitter|linkedin|whatsapp", re.I)
_WIDGET_LINE_MAX = 30
_CHROME_LINE_MAX = 160
_META_LINE_MAX = 300


def _is_chrome_line(line: str, index: int, total: int) -> bool:
    s = line.strip()
    if not s or is_heading_line(s):
        return False
    if len(s) <= _META_LINE_MAX and _META_START.match(s):
        return True
    if len(s) <= _META_LINE_SHORT and "。" not in s and (
            is_breadcrumb(s) or len(_STAT.findall(s)) >= 2):
        return True
    if len(s) <= _CHROME_LINE_MAX and _CHROME.search(s):
        return True
    if len(s) <= _WIDGET_LINE_MAX and _WIDGET.search(s):
        return True
    near_edge = index < 5 or index >= total - 5
    return near_edge and len(s) <= 16 and is_site_name(s)


def site_boilerplate(text: str) -> list[Span]:
    """Whole lines of site chrome; in long content lines only the chrome phrase."""
    lines = lines_of(text)
    spans: list[Span] = []
    for i, (a, b) in enumerate(lines):
        line = text[a:b]
        if _is_chrome_line(line, i, len(lines)):
            spans.append(line_with_break(text, a, b))
        elif len(line.strip()) > _CHROME_LINE_MAX:
            spans += [(a + m.start(), a + m.end()) for m in _CHROME.finditer(line)]
    return spans


def _common_suffix(a: str, b: str) -> int:
    """Word characters (CJK, letters, digits) in the longest common suffix of a and b."""
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return sum(1 for ch in a[len(a) - n:] if ch.isalnum())


_SITE_TAIL = re.compile(r"(?:网|库|站|之家|文档|范文|\.com|\.cn|\.net)\s*$", re.I)
_LISTED_MAX = 100


def _suffix_run(rows: list[tuple[int, int, str]], i: int) -> tuple[int, int]:
    """(end, shared suffix) of the run of short lines from rows[i] that share a suffix with it."""
    j, suffix = i + 1, 0
    while j < len(rows) and len(rows[j][2]) <= _LISTED_MAX and len(rows[i][2]) <= _LISTED_MAX:
        shared = _common_suffix(rows[i][2], rows[j][2])
        shared = shared if j == i + 1 else min(suffix, shared)
        if shared < 2 or ends_sentence(rows[j][2]):
            break
        suffix, j = shared, j + 1
    return j, suffix


def title_list(text: str) -> list[Span]:
    """Runs of short lines that share a site-name suffix ("…一号文库"): link lists.

    At least three lines sharing a suffix of three or more word characters
    that looks like a site name; six or more lines for any other suffix.
    """
    rows = [(a, b, text[a:b].strip()) for a, b in lines_of(text) if text[a:b].strip()]
    spans: list[Span] = []
    i = 0
    while i < len(rows):
        j, suffix = _suffix_run(rows, i)
        site_like = _SITE_TAIL.search(rows[i][2]) is not None
        headings = any(is_heading_line(r[2]) for r in rows[i:j])
        if j - i >= 3 and suffix >= 3 and (site_like or j - i >= 6) and not headings:
            spans += [line_with_break(text, a, b) for a, b, _ in rows[i:j]]
            i = j
        else:
            i += 1
    return spans


# Sentences that address the reader about the page itself ("今天小编就为大家分享…").
_FILLER = re.compile(
    r"小编|本站(?:为|整理|提供|推荐|收集|编辑)|为(?:大家|您|你)(?:精心)?(?:整理|分享|带来|收集|推荐|准备|提供|汇编)|"
    r"供(?:大家|您|你)(?:参考|借鉴|阅读|学习)|希望(?:能|可以)?对(?:大家|您|你)有所?帮助|"
    r"希望(?:大家|您|你)(?:能够?)?喜欢|欢迎(?:阅读|借鉴|参考|收藏)|(?:一起|快)来看一?看|仅供参考|"
    r"如何写吗|怎么写(?:才|呢|吗)|感谢(?:您的)?阅读|"
    r"更多.{0,12}(?:请|尽在|敬请)(?:关注|访问|点击)|具有很好的参考价值")


def filler_intro(text: str) -> list[Span]:
    """Filler sentences about the page; the whole paragraph when they are most of it."""
    spans: list[Span] = []
    for a, b in lines_of(text):
        sentences = [(a + m.start(), a + m.end()) for m in SENTENCE.finditer(text[a:b]) if m.group().strip()]
        filler = [s for s in sentences if _FILLER.search(text[s[0]:s[1]])]
        if not filler:
            continue
        if 2 * len(filler) > len(sentences) and b - a <= 300:
            spans.append(line_with_break(text, a, b))
        else:
            spans += filler
    return spans


_TITLE_MAX = 60
_SENTENCE_MARK = re.compile("[。!?！？;；]")


def _titled(head: str, first: bool) -> bool:
    """Is the text before a tag a heading, or (on the first line) a title?"""
    head = head.strip()
    return is_heading_line(head) or (first and len(head) <= _TITLE_MAX and not _SENTENCE_MARK.search(head))


def _template_tags(text: str) -> list[Span]:
    """Tags "{…}." glued to the end of the title line or of a heading line; never in body text."""
    rows = [(a, b) for a, b in lines_of(text) if text[a:b].strip()]
    spans = []
    for k, (a, b) in enumerate(rows):
        m = TEMPLATE_TAG.search(text, a, b)
        if m and _titled(text[a:m.start()], first=k == 0):
            spans.append(m.span())
    return spans


def title_tag(text: str) -> list[Span]:
    """Template tags after the title or a heading; file extensions and site names after the title.

    A tag is "{…}" glued to the end of the line ("…有效服务群众{做好群众工作心得体会}.");
    braces in body text ("{7*7}", "填写{变量}后提交") are content and stay.
    """
    spans = _template_tags(text)
    for a, b in lines_of(text)[:8]:
        if b - a > 80:
            continue
        for pattern in (FILE_EXT, SITE_SUFFIX):
            m = pattern.search(text, a, b)
            if m and m.start() > a:
                spans.append(m.span())
    return spans
