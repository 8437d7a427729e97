"""The long-lived assistant behind the CLI and the web UI.

It loads the index lazily, and before each question stats the index's
CURRENT pointer (no file is read unless it changed): when an ingest has
published a new version, the next question is served from it. Questions in
flight keep the retriever they started with, so a swap never fails one.
"""
from __future__ import annotations

import logging
import os
import re
import threading
from pathlib import Path
from typing import Sequence

from assistant.answer import Answer, answer
from assistant.retrieval import Retriever
from index.crosslingual import thesaurus
from index.embedders import get_embedder
from index.errors import QunzhongError
from index.schema import DocumentRecord, Hit, Passage
from index.settings import Settings
from index.store import load_index, read_pointer

log = logging.getLogger(__name__)
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:[^\s/:`'\"()]+/)*([^\s/:`'\"()]+)")


def relative_source(source: str, roots: Sequence[str] | None) -> str:
    """`source` (an absolute path on the server) relative to the indexed folder it came from:
    what users and scripts see, never the server's own layout. A file named on its own, or one
    of an index that did not record its folders, is shown by name."""
    path = Path(source)
    for root in sorted(roots or (), key=len):
        if Path(root) in path.parents:
            return path.relative_to(root).as_posix()
    return path.name


def public_answer(retriever: Retriever, ans: Answer) -> dict:
    """`ans.to_dict()` as users and scripts see it: with its index version, sources relative."""
    out = {**ans.to_dict(), "index_version": retriever.data.version}
    for c in out["citations"]:  # as `search --json` hits: source_relative too (the same, relative, path)
        c["source"] = c["source_relative"] = relative_source(c["source"], retriever.data.manifest.get("sources"))
    return out


def redact_paths(text: str) -> str:
    """A message for the web page: absolute server paths shortened to their last part."""
    return _ABSOLUTE_PATH.sub(lambda m: m.group(1), text)


class Assistant:
    def __init__(self, index_dir: str | Path, settings: dict | None = None):
        self.index_dir = Path(index_dir)
        self._overrides = settings or {}
        self._lock = threading.Lock()
        self._retriever: Retriever | None = None
        self._version: str | None = None
        self._failed: str | None = None
        self._pointer_path = str(self.index_dir / "CURRENT")
        self._pointer_seen: tuple | None = None  # CURRENT's stat when its version was last read

    def _pointer_stat(self) -> tuple | None:
        """Identity of CURRENT: an ingest publishes with os.replace, so a new pointer is a new inode."""
        try:
            st = os.stat(self._pointer_path)
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def retriever(self) -> Retriever:
        """The retriever for the current index version, reloading when an ingest published one.

        While one thread loads a new version, the others keep answering from the old one; a
        version that fails to load is logged and skipped, and the old one keeps serving."""
        seen = self._pointer_stat()
        current = self._retriever
        if current is not None and seen is not None and seen == self._pointer_seen:
            return current  # the hot path: one stat, no file read
        try:
            pointer = read_pointer(self.index_dir)
        except QunzhongError:
            if current is None:
                raise
            log.exception("index pointer unreadable; still serving %s", self._version)
            self._pointer_seen = seen  # logged once per change of CURRENT
            return current
        version = pointer.get("version") if pointer else None
        if current is not None and version in (self._version, self._failed):
            self._pointer_seen = seen
            return current
        if not self._lock.acquire(blocking=current is None):
            return current
        try:
            if self._retriever is None or version not in (self._version, self._failed):
                self._load(version)
            self._pointer_seen = seen
            return self._retriever
        finally:
            self._lock.release()

    def _load(self, version: str | None) -> None:
        try:
            data = load_index(self.index_dir)
            settings = Settings.for_index(data.manifest.get("settings"), **self._overrides)
            retriever = Retriever(data, get_embedder(data.embedder), settings)
            retriever.hubness()  # before it serves: a new version costs no visitor a wait
            retriever.english_frame()
        except QunzhongError:
            if self._retriever is None:
                raise
            log.exception("index version %s cannot be loaded; still serving %s", version, self._version)
            self._failed = version
            return
        self._retriever = retriever
        self._version, self._failed = data.version, None
        log.info("serving index version %s (%d passages)", data.version, len(data.passages))

    def warm_up(self) -> None:
        """Load the index and the embedder and run one question through every stage (jieba's
        dictionary alone takes ~0.7 s), so the first visitor does not wait for them."""
        retriever = self.retriever()
        retriever.retrieve("群众工作的基本方法", k=1)
        retriever.retrieve("How to work with the masses", k=1)  # the dictionary and the language shift
        if retriever.settings.thesaurus:
            thesaurus()  # Cilin, read only when a translation goes unused (~0.2 s)

    def retrieve(self, query: str, k: int = 5, history: Sequence[str] = ()) -> list[Hit]:
        return self.retriever().retrieve(query, k=k, history=history)

    def ask(self, query: str, history: Sequence[str] = (), retriever: Retriever | None = None) -> Answer:
        """Answer from `retriever` (one snapshot of the index) or from the current index."""
        return answer(retriever or self.retriever(), query, history)

    def status(self, retriever: Retriever | None = None) -> dict:
        r = retriever or self.retriever()
        m = r.data.manifest
        return {"index": self.index_dir.name, "version": r.data.version, "embedder": m["embedder"]["name"],
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
