"""BM25 over jieba tokens, with a 群众工作/信访 domain dictionary.

Domain terms (上访, 越级访, 缠访闹访 ...) are added to jieba so they stay
whole. Word swaps made by "伪原创" rewriting tools (效劳/服务, 根底/基础,
开展/发展 ...) are folded to one form on both sides, so a query in plain
wording still matches a rewritten passage. Scores come from a sparse
passage-by-term matrix built once at load, so a query costs a few column
sums, not a pass over the corpus.
"""
from __future__ import annotations

import functools
import logging
import math
import re
import threading
from collections import Counter
from typing import Sequence

import numpy as np
from scipy import sparse

from index.domain import DOMAIN_TERMS, GLOSSARY, STOPWORDS, VARIANTS

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]+|\d+")
_SPLIT_CJK = re.compile(r"[\u4e00-\u9fff]+")
_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    for term in DOMAIN_TERMS:
        jieba.add_word(term, freq=200000)
    jieba.initialize()
    return jieba


def tokenize(text: str) -> list[str]:
    """Words for matching: jieba words, variants folded, stopwords and punctuation dropped."""
    jieba = _jieba()
    with _lock:  # jieba's lazy state is not thread-safe
        words = jieba.lcut_for_search(text.lower(), HMM=False)
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


class BM25:
    """Okapi BM25 over a fixed list of texts."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75, tokenizer=tokenize):
        self.tokenize = tokenizer
        docs = [Counter(tokenizer(t)) for t in texts]
        vocab: dict[str, int] = {}
        rows, cols, tfs = [], [], []
        for i, counts in enumerate(docs):
            for term, tf in counts.items():
                rows.append(i)
                cols.append(vocab.setdefault(term, len(vocab)))
                tfs.append(tf)
        n = max(len(docs), 1)
        lengths = np.array([sum(c.values()) for c in docs] or [0], dtype=np.float32)
        avg = float(lengths.mean()) or 1.0
        tf = np.array(tfs, dtype=np.float32)
        norm = tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[rows] / avg)) if tfs else tf
        self.vocab = vocab
        df = np.bincount(np.array(cols, dtype=np.int64), minlength=len(vocab)) if cols else np.zeros(0)
        self.idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        self.matrix = sparse.csc_matrix((norm, (rows, cols)), shape=(len(docs), len(vocab)), dtype=np.float32)
        self.size = len(docs)

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
        """BM25 of every text for `query`: the query terms' columns, summed with their idf."""
        cols = self.query_terms(query)
        if not cols or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        m = self.matrix
        rows = [m.indices[m.indptr[c]:m.indptr[c + 1]] for c in cols]
        weights = [m.data[m.indptr[c]:m.indptr[c + 1]] * self.idf[c] for c in cols]
        return np.bincount(np.concatenate(rows), weights=np.concatenate(weights),
                           minlength=self.size).astype(np.float32)


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
