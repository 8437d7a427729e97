"""An answer point says what the document says: a list item comes with the lead-in it belongs to,
a lead-in with its items, an exception with the rule it qualifies, without a heading glued to
its line, cut at a sentence end. Real ingest, real embedder; and the composition on its own."""
from __future__ import annotations

import pytest

from assistant.answer import _around, _clip, answer
from assistant.retrieval import Retriever
from conftest import index_texts
from index.store import load_index

LAW = """某某市人民调解办法
第一条 为了规范人民调解工作，根据有关法律，制定本办法。
第二条 人民调解员在调解工作中有下列行为之一的，由人民调解委员会给予批评教育；情节严重的，由推选或者聘任单位予以罢免或者解聘：
（一）偏袒一方当事人的；
（二）侮辱当事人的；
（三）索取、收受财物或者牟取其他不正当利益的；
（四）泄露当事人的个人隐私、商业秘密的。
第三条 年满十八周岁的本地居民都可以被推选为人民调解员；但是，依照法律被剥夺政治权利的人除外。
第四条 人民调解委员会调解民间纠纷，不收取任何费用。
第五条 当事人对调解委员会作出的处理意见不服的，可以自收到处理意见之日起三十日内请求上一级调解委员会复查。对复查意见不服的，可以自收到复查意见之日起三十日内请求市司法行政部门复核。
"""

FILL = "各级干部要深入基层、深入群众，认真倾听群众呼声，切实解决群众反映强烈的实际问题。" * 4
PAGE = f"""基层群众工作经验材料
一、群众工作面临的新情况
{FILL}
二、群众工作面临的突出问题 改革开放以来党群关系的主流是好的，但是一些地方的群众工作方法还不适应新形势的要求，需要认真加以改进。{FILL}
三、做好群众工作的几点体会
干部要经常走村入户，面对面听取群众意见，把矛盾化解在萌芽状态。{FILL}
"""


@pytest.fixture(scope="module")
def retriever(tmp_path_factory, e5):
    built = index_texts(tmp_path_factory.mktemp("points"), {"law.txt": LAW, "page.txt": PAGE}, e5)
    return Retriever(load_index(built), e5)


def first_point(retriever, question: str) -> str:
    ans = answer(retriever, question)
    assert ans.found and ans.points, ans.text
    return ans.points[0][0]


def test_a_list_item_comes_with_its_lead_in(retriever):
    point = first_point(retriever, "人民调解员索取、收受财物或者牟取不正当利益的，怎么处理？")
    assert "索取、收受财物" in point and "有下列行为之一的" in point and "罢免或者解聘" in point, point
    # an article that fits a point is quoted whole, under the law's name: the whole list
    assert point.startswith("《某某市人民调解办法》第二条") and "（一）偏袒" in point and "（四）泄露" in point


def test_an_article_that_fits_a_point_is_quoted_whole(retriever):
    """Its sentences lean on each other: the sentence nearest "对处理意见不服怎么办" alone was the
    second one, 复核 of a 复查 decision, without the 复查 step the question asks about."""
    point = first_point(retriever, "当事人对调解委员会的处理意见不服怎么办？")
    assert point.startswith("《某某市人民调解办法》第五条") and "请求上一级调解委员会复查" in point and "复核" in point, point


def test_an_exception_comes_with_its_rule(retriever):
    point = first_point(retriever, "被剥夺政治权利的人可以当人民调解员吗？")
    assert "除外" in point and "都可以被推选为人民调解员" in point, point


def test_a_heading_on_the_same_line_is_not_part_of_the_point(retriever):
    point = first_point(retriever, "一些地方的群众工作方法为什么不适应新形势的要求？")
    assert point.startswith("改革开放以来"), point


def test_composition_of_leaning_sentences():
    sents = ["第二条 有下列行为之一的，予以解聘：", "（一）偏袒一方的；", "（二）侮辱当事人的；", "（三）收受财物的。",
             "第三条 居民都可以被推选；", "但是，被剥夺政治权利的人除外。"]
    said = set(range(len(sents)))
    assert _around(sents, 3, said, 160) == ("".join(sents[:4]), 0, 3)  # the whole list fits
    assert _around(sents, 3, said, 40) == ("第二条 有下列行为之一的，予以解聘：……（三）收受财物的。", 0, 3)
    assert _around(sents, 1, said, 40) == ("第二条 有下列行为之一的，予以解聘：（一）偏袒一方的；", 0, 1)
    assert _around(sents, 0, said, 160)[0] == "".join(sents[:4])  # a lead-in brings its items
    assert _around(sents, 0, said, 30) == ("".join(sents[:2]), 0, 1)  # as many as fit, one at least
    assert _around(sents, 5, said, 160) == ("第三条 居民都可以被推选；但是，被剥夺政治权利的人除外。", 4, 5)
    assert _around(sents, 5, said - {4}, 160) == ("但是，被剥夺政治权利的人除外。", 5, 5)  # not across a label
    assert _around(sents, 4, said, 160) == (sents[4], 4, 4)


def test_a_line_without_punctuation_is_not_glued_to_the_next():
    from assistant.answer import _join

    assert _join(["区信访办 | 每周二、周四全天 | 65432100", "节假日不安排接待。"]) == \
        "区信访办 | 每周二、周四全天 | 65432100 节假日不安排接待。"
    assert _join(["第一句。", "第二句；", "第三句"]) == "第一句。第二句；第三句"
    assert _join(["有下列情形之一的：……", "（三）收受财物的。"]) == "有下列情形之一的：……（三）收受财物的。"


def test_a_long_point_is_cut_at_a_sentence_end():
    text = "第一句话讲的是接待群众的要求。" * 4 + "第二句很长" * 30
    assert _clip(text, 100) == "第一句话讲的是接待群众的要求。" * 4 + "…"  # 60 of 100: kept whole
    assert _clip("很长的一句话没有句号" * 20, 50) == ("很长的一句话没有句号" * 20)[:49] + "…"
    assert _clip("短句。", 50) == "短句。"


def test_an_english_question_is_told_in_english_what_the_answer_is(corpus_assistant):
    """Answered from Chinese documents, an English question gets one English line saying so
    (the points quote the documents); a Chinese one gets none."""
    from assistant.answer import LEAD, LEAD_EN, NOT_FOUND_EN

    ans = corpus_assistant.ask("How should I handle an emotionally agitated petitioner?")
    assert ans.found and LEAD_EN in ans.text and ans.points, ans.text
    off = corpus_assistant.ask("What's the weather like tomorrow? Should I go swimming at the beach?")
    assert not off.found and off.text == NOT_FOUND_EN
    zh = corpus_assistant.ask("遇到情绪激动的上访群众怎么接待?")
    assert zh.found and LEAD in zh.text and LEAD_EN not in zh.text and "documents" not in zh.text


def test_a_cited_article_is_quoted_under_the_law_s_name():
    from assistant.answer import _article_text
    from index.schema import Passage

    def part(text):
        return Passage(id=0, doc="law.docx", title="某某市信访条例", section="第二章 信访渠道 / 第十一条", text=text,
                       source="law.docx", start=0, end=len(text), clean_start=0, clean_end=len(text))

    whole = part("第二章 信访渠道\n第十一条 信访人可以采用书信、电子邮件、传真、电话、走访等形式提出信访请求。")
    assert _article_text(whole) == "《某某市信访条例》第十一条 信访人可以采用书信、电子邮件、传真、电话、走访等形式提出信访请求。"
    rest = part("（十一）其他依法应当受理的信访请求。")  # the second passage of a long article
    assert _article_text(rest) == "《某某市信访条例》第十一条:（十一）其他依法应当受理的信访请求。"


def test_a_law_s_record_line_is_not_a_point():
    from assistant.answer import _is_label
    from index.schema import Passage

    p = Passage(id=0, doc="d.txt", title="某某投资保护规定", section="", text="", source="d.txt",
                start=0, end=0, clean_start=0, clean_end=0)
    for line in ("（1988年6月25日国务院第十次常务会议通过 1988年7月3日国务院令第7号发布）",
                 "2012年3月1日中华人民共和国国务院令第615号公布", "(2006年9月15日北京市人民代表大会常务委员会修订)"):
        assert _is_label(p, line), line
    for line in ("本规定自1988年7月3日起施行。", "投资者可以在2012年3月1日以后申请补贴，由有关部门批准。",
                 "2021年6月1日，《北京市信访条例》正式施行。", "2019年3月5日，区政府发布了《关于做好来访接待的通知》。",
                 "2023年5月10日，县委常委会审议通过了工作方案，明确了责任分工。"):
        assert not _is_label(p, line), line
