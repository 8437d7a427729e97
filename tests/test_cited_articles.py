"""A question that cites an article by number (第十二条, "Article 12") finds that article of the
law it is about, in Chinese and in English; 条 counting points ("第一条经验") in a page is left to
the ranking. Real ingest of two laws and a page, real embedder, real CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.retrieval import Retriever
from conftest import index_texts, run_main
from index.chars import chinese_numeral as chinese
from index.chars import cn_number
from index.store import load_index
from index.units import article_key, cited_articles

# Distinct duties, so that no two articles repeat each other's text (they would be deduplicated).
DUTIES = ["建立健全工作制度", "公开办事程序和时限", "登记来访人员的基本情况", "及时转送有关部门", "书面告知处理结果",
          "保护当事人的个人隐私", "定期分析矛盾纠纷的趋势", "组织业务培训", "接受社会监督", "保存工作档案不少于五年",
          "设立便民接待窗口", "配备专职工作人员并保障经费", "开展法治宣传教育", "听取人大代表的意见", "协调跨区域的事项",
          "督促下级机关整改", "对重大事项进行评估", "向本级人民政府报告工作", "表彰成绩显著的单位", "追究失职人员的责任",
          "在网站公布联系方式", "按年度编制工作计划"]


def law(title: str, subject: str) -> str:
    articles = [f"第{chinese(i)}条 {subject}应当{duty}，具体办法由市人民政府另行规定。"
                for i, duty in enumerate(DUTIES, 1)]
    return "\n".join([title, "（2020年5月1日某某市人民代表大会常务委员会通过）", *articles]) + "\n"


PAGE = ("基层群众工作经验交流材料\n"
        "这次交流会总结了三条经验。第一条经验是干部要经常走村入户，面对面听取群众的意见，把矛盾化解在萌芽状态。"
        "第二条经验是建立台账，对群众反映的问题逐件登记、限时办结。第三条经验是回访，办结以后还要上门听取群众评价。\n")


@pytest.fixture(scope="module")
def built(tmp_path_factory, e5):
    root = tmp_path_factory.mktemp("cited")
    return index_texts(root, {"petition.txt": law("某某市信访条例", "信访工作机构"),
                              "fire.txt": law("某某市消防条例", "消防救援机构"),
                              "page.txt": PAGE,
                              # Markdown: the title heads the section path, and the preamble is
                              # a passage under the title alone (no heading below it)
                              "mediation.md": "# 某某市调解条例\n\n" + law("", "调解委员会").lstrip("\n")}, e5)


@pytest.fixture(scope="module")
def retriever(built, e5):
    return Retriever(load_index(built), e5)


def test_article_numbers_are_read_in_both_languages():
    assert [article_key(h) for h in ("第十二条", "第12条", "第十条之一", "第一章", "第十二条规定")] == \
        [(12, 0), (12, 0), (10, 1), None, None]
    assert cited_articles("信访条例第十二条和第二十条之一怎么规定") == {(12, 0), (20, 1)}
    assert cited_articles("What does Article 12 say, and art. 10-1?") == {(12, 0), (10, 1)}
    assert cited_articles("Articles 12 and 13, arts. 3, 4-1") == {(12, 0), (13, 0), (3, 0), (4, 1)}
    assert cited_articles("What does the article suggest? It has 3 parts.") == set()
    run = {(n, 0) for n in range(12, 16)}
    assert cited_articles("第十二条至第十五条讲了什么") == cited_articles("第十二至十五条") == run
    assert cited_articles("Articles 12 to 15") == run and cited_articles("第一条至第九十九条") == {(1, 0), (99, 0)}
    assert all(cn_number(chinese(n)) == n for n in range(1, 100))


@pytest.mark.parametrize("law_name, title", [("某某市信访条例", "某某市信访条例"), ("消防条例", "某某市消防条例"),
                                             ("某某市调解条例", "某某市调解条例")])
def test_every_cited_article_comes_first_in_the_law_named(retriever, law_name, title):
    """Each of the 22 articles, asked for by number: without the citation read as one, 第一条 and
    第十条 lose to the law's title passage and 第十二条 to 第二十二条 (shared bigrams)."""
    missed = []
    for n in range(1, len(DUTIES) + 1):
        first = retriever.retrieve(f"{law_name}第{chinese(n)}条是怎么规定的？", k=5)[0].passage
        if (first.title, first.headings[-1:]) != (title, [f"第{chinese(n)}条"]):
            missed.append((n, first.citation))
    assert not missed, missed


def test_english_questions_cite_articles_by_number(retriever):
    """"Article 12" in English: the dictionary cannot say which article (most of them are missed
    without reading the number), the number can."""
    missed = []
    for n in range(1, len(DUTIES) + 1):
        first = retriever.retrieve(f"What does Article {n} of the petition regulations say?", k=5)[0].passage
        if (first.title, first.headings[-1:]) != ("某某市信访条例", [f"第{chinese(n)}条"]):
            missed.append((n, first.citation))
    assert not missed, missed


def test_only_the_cited_article_moves(retriever):
    """The rest of the list is the question's ranking without the cited article."""
    question = "某某市信访条例第十二条是怎么规定的？"
    cited = retriever.retrieve(question, k=6)
    assert cited[0].passage.headings[-1] == "第十二条"
    order = np.argsort(-retriever.fuse(retriever.signals(question))).tolist()
    assert [h.passage.id for h in cited[1:]] == [i for i in order if i != cited[0].passage.id][:5]


def test_counting_points_is_not_citing_an_article(retriever):
    """"第一条经验" in a question about the page does not bring a law's 第一条 forward."""
    hits = retriever.retrieve("交流材料总结的第一条经验是什么？", k=3)
    assert hits[0].passage.title == "基层群众工作经验交流材料", [h.passage.citation for h in hits]
    assert all(h.passage.headings[-1:] != ["第一条"] for h in hits[:1])


def test_the_cli_search_json_cites_the_article(built, tmp_path):
    out = run_main(tmp_path, "search", "--index", str(built), "--json", "信访条例第二十条是什么内容")
    assert out.returncode == 0, out.stderr
    first, second = json.loads(out.stdout)[:2]
    assert "第二十条" in first["citation"] and first["title"] == "某某市信访条例", first
    assert first["cited"] and not second["cited"]
    text = run_main(tmp_path, "search", "--index", str(built), "信访条例第二十条是什么内容").stdout
    assert text.splitlines()[0].endswith("(问题所引条文)"), text


@pytest.mark.parametrize("question", ["那第十三条呢？", "And Article 13?"])
def test_a_follow_up_cites_an_article_of_the_law_its_conversation_is_about(retriever, question):
    first = retriever.retrieve(question, k=5, history=["某某市消防条例第十二条是怎么规定的？"])[0].passage
    assert (first.title, first.headings[-1:]) == ("某某市消防条例", ["第十三条"]), first.citation


@pytest.mark.parametrize("law", ["某某市信访条例", "某某市消防条例", "某某市调解条例"])
@pytest.mark.parametrize("question", ["What does Article 14 say?", "第十四条是怎么规定的？", "第十四条呢"])
def test_an_article_asked_by_number_alone_is_of_the_law_the_conversation_named(retriever, law, question):
    """Each law of the shelf has a 第十四条: the one meant is of the law named earlier, and the
    answer names it."""
    from assistant.answer import answer

    history = [f"{law}第十二条是怎么规定的？", "这一条的目的是什么？"]
    first = retriever.retrieve(question, k=5, history=history)[0].passage
    assert (first.title, first.headings[-1:]) == (law, ["第十四条"]), first.citation
    assert answer(retriever, question, history).points[0][0].startswith(f"《{law}》第十四条")


def test_the_answer_quotes_the_cited_articles(retriever):
    """Asked what articles say, the extractive answer quotes them, one point each, in the law's order."""
    from assistant.answer import answer

    one = answer(retriever, "某某市信访条例第十二条是怎么规定的？")
    assert one.found and len(one.points) == 1, one.text
    assert one.points[0][0].startswith("《某某市信访条例》第十二条") and DUTIES[11] in one.points[0][0], one.points
    assert one.citations[0].hit.passage.headings[-1] == "第十二条"
    two = answer(retriever, "What do Articles 21 and 3 of the fire regulations say?")
    assert [p[0][9:13] for p in two.points] == ["第三条 ", "第二十一"], two.points  # after 《某某市消防条例》
    assert {c.hit.passage.title for c in two.citations} == {"某某市消防条例"}


@pytest.mark.parametrize("question", ["某某市信访条例第十二条至第十五条讲了什么？", "What do Articles 12 to 15 of the petition regulations say?"])
def test_a_run_of_articles_comes_first_in_order(retriever, question):
    hits = retriever.retrieve(question, k=5)
    assert [h.passage.headings[-1] for h in hits[:4]] == [f"第{chinese(n)}条" for n in range(12, 16)]
    assert {h.passage.title for h in hits[:4]} == {"某某市信访条例"}


def test_an_article_the_law_does_not_have_is_named_in_the_answer(retriever):
    """第九十九条 of a law of 22 articles: the answer says the law has no such article, then
    answers from what it found; a question about a page's points gets no such note."""
    from assistant.answer import answer
    from index.units import article_name

    found = retriever.search("某某市信访条例第九十九条是怎么规定的？")
    assert found.absent == ((99, 0),) and found.cited == 0
    text = answer(retriever, "某某市信访条例第九十九条和第十二条是怎么规定的？").text
    assert text.startswith("《某某市信访条例》中没有第九十九条。") and "第十二条" in text, text
    assert not retriever.search("交流材料总结的第一条经验是什么？").absent
    assert article_name((10, 1)) == "第十条之一" and cited_articles("第一万条") == set()


def test_an_article_of_a_law_the_documents_do_not_hold_is_said_so(retriever, tmp_path, e5):
    """A question naming a law the documents do not hold gets the nearest law's article with a
    note saying it is another law; over documents with no law at all, a note that the cited
    article is not there. The law as named ("信访条例" for 某某市信访条例) and a page's points
    get no note."""
    from assistant.answer import answer

    other = answer(retriever, "国家信访工作条例第十二条是怎么规定的？").text
    assert other.startswith("资料库中没有问题所说的法规;以下是《") and "第十二条" in other, other
    for same in ("某某市信访条例第十二条是怎么规定的？", "请问《信访条例》的第十二条怎么说", "交流材料总结的第一条经验是什么？",
                 "What does Article 12 of the 某某市信访条例 say?"):
        assert "资料库中没有" not in answer(retriever, same).text, same
    # The law named in Chinese inside an English question is read too, and the note is in both languages
    english = answer(retriever, "What does Article 12 of the 国家信访工作条例 say?")
    assert english.notes and english.notes[0].startswith("资料库中没有问题所说的法规;以下是《"), english.notes
    assert "\n(The documents hold no law of the name asked about; below is the same article of 《" in english.notes[0]
    pages = Retriever(load_index(index_texts(tmp_path, {"page.txt": PAGE * 3}, e5)), e5)
    text = answer(pages, "信访条例第十二条是怎么规定的？").text
    assert text.startswith("资料库中没有法规条文,找不到问题所引的条文(第十二条),以下内容可能相关。"), text
    assert "资料库中没有" not in answer(pages, "交流材料总结的第一条经验是什么？").text
    for asked in ("What does Article 10 say?", "某某市消防条例第十条是怎么规定的？"):  # found or not, it is said
        assert "资料库中没有法规条文,找不到问题所引的条文(第十条)" in answer(pages, asked).text, asked


def test_what_the_documents_lack_stays_above_every_form_of_the_answer(retriever):
    """The notes ("《…》中没有第九十九条。") head the extractive answer, its chat bubble, and a
    generated answer, whose text is otherwise only its checked sentences."""
    from assistant.answer import answer
    from assistant.check import SentenceCheck
    from assistant.generate import Reply
    from ui.chat import reply_markdown
    from ui.render import answer_markdown

    ans = answer(retriever, "某某市信访条例第九十九条和第十二条是怎么规定的？")
    assert ans.notes == ("《某某市信访条例》中没有第九十九条。",)
    bubble = answer_markdown(ans)
    assert bubble.startswith("《某某市信访条例》中没有第九十九条。\n\n根据资料库中的相关内容,要点如下:"), bubble
    claim = DUTIES[11]
    generated = Reply(ans, generated=True, model="m",
                      sentences=(SentenceCheck(f"{claim}[1]", claim, (1,), (1,)),))
    assert generated.text.startswith(ans.notes[0]) and generated.text.endswith(f"{claim}[1]")
    assert ans.notes[0] in reply_markdown(generated)
    cited = answer(retriever, "某某市信访条例第十二条是怎么规定的？")
    assert cited.notes == () and [c["cited"] for c in cited.to_dict()["citations"]] == [True], cited.to_dict()
    english = answer(retriever, "What do Articles 99 and 12 of the 某某市信访条例 say?")
    assert english.notes == ("《某某市信访条例》中没有第九十九条。\n(《某某市信访条例》 has no Article 99.)",)


def test_an_article_asked_for_without_its_law_says_which_law_it_is_from(retriever):
    """"第十二条是怎么规定的？" names no law: the answer is the nearest law's article, with a note
    naming the other laws that have one; a law named in the question or earlier in the
    conversation (in either language) leaves no such note."""
    from assistant.answer import answer

    for q in ("第十二条是怎么规定的？", "What does Article 12 say?"):
        ans = answer(retriever, q)
        title = ans.citations[0].hit.passage.title
        assert ans.notes and ans.notes[0].startswith(f"问题没有指明是哪部法规;以下是《{title}》的第十二条,"), ans.notes
        others = {"某某市信访条例", "某某市消防条例", "某某市调解条例"} - {title}
        assert all(f"《{t}》" in ans.notes[0] for t in others), ans.notes
        assert ("\n(The question names no law: below is Article 12 of " in ans.notes[0]) == q.isascii(), ans.notes
    for q, history in (("某某市消防条例第十二条是怎么规定的？", ()), ("What does Article 12 of the fire regulations say?", ()),
                       ("那第十三条呢？", ("某某市消防条例第十二条是怎么规定的？",))):
        assert not answer(retriever, q, history).notes, q


BULLETIN = "信访工作简报\n第12期\n本期简报介绍第12期培训班的情况：第12期学员共12人，学习了群众来信的办理要求，交流了第12期的体会。\n"


def test_an_english_article_number_is_an_article_not_a_bare_number(tmp_path, e5):
    """"Article 12" reads 第十二条 on the lexical side: a bulletin's 第12期 (12人) is not it (it
    was third, above the law's other articles)."""
    built = index_texts(tmp_path, {"fire.txt": law("某某市消防条例", "消防救援机构"), "bulletin.txt": BULLETIN}, e5)
    hits = Retriever(load_index(built), e5).retrieve("What does Article 12 say?", k=5)
    assert hits[0].passage.headings[-1:] == ["第十二条"], [h.passage.citation for h in hits]
    assert all(h.passage.title != "信访工作简报" for h in hits), [h.passage.citation for h in hits]


TRADITIONAL_LAW = """海關關銜標誌佩帶辦法
第一章 總則
第一條 為了規範海關關銜標誌的式樣和佩帶，根據有關規定，制定本辦法。
第二條 海關工作人員著海關制服時，應當按照本辦法佩帶關銜標誌。
第二章 標誌
第三條 關銜標誌由肩章、領花組成。肩章為硬質肩章，底色為藏青色。
第四條 海關工作人員晉升或者降低關銜時，應當及時更換關銜標誌。
第五條 本辦法自發布之日起施行。
"""


def test_a_law_in_traditional_characters_has_articles(tmp_path, e5):
    """第三條 is 第三条 in traditional characters: its articles are units with their numbers (the
    whole law was one passage, the space after 第一條 removed as a stray space), and a question
    citing one gets it first."""
    from assistant.answer import answer

    data = load_index(index_texts(tmp_path, {"trad.txt": TRADITIONAL_LAW}, e5))
    sections = [p.section for p in data.passages]
    assert "第二章 標誌 / 第三條" in sections and len(sections) == 5, sections
    assert any("第一條 為了規範" in p.text for p in data.passages)
    ans = answer(Retriever(data, e5), "海關關銜標誌佩帶辦法第三條是怎么规定的？")
    assert ans.found and ans.citations[0].hit.passage.section.endswith("第三條"), ans.text
    assert cited_articles("第三條和第十條之一") == {(3, 0), (10, 1)}
