"""Split a cleaned document into answer-sized passages with exact spans.

A passage is a group of whole sentences (sentence ends 。!?;… stay with
their sentence) of at most `max_chars` characters, never crossing a section
heading. langchain's RecursiveCharacterTextSplitter does the splitting and
reports where each chunk starts (`add_start_index`), so spans are exact.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

# The unit contract lives in index/units.py; re-exported for callers that import it from here.
from index.units import WINDOW, has_content, norm_windows, normalise, sentences, unit_sentences, windows  # noqa: F401

SEPARATORS = ["\n\n", "\n", "。", "！", "？", "!", "?", "…", "；", ";", "，", ",", "、", " ", ""]


@dataclass(frozen=True)
class Chunk:
    start: int  # span in the cleaned text, end exclusive
    end: int
    text: str


def make_splitter(max_chars: int):
    from langchain_text_splitters import RecursiveCharacterTextSplitter  # heavy: only ingest needs it

    return RecursiveCharacterTextSplitter(
        separators=SEPARATORS, keep_separator="end", chunk_size=max_chars, chunk_overlap=0,
        strip_whitespace=True, length_function=len, add_start_index=True)


def split_span(text: str, start: int, end: int, splitter) -> list[Chunk]:
    """Chunks of text[start:end], each located by the splitter itself (`add_start_index`)."""
    out: list[Chunk] = []
    for doc in splitter.create_documents([text[start:end]]):
        at = start + doc.metadata["start_index"]
        piece = doc.page_content
        if doc.metadata["start_index"] < 0 or text[at:at + len(piece)] != piece:  # keep the invariant loud
            raise ValueError(f"chunk not found in source: {piece[:30]!r}")
        out.append(Chunk(at, at + len(piece), piece))
    return out


def merge_short(chunks: list[Chunk], text: str, min_chars: int, max_chars: int) -> list[Chunk]:
    """Merge chunks shorter than `min_chars` into the previous one (or the next) when it fits."""
    out: list[Chunk] = []
    for c in chunks:
        if out and (len(c.text) < min_chars or len(out[-1].text) < min_chars) \
                and c.end - out[-1].start <= max_chars * 1.3:
            prev = out.pop()
            c = Chunk(prev.start, c.end, text[prev.start:c.end])
        out.append(c)
    return out


def split_document(text: str, boundaries: Sequence[int], max_chars: int, min_chars: int) -> list[Chunk]:
    """Split `text` into chunks that never cross a boundary (section heading starts)."""
    splitter = make_splitter(max_chars)
    cuts = _merge_thin_sections(text, sorted({0, len(text), *[b for b in boundaries if 0 < b < len(text)]}),
                                min_chars)
    chunks: list[Chunk] = []
    for a, b in zip(cuts, cuts[1:]):
        chunks.extend(merge_short(split_span(text, a, b, splitter), text, min_chars, max_chars))
    return [c for c in chunks if has_content(c.text)]


def _merge_thin_sections(text: str, cuts: list[int], min_chars: int) -> list[int]:
    """Drop the cut after a section too short to stand alone (a heading followed at once by a
    sub-heading), so the heading travels with the text under it instead of being a passage."""
    out = [cuts[0]]
    for b in cuts[1:-1]:
        if len(normalise(text[out[-1]:b])) >= min_chars / 2:
            out.append(b)
    out.append(cuts[-1])
    return out
