"""Find source files and turn each into text.

The text a loader returns is the "original" of a document: every character
offset stored in the index refers to it, so loaders never normalise it
(line endings and spacing stay as decoded; only a BOM is dropped).
Text decoding lives in `ingest.encoding`, HTML pages in `ingest.html_text`.
"""
from __future__ import annotations

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

from index.chars import EAST_ASIAN
from index.errors import ConfigError, LoadError
from ingest.docx_numbering import W_NS, labels, w
from ingest.encoding import Rejected, decode_text

if TYPE_CHECKING:  # parsers are imported lazily: only the formats in use are loaded
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
    title: str = ""         # the title the file itself declares (docx Title style, HTML <h1>/<title>, Markdown "# ")
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


def _walk(root: Path, skipped: list[Skipped], passed: list[Path] | None = None) -> list[Path]:
    """Supported, non-hidden files under root, in sorted path order. A folder that cannot be
    listed is added to `skipped`: what was indexed from it stays (ingest.build). Files of other
    types, and links that lead nowhere, go to `passed` (hidden, temporary and lock files do not)."""
    found: list[Path] = []

    def unreadable(exc: OSError) -> None:
        log.warning("cannot list %s: %s", exc.filename, exc.strerror)
        skipped.append(Skipped(str(exc.filename), f"cannot list folder: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
        dirnames[:] = sorted(d for d in dirnames if not _is_ignored(d))
        for name in filenames:
            path = Path(dirpath, name)
            if _is_ignored(name):
                log.debug("ignoring %s", path)
            elif path.suffix.lower() in SUPPORTED_SUFFIXES and path.is_file():
                found.append(path)
            else:
                log.debug("passing over %s", path)
                if passed is not None and (path.is_symlink() or path.is_file()):  # not a fifo or socket
                    passed.append(path)
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


def named_skips(paths: Sequence[str | Path]) -> list[Skipped]:
    """The files named by themselves in `paths` that `discover` will report as Skipped, with why,
    found without reading them (the CLI tells the admin before the run, which may fail)."""
    return [Skipped(str(raw), reason) for raw in paths
            if Path(raw).exists() and not Path(raw).is_dir() and (reason := _explicit_skip(Path(raw)))]


def discover(paths: Sequence[str | Path], passed: list[Path] | None = None) -> tuple[list[Path], list[Skipped]]:
    """Expand files and directories into supported files (deterministic order).

    Inside directories, hidden entries and temp/lock files are ignored; files of unsupported
    types and broken links are passed over, listed in `passed` when given; a file named
    explicitly is either returned or reported as Skipped. A missing path raises ConfigError.
    """
    found: dict[Path, None] = {}
    skipped: list[Skipped] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise ConfigError(f"path does not exist: {raw}")
        if path.is_dir():
            found.update(dict.fromkeys(_walk(path, skipped, passed)))
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
    if loaded.encoding and "damaged" in loaded.encoding:  # read all the same, each bad byte as U+FFFD
        log.warning("%s: %s; each bad byte is read as \ufffd", p, loaded.encoding)
    log.debug("loaded %s (%s, %s, %d chars)", p, fmt, loaded.encoding, len(loaded.text))
    return loaded


# --------------------------------------------------------------------------
# DOCX

_MAX_DOCX_EXPANSION = 1 << 30  # refuse zip bombs: 1 GiB unpacked at most




@cache
def _runs_xpath() -> etree.XPath:
    """Runs of a paragraph, tracked insertions included (python-docx's
    Paragraph.text skips runs inside w:ins), deletions and text boxes not."""
    from lxml import etree

    return etree.XPath(".//w:r[not(ancestor::w:del or ancestor::w:moveFrom"
                       " or ancestor::w:txbxContent)]", namespaces={"w": W_NS})


def _paragraph_text(p: etree._Element, numbers: dict | None = None) -> str:
    """A paragraph as the reader sees it: its automatic number, if any, then its runs."""
    text = "".join(run.text for run in _runs_xpath()(p))  # CT_R.text maps tabs, breaks
    label = numbers.get(p, "") if numbers else ""
    if label.endswith(" ") and _CLOSED_LABEL.search(label) and _EAST_ASIAN_START.match(text):
        label = label[:-1]  # "1.为了…", "（一）属地管理": Chinese text runs on after a closed number
    return label + text if text.strip() else text


# A number that closes itself ("1.", "（一）", "①", "a)") needs no space before Chinese text; one
# that ends in a word or digit ("第一条", "Article 3") keeps its space.
_CLOSED_LABEL = re.compile(r"[^\w\s]\s$")
_EAST_ASIAN_START = re.compile(f"[{EAST_ASIAN}]")


@cache
def _in_text_box() -> etree.XPath:
    from lxml import etree

    return etree.XPath("boolean(ancestor::w:txbxContent or ancestor::w:del)", namespaces={"w": W_NS})


def _numbers(document) -> dict:
    """Word's automatic numbering of the body's paragraphs (`ingest.docx_numbering`)."""
    numbering = document.part.numbering_part.element
    return labels(document.element.body, numbering, document.styles.element, skip=_in_text_box())


_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE compound file: an old .doc, or a .docx with a password


def _check_zip(data: bytes) -> None:
    if data.startswith(_CFB):
        raise _Reject("not a readable .docx: a password-protected .docx or an old .doc renamed "
                      "(open it in Word and save it as .docx without a password)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise _Reject("corrupt docx: not a complete zip archive") from exc
    if unpacked > _MAX_DOCX_EXPANSION:
        raise _Reject("corrupt docx: unpacks to more than 1 GB")
    if "[Content_Types].xml" not in names or not any(n.startswith("word/") for n in names):
        raise _Reject("not a Word document: a zip archive with no Word parts (word/…)")


def _block_lines(element: etree._Element, numbers: dict) -> Iterator[str]:
    """Lines of a body or cell: paragraphs and tables in document order."""
    for child in element.iterchildren():
        if child.tag == w("p"):
            yield _paragraph_text(child, numbers)
        elif child.tag == w("tbl"):
            yield from _table_lines(child, numbers)
        elif child.tag == w("sdt"):  # content control: look inside
            for content in child.iterchildren(w("sdtContent")):
                yield from _block_lines(content, numbers)


def _is_merge_continuation(tc: etree._Element) -> bool:
    merge = tc.find(f"{w('tcPr')}/{w('vMerge')}")
    return merge is not None and merge.get(w("val"), "continue") == "continue"


def _table_lines(tbl: etree._Element, numbers: dict) -> Iterator[str]:
    """One line per row, cells joined by " | " (merged cells appear once)."""
    for tr in tbl.iterchildren(w("tr")):
        cells = [" ".join(line for line in _block_lines(tc, numbers) if line.strip())
                 for tc in tr.iterchildren(w("tc")) if not _is_merge_continuation(tc)]
        if any(cell.strip() for cell in cells):
            yield " | ".join(cells)


_TITLE_STYLES = ("title", "heading 1")


_HEADING_STYLE = re.compile(r"heading ([1-6])$")


def _styled_paragraphs(document, numbers: dict) -> list[tuple[str, str]]:
    """(style name, text) of the body's paragraphs (style names, not ids, which Word localises)."""
    names = {s.style_id: (s.name or "").lower() for s in document.styles}
    out = []
    for p in document.element.body.iterchildren(w("p")):
        style = p.find(f"{w('pPr')}/{w('pStyle')}")
        out.append((names.get(style.get(w("val")), "") if style is not None else "",
                    _paragraph_text(p, numbers).strip()))
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
        numbers = _numbers(document)
        lines = list(_block_lines(document.element.body, numbers))
        styled = _styled_paragraphs(document, numbers)
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


def _extract_pdf(data: bytes) -> Extracted:
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
    return Extracted(text, None, _page_edges(pages))


_EDGE_MAX = 40  # a running header or footer is a short line


def _page_edges(pages: list[str]) -> tuple[tuple[int, int], ...]:
    """A running header or footer the PDF prints on its pages: a short line that is the first (or
    last) line of at least two pages and of half of them, marked on every page but the first,
    whose top line may be the title itself (unless the title follows it there, the same line). Without a page number beside it the cleaner cannot
    see it, and joining the lines of a page would take it into the sentence a page break split."""
    firsts, lasts, starts, pos = [], [], [], 0
    title_twice = False  # page 1 opens with the header and then the title itself, the same line
    for page in pages:
        starts.append(pos)
        lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", page) if m.group().strip()]
        firsts.append(lines[0] if lines else None)
        lasts.append(lines[-1] if len(lines) > 1 else None)
        if pos == 0 and len(lines) > 1:
            title_twice = page[slice(*lines[0])].strip() == page[slice(*lines[1])].strip()
        pos += len(page) + 1
    spans = []
    for edges, skip_first in ((firsts, True), (lasts, False)):
        texts = [pages[i][e[0]:e[1]].strip() if e else None for i, e in enumerate(edges)]
        for line in {t for t in texts if t and len(t) <= _EDGE_MAX}:
            where = [i for i, t in enumerate(texts) if t == line]
            if len(where) >= max(2, (len(pages) + 1) // 2):
                spans += [(starts[i] + edges[i][0], min(starts[i] + edges[i][1] + 1, pos - 1)) for i in where
                          if not (skip_first and i == 0 and not title_twice)]
    return tuple(sorted(set(spans)))


# --------------------------------------------------------------------------
# HTML (ingest.html_text)


def _extract_html(data: bytes) -> Extracted:
    from ingest.html_text import declared_charset, page_text

    elements = data.count(b"<") - data.count(b"</")  # start tags (and comments): counted in C, at once
    if elements > MAX_HTML_ELEMENTS:
        raise _Reject(f"more than {MAX_HTML_ELEMENTS:,} HTML elements ({elements:,}), the limit for web pages: "
                      f"save the page as .txt or split it")
    html, encoding = decode_text(data, declared_charset(data))
    text, chrome, title, wanted = page_text(html)
    return Extracted(text, encoding, chrome, title, locate_lines(text, wanted))


# The HTML parser keeps a tree of every element, ~700 bytes each, and slows with depth: a 15 MB page
# of nested <div>s took 1 GB and 40 s. 200,000 elements (~150 MB, a few seconds) is far above a
# real page (a long government page has a few thousand) and bounds what one file can cost.
MAX_HTML_ELEMENTS = 200_000


# Markdown's first-level ATX heading, "# 中华人民共和国海关法": the document's title, as a docx
# Title or an HTML <h1> is.
_MD_TITLE = re.compile(r"(?m)^[ \t]{0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")


def _extract_md(data: bytes) -> Extracted:
    text, encoding = decode_text(data)
    m = _MD_TITLE.search(text)
    return Extracted(text, encoding, (), m.group(1).strip() if m else "")


_EXTRACTORS: dict[str, Callable[[bytes], tuple[str, str | None] | Extracted]] = {
    "txt": decode_text, "md": _extract_md, "docx": _extract_docx,
    "pdf": _extract_pdf, "html": _extract_html,
}
