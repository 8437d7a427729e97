"""The citation check's parts: splitting cited sentences, reading numbers and names, and the
check itself on real passages with the real embedder (an English sentence too)."""
from __future__ import annotations

import pytest

from assistant.check import claim_names, claim_numbers, cn_number, missing_facts, source_numbers, split_cited


def test_split_cited_attaches_markers_to_their_sentence():
    text = "接待时要保持冷静[1]。要耐心倾听。[2][3]\n1. 不打断、不争辩【1, 3】\n没有出处的一句。Stay calm [2]. Then listen."
    got = [(claim, cited) for _, claim, cited in split_cited(text)]
    assert got == [("接待时要保持冷静。", (1,)), ("要耐心倾听。", (2, 3)), ("不打断、不争辩", (1, 3)),
                   ("没有出处的一句。", ()), ("Stay calm.", (2,)), ("Then listen.", ())]


@pytest.mark.parametrize("run, value", [("十五", 15), ("一百二十五", 125), ("三十", 30), ("二〇二四", 2024),
                                        ("两", 2), ("十", 10), ("三万五千", 35000), ("一千零八", 1008)])
def test_chinese_numerals(run, value):
    assert cn_number(run) == value


def test_numbers_a_sentence_states():
    assert claim_numbers("每月15日前,分三个步骤办理,依据第五条;一定要一些耐心,老百姓十分满意") == {"15", "3", "5"}
    assert {"15", "3", "2"} <= source_numbers("每月十五日办理,共3个环节,两项要求")
    assert missing_facts("每月十五日接待", ["每月15日为接待日"]) == []
    assert missing_facts("每月16日接待", ["每月15日为接待日"]) == ["16"]


def test_names_a_sentence_relies_on():
    assert "王建国" in claim_names("王建国同志总结了这一做法。")
    assert "信访工作条例" in claim_names("依照《信访工作条例》办理。")
    assert missing_facts("依照《信访工作条例》办理", ["《信访工作条例》第十条"]) == []
    assert missing_facts("按照张三的说法办理", ["接待人员要保持冷静"]) == ["张三"]
    assert claim_names("接待人员要保持冷静,耐心倾听群众诉求。") == set()


def test_check_on_real_passages(llm_index):
    from assistant.answer import answer
    from assistant.check import check_answer
    from assistant.service import Assistant

    r = Assistant(llm_index).retriever()
    base = answer(r, "遇到情绪激动的上访群众应该怎么接待?")
    passage = base.citations[0].hit.passage
    assert "保持冷静" in passage.text
    text = ("接待人员首先要保持冷静,态度和蔼,请群众把话说完[1]。"
            "The staff should first stay calm and let the petitioner finish, as in “保持冷静” [1]. "
            "The staff should hold a press conference with the mayor [1]. "
            "接待人员应当组织群众去旅游观光,放松心情[1]。")
    checks = check_answer(r, text + text, base.citations)  # a model that loops: each sentence counted once
    assert [c.ok for c in checks] == [True, True, False, False], [(c.claim, c.dense, c.lexical) for c in checks]
    assert checks[0].supported_by == (1,) and checks[2].reason == checks[3].reason == "与所引段落不符"


def test_repeating_a_title_or_the_instructions_is_not_supported(llm_index):
    """The prompt puts "《title》 section" above each passage and its instructions above all: a
    model that copies either back has said nothing the passage says (a real run of Gemma 270M
    answered only "《…》 篇一 / 体会之二:要端正工作态度,热情接待群众[2]" and passed)."""
    from assistant.answer import answer
    from assistant.check import check_answer
    from assistant.generate import build_messages
    from assistant.service import Assistant

    r = Assistant(llm_index).retriever()
    base = answer(r, "遇到情绪激动的上访群众应该怎么接待?")
    p = base.citations[0].hit.passage
    told = build_messages(base.query, [], base.citations)[0]["content"]
    heading = f"《{p.title}》 {p.section}[1]" if p.section else f"《{p.title}》[1]"
    text = heading + "。只能依据用户给出的编号资料回答,不得使用资料以外的知识[1]。接待人员首先要保持冷静,态度和蔼,请群众把话说完[1]。"
    checks = check_answer(r, text, base.citations, told)
    assert [(c.ok, c.reason) for c in checks] == [(False, "只重复了资料的标题"), (False, "重复了给模型的说明"), (True, "")], \
        [(c.claim, c.reason) for c in checks]


def test_a_sentence_that_says_the_opposite_of_its_passage_is_struck(llm_index):
    """Close in words and meaning, opposite in what it says: "要打断、要争辩" against "不打断、不
    争辩" scored like a supported sentence (0.93) and was shown as checked. A content word said
    with a polarity the passage never gives it fails; the same polarity, or a negation the passage
    also makes, passes."""
    from assistant.answer import answer
    from assistant.check import check_answer, contradicted
    from assistant.service import Assistant

    r = Assistant(llm_index).retriever()
    base = answer(r, "遇到情绪激动的上访群众应该怎么接待?")
    assert "不打断、不争辩" in base.citations[0].hit.passage.text
    text = ("接待人员首先要保持冷静,请群众把话说完,不打断、不争辩[1]。"
            "接待人员不必保持冷静,可以打断群众,与群众争辩[1]。")
    checks = check_answer(r, text, base.citations)
    assert [c.ok for c in checks] == [True, False], [(c.claim, c.reason, c.dense, c.lexical) for c in checks]
    assert checks[1].reason.startswith("与所引段落意思相反:"), checks[1].reason
    assert contradicted("不得不先登记。", "来访群众应当先登记。") == []  # two negators cancel
    assert contradicted("要避免与群众争吵。", "不能与群众争吵。") == []  # avoidance is a negation too


def test_a_passed_sentence_shows_only_the_passages_that_support_it():
    """"先谈感情,再谈事情[1][3]" supported by [3] alone showed [1] [3], and card [1] said no
    sentence rested on it."""
    from assistant.answer import Answer
    from assistant.check import SentenceCheck
    from assistant.generate import Reply
    from ui.chat import reply_markdown

    s = SentenceCheck("先谈感情,再谈事情[1][3]。", "先谈感情,再谈事情。", (1, 3), (3,))
    assert s.marked == "先谈感情,再谈事情[3]。"
    bubble = reply_markdown(Reply(Answer("怎么接待?", "", True), generated=True, model="m", sentences=(s,)))
    assert "\\[3\\]" in bubble and "\\[1\\]" not in bubble, bubble


def test_an_english_sentence_quoting_the_chinese_is_english():
    """The prompt asks English answers to quote the Chinese passage: the quote made the sentence
    "mostly Chinese" and its first capitalised word ("Staff") a name the passage lacks."""
    from assistant.check import claim_names, missing_facts

    claim = 'Staff must not ignore visitors: "不能因为平时工作繁忙,就对来访群众不理不睬".'
    passage = "不能因为平时工作繁忙,就对来访群众不理不睬,要热情接待。"
    assert claim_names(claim) == {"不能因为平时工作繁忙,就对来访群众不理不睬"}
    assert missing_facts(claim, [passage]) == []
