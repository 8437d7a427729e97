"""BM25 over jieba tokens, with a 群众工作/信访 domain dictionary.

Domain terms (上访, 越级访, 缠访闹访 ...) are added to jieba so they stay
whole. Word swaps made by "伪原创" rewriting tools (效劳/服务, 根底/基础 ...)
are folded to one form on both sides, whole words only, so a query in plain
wording still matches a rewritten passage (index/data/*.tsv, each entry with
its reason). Scores come from a sparse
passage-by-term matrix built once at load, so a query costs a few column
sums, not a pass over the corpus.
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

from index.chars import HAN
from index.domain import STOPWORDS, VARIANTS
from index.segment import cut_for_search, dictionary_stamp

log = logging.getLogger(__name__)

_TOKEN = re.compile(rf"[{HAN}]|[A-Za-z]+|\d+")


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


_NOT_WORD = re.compile(rf"[^{HAN}A-Za-z0-9]+")


def bigram_tokenize(text: str) -> list[str]:
    """Overlapping character bigrams: matching that does not depend on word segmentation
    (年轻干部 and 青年干部 share 干部; 谦逊之心 and 心态 do not need one segmentation).
    Rewriting-tool folds are not applied here: inside a run of characters they would change
    other words (公开展示)."""
    folded = _NOT_WORD.sub(" ", text.lower())
    out = []
    for run in folded.split():
        if run.isascii():
            if run not in STOPWORDS:
                out.append(run)
            continue
        out.extend(run[i:i + 2] for i in range(len(run) - 1))
    return out


def character_tokenize(text: str) -> list[str]:
    """Single Han characters, function characters dropped (ASCII words whole). Chinese words are
    built from morphemes: 拘押 and 拘留 share 拘, 召集 and 召开 share 召. A dictionary's
    translation of an English question often names a near-synonym of the documents' word, and
    only a shared character gives it partial credit (the retriever reads this side for English
    questions' translations alone; see docs/retrieval.md)."""
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


@functools.lru_cache(maxsize=1024)
def _distinct_terms(tokenizer, query: str) -> tuple[str, ...]:
    """A query's distinct terms, in order. Cached: each question is scored and has its
    coverage measured, and a conversation's earlier turns come back as its history."""
    return tuple(dict.fromkeys(tokenizer(query)))


def clear_term_cache() -> None:
    _distinct_terms.cache_clear()


TOKENIZERS = {"words": tokenize, "bigrams": bigram_tokenize, "characters": character_tokenize}


@functools.lru_cache(maxsize=1)
def lexicon_stamp() -> str:
    """What the stored term counts depend on besides the texts: the segmentation, the variant
    folds and the stopwords. Counts stored under another stamp are recounted, never trusted."""
    import hashlib

    parts = (LEXICON_FORMAT, dictionary_stamp(), sorted(VARIANTS.items()), sorted(STOPWORDS))
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


LEXICON_FORMAT = 2  # bump when tokenize or bigram_tokenize change behaviour


@dataclass(frozen=True)
class Rows:
    """A sparse matrix as compressed rows (scipy's CSR layout), kept in plain numpy: importing
    scipy.sparse costs every process about 0.1 s, and these few operations are all we need."""

    indptr: np.ndarray   # int64, one more than there are rows: row i is entries indptr[i]:indptr[i + 1]
    indices: np.ndarray  # int32 column of each entry
    data: np.ndarray     # int32 value of each entry
    n_cols: int

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.indptr) - 1, self.n_cols

    def row_of_entries(self) -> np.ndarray:
        return np.repeat(np.arange(self.shape[0], dtype=np.int64), np.diff(self.indptr))

    def take(self, ids: Sequence[int]) -> "Rows":
        """Rows `ids`, in that order."""
        ids = np.asarray(ids, dtype=np.int64)
        lengths = self.indptr[ids + 1] - self.indptr[ids]
        indptr = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        pos = np.repeat(self.indptr[ids] - indptr[:-1], lengths) + np.arange(indptr[-1], dtype=np.int64)
        return Rows(indptr, self.indices[pos], self.data[pos], self.n_cols)


@dataclass(frozen=True)
class TermCounts:
    """How often each term occurs in each text (texts x terms): the part of BM25 that does not
    depend on the other texts, so ingest stores it and reuses an unchanged document's rows."""

    terms: np.ndarray  # one str per column (object array)
    counts: Rows       # one row per text: int32 counts

    @classmethod
    def of(cls, texts: Sequence[str], tokenizer) -> "TermCounts":
        vocab: dict[str, int] = {}
        indptr, cols, tfs = [0], [], []
        for text in texts:
            for term, tf in Counter(tokenizer(text)).items():
                cols.append(vocab.setdefault(term, len(vocab)))
                tfs.append(tf)
            indptr.append(len(cols))
        counts = Rows(np.array(indptr, dtype=np.int64), np.array(cols, dtype=np.int32),
                      np.array(tfs, dtype=np.int32), len(vocab))
        return cls(_str_array(list(vocab)), counts)

    def rows(self, ids: Sequence[int]) -> "TermCounts":
        return TermCounts(self.terms, self.counts.take(ids))

    @staticmethod
    def stack(parts: Sequence["TermCounts"]) -> "TermCounts":
        """Rows of `parts` one after another over the union of their terms (unused ones dropped)."""
        vocab: dict[str, int] = {}
        blocks = []
        for part in parts:
            used = np.unique(part.counts.indices)
            remap = np.zeros(len(part.terms), dtype=np.int32)
            remap[used] = [vocab.setdefault(t, len(vocab)) for t in part.terms[used].tolist()]
            blocks.append((part.counts.data, remap[part.counts.indices], part.counts.indptr))
        data = np.concatenate([d for d, _, _ in blocks] or [np.zeros(0, np.int32)]).astype(np.int32)
        indices = np.concatenate([i for _, i, _ in blocks] or [np.zeros(0, np.int32)]).astype(np.int32)
        indptr, base = [np.zeros(1, np.int64)], 0
        for _, _, ptr in blocks:
            indptr.append(np.asarray(ptr[1:], dtype=np.int64) + base)
            base += int(ptr[-1])
        indptr = np.concatenate(indptr)
        return TermCounts(_str_array(list(vocab)), Rows(indptr, indices, data, len(vocab)))


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
        rows, cols = c.row_of_entries(), c.indices
        lengths = np.bincount(rows, weights=c.data, minlength=n_docs).astype(np.float32)
        avg = float(lengths.mean()) if n_docs else 1.0
        tf = c.data.astype(np.float32)
        norm = tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[rows] / (avg or 1.0)))
        self.vocab = {t: i for i, t in enumerate(counts.terms.tolist())}
        df = np.bincount(cols, minlength=n_terms)
        self.idf = np.log(1 + (max(n_docs, 1) - df + 0.5) / (df + 0.5)).astype(np.float32)
        # The idf-weighted matrix by columns (rows ascending in each): a query sums a few columns.
        order = np.argsort(cols, kind="stable")
        self._rows = rows[order].astype(np.int32)
        self._weights = (norm * self.idf[cols])[order]
        self._tf = tf[order]
        self._ptr = [0, *np.cumsum(df).tolist()]
        self._k1 = k1
        self._saturation = (k1 * (1 - b + b * lengths / (avg or 1.0))).astype(np.float32)
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
        """BM25 of every text for `query`: the query terms' columns, summed."""
        cols = self.query_terms(query)
        if not cols or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        spans = [slice(self._ptr[c], self._ptr[c + 1]) for c in cols]
        rows = np.concatenate([self._rows[s] for s in spans])
        weights = np.concatenate([self._weights[s] for s in spans])
        return np.bincount(rows, weights=weights, minlength=self.size).astype(np.float32)


    def set_scores(self, sets: Sequence[tuple[Sequence[str], float]]) -> np.ndarray:
        """BM25 of a structured query: each set of synonymous terms counts as one term whose
        frequency in a text is the sum of its members' and whose document frequency is that of
        their union (Pirkola 1998), times the set's weight."""
        out = np.zeros(self.size, dtype=np.float32)
        for terms, weight in sets:
            cols = [self.vocab[t] for t in terms if t in self.vocab]
            if not cols:
                continue
            rows = np.concatenate([self._rows[self._ptr[c]:self._ptr[c + 1]] for c in cols])
            tfs = np.concatenate([self._tf[self._ptr[c]:self._ptr[c + 1]] for c in cols])
            docs, inverse = np.unique(rows, return_inverse=True)
            tf = np.bincount(inverse, weights=tfs).astype(np.float32)
            idf = math.log(1 + (self.size - len(docs) + 0.5) / (len(docs) + 0.5))
            out[docs] += weight * idf * tf * (self._k1 + 1) / (tf + self._saturation[docs])
        return out

    def share_in(self, term: str, docs: np.ndarray) -> float:
        """The share of texts `docs` (sorted ids) that contain `term`."""
        c = self.vocab.get(term)
        if c is None or not len(docs):
            return 0.0
        rows = self._rows[self._ptr[c]:self._ptr[c + 1]]
        return float(np.isin(docs, rows, assume_unique=True).sum()) / len(docs)

    def known(self, term: str) -> bool:
        return term in self.vocab
