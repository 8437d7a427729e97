"""Incremental ingest with the real e5 embedder: only changed documents are embedded, unchanged
ones keep exactly what a full rebuild would store, and an unchanged corpus writes nothing. Where
only the bookkeeping is checked (what is rebuilt, what is kept) the tiny demo embedder stands in."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from benchmarks.official import Counting as CountingEmbedder  # records every text it embeds
from conftest import run_main
from index.lexical import TOKENIZERS, TermCounts
from index.settings import Settings
from index.store import load_index
from index.units import match_units
from ingest.build import ingest

pytestmark = pytest.mark.slow

DOCS = {
    "a.txt": "接待来访群众的基本要求\n\n接待来访群众时要热情耐心，认真倾听群众诉求，做好登记。"
             "对情绪激动的群众，要先稳定情绪，再了解情况，不能与群众争吵。\n",
    "b.txt": "信访事项的办理时限\n\n信访事项应当自受理之日起六十日内办结。情况复杂的，经批准可以适当延长办理期限，"
             "但延长期限不得超过三十日，并告知信访人延期理由。\n",
    "c.txt": "矛盾纠纷排查化解\n\n基层组织应当定期排查矛盾纠纷，做到早发现、早报告、早化解，把问题解决在萌芽状态。\n",
}
B_CHANGED = DOCS["b.txt"] + "办结后应当出具书面答复意见书，送达信访人。\n"
D_NEW = "网上信访渠道\n\n群众可以通过网上信访平台提交诉求，系统自动生成查询码，群众凭查询码查询办理进度和结果。\n"





def write_docs(folder: Path, docs: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def units_of(data, doc: str) -> list[str]:
    return [u for p in data.passages if p.doc == doc for u in match_units(p)]


def doc_slice(data, doc: str) -> tuple[list[dict], np.ndarray]:
    """One document's passages (ids made local) and unit vectors, as stored."""
    rows = [p for p in data.passages if p.doc == doc]
    first = rows[0].id
    owners = data.owners()
    picked = np.isin(owners, [p.id for p in rows])
    passages = [{**p.__dict__, "id": p.id - first} for p in rows]
    return passages, np.asarray(data.vectors()[picked])


def snapshot(root: Path) -> dict[str, float]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*") if p.name != ".lock"}


@pytest.fixture
def counting(e5):
    return CountingEmbedder(e5)


def test_incremental_run_embeds_only_what_changed(tmp_path, counting):
    from assistant.service import Assistant

    corpus, root = write_docs(tmp_path / "docs", DOCS), tmp_path / "idx"
    first = ingest([corpus], root, embedder=counting, progress=False)
    assert first.written and sorted(first.added) == sorted(DOCS) and first.embedded > 0
    assistant = Assistant(root)  # a running server: it must pick up the new version by itself
    assert assistant.retrieve("网上信访平台查询码", k=1)[0].passage.doc != "d.txt"
    before = set(units_of(load_index(root), "b.txt"))

    (corpus / "b.txt").write_text(B_CHANGED, encoding="utf-8")
    (corpus / "c.txt").unlink()
    (corpus / "d.txt").write_text(D_NEW, encoding="utf-8")
    counting.texts.clear()
    second = ingest([corpus], root, embedder=counting, progress=False)
    data = load_index(root)

    buckets = (second.added, second.changed, second.removed, second.unchanged)
    assert buckets == (["d.txt"], ["b.txt"], ["c.txt"], ["a.txt"])
    assert second.written and not second.full and second.documents == 3
    changed_units = units_of(data, "b.txt") + units_of(data, "d.txt")
    fresh = [u for u in changed_units if u not in before]
    assert second.embedded == len(fresh) and second.reused == len(changed_units) - len(fresh) > 0
    embedded = counting.texts
    assert all(u in embedded for u in fresh)  # every new passage unit of the changed documents...
    assert not any(u in embedded for u in before)  # (the edited document's unchanged ones are reused)
    source = B_CHANGED + D_NEW
    for text in embedded:  # ...and nothing else: the cleaner's lines come from them too
        assert all(line.strip() in source for line in text.splitlines()), text
    assert "c.txt" not in data.documents and "c.txt" not in {p.doc for p in data.passages}

    hit = assistant.retrieve("网上信访平台查询码", k=1)[0]
    assert hit.passage.doc == "d.txt"  # served from the new version, no restart


def test_a_rebuild_for_a_new_pipeline_embeds_only_units_that_changed(tmp_path, counting, monkeypatch):
    """A new pipeline version processes every document again, but a unit that comes out as the
    same text, embedded by the same model under the same unit rules, keeps its vector: after an
    upgrade the admin's re-ingest does not re-embed the shelf. A unit that did change is embedded."""
    import ingest.build as build

    corpus, root = write_docs(tmp_path / "docs", DOCS), tmp_path / "idx"
    ingest([corpus], root, embedder=counting, progress=False)
    before = load_index(root)
    monkeypatch.setattr(build, "PIPELINE_VERSION", build.PIPELINE_VERSION + 1)
    (corpus / "b.txt").write_text(B_CHANGED, encoding="utf-8")
    counting.texts.clear()
    second = ingest([corpus], root, embedder=counting, progress=False)
    after = load_index(root)
    assert second.full and second.written and sorted(second.unchanged) == ["a.txt", "c.txt"]
    fresh = [u for u in units_of(after, "b.txt") if u not in units_of(before, "b.txt")]
    assert fresh and second.embedded == len(fresh)
    assert second.reused == len(after.owners()) - len(fresh) > 0
    assert all(u in counting.texts for u in fresh)
    assert not any(u in counting.texts for doc in ("a.txt", "c.txt") for u in units_of(before, doc))
    for doc in ("a.txt", "c.txt"):
        assert np.array_equal(doc_slice(after, doc)[1], doc_slice(before, doc)[1])
    third = ingest([corpus], root, embedder=counting, progress=False, full=True)  # --full trusts nothing
    assert third.embedded == len(after.owners()) and third.reused == 0


def test_reused_document_equals_a_full_rebuild(tmp_path, e5):
    corpus = write_docs(tmp_path / "docs", {k: DOCS[k] for k in ("a.txt", "b.txt")})
    ingest([corpus], tmp_path / "inc", embedder=e5, progress=False)
    (corpus / "b.txt").write_text(B_CHANGED, encoding="utf-8")
    (corpus / "d.txt").write_text(D_NEW, encoding="utf-8")
    ingest([corpus], tmp_path / "inc", embedder=e5, progress=False)
    ingest([corpus], tmp_path / "full", embedder=e5, progress=False, full=True)
    inc, full = load_index(tmp_path / "inc"), load_index(tmp_path / "full")
    for doc in ("a.txt", "b.txt", "d.txt"):
        inc_passages, inc_vectors = doc_slice(inc, doc)
        full_passages, full_vectors = doc_slice(full, doc)
        assert inc_passages == full_passages
        assert inc_vectors.shape == full_vectors.shape and np.array_equal(inc_vectors, full_vectors), doc
        assert inc.documents[doc] == full.documents[doc]
    assert [p.doc for p in inc.passages] == [p.doc for p in full.passages]
    assert np.array_equal(inc.owners(), full.owners())
    assert inc.manifest["documents"] == full.manifest["documents"]
    for kind, tokenizer in TOKENIZERS.items():  # reused term counts are what a recount gives
        recount = TermCounts.of([p.context for p in full.passages], tokenizer)
        assert term_rows(inc.lexicon()[kind]) == term_rows(full.lexicon()[kind]) == term_rows(recount), kind


def term_rows(tc: TermCounts) -> list[dict[str, int]]:
    c = tc.counts
    return [{tc.terms[j]: int(n) for j, n in zip(c.indices[a:b], c.data[a:b])}
            for a, b in zip(c.indptr[:-1], c.indptr[1:])]


def test_versions_without_current_term_counts_recount_them(tmp_path, e5):
    """A version written before term counts were stored, or counted by other tokenizers, is served
    exactly as one with current counts."""
    from assistant.retrieval import Retriever
    from index.store import write_index

    root = tmp_path / "idx"
    ingest([write_docs(tmp_path / "docs", DOCS)], root, embedder=e5, progress=False)
    data = load_index(root)
    manifest = {k: v for k, v in data.manifest.items() if k not in ("lexical", "files", "format_version", "version")}
    parts = (data.vectors(), data.owners(), data.passages, list(data.documents.values()))
    write_index(tmp_path / "old", manifest, *parts)
    write_index(tmp_path / "stale", {**manifest, "lexical": {"stamp": "other tokenizers"}}, *parts, data.lexicon())
    old, stale = load_index(tmp_path / "old"), load_index(tmp_path / "stale")
    assert data.lexicon() is not None and old.lexicon() is None and stale.lexicon() is None
    assert not (old.path / "lexical.npz").exists() and (stale.path / "lexical.npz").exists()

    def ranked(d, q):
        return [(h.passage.id, round(h.score, 6)) for h in Retriever(d, e5).retrieve(q, k=4)]

    for q in ("信访事项多长时间办结?", "群众情绪激动怎么办", "网上信访查询码"):
        assert ranked(data, q) == ranked(old, q) == ranked(stale, q)


def test_unchanged_corpus_writes_nothing_and_is_fast(tmp_path, counting):
    corpus, root = write_docs(tmp_path / "docs", {k: DOCS[k] for k in ("a.txt", "c.txt")}), tmp_path / "idx"
    first = ingest([corpus], root, embedder=counting, progress=False)
    before = snapshot(root)
    counting.texts.clear()
    t0 = time.perf_counter()
    again = ingest([corpus], root, embedder=counting, progress=False)
    assert time.perf_counter() - t0 < 1.0
    assert counting.texts == [] and not again.written and again.embedded == 0
    assert (again.version, again.documents, again.passages) == (first.version, first.documents, first.passages)
    assert sorted(again.unchanged) == ["a.txt", "c.txt"] and not (again.added or again.changed or again.removed)
    assert "nothing written" in again.summary()
    assert snapshot(root) == before

    proc = run_main(tmp_path, "ingest", str(corpus), "--index", str(root), "--json")
    out = json.loads(proc.stdout)
    assert proc.returncode == 0 and out["written"] is False and out["seconds"] < 1.0
    assert snapshot(root) == before

    full = ingest([corpus], root, embedder=counting, progress=False, full=True)
    assert full.written and full.full and full.embedded == first.embedded
    assert sorted(full.unchanged) == ["a.txt", "c.txt"] and "rebuilt every document" in full.summary()


def test_changed_settings_or_embedder_rebuild_everything(tmp_path, demo):
    counting = CountingEmbedder(demo)
    corpus, root = write_docs(tmp_path / "docs", {"a.txt": DOCS["a.txt"]}), tmp_path / "idx"
    ingest([corpus], root, embedder=counting, progress=False)
    before = units_of(load_index(root), "a.txt")
    counting.texts.clear()
    report = ingest([corpus], root, embedder=counting, settings=Settings(max_chars=60), progress=False)
    after = units_of(load_index(root), "a.txt")
    # Rebuilt in full; a unit whose text came out the same keeps its vector (same embedder and rules).
    assert report.written and report.full and report.embedded == len(set(after) - set(before))
    assert report.reused == len(after) - report.embedded > 0
    assert load_index(root).manifest["settings"]["max_chars"] == 60
    # A size limit is not a passage-shaping choice: it changes nothing.
    assert not ingest([corpus], root, embedder=counting, progress=False,
                      settings=Settings(max_chars=60, max_file_bytes=1 << 20)).written


def test_unreadable_changed_file_keeps_its_indexed_version(tmp_path, demo):
    corpus, root = write_docs(tmp_path / "docs", {k: DOCS[k] for k in ("a.txt", "c.txt")}), tmp_path / "idx"
    first = ingest([corpus], root, embedder=demo, progress=False)
    (corpus / "a.txt").write_bytes(b"")  # truncated to nothing by a failed copy
    report = ingest([corpus], root, embedder=demo, progress=False)
    skipped = [(Path(s.path).name, s.reason) for s in report.skipped]
    assert skipped == [("a.txt", "empty file; kept the indexed version")]
    assert not report.written and report.version == first.version and sorted(report.unchanged) == ["a.txt", "c.txt"]
    assert "a.txt" in load_index(root).documents
    (corpus / "a.txt").unlink()  # deleting the file is what removes a document
    report = ingest([corpus], root, embedder=demo, progress=False)
    assert report.removed == ["a.txt"] and report.written and list(load_index(root).documents) == ["c.txt"]


def test_a_named_folder_with_nothing_in_it_removes_nothing_without_prune(tmp_path, e5):
    """A share that is not mounted, or a folder emptied by mistake, looks like every document
    deleted: without --prune its documents stay indexed and the run says which folder is empty
    (it removed them all, exit 0). Other folders' changes still land; --prune removes them."""
    laws, pages = write_docs(tmp_path / "laws", {"law.txt": DOCS["b.txt"]}), write_docs(tmp_path / "pages", DOCS)
    root = tmp_path / "idx"
    ingest([laws, pages], root, embedder=e5, progress=False)
    for f in list(pages.iterdir()):
        f.rename(tmp_path / f.name)
    (pages / "notes.xyz").write_text("not a document")  # what is left there is no file to index
    (laws / "d.txt").write_text(D_NEW, encoding="utf-8")
    out = run_main(tmp_path, "ingest", str(laws), str(pages), "--index", str(root), "--json", "-q")
    report = json.loads(out.stdout)
    assert report["removed"] == [] and report["empty_folders"] == [str(pages.resolve())], report
    assert report["added"] == ["d.txt"] and report["documents"] == 5
    assert f"warning: {pages.resolve()} holds no file to index now" in out.stderr and "--prune removes them" in out.stderr
    again = ingest([laws, pages], root, embedder=e5, progress=False)  # the same run again: the same
    assert again.removed == [] and again.empty_folders == [str(pages.resolve())] and not again.written
    pruned = ingest([laws, pages], root, embedder=e5, progress=False, prune=True)
    assert sorted(pruned.removed) == sorted(DOCS) and pruned.empty_folders == []
    assert sorted(load_index(root).documents) == ["d.txt", "law.txt"]


def test_a_rebuild_names_the_documents_it_revised(tmp_path, counting, monkeypatch):
    """After an upgrade (a new pipeline) every file is unchanged, yet the new release may read
    some documents otherwise (here: an issuer it now finds in c.txt): those are listed as
    revised, so the admin sees what the upgrade changed (all were "unchanged", nothing else)."""
    import dataclasses

    import ingest.build as build
    import ingest.pipeline as pipeline

    corpus, root = write_docs(tmp_path / "docs", DOCS), tmp_path / "idx"
    ingest([corpus], root, embedder=counting, progress=False)
    monkeypatch.setattr(build, "PIPELINE_VERSION", build.PIPELINE_VERSION + 1)
    read = pipeline.read_metadata

    def newer(original, cleaned):
        meta = read(original, cleaned)
        return dataclasses.replace(meta, issuer="某县信访局") if "矛盾纠纷" in cleaned else meta

    monkeypatch.setattr(pipeline, "read_metadata", newer)
    due = run_main(tmp_path, "status", "--index", str(root))  # status says an upgrade's re-read is due
    assert f"older than this release's {build.PIPELINE_VERSION}: `qunzhong ingest`" in due.stdout, due.stdout
    report = ingest([corpus], root, embedder=counting, progress=False)
    assert not json.loads(run_main(tmp_path, "status", "--json", "--index", str(root)).stdout)["reindex_due"]
    assert report.full and sorted(report.unchanged) == sorted(DOCS) and report.revised == ["c.txt"]
    assert "1 of the unchanged revised by the rebuild" in report.summary()
    assert ingest([corpus], root, embedder=counting, progress=False).revised == []  # up to date: nothing
