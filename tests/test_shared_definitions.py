"""Definitions read by more than one part: a site name and suffix (cleaner and title detector),
a sentence (cleaner, units, answer check)."""
from assistant.check import split_cited
from index.units import sentences
from ingest.cleaning import clean
from ingest.structure import detect_title, is_site_name

BODY = "我们坚持领导干部接访下访制度,面对面听取来访群众的意见。\n\n群众反映的问题件件有着落。"


def test_what_the_title_detector_strips_the_cleaner_strips_too():
    original = f"信访工作总结 -- 某某范文\n\n中国共产党新闻网\n\n{BODY}"
    cleaned = clean(original).text
    assert cleaned.startswith("信访工作总结\n")  # the suffix after a doubled dash goes whole
    assert "新闻网" not in cleaned  # a line naming a site, at the page's edge
    assert detect_title(original, cleaned, "x.txt") == "信访工作总结"


def test_a_title_glued_to_a_site_name_is_not_a_site_name():
    assert is_site_name("51范文网") and is_site_name("https://www.gov.cn/") and is_site_name("公文写作库")
    assert not is_site_name("信访工作总结_某某文库")
    assert not is_site_name("群众工作心得")
    cleaned = clean(f"信访工作总结_某某文库\n\n{BODY}").text
    assert cleaned.startswith("信访工作总结\n")


def test_a_sentence_is_the_same_for_the_cleaner_the_units_and_the_check():
    text = "各单位要落实首问负责制;本站整理了以下内容供大家参考。群众来访要热情接待……依法及时处理。"
    assert sentences(text) == ["各单位要落实首问负责制;", "本站整理了以下内容供大家参考。", "群众来访要热情接待……",
                               "依法及时处理。"]
    assert [claim for _, claim, _ in split_cited(text)] == sentences(text)
    # the filler clause goes, the duty before the ";" stays
    cleaned = clean(f"{BODY}\n\n{text}\n\n{BODY}").text
    assert "各单位要落实首问负责制;" in cleaned and "本站整理" not in cleaned
