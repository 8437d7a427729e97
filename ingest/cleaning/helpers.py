"""Text helpers shared by the cleaning rules: character classes, lines, sentences."""
from __future__ import annotations

import re
from collections import Counter

from index.chars import HAN_ALL
from index.units import SENTENCE_END
from ingest.cleaning.core import Span

CJK = HAN_ALL
# Full-width punctuation that sits between CJK characters.
CJK_PUNCT = "\u3000-\u303f\uff00-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65\u2014-\u2026"
TERMINAL = SENTENCE_END
CLOSERS = "”’」』)】》\"')"
# Punctuation that cannot start a line of its own: a line starting with it continues the previous one.
DANGLING = "。,,;;!?!?、"
# Phrases of a site's page furniture that two rules read: a line with one is chrome
# (site.site_boilerplate), and one starting a line in a page's second half opens its tail
# (page.footer_zone).
PREVIEW_END = "展开阅读全文|预览已结束"
RELATED = "相关资源|猜你喜欢|相关搜索|配套讲稿"
RELATED_LABELS = "阅读全文|相关文档|相关推荐|热门推荐|推荐阅读"
LICENCE = "版权声明|免责声明|copyright|©"
NEIGHBOURS = "上一篇|下一篇"
KEYWORDS = r"关\s*键\s*词"
# Chinese heading markers that may start a line ("一、", "(二)", "二是", "第三章", "篇一", "1、").
HEADING_START = re.compile(
    r"[(（]?[一二三四五六七八九十]{1,3}[、)）.．]|[一二三四五六七八九十]{1,3}是|第[一二三四五六七八九十\d]{1,3}[篇章节部]"
    r"|篇[一二三四五六七八九十]|\d{1,2}、")
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


def line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def line_with_break(text: str, start: int, end: int) -> Span:
    """Extend a line span over its newline so deleting it leaves no hole."""
    return (start, end + 1) if end < len(text) else (max(0, start - 1), end)
