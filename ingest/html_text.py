"""The text of an HTML page, one block element per line, with its page furniture marked.

Every line a browser shows is kept, so offsets and the trainer's removal view
cover the whole page; lines outside the content root (<main>, a single
<article>), furniture tags (nav, header, footer, aside, form) and boxes named
like furniture (menu, sidebar, breadcrumb, top bar, logo, location, share...)
and boxes made mostly of links (相关链接: other pages) are returned as chrome spans, which cleaning removes first by name.  Scripts,
styles and <title> are never shown and are left out.
"""
from __future__ import annotations

import codecs
import re
from typing import TYPE_CHECKING

from index.chars import EAST_ASIAN
from ingest.encoding import Rejected

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

# Never shown by a browser: their text is not part of the page.
_INVISIBLE_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title", "svg", "iframe"})
# Shown, but page furniture: kept in the text, marked as chrome.
_CHROME_TAGS = frozenset({"nav", "header", "footer", "aside", "form"})
_DROP_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search"})
_BOILERPLATE = ("nav", "menu", "breadcrumb", "footer", "sidebar", "comment", "advert", "share")
# Class or id words of page furniture that are also parts of ordinary names: whole tokens only.
_BOILERPLATE_TOKENS = frozenset({"top", "topbar", "header", "head", "logo", "location", "position", "crumb",
                                 "crumbs", "toolbar", "tools", "search", "banner", "copyright", "links"})
_BLOCKS = frozenset("""address article aside blockquote body caption center dd details
    dialog dir div dl dt fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6
    header hgroup hr html legend li main menu nav ol p pre section summary table
    tbody tfoot thead tr ul""".split())
_CHARSET_RE = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_CJK_BREAK_RE = re.compile(rf"(?<=[{EAST_ASIAN}])[ \t\r\f]*\n\s*(?=[{EAST_ASIAN}])")
_SPACE_RE = re.compile(r"\s+")
_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_TITLE_SEP = re.compile(r"\s*[_|｜–—-]+\s*")


def declared_charset(data: bytes) -> str | None:
    """The <meta> charset of an HTML page as a Python codec name, if usable."""
    match = _CHARSET_RE.search(data[:4096])
    if not match:
        return None
    try:
        codec = codecs.lookup(match.group(1).decode("ascii")).name
    except LookupError:
        return None
    # Browsers read these labels as their supersets.
    return {"gbk": "gb18030", "gb2312": "gb18030", "iso8859-1": "cp1252",
            "ascii": "cp1252"}.get(codec, codec)


def _is_boilerplate(tag: Tag) -> bool:
    if tag.get("role") in _DROP_ROLES or tag.has_attr("hidden"):
        return True
    classes = tag.get("class") or []
    names = " ".join([tag.get("id") or "", *(classes if isinstance(classes, list) else [classes])])
    tokens = [t for t in re.split(r"[^a-z0-9]+", _CAMEL_RE.sub(" ", names).lower()) if t]
    return any(tok in _BOILERPLATE_TOKENS or any(tok.startswith(w) or tok.endswith(w) for w in _BOILERPLATE)
               for tok in tokens)


def _content_root(soup: BeautifulSoup) -> Tag:
    """<main>, else a single <article>, else <body>, else the whole page."""
    articles = soup.find_all("article")
    return soup.find("main") or (articles[0] if len(articles) == 1 else None) or soup.body or soup


# A box that is mostly links (相关链接, 推荐阅读, a list of other notices) is a list of other pages:
# link density, the share of its text inside <a>, as boilerplate detection measures it.
_LINK_LISTS = frozenset({"div", "ul", "ol", "dl", "section", "table", "td"})
_LINK_DENSITY = 0.7
_MIN_LINKS = 2


def _is_link_list(tag: Tag) -> bool:
    if tag.name not in _LINK_LISTS or len(tag.find_all("a", limit=_MIN_LINKS)) < _MIN_LINKS:
        return False
    text = len(_SPACE_RE.sub("", tag.get_text()))
    linked = sum(len(_SPACE_RE.sub("", a.get_text())) for a in tag.find_all("a"))
    return text > 0 and linked >= _LINK_DENSITY * text


def _is_chrome(tag: Tag) -> bool:
    """Page furniture by its tag, its class/id names, or its links (a box mostly of links)."""
    if tag.name in _CHROME_TAGS and not (tag.name == "header" and tag.find("h1")):
        return True
    # A boilerplate-looking wrapper that holds the content ("has-sidebar") is not furniture.
    return (_is_boilerplate(tag) or _is_link_list(tag)) and tag.find(["main", "article", "h1"]) is None


class _Lines:
    """Lines of a page, each known to be content or page furniture."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, bool]] = []
        self.buf: list[str] = []
        self.buf_content = False

    def add(self, text: str, chrome: bool) -> None:
        self.buf.append(text)
        self.buf_content |= not chrome and bool(text.strip())

    def flush(self, force: bool = False) -> None:
        text = _SPACE_RE.sub(" ", _CJK_BREAK_RE.sub("", "".join(self.buf))).strip()
        if text or force:
            self.lines.append((text, not self.buf_content and bool(text)))
        self.buf.clear()
        self.buf_content = False


def _html_lines(soup: BeautifulSoup, root: Tag) -> list[tuple[str, bool]]:
    """Block elements become lines (content, or chrome); inline text is joined; <br> breaks a line.

    Everything outside the content root (<main>, a single <article>) that does
    not enclose it, furniture tags and boilerplate-named boxes are chrome.
    """
    from bs4.element import NavigableString, PreformattedString

    out = _Lines()
    end_block = object()
    around_root = {id(a) for a in root.parents} | {id(root)}
    top = soup.body or soup
    stack: list = [(top, False, top is root or root is soup)]
    while stack:
        node, chrome, in_root = stack.pop()
        if node is end_block:
            out.flush()
        elif isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, doctype...
                out.add(str(node), chrome)
        elif node.name in _INVISIBLE_TAGS:
            continue
        elif node.name == "br":
            out.flush(force=True)
        else:
            in_root = in_root or node is root
            chrome = chrome or (id(node) not in around_root and (not in_root or _is_chrome(node)))
            _push(node, chrome, in_root, out, stack, end_block)
    out.flush()
    return out.lines


def _push(node: Tag, chrome: bool, in_root: bool, out: _Lines, stack: list, end_block: object) -> None:
    if node.name == "pre":
        out.flush()
        out.lines.extend((line, chrome) for line in node.get_text().strip("\n").split("\n"))
        return
    if node.name in ("td", "th") and node.find_previous_sibling(["td", "th"]):
        out.add(" | ", chrome)
    if node.name in _BLOCKS:
        out.flush()
        stack.append((end_block, chrome, in_root))
    stack.extend((child, chrome, in_root) for child in reversed(node.contents))


def _assemble(lines: list[tuple[str, bool]]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Join lines (at most one blank line in a row) and the spans of the chrome lines."""
    parts: list[str] = []
    chrome: list[tuple[int, int]] = []
    pos = 0
    kept = [(t.rstrip(), c) for t, c in lines]
    while kept and not kept[0][0]:
        kept.pop(0)
    while kept and not kept[-1][0]:
        kept.pop()
    blank = 0
    for text, is_chrome in kept:
        blank = blank + 1 if not text else 0
        if blank > 1:
            continue
        if parts:
            pos += 1  # the newline before this line
        if is_chrome:
            chrome.append((pos - (1 if parts else 0), pos + len(text)))
        parts.append(text)
        pos += len(text)
    return "\n".join(parts), tuple(chrome)


def _page_title(soup: BeautifulSoup, root: Tag) -> str:
    """The page's own title: its <h1>, else the first part of <title> (the site's name comes after)."""
    h1 = root.find("h1") or soup.find("h1")
    if h1 is not None and h1.get_text(strip=True):
        return _SPACE_RE.sub(" ", h1.get_text(" ", strip=True))
    title = soup.find("title")
    text = title.get_text(" ", strip=True) if title is not None else ""
    return _TITLE_SEP.split(text)[0].strip() if text else ""


def page_text(html: str) -> tuple[str, tuple[tuple[int, int], ...], str, list[tuple[str, int]]]:
    """(text, chrome spans, the page's own title, its <hN> lines with N) of an HTML page."""
    from bs4 import BeautifulSoup
    from bs4.exceptions import ParserRejectedMarkup

    try:
        soup = BeautifulSoup(html, "html.parser")
    except ParserRejectedMarkup as exc:
        raise Rejected("corrupt html: the parser rejected the markup") from exc
    root = _content_root(soup)
    text, chrome = _assemble(_html_lines(soup, root))
    wanted = [(_SPACE_RE.sub(" ", _CJK_BREAK_RE.sub("", h.get_text())).strip(), int(h.name[1]))
              for h in root.find_all(re.compile("^h[1-6]$"))]
    return text, chrome, _page_title(soup, root), wanted
