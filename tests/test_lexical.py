"""The term-count matrix and BM25 against plain dense arithmetic (no index, no embedder)."""
from __future__ import annotations

import math

import numpy as np

from index.lexical import BM25, TermCounts, bigram_tokenize

TEXTS = ["接待来访群众要热情耐心", "", "信访事项六十日内办结，群众满意", "群众 群众 群众", "耐心倾听群众诉求"]


def dense(tc: TermCounts) -> np.ndarray:
    out = np.zeros(tc.counts.shape, dtype=np.int64)
    for i in range(tc.counts.shape[0]):
        a, b = tc.counts.indptr[i], tc.counts.indptr[i + 1]
        out[i, tc.counts.indices[a:b]] = tc.counts.data[a:b]
    return out


def test_rows_are_taken_in_any_order_with_repeats_and_empty_rows():
    tc = TermCounts.of(TEXTS, bigram_tokenize)
    full = dense(tc)
    assert full.sum() > 0 and (full[1] == 0).all()
    for ids in ([4, 0, 2], [1, 1, 3], [], [3, 2, 1, 0, 4]):
        assert np.array_equal(dense(tc.rows(ids)), full[ids].reshape(len(ids), full.shape[1]))


def test_stacked_parts_count_like_the_whole():
    whole = TermCounts.of(TEXTS, bigram_tokenize)
    parts = TermCounts.stack([TermCounts.of(TEXTS[:2], bigram_tokenize), TermCounts.of(TEXTS[2:], bigram_tokenize)])

    def by_term(tc):
        m = dense(tc)
        return [{t: int(n) for t, n in zip(tc.terms.tolist(), row) if n} for row in m]
    assert by_term(parts) == by_term(whole)


def test_bm25_scores_are_the_formula():
    k1, b = 1.2, 0.75
    bm = BM25(TEXTS, k1=k1, b=b, tokenizer=bigram_tokenize)
    docs = [bigram_tokenize(t) for t in TEXTS]
    avg = sum(map(len, docs)) / len(docs)
    query = "群众耐心"
    expected = []
    for d in docs:
        s = 0.0
        for term in dict.fromkeys(bigram_tokenize(query)):
            df = sum(term in x for x in docs)
            tf = d.count(term)
            if df and tf:
                idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
                s += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(d) / avg))
        expected.append(s)
    assert max(expected) > 0
    np.testing.assert_allclose(bm.scores(query), expected, rtol=1e-5)
    assert not bm.scores("完全无关的内容").any() and BM25([], tokenizer=bigram_tokenize).scores(query).shape == (0,)


def test_the_character_side_counts_single_han_characters_without_function_ones():
    from index.lexical import character_tokenize

    assert character_tokenize("依法拘押的人员，ID卡 and 12") == ["依", "法", "拘", "押", "人", "员", "id", "卡", "12"]
    # Function characters (的, 是 ...) count nowhere; a word's morphemes count one by one.
    assert "的" not in character_tokenize("是他的") and character_tokenize("关押") == ["关", "押"]
