"""The long-lived Assistant: hot reload of a new index version, and a bad version never takes
down the one being served. Real embedder, real (tiny) indexes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.service import Assistant
from ingest.build import ingest

RESOURCES = Path(__file__).parent / "resources" / "ui"


@pytest.fixture()
def tiny_index(tmp_path, e5):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "接待规范.txt").write_text((RESOURCES / "接待规范.txt").read_text(encoding="utf-8"), encoding="utf-8")
    root = tmp_path / "index"
    ingest([docs], root, embedder=e5, progress=False)
    return docs, root


def test_new_version_is_served_on_the_next_question(tiny_index, e5):
    docs, root = tiny_index
    assistant = Assistant(root)
    first = assistant.retriever()
    (docs / "枫桥经验.txt").write_text((RESOURCES / "枫桥经验.txt").read_text(encoding="utf-8"), encoding="utf-8")
    ingest([docs], root, embedder=e5, progress=False)
    second = assistant.retriever()
    assert second is not first and second.data.version != first.data.version
    hits = assistant.retrieve("枫桥经验的核心是什么?", k=1)
    assert hits[0].passage.doc == "枫桥经验.txt"


def test_a_version_that_cannot_load_leaves_the_old_one_serving(tiny_index):
    _, root = tiny_index
    assistant = Assistant(root)
    old = assistant.retriever()
    (root / "CURRENT").write_text(json.dumps({"version": "v-missing", "manifest_sha256": "0"}), encoding="utf-8")
    assert assistant.retriever() is old
    assert assistant.ask("遇到情绪激动的上访群众应该怎么接待?").found


def test_questions_read_no_file_while_the_pointer_is_unchanged(tiny_index, e5):
    """The per-question check is a stat of CURRENT: a pointer rewritten in place with the same
    size and times is not re-read, while a publish (a new file moved over it) is."""
    import os

    docs, root = tiny_index
    pointer = root / "CURRENT"
    first = pointer.read_text(encoding="utf-8")
    (docs / "枫桥经验.txt").write_text((RESOURCES / "枫桥经验.txt").read_text(encoding="utf-8"), encoding="utf-8")
    ingest([docs], root, embedder=e5, progress=False)
    assistant = Assistant(root)
    second = assistant.retriever().data.version
    published = pointer.stat()
    assert len(first.encode()) == published.st_size  # version ids have one length
    with open(pointer, "r+", encoding="utf-8") as f:  # same inode, same size, same times
        f.write(first)
    os.utime(pointer, ns=(published.st_atime_ns, published.st_mtime_ns))
    assert assistant.retriever().data.version == second  # not read

    (root / "next").write_text(first, encoding="utf-8")
    os.replace(root / "next", pointer)
    assert assistant.retriever().data.version == json.loads(first)["version"] != second


def test_a_missing_index_is_a_clear_error(tmp_path):
    from index.errors import IndexMissingError

    with pytest.raises(IndexMissingError, match="qunzhong ingest"):
        Assistant(tmp_path / "nowhere").retriever()


def test_a_garbage_pointer_leaves_the_loaded_version_serving(tiny_index, caplog):
    _, root = tiny_index
    assistant = Assistant(root)
    old = assistant.retriever()
    (root / "CURRENT").write_bytes(b"\x00\xffgarbage{")
    with caplog.at_level("ERROR", logger="assistant.service"):
        assert assistant.retriever() is old
        assert assistant.ask("遇到情绪激动的上访群众应该怎么接待?").found
    assert sum("index pointer unreadable" in r.getMessage() for r in caplog.records) == 1  # logged once
