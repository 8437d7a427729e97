"""The long-lived assistant behind the CLI and the web UI.

It loads the index lazily, and before each question checks the index's
CURRENT pointer (one small file read): when an ingest has published a new
version, the next question is served from it. Questions in flight keep the
retriever they started with, so a swap never fails one.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Sequence

from assistant.answer import Answer, answer
from assistant.retrieval import Retriever
from index.embedders import get_embedder
from index.schema import DocumentRecord, Hit, Passage
from index.settings import Settings
from index.store import load_index, read_pointer

log = logging.getLogger(__name__)


class Assistant:
    def __init__(self, index_dir: str | Path, settings: dict | None = None):
        self.index_dir = Path(index_dir)
        self._overrides = settings or {}
        self._lock = threading.Lock()
        self._retriever: Retriever | None = None
        self._version: str | None = None

    def retriever(self) -> Retriever:
        pointer = read_pointer(self.index_dir)
        version = pointer.get("version") if pointer else None
        current = self._retriever
        if current is not None and version == self._version:
            return current
        with self._lock:
            if self._retriever is None or version != self._version:
                data = load_index(self.index_dir)
                settings = Settings.from_dict({**data.manifest.get("settings", {}), **self._overrides})
                self._retriever = Retriever(data, get_embedder(data.embedder), settings)
                self._version = data.version
                log.info("serving index version %s (%d passages)", data.version, len(data.passages))
            return self._retriever

    def retrieve(self, query: str, k: int = 5, history: Sequence[str] = ()) -> list[Hit]:
        return self.retriever().retrieve(query, k=k, history=history)

    def ask(self, query: str, history: Sequence[str] = (), retriever: Retriever | None = None) -> Answer:
        """Answer from `retriever` (one snapshot of the index) or from the current index."""
        return answer(retriever or self.retriever(), query, history)

    def status(self, retriever: Retriever | None = None) -> dict:
        r = retriever or self.retriever()
        m = r.data.manifest
        return {"index": str(self.index_dir), "version": r.data.version, "embedder": m["embedder"]["name"],
                "dim": m["embedder"]["dim"], "documents": len(m.get("documents", {})),
                "passages": len(r.passages), "built_at": m.get("created"), "app_version": m.get("app_version"),
                "settings": m.get("settings", {})}

    def documents(self) -> dict[str, DocumentRecord]:
        return self.retriever().data.documents

    @staticmethod
    def passage(retriever: Retriever, pid: int) -> Passage | None:
        """The passage with id `pid` in this snapshot, or None: ids from outside are checked here."""
        if isinstance(pid, bool) or not isinstance(pid, int) or not 0 <= pid < len(retriever.passages):
            return None
        p = retriever.passages[pid]
        return p if p.id == pid else next((q for q in retriever.passages if q.id == pid), None)
