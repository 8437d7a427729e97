"""What an official document says about itself: who issued it and when.

Read from the document's own statements, never from a list of documents:
adoption notes such as "(2010年8月28日第十一届全国人民代表大会常务委员会第十六次会议通过)",
"本法自2011年1月1日起施行", a page's "发布日期:2006-09-15" and "来源:…" lines, and
the signature and date that close a notice.  Dates come out as ISO strings.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from index.chars import HAN, number_value
from ingest.structure import fold_width, issuer_mark

_YMD = r"(\d{4}|[〇○零一二三四五六七八九]{4})\s*年\s*(\d{1,2}|[一二三四五六七八九十]{1,3})\s*月\s*(\d{1,2}|[一二三四五六七八九十]{1,3})\s*日"
# A stated event: a date, then within one note what happened on it.
_EVENT = re.compile(_YMD + r"([^()（）\n。]{0,80}?)(通过|修订|修正|施行|公布|发布|印发|批准)")
_EFFECTIVE = re.compile(r"自\s*" + _YMD + r"\s*起\s*施行")
_LABELLED = re.compile(r"(发布|印发|成文|公布|施行|生效)(?:日期|时间)\s*[:：]\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})")
_ISSUER_LABEL = re.compile(r"(?:来源|发布机关|发文机关|颁布机关|制定机关)\s*[:：]\s*([^\s:：]{2,30})")
_MEETING_BODY = re.compile(rf"日\s*(?:第[一二三四五六七八九十]{{1,3}}届)?([{HAN}]{{0,30}}?(?:委员会|人民政府|国务院))"
                           r"第[一二三四五六七八九十百\d]{1,5}次(?:全体|常务)?会议")
# A decree that promulgates it: "2013年7月12日 中华人民共和国国务院令第637号公布".
_DECREE = re.compile(rf"日\s*([{HAN}、]{{2,40}}?)令\s*第\s*[\d一二三四五六七八九十百千零〇]{{1,6}}\s*号")
_SIGNATURE = re.compile(rf"^\s*([{HAN}]{{2,30}}(?:委员会|人民政府|办公厅|办公室|局|部|厅|委|院))\s*$")
_HEAD_CHARS = 1500  # adoption notes and page info sit above the text


@dataclass(frozen=True)
class Metadata:
    issuer: str = ""
    dates: tuple[dict, ...] = ()  # {"kind": "通过" | "修订" | "施行" | "发布" | ..., "date": "YYYY-MM-DD"}

    @property
    def date(self) -> str:
        """The most recent date the document states (ISO), "" if none."""
        return max((d["date"] for d in self.dates), default="")


def _number(s: str) -> int:
    return number_value(s) or 0


def _iso(y: str, m: str, d: str) -> str | None:
    year, month, day = _number(y), _number(m), _number(d)
    if not (1900 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _stated_dates(head: str, text: str) -> list[dict]:
    """The dates the document's own text states (adoption notes, "自…起施行")."""
    out = []
    for m in _EVENT.finditer(head):
        if (iso := _iso(*m.group(1, 2, 3))) is not None:
            out.append({"kind": m.group(5), "date": iso})
    for m in _EFFECTIVE.finditer(text):
        if (iso := _iso(*m.group(1, 2, 3))) is not None:
            out.append({"kind": "施行", "date": iso})
    return out


def _page_dates(original: str) -> list[dict]:
    """The dates a web page labels ("发布时间:2023-05-06"): when it was posted."""
    out = []
    for m in _LABELLED.finditer(fold_width(original[:_HEAD_CHARS * 4])):
        if (iso := _iso(*m.group(2, 3, 4))) is not None:
            out.append({"kind": m.group(1), "date": iso})
    return out


def _signature_date(text: str) -> list[dict]:
    """A notice closes with its issuer and date on the last lines."""
    lines = [ln.strip() for ln in text.strip().split("\n")[-3:]]
    for ln in lines:
        m = re.fullmatch(_YMD, ln)
        if m and (iso := _iso(*m.group(1, 2, 3))) is not None:
            return [{"kind": "成文", "date": iso}]
    return []


_HEAD_LINES = 6  # the lines an official document's head and a notice's byline take above the text


def _head_lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.strip().split("\n") if ln.strip()][:_HEAD_LINES]


def _issuer(head: str, original: str, text: str) -> str:
    """Who issued it, as the document itself says (the body that adopted it, the decree that
    promulgated it, its signature, its head), else as the page it was posted on labels it
    ("来源:司法厅" names who posted the page, not who made the law)."""
    meeting = _MEETING_BODY.search(head)
    if meeting:
        return re.sub(r"第[一二三四五六七八九十]{1,3}届", "", meeting.group(1))  # the body, not its term
    decree = _DECREE.search(head)
    if decree:
        return decree.group(1)
    for ln in text.strip().split("\n")[-4:]:
        m = _SIGNATURE.match(ln)
        if m:
            return m.group(1)
    for ln in _head_lines(head):  # "某市人民政府文件" above the title, or the body on a line under it
        m = _SIGNATURE.match(ln)
        if issuer_mark(ln) or m:
            return issuer_mark(ln) or m.group(1)
    label = _ISSUER_LABEL.search(fold_width(original[:_HEAD_CHARS * 4]))
    return label.group(1) if label else ""


def is_byline(line: str) -> bool:
    """A line that is only an issuing body or only a date ("某县人民政府办公室", "2024年3月8日")."""
    return bool(_SIGNATURE.match(line) or re.fullmatch(rf"\s*(?:{_YMD})\s*(?:印发|发布|公布)?\s*", fold_width(line)))


def _byline_date(head: str) -> list[dict]:
    """A date on a line of its own right under the issuer at the head ("某县人民政府办公室 /
    2024年3月8日"), as a notice's signature gives it at the end."""
    lines = _head_lines(head)
    for above, ln in zip(lines, lines[1:]):
        m = re.fullmatch(_YMD, ln)
        if m and _SIGNATURE.match(above) and (iso := _iso(*m.group(1, 2, 3))) is not None:
            return [{"kind": "成文", "date": iso}]
    return []


def read_metadata(original: str, cleaned: str) -> Metadata:
    """Issuer and dates the document states (cleaned text first). A web page's own info line
    (the original's "发布时间:…", which cleaning removes) counts only when the document states no
    date itself: a law posted in 2023 is still the law of 2007."""
    head = fold_width(cleaned[:_HEAD_CHARS])
    folded = fold_width(cleaned)
    found = _stated_dates(head, folded) + _signature_date(folded) + _byline_date(head)
    found = found or _page_dates(original)
    dates, seen = [], set()
    for d in found:
        if (d["kind"], d["date"]) not in seen:
            seen.add((d["kind"], d["date"]))
            dates.append(d)
    return Metadata(_issuer(head, original, folded), tuple(sorted(dates, key=lambda d: d["date"])))
