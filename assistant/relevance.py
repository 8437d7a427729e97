"""Is anything in the index relevant to this question? A null-model test.

Cosine similarities from a small multilingual model are high for everything (0.7-0.9), so one
raw threshold cannot separate "about this library" from "about something else". Instead the
best passage must beat the question's similarity to general vocabulary: a fixed spread of
dictionary entries in both languages (index.crosslingual.DictionarySample, chosen by position
in CC-CEDICT, not by topic). The background score is the mean of the question's `top` closest
entries, so no single entry decides.

The floor (`Settings.relevance_floor`) was calibrated on the tuning questions (the scraped-corpus
dev set, in Chinese and in English translation) against an off-topic calibration set written
apart from the retrieval work (tests/resources/eval/heldout/offtopic_calibration.jsonl), and is
checked on other sets: the official-documents questions and two off-topic sets not used for
calibration (tests/resources/eval/offtopic.jsonl, heldout/offtopic_heldout.jsonl).
"""
from __future__ import annotations

import threading

import numpy as np

from index.crosslingual import dictionary_sample
from index.embedders import Embedder


class RelevanceGate:
    def __init__(self, embedder: Embedder, top: int = 10):
        self._embedder = embedder
        self._top = top
        self._vectors: np.ndarray | None = None
        self._lock = threading.Lock()

    def background(self, vec: np.ndarray) -> float:
        """The question's mean similarity to its closest general-vocabulary entries."""
        if self._vectors is None:
            with self._lock:
                if self._vectors is None:
                    self._vectors = dictionary_sample(self._embedder).background()
        sims = self._vectors @ vec
        return float(np.partition(sims, -self._top)[-self._top:].mean())

    def margin(self, vec: np.ndarray, best_dense: float) -> float:
        return best_dense - self.background(vec)
