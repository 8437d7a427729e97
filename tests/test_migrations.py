"""One index schema version, older schemas brought forward by numbered migrations (in memory)."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.cli import main
from assistant.retrieval import Retriever
from conftest import copy_built
from index.errors import IndexMismatchError
from index.migrations import MIGRATIONS, SCHEMA_VERSION
from index.store import load_index
from index.units import UNITS_VERSION
from ingest.build import ingest

DOCS = {
    "a.txt": "第一章 接待\n\n接待来访群众要热情耐心，认真倾听群众反映的问题，做好登记。\n\n"
             "对情绪激动的来访人员，要先稳定情绪，再了解诉求，不得推诿。\n",
    "b.txt": "第二章 办理\n\n信访事项应当在六十日内办结，并书面答复信访人。\n\n"
             "复查复核的期限和程序按照信访工作条例执行。\n",
}
QUESTIONS = ("来访群众情绪激动怎么办", "信访事项多长时间办结")


@pytest.fixture(scope="module")
def built(tmp_path_factory, demo) -> Path:
    tmp = tmp_path_factory.mktemp("migrations")
    (tmp / "docs").mkdir()
    for name, text in DOCS.items():
        (tmp / "docs" / name).write_text(text, encoding="utf-8")
    ingest([tmp / "docs"], tmp / "idx", embedder=demo, progress=False)
    return tmp


@pytest.fixture
def idx(built, tmp_path) -> Path:
    return copy_built(built, tmp_path)


def manifest_path(idx: Path) -> Path:
    return idx / "versions" / json.loads((idx / "CURRENT").read_text())["version"] / "manifest.json"


def rewrite(idx: Path, edit) -> dict:
    """Edit the current manifest on disk as an older (or newer) program would have written it,
    and re-point CURRENT at its checksum, so only the schema differs."""
    path = manifest_path(idx)
    manifest = edit(json.loads(path.read_text(encoding="utf-8")))
    text = json.dumps(manifest, ensure_ascii=False, indent=1)
    path.write_text(text, encoding="utf-8")
    pointer = json.loads((idx / "CURRENT").read_text())
    (idx / "CURRENT").write_text(json.dumps({**pointer, "manifest_sha256": hashlib.sha256(text.encode()).hexdigest()}))
    return manifest


def as_schema_1(manifest: dict, keep_lexicon: bool = True) -> dict:
    old = {k: v for k, v in manifest.items() if k not in ("schema_version", "units_version", "pipeline")}
    if not keep_lexicon:
        old["files"] = {k: v for k, v in old["files"].items() if k != "lexical.npz"}
        old.pop("lexical")
    return {**old, "format_version": 1}


def ranked(data, demo):
    r = Retriever(data, demo)
    return [[(h.passage.id, round(h.score, 6)) for h in r.retrieve(q, k=3)] for q in QUESTIONS]


def test_an_index_written_now_is_in_the_current_schema(idx):
    on_disk = json.loads(manifest_path(idx).read_text(encoding="utf-8"))
    assert on_disk["schema_version"] == SCHEMA_VERSION == len(MIGRATIONS)
    assert on_disk["units_version"] == UNITS_VERSION and len(on_disk["pipeline"]) == 16
    assert "format_version" not in on_disk
    assert load_index(idx).manifest == on_disk  # nothing to migrate


@pytest.fixture
def idx1(built, tmp_path, demo, monkeypatch) -> Path:
    """An index written while the unit rules were at version 1, as when schema 1 was current:
    the schema migrations on their own, apart from a later change of what is embedded (below)."""
    import index.migrations
    import index.units

    monkeypatch.setattr(index.migrations, "UNITS_VERSION", 1)
    monkeypatch.setattr(index.units, "UNITS_VERSION", 1)
    monkeypatch.setattr(index.units, "RULES", {1: index.units.match_units})
    shutil.copytree(built / "docs", tmp_path / "docs")
    ingest([tmp_path / "docs"], tmp_path / "idx", embedder=demo, progress=False)
    return tmp_path / "idx"


def test_a_schema_1_index_embedded_under_older_unit_rules_is_refused_then_rebuilt(idx, demo):
    rewrite(idx, as_schema_1)
    with pytest.raises(IndexMismatchError, match="unit rules 1"):
        load_index(idx)
    report = ingest([idx.parent / "docs"], idx, embedder=demo, progress=False)
    assert report.written and load_index(idx).manifest["units_version"] == UNITS_VERSION


def test_schema_1_without_term_counts_is_migrated_in_memory(idx1, demo):
    before = ranked(load_index(idx1), demo)
    rewrite(idx1, lambda m: as_schema_1(m, keep_lexicon=False))
    (manifest_path(idx1).parent / "lexical.npz").unlink()
    raw = manifest_path(idx1).read_bytes()
    data = load_index(idx1)
    assert data.manifest["schema_version"] == SCHEMA_VERSION and data.manifest["units_version"] == 1
    assert data.manifest["lexical"]["stamp"] is None and data.manifest["pipeline"] is None
    assert data.lexicon() is None and ranked(data, demo) == before  # counted at load, served the same
    assert manifest_path(idx1).read_bytes() == raw  # the published version is not rewritten


def test_schema_1_with_current_term_counts_gets_the_fingerprint_written_now(idx1, demo):
    current = json.loads(manifest_path(idx1).read_text(encoding="utf-8"))
    rewrite(idx1, as_schema_1)
    data = load_index(idx1)
    assert data.manifest["pipeline"] == current["pipeline"] and data.lexicon() is not None
    assert data.manifest == current  # migrated to exactly what the current code writes


def test_the_next_ingest_that_writes_writes_the_current_schema(idx1, demo):
    rewrite(idx1, lambda m: as_schema_1(m, keep_lexicon=False))
    assert not ingest([idx1.parent / "docs"], idx1, embedder=demo, progress=False).written  # nothing changed
    with open(idx1.parent / "docs" / "b.txt", "a", encoding="utf-8") as f:
        f.write("\n办结后信访人不服的，可以请求复查。\n")
    report = ingest([idx1.parent / "docs"], idx1, embedder=demo, progress=False)
    on_disk = json.loads(manifest_path(idx1).read_text(encoding="utf-8"))
    assert report.written and on_disk["schema_version"] == SCHEMA_VERSION and "lexical.npz" in on_disk["files"]
    assert not report.full and report.unchanged == ["a.txt"]  # the migrated version's vectors are reused


@pytest.mark.parametrize("edit, words", [
    (lambda m: {**m, "schema_version": SCHEMA_VERSION + 1}, f"has schema {SCHEMA_VERSION + 1}, this version reads up"),
    (lambda m: {**as_schema_1(m), "format_version": 2}, "has format 2, which no migration reads"),
    (lambda m: {**m, "units_version": UNITS_VERSION + 1}, "embedded under unit rules"),
])
def test_what_no_migration_serves_is_refused_with_the_fix(idx, capsys, edit, words):
    rewrite(idx, edit)
    with pytest.raises(IndexMismatchError, match=words):
        load_index(idx)
    assert main(["status", "--index", str(idx)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err and f"qunzhong ingest --full --index {idx}" in err


def test_an_index_under_other_unit_rules_is_rebuilt_by_the_next_ingest(idx, demo):
    rewrite(idx, lambda m: {**m, "units_version": UNITS_VERSION + 1})
    report = ingest([idx.parent / "docs"], idx, embedder=demo, progress=False)
    assert report.full and report.embedded > 0
    assert load_index(idx).manifest["units_version"] == UNITS_VERSION


LAW = ("示例市信访接待办法\n\n第一条 为了规范信访接待工作，制定本办法。\n\n第二条 接待来访群众应当热情耐心，认真倾听。\n\n"
       "第三条 信访事项应当在六十日内办结。\n\n第四条 本办法自发布之日起施行。\n")


def test_new_unit_rules_reembed_only_the_units_whose_text_changed(tmp_path, demo, monkeypatch):
    """Unit rules 3 lead an article of a law in any format with the law's name (rules 2 did so
    only for Markdown). An index embedded under rules 2 is rebuilt by the next ingest, which
    embeds the articles' units again and keeps the vectors of every unit that reads the same."""
    import index.migrations
    import index.units

    (tmp_path / "docs").mkdir()
    for name, text in {**DOCS, "law.txt": LAW}.items():
        (tmp_path / "docs" / name).write_text(text, encoding="utf-8")
    idx = tmp_path / "idx"
    with monkeypatch.context() as old:  # the release before: rules 2
        old.setattr(index.migrations, "UNITS_VERSION", 2)
        old.setattr(index.units, "UNITS_VERSION", 2)
        old.setattr(index.units, "match_units", index.units.RULES[2])
        old.setattr(index.units, "RULES", {2: index.units.RULES[2]})
        ingest([tmp_path / "docs"], idx, embedder=demo, progress=False)
    assert json.loads(manifest_path(idx).read_text(encoding="utf-8"))["units_version"] == 2
    with pytest.raises(IndexMismatchError, match="unit rules 2"):
        load_index(idx)  # not served under other rules
    report = ingest([tmp_path / "docs"], idx, embedder=demo, progress=False)
    data = load_index(idx)
    articles = [u for p in data.passages if p.doc == "law.txt" and p.section for u in index.units.match_units(p)]
    assert articles and all(u.startswith("示例市信访接待办法 第") for u in articles)
    assert report.written and data.manifest["units_version"] == UNITS_VERSION
    assert report.embedded == len(articles) and report.reused > 0
    every = [u for p in data.passages for u in index.units.match_units(p)]
    np.testing.assert_allclose(np.asarray(data.vectors()), demo.embed_passages(every), atol=1e-6)
