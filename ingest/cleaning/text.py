"""Rules for character-level noise: invisible characters, stray hyphens and spaces, hard wraps, whitespace."""
from __future__ import annotations

import re
from collections import Counter

from ingest.cleaning.core import Span
from ingest.cleaning.helpers import (CJK, CJK_PUNCT, DANGLING, HEADING_START, TERMINAL, ends_sentence, is_cjk,
                                     lines_of)
from ingest.structure import is_heading_line

_INVISIBLE = re.compile("[\r\u200b-\u200f\u2060\ufeff\u00ad\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def invisible(text: str) -> list[Span]:
    """Carriage returns, zero-width and control characters."""
    return [m.span() for m in _INVISIBLE.finditer(text)]


_DASH_IN_WORD = re.compile(f"(?<=[{CJK}])[-‐‑](?=[{CJK}])")


def dash_in_word(text: str) -> list[Span]:
    """A lone hyphen inserted between two Chinese characters ("和-谐")."""
    return [m.span() for m in _DASH_IN_WORD.finditer(text)]


_SPACES = re.compile("[ \t\u3000\xa0]+")
_WIDE = re.compile(f"[{CJK}{CJK_PUNCT}“”‘’]")
_FW_PUNCT = re.compile(f"[{CJK_PUNCT}“”‘’]")
_UNIT = "年月日号时点分秒个元角万亿千百次人户家项条件名位岁天周度届期批倍"
_WRAP_GAP = 80
_AFTER_MARKER = re.compile("第[一二三四五六七八九十百零〇\\d]{1,7}[编章节条]$")


def _wrap_mode(inner: list[Span]) -> bool:
    """True when spaces between CJK recur every line width or so (PDF line wraps)."""
    if len(inner) < 5:
        return False
    gaps = sorted(b[0] - a[0] for a, b in zip(inner, inner[1:]))
    return gaps[len(gaps) // 2] <= _WRAP_GAP


def _inner_spaces(text: str) -> list[Span]:
    """Runs of spaces with a character on both sides on the same line."""
    cands = []
    for m in _SPACES.finditer(text):
        a, b = m.span()
        if 0 < a and b < len(text) and text[a - 1] != "\n" and text[b] != "\n":
            cands.append((a, b))
    return cands


def _space_goes(text: str, a: int, b: int, wrap: bool) -> bool:
    """Does the space run text[a:b] split one piece of Chinese text?"""
    left, right = text[a - 1], text[b]
    if HEADING_START.match(text, b) and not left.isdigit():
        return False
    if _AFTER_MARKER.search(text, max(0, a - 12), a):
        return False  # "第四章 信访事项的办理", "第一条 为了…": the space ends the number
    wide = _WIDE.match(left) and _WIDE.match(right)
    if wide and (wrap or _FW_PUNCT.match(left) or _FW_PUNCT.match(right)):
        return True
    if _WIDE.match(left) and right in ",.;:!?)":
        return True  # a space before punctuation is never a separator
    if left.isdigit() and right in _UNIT:
        return True
    return wrap and (left.isdigit() and is_cjk(right) or is_cjk(left) and right.isdigit())


def cjk_space(text: str) -> list[Span]:
    """Spaces inside Chinese text left by PDF extraction ("扎实做 好" -> "扎实做好").

    Spaces next to full-width punctuation and between a number and its unit
    ("2022 年") always go.  Spaces between two Chinese characters go when the
    document shows the line-wrap pattern (one every line width); in documents
    where they are rare they separate paragraphs and stay.  Spaces between
    Latin words or numbers never go; neither do spaces before a heading marker.
    """
    cands = _inner_spaces(text)
    wrap = _wrap_mode([(a, b) for a, b in cands if is_cjk(text[a - 1]) and is_cjk(text[b])])
    return [(a, b) for a, b in cands if _space_goes(text, a, b, wrap)]


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


# Marks a sentence goes on after: a line cut at the wrap width right after one continues below.
_MID_SENTENCE = ",，、《》〈〉“”‘’「」"


# An enumerated item "(三)…" or "1.…": in a law its text, which wraps like any other line.
_ITEM = re.compile(r"[ \t\u3000]*(?:\([一二三四五六七八九十]{1,3}\)|\d{1,2}[.、])")


def _joins_next(text: str, a: int, b: int, width: int) -> bool:
    """Is the line text[a:b] cut at the wrap width inside a sentence that goes on below?"""
    if b - a < width - 1 or b >= len(text) - 1 or text[b + 1] == "\n":
        return False
    if is_heading_line(text[a:b]) and not _ITEM.match(text, a):
        return False
    nxt = text[b + 1]
    last = text[b - 1]
    cut = is_cjk(last) or last in _MID_SENTENCE
    return cut and (is_cjk(nxt) or nxt in DANGLING) and not HEADING_START.match(text, b + 1)


def line_wrap(text: str) -> list[Span]:
    """Hard line wraps inside Chinese paragraphs (lines cut at one fixed width)."""
    rows = [(a, b) for a, b in lines_of(text) if b > a]
    width = _wrap_width([text[a:b] for a, b in rows]) if len(rows) >= 5 else None
    if width is None:
        return []
    return [(b, b + 1) for a, b in rows if _joins_next(text, a, b, width)]


def dangling_punct(text: str) -> list[Span]:
    """Line breaks before a line that starts with a stray "。" continuing the previous line."""
    spans = []
    for m in re.finditer(f"(?<=[^\\s{re.escape(TERMINAL)}])[ \t]*\n[\\s]*(?=[{DANGLING}])", text):
        spans.append(m.span())
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
