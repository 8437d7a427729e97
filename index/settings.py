"""Every tunable choice in one object, recorded in the index manifest."""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    # Splitting (changing these rebuilds every document).
    max_chars: int = 220          # a passage is a sentence group of at most this many characters...
    min_chars: int = 60           # ...and a shorter tail is merged into its neighbour
    context_title: bool = False   # prepend the document title to the text the embedder sees
    semantic_cleaning: bool = True  # let the cleaner use embeddings to find inserted sentences
    units: str = "sentence+path"  # what is embedded: each sentence led by its section path
    max_file_bytes: int = 50 * 1024 * 1024
    # Retrieval (query time; read from the manifest, may be overridden per process).
    candidates: int = 45          # dense scores are min-max scaled over this many best passages
    dense_weight: float = 0.5     # best-sentence cosine
    lexical_weight: float = 0.25  # BM25 on jieba words
    bigram_weight: float = 0.25   # BM25 on character bigrams
    history_weight: float = 0.5   # pull of earlier user turns on a follow-up question
    translation_weight: float = 1.0  # an English question's pull toward its dictionary translation
    translation_picks: int = 1      # dictionary translations per English word in the pseudo-question
    feedback_passages: int = 20     # passages an English question's first vector finds, to choose translations
    relevance_floor: float = 0.025  # best passage must beat the general-vocabulary background by this
    background_top: int = 10        # the background is the mean of the question's closest entries
    answer_points: int = 3
    citation_slack: float = 0.02    # a cited passage may fall this far below the floor
    label_high: float = 0.07        # card label 高度相关 at this margin or more...
    label_mid: float = 0.035        # ...相关 at this or more, else 可能相关
    faiss_kind: str = "auto"  # index.ann.choose_kind: exact up to 200k units, then IVF over fp16
    # Citation check of generated answers (assistant.check; calibration in README "Generated answers").
    check_dense_floor: float = 0.88    # a sentence's best cosine to a cited passage's sentences
    check_lexical_floor: float = 0.6   # share of its content words (or bigrams) found in that passage
    check_dense_floor_cross: float = 0.83  # the cosine floor for a sentence read across languages (English)

    INGEST_FIELDS = ("max_chars", "min_chars", "context_title", "semantic_cleaning", "units")

    def ingest_key(self) -> str:
        """Hash of the choices that shape passages: a change forces re-embedding."""
        data = {k: getattr(self, k) for k in self.INGEST_FIELDS}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def for_index(cls, recorded: dict | None, **overrides) -> "Settings":
        """The settings to query an index with: the choices that shaped its passages as it
        recorded them, query-time choices from this version of the code (and `overrides`)."""
        shaped = {k: v for k, v in (recorded or {}).items() if k in cls.INGEST_FIELDS}
        return cls.from_dict({**shaped, **overrides})

    @classmethod
    def from_dict(cls, data: dict | None) -> "Settings":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in names})

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes)
