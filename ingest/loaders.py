"""Find source files and turn each into text.

The text a loader returns is the "original" of a document: every character
offset stored in the index refers to it, so loaders never normalise it
(line endings and spacing stay as decoded; only a BOM is dropped).
"""
from __future__ import annotations

import codecs
import hashlib
import io
import logging
import os
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from index.errors import ConfigError, LoadError

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


class _Reject(Exception):
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
        text, encoding = _EXTRACTORS[fmt](data)
        if not text.strip():
            raise _Reject("no text in document")
    except _Reject as exc:
        raise LoadError(str(path), str(exc)) from exc.__cause__
    log.debug("loaded %s (%s, %s, %d chars)", p, fmt, encoding, len(text))
    return LoadedFile(p.resolve(), text, encoding, fmt, hashlib.sha256(data).hexdigest())


# --------------------------------------------------------------------------
# Text decoding

_BOMS = (  # utf-32 first: its little-endian BOM starts with utf-16's
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)
_MIN_CJK_SCORE = 0.6
_SURE_CJK_SCORE = 0.9  # beats UTF-8 that reads like mojibake
_SCAN_CHARS = 200_000  # guesses look at the start of a text only
# charset-normalizer is only asked to choose among encodings a user of this
# tool plausibly has; unrestricted, it likes exotic code pages for garbage.
_FALLBACK_CODECS = [
    "gb18030", "big5", "cp950", "big5hkscs", "cp1252", "latin_1", "cp932", "euc_jp",
]
_PINYIN = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüê"
_ODD_RANGES = (  # characters a Chinese text almost never contains
    (0x0080, 0x009F), (0x2500, 0x257F), (0x3040, 0x312F), (0x3130, 0x318F),
    (0x3400, 0x4DBF), (0xAC00, 0xD7AF), (0xE000, 0xF8FF), (0xF900, 0xFAFF),
    (0xFF61, 0xFF9F), (0xFFFD, 0xFFFD),
)


def _chars(codec: str, leads: range, trails: Sequence[int]) -> set[str]:
    out = set()
    for lead in leads:
        for trail in trails:
            try:
                out.add(bytes((lead, trail)).decode(codec))
            except UnicodeDecodeError:
                pass
    return out


@cache
def _char_tiers() -> tuple[frozenset[str], frozenset[str]]:
    """(common, less common) characters of Chinese text.

    Common: GB2312 level-1 and Big5 level-1 hanzi, GB2312 symbol rows,
    Big5 punctuation, pinyin. Less common: GB2312 and Big5 level-2 hanzi.
    """
    gb_trails = range(0xA1, 0xFF)
    b5_trails = [*range(0x40, 0x7F), *range(0xA1, 0xFF)]
    common = _chars("gb2312", range(0xB0, 0xD8), gb_trails)
    common |= _chars("big5", range(0xA4, 0xC6), b5_trails)
    common |= _chars("big5", range(0xC6, 0xC7), range(0x40, 0x7F))
    common |= _chars("gb2312", range(0xA1, 0xA4), gb_trails)
    common |= _chars("big5", range(0xA1, 0xA2), b5_trails)
    common |= set(_PINYIN)
    less = _chars("gb2312", range(0xD8, 0xF8), gb_trails)
    less |= _chars("big5", range(0xC9, 0xFA), b5_trails)
    common = {ch for ch in common if not _is_odd(ch)}
    return frozenset(common), frozenset(less - common)


def _is_odd(ch: str) -> bool:
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in _ODD_RANGES)


def _latin_mojibake(text: str, i: int, codec: str) -> bool:
    """Whether text[i] looks like a Latin-1 letter merged with the next ASCII letter.

    Reading "Müller" (Latin-1) as GBK turns "ül" into one hanzi with an ASCII
    trail byte, left alone between ASCII letters: "M黮ler".
    """
    if not (0 < i < len(text) - 1):
        return False
    before, after = text[i - 1], text[i + 1]
    if not (before.isascii() and before.isalpha() and after.isascii() and after.isalpha()):
        return False
    encoded = text[i].encode(codec, errors="ignore")
    return len(encoded) == 2 and encoded[1] < 0x80


def _cjk_score(text: str, codec: str) -> float:
    """How much text decoded with codec looks like real Chinese (at most 1.0).

    Common hanzi and punctuation count 1, less common hanzi 0.5. Mojibake
    from reading GBK as Big5 (or back) yields rare hanzi, kana, private-use
    and box-drawing characters (-1); Latin-1 read as GBK yields hanzi inside
    ASCII words (0).
    """
    common, less = _char_tiers()
    total = score = 0.0
    for i, ch in enumerate(text[:_SCAN_CHARS]):
        if ch.isascii():
            continue
        total += 1
        if _is_odd(ch):
            score -= 1
        elif _latin_mojibake(text, i, codec):
            continue
        elif ch in common:
            score += 1
        elif ch in less:
            score += 0.5
    return score / total if total else 1.0


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _decode_bom(data: bytes) -> tuple[str, str] | None:
    for bom, codec, name in _BOMS:
        if data.startswith(bom) and (text := _strict(data[len(bom):], codec)) is not None:
            return text, name
    return None


def _guess_cjk(data: bytes) -> tuple[str, str, float] | None:
    """The best strict legacy Chinese decoding, with its score; GB18030 wins ties."""
    decoded = [(codec, text) for codec in ("gb18030", "big5")
               if (text := _strict(data, codec)) is not None]
    if "big5" not in dict(decoded) and (text := _strict(data, "cp950")) is not None:
        decoded.append(("cp950", text))  # Microsoft's Big5 superset
    scored = [(text, codec, _cjk_score(text, codec)) for codec, text in decoded]
    return max(scored, key=lambda found: found[2], default=None)


def _ask_charset_normalizer(data: bytes) -> tuple[str, str] | None:
    from charset_normalizer import from_bytes

    match = from_bytes(data, cp_isolation=_FALLBACK_CODECS).best()
    if match is None:
        return None
    codec = codecs.lookup(match.encoding).name
    if codec in ("gbk", "gb2312"):
        codec = "gb18030"
    text = _strict(data, codec)
    return None if text is None else (text, codec)


_SCRIPTS = (  # the letters of everyday European text, by script
    ("latin", 0xC0, 0x17F), ("latin", 0x1CD, 0x1DC), ("greek", 0x391, 0x3A9),
    ("greek", 0x3B1, 0x3C9), ("cyrillic", 0x401, 0x401), ("cyrillic", 0x410, 0x451),
)


def _script(ch: str) -> str | None:
    if ch.isascii():
        return "latin" if ch.isalpha() else None
    code = ord(ch)
    return next((name for name, lo, hi in _SCRIPTS if lo <= code <= hi), None)


def _utf8_plausible(text: str) -> bool:
    """False for UTF-8 that reads like GBK/Big5 bytes misread as UTF-8.

    Short legacy Chinese can be valid UTF-8 by chance; it then decodes to
    isolated letters of mixed scripts ("群" in GBK reads as "Ⱥ"). Real text
    has CJK (U+0800 and up), or its accented letters inside words of one
    script, or symbols such as "°" next to ASCII.
    """
    odd = fine = 0
    for i, ch in enumerate(text[:_SCAN_CHARS]):
        if ch.isascii():
            continue
        if ch >= "\u0800":
            return True
        odd += 1
        near = text[max(i - 1, 0):i] + text[i + 1:i + 2]
        script = _script(ch)
        if script in {_script(c) for c in near} - {None}:
            fine += 1
        elif script in (None, "greek"):  # symbols such as "25°C", "10kΩ"
            fine += (script or "\u00a0" <= ch <= "\u00bf") and any(
                c.isascii() and c.isalnum() for c in near)
    return fine * 2 >= odd


def _decode_plain(data: bytes, declared: str | None) -> tuple[str, str]:
    """Decode bytes without a BOM: UTF-8, a declared charset, then guessing."""
    utf8 = _strict(data, "utf-8")
    if utf8 is not None and _utf8_plausible(utf8):
        return utf8, "utf-8"
    if declared and (text := _strict(data, declared)) is not None:
        return text, declared
    cjk = _guess_cjk(data)
    if utf8 is not None and not (cjk and cjk[2] >= _SURE_CJK_SCORE):
        return utf8, "utf-8"
    if cjk and cjk[2] >= _MIN_CJK_SCORE:
        return cjk[0], cjk[1]
    if (found := _ask_charset_normalizer(data)) is not None:
        log.debug("charset-normalizer chose %s (best CJK guess: %s)",
                  found[1], cjk and (cjk[1], round(cjk[2], 2)))
        return found
    if cjk:
        return cjk[0], cjk[1]
    raise _Reject("cannot decode text")


def _looks_binary(text: str) -> bool:
    sample = text[:65_536]
    controls = sum(1 for ch in sample
                   if ch not in "\t\n\r\f\v" and unicodedata.category(ch) == "Cc")
    return "\x00" in sample or controls > 0.05 * len(sample)


def _decode_text(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode a text file's bytes, returning (text, encoding name).

    Order: BOM; binary check (NUL bytes); strict UTF-8 unless it reads like
    misread GBK; the declared charset (HTML); strict GB18030/Big5/cp950,
    scored by how much the result looks like Chinese, GB18030 winning ties;
    then charset-normalizer among plausible encodings. Raises _Reject for
    binary or undecodable data.
    """
    found = _decode_bom(data)
    if found is None:
        if b"\x00" in data:
            raise _Reject("binary file")
        found = _decode_plain(data, declared)
    if _looks_binary(found[0]):
        raise _Reject("binary file")
    return found


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


def _extract_html(data: bytes) -> tuple[str, str | None]:
    html, encoding = _decode_text(data, _declared_charset(data))
    return _html_to_text(html), encoding


_EXTRACTORS: dict[str, Callable[[bytes], tuple[str, str | None]]] = {
    "txt": _decode_text, "md": _decode_text, "docx": _extract_docx,
    "pdf": _extract_pdf, "html": _extract_html,
}
