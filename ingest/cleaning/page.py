"""Rules for the traces of page layout: page counters, running headers, page fragment numbers, the footer zone."""
from __future__ import annotations

import re

from ingest.cleaning.core import Span
from ingest.cleaning.helpers import (KEYWORDS, LICENCE, NEIGHBOURS, PREVIEW_END, RELATED, RELATED_LABELS, ends_sentence,
                                     line_end, line_with_break, lines_of)
from ingest.structure import FILE_EXTENSIONS

# A page counter in any of its common shapes.
COUNTER = re.compile(
    r"第\s*\d{1,4}\s*页\s*[,，、/／]?\s*共\s*\d{1,4}\s*页"
    r"|[(（]?\s*共\s*\d{1,4}\s*页\s*[)）]?\s*[,，、/／]?\s*第\s*\d{1,4}\s*页"
    r"|\d{1,4}\s*页\s*[,，]\s*当前第\s*\d{1,4}(?:\s*页)?"
    r"|当前第\s*\d{1,4}\s*页"
    r"|\bpage\s+\d{1,4}\s*(?:of|/)\s*\d{1,4}\b", re.I)
COUNTER_DECOR = "-—–_=·•* \t"
# Lines that are nothing but a page number or a file-page label.
_COUNTER_LINE = re.compile(
    r"\s*(?:[-—–]\s*)?\d{1,4}(?:\s*[-—–])?\s*$"
    r"|\s*第\s*\d{1,4}\s*页\s*$"
    r"|\s*\d{1,4}\s*/\s*\d{1,4}\s*$"
    r"|\s*page\s+\d{1,4}\s*$"
    rf"|.{{0,120}}\.(?:{FILE_EXTENSIONS})\s*[_\-\s]\s*第\s*\d{{1,4}}\s*页\s*$", re.I)


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
    for m in COUNTER.finditer(text):
        a, b = _widen(text, m.start(), m.end(), COUNTER_DECOR)
        whole_line = (a == 0 or text[a - 1] == "\n") and (b == len(text) or text[b] == "\n")
        spans.append(line_with_break(text, a, b) if whole_line else (a, b))
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


def _other_copies(text: str, pieces: tuple[str, str]) -> list[Span]:
    """Every occurrence of a header half that is long and wordy enough to be unique."""
    spans: list[Span] = []
    for piece in pieces:
        piece = piece.strip(COUNTER_DECOR)
        if len(piece) >= 6 and sum(ch.isalpha() for ch in piece) >= 4:
            spans += [(m.start(), m.end()) for m in re.finditer(re.escape(piece), text)]
    return spans


_REPEAT_LINE_MAX = 60
_NEAR = 2  # lines on each side of a page counter that belong to the page's furniture


def _masked(line: str) -> str:
    return "".join(_mask(ch) for ch in line.strip())


def _boundary_lines(rows: list[Span], k: int) -> list[int]:
    """Indices of the non-blank lines around row k (a page counter line), nearest first."""
    return [j for j in range(max(0, k - _NEAR), min(len(rows), k + _NEAR + 1)) if j != k]


def _header_lines(text: str, anchors: list[Span]) -> list[Span]:
    """Lines of their own that repeat next to most page counters: running headers and footers.

    A PDF prints its title or issuer above every page and the counter below;
    extracted page by page, they sit on the lines around each counter.  The
    copy on the document's first line goes too when the document repeats it
    at once below (header, then the title itself); the title stays.
    """
    rows = [(a, b) for a, b in lines_of(text) if text[a:b].strip()]
    counter_rows = [k for k, (a, b) in enumerate(rows) if any(a <= x < b for x, _ in anchors)]
    seen: dict[str, set[int]] = {}
    for k in counter_rows:
        for j in _boundary_lines(rows, k):
            line = text[rows[j][0]:rows[j][1]]
            if len(line.strip()) <= _REPEAT_LINE_MAX and not COUNTER.search(line):
                seen.setdefault(_masked(line), set()).add(j)  # distinct lines, not one line near two counters
    furniture = {m for m, lines in seen.items() if len(lines) >= max(2, len(counter_rows) // 2)}
    near = {j for k in counter_rows for j in _boundary_lines(rows, k)}
    spans = [line_with_break(text, *rows[j]) for j in sorted(near) if _masked(text[slice(*rows[j])]) in furniture]
    if len(rows) > 1 and _masked(text[slice(*rows[0])]) in furniture and 0 not in near:
        if _masked(text[slice(*rows[1])]) == _masked(text[slice(*rows[0])]):
            spans.append(line_with_break(text, *rows[0]))
    return spans


def running_header(text: str) -> list[Span]:
    """Header/footer blocks repeated around every page counter, and their other copies.

    Lines of their own next to most counters, or next to most page numbers on lines of their
    own, go too (``_header_lines``).

    The block is learnt from the document: starting at each page counter, it
    grows left and right while every copy has the same characters.  Its two
    halves are then deleted wherever else they occur (a first page header
    printed without counter).
    """
    anchors = [m.span() for m in COUNTER.finditer(text)]
    # A page number on a line of its own ("- 3 -", the official-document form) marks a page
    # break as well: the lines repeated next to those are furniture too.
    numbers = [(a, b) for a, b in lines_of(text) if a < b and _COUNTER_LINE.match(text[a:b])
               and not COUNTER.search(text[a:b])]
    spans: list[Span] = []
    if len(anchors) >= 2:
        left, right = _shared_extent(text, anchors, -1), _shared_extent(text, anchors, +1)
        left, right = (left if left >= _HEADER_MIN else 0), (right if right >= _HEADER_MIN else 0)
        spans = [(a - left, a) for a, _ in anchors] + [(b, b + right) for _, b in anchors]
        a0, b0 = anchors[0]
        spans += _other_copies(text, (text[a0 - left:a0], text[b0:b0 + right]))
    if len(anchors) + len(numbers) >= 2:
        spans += _header_lines(text, sorted(anchors + numbers))
    return spans


_FRAGMENT_NO = re.compile(r"(?m)^[ \t]*(\d{1,3})、")
_FRAGMENT_MIN_LINE = 150


def _fragment_chain(text: str) -> list[re.Match]:
    """Line-initial numbers 1, 2, 3... in order, when their lines are page-sized."""
    chain, expect = [], 1
    for m in _FRAGMENT_NO.finditer(text):
        if int(m.group(1)) == expect:
            chain.append(m)
            expect += 1
    if len(chain) < 2:
        return []
    lengths = sorted(line_end(text, m.start()) - m.start() for m in chain)
    return chain if lengths[len(lengths) // 2] >= _FRAGMENT_MIN_LINE else []


def _fragment_span(text: str, m: re.Match) -> Span:
    """The number, with the break before it when the previous fragment stops mid-sentence."""
    a = m.start()
    if m.group(1) != "1":
        b = a
        while b > 0 and text[b - 1] in " \t\n":
            b -= 1
        if b > 0 and not ends_sentence(text[max(0, b - 3):b]):
            a = b
    return a, m.end()


def page_fragment_number(text: str) -> list[Span]:
    """Numbers "2、" that a site puts at the start of each page fragment.

    Recognised as a run 1, 2, 3... of line-initial numbers whose lines are
    page-sized (a real list has short items).  A fragment that starts
    mid-sentence is joined to the previous one: "群众工\\n\\n2、作成为" ->
    "群众工作成为".
    """
    return [_fragment_span(text, m) for m in _fragment_chain(text)]


# Markers that open a page's tail (related lists, download prompts, licence).
_TAIL_START = re.compile(
    rf"\s*[-*·•]?\s*(?:{PREVIEW_END}|全文预览已结束|下载本文档|{RELATED}|{RELATED_LABELS}|热门文章|{LICENCE}|"
    rf"{NEIGHBOURS}|本文关键词|{KEYWORDS}|related (?:posts|articles))", re.I)
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
