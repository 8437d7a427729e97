"""Value objects that cross layer boundaries."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Location:
    """Where a passage's text sits: spans in the cleaned text and in the original file, and the
    section path it sits under there ("" in indexes built before locations carried one)."""

    doc: str
    clean_start: int
    clean_end: int
    start: int
    end: int
    section: str = ""


@dataclass(frozen=True)
class Passage:
    """One indexed unit of text.

    `text` is what the user sees as the citation; `context` (section heading
    plus text) is what the embedder and the lexical index match against.
    `start`/`end` index the original file's decoded text; `clean_start`/
    `clean_end` index the cleaned document. `also` lists the other places
    where the same text occurs (repeated sections).
    """

    id: int
    doc: str
    title: str
    section: str
    text: str
    source: str
    start: int
    end: int
    clean_start: int
    clean_end: int
    context: str = ""
    also: tuple[Location, ...] = ()
    date: str = ""  # the document's most recent stated date (ISO), "" when it states none

    @property
    def citation(self) -> str:
        """How the passage is cited: `北京市信访条例 · 第四章 信访事项的办理 · 第三十四条 (2006-05-18)`."""
        parts = [self.title, *self.headings]
        return " · ".join(x for x in parts if x) + (f" ({self.date})" if self.date else "")

    @property
    def headings(self) -> list[str]:
        """The section path below the document's own title (a Markdown "# 标题" heads its path)."""
        sections = [s for s in self.section.split(" / ") if s]
        return sections[1:] if sections and sections[0] == self.title else sections

    def public(self) -> dict:
        """The fields scripts see (`export`, `search --json`)."""
        return {
            "doc": self.doc, "title": self.title, "section": self.section,
            "text": self.text, "source": self.source,
            "start": self.start, "end": self.end, "citation": self.citation,
        }


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    passage: Passage
    dense: float = 0.0
    lexical: float = 0.0

    def public(self) -> dict:
        return {"rank": self.rank, "score": round(float(self.score), 4), **self.passage.public(),
                "date": self.passage.date}


@dataclass(frozen=True)
class DocumentRecord:
    """A document as stored in the index: enough to show and trace it."""

    doc: str
    title: str
    source: str
    sha256: str
    original: str
    cleaned: str
    removals: tuple[dict, ...] = field(repr=False, default=())
    passages: int = 0
    # What the document states about itself (absent from indexes built before they were read):
    issuer: str = ""  # the issuing body, e.g. 全国人民代表大会常务委员会
    dates: tuple[dict, ...] = ()  # {"kind": "通过" | "修订" | "施行" | "发布" | ..., "date": "YYYY-MM-DD"}, oldest first
    date: str = ""  # the most recent of them

    def metadata(self) -> dict:
        return {"issuer": self.issuer, "dates": [dict(d) for d in self.dates], "date": self.date}
