"""Find source files and turn each into text.

The text a loader returns is the "original" of a document: every character
offset stored in the index refers to it, so loaders never normalise it
(line endings and spacing stay as decoded; only a BOM is dropped).
Text decoding lives in `ingest.encoding`.
"""
from __future__ import annotations

import codecs
import hashlib
import io
import logging
import os
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from index.errors import ConfigError, LoadError
from ingest.encoding import Rejected, decode_text

if TYPE_CHECKING:  # parsers are imported lazily: only the formats in use are loaded
    from bs4 import BeautifulSoup, Tag
    from lxml import etree

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".txt", ".md", ".markdown", ".docx", ".pdf", ".html", ".htm"}
)
DEFAULT_MAX_BYTES = 50 * 1024 * 1024

_FORMATS = {
    ".txt": "txt", ".md": "md", ".markdown": "md", ".docx": "docx",
    ".pdf": "pdf", ".html": "html", ".htm": "html",
}
_JUNK_NAMES = frozenset({"thumbs.db", ".ds_store", "desktop.ini"})


@dataclass(frozen=True)
class LoadedFile:
    path: Path              # resolved path of the file
    text: str               # decoded/extracted text: what all offsets refer to
    encoding: str | None    # detected encoding of text formats; None for docx/pdf
    format: str             # "txt" | "md" | "docx" | "pdf" | "html"
    sha256: str             # hex sha256 of the raw file bytes
    # Spans of `text` the file's own structure marks as page furniture (an HTML
    # page's navigation, sidebars, footer): cleaning removes them by name.
    chrome: tuple[tuple[int, int], ...] = ()
    title: str = ""         # the title the file itself declares (docx Title style, HTML <h1>/<title>)
    # Lines the file styles as headings (docx Heading N, HTML <hN>): (start, end, N) spans of `text`.
    headings: tuple[tuple[int, int, int], ...] = ()

    def content(self) -> str:
        """The text without its marked page furniture."""
        out, pos = [], 0
        for a, b in self.chrome:
            out.append(self.text[pos:a])
            pos = b
        return "".join(out) + self.text[pos:]


@dataclass(frozen=True)
class Extracted:
    """What an extractor returns: the text, its encoding, and what the file's structure says."""

    text: str
    encoding: str | None = None
    chrome: tuple[tuple[int, int], ...] = ()
    title: str = ""
    headings: tuple[tuple[int, int, int], ...] = ()


def locate_lines(text: str, wanted: list[tuple[str, int]]) -> tuple[tuple[int, int, int], ...]:
    """(start, end, level) of each wanted line, found in order as a whole line of `text`."""
    out, cursor = [], 0
    for line, level in wanted:
        m = re.compile(rf"(?m)^[ \t]*({re.escape(line)})[ \t]*$").search(text, cursor) if line else None
        if m:
            out.append((m.start(1), m.end(1), level))
            cursor = m.end()
    return tuple(out)


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str             # short English reason, e.g. "unsupported type .xls"


class _Reject(Rejected):
    """Internal: a file cannot be loaded; load_file adds the path."""


# --------------------------------------------------------------------------
# Discovery


def _is_junk(name: str) -> bool:
    low = name.lower()
    return (low in _JUNK_NAMES or low.startswith(("~$", ".~lock"))
            or low.endswith((".tmp", ".temp")))


def _is_ignored(name: str) -> bool:
    return name.startswith(".") or _is_junk(name)


def _unsupported(path: Path) -> str:
    return f"unsupported type {path.suffix.lower()}" if path.suffix else "unsupported type (no suffix)"


def _walk(root: Path) -> list[Path]:
    """Supported, non-hidden files under root, in sorted path order."""
    found: list[Path] = []

    def warn(exc: OSError) -> None:
        log.warning("cannot list %s: %s", exc.filename, exc.strerror)

    for dirpath, dirnames, filenames in os.walk(root, onerror=warn):
        dirnames[:] = sorted(d for d in dirnames if not _is_ignored(d))
        for name in filenames:
            path = Path(dirpath, name)
            if _is_ignored(name) or path.suffix.lower() not in SUPPORTED_SUFFIXES:
                log.debug("ignoring %s", path)
            elif path.is_file():
                found.append(path)
    return [path.resolve() for path in sorted(found)]


def _explicit_skip(path: Path) -> str | None:
    """Why a file named on the command line is not loaded, or None."""
    if _is_junk(path.name):
        return "temporary or lock file"
    if not path.is_file():
        return "not a regular file"
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        return _unsupported(path)
    return None


def discover(paths: Sequence[str | Path]) -> tuple[list[Path], list[Skipped]]:
    """Expand files and directories into supported files (deterministic order).

    Inside directories, hidden entries, temp/lock files and unsupported types
    are ignored silently; a file named explicitly is either returned or
    reported as Skipped. A missing path raises ConfigError.
    """
    found: dict[Path, None] = {}
    skipped: list[Skipped] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise ConfigError(f"path does not exist: {raw}")
        if path.is_dir():
            found.update(dict.fromkeys(_walk(path)))
        elif (reason := _explicit_skip(path)) is not None:
            skipped.append(Skipped(str(raw), reason))
        else:
            found[path.resolve()] = None
    return list(found), skipped


# --------------------------------------------------------------------------
# Reading


def _size_text(n: int) -> str:
    for unit, size in (("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        if not path.is_file():
            raise _Reject("not a regular file" if path.exists() else "file not found")
        if path.stat().st_size > max_bytes:
            raise _Reject(f"larger than {_size_text(max_bytes)}")
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise _Reject(f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise _Reject(f"larger than {_size_text(max_bytes)}")
    if not data:
        raise _Reject("empty file")
    return data


def load_file(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadedFile:
    """Read one supported file; raise LoadError(path, reason) if it is unusable."""
    p = Path(path)
    fmt = _FORMATS.get(p.suffix.lower())
    try:
        if fmt is None:
            raise _Reject(_unsupported(p))
        data = _read_bytes(p, max_bytes)
        got = _EXTRACTORS[fmt](data)
        got = got if isinstance(got, Extracted) else Extracted(*got)
        loaded = LoadedFile(p.resolve(), got.text, got.encoding, fmt, hashlib.sha256(data).hexdigest(),
                            got.chrome, got.title, got.headings)
        if not loaded.content().strip():
            raise _Reject("no text in document")
    except Rejected as exc:
        raise LoadError(str(path), str(exc)) from exc.__cause__
    log.debug("loaded %s (%s, %s, %d chars)", p, fmt, loaded.encoding, len(loaded.text))
    return loaded


# --------------------------------------------------------------------------
# DOCX

_MAX_DOCX_EXPANSION = 1 << 30  # refuse zip bombs: 1 GiB unpacked at most


_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _w(tag: str) -> str:
    return f"{{{_W_NS}}}{tag}"


@cache
def _runs_xpath() -> etree.XPath:
    """Runs of a paragraph, tracked insertions included (python-docx's
    Paragraph.text skips runs inside w:ins), deletions and text boxes not."""
    from lxml import etree

    return etree.XPath(".//w:r[not(ancestor::w:del or ancestor::w:moveFrom"
                       " or ancestor::w:txbxContent)]", namespaces={"w": _W_NS})


def _paragraph_text(p: etree._Element) -> str:
    return "".join(run.text for run in _runs_xpath()(p))  # CT_R.text maps tabs, breaks


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise _Reject("corrupt docx: not a complete zip archive") from exc
    if unpacked > _MAX_DOCX_EXPANSION:
        raise _Reject("corrupt docx: unpacks to more than 1 GB")


def _block_lines(element: etree._Element) -> Iterator[str]:
    """Lines of a body or cell: paragraphs and tables in document order."""
    for child in element.iterchildren():
        if child.tag == _w("p"):
            yield _paragraph_text(child)
        elif child.tag == _w("tbl"):
            yield from _table_lines(child)
        elif child.tag == _w("sdt"):  # content control: look inside
            for content in child.iterchildren(_w("sdtContent")):
                yield from _block_lines(content)


def _is_merge_continuation(tc: etree._Element) -> bool:
    merge = tc.find(f"{_w('tcPr')}/{_w('vMerge')}")
    return merge is not None and merge.get(_w("val"), "continue") == "continue"


def _table_lines(tbl: etree._Element) -> Iterator[str]:
    """One line per row, cells joined by " | " (merged cells appear once)."""
    for tr in tbl.iterchildren(_w("tr")):
        cells = [" ".join(line for line in _block_lines(tc) if line.strip())
                 for tc in tr.iterchildren(_w("tc")) if not _is_merge_continuation(tc)]
        if any(cell.strip() for cell in cells):
            yield " | ".join(cells)


_TITLE_STYLES = ("title", "heading 1")


_HEADING_STYLE = re.compile(r"heading ([1-6])$")


def _styled_paragraphs(document) -> list[tuple[str, str]]:
    """(style name, text) of the body's paragraphs (style names, not ids, which Word localises)."""
    names = {s.style_id: (s.name or "").lower() for s in document.styles}
    out = []
    for p in document.element.body.iterchildren(_w("p")):
        style = p.find(f"{_w('pPr')}/{_w('pStyle')}")
        out.append((names.get(style.get(_w("val")), "") if style is not None else "", _paragraph_text(p).strip()))
    return out


def _styled_title(styled: list[tuple[str, str]]) -> str:
    """The first paragraph in the Title style, else in Heading 1."""
    found: dict[str, str] = {}
    for name, text in styled:
        if name in _TITLE_STYLES and text:
            found.setdefault(name, text)
    return next((found[n] for n in _TITLE_STYLES if n in found), "")


def _styled_headings(styled: list[tuple[str, str]]) -> list[tuple[str, int]]:
    return [(text, int(m.group(1))) for name, text in styled if text and (m := _HEADING_STYLE.match(name))]


def _extract_docx(data: bytes) -> Extracted:
    import docx

    _check_zip(data)
    try:
        document = docx.Document(io.BytesIO(data))
        lines = list(_block_lines(document.element.body))
        styled = _styled_paragraphs(document)
    except Exception as exc:  # python-docx/lxml raise many types on damaged files
        raise _Reject(f"corrupt docx: {type(exc).__name__}") from exc
    text = "\n".join(lines)
    return Extracted(text, None, (), _styled_title(styled), locate_lines(text, _styled_headings(styled)))


# --------------------------------------------------------------------------
# PDF


def _pdf_pages(data: bytes) -> list[str]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise _Reject("encrypted PDF: password required")
        return [page.extract_text() or "" for page in reader.pages]
    except (DependencyError, FileNotDecryptedError) as exc:
        raise _Reject("encrypted PDF: cannot decrypt") from exc
    except _Reject:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files
        raise _Reject(f"corrupt pdf: {type(exc).__name__}") from exc


def _extract_pdf(data: bytes) -> tuple[str, str | None]:
    if b"%PDF-" not in data[:1024]:
        raise _Reject("corrupt pdf: no PDF header")
    if b"%%EOF" not in data[-8192:]:
        raise _Reject("corrupt pdf: truncated (no end marker)")
    pages = _pdf_pages(data)
    if not pages:
        raise _Reject("corrupt pdf: no pages")
    text = "\n".join(pages)
    if not text.strip():
        raise _Reject("scanned PDF: no text layer")
    return text, None


# --------------------------------------------------------------------------
# HTML

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
_CJK_BREAK_RE = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])[ \t\r\f]*\n\s*(?=[\u3000-\u9fff\uff00-\uffef])")
_SPACE_RE = re.compile(r"\s+")
_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_TITLE_SEP = re.compile(r"\s*[_|｜–—-]+\s*")


def _declared_charset(data: bytes) -> str | None:
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


def _is_chrome(tag: Tag) -> bool:
    """Page furniture by its tag or its class/id names."""
    if tag.name in _CHROME_TAGS and not (tag.name == "header" and tag.find("h1")):
        return True
    # A boilerplate-looking wrapper that holds the content ("has-sidebar") is not furniture.
    return _is_boilerplate(tag) and tag.find(["main", "article", "h1"]) is None


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


def _html_extract(html: str) -> Extracted:
    """Text of an HTML page, one block element per line, page furniture marked."""
    from bs4 import BeautifulSoup
    from bs4.exceptions import ParserRejectedMarkup

    try:
        soup = BeautifulSoup(html, "html.parser")
    except ParserRejectedMarkup as exc:
        raise _Reject("corrupt html: the parser rejected the markup") from exc
    root = _content_root(soup)
    text, chrome = _assemble(_html_lines(soup, root))
    wanted = [(_SPACE_RE.sub(" ", _CJK_BREAK_RE.sub("", h.get_text())).strip(), int(h.name[1]))
              for h in root.find_all(re.compile("^h[1-6]$"))]
    return Extracted(text, None, chrome, _page_title(soup, root), locate_lines(text, wanted))


def _html_to_text(html: str) -> str:
    """Main text of an HTML page, one block element per line (page furniture left out)."""
    got = _html_extract(html)
    return LoadedFile(Path(), got.text, None, "html", "", got.chrome).content().strip("\n")


def _extract_html(data: bytes) -> Extracted:
    html, encoding = decode_text(data, _declared_charset(data))
    got = _html_extract(html)
    return Extracted(got.text, encoding, got.chrome, got.title, got.headings)


_EXTRACTORS: dict[str, Callable[[bytes], tuple[str, str | None] | Extracted]] = {
    "txt": decode_text, "md": decode_text, "docx": _extract_docx,
    "pdf": _extract_pdf, "html": _extract_html,
}
