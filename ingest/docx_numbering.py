"""Word's automatic numbering, rendered as the reader sees it.

A .docx law often numbers its chapters and articles with Word's list numbering rather than typed
text: the paragraph says "为了保障……，制定本条例。" and numbering.xml adds "第一条". python-docx
reads the runs only, so without this the articles lose the numbers that structure, citations and
article questions depend on. `labels` walks a document's paragraphs in order, keeps Word's list
counters (per abstract list, levels restarting below the one that advances, start overrides of
a list instance) and formats each level as its numFmt says (decimal, Chinese counting, 甲乙丙,
circled numbers, letters, Roman numerals).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from index.chars import chinese_numeral

if TYPE_CHECKING:
    from lxml import etree

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"  # WordprocessingML


def w(tag: str) -> str:
    """A WordprocessingML tag or attribute name as lxml spells it ("p" -> "{…/main}p")."""
    return f"{{{W_NS}}}{tag}"


def _val(element, tag: str) -> str | None:
    child = element.find(w(tag)) if element is not None else None
    return None if child is None else child.get(w("val"))


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


_STEMS = "甲乙丙丁戊己庚辛壬癸"
_BRANCHES = "子丑寅卯辰巳午未申酉戌亥"
_LEGAL = dict(zip("零一二三四五六七八九十百千", "零壹贰叁肆伍陆柒捌玖拾佰仟"))


def _letters(n: int) -> str:
    # Word repeats the letter: a..z, aa..zz, aaa..
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1) if n > 0 else ""


def _roman(n: int) -> str:
    out = ""
    for value, numeral in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
                           (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        count, n = divmod(n, value)
        out += numeral * count
    return out


def _chinese(n: int) -> str:
    return chinese_numeral(n) if 0 <= n < 10_000 else str(n)


def format_number(n: int, fmt: str) -> str:
    """One counter as numFmt `fmt` writes it (ECMA-376 17.18.59); an unknown format as digits."""
    if fmt in ("chineseCounting", "chineseCountingThousand", "japaneseCounting", "taiwaneseCounting",
               "koreanCounting", "japaneseLegal"):
        return _chinese(n)
    if fmt == "chineseLegalSimplified":  # the financial numerals write every digit: 壹拾贰
        plain = _chinese(n)
        return "".join(_LEGAL.get(ch, ch) for ch in ("一" + plain if plain.startswith("十") else plain))
    if fmt in ("ideographDigital", "taiwaneseDigital", "japaneseDigitalTenThousand"):
        return "".join("〇一二三四五六七八九"[int(d)] for d in str(n))
    if fmt == "ideographTraditional":
        return _STEMS[(n - 1) % 10] if n > 0 else str(n)
    if fmt == "ideographZodiac":
        return _BRANCHES[(n - 1) % 12] if n > 0 else str(n)
    if fmt in ("decimalEnclosedCircle", "decimalEnclosedCircleChinese", "ideographEnclosedCircle"):
        return chr(0x2460 + n - 1) if 1 <= n <= 20 else str(n)
    if fmt == "decimalEnclosedParen":
        return chr(0x2474 + n - 1) if 1 <= n <= 20 else f"({n})"
    if fmt == "decimalEnclosedFullstop":
        return chr(0x2488 + n - 1) if 1 <= n <= 20 else f"{n}."
    if fmt == "decimalFullWidth":
        return "".join(chr(0xFF10 + int(d)) for d in str(n))
    if fmt == "decimalZero":
        return f"{n:02d}"
    if fmt == "lowerLetter":
        return _letters(n)
    if fmt == "upperLetter":
        return _letters(n).upper()
    if fmt == "lowerRoman":
        return _roman(n)
    if fmt == "upperRoman":
        return _roman(n).upper()
    if fmt in ("none", "bullet"):
        return ""
    return str(n)


@dataclass(frozen=True)
class _Level:
    start: int
    fmt: str
    text: str       # lvlText: "第%1条", "%1.%2", a bullet character
    suffix: str     # what separates the number from the paragraph: a space, or nothing
    legal: bool     # isLgl: every counter of the label in decimal


def _level(lvl) -> _Level:
    suff = _val(lvl, "suff") or "tab"
    return _Level(start=_int(_val(lvl, "start"), 1), fmt=_val(lvl, "numFmt") or "decimal",
                  text=_val(lvl, "lvlText") or "", suffix="" if suff == "nothing" else " ",
                  legal=lvl.find(w("isLgl")) is not None)


# Symbol-font bullets are private-use characters that no reader shows as text.
_PRIVATE = re.compile("[\ue000-\uf8ff]")
_PLACEHOLDER = re.compile(r"%([1-9])")


class Numbering:
    """List definitions of one document and the counters of a walk through its paragraphs."""

    def __init__(self, numbering: etree._Element | None, styles: etree._Element | None):
        self.abstract: dict[str, dict[int, _Level]] = {}
        self.instances: dict[str, tuple[str, dict[int, int]]] = {}  # numId -> (abstractNumId, start overrides)
        self.style_num: dict[str, tuple[str | None, str | None]] = {}
        self.style_base: dict[str, str] = {}
        if numbering is not None:
            for abstract in numbering.iterchildren(w("abstractNum")):
                levels = {_int(lvl.get(w("ilvl")), 0): _level(lvl) for lvl in abstract.iterchildren(w("lvl"))}
                self.abstract[abstract.get(w("abstractNumId"))] = levels
            for num in numbering.iterchildren(w("num")):
                overrides = {_int(o.get(w("ilvl")), 0): _int(_val(o, "startOverride"), 1)
                             for o in num.iterchildren(w("lvlOverride")) if o.find(w("startOverride")) is not None}
                self.instances[num.get(w("numId"))] = (_val(num, "abstractNumId"), overrides)
        if styles is not None:
            for style in styles.iterchildren(w("style")):
                sid = style.get(w("styleId"))
                num_pr = style.find(f"{w('pPr')}/{w('numPr')}")
                if num_pr is not None:
                    self.style_num[sid] = (_val(num_pr, "numId"), _val(num_pr, "ilvl"))
                if (base := _val(style, "basedOn")) is not None:
                    self.style_base[sid] = base
        self.counters: dict[str, dict[int, int]] = {}
        self.started: set[str] = set()

    def _style_numbering(self, style_id: str | None) -> tuple[str | None, str | None]:
        seen = set()
        while style_id is not None and style_id not in seen:
            seen.add(style_id)
            if style_id in self.style_num:
                return self.style_num[style_id]
            style_id = self.style_base.get(style_id)
        return None, None

    def label(self, p: etree._Element) -> str:
        """The number Word shows before paragraph `p` ("第三条 ", "（一）", ""); advances the counters,
        so call it once per paragraph, in document order."""
        ppr = p.find(w("pPr"))
        num_pr = ppr.find(w("numPr")) if ppr is not None else None
        style_num, style_lvl = self._style_numbering(_val(ppr, "pStyle"))
        num_id = _val(num_pr, "numId") if num_pr is not None else None
        num_id = num_id if num_id is not None else style_num
        ilvl = _int(_val(num_pr, "ilvl") if num_pr is not None else None, _int(style_lvl, 0))
        if num_id is None or num_id == "0" or num_id not in self.instances:
            return ""
        abstract_id, overrides = self.instances[num_id]
        levels = self.abstract.get(abstract_id)
        if not levels or ilvl not in levels:
            return ""
        counters = self.counters.setdefault(abstract_id, {})
        if num_id not in self.started:  # a list instance that restarts its abstract list
            self.started.add(num_id)
            for lvl, start in overrides.items():
                counters[lvl] = start - 1
        counters[ilvl] = counters.get(ilvl, levels[ilvl].start - 1) + 1
        for deeper in [lvl for lvl in counters if lvl > ilvl]:
            del counters[deeper]
        level = levels[ilvl]
        if level.fmt == "bullet":  # a bullet is decoration, not a number a reader cites
            return ""

        def counter(m: re.Match) -> str:
            at = int(m.group(1)) - 1
            value = counters.get(at, levels[at].start if at in levels else 1)
            fmt = levels[at].fmt if at in levels else "decimal"
            return format_number(value, "decimal" if level.legal and fmt != "none" else fmt)

        text = _PRIVATE.sub("", _PLACEHOLDER.sub(counter, level.text)).strip()
        return text + level.suffix if text else ""


def labels(body: etree._Element, numbering: etree._Element | None, styles: etree._Element | None,
           skip=lambda p: False) -> dict[etree._Element, str]:
    """The numbering label of every numbered paragraph of `body`, in document order
    (paragraphs for which `skip` is true are neither labelled nor counted)."""
    walk = Numbering(numbering, styles)
    out = {}
    if not walk.instances:
        return out
    for p in body.iter(w("p")):
        if not skip(p) and (label := walk.label(p)):
            out[p] = label
    return out
