"""One document: loaded text -> cleaned text -> sections -> passages (with exact spans)."""
from __future__ import annotations

import logging
from bisect import bisect_left
from dataclasses import dataclass, replace

from index.embedders import Embedder
from index.schema import DocumentRecord, Location, Passage
from index.settings import Settings
from index.units import match_units, normalise, windows  # noqa: F401 (match_units re-exported for older callers)
from ingest.cleaning import CleanText, clean
from ingest.loaders import LoadedFile
from ingest.metadata import is_byline, read_metadata
from ingest.splitting import Chunk, split_document
from ingest.structure import (
    ARTICLE_LEVEL,
    Sections,
    article_cuts,
    detect_title,
    find_headings,
    heading_cut,
    is_banner_line,
)

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class ProcessedDocument:
    record: DocumentRecord
    passages: list[Passage]  # ids are 0..n-1 within the document until assembly renumbers them


def process(loaded: LoadedFile, doc_id: str, settings: Settings, embedder: Embedder | None) -> ProcessedDocument:
    embed = embedder.embed_passages if (embedder is not None and settings.semantic_cleaning) else None
    cleaned = clean(loaded.text, embed=embed, marked=loaded.chrome)
    title = loaded.title or detect_title(loaded.text, cleaned.text, loaded.path.name)
    headings = find_headings(cleaned.text, _to_cleaned(cleaned, loaded.headings), title)
    sections = Sections(headings)
    chunks = [c for c in _split(cleaned.text, sections, settings) if not _title_only(c.text, title)]
    passages = _dedupe([_passage(i, c, doc_id, title, str(loaded.path), cleaned, sections, settings)
                        for i, c in enumerate(chunks)])
    meta = read_metadata(loaded.text, cleaned.text)
    if meta.date:
        passages = [replace(p, date=meta.date) for p in passages]
    record = DocumentRecord(
        doc=doc_id, title=title, source=str(loaded.path), sha256=loaded.sha256, original=loaded.text,
        cleaned=cleaned.text,
        removals=tuple({"start": r.start, "end": r.end, "rule": r.rule} for r in cleaned.removals),
        passages=len(passages), issuer=meta.issuer, dates=meta.dates, date=meta.date)
    return ProcessedDocument(record, passages)


def _to_cleaned(cleaned: CleanText, spans: tuple[tuple[int, int, int], ...]) -> tuple[tuple[int, int, int], ...]:
    """Spans of the original as spans of the cleaned text (what of them survived cleaning)."""
    out = []
    for a, b, level in spans:
        i, j = bisect_left(cleaned.offsets, a), bisect_left(cleaned.offsets, b)
        if i < j:
            out.append((i, j, level))
    return tuple(out)


def _after_title(text: str, start: int, end: int, title: str) -> int:
    """Where a chunk's own text starts: after the title lines (and official-document head) that
    open it, so "# 培训笔记\n## 沟通技巧\n…" is cited under 沟通技巧."""
    pos = start
    while pos < end:
        line_end = text.find("\n", pos, end)
        line_end = end if line_end < 0 else line_end
        line = text[pos:line_end].strip(" \t#")
        if line and not _title_only(line, title):
            break
        pos = line_end + 1
    return pos if pos < end else start


def _title_only(text: str, title: str) -> bool:
    """A chunk that holds nothing but the document's title (with the official-document head above
    it and the issuer and date under it): every passage is cited under the title already, and as
    a passage of its own it would be offered as an answer ("1. 信访接待工作规范 [1]"). It stays in
    the cleaned text (and the document's issuer and date are read from there)."""
    lines = [ln for ln in (x.strip() for x in text.splitlines()) if ln]
    whole = normalise(title)

    def of_title(line: str) -> bool:
        return bool(normalise(line)) and normalise(line) in whole

    return bool(lines) and bool(whole) and any(map(of_title, lines)) and all(
        is_banner_line(ln) or is_byline(ln) or of_title(ln) for ln in lines)


def _split(text: str, sections: Sections, settings: Settings) -> list[Chunk]:
    """Chunks that never cross a heading, split apart at every article so none holds two."""
    cuts = sorted({0, len(text), *article_cuts(sections.headings, text)})
    chunks: list[Chunk] = []
    articles = [h.start for h in sections.headings if h.level == ARTICLE_LEVEL]
    for a, b in zip(cuts, cuts[1:]):
        k = bisect_left(articles, a)
        lead = articles[k] if k < len(articles) and articles[k] < b else a  # the headings above an article travel with it
        inner = [heading_cut(text, h.start) - a for h in sections.within(max(a, lead) + 1, b)]
        chunks += [Chunk(c.start + a, c.end + a, c.text)
                   for c in split_document(text[a:b], inner, settings.max_chars, settings.min_chars)]
    return chunks


def _passage(i: int, c: Chunk, doc_id: str, title: str, source: str, cleaned: CleanText, sections: Sections,
             settings: Settings) -> Passage:
    own = _after_title(cleaned.text, c.start, c.end, title)
    section = sections.path(sections.unit_position(cleaned.text, own, c.end))
    start, end = cleaned.to_original(c.start, c.end)
    head = " / ".join(x for x in ((title if settings.context_title else ""), section) if x)
    return Passage(id=i, doc=doc_id, title=title, section=section, text=c.text, source=source,
                   start=start, end=end, clean_start=c.start, clean_end=c.end,
                   context=f"{head}\n{c.text}" if head else c.text)


def _dedupe(passages: list[Passage]) -> list[Passage]:
    """Index a repeated section once: a passage whose every window occurs earlier becomes a
    location (`also`) of the earlier passage that holds most of them."""
    owner: dict[str, int] = {}
    kept: list[Passage] = []
    extra: dict[int, list[Location]] = {}
    for p in passages:
        ws = windows(p.text)
        hits = [owner[w] for w in ws if w in owner]
        if ws and len(hits) == len(ws):
            target = max(set(hits), key=hits.count)
            extra.setdefault(target, []).append(
                Location(p.doc, p.clean_start, p.clean_end, p.start, p.end, p.section))
            continue
        idx = len(kept)
        for w in ws:
            owner.setdefault(w, idx)
        kept.append(p)
    out = []
    for idx, p in enumerate(kept):
        also = tuple(extra.get(idx, ()))
        out.append(Passage(**{**p.__dict__, "id": idx, "also": also}))
    return out
