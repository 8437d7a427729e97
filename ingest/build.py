"""Build or update an index from files: incremental, atomic, and tolerant of bad input."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm import tqdm

from index.embedders import Embedder, get_embedder
from index.errors import IndexCorruptError, IndexMismatchError, IndexMissingError, LoadError, QunzhongError
from index.schema import DocumentRecord, Passage
from index.settings import Settings
from index.store import IndexData, app_version, ingest_lock, load_index, write_index
from ingest.loaders import Skipped, discover, load_file
from ingest.pipeline import ProcessedDocument, match_units, process

log = logging.getLogger(__name__)

EMBED_BATCH = 16


class StrictModeError(QunzhongError):
    """--strict and at least one input file was bad."""


@dataclass
class IngestReport:
    index: str = ""
    version: str = ""
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    documents: int = 0
    passages: int = 0
    embedded: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        line = (f"{self.documents} documents, {self.passages} passages in {self.seconds:.1f}s "
                f"(added {len(self.added)}, changed {len(self.changed)}, removed {len(self.removed)}, "
                f"unchanged {len(self.unchanged)}")
        return line + (f", skipped {len(self.skipped)})" if self.skipped else ")")

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["skipped"] = [{"path": s.path, "reason": s.reason} for s in self.skipped]
        return d


def doc_ids(paths: Sequence[str | Path], files: Sequence[Path]) -> dict[Path, str]:
    """A stable id per file: its path relative to the directory argument that holds it."""
    roots = [Path(p).resolve() for p in paths if Path(p).is_dir()]
    out = {}
    for f in files:
        f = f.resolve()
        root = next((r for r in roots if r in f.parents), None)
        out[f] = f.relative_to(root).as_posix() if root else f.name
    return out


def _previous(root: Path, embedder: str, settings: Settings, full: bool) -> IndexData | None:
    if full:
        return None
    try:
        prev = load_index(root)
    except IndexMissingError:
        return None
    except (IndexCorruptError, IndexMismatchError) as exc:
        log.warning("previous index not reusable (%s); rebuilding everything", exc)
        return None
    same = (prev.embedder == embedder
            and prev.manifest.get("ingest_key") == settings.ingest_key())
    return prev if same else None


def ingest(paths: Sequence[str | Path], root: str | Path, *, embedder_name: str | None = None,
           settings: Settings | None = None, full: bool = False, strict: bool = False,
           wait: bool = False, progress: bool = True, embedder: Embedder | None = None) -> IngestReport:
    t0 = time.perf_counter()
    root = Path(root)
    settings = settings or Settings()
    files, skipped = discover(paths)
    ids = doc_ids(paths, files)
    report = IngestReport(index=str(root), skipped=list(skipped))
    with ingest_lock(root, wait=wait):
        if embedder is None:
            prev_name = None if full else _manifest_embedder(root)
            embedder = get_embedder(embedder_name or prev_name or "e5-small")
        prev = _previous(root, embedder.name, settings, full)
        prev_docs = prev.manifest.get("documents", {}) if prev else {}
        kept: list[DocumentEntry] = []
        todo: list[tuple[Path, str]] = []
        for f in files:
            doc = ids[f]
            sha = _sha256(f)
            if doc in prev_docs and prev_docs[doc]["sha256"] == sha:
                kept.append(_reuse(prev, doc))
                report.unchanged.append(doc)
            else:
                todo.append((f, doc))
                (report.changed if doc in prev_docs else report.added).append(doc)
        seen = {ids[f] for f in files}
        report.removed = sorted(d for d in prev_docs if d not in seen)
        new, bad = _process_all(todo, settings, embedder, progress, report)
        report.added = [d for d in report.added if d not in bad]
        report.changed = [d for d in report.changed if d not in bad]
        if strict and report.skipped:
            raise StrictModeError(f"{len(report.skipped)} file(s) could not be indexed (--strict): "
                                  + "; ".join(f"{s.path}: {s.reason}" for s in report.skipped))
        docs = sorted(kept + new, key=lambda e: e.record.doc)
        if not docs:
            raise QunzhongError("no document could be indexed; the previous index (if any) is unchanged")
        passages, vectors, owners = _assemble(docs)
        manifest = _manifest(embedder, settings, docs)
        report.version = write_index(root, manifest, vectors, owners, passages, [e.record for e in docs])
    report.documents, report.passages = len(docs), len(passages)
    report.seconds = time.perf_counter() - t0
    return report


def _manifest_embedder(root: Path) -> str | None:
    try:
        from index.store import read_manifest

        return read_manifest(root)[1].get("embedder", {}).get("name")
    except QunzhongError:
        return None


def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class DocumentEntry:
    """One document ready to be written: passages (ids local to the document), the vectors of
    their match units, and for each unit the local id of its passage."""

    record: DocumentRecord
    passages: list[Passage]
    vectors: np.ndarray
    owners: np.ndarray


def _reuse(prev: IndexData, doc: str) -> DocumentEntry:
    rows = [p for p in prev.passages if p.doc == doc]
    local = {p.id: i for i, p in enumerate(rows)}
    owners = prev.owners()
    picked = np.flatnonzero(np.isin(owners, list(local)))
    vectors = np.asarray(prev.vectors()[picked], dtype=np.float32)
    passages = [Passage(**{**p.__dict__, "id": i}) for i, p in enumerate(rows)]
    return DocumentEntry(prev.documents[doc], passages, vectors,
                         np.array([local[int(o)] for o in owners[picked]], dtype=np.int32))


def _process_all(todo, settings: Settings, embedder: Embedder, progress: bool, report: IngestReport):
    out, bad = [], set()
    bar = tqdm(todo, desc="indexing", unit="doc", disable=not progress or not todo, leave=False)
    for path, doc in bar:
        bar.set_postfix_str(doc[-30:])
        try:
            loaded = load_file(path, max_bytes=settings.max_file_bytes)
            pdoc = process(loaded, doc, settings, embedder)
        except LoadError as exc:
            report.skipped.append(Skipped(str(path), exc.reason))
            bad.add(doc)
            continue
        if not pdoc.passages:
            report.skipped.append(Skipped(str(path), "no text left after cleaning"))
            bad.add(doc)
            continue
        units = [match_units(p) for p in pdoc.passages]
        owners = np.array([i for i, us in enumerate(units) for _ in us], dtype=np.int32)
        vectors = _embed(embedder, [u for us in units for u in us], progress)
        report.embedded += len(owners)
        out.append(DocumentEntry(pdoc.record, pdoc.passages, vectors, owners))
    return out, bad


def _embed(embedder: Embedder, texts: list[str], progress: bool) -> np.ndarray:
    parts = []
    with tqdm(total=len(texts), desc="embedding", unit="passage", disable=not progress, leave=False) as bar:
        for i in range(0, len(texts), EMBED_BATCH):
            parts.append(embedder.embed_passages(texts[i:i + EMBED_BATCH]))
            bar.update(len(parts[-1]))
    return np.vstack(parts) if parts else np.zeros((0, embedder.dim), np.float32)


def _assemble(docs: list[DocumentEntry]) -> tuple[list[Passage], np.ndarray, np.ndarray]:
    passages, vectors, owners = [], [], []
    for entry in docs:
        base = len(passages)
        passages.extend(Passage(**{**p.__dict__, "id": base + p.id}) for p in entry.passages)
        vectors.append(np.asarray(entry.vectors, dtype=np.float32))
        owners.append(entry.owners.astype(np.int32) + base)
    return passages, np.vstack(vectors), np.concatenate(owners)


def _manifest(embedder: Embedder, settings: Settings, docs) -> dict:
    return {
        "app_version": app_version(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "embedder": {"name": embedder.name, "dim": embedder.dim},
        "splitter": {"kind": "langchain RecursiveCharacterTextSplitter", "max_chars": settings.max_chars,
                     "min_chars": settings.min_chars, "overlap": 0},
        "settings": settings.to_dict(),
        "ingest_key": settings.ingest_key(),
        "faiss": {"kind": settings.faiss_kind},
        "units": "sentences led by their section heading; a passage scores as its best unit",
        "documents": {e.record.doc: {"sha256": e.record.sha256, "title": e.record.title, "source": e.record.source,
                                     "passages": len(e.passages), "chars": len(e.record.original),
                                     "removed_chars": len(e.record.original) - len(e.record.cleaned)}
                      for e in docs},
    }
