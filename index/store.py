"""The index on disk: a directory of immutable versions and a pointer to the current one.

    DIR/CURRENT                  {"version": "v...", "manifest_sha256": "..."}
    DIR/.lock                    held by an ingest while it writes
    DIR/versions/v.../manifest.json   format, embedder, settings, documents, file checksums
    DIR/versions/v.../vectors.faiss   faiss.write_index of the match-unit vectors
    DIR/versions/v.../vectors.npy     the same vectors, reused by incremental ingest
    DIR/versions/v.../owners.npy      for each unit vector, the id of its passage
    DIR/versions/v.../passages.jsonl
    DIR/versions/v.../documents.jsonl original text, cleaning log, title per document

A new version is written beside the current one and published by replacing
CURRENT in one `os.replace`, so readers see the old index or the new one,
never half of either; a killed ingest leaves only a stray temporary folder.
No pickle anywhere.
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from index.errors import IndexBusyError, IndexCorruptError, IndexMismatchError, IndexMissingError
from index.schema import DocumentRecord, Location, Passage

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
KEEP_VERSIONS = 2
DATA_FILES = ("vectors.faiss", "vectors.npy", "owners.npy", "passages.jsonl", "documents.jsonl")


def app_version() -> str:
    try:
        from importlib.metadata import version

        return version("qunzhong")
    except Exception:
        return "0+unknown"


@dataclass
class IndexData:
    """A loaded, read-only index version."""

    root: Path
    version: str
    manifest: dict
    faiss_index: object
    passages: list[Passage]
    documents: dict[str, DocumentRecord]

    @property
    def path(self) -> Path:
        return self.root / "versions" / self.version

    @property
    def embedder(self) -> str:
        return self.manifest["embedder"]["name"]

    def vectors(self) -> np.ndarray:
        """Match-unit vectors, one row per unit (memory-mapped)."""
        return np.load(self.path / "vectors.npy", mmap_mode="r", allow_pickle=False)

    def owners(self) -> np.ndarray:
        """For each unit vector, the id of the passage it belongs to (non-decreasing)."""
        return np.load(self.path / "owners.npy", allow_pickle=False)


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_jsonl(path: Path, rows: Iterator[dict]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False))
            f.write("\n")
        f.flush()
        os.fsync(f.fileno())


def passage_to_row(p: Passage) -> dict:
    row = dataclasses.asdict(p)
    row["also"] = [dataclasses.asdict(loc) for loc in p.also]
    return row


def passage_from_row(row: dict) -> Passage:
    also = tuple(Location(**loc) for loc in row.get("also", ()))
    return Passage(**{**row, "also": also})


def document_to_row(d: DocumentRecord) -> dict:
    return dataclasses.asdict(d)


def document_from_row(row: dict) -> DocumentRecord:
    return DocumentRecord(**{**row, "removals": tuple(row.get("removals", ())), "offsets": ()})


def build_faiss(vectors: np.ndarray, kind: str = "flat"):
    import faiss

    dim = vectors.shape[1]
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind.startswith("hnsw"):
        m = int(kind[4:] or 32)
        index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 64
    else:
        raise ValueError(f"unknown faiss index kind {kind!r}")
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def _save_npy(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.save(f, array, allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())


def write_index(root: Path, manifest: dict, vectors: np.ndarray, owners: np.ndarray,
                passages: Sequence[Passage], documents: Sequence[DocumentRecord]) -> str:
    """Write a new version under `root` and make it current. Returns the version id.

    The caller holds `ingest_lock(root)`.
    """
    import faiss

    owners = np.asarray(owners, dtype=np.int32)
    if len(vectors) != len(owners) or (len(owners) and (owners.min() < 0 or owners.max() >= len(passages))):
        raise ValueError("unit vectors, owners and passages do not line up")
    versions = root / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    vid = time.strftime("v%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    tmp = versions / f".tmp-{vid}"
    tmp.mkdir()
    vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(owners), -1)
    kind = manifest.get("faiss", {}).get("kind", "flat")
    faiss.write_index(build_faiss(vectors, kind), str(tmp / "vectors.faiss"))
    _save_npy(tmp / "vectors.npy", vectors)
    _save_npy(tmp / "owners.npy", owners)
    _write_jsonl(tmp / "passages.jsonl", (passage_to_row(p) for p in passages))
    _write_jsonl(tmp / "documents.jsonl", (document_to_row(d) for d in documents))
    manifest = {**manifest, "format_version": FORMAT_VERSION, "version": vid,
                "files": {name: {"bytes": (tmp / name).stat().st_size, "sha256": _sha256_file(tmp / name)}
                          for name in DATA_FILES}}
    text = json.dumps(manifest, ensure_ascii=False, indent=1)
    with open(tmp / "manifest.json", "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    _fsync_dir(tmp)
    os.rename(tmp, versions / vid)
    _fsync_dir(versions)
    pointer = json.dumps({"version": vid, "manifest_sha256": hashlib.sha256(text.encode()).hexdigest()})
    tmp_pointer = root / f".CURRENT.{uuid.uuid4().hex[:6]}"
    tmp_pointer.write_text(pointer, encoding="utf-8")
    with open(tmp_pointer, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp_pointer, root / "CURRENT")
    _fsync_dir(root)
    _prune(root, keep=vid)
    return vid


def _prune(root: Path, keep: str) -> None:
    """Drop stray temporary folders and all but the newest few versions."""
    versions = root / "versions"
    for stray in versions.glob(".tmp-*"):
        shutil.rmtree(stray, ignore_errors=True)
    for stray in root.glob(".CURRENT.*"):
        stray.unlink(missing_ok=True)
    done = sorted((p for p in versions.iterdir() if p.is_dir() and p.name.startswith("v")), reverse=True)
    for old in done[KEEP_VERSIONS:]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)


def read_pointer(root: Path) -> dict | None:
    """The CURRENT pointer, or None when there is no index. Cheap: servers poll it."""
    try:
        return json.loads((Path(root) / "CURRENT").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"index pointer {root}/CURRENT is unreadable ({exc}): "
                                f"run `qunzhong ingest --full --index {root}`") from exc


def read_manifest(root: Path) -> tuple[str, dict]:
    root = Path(root)
    pointer = read_pointer(root)
    fix = f"run `qunzhong ingest --full --index {root}`"
    if pointer is None:
        raise IndexMissingError(f"no index at {root}: run `qunzhong ingest --index {root}` to build one")
    vid = pointer.get("version", "")
    path = root / "versions" / vid / "manifest.json"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise IndexCorruptError(f"index manifest missing ({path}): {fix}") from exc
    if hashlib.sha256(raw).hexdigest() != pointer.get("manifest_sha256"):
        raise IndexCorruptError(f"index manifest {path} was changed after it was written: {fix}")
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise IndexCorruptError(f"index manifest {path} is not valid JSON: {fix}") from exc
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index at {root} has format {manifest.get('format_version')}, this version reads "
            f"{FORMAT_VERSION}: {fix}")
    return vid, manifest


def load_index(root: Path, expect_embedder: str | None = None) -> IndexData:
    """Load the current version, refusing what cannot be served, with the command that fixes it."""
    import faiss

    root = Path(root)
    vid, manifest = read_manifest(root)
    fix = f"run `qunzhong ingest --full --index {root}`"
    built_with = manifest.get("embedder", {}).get("name")
    if expect_embedder and built_with != expect_embedder:
        raise IndexMismatchError(
            f"index at {root} was built with embedder {built_with!r}, not {expect_embedder!r}: "
            f"run `qunzhong ingest --full --embedder {expect_embedder} --index {root}` "
            f"or use --embedder {built_with}")
    path = root / "versions" / vid
    for name, meta in manifest.get("files", {}).items():
        f = path / name
        if not f.exists() or f.stat().st_size != meta.get("bytes"):
            raise IndexCorruptError(f"index file {f} is missing or truncated: {fix}")
    try:
        index = faiss.read_index(str(path / "vectors.faiss"))
    except RuntimeError as exc:
        raise IndexCorruptError(f"index file {path / 'vectors.faiss'} cannot be read: {fix}") from exc
    try:
        passages = [passage_from_row(json.loads(line)) for line in _lines(path / "passages.jsonl")]
        docs = [document_from_row(json.loads(line)) for line in _lines(path / "documents.jsonl")]
    except (ValueError, TypeError, KeyError) as exc:
        raise IndexCorruptError(f"index passages at {path} are damaged ({exc}): {fix}") from exc
    dim = manifest.get("embedder", {}).get("dim")
    try:
        owners = np.load(path / "owners.npy", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"index file {path / 'owners.npy'} cannot be read: {fix}") from exc
    in_step = (index.ntotal == len(owners) and (not len(owners) or int(owners.max()) < len(passages))
               and len(set(owners.tolist())) == len(passages))
    if not in_step or (passages and index.d != dim):
        raise IndexCorruptError(
            f"index at {path} is out of step: {index.ntotal} vectors for {len(passages)} passages: {fix}")
    return IndexData(root=root, version=vid, manifest=manifest, faiss_index=index, passages=passages,
                     documents={d.doc: d for d in docs})


def _lines(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield line


@contextlib.contextmanager
def ingest_lock(root: Path, wait: bool = False) -> Iterator[None]:
    """One ingest at a time per index directory (an OS lock: freed even on kill -9)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a+") as f:
        flags = fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB)
        try:
            fcntl.flock(f.fileno(), flags)
        except BlockingIOError as exc:
            raise IndexBusyError(
                f"another ingest is writing {root}; wait for it to finish or pass --wait") from exc
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
