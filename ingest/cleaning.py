"""Delete scraped-page noise from a document, keeping an exact offset map.

Cleaning only *deletes* characters: the cleaned text is a subsequence of the
original and ``CleanText.offsets[i]`` is the original index of cleaned
character ``i``.  Each rule is a small function ``(text) -> spans`` returning
``(start, end)`` spans to delete in the *current* text; ``clean`` runs the
rules in order (``RULES``) and composes the offset map after each one.

Rules find noise by form (page counters, upload lines, download prompts),
by repetition across the document (running headers around page counters,
lists of titles sharing a site suffix, n-grams split by a spliced watermark)
and by meaning (short inserted lines far from the document's topic, scored
with the passage embedder when one is given).  None lists sentences of a
particular corpus.
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ingest.structure import is_heading_line

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

Span = tuple[int, int]
Embed = Callable[[list[str]], "np.ndarray"]


@dataclass(frozen=True)
class Removal:
    start: int  # span in the ORIGINAL text, end exclusive
    end: int
    rule: str
    text: str  # original[start:end]


@dataclass(frozen=True)
class CleanText:
    text: str
    offsets: tuple[int, ...]  # offsets[i] = index in the original of cleaned char i
    removals: tuple[Removal, ...]  # sorted by start

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a cleaned span [start, end) to the original span it covers."""
        n = len(self.offsets)
        start, end = max(0, min(start, n)), max(0, min(end, n))
        if end <= start:
            if n == 0:
                return 0, 0
            at = self.offsets[start] if start < n else self.offsets[-1] + 1
            return at, at
        return self.offsets[start], self.offsets[end - 1] + 1

    def removed_chars(self) -> int:
        return sum(r.end - r.start for r in self.removals)

    def by_rule(self) -> dict[str, list[Removal]]:
        out: dict[str, list[Removal]] = {}
        for r in self.removals:
            out.setdefault(r.rule, []).append(r)
        return out


@dataclass(frozen=True)
class Rule:
    name: str
    find: Callable[..., list[Span]]
    doc: str
    needs_embed: bool = False


# ------------------------------------------------------------ text helpers

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Full-width punctuation that sits between CJK characters.
CJK_PUNCT = "\u3000-\u303f\uff00-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65\u2014-\u2026"
TERMINAL = "。!?!?;;…"
CLOSERS = "”’」』)】》\"')"
_CJK_RE = re.compile(f"[{CJK}]")


def is_cjk(ch: str) -> bool:
    return bool(_CJK_RE.match(ch))


def bigram_counts(text: str) -> Counter:
    """Counts of adjacent word-character pairs (punctuation and spaces skipped)."""
    chars = [ch for ch in text if is_cjk(ch) or ch.isalnum()]
    return Counter(a + b for a, b in zip(chars, chars[1:]))


def lines_of(text: str) -> list[Span]:
    """(start, end) of every line's content, newline excluded."""
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, pos + len(line)))
        pos += len(line) + 1
    return out


def ends_sentence(s: str) -> bool:
    s = s.rstrip().rstrip(CLOSERS)
    return bool(s) and s[-1] in TERMINAL


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def line_with_break(text: str, start: int, end: int) -> Span:
    """Extend a line span over its newline so deleting it leaves no hole."""
    return (start, end + 1) if end < len(text) else (max(0, start - 1), end)


# ------------------------------------------------------------ the driver

def _normalise(spans: list[Span], n: int) -> list[Span]:
    """Clamp, sort and merge overlapping or touching spans."""
    out: list[list[int]] = []
    for a, b in sorted((max(0, a), min(n, b)) for a, b in spans):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _record(spans: list[Span], offsets: list[int], original: str, rule: str) -> list[Removal]:
    """Removals in original coordinates: one per run of contiguous original indices."""
    out = []
    for a, b in spans:
        run_start = prev = offsets[a]
        for i in range(a + 1, b):
            if offsets[i] != prev + 1:
                out.append(Removal(run_start, prev + 1, rule, original[run_start:prev + 1]))
                run_start = offsets[i]
            prev = offsets[i]
        out.append(Removal(run_start, prev + 1, rule, original[run_start:prev + 1]))
    return out


def _merge_removals(removals: list[Removal], original: str) -> tuple[Removal, ...]:
    out: list[Removal] = []
    for r in sorted(removals, key=lambda r: r.start):
        if out and out[-1].rule == r.rule and out[-1].end == r.start:
            last = out.pop()
            r = Removal(last.start, r.end, r.rule, original[last.start:r.end])
        out.append(r)
    return tuple(out)


def clean(original: str, *, embed: Embed | None = None) -> CleanText:
    """Run every rule of RULES in order; return the text with its offset map."""
    text, offsets = original, list(range(len(original)))
    removals: list[Removal] = []
    for rule in RULES:
        found = rule.find(text, embed=embed) if rule.needs_embed else rule.find(text)
        spans = _normalise(found, len(text))
        if not spans:
            continue
        removals += _record(spans, offsets, original, rule.name)
        keep = [True] * len(text)
        for a, b in spans:
            keep[a:b] = [False] * (b - a)
        text = "".join(ch for ch, k in zip(text, keep) if k)
        offsets = [o for o, k in zip(offsets, keep) if k]
    return CleanText(text, tuple(offsets), _merge_removals(removals, original))


# ------------------------------------------------------------ form rules

_INVISIBLE = re.compile("[\r\u200b-\u200f\u2060\ufeff\u00ad\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def invisible(text: str) -> list[Span]:
    """Carriage returns, zero-width and control characters."""
    return [m.span() for m in _INVISIBLE.finditer(text)]


# Lines that *start* like page metadata: upload/author/time lines, breadcrumbs,
# copyright and disclaimer lines, keyword/tag lines.
_META_START = re.compile(
    r"\s*[-*·•]?\s*(?:版权声明|免责声明|特别声明|copyright|©|当前位置|您的位置|你的位置|"
    r"上传人|上传者|上传时间|上传日期|文档编号|文档格式|文档分类|关\s*键\s*词\s*[::]|标签\s*[::]|"
    r"tags?\s*:|来源\s*[::]|作者\s*[::]|(?:发布|更新|上传)?(?:时间|日期)\s*[::]\s*\d{4}[-/.]\d{1,2}|发布于\s*\d|"
    r"更新时间|责任编辑|编辑\s*[::]|浏览(?:次数|量)?\s*[::]|(?:阅读|点击)(?:次数|量)?\s*[::]\s*\d|"
    r"所属分类|本文(?:链接|地址|网址)|原文(?:链接|地址)|转载请注明|文章来源|"
    r"内容提供方|(?:首页|主页|home)\s*[>›»/]|"
    r"(?:posted|uploaded|published|written|shared)\s+(?:on|by)\b|published\s*:|last\s+updated)", re.I)
# A breadcrumb "A > B > C" or a run of page statistics "浏览:356 下载:12 大小:30KB".
_BREADCRUMB = re.compile(r"(?:\S[^>›»\n]{0,20}\s*[>›»]\s*){2,}\S")
_STAT = re.compile(
    r"[\u4e00-\u9fffA-Za-z]{1,6}\s*[::]\s*(?:\d[\d.,:/\-\s]*(?:KB|MB|GB|页|次|人|个|分|元)?|[A-Za-z0-9_*]{2,})(?=\s|$)",
    re.I)
_META_LINE_SHORT = 120

# Site chrome anywhere in a line: sharing/upload notes, download and preview
# prompts, follow prompts, licence lines.  A line up to _CHROME_LINE_MAX
# characters with one of these goes whole.
_CHROME = re.compile(
    r"由会员分享|会员分享|用户上传|网友(?:上传|投稿|分享)|本文由.{0,20}?(?:上传|提供|整理|发布|收集)|"
    r"可在线阅读|展开阅读全文|免费预览|预览范围|预览已结束|剩余\s*\d+\s*页|超出.{0,8}预览|喜欢就下载|"
    r"点击(?:此处)?下载|立即下载|免费下载|下载完整|下载文档|下载本文|下载地址|付费下载|下载积分|下载券|欢迎下载|"
    r"下载\s+相关\s+举报|相关资源|猜你喜欢|相关搜索|上一篇\s*[::]|下一篇\s*[::]|扫一扫关注|扫码关注|"
    r"资源描述|文档简介|配套讲稿|特殊限制|收藏\s*分享|分享\s*[((]赏[))]|ICP\s*备|ICP证|经营许可证(?:编号|[::])|"
    r"公网安备|网站版权|版权所有|请在.{1,40}?网站?上?(?:搜索|查找)|all rights reserved|download (?:now|pdf|full)|"
    r"privacy policy|terms of (?:use|service)",
    re.I)
# Widget labels that are also ordinary words ("阅读全文", "微信公众号"): only a
# line that is little more than the label goes.
_WIDGET = re.compile(
    r"阅读全文|查看全文|全文阅读|继续阅读|相关文章|相关文档|相关推荐|热门推荐|精品推荐|推荐阅读|返回首页|返回顶部|"
    r"返回列表|分享到|扫一扫|微信公众号|关注公众号|(?:长按|扫描)(?:识别)?二维码|其他文档|更多文档|相关下载|"
    r"read more|click here|share (?:this|on|to)|sign up|log in|subscribe|download|report this|"
    r"facebook|twitter|linkedin|whatsapp", re.I)
_WIDGET_LINE_MAX = 30
# Short lines that name the site itself ("51范文网", "www.example.com").
_SITE_NAME = re.compile(
    r"\s*(?:www\.)?[A-Za-z0-9]+[\u4e00-\u9fff]{0,8}网\s*$"
    r"|\s*[\u4e00-\u9fff]{1,4}(?:网|文库)\s*$"
    r"|\s*[\u4e00-\u9fff]{0,6}(?:范文|文库|文档|资料|学习|大全|作文|论文|公文|文秘|写作|办公)[\u4e00-\u9fff]{0,4}(?:网|库|之家|网站)\s*$"
    r"|\s*(?:https?://)?(?:www\.)?[a-z0-9\-]+\.(?:com|cn|net|org)(?:\.cn)?/?\s*$", re.I)
_CHROME_LINE_MAX = 160
_META_LINE_MAX = 300


def _is_chrome_line(line: str, index: int, total: int) -> bool:
    s = line.strip()
    if not s or is_heading_line(s):
        return False
    if len(s) <= _META_LINE_MAX and _META_START.match(s):
        return True
    if len(s) <= _META_LINE_SHORT and "。" not in s and (
            _BREADCRUMB.fullmatch(s) or len(_STAT.findall(s)) >= 2):
        return True
    if len(s) <= _CHROME_LINE_MAX and _CHROME.search(s):
        return True
    if len(s) <= _WIDGET_LINE_MAX and _WIDGET.search(s):
        return True
    near_edge = index < 5 or index >= total - 5
    return near_edge and len(s) <= 16 and bool(_SITE_NAME.match(s))


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


# A page counter in any of its common shapes.
_COUNTER = re.compile(
    r"第\s*\d{1,4}\s*页\s*[,,、/／]?\s*共\s*\d{1,4}\s*页"
    r"|[((]?\s*共\s*\d{1,4}\s*页\s*[))]?\s*[,,、/／]?\s*第\s*\d{1,4}\s*页"
    r"|\d{1,4}\s*页\s*[,,]\s*当前第\s*\d{1,4}(?:\s*页)?"
    r"|当前第\s*\d{1,4}\s*页"
    r"|\bpage\s+\d{1,4}\s*(?:of|/)\s*\d{1,4}\b", re.I)
_COUNTER_DECOR = "-—–_=·•* \t"
# Lines that are nothing but a page number or a file-page label.
_COUNTER_LINE = re.compile(
    r"\s*(?:[-—–]\s*)?\d{1,4}(?:\s*[-—–])?\s*$"
    r"|\s*第\s*\d{1,4}\s*页\s*$"
    r"|\s*\d{1,4}\s*/\s*\d{1,4}\s*$"
    r"|\s*page\s+\d{1,4}\s*$"
    r"|.{0,120}\.(?:docx?|pdf|pptx?|xlsx?|txt|wps)\s*[_\-\s]\s*第\s*\d{1,4}\s*页\s*$", re.I)


def _widen(text: str, a: int, b: int, chars: str) -> Span:
    while a > 0 and text[a - 1] in chars:
        a -= 1
    while b < len(text) and text[b] in chars:
        b += 1
    return a, b


def page_counter(text: str) -> list[Span]:
    """Page counters ("第1页 / 共26页", "(共5页)第2页", "Page 3 of 12", "x.docx_第1页")."""
    spans: list[Span] = []
    for a, b in lines_of(text):
        if a < b and _COUNTER_LINE.match(text[a:b]):
            spans.append(line_with_break(text, a, b))
    for m in _COUNTER.finditer(text):
        spans.append(_widen(text, m.start(), m.end(), _COUNTER_DECOR))
    return spans


def _mask(ch: str) -> str:
    return "#" if ch.isdigit() else ch


def _shared_extent(text: str, anchors: list[Span], step: int) -> int:
    """How many characters all anchors share on one side (digits masked)."""
    k = 0
    while True:
        chars = set()
        for a, b in anchors:
            i = a - k - 1 if step < 0 else b + k
            if not 0 <= i < len(text) or text[i] == "\n":
                return k
            chars.add(_mask(text[i]))
        if len(chars) != 1:
            return k
        k += 1


_HEADER_MIN = 4  # a shorter shared context (a "。" before each counter) is coincidence


def running_header(text: str) -> list[Span]:
    """Header/footer blocks repeated around every page counter, and their other copies.

    The block is learnt from the document: starting at each page counter, it
    grows left and right while every copy has the same characters.  Its two
    halves are then deleted wherever else they occur (a first page header
    printed without counter).
    """
    anchors = [m.span() for m in _COUNTER.finditer(text)]
    if len(anchors) < 2:
        return []
    left, right = _shared_extent(text, anchors, -1), _shared_extent(text, anchors, +1)
    left, right = (left if left >= _HEADER_MIN else 0), (right if right >= _HEADER_MIN else 0)
    spans = [(a - left, a) for a, _ in anchors] + [(b, b + right) for _, b in anchors]
    a0, b0 = anchors[0]
    for piece in (text[a0 - left:a0], text[b0:b0 + right]):
        piece = piece.strip(_COUNTER_DECOR)
        if len(piece) >= 6 and sum(ch.isalpha() for ch in piece) >= 4:
            spans += [(m.start(), m.end()) for m in re.finditer(re.escape(piece), text)]
    return spans


_FRAGMENT_NO = re.compile(r"(?m)^[ \t]*(\d{1,3})、")
_FRAGMENT_MIN_LINE = 150


def page_fragment_number(text: str) -> list[Span]:
    """Numbers "2、" that a site puts at the start of each page fragment.

    Recognised as a run 1, 2, 3... of line-initial numbers whose lines are
    page-sized (a real list has short items).  A fragment that starts
    mid-sentence is joined to the previous one: "群众工\\n\\n2、作成为" ->
    "群众工作成为".
    """
    found = [(int(m.group(1)), m) for m in _FRAGMENT_NO.finditer(text)]
    chain, expect = [], 1
    for n, m in found:
        if n == expect:
            chain.append(m)
            expect += 1
    if len(chain) < 2:
        return []
    lengths = sorted(_line_end(text, m.start()) - m.start() for m in chain)
    if lengths[len(lengths) // 2] < _FRAGMENT_MIN_LINE:
        return []
    spans = []
    for m in chain:
        a = m.start()
        if m.group(1) != "1":
            b = a
            while b > 0 and text[b - 1] in " \t\n":
                b -= 1
            if b > 0 and not ends_sentence(text[max(0, b - 3):b]):
                a = b
        spans.append((a, m.end()))
    return spans


# Markers that open a page's tail (related lists, download prompts, licence).
_TAIL_START = re.compile(
    r"\s*[-*·•]?\s*(?:展开阅读全文|阅读全文|全文预览已结束|预览已结束|下载本文档|相关资源|猜你喜欢|相关搜索|相关文档|相关推荐|推荐阅读|"
    r"热门(?:文章|推荐)|配套讲稿|版权声明|免责声明|copyright|©|上一篇|下一篇|"
    r"本文关键词|关\s*键\s*词|related (?:posts|articles))", re.I)
_TAIL_LINE_MAX = 200


def footer_zone(text: str) -> list[Span]:
    """Everything from a tail marker to the end, when that tail is all short lines."""
    lines = lines_of(text)
    for a, b in lines:
        if a < len(text) * 0.5 or not _TAIL_START.match(text[a:b]):
            continue
        tail = [text[x:y].strip() for x, y in lines if x >= a]
        if len(text) - a <= max(800, 0.3 * len(text)) and all(len(t) <= _TAIL_LINE_MAX for t in tail):
            start = a
            while start > 0 and text[start - 1] in " \t\n":
                start -= 1
            return [(start, len(text))]
    return []


def _common_suffix(a: str, b: str) -> int:
    """Word characters (CJK, letters, digits) in the longest common suffix of a and b."""
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return sum(1 for ch in a[len(a) - n:] if ch.isalnum())


_SITE_TAIL = re.compile(r"(?:网|库|站|之家|文档|范文|\.com|\.cn|\.net)\s*$", re.I)


def title_list(text: str) -> list[Span]:
    """Runs of short lines that share a site-name suffix ("…一号文库"): link lists.

    At least three lines sharing a suffix of three or more word characters
    that looks like a site name; six or more lines for any other suffix.
    """
    rows = [(a, b, text[a:b].strip()) for a, b in lines_of(text) if text[a:b].strip()]
    spans: list[Span] = []
    i = 0
    while i < len(rows):
        j, suffix = i + 1, 0
        while j < len(rows) and len(rows[j][2]) <= 100 and len(rows[i][2]) <= 100:
            shared = _common_suffix(rows[i][2], rows[j][2]) if j == i + 1 else min(
                suffix, _common_suffix(rows[i][2], rows[j][2]))
            if shared < 2 or ends_sentence(rows[j][2]):
                break
            suffix, j = shared, j + 1
        run = j - i
        site_like = _SITE_TAIL.search(rows[i][2]) is not None
        if run >= 3 and suffix >= 3 and (site_like or run >= 6) and not any(is_heading_line(r[2]) for r in rows[i:j]):
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
_SENTENCE = re.compile(r"[^。!?!?\n]*(?:[。!?!?]+[”’\"]?|$)")


def filler_intro(text: str) -> list[Span]:
    """Filler sentences about the page; the whole paragraph when they are most of it."""
    spans: list[Span] = []
    for a, b in lines_of(text):
        sentences = [(a + m.start(), a + m.end()) for m in _SENTENCE.finditer(text[a:b]) if m.group().strip()]
        filler = [s for s in sentences if _FILLER.search(text[s[0]:s[1]])]
        if not filler:
            continue
        if 2 * len(filler) > len(sentences) and b - a <= 300:
            spans.append(line_with_break(text, a, b))
        else:
            spans += filler
    return spans


_TAG = re.compile(r"\{[^{}\n]{1,40}\}\.?")
_FILE_EXT = re.compile(r"[ \t]*\.(?:docx?|pdf|pptx?|xlsx?|txt|wps)[ \t]*$", re.I | re.M)


_SITE_SUFFIX = re.compile(
    r"[ \t]*[-_|–—·][ \t]*[^-_|–—·\s]{1,16}(?:网|文库|网站|之家|文档|资料库|\.com|\.cn|\.net)[ \t]*$", re.I | re.M)


def title_tag(text: str) -> list[Span]:
    """Template tags "{做好群众工作心得体会}."; file extensions and site names after a title."""
    spans = [m.span() for m in _TAG.finditer(text)]
    for a, b in lines_of(text)[:8]:
        if b - a > 80:
            continue
        for pattern in (_FILE_EXT, _SITE_SUFFIX):
            m = pattern.search(text, a, b)
            if m and m.start() > a:
                spans.append(m.span())
    return spans


_DASH_IN_WORD = re.compile(f"(?<=[{CJK}])[-‐‑](?=[{CJK}])")


def dash_in_word(text: str) -> list[Span]:
    """A lone hyphen inserted between two Chinese characters ("和-谐")."""
    return [m.span() for m in _DASH_IN_WORD.finditer(text)]


_SPACES = re.compile("[ \t\u3000\xa0]+")
_WIDE = re.compile(f"[{CJK}{CJK_PUNCT}“”‘’]")
_FW_PUNCT = re.compile(f"[{CJK_PUNCT}“”‘’]")
_UNIT = "年月日号时点分秒个元角万亿千百次人户家项条件名位岁天周度届期批倍"
_HEADING_START = re.compile(
    r"[((]?[一二三四五六七八九十]{1,3}[、)).．]|[一二三四五六七八九十]{1,3}是|第[一二三四五六七八九十\d]{1,3}[篇章节部]"
    r"|篇[一二三四五六七八九十]|\d{1,2}、")
_WRAP_GAP = 80


def _wrap_mode(inner: list[Span]) -> bool:
    """True when spaces between CJK recur every line width or so (PDF line wraps)."""
    if len(inner) < 5:
        return False
    gaps = sorted(b[0] - a[0] for a, b in zip(inner, inner[1:]))
    return gaps[len(gaps) // 2] <= _WRAP_GAP


def cjk_space(text: str) -> list[Span]:
    """Spaces inside Chinese text left by PDF extraction ("扎实做 好" -> "扎实做好").

    Spaces next to full-width punctuation and between a number and its unit
    ("2022 年") always go.  Spaces between two Chinese characters go when the
    document shows the line-wrap pattern (one every line width); in documents
    where they are rare they separate paragraphs and stay.  Spaces between
    Latin words or numbers never go; neither do spaces before a heading marker.
    """
    cands = []
    for m in _SPACES.finditer(text):
        a, b = m.span()
        if 0 < a and b < len(text) and text[a - 1] != "\n" and text[b] != "\n":
            cands.append((a, b))
    inner = [(a, b) for a, b in cands if is_cjk(text[a - 1]) and is_cjk(text[b])]
    wrap = _wrap_mode(inner)
    spans = []
    for a, b in cands:
        left, right = text[a - 1], text[b]
        if _HEADING_START.match(text, b) and not left.isdigit():
            continue
        wide = _WIDE.match(left) and _WIDE.match(right)
        if wide and (wrap or _FW_PUNCT.match(left) or _FW_PUNCT.match(right)):
            spans.append((a, b))
        elif _WIDE.match(left) and right in ",.;:!?)":
            spans.append((a, b))  # a space before punctuation is never a separator
        elif left.isdigit() and right in _UNIT:
            spans.append((a, b))
        elif wrap and (left.isdigit() and is_cjk(right) or is_cjk(left) and right.isdigit()):
            spans.append((a, b))
    return spans


def _ngram_counts(text: str, n: int) -> Counter:
    return Counter(text[i:i + n] for i in range(len(text) - n + 1))


_WM_MIN, _WM_MAX = 2, 8


def _glued_elsewhere(text: str, i: int, j: int) -> bool:
    """Do the 4 characters on one side of text[i:j] meet the other side everywhere else?

    A watermark splits a phrase that the document otherwise writes whole
    ("全心全意|本文|为人民服务"); a real word inserted between two phrases
    ("工作的|坚实|基础") sits where the document writes many different things.
    """
    left, right = text[i - 4:i], text[j:j + 4]
    for side, glued in ((left, left + text[j:j + 2]), (right, text[i - 2:i] + right)):
        total = text.count(side) - 1
        if len(side) == 4 and total >= 2 and (text.count(glued)) / total >= 0.75:
            return True
    return False


def _is_splice(text: str, i: int, j: int, grams2: Counter, grams4: Counter) -> bool:
    """Could text[i:j] be a foreign string spliced inside a phrase here?"""
    piece = text[i:j]
    if grams2[text[i - 1] + text[j]] < 3 or max(grams4[text[i - 4:i]], grams4[text[j:j + 4]]) < 3:
        return False  # cheap filters first: the rejoined phrase must be common
    if not all(is_cjk(ch) for ch in text[i - 2:j + 2]):
        return False
    copies = text.count(piece)
    if grams2[text[i - 1:i + 1]] != text.count(text[i - 1:j]) or grams2[text[j - 1:j + 1]] != text.count(text[i:j + 1]):
        return False  # a seam it makes also occurs without it
    if any(grams2[piece[k:k + 2]] > copies for k in range(len(piece) - 1)):
        return False  # its own bigrams occur elsewhere
    return _glued_elsewhere(text, i, j)


def watermark(text: str) -> list[Span]:
    """Foreign strings spliced inside a phrase ("与群文秘杂烩风众" -> "与群众").

    A span is a watermark when deleting it rejoins a phrase the document
    otherwise writes whole, when the seams it makes and its own bigrams occur
    only with it, and when *every* copy of it in the document is such a
    splice (a real word also occurs in ordinary places).  Two-character
    spans must occur at least twice: a lone one is too often a real word.
    """
    grams2, grams4 = _ngram_counts(text, 2), _ngram_counts(text, 4)
    found: dict[str, list[Span]] = {}
    i = 2
    while i < len(text) - 2:
        for size in range(_WM_MIN, _WM_MAX + 1):
            j = i + size
            if j + 2 <= len(text) and grams2[text[i - 1:i + 1]] <= 3 and _is_splice(text, i, j, grams2, grams4):
                found.setdefault(text[i:j], []).append((i, j))
                i = j
                break
        else:
            i += 1
    spans: list[Span] = []
    for piece, where in found.items():
        if len(where) == text.count(piece) and (len(piece) >= 3 or len(where) >= 2):
            spans += where
    return spans


# ------------------------------------------------------------ inserted lines

_ITEM_START = re.compile(r"\s*(?:\d{1,3}[、.．)]|[a-zA-Z][、.．)]|[((]|[①-⑳]|[一二三四五六七八九十]+[、是.])")
_DANGLING = "。,,;;!?!?、"
_ATTRIBUTION = re.compile(r"——\s*\S{1,24}\s*$|—\s*[A-Za-z\u4e00-\u9fff·. ]{1,24}$")
_NARRATIVE = re.compile("(?:我|你|她|他)们?俩?[^,,。]{0,8}(?:了|着|过)|仿佛|送你|愿你|祝你")
_CANDIDATE_MAX = 80
_MIN_REFS = 8  # fewer reference sentences than this: no semantic judgement
_MIN_SIGMA = 0.01  # the spread of cosines among a document's own sentences (e5-small)
_PARAGRAPH_MIN = 60


@dataclass(frozen=True)
class _Candidate:
    start: int  # the line's content span
    end: int
    prev_end: int  # end of the previous non-blank line's content
    next_start: int  # start of the next non-blank line's content
    text: str
    tail: bool = False  # a fragment ending a longer line, before a dangling "。"


def _candidate_max(rows: list[Span]) -> int:
    """A candidate is short: under 80 characters and under half a typical paragraph."""
    paragraphs = sorted(b - a for a, b in rows if b - a >= _PARAGRAPH_MIN)
    if not paragraphs:
        return _CANDIDATE_MAX
    return min(_CANDIDATE_MAX, paragraphs[len(paragraphs) // 2] // 2)


def _candidates(text: str) -> list[_Candidate]:
    """Short stand-alone lines between paragraphs (after the first one: titles stay)."""
    rows = [(a, b) for a, b in lines_of(text) if text[a:b].strip()]
    first_paragraph = next((k for k, (a, b) in enumerate(rows) if b - a >= _PARAGRAPH_MIN), len(rows))
    longest = _candidate_max(rows)
    out = []
    for k in range(first_paragraph + 1, len(rows) - 1):
        a, b = rows[k]
        line = text[a:b].strip()
        if len(line) > longest or is_heading_line(line) or _ITEM_START.match(line):
            continue
        if line.endswith((":", ":")) or line[0] in _DANGLING:
            continue
        out.append(_Candidate(a, b, rows[k - 1][1], rows[k + 1][0], line))
    return out + _tail_fragments(text, rows)


_LAST_STOP = re.compile(f"[{TERMINAL}][{CLOSERS}]?(?=[^{TERMINAL}]+$)")


def _tail_fragments(text: str, rows: list[Span]) -> list[_Candidate]:
    """Short fragments after a line's last sentence end when the next line starts with "。"."""
    out = []
    for (a, b), (n, _) in zip(rows, rows[1:]):
        if text[n] not in _DANGLING or b - a <= _CANDIDATE_MAX:
            continue
        m = _LAST_STOP.search(text, a, b)
        if m and 2 <= b - m.end() <= 60:
            out.append(_Candidate(m.end(), b, m.end(), n, text[m.end():b].strip(), tail=True))
    return out


def _overlap(line: str, doc: Counter) -> float:
    """Share of the line's bigrams that the rest of the document also uses."""
    own = bigram_counts(line)
    if not own:
        return 1.0
    return sum(1 for g in own if doc[g] > own[g]) / len(own)


def _form_score(text: str, c: _Candidate) -> float:
    """Evidence from the line's shape and its seams with the neighbours."""
    score = 0.0
    after = text[c.next_start]
    if after in _DANGLING:
        score += 2  # the sentence it interrupted goes on below: "\n\n。近些年来"
    prev_len = c.prev_end - text.rfind("\n", 0, c.prev_end) - 1
    if not c.tail and prev_len > _PARAGRAPH_MIN and not ends_sentence(text[c.prev_end - 3:c.prev_end]):
        score += 1  # it cut a paragraph before its full stop
    if _ATTRIBUTION.search(c.text):
        score += 2  # a quotation with its author
    if re.search("[!!]", c.text):
        score += 0.5
    if c.text[-1] in ",,、":
        score += 1  # a clause standing alone between paragraphs
    if _NARRATIVE.search(c.text):
        score += 0.5  # a story told in the first or second person
    return score


def _reference_sentences(text: str, skip: set[int], limit: int = 30) -> list[str]:
    """An even sample of the document's own sentences of candidate size."""
    out = []
    for a, b in lines_of(text):
        if a in skip or b - a < _PARAGRAPH_MIN:
            continue
        out += [m.group().strip() for m in _SENTENCE.finditer(text[a:b]) if 10 <= len(m.group().strip()) <= 80]
    step = max(1, len(out) // limit)
    return out[::step][:limit]


def _semantic_z(candidates: list[_Candidate], text: str, embed: Embed) -> list[float] | None:
    """How far below the document's own sentences each line sits (cosine to centroid, z-score)."""
    import numpy as np

    refs = list(dict.fromkeys(_reference_sentences(text, {c.start for c in candidates})))
    if len(refs) < _MIN_REFS:
        return None
    vecs = np.asarray(embed(refs + [c.text for c in candidates]), dtype=np.float32)
    ref, cand = vecs[:len(refs)], vecs[len(refs):]
    centroid = ref.mean(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    ref_sims = ref @ centroid
    mu, sigma = float(ref_sims.mean()), max(float(ref_sims.std()), _MIN_SIGMA)
    return [float((s - mu) / sigma) for s in cand @ centroid]


def _is_inserted(form: float, overlap: float, z: float | None) -> bool:
    """Combine the evidence: an unrelated line must look foreign in at least two ways."""
    score = form
    score += 3 if overlap < 0.1 else 2 if overlap < 0.15 else 1 if overlap < 0.3 else 0 if overlap < 0.6 else -2
    if z is not None:
        score += 2 if z < -2.5 else 1 if z < -1.5 else 0 if z < 0 else -1
    return score >= 3


def _seam_span(text: str, c: _Candidate) -> Span:
    """What to delete with the line so the neighbours join sensibly."""
    if c.tail:
        return c.start, c.next_start + 1  # "随意性。<fragment>\n\n。近些" -> "随意性。近些"
    if text[c.next_start] in _DANGLING:
        return c.prev_end, c.next_start  # "威信\n\n<line>\n\n。近些" -> "威信。近些"
    return c.start, c.next_start


def inserted_line(text: str, *, embed: Embed | None = None) -> list[Span]:
    """Short lines between paragraphs that do not belong to the document.

    Scored by form (seams that cut a sentence, quotations with an author,
    exclamations), by lexical overlap with the rest of the document, and,
    given ``embed``, by how far the line's meaning is from the document's own
    sentences.  Headings, list items and lines that introduce a list stay.
    """
    cands = _candidates(text)
    if not cands or sum(1 for a, b in lines_of(text) if b - a >= _PARAGRAPH_MIN) < 3:
        return []
    doc = bigram_counts(text)
    zs = _semantic_z(cands, text, embed) if embed is not None else None
    spans = []
    for k, c in enumerate(cands):
        form, overlap = _form_score(text, c), _overlap(c.text, doc)
        z = zs[k] if zs is not None else None
        log.debug("inserted? %r form=%.1f overlap=%.2f z=%s", c.text, form, overlap, z)
        if _is_inserted(form, overlap, z):
            spans.append(_seam_span(text, c))
    return spans


def dangling_punct(text: str) -> list[Span]:
    """Line breaks before a line that starts with a stray "。" continuing the previous line."""
    spans = []
    for m in re.finditer(f"(?<=[^\\s{re.escape(TERMINAL)}])[ \t]*\n[\\s]*(?=[{_DANGLING}])", text):
        spans.append(m.span())
    return spans


# ------------------------------------------------------------ layout

_WRAP_SHARE = 0.4
_WRAP_MIN_WIDTH = 15


def _wrap_width(rows: list[str]) -> int | None:
    """The fixed width at which the document's lines were cut, if there is one."""
    widths = Counter(len(r) for r in rows if len(r) >= _WRAP_MIN_WIDTH)
    if not widths:
        return None
    width = max(widths, key=lambda w: (widths[w - 1] + widths[w] + widths[w + 1], w))
    near = [r for r in rows if abs(len(r) - width) <= 1]
    cut = [r for r in near if not ends_sentence(r)]
    if len(cut) < 3 or len(near) < _WRAP_SHARE * len(rows):
        return None
    return width


def line_wrap(text: str) -> list[Span]:
    """Hard line wraps inside Chinese paragraphs (lines cut at one fixed width)."""
    rows = [(a, b) for a, b in lines_of(text) if b > a]
    width = _wrap_width([text[a:b] for a, b in rows]) if len(rows) >= 5 else None
    if width is None:
        return []
    spans = []
    for a, b in rows:
        if b - a < width - 1 or b >= len(text) - 1 or text[b + 1] == "\n" or is_heading_line(text[a:b]):
            continue
        nxt = text[b + 1]
        if is_cjk(text[b - 1]) and (is_cjk(nxt) or nxt in _DANGLING) and not _HEADING_START.match(text, b + 1):
            spans.append((b, b + 1))
    return spans


def whitespace(text: str) -> list[Span]:
    """Trailing and leading spaces of lines, blank-line runs beyond one, edges of the text."""
    spans = [m.span() for m in re.finditer(r"[ \t\u3000\xa0]+(?=\n|$)", text)]
    spans += [m.span() for m in re.finditer(r"(?m)^[ \t\u3000\xa0]+", text)]
    spans += [(m.start() + 2, m.end()) for m in re.finditer(r"\n[ \t\u3000\xa0]*\n(?:[ \t\u3000\xa0]*\n)+", text)]
    lead = len(text) - len(text.lstrip())
    spans.append((0, lead))
    spans.append((len(text.rstrip()), len(text)))
    return spans


RULES: tuple[Rule, ...] = (
    Rule("invisible", invisible, "zero-width, control and carriage-return characters"),
    Rule("footer_zone", footer_zone, "page tail from a related-list/licence marker to the end"),
    Rule("running_header", running_header, "header/footer blocks repeated around page counters"),
    Rule("page_counter", page_counter, "page counters and page-number lines"),
    Rule("site_boilerplate", site_boilerplate, "upload/author/time lines, breadcrumbs, download prompts, licence"),
    Rule("title_list", title_list, "lists of unrelated titles sharing a site suffix"),
    Rule("page_fragment_number", page_fragment_number, "numbers starting each page fragment; rejoins split words"),
    Rule("filler_intro", filler_intro, "sentences addressing the reader about the page"),
    Rule("title_tag", title_tag, "{template tags} and file extensions after the title"),
    Rule("dash_in_word", dash_in_word, "lone hyphens inserted between Chinese characters"),
    Rule("cjk_space", cjk_space, "spaces inside Chinese text from PDF line wraps"),
    Rule("line_wrap", line_wrap, "hard line wraps inside Chinese paragraphs"),
    Rule("watermark", watermark, "foreign strings spliced inside a phrase"),
    Rule("inserted_line", inserted_line, "short unrelated lines between paragraphs", needs_embed=True),
    Rule("dangling_punct", dangling_punct, "line breaks before a stray leading 。"),
    Rule("whitespace", whitespace, "trailing spaces, blank-line runs, edges"),
)


# ------------------------------------------------------------ report

def removed_by_rule(result: CleanText) -> dict[str, int]:
    """Characters removed per rule, in RULES order."""
    counts = {name: sum(r.end - r.start for r in rs) for name, rs in result.by_rule().items()}
    return {r.name: counts[r.name] for r in RULES if r.name in counts}


def main(argv: list[str] | None = None) -> int:
    """`python -m ingest.cleaning FILE... [--embed] [--json]`: removed characters per rule."""
    import argparse
    import json
    import sys

    parser = argparse.ArgumentParser(prog="python -m ingest.cleaning", description=main.__doc__)
    parser.add_argument("files", nargs="+")
    parser.add_argument("--embed", action="store_true", help="score inserted lines with the e5-small embedder")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    embed = None
    if args.embed:
        from index.embedders import get_embedder

        embed = get_embedder("e5-small").embed_passages
    rows = []
    for path in args.files:
        with open(path, encoding="utf-8") as f:
            original = f.read()
        result = clean(original, embed=embed)
        rows.append({"file": path, "chars": len(original), "removed": result.removed_chars(),
                     "by_rule": removed_by_rule(result)})
    if args.json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
    else:
        for row in rows:
            rules = ", ".join(f"{k} {v}" for k, v in row["by_rule"].items())
            sys.stdout.write(f"{row['file']}: {row['removed']}/{row['chars']} removed ({rules})\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
