"""Split a cleaned document into answer-sized passages with exact spans.

A passage is a group of whole sentences (sentence ends 。!?;… stay with
their sentence) of at most `max_chars` characters, never crossing a section
heading. langchain's RecursiveCharacterTextSplitter does the splitting; the
spans are recovered by locating each chunk in the cleaned text, so they are
exact.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence


SEPARATORS = ["\n\n", "\n", "。", "!", "?", "!", "?", "…", ";", ";", ",", ",", "、", " ", ""]


@dataclass(frozen=True)
class Chunk:
    start: int  # span in the cleaned text, end exclusive
    end: int
    text: str


def make_splitter(max_chars: int):
    from langchain_text_splitters import RecursiveCharacterTextSplitter  # heavy: only ingest needs it

    return RecursiveCharacterTextSplitter(
        separators=SEPARATORS, keep_separator="end", chunk_size=max_chars, chunk_overlap=0,
        strip_whitespace=True, length_function=len)


def split_span(text: str, start: int, end: int, splitter) -> list[Chunk]:
    """Chunks of text[start:end], each located exactly in `text`."""
    out: list[Chunk] = []
    cursor = start
    for piece in splitter.split_text(text[start:end]):
        at = text.find(piece, cursor, end)
        if at < 0:  # cannot happen with strip-only splitting; keep the invariant loud
            raise ValueError(f"chunk not found in source: {piece[:30]!r}")
        out.append(Chunk(at, at + len(piece), piece))
        cursor = at + len(piece)
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


def normalise(s: str) -> str:
    """The metric's normalisation: NFKC, then letters and digits only."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", s) if unicodedata.category(ch)[0] in "LN")


_SENTENCE = re.compile(r"[^。!?!?;;…\n]+[。!?!?;;…]*[”’」』)]?")


def sentences(text: str) -> list[str]:
    """Sentences of `text` (ends kept), dropping fragments with fewer than 6 letters/digits."""
    return [s.strip() for s in _SENTENCE.findall(text) if sum(ch.isalnum() for ch in s) >= 6]


def unit_sentences(text: str, section: str) -> list[str]:
    """The sentences of a passage that get their own vector: all but a repeat of its own heading."""
    head = section.split(" / ")[-1] if section else ""
    return [s for s in sentences(text) if s.rstrip("。;;:: ") != head] or [text]


WINDOW = 30  # the dup metric's window: passages sharing one count as repeats


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
