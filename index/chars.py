"""Character classes that ingest, index and assistant share (one spelling of each range)."""
from __future__ import annotations

# CJK Unified Ideographs: what counts as a Chinese character in tokens, counts and patterns.
HAN = "\u4e00-\u9fff"
# With the rarer Han blocks (Extension A, compatibility ideographs): the cleaner's class.
HAN_ALL = f"\u3400-\u4dbf{HAN}\uf900-\ufaff"
# CJK punctuation, kana and Han, and the full-width forms: text that runs on without spaces.
EAST_ASIAN = "\u3000-\u9fff\uff00-\uffef"


def is_han(ch: str) -> bool:
    """Is the character a CJK unified ideograph (the HAN range)?"""
    return "\u4e00" <= ch <= "\u9fff"


def han_count(text: str) -> int:
    """How many characters of `text` are in the HAN range."""
    return sum(map(is_han, text))


# The traditional forms of the characters that number a law's parts and count (第一條, 第二節, 第三編,
# 第四項, 萬, 兩): structure patterns read them as the simplified forms, one character for one, so
# a law printed in traditional characters has articles and sections too.
TRADITIONAL_MARKERS = {ord(t): ord(s) for t, s in zip("條節編項萬兩", "条节编项万两")}


def fold_markers(text: str) -> str:
    """`text` with TRADITIONAL_MARKERS folded (same length: spans index the original)."""
    return text.translate(TRADITIONAL_MARKERS)


_CN_DIGIT = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000}


def cn_number(run: str) -> int | None:
    """The value of a run of Chinese numerals (一百二十五 -> 125, 三十 -> 30, 二〇二四 -> 2024)."""
    if all(ch in _CN_DIGIT for ch in run):
        return int("".join(str(_CN_DIGIT[ch]) for ch in run))
    total, section, digit = 0, 0, None
    for ch in run:
        if ch in _CN_DIGIT:
            digit = _CN_DIGIT[ch]
        elif ch in ("万", "亿"):
            section = (section + (digit or 0)) or 1
            total, section, digit = total + section * _CN_UNIT[ch], 0, None
        elif ch in _CN_UNIT:
            section += (1 if digit is None else digit) * _CN_UNIT[ch]
            digit = None
        else:
            return None
    return total + section + (digit or 0)


def number_value(s: str) -> int | None:
    """A number written in digits or in Chinese numerals ("12", "十二", "二〇二四"; the circle ○
    that scans and typewriters use for 〇 too); None if it is neither."""
    if s.isdigit():
        return int(s)
    return cn_number(s.replace("○", "〇")) if s else None


def chinese_numeral(n: int) -> str:
    """A whole number below 10,000 as a law writes it in Chinese numerals (15 -> 十五, 30 -> 三十,
    105 -> 一百零五); `cn_number` reads it back."""
    if not 0 <= n < 10_000:
        raise ValueError(f"{n} is outside 0..9999")
    if n == 0:
        return "零"
    digits = "零一二三四五六七八九"
    out, gap = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d, n = divmod(n, value)
        if d:
            out += ("零" if gap and out else "") + ("" if unit == "十" and d == 1 and not out else digits[d]) + unit
            gap = False
        else:
            gap = bool(out)
    return out
