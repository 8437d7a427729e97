"""Build or update an index from files: incremental, atomic, and tolerant of bad input.

An ingest compares each file's sha256 with the current manifest. Unchanged
documents keep their passages and vectors (nothing is cleaned or embedded
again), changed and new ones are processed, missing ones leave the index.
When nothing changed, nothing is written. A changed file that can no longer
be read keeps its indexed version. The new version is written by
`index.store.write_index`, beside the current one, under the ingest lock.
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

from index.embedders import DEFAULT_EMBEDDER, Embedder, Memo, get_embedder
from index.errors import IndexCorruptError, IndexMismatchError, IndexMissingError, LoadError, QunzhongError
from index.settings import Settings
from index.store import (
    app_version,
    current_version,
    ingest_lock,
    load_index,
    read_manifest,
    remove_strays,
    verify_index,
    versions_newest_first,
    write_index,
)
from ingest.loaders import LoadedFile, Skipped, discover, load_file

if TYPE_CHECKING:  # numpy and the pipeline (langchain) load only when something must be processed
    import numpy as np

    from index.schema import DocumentRecord, Passage
    from index.store import IndexData

log = logging.getLogger(__name__)

EMBED_BATCH = 16
# Bump when cleaning, structure or splitting give the same file other passages: every document is
# processed again at the next ingest (vectors of unchanged sentence units are reused). 2: articles
# as units, chapter names, page chrome and headers removed, precise inserted-line rule. 3: full-width
# punctuation (；！？，：（）) read like its ASCII form by cleaning, structure and splitting. 4: a
# Markdown file's "# 标题" is its title (it was the line under it); "###" sections hold articles.
# 5: running headers learnt next to page numbers on lines of their own ("- 3 -") as well.
# 6: an official document's head (issuer mark, document number) is not its title; a passage of
# nothing but the title is not indexed. 7: a PDF's line repeated at the top or bottom of its
# pages is page furniture on every page but the first, with or without page numbers. 8: an
# enumerated point ("三是…", "其一,…") heads its own paragraph only. 9: with 7, page 1's copy of
# such a header goes too when the title itself follows it. 10: the issuer and date on lines of
# their own under the title belong to the head (read as metadata, not a passage of their own).
# 11: a repeated passage's other locations carry the section they sit under.
# 12: a string seen once between two words is not a watermark (it may be the law's own modifier).
# 13: a text file whose first line is a Markdown title ("# 条例名") takes it as its title.
# 14: a .docx paragraph starts with the number Word's list numbering gives it (第一条, （一）); the
# issuer and dates come from what the document states before a web page's info line; a law in
# traditional characters has its 第X條 articles and 第X節 sections; an HTML box mostly of links is chrome.
PIPELINE_VERSION = 14
POOLED_PATH = "sentence+pooled-path"  # Settings.units: the path embedded once, see _pooled_path


class StrictModeError(QunzhongError):
    """--strict and at least one input file was bad; `report` lists them (nothing was written)."""

    def __init__(self, message: str, report: "IngestReport"):
        super().__init__(message)
        self.report = report


class NothingIndexedError(QunzhongError):
    """No file yielded a document; `report` says which were skipped and why."""

    def __init__(self, message: str, report: "IngestReport"):
        super().__init__(message)
        self.report = report


@dataclass
class IngestReport:
    index: str = ""
    version: str = ""
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # not under the paths named this run: kept (see --prune)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    embedder: str = ""
    documents: int = 0
    passages: int = 0
    embedded: int = 0          # match units embedded in this run (0 when nothing changed)
    reused: int = 0            # units of changed documents whose text, and so vector, was already indexed
    written: bool = False      # False: the index was already up to date, nothing was written
    full: bool = False         # every document was processed again (--full, new embedder, settings or pipeline)
    recovered: str = ""        # the current version was damaged: what this run built on instead
    passed_over: dict[str, int] = field(default_factory=dict)  # files in the folders not of a supported type
    # Named folders that hold no file to index now while the index holds documents from them (a
    # share not mounted, a folder emptied by mistake): their documents are kept unless --prune.
    empty_folders: list[str] = field(default_factory=list)
    # A rebuild (a new release's pipeline, other settings): unchanged files whose document came
    # out otherwise (passages, title, issuer or dates), so an admin sees what the upgrade changed.
    revised: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        line = (f"{self.documents} documents, {self.passages} passages in {self.seconds:.1f}s "
                f"(added {len(self.added)}, changed {len(self.changed)}, removed {len(self.removed)}, "
                f"unchanged {len(self.unchanged)}")
        line += f", kept {len(self.kept)} outside the named paths" if self.kept else ""
        line += f", {len(self.revised)} of the unchanged revised by the rebuild" if self.revised else ""
        line += f", skipped {len(self.skipped)})" if self.skipped else ")"
        if self.passed_over:
            line += f"; {self.passed_over_text()}"
        if not self.written:
            return line + "; nothing changed, nothing written"
        line += f"; {self.embedded} sentence vectors embedded"
        if self.reused:
            source = "the current version" if self.full else "the edited documents"
            line += f", {self.reused} reused from {source}"
        line += f"; the current version was damaged: {self.recovered}" if self.recovered else ""
        return line + ("; rebuilt every document" if self.full else "")

    def passed_over_text(self) -> str:
        """"passed over 3 files of other types (.doc 1, .zip 1, broken link 1)"."""
        kinds = ", ".join(f"{kind} {n}" for kind, n in self.passed_over.items())
        return f"passed over {sum(self.passed_over.values())} files of other types ({kinds})"

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["skipped"] = [{"path": s.path, "reason": s.reason} for s in self.skipped]
        return d


def doc_ids(paths: Sequence[str | Path], files: Sequence[Path],
            known: dict[str, dict] | None = None) -> dict[Path, str]:
    """A stable id per file: its path relative to the directory argument that holds it.

    A file the index already holds keeps the id it was indexed under, whatever paths this run
    names (re-ingesting a subfolder or one file does not rename its documents). Two files that
    would share an id (same relative path under two directory arguments, or a new file named
    like a document indexed from another file that still exists, with other content) are told
    apart by the name of their directory argument, then by their full path: one file never
    replaces another. A copy of an indexed file (same name, same content) is that document."""
    roots = [Path(p).resolve() for p in paths if Path(p).is_dir()]
    known = known or {}
    by_source = {str(entry.get("source", "")): doc for doc, entry in known.items()}
    resolved = [f.resolve() for f in files]
    out = {f: by_source[str(f)] for f in resolved if str(f) in by_source}
    taken = set(out.values())

    def held(doc: str, f: Path) -> bool:  # indexed from another file, still there, with other content
        other = str(known[doc].get("source", "")) if doc in known else ""
        return (other not in ("", str(f)) and Path(other).exists()
                and known[doc].get("sha256") != _sha256(f, 1 << 62))

    for f in resolved:
        if f in out:
            continue
        root = next((r for r in roots if r in f.parents), None)
        candidates = [f.relative_to(root).as_posix(), f.relative_to(root.parent).as_posix()] if root else [f.name]
        # the first free one; else the full path, unique: files are distinct resolved paths
        doc = next((c for c in candidates if c not in taken and not held(c, f)), f.as_posix())
        taken.add(doc)
        out[f] = doc
    return out


@dataclass
class _Plan:
    """What the files on disk mean for the current index."""

    base: dict | None                 # manifest of a reusable current version
    base_version: str = ""
    todo: list[tuple[Path, str]] = field(default_factory=list)    # to load, clean, split, embed
    known: dict = field(default_factory=dict)                     # the current version's documents
    seen: set = field(default_factory=set)                        # doc ids of the files found now
    recorded: list | None = None                                  # the paths the current version covers
    reuse: dict[str, Path] = field(default_factory=dict)          # unchanged: doc id -> its file now
    sources: list[str] = field(default_factory=list)              # the paths the new version covers
    # A rebuild the pipeline or the settings asked for (not --full): vectors of unit texts that
    # come out the same may be taken from the current version (`_embedded_alike`).
    alike: bool = False
    intact: str | None = None  # the current version is damaged: the intact one built on (or None)


def ingest(paths: Sequence[str | Path], root: str | Path, *, embedder_name: str | None = None,
           settings: Settings | None = None, full: bool = False, strict: bool = False,
           wait: bool = False, progress: bool = True, embedder: Embedder | None = None,
           prune: bool = False) -> IngestReport:
    """Bring the index at `root` up to date with the files under `paths`.

    A document whose file is gone from under a named path leaves the index. One that was indexed
    from elsewhere (the run names other paths than the index's recorded sources) is kept unless
    `prune` or `full`; one under a folder that cannot be listed is kept (the folder is skipped)."""
    t0 = time.perf_counter()
    root = Path(root)
    settings = settings or Settings()
    report = IngestReport(index=str(root))
    with ingest_lock(root, wait=wait):
        remove_strays(root)
        passed: list[Path] = []
        files, skipped = discover(paths, passed)
        report.skipped = list(skipped)
        report.passed_over = _by_kind(passed)
        name = report.embedder = embedder.name if embedder else _embedder_name(root, embedder_name)
        plan = _plan(root, files, paths, name, settings, full, report)
        _plan_missing(plan, paths, files, prune, full, report)
        if plan.base is None or plan.todo or report.removed or plan.intact:  # damaged: a sound version
            _update(root, plan, report, settings, strict, progress, _Lazy(name, embedder))
        if not report.written:
            _up_to_date(report, plan, strict)
    report.seconds = time.perf_counter() - t0
    return report


def _by_kind(paths: list[Path]) -> dict[str, int]:
    """Files passed over, counted by kind: their extension, or "broken link"; the most first."""
    kinds: dict[str, int] = {}
    for p in paths:
        kind = "broken link" if p.is_symlink() and not p.exists() else (p.suffix.lower() or "no extension")
        kinds[kind] = kinds.get(kind, 0) + 1
    return dict(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))


class _Lazy:
    """The embedder, loaded on first use: a run with nothing new to embed never loads a model.
    Within the run each distinct text is embedded once (`Memo`), whether the cleaner or a unit
    asked for it first."""

    def __init__(self, name: str, given: Embedder | None):
        self.name, self._given, self._embedder = name, given, None

    def get(self) -> Memo:
        if self._embedder is None:
            self._embedder = Memo(self._given if self._given is not None else get_embedder(self.name))
        return self._embedder


def _embedder_name(root: Path, requested: str | None) -> str:
    """The requested embedder, else the one that built the current index, else the default."""
    if requested:
        return requested.strip()
    try:
        return read_manifest(root)[1]["embedder"]["name"]
    except (QunzhongError, KeyError, TypeError):
        return DEFAULT_EMBEDDER


def recorded_sources(root: str | Path) -> list[str]:
    """The folders and files the index at `root` was built from (its current version's record,
    or the newest version whose manifest can be read); [] when there is no index."""
    from index.units import RULES

    root = Path(root)
    for version in (None, *versions_newest_first(root)):
        try:  # under older unit rules too: the repair a mismatch advises must find them
            sources = read_manifest(root, RULES, version)[1].get("sources")
        except QunzhongError:
            continue
        if sources:
            return [str(x) for x in sources]
    return []


@dataclass
class _Current:
    """What the index holds now. `manifest`: a version whose every file checks out (the current
    one, or when that is damaged the newest intact one, `version`); `held`: the documents and
    sources of the damaged current version, when its manifest can still be read."""

    version: str | None = None
    manifest: dict | None = None
    damaged: bool = False
    held: dict | None = None


def _current(root: Path) -> _Current:
    from index.units import RULES

    try:
        return _Current(*verify_index(root, RULES))  # embedded under older rules: a rebuild, reusing
    except IndexMissingError:
        return _Current()
    except IndexMismatchError as exc:
        log.warning("current index not reusable (%s); processing every document", exc)
        return _Current(damaged=True)
    except IndexCorruptError as exc:
        damage = exc
    try:  # the damaged version's own list of documents, if it can be read
        held = read_manifest(root, RULES)[1]
    except QunzhongError:
        held = None
    current = current_version(root)
    for vid in versions_newest_first(root):
        if vid == current:
            continue
        try:
            _, manifest = verify_index(root, RULES, version=vid)
        except QunzhongError:
            continue
        log.warning("the current index version is damaged (%s); building on %s, the newest intact one", damage, vid)
        return _Current(vid, manifest, True, held)
    if held is None:
        raise IndexCorruptError(f"the index at {root} is damaged and none of its versions can be read, so what it "
                          f"held is unknown ({damage}): run `qunzhong ingest --full FOLDER ... --index {root}` "
                          "naming every folder it should hold")
    log.warning("current index damaged (%s) and no intact version: every document is processed again "
                "from its file", damage)
    return _Current(None, None, True, held)


def _plan(root: Path, files: list[Path], paths: Sequence[str | Path], embedder: str, settings: Settings,
          full: bool, report: IngestReport) -> _Plan:
    """Sort files into unchanged (reuse), added and changed (todo); list removed documents."""
    from index.units import UNITS_VERSION

    try:
        now = _current(root)
    except IndexCorruptError:
        if not full:
            raise
        now = _Current(damaged=True)  # --full with the folders named: they are what it holds
    vid, manifest = now.version, now.manifest
    base_docs = (manifest or {}).get("documents", {})
    # what the index holds: the damaged version's own list when it can be read (not the older
    # intact one's, which may hold documents removed since); the intact one decides reuse
    known = (now.held or manifest or {}).get("documents", {})
    ids = doc_ids(paths, files, known)
    reusable = (manifest is not None and not full and manifest["embedder"]["name"] == embedder
                and manifest.get("ingest_key") == settings.ingest_key()
                and manifest.get("pipeline_version", 1) == PIPELINE_VERSION
                and manifest.get("units_version") == UNITS_VERSION)
    plan = _Plan(base=manifest if reusable else None, base_version=vid or "",
                 alike=manifest is not None and not reusable and not full,
                 intact=vid if now.damaged else None)
    report.full = not reusable and (manifest is not None or now.damaged)  # a first build is not a rebuild
    report.recovered = (f"built on {vid}, the newest intact version" if vid else
                        "every document processed again from its file") if now.damaged and known else ""
    for f in files:
        doc = ids[f.resolve()]
        sha = _sha256(f, settings.max_file_bytes)
        if doc in known and sha == known[doc].get("sha256"):
            report.unchanged.append(doc)
            if reusable and doc in base_docs and sha == base_docs[doc].get("sha256"):
                plan.reuse[doc] = f
            else:
                plan.todo.append((f, doc))
        else:
            plan.todo.append((f, doc))
            (report.changed if doc in known else report.added).append(doc)
    plan.known, plan.seen = known, set(ids.values())
    plan.recorded = (now.held or manifest or {}).get("sources")
    return plan


def _plan_missing(plan: _Plan, paths: Sequence[str | Path], files: Sequence[Path], prune: bool, full: bool,
                  report: IngestReport) -> None:
    """Sort the indexed documents no file stands for now into removed and kept. A named folder
    that holds no file to index at all while the index holds documents from it is read as not
    there (a network share not mounted, a folder emptied by mistake): its documents are kept and
    the folder reported, unless `prune` says to remove them."""
    named = [Path(p).resolve() for p in paths]
    unreadable = [Path(s.path).resolve() for s in report.skipped]
    found = [Path(f).resolve() for f in files]
    empty = [] if prune else [p for p in named if p.is_dir() and not any(p in f.parents for f in found)]
    same_run = plan.recorded is not None and {str(p) for p in named} == set(plan.recorded)
    prune = prune or full
    for doc in sorted(d for d in plan.known if d not in plan.seen):
        source = str(plan.known[doc].get("source", ""))
        if _under(source, unreadable):
            report.unchanged.append(doc)
        elif folder := next((p for p in empty if _under(source, [p])), None):
            report.unchanged.append(doc)
            if str(folder) not in report.empty_folders:
                report.empty_folders.append(str(folder))
        elif prune or same_run or _under(source, named):
            report.removed.append(doc)
            continue
        else:
            report.kept.append(doc)
        if plan.base is not None and doc in plan.base.get("documents", {}):
            plan.reuse[doc] = Path(source)
        else:  # not in the version reused (a damaged current one held it): from its file
            plan.todo.append((Path(source), doc))
    kept = (plan.recorded or []) if not (prune or same_run) else []
    plan.sources = sorted({*kept, *(str(p) for p in named)})


def _under(source: str, roots: Sequence[Path]) -> bool:
    path = Path(source)
    return any(path == r or r in path.parents for r in roots)


def _sha256(path: Path, max_bytes: int) -> str | None:
    """The file's sha256; None when it is too big or unreadable (the loader says why)."""
    h = hashlib.sha256()
    try:
        if path.stat().st_size > max_bytes:
            return None
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def _up_to_date(report: IngestReport, plan: _Plan, strict: bool) -> None:
    """Nothing changed: report the current version as it is."""
    _check_strict(report, strict)
    docs = plan.base.get("documents", {})
    report.version, report.full = plan.base_version, False
    report.documents = len(docs)
    report.passages = sum(int(d.get("passages", 0)) for d in docs.values())


def _check_strict(report: IngestReport, strict: bool) -> None:
    if strict and report.skipped:
        raise StrictModeError(f"{len(report.skipped)} file(s) could not be indexed (--strict): "
                              + "; ".join(f"{s.path}: {s.reason}" for s in report.skipped), report)


def _update(root: Path, plan: _Plan, report: IngestReport, settings: Settings, strict: bool,
            progress: bool, embedder: _Lazy) -> None:
    """Process what changed, reuse the rest, and write a new version (unless nothing changed)."""
    if strict:  # fail before any embedding work
        _precheck(plan.todo, settings, report)
    prev = _load_previous(root, plan, report) if plan.base is not None else None
    vectors_from = _embedded_alike(root, embedder.name, settings, plan.intact) if prev is None and plan.alike else prev
    # the documents about to be processed again, and those leaving the index: a file moved or
    # renamed is a removed document and an added one with the same sentences
    known = _known_units(vectors_from, {doc for _, doc in plan.todo} | set(report.removed))
    new, failed = _process_all(plan.todo, settings, embedder, progress, report, known)
    _check_strict(report, strict)
    if report.full and vectors_from is not None:
        report.revised = _revised(vectors_from, new, set(report.unchanged))
    if plan.base is not None and not new and not report.removed and not plan.intact:
        _keep_stale(plan, failed, report)
        return  # only unreadable files: the current version stays as it is
    if prev is None and plan.reuse:  # it could not be loaded after all: process those too
        more, _ = _process_all(sorted((path, doc) for doc, path in plan.reuse.items()), settings, embedder,
                               progress, report, known)
        new, plan.reuse = new + more, {}
    stale = _keep_stale(plan, failed, report) if prev is not None else {}
    kept = _reuse(prev, {**plan.reuse, **stale}) if prev is not None else []
    docs = sorted(kept + new, key=lambda e: e.record.doc)
    if not docs:
        raise NothingIndexedError("no document could be indexed; the previous index (if any) is unchanged", report)
    passages, vectors, owners = _assemble(docs)
    info = {"name": embedder.get().name, "dim": embedder.get().dim} if new else prev.manifest["embedder"]
    manifest = {**_manifest(info, settings, docs), "sources": plan.sources}
    _show_removals(report.removed)
    lexicon = _lexicon(docs)
    report.version = write_index(root, manifest, vectors, owners, passages, [e.record for e in docs], lexicon,
                                 keep=plan.intact)
    report.written = True
    report.documents, report.passages = len(docs), len(passages)


def _revised(prev: IndexData, new: list[DocumentEntry], unchanged: set[str]) -> list[str]:
    """The documents of unchanged files that a rebuild made otherwise than `prev` held them."""
    def shape(record, passages) -> tuple:
        return (record.title, record.cleaned, record.issuer, tuple(map(str, record.dates)),
                tuple((p.text, p.section) for p in passages))

    held: dict[str, list] = {}
    for p in prev.passages:
        held.setdefault(p.doc, []).append(p)
    return sorted(e.record.doc for e in new if e.record.doc in unchanged and e.record.doc in prev.documents
                  and shape(e.record, e.passages) != shape(prev.documents[e.record.doc], held.get(e.record.doc, [])))


SHOW_REMOVALS = 3  # more removals than this are listed before the new version is written


def _show_removals(removed: list[str]) -> None:
    if len(removed) > SHOW_REMOVALS:
        more = f" and {len(removed) - 20} more" if len(removed) > 20 else ""
        log.warning("removing %d documents not found under the paths named: %s%s", len(removed),
                    ", ".join(removed[:20]), more)


def _keep_stale(plan: _Plan, failed: list[str], report: IngestReport) -> dict[str, Path]:
    """Documents whose file changed but cannot be read now keep their indexed version."""
    indexed = (plan.base or {}).get("documents", {})
    paths = {doc: path for path, doc in plan.todo}
    stale = {doc: paths[doc] for doc in failed if doc in indexed}
    report.unchanged.extend(stale)
    kept = {str(path) for path in stale.values()}
    report.skipped = [Skipped(s.path, s.reason + "; kept the indexed version") if s.path in kept else s
                      for s in report.skipped]
    return stale


def _precheck(todo: list[tuple[Path, str]], settings: Settings, report: IngestReport) -> None:
    """--strict: load every file to process before embedding anything, and fail listing the bad ones."""
    for path, _ in todo:
        try:
            load_file(path, max_bytes=settings.max_file_bytes)
        except LoadError as exc:
            report.skipped.append(Skipped(str(path), exc.reason))
    _check_strict(report, True)


def _load_previous(root: Path, plan: _Plan, report: IngestReport) -> IndexData | None:
    """The current version (or the intact one built on), loaded for reuse (None, and a full
    rebuild, if it cannot be)."""
    try:
        return load_index(root, version=plan.intact)
    except (IndexCorruptError, IndexMismatchError, IndexMissingError) as exc:
        log.warning("current index not reusable (%s); processing every document", exc)
        report.full = True
        return None


@dataclass(frozen=True)
class DocumentEntry:
    """One document ready to be written: passages (ids local to the document), the vectors of
    their match units, and for each unit the local id of its passage."""

    record: DocumentRecord
    passages: list[Passage]
    vectors: np.ndarray
    owners: np.ndarray
    terms: dict | None = None  # field -> TermCounts of the passages, when reused from the index

    def term_counts(self, kind: str):
        from index.lexical import TOKENIZERS, TermCounts

        if self.terms is not None and kind in self.terms:  # an older index may lack a field
            return self.terms[kind]
        return TermCounts.of([p.context for p in self.passages], TOKENIZERS[kind])


def _reuse(prev: IndexData, docs: dict[str, Path]) -> list[DocumentEntry]:
    """Entries for unchanged documents as a full rebuild would make them: the stored passages
    and vectors, with `source` pointing at where each file is now."""
    import numpy as np

    bounds = prev.unit_bounds
    vectors = prev.vectors()
    try:
        lexicon = prev.lexicon()
    except IndexCorruptError as exc:
        log.warning("stored term counts not reusable (%s); counting them again", exc)
        lexicon = None
    rows: dict[str, list[Passage]] = {}
    for p in prev.passages:
        rows.setdefault(p.doc, []).append(p)
    out = []
    for doc, path in sorted(docs.items()):
        source = str(path.resolve())
        ids = np.array([p.id for p in rows.get(doc, [])], dtype=np.int64)
        starts, ends = bounds[ids], bounds[ids + 1]
        picked = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)] or [np.zeros(0, np.int64)])
        passages = [replace(p, id=i, source=source) for i, p in enumerate(rows.get(doc, []))]
        terms = {kind: tc.rows(ids) for kind, tc in lexicon.items()} if lexicon else None
        out.append(DocumentEntry(replace(prev.documents[doc], source=source), passages,
                                 np.asarray(vectors[picked], dtype=np.float32),
                                 np.repeat(np.arange(len(ids), dtype=np.int32), ends - starts), terms))
    return out


def _loaded(todo: list[tuple[Path, str]], settings: Settings, report: IngestReport,
            failed: list[str]) -> Iterator[tuple[str, LoadedFile]]:
    """Each loadable file of `todo`; the others are reported as skipped."""
    for path, doc in todo:
        try:
            yield doc, load_file(path, max_bytes=settings.max_file_bytes)
        except LoadError as exc:
            report.skipped.append(Skipped(str(path), exc.reason))
            _forget(report, doc)
            failed.append(doc)


def _forget(report: IngestReport, doc: str) -> None:
    """A document that could not be processed is neither added, changed nor unchanged."""
    for bucket in (report.added, report.changed, report.unchanged):
        if doc in bucket:
            bucket.remove(doc)


def _process_all(todo: list[tuple[Path, str]], settings: Settings, embedder: _Lazy, progress: bool,
                 report: IngestReport, known: "_KnownUnits") -> tuple[list[DocumentEntry], list[str]]:
    """Clean, split and embed each file of `todo`. Returns the entries and the ids that failed."""
    from tqdm import tqdm

    out: list[DocumentEntry] = []
    failed: list[str] = []
    bar = tqdm(total=len(todo), desc="indexing", unit="doc", disable=not progress or not todo, leave=False,
               bar_format="{desc} {n_fmt}/{total_fmt} documents |{bar}| {elapsed}<{remaining} left{postfix}")
    for doc, loaded in _loaded(todo, settings, report, failed):
        _show(bar, out, doc)
        pdoc = _process_one(loaded, doc, settings, embedder.get())
        if isinstance(pdoc, str):
            report.skipped.append(Skipped(str(loaded.path), pdoc))
            _forget(report, doc)
            failed.append(doc)
        else:
            out.append(_embed_document(pdoc, embedder.get(), settings, progress, report, known))
        bar.update(1)
    bar.close()
    return out, failed


def _show(bar, done: list[DocumentEntry], doc: str) -> None:
    """Passages and units indexed so far, and the document being processed, after the bar."""
    passages, units = sum(len(e.passages) for e in done), sum(len(e.owners) for e in done)
    bar.set_postfix_str(f"{passages} passages, {units} units; {doc[-30:]}")


def _process_one(loaded: LoadedFile, doc: str, settings: Settings, embedder: Embedder):
    """The processed document, or why it yields nothing to index."""
    from ingest.pipeline import process  # langchain: only when there is something to split

    try:
        pdoc = process(loaded, doc, settings, embedder)
    except Exception as exc:  # a cleaner or splitter bug on one file must not cost the others
        log.debug("processing %s failed", loaded.path, exc_info=True)
        detail = str(exc).strip().splitlines()[:1]
        return f"could not be processed ({type(exc).__name__}{': ' + detail[0][:120] if detail else ''})"
    return pdoc if pdoc.passages else "no text left after cleaning"


def _embed_document(pdoc, embedder: Embedder, settings: Settings, progress: bool, report: IngestReport,
                    known: "_KnownUnits") -> DocumentEntry:
    import numpy as np

    from index.units import match_units, unit_path

    units = [match_units(p) for p in pdoc.passages]
    owners = np.array([i for i, us in enumerate(units) for _ in us], dtype=np.int32)
    texts = [u for us in units for u in us]
    paths = [path for p, us in zip(pdoc.passages, units) for path in [unit_path(p)] * len(us)]
    vectors = np.empty((len(texts), embedder.dim), dtype=np.float32)
    rows = [known.rows.get(t, -1) for t in texts]
    todo = [i for i, r in enumerate(rows) if r < 0]
    done = [i for i, r in enumerate(rows) if r >= 0]
    if done:
        vectors[done] = known.vectors[[rows[i] for i in done]]
    if todo:
        embed = _pooled_path if settings.units == POOLED_PATH else _embed_texts
        vectors[todo] = embed(embedder, [texts[i] for i in todo], [paths[i] for i in todo], progress)
    report.embedded += len(todo)
    report.reused += len(done)
    return DocumentEntry(pdoc.record, pdoc.passages, vectors, owners)


def _embed_texts(embedder: Embedder, texts: list[str], paths: list[str], progress: bool) -> np.ndarray:
    return _embed(embedder, texts, progress)


def _pooled_path(embedder: Embedder, texts: list[str], paths: list[str], progress: bool) -> np.ndarray:
    """Units as a section path and a sentence embedded apart: a path is embedded once for the
    document, a sentence without it (the cleaner has often embedded it already), and the unit's
    vector is their mean weighted by length, as mean pooling over the joined text would weigh
    them. Not the same vectors as embedding the joined text (`Settings.units`)."""
    import numpy as np

    heads = [p if p and t.startswith(p + "\n") else "" for t, p in zip(texts, paths)]
    bodies = [t[len(h) + 1:] if h else t for t, h in zip(texts, heads)]
    out = _embed(embedder, bodies, progress)
    distinct = sorted({h for h in heads if h})
    by_head = dict(zip(distinct, _embed(embedder, distinct, False)))
    for i, (h, b) in enumerate(zip(heads, bodies)):
        if h:
            v = len(h) * by_head[h] + len(b) * out[i]
            out[i] = v / (np.linalg.norm(v) or 1.0)
    return out


def _embedded_alike(root: Path, embedder: str, settings: Settings, version: str | None = None) -> IndexData | None:
    """For a rebuild (a new pipeline, new unit rules or other ingest settings): the current
    version when its units were embedded by the same embedder, as the same kind of unit, under
    rules this code can still reproduce (`index.units.RULES`). Its vectors still stand for any
    unit text that comes out the same, so a rebuild embeds only what changed; a version that
    cannot be read is simply not used."""
    from index.units import RULES

    try:
        _, manifest = read_manifest(root, RULES, version)
        if (manifest["embedder"]["name"] != embedder or manifest.get("units_version") not in RULES
                or manifest.get("settings", {}).get("units", Settings().units) != settings.units):
            return None
        return load_index(root, units=RULES, version=version)
    except (QunzhongError, KeyError, TypeError, AttributeError) as exc:
        log.debug("no vectors to reuse from %s (%s)", root, exc)
        return None


@dataclass(frozen=True)
class _KnownUnits:
    """Match-unit texts the current version already embedded (text -> row of `vectors`), for
    the documents about to be processed again: editing one sentence of a long document embeds
    that sentence's units, not the document. Same embedder and settings, same text, same vector."""

    rows: dict
    vectors: object = None


def _known_units(prev: IndexData | None, docs: set[str]) -> _KnownUnits:
    if prev is None or not docs:
        return _KnownUnits({})
    from index.units import RULES

    match_units = RULES[prev.manifest.get("units_version")]  # the texts as they were embedded
    bounds = prev.unit_bounds
    rows: dict[str, int] = {}
    for p in prev.passages:
        if p.doc in docs:
            units = match_units(p)
            first = int(bounds[p.id])
            if len(units) == bounds[p.id + 1] - first:  # as stored; otherwise embedded again
                rows.update((u, first + i) for i, u in enumerate(units))
    return _KnownUnits(rows, prev.vectors())


def _embed(embedder: Embedder, texts: list[str], progress: bool) -> np.ndarray:
    import numpy as np
    from tqdm import tqdm

    parts = []
    with tqdm(total=len(texts), desc="embedding", unit="unit", disable=not progress or len(texts) <= EMBED_BATCH,
              leave=False) as bar:
        for i in range(0, len(texts), EMBED_BATCH):
            parts.append(embedder.embed_passages(texts[i:i + EMBED_BATCH]))
            bar.update(len(parts[-1]))
    return np.vstack(parts) if parts else np.zeros((0, embedder.dim), np.float32)


def _assemble(docs: list[DocumentEntry]) -> tuple[list[Passage], np.ndarray, np.ndarray]:
    import numpy as np

    passages, vectors, owners = [], [], []
    for entry in docs:
        base = len(passages)
        passages.extend(replace(p, id=base + p.id) for p in entry.passages)
        vectors.append(np.asarray(entry.vectors, dtype=np.float32))
        owners.append(entry.owners.astype(np.int32) + base)
    return passages, np.vstack(vectors), np.concatenate(owners)


def _lexicon(docs: list[DocumentEntry]) -> dict:
    """Term counts of every passage, in passage order: reused rows for unchanged documents."""
    from index.lexical import TOKENIZERS, TermCounts

    return {kind: TermCounts.stack([e.term_counts(kind) for e in docs]) for kind in TOKENIZERS}


def faiss_kind(settings: Settings, n_units: int) -> str:
    from index.ann import choose_kind

    return choose_kind(n_units, settings.exact_units) if settings.faiss_kind == "auto" else settings.faiss_kind


def _manifest(embedder: dict, settings: Settings, docs: list[DocumentEntry]) -> dict:
    from index.lexical import TOKENIZERS, lexicon_stamp

    return {
        "app_version": app_version(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "embedder": {"name": embedder["name"], "dim": embedder["dim"]},
        "splitter": {"kind": "langchain RecursiveCharacterTextSplitter", "max_chars": settings.max_chars,
                     "min_chars": settings.min_chars, "overlap": 0},
        "settings": settings.to_dict(),
        "ingest_key": settings.ingest_key(),
        "pipeline_version": PIPELINE_VERSION,
        "faiss": {"kind": faiss_kind(settings, sum(len(e.owners) for e in docs)), "rule": "index.ann.choose_kind"},
        "units": ("sentences and their section path embedded apart, combined by length" if settings.units == POOLED_PATH
                  else "sentences led by their section path") + "; a passage scores as its best unit",
        "lexical": {"stamp": lexicon_stamp(), "fields": sorted(TOKENIZERS), "file": "lexical.npz"},
        "documents": {e.record.doc: {"sha256": e.record.sha256, "title": e.record.title, "source": e.record.source,
                                     "passages": len(e.passages), "chars": len(e.record.original),
                                     "removed_chars": len(e.record.original) - len(e.record.cleaned)}
                      for e in docs},
    }
