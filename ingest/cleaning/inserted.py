"""Rules for foreign text put into a document: spliced watermarks and short inserted lines."""
from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass

from ingest.cleaning.core import Embed, Span
from ingest.cleaning.helpers import (CLOSERS, DANGLING, TERMINAL, bigram_counts, ends_sentence, is_cjk,
                                     lines_of)
from ingest.structure import is_heading_line
from index.chars import HAN
from index.segment import is_word
from index.units import SENTENCE

log = logging.getLogger(__name__)

def _ngram_counts(text: str, n: int) -> Counter:
    return Counter(text[i:i + n] for i in range(len(text) - n + 1))


_WM_MIN, _WM_MAX = 2, 8


def _glued_elsewhere(text: str, i: int, j: int) -> bool:
    """Do the 4 characters on one side of text[i:j] meet the other side everywhere else?

    A watermark splits a phrase that the document otherwise writes whole
    ("全心全意|本文|为人民服务"); a real word inserted between two phrases
    ("工作的|坚实|基础") sits where the document writes many different things.
    """
    left, right = text[i - 4:i], text[j:j + 4]
    shares = []
    for side, glued in ((left, left + text[j:j + 2]), (right, text[i - 2:i] + right)):
        total = text.count(side) - 1
        if len(side) == 4 and total >= 2:
            shares.append(text.count(glued) / total)
    # One side must meet the other nearly always; neither may usually meet something else
    # ("县级以上|地方|人民政府": 人民政府 follows many words, so 地方 is one of them).
    return any(x >= 0.75 for x in shares) and all(x >= 0.5 for x in shares)


def _is_splice(text: str, i: int, j: int, grams2: Counter, grams4: Counter) -> bool:
    """Could text[i:j] be a foreign string spliced inside a phrase here?"""
    piece = text[i:j]
    if grams2[text[i - 1] + text[j]] < 3 or max(grams4[text[i - 4:i]], grams4[text[j:j + 4]]) < 3:
        return False  # cheap filters first: the rejoined phrase must be common
    if not all(is_cjk(ch) for ch in text[i - 2:j + 2]):
        return False
    copies = text.count(piece)
    if grams2[text[i - 1:i + 1]] != text.count(text[i - 1:j]) or grams2[text[j - 1:j + 1]] != text.count(text[i:j + 1]):
        return False  # a seam it makes also occurs without it
    if any(grams2[piece[k:k + 2]] > copies for k in range(len(piece) - 1)):
        return False  # its own bigrams occur elsewhere
    return _glued_elsewhere(text, i, j)
def _splices(text: str) -> dict[str, list[Span]]:
    """Every place where a short string looks spliced inside a phrase, by string."""
    grams2, grams4 = _ngram_counts(text, 2), _ngram_counts(text, 4)
    found: dict[str, list[Span]] = {}
    i = 2
    while i < len(text) - 2:
        for size in range(_WM_MIN, _WM_MAX + 1):
            j = i + size
            if j + 2 <= len(text) and grams2[text[i - 1:i + 1]] <= 3 and _is_splice(text, i, j, grams2, grams4):
                found.setdefault(text[i:j], []).append((i, j))
                i = j
                break
        else:
            i += 1
    return found


_WM_WINDOW = 100_000  # characters: a document longer than this is read window by window


def watermark(text: str) -> list[Span]:
    """`watermark_in` over windows of at most `_WM_WINDOW` characters, cut at line ends: each
    candidate is counted against its window, so a long law collection costs time in proportion
    to its length (counting against the whole text was quadratic: a 4 MB file took 137 s). A
    site stamps a page's phrases within a page; documents below the window are read whole."""
    spans: list[Span] = []
    start = 0
    while start < len(text):
        end = len(text) if len(text) - start <= _WM_WINDOW else text.rfind("\n", start, start + _WM_WINDOW) + 1
        if end <= start:
            end = start + _WM_WINDOW
        spans += [(a + start, b + start) for a, b in watermark_in(text[start:end])]
        start = end
    return spans


def watermark_in(text: str) -> list[Span]:
    """Foreign strings spliced inside a phrase ("与群文秘杂烩风众" -> "与群众").

    A span is a watermark when deleting it rejoins a phrase the document
    otherwise writes whole, when the seams it makes and its own bigrams occur
    only with it, and when *every* copy of it in the document is such a
    splice (a real word also occurs in ordinary places).  A string seen
    only once must be three characters or more and split a word in two
    (`_splits_a_word`): a lone one is too often a real word.
    """
    spans: list[Span] = []
    for piece, where in _splices(text).items():
        if len(where) == text.count(piece) and (len(where) >= 2 or (len(piece) >= 3 and _splits_a_word(text, *where[0]))):
            spans += where
    return spans


def _splits_a_word(text: str, i: int, j: int) -> bool:
    """Does text[i:j] sit inside one word, between two characters that are a word together and
    belong to no word on either side ("与群|甲乙丙丁|众的": 群众)? A string seen once between two
    words may be a modifier the document uses once (特大|建筑质量|安全事故, 生物|医学新|技术),
    which a single splice cannot be told from."""
    return (is_word(text[i - 1] + text[j]) and not is_word(text[i - 2:i]) and not is_word(text[j:j + 2]))


# ------------------------------------------------------------ inserted lines

_ITEM_START = re.compile(r"\s*(?:\d{1,3}[、.．)）]|[a-zA-Z][、.．)）]|[(（]|[①-⑳]|[一二三四五六七八九十]+[、是.])")
_ATTRIBUTION = re.compile(rf"——\s*\S{{1,24}}\s*$|—\s*[A-Za-z{HAN}·. ]{{1,24}}$")
_NARRATIVE = re.compile("(?:我|你|她|他)们?俩?[^,，。]{0,8}(?:了|着|过)|仿佛|送你|愿你|祝你")
_CANDIDATE_MAX = 80
_MIN_REFS = 8  # fewer reference sentences than this: no semantic judgement
_MIN_SIGMA = 0.01  # the spread of cosines among a document's own sentences (e5-small)
_PARAGRAPH_MIN = 60


@dataclass(frozen=True)
class _Candidate:
    start: int  # the line's content span
    end: int
    prev_end: int  # end of the previous non-blank line's content
    next_start: int  # start of the next non-blank line's content
    text: str
    tail: bool = False  # a fragment ending a longer line, before a dangling "。"


def _candidate_max(rows: list[Span]) -> int:
    """A candidate is short: under 80 characters and under half a typical paragraph."""
    paragraphs = sorted(b - a for a, b in rows if b - a >= _PARAGRAPH_MIN)
    if not paragraphs:
        return _CANDIDATE_MAX
    return min(_CANDIDATE_MAX, paragraphs[len(paragraphs) // 2] // 2)


def _candidates(text: str) -> list[_Candidate]:
    """Short stand-alone lines between paragraphs (after the first one: titles stay)."""
    rows = [(a, b) for a, b in lines_of(text) if text[a:b].strip()]
    first_paragraph = next((k for k, (a, b) in enumerate(rows) if b - a >= _PARAGRAPH_MIN), len(rows))
    longest = _candidate_max(rows)
    out = []
    for k in range(first_paragraph + 1, len(rows) - 1):
        a, b = rows[k]
        line = text[a:b].strip()
        if len(line) > longest or is_heading_line(line) or _ITEM_START.match(line):
            continue
        if line.endswith((":", ":")) or line[0] in DANGLING:
            continue
        out.append(_Candidate(a, b, rows[k - 1][1], rows[k + 1][0], line))
    return out + _tail_fragments(text, rows)


_LAST_STOP = re.compile(f"[{TERMINAL}][{CLOSERS}]?(?=[^{TERMINAL}]+$)")


def _tail_fragments(text: str, rows: list[Span]) -> list[_Candidate]:
    """Short fragments after a line's last sentence end when the next line starts with "。"."""
    out = []
    for (a, b), (n, _) in zip(rows, rows[1:]):
        if text[n] not in DANGLING or b - a <= _CANDIDATE_MAX:
            continue
        m = _LAST_STOP.search(text, a, b)
        if m and 2 <= b - m.end() <= 60:
            out.append(_Candidate(m.end(), b, m.end(), n, text[m.end():b].strip(), tail=True))
    return out


def _overlap(line: str, doc: Counter) -> float:
    """Share of the line's bigrams that the rest of the document also uses."""
    own = bigram_counts(line)
    if not own:
        return 1.0
    return sum(1 for g in own if doc[g] > own[g]) / len(own)


def _prev_cut(text: str, c: _Candidate) -> bool:
    """Does the paragraph before the line stop before its full stop?"""
    prev_len = c.prev_end - text.rfind("\n", 0, c.prev_end) - 1
    return not c.tail and prev_len > _PARAGRAPH_MIN and not ends_sentence(text[c.prev_end - 3:c.prev_end])


def _breaks_sentence(text: str, c: _Candidate) -> bool:
    """Strong evidence that the line was put inside a sentence of the document.

    Either the sentence it interrupted goes on below it ("\n\n。近些年来"), or
    the paragraph before it stops short of its full stop and the line itself
    stops mid-clause.  A whole paragraph between whole paragraphs never
    qualifies, however unlike its neighbours it reads: an admin's own
    paragraph or a law's short enumerated item is content.
    """
    if c.tail or text[c.next_start] in DANGLING:
        return True
    return _prev_cut(text, c) and c.text[-1] in ",,、"


def _form_score(text: str, c: _Candidate) -> float:
    """Evidence from the line's shape and its seams with the neighbours."""
    score = 0.0
    after = text[c.next_start]
    if after in DANGLING:
        score += 2  # the sentence it interrupted goes on below: "\n\n。近些年来"
    if _prev_cut(text, c):
        score += 1  # it cut a paragraph before its full stop
    if _ATTRIBUTION.search(c.text):
        score += 2  # a quotation with its author
    if re.search("[!！]", c.text):
        score += 0.5
    if c.text[-1] in ",,、":
        score += 1  # a clause standing alone between paragraphs
    if _NARRATIVE.search(c.text):
        score += 0.5  # a story told in the first or second person
    return score


def _reference_sentences(text: str, skip: set[int], limit: int = 30) -> list[str]:
    """An even sample of the document's own sentences of candidate size."""
    out = []
    for a, b in lines_of(text):
        if a in skip or b - a < _PARAGRAPH_MIN:
            continue
        out += [m.group().strip() for m in SENTENCE.finditer(text[a:b]) if 10 <= len(m.group().strip()) <= 80]
    step = max(1, len(out) // limit)
    return out[::step][:limit]


def _semantic_z(candidates: list[_Candidate], text: str, embed: Embed) -> list[float] | None:
    """How far below the document's own sentences each line sits (cosine to centroid, z-score)."""
    import numpy as np

    refs = list(dict.fromkeys(_reference_sentences(text, {c.start for c in candidates})))
    if len(refs) < _MIN_REFS:
        return None
    vecs = np.asarray(embed(refs + [c.text for c in candidates]), dtype=np.float32)
    ref, cand = vecs[:len(refs)], vecs[len(refs):]
    centroid = ref.mean(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    ref_sims = ref @ centroid
    mu, sigma = float(ref_sims.mean()), max(float(ref_sims.std()), _MIN_SIGMA)
    return [float((s - mu) / sigma) for s in cand @ centroid]


def _is_inserted(form: float, overlap: float, z: float | None) -> bool:
    """Combine the evidence: an unrelated line must look foreign in at least two ways."""
    score = form
    score += 3 if overlap < 0.1 else 2 if overlap < 0.15 else 1 if overlap < 0.3 else 0 if overlap < 0.6 else -2
    if z is not None:
        score += 2 if z < -2.5 else 1 if z < -1.5 else 0 if z < 0 else -1
    return score >= 3


def _seam_span(text: str, c: _Candidate) -> Span:
    """What to delete with the line so the neighbours join sensibly."""
    if c.tail:
        return c.start, c.next_start + 1  # "随意性。<fragment>\n\n。近些" -> "随意性。近些"
    if text[c.next_start] in DANGLING:
        return c.prev_end, c.next_start  # "威信\n\n<line>\n\n。近些" -> "威信。近些"
    return c.start, c.next_start


def inserted_line(text: str, *, embed: Embed | None = None) -> list[Span]:
    """Short lines put inside a sentence of the document that do not belong to it.

    Only lines that break the sentence they sit in are candidates
    (``_breaks_sentence``); each is then scored by form (seams that cut a
    sentence, quotations with an author, exclamations), by lexical overlap with the rest of the document, and,
    given ``embed``, by how far the line's meaning is from the document's own
    sentences.  Headings, list items and lines that introduce a list stay.
    """
    cands = [c for c in _candidates(text) if _breaks_sentence(text, c)]
    if not cands or sum(1 for a, b in lines_of(text) if b - a >= _PARAGRAPH_MIN) < 3:
        return []
    doc = bigram_counts(text)
    zs = _semantic_z(cands, text, embed) if embed is not None else None
    spans = []
    for k, c in enumerate(cands):
        form, overlap = _form_score(text, c), _overlap(c.text, doc)
        z = zs[k] if zs is not None else None
        log.debug("inserted? %r form=%.1f overlap=%.2f z=%s", c.text, form, overlap, z)
        if _is_inserted(form, overlap, z):
            spans.append(_seam_span(text, c))
    return spans
