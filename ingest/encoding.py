"""Decode the bytes of a text file without mojibake.

Order: BOM (UTF-8, UTF-16, UTF-32); BOM-less UTF-16 (recognised by where its
NUL bytes fall); binary check; strict UTF-8 unless it reads like misread GBK;
a declared charset (HTML); strict GB18030/Big5/cp950 scored by how much the
result looks like Chinese; then charset-normalizer among plausible encodings.
"""
from __future__ import annotations

import codecs
import logging
import unicodedata
from collections.abc import Sequence
from functools import cache

log = logging.getLogger(__name__)


class Rejected(Exception):
    """A file's bytes cannot be used; the message is a short reason ("binary file")."""


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
    return _decode_damaged(data)


_DAMAGE_SHARE = 1 / 2000  # at most this share of a text's characters (or 4) may be bytes no codec reads


def _decode_damaged(data: bytes) -> tuple[str, str]:
    """A text with a few bytes no codec reads (a file cut mid-character by `head -c`, one stray
    byte): decoded by the codec that reads all but the fewest, each bad byte as U+FFFD, when
    they are a sliver of it; else Rejected, saying where the first bad byte is."""
    best = None
    for codec in ("utf-8", "gb18030"):
        text = data.decode(codec, errors="replace")
        bad = text.count("\ufffd") - data.decode(codec, errors="ignore").count("\ufffd")
        if best is None or bad < best[2]:
            best = (text, codec, bad)
    text, codec, bad = best
    if bad <= max(4, len(text) * _DAMAGE_SHARE):
        return text, f"{codec} (damaged: {bad} bad byte{'s' if bad > 1 else ''})"
    where = ""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = f"; the first byte that is not UTF-8 is at offset {exc.start}"
    raise Rejected(f"cannot decode text (not UTF-8, GB18030, Big5 or UTF-16{where})")


def _looks_binary(text: str) -> bool:
    sample = text[:65_536]
    controls = sum(1 for ch in sample
                   if ch not in "\t\n\r\f\v" and unicodedata.category(ch) == "Cc")
    return "\x00" in sample or controls > 0.05 * len(sample)


def _readable(text: str) -> bool:
    """Almost no controls, unassigned, private-use or surrogate code points."""
    sample = text[:_SCAN_CHARS]
    odd = sum(1 for ch in sample
              if ch not in "\t\n\r\f\v" and unicodedata.category(ch) in ("Cc", "Cn", "Co", "Cs"))
    return bool(sample.strip()) and odd <= 0.01 * len(sample)


def _decode_utf16_bare(data: bytes) -> tuple[str, str] | None:
    """UTF-16 without a BOM, told apart from binary by where its NUL bytes fall.

    Real text has ASCII in it (digits, spaces, line breaks), whose high byte is
    NUL: at odd offsets in little-endian, at even ones in big-endian. Hanzi
    such as U+6700 put a few NULs on the other side.
    """
    if len(data) % 2:
        return None
    sample = data[:2 * _SCAN_CHARS]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    codec = "utf-16-le" if odd > 2 * even else "utf-16-be" if even > 2 * odd else None
    text = _strict(data, codec) if codec else None
    return (text, codec) if text is not None and _readable(text) else None


def decode_text(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode a text file's bytes, returning (text, encoding name).

    Order: BOM; BOM-less UTF-16; binary check (NUL bytes); strict UTF-8
    unless it reads like misread GBK; the declared charset (HTML); strict
    GB18030/Big5/cp950, scored by how much the result looks like Chinese,
    GB18030 winning ties; then charset-normalizer among plausible encodings.
    Raises Rejected for binary or undecodable data.
    """
    found = _decode_bom(data)
    if found is None and b"\x00" in data:
        found = _decode_utf16_bare(data)
        if found is None:
            raise Rejected("binary file")
    if found is None:
        found = _decode_plain(data, declared)
    if _looks_binary(found[0]):
        raise Rejected("binary file")
    return found
