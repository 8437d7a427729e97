"""How ingest embeds: each distinct text once per run, the same vectors as embedding the units
directly, the pooled-path option, progress that names documents, passages and units, and the
official-documents benchmark section."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from index.embedders import Memo
from index.settings import Settings
from index.store import load_index
from ingest.build import POOLED_PATH, ingest
from ingest.pipeline import match_units

DOCS = {
    "a.txt": "接待工作规范\n\n第一章 总则\n\n接待来访群众时要热情耐心，认真倾听群众诉求，做好登记。"
             "对情绪激动的群众，要先稳定情绪，再了解情况，不能与群众争吵。\n\n"
             "第二章 办理\n\n信访事项应当自受理之日起六十日内办结。情况复杂的，经批准可以适当延长办理期限。\n",
    "b.txt": "矛盾纠纷排查\n\n基层组织应当定期排查矛盾纠纷，做到早发现、早报告、早化解。"
             "接待来访群众时要热情耐心，认真倾听群众诉求，做好登记。\n",
}


class Recording:
    """An embedder that records what it is asked to embed and delegates to the real one."""

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.batches: list[list[str]] = []

    def embed_passages(self, texts):
        self.batches.append(list(texts))
        return self.inner.embed_passages(texts)

    def embed_queries(self, texts):
        return self.inner.embed_queries(texts)


def _write(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_memo_embeds_each_text_once_with_the_same_vectors(e5):
    rec = Recording(e5)
    memo = Memo(rec)
    texts = ["群众来访要热情接待。", "信访事项六十日内办结。", "群众来访要热情接待。"]
    first = memo.embed_passages(texts)
    again = memo.embed_passages(["信访事项六十日内办结。", "办理期限可以延长三十日。"])
    assert rec.batches == [texts[:2], ["办理期限可以延长三十日。"]]
    assert (memo.embedded, memo.hits) == (3, 2)
    direct = e5.embed_passages(texts + ["办理期限可以延长三十日。"])
    np.testing.assert_allclose(first, direct[:3], atol=1e-6)
    np.testing.assert_allclose(again, direct[[1, 3]], atol=1e-6)
    assert memo.embed_passages([]).shape == (0, e5.dim)


def test_memo_forgets_the_oldest_texts_beyond_its_bound(e5):
    rec = Recording(e5)
    memo = Memo(rec, keep=2)
    texts = ["第一句话在这里。", "第二句话在这里。", "第三句话在这里。"]
    got = memo.embed_passages(texts)  # a batch larger than the bound still comes back whole
    np.testing.assert_allclose(got, e5.embed_passages(texts), atol=1e-6)
    memo.embed_passages([texts[2], texts[0]])
    assert rec.batches == [texts, [texts[0]]]  # the third was kept, the first forgotten


@pytest.mark.slow
def test_ingest_vectors_are_those_of_the_units_embedded_directly(tmp_path, e5):
    rec = Recording(e5)
    report = ingest([_write(tmp_path / "docs")], tmp_path / "idx", embedder=rec, progress=False)
    data = load_index(tmp_path / "idx")
    units = [u for p in data.passages for u in match_units(p)]
    sent = [t for batch in rec.batches for t in batch]
    assert len(sent) == len(set(sent))  # the cleaner's lines, the units, both documents: each text once
    assert report.embedded == len(units) and set(units) <= set(sent)
    np.testing.assert_allclose(np.asarray(data.vectors()), e5.embed_passages(units), atol=1e-5)


@pytest.mark.slow
def test_pooled_path_embeds_each_path_once_and_combines(tmp_path, e5):
    rec = Recording(e5)
    ingest([_write(tmp_path / "docs")], tmp_path / "idx", embedder=rec, progress=False,
           settings=Settings(units=POOLED_PATH))
    data = load_index(tmp_path / "idx")
    sent = [t for batch in rec.batches for t in batch]
    assert not any("\n" in t for t in sent)  # no unit text is embedded joined with its path
    vectors, row = np.asarray(data.vectors()), 0
    assert any(p.section for p in data.passages)
    for p in data.passages:
        path = p.section.replace(" / ", " ")
        for unit in match_units(p):
            body = unit[len(path) + 1:] if path else unit
            want = e5.embed_passages([body])[0]
            if path:
                want = len(path) * e5.embed_passages([path])[0] + len(body) * want
            np.testing.assert_allclose(vectors[row], want / np.linalg.norm(want), atol=1e-5)
            row += 1
    assert row == len(vectors)
    assert Settings().ingest_key() != Settings(units=POOLED_PATH).ingest_key()


@pytest.mark.slow
def test_progress_names_documents_passages_and_units(tmp_path, e5, capsys):
    report = ingest([_write(tmp_path / "docs")], tmp_path / "idx", embedder=e5, progress=True)
    err = capsys.readouterr().err
    # while b.txt is processed: one document done, its passages and units counted, time left
    assert re.search(r"indexing 1/2 documents \|.*\| [\d:]+<[\d:]+ left, [1-9]\d* passages, [1-9]\d* units; b\.txt",
                     err), err
    assert report.passages > 0


def test_official_section_compares_both_pipelines_on_the_same_files(tmp_path, e5, monkeypatch):
    import benchmarks.official as official

    folder = _write(tmp_path / "docs")
    monkeypatch.setattr(official, "sets", lambda shelf: {"small": [folder]})
    out = official.official_section(tmp_path / "work", e5, reps=2)["small"]
    assert out["files"] == 2 and len(out["ours_s"]) == len(out["tutorial_s"]) == 2
    assert out["ratio"] == pytest.approx(np.median(out["ours_s"]) / np.median(out["tutorial_s"]), rel=1e-2)
    assert out["tutorial_work"]["texts"] == out["tutorial_work"]["passages"] > 0
    assert out["ours_work"]["tokens"] > out["ours_work"]["texts"] > 0
    assert len(out["ours_cpu_s"]) == 2 and out["cpu_ratio"] > 0
