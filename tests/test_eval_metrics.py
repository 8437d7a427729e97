"""The eval metrics, exactly as shared/eval/README.md defines them, on hand-made cases."""
from __future__ import annotations

import pytest

from assistant.evaluation import Question, evaluate, score_question

A = "甲" * 40 + "群众路线是党的根本工作路线"
B = "乙" * 50
DUP = "甲" * 40 + "另外一句"   # shares a 30-char window with A
JUNK = "欢迎下载" + "丙" * 20


def test_first_hit_rank_chars_junk_and_dups():
    row = score_question([B, A, DUP, JUNK], ["群众路线是党的根本工作路线"], ["欢迎下载"])
    assert row["hit@1"] is False and row["hit@3"] is True and row["rr"] == 0.5
    assert row["chars"] == 50 + len("甲" * 40 + "群众路线是党的根本工作路线")
    assert row["junk"] == 1 and row["dup"] == 1 and row["top5"] == 4


def test_normalisation_ignores_punctuation_and_width():
    row = score_question(["群众 路线,是党的根本工作路线。"], ["群众路线是党的根本工作路线"], [])
    assert row["hit@1"]
    row = score_question(["ＡＢＣ１２３"], ["abc123".upper()], [])
    assert row["hit@1"]


def test_a_miss_reads_all_ten():
    texts = [f"{i}" * 10 for i in range(12)]
    row = score_question(texts, ["不存在"], [])
    assert row["rr"] == 0 and not row["hit@5"] and row["chars"] == 100


def test_evaluate_aggregates_and_lists_misses():
    qs = [Question("q1", "问", ("群众路线",)), Question("q2", "问", ("不存在",)),
          Question("q3", "follow", ("乙乙乙",), history=("earlier",))]
    seen = []

    def search(q, history, k):
        seen.append((q, tuple(history), k))
        return [A, B]

    rep = evaluate("tiny", qs, search, k=10)
    assert rep.n == 3 and rep.missed == ["q2"]
    assert rep.metrics["hit@1"] == pytest.approx(1 / 3, abs=1e-4)
    assert rep.metrics["hit@5"] == pytest.approx(2 / 3, abs=1e-4)
    assert rep.metrics["mrr@10"] == pytest.approx((1 + 0 + 0.5) / 3, abs=1e-4)
    assert seen[2] == ("follow", ("earlier",), 10)
