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


def _walk(root: Path, skipped: list[Skipped]) -> list[Path]:
    """Supported, non-hidden files under root, in sorted path order. A folder that cannot be
    listed is added to `skipped`: what was indexed from it stays (ingest.build)."""
    found: list[Path] = []

    def unreadable(exc: OSError) -> None:
        log.warning("cannot list %s: %s", exc.filename, exc.strerror)
        skipped.append(Skipped(str(exc.filename), f"cannot list folder: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
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
            found.update(dict.fromkeys(_walk(path, skipped)))
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
        text, encoding = _EXTRACTORS[fmt](data)
        if not text.strip():
            raise _Reject("no text in document")
    except Rejected as exc:
        raise LoadError(str(path), str(exc)) from exc.__cause__
    log.debug("loaded %s (%s, %s, %d chars)", p, fmt, encoding, len(text))
    return LoadedFile(p.resolve(), text, encoding, fmt, hashlib.sha256(data).hexdigest())


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


def _extract_docx(data: bytes) -> tuple[str, str | None]:
    import docx

    _check_zip(data)
    try:
        document = docx.Document(io.BytesIO(data))
        lines = list(_block_lines(document.element.body))
    except Exception as exc:  # python-docx/lxml raise many types on damaged files
        raise _Reject(f"corrupt docx: {type(exc).__name__}") from exc
    return "\n".join(lines), None


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

_DROP_TAGS = frozenset({"script", "style", "noscript", "nav", "header", "footer", "aside",
                        "form", "iframe", "svg", "template", "head", "title"})
_DROP_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search"})
_BOILERPLATE = ("nav", "menu", "breadcrumb", "footer", "sidebar", "comment", "advert", "share")
_BLOCKS = frozenset("""address article aside blockquote body caption center dd details
    dialog dir div dl dt fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6
    header hgroup hr html legend li main menu nav ol p pre section summary table
    tbody tfoot thead tr ul""".split())
_CHARSET_RE = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_CJK_BREAK_RE = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])[ \t\r\f]*\n\s*(?=[\u3000-\u9fff\uff00-\uffef])")
_SPACE_RE = re.compile(r"\s+")
_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


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
    tokens = re.split(r"[^a-z0-9]+", _CAMEL_RE.sub(" ", names).lower())
    return any(tok.startswith(word) or tok.endswith(word)
               for tok in tokens if tok for word in _BOILERPLATE)


def _content_root(soup: BeautifulSoup) -> Tag:
    """<main>, else a single <article>, else <body>, else the whole page."""
    articles = soup.find_all("article")
    return soup.find("main") or (articles[0] if len(articles) == 1 else None) or soup.body or soup


def _doomed(tag: Tag, keep_headers: bool) -> bool:
    if tag.name in _DROP_TAGS:
        return not (keep_headers and tag.name == "header")
    # A boilerplate-looking wrapper that holds the content ("has-sidebar") stays.
    return _is_boilerplate(tag) and tag.find(["main", "article", "h1"]) is None


def _prune(root: Tag) -> None:
    """Drop boilerplate elements inside root (iteratively: pages nest deeply)."""
    from bs4.element import Tag

    keep_headers = root.name in ("main", "article")
    doomed, stack = [], [child for child in root.children if isinstance(child, Tag)]
    while stack:
        tag = stack.pop()
        if _doomed(tag, keep_headers):
            doomed.append(tag)
        else:
            stack.extend(child for child in tag.children if isinstance(child, Tag))
    for tag in doomed:
        tag.decompose()


def _html_lines(root: Tag) -> list[str]:
    """Block elements become lines; inline text is joined; <br> breaks a line."""
    from bs4.element import NavigableString, PreformattedString

    lines: list[str] = []
    buf: list[str] = []
    end_block = object()

    def flush(force: bool = False) -> None:
        text = _SPACE_RE.sub(" ", _CJK_BREAK_RE.sub("", "".join(buf))).strip()
        buf.clear()
        if text or force:
            lines.append(text)

    stack: list = [root]
    while stack:
        node = stack.pop()
        if node is end_block:
            flush()
        elif isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, doctype...
                buf.append(str(node))
        elif node.name == "br":
            flush(force=True)
        elif node.name == "pre":
            flush()
            lines.extend(node.get_text().strip("\n").split("\n"))
        else:
            if node.name in ("td", "th") and node.find_previous_sibling(["td", "th"]):
                buf.append(" | ")
            if node.name in _BLOCKS:
                flush()
                stack.append(end_block)
            stack.extend(reversed(node.contents))
    flush()
    return lines


def _html_to_text(html: str) -> str:
    """Main text of an HTML page, one block element per line."""
    from bs4 import BeautifulSoup
    from bs4.exceptions import ParserRejectedMarkup

    try:
        soup = BeautifulSoup(html, "html.parser")
    except ParserRejectedMarkup as exc:
        raise _Reject("corrupt html: the parser rejected the markup") from exc
    root = _content_root(soup)
    _prune(root)
    text = "\n".join(line.rstrip() for line in _html_lines(root))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


# The HTML parser keeps a tree of every element, ~700 bytes each, and slows with depth: a 15 MB page
# of nested <div>s took 1 GB and 40 s. 200,000 elements (~150 MB, a few seconds) is far above a
# real page (a long government page has a few thousand) and bounds what one file can cost.
MAX_HTML_ELEMENTS = 200_000


def _extract_html(data: bytes) -> tuple[str, str | None]:
    elements = data.count(b"<") - data.count(b"</")  # start tags (and comments): counted in C, at once
    if elements > MAX_HTML_ELEMENTS:
        raise _Reject(f"more than {MAX_HTML_ELEMENTS:,} HTML elements ({elements:,}), the limit for web pages: "
                      f"save the page as .txt or split it")
    html, encoding = decode_text(data, _declared_charset(data))
    return _html_to_text(html), encoding


_EXTRACTORS: dict[str, Callable[[bytes], tuple[str, str | None]]] = {
    "txt": decode_text, "md": decode_text, "docx": _extract_docx,
    "pdf": _extract_pdf, "html": _extract_html,
}
