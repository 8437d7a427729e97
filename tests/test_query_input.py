"""Whatever a user types is trimmed or refused with a message, never a crash: through the
Assistant (what the web UI calls) and through the real CLI."""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from conftest import index_texts, run_cli
from index.errors import QueryError, QunzhongError

pytestmark = pytest.mark.slow

DOCS = {
    "a.txt": "接待来访群众的基本要求\n\n接待来访群众时要热情耐心，认真倾听群众诉求，做好登记。"
             "对情绪激动的群众，要先稳定情绪，再了解情况，不能与群众争吵。\n",
    "b.txt": "信访事项的办理时限\n\n信访事项应当自受理之日起六十日内办结。情况复杂的，经批准可以适当延长办理期限。\n",
}
REFUSED = {
    "empty": "", "spaces": " \t\r\n\u3000 ", "controls only": "\x00\x01\x1b\x7f",
    "zero-width only": "\u200b\u200d\ufeff", "emoji only": "😀😡🎉", "punctuation only": "?!。,……", "none": None,
}
ANSWERED = {
    "20,000 characters": "情绪激动的群众怎么接待" * 1820,
    "20,000 spaces around": " " * 10_000 + "怎么接待来访群众" + "\n" * 10_000,
    "control characters": "\x00\x07怎么\x1b[31m接待\x7f来访群众\u202e\x85",
    "emoji": "😡 情绪激动的群众 😭 怎么接待? 🙏",
    "mixed scripts": "信访 petition Ünïcödé ру́сский 한국어 العربية 信訪 接待群众",
    "combining marks": "接待群众" + "e\u0301" * 5000,
    "private use and noncharacters": "\ue000\uffff接待来访群众\U0010fffd",
    "tag characters": "接待群众\U000e0041\U000e007f",
}


@pytest.fixture(scope="module")
def index(tmp_path_factory, e5) -> Path:
    return index_texts(tmp_path_factory.mktemp("query"), DOCS, e5)


@pytest.fixture(scope="module")
def assistant(index):
    from assistant.service import Assistant

    return Assistant(index)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_unusable_queries_are_refused_with_a_message(assistant, name):
    for call in (lambda q: assistant.retrieve(q), lambda q: assistant.ask(q)):
        with pytest.raises(QueryError) as info:
            call(REFUSED[name])
        assert str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("name", sorted(ANSWERED))
def test_odd_queries_are_trimmed_and_answered(assistant, name):
    t0 = time.perf_counter()
    hits = assistant.retrieve(ANSWERED[name], k=2)
    assert hits and all(h.passage.doc in DOCS for h in hits)
    answer = assistant.ask(ANSWERED[name], history=[ANSWERED[name], "", None, "😀"])
    assert answer.text
    assert time.perf_counter() - t0 < 30


def test_lone_surrogates_are_dropped(assistant):
    assert assistant.retrieve("\udcff接待来访群众\ud800", k=1)


def test_a_query_that_is_not_text_is_refused(assistant):
    with pytest.raises(QunzhongError):
        assistant.retrieve(123)


def cli(tmp_path: Path, *args, **kwargs) -> subprocess.CompletedProcess:
    return run_cli(tmp_path, *args, timeout=300, text=False, **kwargs)


def test_cli_long_and_odd_queries(index, tmp_path):
    proc = cli(tmp_path, "search", ANSWERED["20,000 characters"], "--json", "--k", "2", "--index", str(index))
    assert proc.returncode == 0 and len(json.loads(proc.stdout)) == 2
    proc = cli(tmp_path, "ask", "😀🎉", "--index", str(index))
    assert proc.returncode == 1 and b"Traceback" not in proc.stderr
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")


def test_cli_undecodable_bytes(index, tmp_path):
    proc = cli(tmp_path, "search", b"\xff\xfe\xe6\x8e\xa5\xe5\xbe\x85", "--json", "--index", str(index))
    assert b"Traceback" not in proc.stderr


def test_cli_batch_with_odd_rows(index, tmp_path):
    batch = tmp_path / "batch.jsonl"
    rows = [{"id": 1, "q": "   "}, {"id": 2, "q": "😀"}, {"id": 3, "q": "接待群众" * 5000}, {"id": 4, "q": 42}]
    batch.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    proc = cli(tmp_path, "search", "--batch", str(batch), "--json", "--index", str(index))
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["id"] for r in out] == [1, 2, 3, 4] and out[2]["hits"] and "error" in out[3]
