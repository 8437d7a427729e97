"""BM25 over jieba tokens, with a 群众工作/信访 domain dictionary.

Domain terms (上访, 越级访, 缠访闹访 ...) are added to jieba so they stay
whole. Word swaps made by "伪原创" rewriting tools (效劳/服务, 根底/基础,
开展/发展 ...) are folded to one form on both sides, so a query in plain
wording still matches a rewritten passage. Scores come from a sparse
passage-by-term matrix (scipy.sparse) built once at load, so a query costs a
few column sums, not a pass over the corpus.
"""
from __future__ import annotations

import functools
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from index.domain import GLOSSARY, STOPWORDS, VARIANTS
from index.segment import cut_for_search, dictionary_stamp

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]+|\d+")
_SPLIT_CJK = re.compile(r"[\u4e00-\u9fff]+")


def tokenize(text: str) -> list[str]:
    """Words for matching: jieba words, variants folded, stopwords and punctuation dropped."""
    words = cut_for_search(text.lower())
    out = []
    for w in words:
        w = w.strip()
        if not w or not _TOKEN.match(w) or w in STOPWORDS:
            continue
        out.append(VARIANTS.get(w, w))
    return out


_NOT_WORD = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9]+")


def bigram_tokenize(text: str) -> list[str]:
    """Overlapping character bigrams: matching that does not depend on word segmentation
    (年轻干部 and 青年干部 share 干部; 谦逊之心 and 心态 do not need one segmentation)."""
    folded = _NOT_WORD.sub(" ", text.lower())
    for src, dst in VARIANTS.items():
        folded = folded.replace(src, dst)
    out = []
    for run in folded.split():
        if run.isascii():
            if run not in STOPWORDS:
                out.append(run)
            continue
        out.extend(run[i:i + 2] for i in range(len(run) - 1))
    return out


@functools.lru_cache(maxsize=1024)
def _distinct_terms(tokenizer, query: str) -> tuple[str, ...]:
    """A query's distinct terms, in order. Cached: each question is scored and has its
    coverage measured, and a conversation's earlier turns come back as its history."""
    return tuple(dict.fromkeys(tokenizer(query)))


def clear_term_cache() -> None:
    _distinct_terms.cache_clear()


TOKENIZERS = {"words": tokenize, "bigrams": bigram_tokenize}


@functools.lru_cache(maxsize=1)
def lexicon_stamp() -> str:
    """What the stored term counts depend on besides the texts: the segmentation, the variant
    folds and the stopwords. Counts stored under another stamp are recounted, never trusted."""
    import hashlib

    parts = (LEXICON_FORMAT, dictionary_stamp(), sorted(VARIANTS.items()), sorted(STOPWORDS))
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


LEXICON_FORMAT = 1  # bump when tokenize or bigram_tokenize change behaviour


def count_matrix(indptr, indices, data, n_cols: int):
    """Texts x terms counts as a scipy.sparse CSR array (row i's entries are indptr[i]:indptr[i + 1])."""
    from scipy.sparse import csr_array  # ~0.1 s to import: only where term counts are built or read

    return csr_array((np.asarray(data, dtype=np.int32), np.asarray(indices, dtype=np.int32),
                      np.asarray(indptr, dtype=np.int64)), shape=(len(indptr) - 1, int(n_cols)))


@dataclass(frozen=True)
class TermCounts:
    """How often each term occurs in each text (texts x terms): the part of BM25 that does not
    depend on the other texts, so ingest stores it and reuses an unchanged document's rows."""

    terms: np.ndarray  # one str per column (object array)
    counts: object     # scipy.sparse.csr_array, one row per text: int32 counts

    @classmethod
    def of(cls, texts: Sequence[str], tokenizer) -> "TermCounts":
        vocab: dict[str, int] = {}
        indptr, cols, tfs = [0], [], []
        for text in texts:
            for term, tf in Counter(tokenizer(text)).items():
                cols.append(vocab.setdefault(term, len(vocab)))
                tfs.append(tf)
            indptr.append(len(cols))
        return cls(_str_array(list(vocab)), count_matrix(indptr, cols, tfs, len(vocab)))

    def rows(self, ids: Sequence[int]) -> "TermCounts":
        """Rows `ids`, in that order."""
        return TermCounts(self.terms, self.counts[np.asarray(ids, dtype=np.int64)])

    @staticmethod
    def stack(parts: Sequence["TermCounts"]) -> "TermCounts":
        """Rows of `parts` one after another over the union of their terms (unused ones dropped)."""
        from scipy.sparse import vstack

        vocab: dict[str, int] = {}
        blocks = []
        for part in parts:
            c = part.counts
            used = np.unique(c.indices)
            remap = np.zeros(len(part.terms), dtype=np.int32)
            remap[used] = [vocab.setdefault(t, len(vocab)) for t in part.terms[used].tolist()]
            blocks.append((c.indptr, remap[c.indices], c.data))
        matrices = [count_matrix(ptr, cols, data, len(vocab)) for ptr, cols, data in blocks]
        counts = vstack(matrices, format="csr", dtype=np.int32) if matrices else count_matrix([0], [], [], 0)
        return TermCounts(_str_array(list(vocab)), counts)


def _str_array(items: list[str]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def pack_terms(terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Terms as UTF-8 bytes and their end offsets: compact, and loadable without pickle."""
    encoded = [t.encode("utf-8") for t in terms.tolist()]
    ends = np.cumsum([len(b) for b in encoded], dtype=np.int64)
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), ends


def unpack_terms(blob: np.ndarray, ends: np.ndarray) -> np.ndarray:
    raw = blob.tobytes()
    starts = [0, *ends[:-1].tolist()]
    return _str_array([raw[a:b].decode("utf-8") for a, b in zip(starts, ends.tolist())])


class BM25:
    """Okapi BM25 over a fixed list of texts (or their stored term counts)."""

    def __init__(self, texts: Sequence[str] | None = None, k1: float = 1.2, b: float = 0.75, tokenizer=tokenize,
                 counts: TermCounts | None = None):
        self.tokenize = tokenizer
        counts = counts if counts is not None else TermCounts.of(texts or (), tokenizer)
        c = counts.counts
        n_docs, n_terms = c.shape
        entries = c.tocoo()  # in row order: row, col and count of every entry
        lengths = np.asarray(c.sum(axis=1)).astype(np.float32)
        avg = float(lengths.mean()) if n_docs else 1.0
        tf = entries.data.astype(np.float32)
        norm = tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[entries.row] / (avg or 1.0)))
        self.vocab = {t: i for i, t in enumerate(counts.terms.tolist())}
        df = np.bincount(entries.col, minlength=n_terms)
        self.idf = np.log(1 + (max(n_docs, 1) - df + 0.5) / (df + 0.5)).astype(np.float32)
        # The idf-weighted matrix by columns (rows ascending in each): a query sums a few columns.
        weighted = (norm * self.idf[entries.col]).astype(np.float32)
        self._by_term = type(c)((weighted, c.indices, c.indptr), shape=c.shape).tocsc()
        self.size = n_docs

    def query_terms(self, query: str) -> list[int]:
        return [self.vocab[t] for t in _distinct_terms(self.tokenize, query) if t in self.vocab]

    def coverage(self, query: str) -> float:
        """Share of the query's information (idf mass) that the corpus vocabulary knows.

        An English question over a Chinese corpus has coverage near 0, and the
        fusion then leans on the dense side.
        """
        terms = _distinct_terms(self.tokenize, query)
        if not terms:
            return 0.0
        known = [self.idf[self.vocab[t]] for t in terms if t in self.vocab]
        unknown = sum(1 for t in terms if t not in self.vocab) * math.log(1 + self.size)
        total = float(sum(known)) + unknown
        return float(sum(known)) / total if total else 0.0

    def scores(self, query: str) -> np.ndarray:
        """BM25 of every text for `query`: the query terms' columns, summed (in float64, term by
        term in query order, then rounded to float32)."""
        cols = self.query_terms(query)
        if not cols or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        picked = self._by_term[:, cols].astype(np.float64)
        return (picked @ np.ones(len(cols))).astype(np.float32)


_GLOSSARY_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, GLOSSARY), key=len, reverse=True)) + r")\b",
                          re.IGNORECASE)
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")


def cross_lingual(query: str) -> tuple[str, float]:
    """For a mostly-English question: its glossary terms in Chinese, and the share of its
    content words the glossary covered (which scales the lexical side's say)."""
    words = [w.lower() for w in _LATIN_WORD.findall(query) if w.lower() not in STOPWORDS]
    cjk = len(_SPLIT_CJK.findall(query))
    if not words or cjk > len(words):
        return "", 0.0
    found = [m.group(1).lower() for m in _GLOSSARY_RE.finditer(query)]
    covered = sum(len(f.split()) for f in found)
    return " ".join(GLOSSARY[f] for f in found), min(1.0, covered / len(words))
