"""Word segmentation over the compact dictionary gives jieba's words, exactly, and the cache it
lives in is built once, shared, and optional."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from index.segment import cut_for_search, full_jieba

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = Path(__file__).parent / "resources"


def corpus_lines() -> list[str]:
    """Every line of the shipped corpus and the test documents, noise and all."""
    files = sorted((ROOT / "corpus").iterdir()) + sorted((RESOURCES / "ui").glob("*.txt"))
    return [line for f in files for line in f.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]


def long_word_sentences() -> list[str]:
    """Sentences around the rare dictionary words longer than 8 characters."""
    long_words = sorted(w for w, f in full_jieba().FREQ.items() if f and len(w) > 8)[:: 40]
    assert long_words
    return [f"我们学习了{w}的内容。" for w in long_words] + ["".join(long_words[:5])]


ODD = ["", " ", "\x00", "a\x00b 上访 ab\x00", "𠀀𠀁 emoji 😀 上访群众", "How do I handle an emotionally agitated petitioner?",
       "缠访闹访" * 50, "3、部作风\n\n第 1 页,共 7 页", "ＡＢＣ１２３", "\ud7ff\ue000",
       "C++与.NET开发的100%群众工作\r\n第2页", "abc上访def123 456 x", "\r\n\t  \u3000上访"]


def test_same_words_as_jieba_over_the_corpus_questions_and_odd_text():
    reference = full_jieba()
    texts = corpus_lines() + long_word_sentences() + ODD
    assert sum(map(len, texts)) > 30_000  # the whole corpus
    differ = [t for t in texts if cut_for_search(t.lower()) != reference.lcut_for_search(t.lower(), HMM=False)]
    assert differ == []


def segment_in_child(cache: Path) -> subprocess.CompletedProcess:
    code = "from index.segment import cut_for_search; print('/'.join(cut_for_search('遇到情绪激动的上访群众怎么接待')))"
    env = {**os.environ, "QUNZHONG_CACHE": str(cache), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)


def test_the_cache_is_built_once_and_a_missing_one_falls_back_to_jieba(tmp_path):
    expected = "/".join(full_jieba().lcut_for_search("遇到情绪激动的上访群众怎么接待", HMM=False))
    cache = tmp_path / "cache"
    first = segment_in_child(cache)
    built = list(cache.glob("jieba-*.npz"))
    assert first.returncode == 0 and first.stdout.strip() == expected and len(built) == 1
    stamp = built[0].stat().st_mtime_ns
    (cache / "jieba-0000000000000000.npz").write_bytes(b"from another jieba")
    again = segment_in_child(cache)
    assert again.stdout.strip() == expected and built[0].stat().st_mtime_ns == stamp  # read, not rebuilt

    built[0].write_bytes(b"PK\x03\x04 damaged")  # a damaged cache is rebuilt, stale ones go
    assert segment_in_child(cache).stdout.strip() == expected and built[0].stat().st_size > 1_000_000
    assert list(cache.glob("jieba-*.npz")) == built

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    fallback = segment_in_child(blocker / "cache")  # cannot be created: jieba's own dictionary
    assert fallback.returncode == 0 and fallback.stdout.strip() == expected
    assert "cannot cache jieba's dictionary" in fallback.stderr


def test_jieba_patterns_and_version_are_jiebas_own():
    """The segmenter copies jieba's block patterns and reads its version without importing it."""
    import jieba

    from index import segment

    for ours, theirs in ((segment._BLOCK, jieba.re_han_default), (segment._SKIP, jieba.re_skip_default),
                         (segment._LATIN, jieba.re_eng)):
        assert (ours.pattern, ours.flags) == (theirs.pattern, theirs.flags)
    assert segment.jieba_version() == jieba.__version__


def test_a_search_process_never_imports_jieba_or_faiss(corpus_index):
    """jieba (27 ms, 9 MB) and faiss (40 ms, 20 MB) stay out of `qunzhong search` on an index
    small enough to scan exactly; the hits are still there."""
    code = ("import sys; from assistant.cli import main; main(['search', '上访群众', '--json', '--index', sys.argv[1]]);"
            "print(sorted(m for m in ('jieba', 'faiss') if m in sys.modules), file=sys.stderr)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code, str(corpus_index)], capture_output=True, text=True, env=env,
                         timeout=120, cwd=ROOT)
    assert out.returncode == 0 and out.stderr.strip().splitlines()[-1] == "[]", out.stderr
    assert len(json.loads(out.stdout)) == 5
