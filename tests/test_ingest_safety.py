"""An ingest never removes documents it was not asked about: a folder it cannot list is a skipped
input (its documents stay, --strict fails), and a run over other paths than the index's sources
adds and updates only (--prune or --full removes). Real e5 embedder, real files, real CLI."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import run_main
from index.store import load_index
from ingest.build import StrictModeError, ingest

pytestmark = pytest.mark.slow

TEXTS = {
    "policy/a.txt": "接待来访群众的基本要求\n\n接待来访群众时要热情耐心,认真倾听群众诉求,做好登记。\n",
    "policy/b.txt": "信访事项的办理时限\n\n信访事项应当自受理之日起六十日内办结,情况复杂的可以适当延长。\n",
    "cases/c.txt": "矛盾纠纷排查化解\n\n基层组织应当定期排查矛盾纠纷,做到早发现、早报告、早化解。\n",
    "cases/d.txt": "网上信访渠道\n\n群众可以通过网上信访平台提交诉求,凭查询码查询办理进度和结果。\n",
}
EXTRA = "群众来信的登记\n\n群众来信应当在收到之日起登记,写明来信人、事由和转办单位。\n"


def write_corpus(folder: Path) -> Path:
    for name, text in TEXTS.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def make_unreadable(folder: Path, monkeypatch) -> None:
    """chmod 000; as root that does not stop a listing, so the OS error is raised for it."""
    folder.chmod(0)
    if os.geteuid() == 0:
        real = os.scandir

        def scandir(path="."):
            if Path(path).resolve() == folder.resolve():
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)

        monkeypatch.setattr(os, "scandir", scandir)


def test_unreadable_folder_is_skipped_and_its_documents_stay(tmp_path, e5, monkeypatch):
    corpus, root = write_corpus(tmp_path / "docs"), tmp_path / "idx"
    first = ingest([corpus], root, embedder=e5, progress=False)
    make_unreadable(corpus / "cases", monkeypatch)
    try:
        report = ingest([corpus], root, embedder=e5, progress=False)
        assert report.removed == [] and sorted(load_index(root).documents) == sorted(TEXTS)
        assert [Path(s.path).name for s in report.skipped] == ["cases"]
        assert "cannot list folder" in report.skipped[0].reason and report.version == first.version
        with pytest.raises(StrictModeError, match="cases"):
            ingest([corpus], root, embedder=e5, progress=False, strict=True)
        (corpus / "policy" / "a.txt").unlink()  # a real removal beside the unreadable folder
        report = ingest([corpus], root, embedder=e5, progress=False)
        assert report.removed == ["policy/a.txt"] and sorted(load_index(root).documents) == \
            ["cases/c.txt", "cases/d.txt", "policy/b.txt"]
    finally:
        (corpus / "cases").chmod(0o755)


def test_one_file_adds_and_only_prune_removes(tmp_path):
    corpus, idx = write_corpus(tmp_path / "docs"), str(tmp_path / "idx")
    assert run_main(tmp_path, "ingest", str(corpus), "--index", idx, "-q").returncode == 0
    (tmp_path / "extra.txt").write_text(EXTRA, encoding="utf-8")
    proc = run_main(tmp_path, "ingest", "extra.txt", "--index", idx, "-q", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["added"] == ["extra.txt"] and report["removed"] == [] and len(report["kept"]) == 4
    assert "kept 4 document(s) indexed from paths not named in this run (--prune removes them)" in proc.stderr
    assert len(load_index(Path(idx)).documents) == 5
    # Sources now cover both: the usual run over the folder removes only what left the folder.
    (corpus / "cases" / "d.txt").unlink()
    report = json.loads(run_main(tmp_path, "ingest", str(corpus), "--index", idx, "-q", "--json").stdout)
    assert report["removed"] == ["cases/d.txt"] and report["kept"] == ["extra.txt"]
    proc = run_main(tmp_path, "ingest", str(corpus), "--index", idx, "-q", "--json", "--prune")
    assert json.loads(proc.stdout)["removed"] == ["extra.txt"]
    assert sorted(load_index(Path(idx)).documents) == ["cases/c.txt", "policy/a.txt", "policy/b.txt"]


def test_many_removals_are_listed_before_they_happen(tmp_path):
    corpus, idx = write_corpus(tmp_path / "docs"), str(tmp_path / "idx")
    assert run_main(tmp_path, "ingest", str(corpus), "--index", idx, "-q").returncode == 0
    for name in TEXTS:
        if name != "policy/a.txt":
            (corpus / name).unlink()
    proc = run_main(tmp_path, "ingest", str(corpus), "--index", idx, "-q")
    assert proc.returncode == 0 and "removed 3" in proc.stdout
    # three are not "more than a few"; a fourth gone from a full rebuild elsewhere is listed
    write_corpus(corpus)
    run_main(tmp_path, "ingest", str(corpus), "--index", idx, "-q")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.txt").write_text(EXTRA, encoding="utf-8")
    proc = run_main(tmp_path, "ingest", str(tmp_path / "other"), "--index", idx, "-q", "--prune")
    assert "removing 4 documents not found under the paths named: cases/c.txt, cases/d.txt, policy/a.txt" in proc.stderr
    assert list(load_index(Path(idx)).documents) == ["x.txt"]


def test_a_file_is_one_document_whatever_paths_a_run_names(tmp_path, e5):
    """Ids come from the folder a run names, but a file the index holds keeps its id, and a new
    file named like an indexed one from a file still on disk gets an id of its own: running
    over a subfolder, a single file or a second folder never replaces another file's document."""
    work = tmp_path / "w"
    (work / "sub1").mkdir(parents=True)
    (work / "sub2").mkdir()
    (work / "sub1" / "制度.txt").write_text(TEXTS["policy/a.txt"], encoding="utf-8")
    (work / "sub2" / "制度.txt").write_text(TEXTS["cases/c.txt"], encoding="utf-8")
    root = tmp_path / "idx"
    ingest([work], root, embedder=e5, progress=False)
    both = sorted(load_index(root).documents)
    assert both == ["sub1/制度.txt", "sub2/制度.txt"]

    (work / "sub2" / "制度.txt").write_text(TEXTS["cases/c.txt"] + EXTRA, encoding="utf-8")
    for named in (work / "sub1", work / "sub2", work / "sub1" / "制度.txt"):
        report = ingest([named], root, embedder=e5, progress=False)
        assert report.removed == [] and report.added == [], named
        assert sorted(load_index(root).documents) == both, named
    assert report.unchanged == ["sub1/制度.txt"] and report.embedded == 0

    # Two more folders, each with a file of that name: all stay, each under an id of its own.
    for name, key in (("colB", "policy/b.txt"), ("colC", "cases/d.txt")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "制度.txt").write_text(TEXTS[key], encoding="utf-8")
    report = ingest([tmp_path / "colB"], root, embedder=e5, progress=False)
    assert report.added == ["制度.txt"] and report.changed == [] and report.removed == []
    report = ingest([tmp_path / "colC"], root, embedder=e5, progress=False)
    assert report.added == ["colC/制度.txt"] and report.changed == [] and report.removed == []
    data = load_index(root)
    assert sorted(data.documents) == ["colC/制度.txt", *both, "制度.txt"]
    texts = {p.doc: p.text for p in data.passages}
    assert "六十日内办结" in texts["制度.txt"] and "查询码" in texts["colC/制度.txt"]
    assert "热情耐心" in texts["sub1/制度.txt"]


def test_a_moved_file_is_not_embedded_again(tmp_path, e5):
    corpus, root = write_corpus(tmp_path / "docs"), tmp_path / "idx"
    first = ingest([corpus], root, embedder=e5, progress=False)
    (corpus / "archive").mkdir()
    (corpus / "cases" / "c.txt").rename(corpus / "archive" / "c.txt")
    report = ingest([corpus], root, embedder=e5, progress=False)
    assert report.added == ["archive/c.txt"] and report.removed == ["cases/c.txt"]
    assert report.embedded == 0 and report.reused > 0 and report.version != first.version
    assert load_index(root).documents["archive/c.txt"].source == str((corpus / "archive" / "c.txt").resolve())
