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
    # ("sentence+pooled-path": path and sentence embedded apart, each path once; see ingest.build)
    max_file_bytes: int = 50 * 1024 * 1024
    # Retrieval (query time; read from the manifest, may be overridden per process).
    candidates: int = 45          # dense scores are min-max scaled over this many best passages
    dense_weight: float = 0.5     # best-sentence cosine
    lexical_weight: float = 0.25  # BM25 on jieba words
    bigram_weight: float = 0.25   # BM25 on character bigrams
    history_weight: float = 0.5   # pull of earlier user turns on a follow-up question
    relevance_floor: float = 0.012  # best passage must beat the off-domain background by this
    answer_points: int = 3
    faiss_kind: str = "auto"  # index.ann.choose_kind: exact up to 200k units, then IVF over fp16

    INGEST_FIELDS = ("max_chars", "min_chars", "context_title", "semantic_cleaning", "units")

    def ingest_key(self) -> str:
        """Hash of the choices that shape passages: a change forces re-embedding."""
        data = {k: getattr(self, k) for k in self.INGEST_FIELDS}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "Settings":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in names})

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes)
