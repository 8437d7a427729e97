"""Hybrid retrieval: dense (FAISS) and lexical (BM25 over jieba) fused, follow-ups, no repeats."""
from __future__ import annotations

import functools
import logging
from typing import Sequence

import numpy as np

from assistant.query import clean_history, clean_query, followup_strength
from assistant.relevance import RelevanceGate
from index.embedders import Embedder
from index.lexical import BM25
from index.schema import Hit, Passage
from index.settings import Settings
from index.store import IndexData
from ingest.pipeline import windows

log = logging.getLogger(__name__)


class Retriever:
    def __init__(self, data: IndexData, embedder: Embedder, settings: Settings | None = None):
        self.data = data
        self.embedder = embedder
        self.settings = settings or Settings.from_dict(data.manifest.get("settings"))
        self.passages: list[Passage] = data.passages
        self.lexical = BM25([p.context for p in self.passages])
        self._vectors = np.asarray(data.vectors(), dtype=np.float32)
        self._windows: dict[int, set[str]] = {}
        self.gate = RelevanceGate(embedder)

    @functools.lru_cache(maxsize=256)
    def _embed_query(self, text: str) -> np.ndarray:
        return self.embedder.embed_queries([text])[0]

    def query_vector(self, query: str, history: Sequence[str] = ()) -> tuple[np.ndarray, float]:
        """The query's vector, pulled toward earlier turns when it reads as a follow-up."""
        vec = self._embed_query(query)
        if not history:
            return vec, 0.0
        weight = self.settings.history_weight * followup_strength(query)
        mixed = vec + weight * self._embed_query(" ".join(history))
        return mixed / np.linalg.norm(mixed), weight

    def retrieve(self, query: str, k: int = 5, history: Sequence[str] = ()) -> list[Hit]:
        query = clean_query(query)
        history = clean_history(history)
        if not self.passages:
            return []
        vec, weight = self.query_vector(query, history)
        n = min(self.settings.candidates, len(self.passages))
        dense_s, dense_i = self.data.faiss_index.search(vec[None, :].astype(np.float32), n)
        lex = self.lexical.scores(query)
        coverage = self.lexical.coverage(query)
        if history:
            lex = lex + weight * self.lexical.scores(" ".join(history))
            coverage = max(coverage, self.lexical.coverage(" ".join(history)) * weight)
        lex_top = np.argsort(-lex)[:n] if lex.any() else np.array([], dtype=int)
        cands = np.unique(np.concatenate([dense_i[0][dense_i[0] >= 0], lex_top])).astype(int)
        dense = self._vectors[cands] @ vec
        fused = self._fuse(dense, lex[cands], coverage, floor=float(dense_s[0][-1]))
        order = np.argsort(-fused)
        return self._dedupe([(int(cands[j]), float(fused[j]), float(dense[j]), float(lex[cands[j]]))
                             for j in order], k)

    def _fuse(self, dense: np.ndarray, lex: np.ndarray, coverage: float, floor: float) -> np.ndarray:
        """Both sides scaled to [0, 1] over the candidates; the lexical side counts only as much
        as the corpus vocabulary covers the question (so an English question is ranked by
        meaning alone)."""
        top = float(dense.max())
        d = np.clip((dense - floor) / max(top - floor, 1e-6), 0, 1)
        lmax = float(lex.max()) if len(lex) else 0.0
        l_ = lex / lmax if lmax > 0 else np.zeros_like(lex)
        s = self.settings
        return s.dense_weight * d + s.lexical_weight * coverage * l_

    def _passage_windows(self, idx: int) -> set[str]:
        if idx not in self._windows:
            self._windows[idx] = windows(self.passages[idx].text)
        return self._windows[idx]

    def _dedupe(self, ranked, k: int) -> list[Hit]:
        hits: list[Hit] = []
        seen: set[str] = set()
        for idx, score, dense, lexical in ranked:
            ws = self._passage_windows(idx)
            if ws & seen:
                continue
            seen |= ws
            hits.append(Hit(rank=len(hits) + 1, score=score, passage=self.passages[idx], dense=dense,
                            lexical=lexical))
            if len(hits) == k:
                break
        return hits
