"""The unit contract: what text is embedded for a passage, and how texts are compared.

Ingest embeds `match_units(passage)` for every passage; query time reads the same rules
(`unit_sentences` to pick the sentence behind a card, `normalise`/`norm_windows` to spot
repeats). Both sides must agree, so the rules live here, in the layer both import.
Bump `UNITS_VERSION` whenever any function below changes what it returns: an index
embedded under other rules no longer matches them.
"""
from __future__ import annotations

import re
import unicodedata

from index.chars import HAN, chinese_numeral, cn_number, fold_markers, number_value
from index.schema import Passage

UNITS_VERSION = 3

# The dup metric's window (shared/eval README): two passages sharing one normalised 30-character
# window count as repeats. A definition of what the eval measures, not a tunable: it stays a
# constant, outside `Settings`, so a setting can never change how results are scored.
WINDOW = 30

# A sentence: up to its end marks and one closing quote or bracket. The cleaner and the answer
# check split by it too, so a sentence is the same thing everywhere.
SENTENCE_END = "。！？!?；;…"
SENTENCE = re.compile(rf"[^{SENTENCE_END}\n]+[{SENTENCE_END}]*[”’」』)）]?")


def normalise(s: str) -> str:
    """The metric's normalisation: NFKC, then letters and digits only."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", s) if unicodedata.category(ch)[0] in "LN")


def sentences(text: str) -> list[str]:
    """Sentences of `text` (ends kept), dropping fragments with fewer than 6 letters/digits."""
    return [s.strip() for s in SENTENCE.findall(text) if sum(ch.isalnum() for ch in s) >= 6]


def unit_sentences(text: str, section: str) -> list[str]:
    """The sentences of a passage that get their own vector: all but a repeat of its own heading."""
    head = section.split(" / ")[-1] if section else ""
    return [s for s in sentences(text) if s.rstrip("。；;：: ") != head] or [text]


# A section that is one article of a law: "第三十四条", "第十条之一" (ingest.structure makes an
# article its own section only in a text with several of them).
_ARTICLE = re.compile(r"第(?:[一二三四五六七八九十百千零〇两]{1,7}|\d{1,4})条(?:之[一二三四五六七八九十]{1,3})?")
_ARTICLE_PARTS = re.compile(r"第([一二三四五六七八九十百千零〇两]{1,7}|\d{1,4})条(?:之([一二三四五六七八九十]{1,3}))?")
# "Article 12", "Art. 12", "article 10-1", "Articles 12 and 13" in an English question: how a
# Chinese law's 第十二条 is cited.
_EN_NUMBER = r"\d{1,4}(?:-\d{1,2})?"
_ARTICLE_EN = re.compile(rf"\b(?:articles?|arts?\.)\s*({_EN_NUMBER}(?:\s*(?:,|and|&)\s*{_EN_NUMBER})*)\b", re.IGNORECASE)


def article_key(heading: str) -> tuple[int, int] | None:
    """(number, sub-number) of an article heading: 第十二条 -> (12, 0), 第十条之一 -> (10, 1); None
    for any other heading."""
    m = _ARTICLE_PARTS.fullmatch(fold_markers(heading))  # 第三條 too
    if m is None:
        return None
    number, sub = number_value(m.group(1)), cn_number(m.group(2)) if m.group(2) else 0
    return None if number is None or sub is None else (number, sub)


_CN_NUMERAL = r"[一二三四五六七八九十百千零〇两]{1,7}|\d{1,4}"
# A run of articles: 第十二条至第十五条, 第十二至十五条, "Articles 12 to 15", "articles 12 through 15".
_RANGE_ZH = re.compile(rf"第({_CN_NUMERAL})(?:条)?\s*(?:至|到|—|－|-|~|～)\s*第?({_CN_NUMERAL})条")
_RANGE_EN = re.compile(r"\barticles?\s*(\d{1,4})\s*(?:to|through|-|–)\s*(\d{1,4})\b", re.IGNORECASE)
RANGE_MAX = 20  # a longer run is read as its two ends only


def english_article_spans(text: str) -> list[tuple[int, int]]:
    """Where an English question cites articles by number ("Article 12", "Articles 12 to 15"):
    the digits there name articles, not quantities."""
    return sorted(m.span() for pattern in (_ARTICLE_EN, _RANGE_EN) for m in pattern.finditer(text))


def article_name(key: tuple[int, int]) -> str:
    """How an article key is written: (12, 0) -> 第十二条, (10, 1) -> 第十条之一."""
    number, sub = key
    return f"第{chinese_numeral(number)}条" + (f"之{chinese_numeral(sub)}" if sub else "")


def cited_articles(text: str) -> set[tuple[int, int]]:
    """The articles a question cites by number: 第十二条 / 第12条 / 第十条之一 in Chinese, "Article
    12" in English, as `article_key` reads them, and every article of a run (第十二条至第十五条,
    "Articles 12 to 15"); 第三條 in traditional characters too."""
    text = fold_markers(text)
    out = {article_key(m.group()) for m in _ARTICLE_PARTS.finditer(text)}
    runs = [(number_value(m.group(1)), number_value(m.group(2))) for m in _RANGE_ZH.finditer(text)]
    runs += [(int(m.group(1)), int(m.group(2))) for m in _RANGE_EN.finditer(text)]
    for lo, hi in runs:
        if lo is not None and hi is not None and lo < hi:
            out |= {(lo, 0), (hi, 0)} | ({(n, 0) for n in range(lo, hi + 1)} if hi - lo < RANGE_MAX else set())
    for m in _ARTICLE_EN.finditer(text):
        for number in re.findall(_EN_NUMBER, m.group(1)):
            main, _, sub = number.partition("-")
            out.add((int(main), int(sub or 0)))
    return {key for key in out if key is not None and 0 < key[0] < 10_000 and key[1] < 100}


# An article cited as part of a law: the law's name ends in the name of a kind of legal text
# (信访工作条例第十二条, 《人民调解法》第五条, 办法的第三条), or "Article 12" in English. "第一条经验"
# (a page's first point) cites no law.
_LAW_KIND = r"(?:条例|法|办法|规定|细则|规则|决定|章程|通知|意见)"
_LAW_ARTICLE = re.compile(rf"{_LAW_KIND}》?\s*(?:的\s*)?{_ARTICLE.pattern}")


_LAW_NAMED = re.compile(rf"([{HAN}]{{2,30}}{_LAW_KIND})》?\s*(?:的\s*)?{_ARTICLE.pattern}")


def names_another_law(text: str, title: str) -> bool:
    """Whether a question names the law whose article it cites ("信访工作条例第十二条", "Article
    12 of the 信访工作条例") and that name is not `title`'s: no tail of the name of four
    characters or more (the name as asked may start with other words, "请问信访工作条例") occurs
    in the title."""
    bare, text = "".join(fold_markers(title).split()).strip("《》"), fold_markers(text)
    names = [m.group(1) for pattern in (_LAW_NAMED, _ARTICLE_OF_LAW) for m in pattern.finditer(text)]
    for name in names:
        if len(name) >= 4 and not any(name[i:] in bare for i in range(len(name) - 3)):
            return True
    return False


_ARTICLE_OF = re.compile(rf"\b(?:articles?|arts?\.)\s*{_EN_NUMBER}(?:\s*(?:,|and|&|to|-)\s*{_EN_NUMBER})*\s+of\s+\w",
                         re.IGNORECASE)
# An English question that names the law in Chinese: "Article 14 of the 《信访工作条例》".
_ARTICLE_OF_LAW = re.compile(rf"\b(?:articles?|arts?\.)\s*{_EN_NUMBER}(?:\s*(?:,|and|&|to|-)\s*{_EN_NUMBER})*"
                             rf"\s+of\s+(?:the\s+)?《?([{HAN}]{{2,30}}{_LAW_KIND})", re.IGNORECASE)


def names_a_law(text: str) -> bool:
    """Whether a question says which law the article it cites is of ("信访工作条例第十二条",
    "Article 12 of the Regulations on …"), not just its number ("第十二条", "Article 12")."""
    return bool(_LAW_NAMED.search(fold_markers(text)) or _ARTICLE_OF.search(text))


def cites_a_law(text: str) -> bool:
    """Whether a question cites an article of a law by number (see `_LAW_ARTICLE`)."""
    return bool(_LAW_ARTICLE.search(fold_markers(text)) or _ARTICLE_EN.search(text))


def is_article(p: Passage) -> bool:
    """Whether a passage is one article of a law (its section ends in 第X条)."""
    heads = p.headings
    return bool(heads) and _ARTICLE.fullmatch(fold_markers(heads[-1])) is not None


def unit_path(p: Passage) -> str:
    """The headings a passage's units are led by: its section path, and for an article of a
    law the law's title before it. A law is read under its name whatever its file format: a
    Markdown law's "# 标题" already heads its section path, a .docx, .html, .pdf or .txt law
    states the name as its title. (A scraped page's title, "…心得体会", is a genre label that
    would make every unit alike, so only articles take it.)"""
    if p.title and is_article(p):
        return " ".join([p.title, *p.headings])
    return " ".join(s for s in p.section.split(" / ") if s)


def match_units(p: Passage) -> list[str]:
    """The texts the embedder sees for a passage: each sentence, led by its `unit_path`.

    A passage is scored by its best unit, so one sentence that answers the question is
    not diluted by the rest of the passage, while the headings above it say what it is about."""
    return _led_by(unit_path(p), p)


def _led_by(path: str, p: Passage) -> list[str]:
    return [f"{path}\n{u}" if path else u for u in unit_sentences(p.text, p.section)]


def _units_2(p: Passage) -> list[str]:
    """Unit rules 2: every sentence led by the section path alone (articles of a law not in a
    Markdown file went without the law's name)."""
    return _led_by(p.section.replace(" / ", " "), p)


# The unit texts of an index embedded under each rules version this code can still reproduce:
# a rebuild after an upgrade keeps the vector of every unit whose text comes out the same.
RULES = {2: _units_2, UNITS_VERSION: match_units}


def windows(text: str) -> set[str]:
    """The normalised 30-character windows of `text` (the whole text if shorter)."""
    return norm_windows(normalise(text))


def norm_windows(norm: str) -> set[str]:
    """The 30-character windows of an already normalised text."""
    if len(norm) <= WINDOW:
        return {norm} if norm else set()
    return {norm[i:i + WINDOW] for i in range(len(norm) - WINDOW + 1)}


def has_content(s: str) -> bool:
    return len(normalise(s)) >= 4
