"""The index on disk: a directory of immutable versions and a pointer to the current one.

    DIR/CURRENT                  {"version": "v...", "manifest_sha256": "..."}
    DIR/.lock                    flock-ed by an ingest while it writes; holds its pid
    DIR/versions/v.../manifest.json   schema (index.migrations), embedder, settings, documents, checksums
    DIR/versions/v.../vectors.faiss   faiss.write_index of the match-unit vectors
    DIR/versions/v.../vectors.npy     the same vectors, reused by incremental ingest
    DIR/versions/v.../owners.npy      for each unit vector, the id of its passage
    DIR/versions/v.../passages.jsonl
    DIR/versions/v.../documents.jsonl original text, cleaning log, title per document
    DIR/versions/v.../lexical.npz     term counts per passage (words, character bigrams):
                                      BM25 at load without re-tokenising the corpus

A new version is written beside the current one and published by replacing
CURRENT in one `os.replace`, so readers see the old index or the new one,
never half of either; a killed ingest leaves only a stray temporary folder,
which the next ingest removes. The current and the previous version are kept
(a server may still be loading the previous one); older ones are pruned.
Load checks the manifest checksum, every file's size and digest (xxh3-128, recorded at
write time; ~6 GB/s, so a load of a 100 MB version spends ~20 ms on it; versions written
before it was recorded are checked against their sha256), and that vectors, owners and
passages line up, and names the command that fixes what it refuses. A vectors.faiss read
on first use is checked when it is read.
No pickle anywhere.
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import hashlib
import json
import logging
import os
import re
import shutil
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Iterator, Sequence

import numpy as np

from index.ann import build_faiss
from index.durable import durable_open, fsync_path
from index.errors import IndexBusyError, IndexCorruptError, IndexMismatchError, IndexMissingError, QunzhongError
from index.migrations import migrate, stamps
from index.pause import pause_point
from index.schema import DocumentRecord, Location, Passage
from index.settings import Settings

log = logging.getLogger(__name__)

REQUIRED_FILES = ("vectors.faiss", "vectors.npy", "owners.npy", "passages.jsonl", "documents.jsonl")
DIGEST = "xxh3_128"  # the manifest key of each file's fast digest
LEXICON_FILE = "lexical.npz"  # versions written before it existed load without it
DATA_FILES = (*REQUIRED_FILES, LEXICON_FILE)
_VERSION_ID = re.compile(r"v[0-9A-Za-z_-]+")  # a plain folder name: no path tricks via CURRENT


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
    passages: list[Passage]
    documents: dict[str, DocumentRecord]

    @functools.cached_property
    def faiss_index(self):
        """The FAISS index of the unit vectors, read on first use: up to Settings.exact_units vectors the
        retriever scans vectors.npy itself, and a process that never needs FAISS never imports
        it (about 40 ms and 20 MB). `load_index` reads it at once for a larger index."""
        import faiss

        f, fix = self.path / "vectors.faiss", fix_command(self.root)
        _check_files(self.path, self.manifest, fix, only=("vectors.faiss",))
        index = _read(f, fix, lambda f: faiss.read_index(str(f)))
        dim, n = self.manifest.get("embedder", {}).get("dim"), len(self.vectors())
        if index.d != dim or index.ntotal != n:
            raise IndexCorruptError(f"index file {f} holds {index.ntotal} vectors of dimension {index.d}, "
                                    f"not {n} of {dim}: {fix}")
        return index

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

    @functools.cached_property
    def unit_bounds(self) -> np.ndarray:
        """Passage i's unit vectors are rows unit_bounds[i]:unit_bounds[i + 1] (n + 1 entries)."""
        return np.searchsorted(self.owners(), np.arange(len(self.passages) + 1)).astype(np.int64)

    def lexicon(self) -> dict | None:
        """Stored term counts per field ({"words": TermCounts, "bigrams": ...}), or None when this
        version has none or they were counted by other tokenizers (the caller recounts)."""
        from index.lexical import lexicon_stamp

        stamp = self.manifest.get("lexical", {}).get("stamp")
        if LEXICON_FILE not in self.manifest.get("files", {}) or stamp != lexicon_stamp():
            return None
        f = self.path / LEXICON_FILE
        return _read(f, fix_command(self.root), lambda f: _load_lexicon(f, len(self.passages)))


def _sha256_file(path: Path) -> str:
    return _hash_file(path, hashlib.sha256())


def _digest_file(path: Path) -> str:
    """The fast per-file digest recorded in the manifest and checked at every load."""
    import xxhash

    return _hash_file(path, xxhash.xxh3_128())


def _hash_file(path: Path, h) -> str:
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def _write_jsonl(path: Path, rows: Iterator[dict]) -> None:
    with durable_open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False))
            f.write("\n")


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
    return DocumentRecord(**{**row, "removals": tuple(row.get("removals", ()))})


def _save_npy(path: Path, array: np.ndarray) -> None:
    with durable_open(path) as f:
        np.save(f, array, allow_pickle=False)


def _save_lexicon(path: Path, lexicon: dict) -> None:
    from index.lexical import pack_terms

    arrays = {}
    for field, tc in lexicon.items():
        c = tc.counts
        blob, ends = pack_terms(tc.terms)
        arrays.update({f"{field}.terms": blob, f"{field}.term_ends": ends, f"{field}.indptr": c.indptr.astype(np.int64),
                       f"{field}.indices": c.indices.astype(np.int32), f"{field}.counts": c.data.astype(np.int32)})
    with durable_open(path) as f:
        np.savez(f, **arrays)


def _load_lexicon(path: Path, n_passages: int) -> dict:
    from index.lexical import Rows, TermCounts, unpack_terms

    out = {}
    with np.load(path, allow_pickle=False) as z:
        for field in sorted({k.split(".")[0] for k in z.files}):
            terms, indptr = unpack_terms(z[f"{field}.terms"], z[f"{field}.term_ends"]), z[f"{field}.indptr"]
            indices, counts = z[f"{field}.indices"], z[f"{field}.counts"]
            if len(indptr) != n_passages + 1 or int(indptr[-1]) != len(indices) or len(indices) != len(counts) or \
                    (len(indices) and int(indices.max()) >= len(terms)):
                raise ValueError(f"{field} term counts do not line up with {n_passages} passages")
            out[field] = TermCounts(terms, Rows(indptr.astype(np.int64, copy=False),
                                                indices.astype(np.int32, copy=False),
                                                counts.astype(np.int32, copy=False), len(terms)))
    return out


def fix_command(root: Path) -> str:
    return f"run `qunzhong ingest --full --index {root}`"


def _write_files(tmp: Path, manifest: dict, vectors: np.ndarray, owners: np.ndarray,
                 passages: Sequence[Passage], documents: Sequence[DocumentRecord], lexicon: dict | None) -> str:
    """Write every file of a version into `tmp`, manifest last; returns the manifest text."""
    import faiss

    kind = manifest.get("faiss", {}).get("kind", "Flat")
    faiss.write_index(build_faiss(vectors, kind), str(tmp / "vectors.faiss"))
    fsync_path(tmp / "vectors.faiss")
    _save_npy(tmp / "vectors.npy", vectors)
    _save_npy(tmp / "owners.npy", owners)
    pause_point("writing")
    _write_jsonl(tmp / "passages.jsonl", (passage_to_row(p) for p in passages))
    _write_jsonl(tmp / "documents.jsonl", (document_to_row(d) for d in documents))
    if lexicon is not None:
        _save_lexicon(tmp / LEXICON_FILE, lexicon)
    manifest = {**manifest, **stamps(manifest),
                "files": {name: {"bytes": (tmp / name).stat().st_size, "sha256": _sha256_file(tmp / name),
                                 DIGEST: _digest_file(tmp / name)}
                          for name in DATA_FILES if (tmp / name).exists()}}
    text = json.dumps(manifest, ensure_ascii=False, indent=1)
    with durable_open(tmp / "manifest.json", "w", encoding="utf-8") as f:
        f.write(text)
    fsync_path(tmp)
    return text


def _publish(root: Path, vid: str, manifest_text: str) -> None:
    """Point CURRENT at `vid` in one os.replace."""
    pointer = json.dumps({"version": vid, "manifest_sha256": hashlib.sha256(manifest_text.encode()).hexdigest()})
    tmp_pointer = root / f".CURRENT.{uuid.uuid4().hex[:6]}"
    with durable_open(tmp_pointer, "w", encoding="utf-8") as f:
        f.write(pointer)
    os.replace(tmp_pointer, root / "CURRENT")
    fsync_path(root)


def write_index(root: Path, manifest: dict, vectors: np.ndarray, owners: np.ndarray,
                passages: Sequence[Passage], documents: Sequence[DocumentRecord], lexicon: dict | None = None,
                keep: str | None = None) -> str:
    """Write a new version beside the current one and make it current. Returns the version id.
    The one it replaces stays on disk, and `keep` (the version it was built from, when that was
    not the current one); older ones are removed.

    `lexicon`: the passages' term counts by field (`index.lexical.TermCounts`), stored so the
    server builds BM25 without re-tokenising; `manifest["lexical"]` names their tokenizers.

    The caller holds `ingest_lock(root)`. Until the final os.replace of CURRENT,
    readers (and a later ingest, should this process die) see the previous version.
    """
    owners = np.asarray(owners, dtype=np.int32)
    if len(vectors) != len(owners) or (len(owners) and (owners.min() < 0 or owners.max() >= len(passages))):
        raise ValueError("unit vectors, owners and passages do not line up")
    vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(owners), -1)
    if not np.isfinite(vectors).all():  # with the digests checked at load, no NaN score can reach a user
        raise QunzhongError("the embedder returned vectors that are not finite numbers; the current index is unchanged")
    root = Path(root)
    versions = root / "versions"
    previous = current_version(root)
    vid = time.strftime("v%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    tmp = versions / f".tmp-{vid}"
    try:
        tmp.mkdir(parents=True)
        text = _write_files(tmp, {**manifest, "version": vid}, vectors, owners, passages, documents, lexicon)
        os.rename(tmp, versions / vid)
        fsync_path(versions)
        pause_point("renamed")
        _publish(root, vid, text)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise QunzhongError(f"cannot write a new index version in {versions} ({exc.strerror or exc}); "
                                f"the current index is unchanged") from exc
        raise
    _prune(root, keep={vid, previous, keep})
    return vid


def current_version(root: Path) -> str | None:
    """The version CURRENT names, or None when there is none or it is unreadable."""
    try:
        pointer = read_pointer(root)
    except IndexCorruptError:
        return None
    return pointer["version"] if pointer else None


def remove_strays(root: Path) -> None:
    """Remove what a killed ingest left: temporary version folders and pointer files.

    The caller holds `ingest_lock(root)`, so no live ingest owns them."""
    root = Path(root)
    for stray in (root / "versions").glob(".tmp-*"):
        log.info("removing %s, left by an interrupted ingest", stray)
        shutil.rmtree(stray, ignore_errors=True)
    for stray in root.glob(".CURRENT.*"):
        stray.unlink(missing_ok=True)


def versions_newest_first(root: Path) -> list[str]:
    """The version folders of an index, the newest first: by the time in their names, then (two
    written in one second) by when their files were written."""
    folder = Path(root) / "versions"
    if not folder.is_dir():
        return []
    found = [d for d in folder.iterdir() if d.is_dir() and _VERSION_ID.fullmatch(d.name)]
    return [d.name for d in sorted(found, key=lambda d: (d.name[:16], d.stat().st_mtime_ns), reverse=True)]


def _prune(root: Path, keep: set[str | None]) -> None:
    """Drop strays and every version but `keep` (the new one and the one it replaced)."""
    remove_strays(root)
    for old in (root / "versions").iterdir():
        if old.is_dir() and old.name.startswith("v") and old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


def read_pointer(root: Path) -> dict | None:
    """The CURRENT pointer, or None when there is no index. Cheap: servers poll it."""
    path = Path(root) / "CURRENT"
    try:
        pointer = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"index pointer {path} is unreadable ({_first_line(exc)}): "
                                f"{fix_command(Path(root))}") from exc
    if not isinstance(pointer, dict) or not _VERSION_ID.fullmatch(str(pointer.get("version", ""))):
        raise IndexCorruptError(f"index pointer {path} does not name a version: {fix_command(Path(root))}")
    return pointer


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0][:160] if text else "") or type(exc).__name__


def read_manifest(root: Path, units: Collection[int] = (), version: str | None = None) -> tuple[str, dict]:
    """The current version (or `version`) and its manifest, brought to this schema (`migrate`;
    `units`: other unit rules to accept). Only the current one's manifest can be checked against
    CURRENT's checksum; another's is checked through its files (`verify_index`, `load_index`)."""
    root = Path(root)
    fix = fix_command(root)
    pointer = read_pointer(root) if version is None else {"version": version}
    if pointer is None:
        raise IndexMissingError(f"no index at {root}: run `qunzhong ingest --index {root}` to build one")
    vid = pointer["version"]
    path = root / "versions" / vid / "manifest.json"
    if not path.parent.is_dir():
        raise IndexCorruptError(f"index pointer {root / 'CURRENT'} names version {vid}, "
                                f"which is not in {root / 'versions'}: {fix}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise IndexCorruptError(f"index manifest missing ({path}): {fix}") from exc
    if version is None and hashlib.sha256(raw).hexdigest() != pointer.get("manifest_sha256"):
        raise IndexCorruptError(f"index manifest {path} was changed after it was written: {fix}")
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise IndexCorruptError(f"index manifest {path} is not valid JSON: {fix}") from exc
    if not isinstance(manifest, dict):
        raise IndexCorruptError(f"index manifest {path} is not a JSON object: {fix}")
    return vid, migrate(manifest, path.parent, root, fix, units)  # older schemas brought forward, in memory


def _check_files(path: Path, manifest: dict, fix: str, lazy: Sequence[str] = (),
                 only: Sequence[str] | None = None) -> None:
    """Every data file (or just `only`) is there with the size and the digest the manifest records
    (the digest of `lazy` files is checked when they are read): a byte changed anywhere is refused
    before any of it is used."""
    table = manifest.get("files")
    if not isinstance(table, dict) or not set(REQUIRED_FILES) <= set(table) <= set(DATA_FILES):
        raise IndexCorruptError(f"index manifest {path / 'manifest.json'} does not list its files: {fix}")
    for name, meta in table.items():
        if only is not None and name not in only:
            continue
        f = path / name
        try:
            size = f.stat().st_size
            if size == meta.get("bytes") and name not in lazy and not _digest_matches(f, meta):
                raise IndexCorruptError(f"index file {f} was changed after it was written "
                                        f"(its checksum does not match the manifest): {fix}")
        except OSError:
            raise IndexCorruptError(f"index file {f} is missing: {fix}") from None
        if size != meta.get("bytes"):
            raise IndexCorruptError(f"index file {f} is truncated or was changed after it was written: {fix}")


def _digest_matches(f: Path, meta: dict) -> bool:
    if DIGEST in meta:
        return _digest_file(f) == meta[DIGEST]
    return _sha256_file(f) == meta.get("sha256")  # a version written before the fast digest


def verify_index(root: Path, units: Collection[int] = (), version: str | None = None) -> tuple[str, dict]:
    """The current version (or `version`) and manifest, after checking every file's checksum.

    What an ingest trusts before it reuses a version without loading it."""
    root = Path(root)
    vid, manifest = read_manifest(root, units, version)
    _check_files(root / "versions" / vid, manifest, fix_command(root))
    return vid, manifest


def _check_embedder(root: Path, manifest: dict, expect: str | None) -> None:
    built_with = manifest.get("embedder", {}).get("name")
    if expect and built_with != expect:
        raise IndexMismatchError(
            f"index at {root} was built with embedder {built_with!r}, not {expect!r}: "
            f"run `qunzhong ingest --full --embedder {expect} --index {root}` "
            f"or use --embedder {built_with}")


def _read(f: Path, fix: str, reader):
    """reader(f), with any failure to parse the file reported as damage."""
    try:
        return reader(f)
    except (RuntimeError, OSError, ValueError, TypeError, KeyError, AttributeError, EOFError,
            zipfile.BadZipFile) as exc:
        raise IndexCorruptError(f"index file {f} cannot be read ({_first_line(exc)}): {fix}") from exc


def _read_passages(f: Path) -> list[Passage]:
    return [passage_from_row(json.loads(line)) for line in _lines(f)]


def _read_documents(f: Path) -> list[DocumentRecord]:
    return [document_from_row(json.loads(line)) for line in _lines(f)]


def _out_of_step(manifest: dict, vectors: np.ndarray, owners: np.ndarray,
                 passages: list[Passage], docs: list[DocumentRecord]) -> str | None:
    """What does not line up between the files of one version, or None."""
    dim = manifest.get("embedder", {}).get("dim")
    listed = manifest.get("documents", {})
    if vectors.ndim != 2 or vectors.shape[1] != dim:
        return f"vectors of shape {vectors.shape} for an embedder of dimension {dim}"
    if len(owners) != len(vectors):
        return f"{len(vectors)} vectors but {len(owners)} owners"
    steps = np.diff(owners)  # owners run 0, 0, 1, 2, 2, ...: every passage owns units, in order
    if len(owners) and (int(owners[0]) != 0 or int(owners[-1]) != len(passages) - 1
                        or (len(steps) and (int(steps.min()) < 0 or int(steps.max()) > 1))):
        return f"{len(vectors)} vectors do not map onto {len(passages)} passages"
    if [p.id for p in passages] != list(range(len(passages))):
        return "passage ids are not 0..n-1"
    expected = sum(int(d.get("passages", 0)) for d in listed.values())
    if len(passages) != expected:
        return f"{len(passages)} passages where the manifest lists {expected}"
    if sorted(d.doc for d in docs) != sorted(listed) or any(p.doc not in listed for p in passages):
        return "documents do not match the manifest"
    return None


def load_index(root: Path, expect_embedder: str | None = None, units: Collection[int] = (),
               version: str | None = None) -> IndexData:
    """Load the current version (or `version`), refusing what cannot be served, with the command
    that fixes it (`units`: other unit rules to accept, for an ingest that reuses vectors)."""
    root = Path(root)
    vid, manifest = read_manifest(root, units, version)
    fix = fix_command(root)
    _check_embedder(root, manifest, expect_embedder)
    path = root / "versions" / vid
    _check_files(path, manifest, fix, lazy=("vectors.faiss",))  # checked when it is read (faiss_index)
    vectors = _read(path / "vectors.npy", fix, lambda f: np.load(f, mmap_mode="r", allow_pickle=False))
    owners = _read(path / "owners.npy", fix, lambda f: np.load(f, allow_pickle=False))
    passages = _read(path / "passages.jsonl", fix, _read_passages)
    docs = _read(path / "documents.jsonl", fix, _read_documents)
    problem = _out_of_step(manifest, vectors, owners, passages, docs)
    if problem:
        raise IndexCorruptError(f"index at {path} is out of step ({problem}): {fix}")
    if LEXICON_FILE in manifest["files"]:
        _read(path / LEXICON_FILE, fix, _lexicon_readable)
    data = IndexData(root=root, version=vid, manifest=manifest, passages=passages, documents={d.doc: d for d in docs})
    if len(vectors) > Settings.exact_units:  # the retriever searches FAISS: refuse a bad file now, not mid-question
        data.faiss_index
    return data


def _lexicon_readable(path: Path) -> None:
    """The term-count archive opens and lists its arrays (they are read when a retriever is built)."""
    with np.load(path, allow_pickle=False) as z:
        if not z.files:
            raise ValueError("no term counts in it")


def _lines(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield line


def _lock_holder(f) -> str:
    f.seek(0)
    pid = f.read().strip()
    return f" (pid {pid})" if pid.isdigit() else ""


@contextlib.contextmanager
def ingest_lock(root: Path, wait: bool = False) -> Iterator[None]:
    """One ingest at a time per index directory (an OS lock: freed even on kill -9).

    Without `wait`, a second ingest fails at once with IndexBusyError."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        f = open(root / ".lock", "a+")
    except OSError as exc:
        raise QunzhongError(f"cannot lock index directory {root}: {exc.strerror or exc}") from exc
    with f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            if not wait:
                raise IndexBusyError(f"another ingest{_lock_holder(f)} is writing {root}; "
                                     f"wait for it to finish or pass --wait") from exc
            log.warning("another ingest%s is writing %s; waiting for it", _lock_holder(f), root)
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            f.truncate(0)
            f.write(str(os.getpid()))
            f.flush()
            pause_point("locked")
            yield
        finally:
            f.truncate(0)
            f.flush()
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
