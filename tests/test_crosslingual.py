"""English questions over Chinese passages (issue 13): a general dictionary read backwards,
structured BM25 over synonym sets, a language shift on the dense side, and no preference for
English text merely because a question is English."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import ROOT, index_texts
from index.crosslingual import QueryTranslator, content_words, domain_glosses, glosses, is_english, thesaurus, translate
from index.domain import DOMAIN_TERMS
from index.lexical import BM25, tokenize


def test_content_words_drop_function_words_and_stem():
    assert content_words("How should I handle the petitioners?") == ["handl", "petition"]
    assert content_words("What is it?") == []


def test_the_dictionary_is_read_backwards_from_cc_cedict():
    g = glosses()
    assert "处理" in g.whole(("handl",))          # 处理: to handle; to deal with
    assert "群众" in g.whole(("mass",))            # 群众: the masses
    assert "上访" in g.partial(content_words("petition")[0])  # a longer gloss that contains it


def test_a_negated_gloss_never_translates_its_word():
    """不同 is glossed "not the same": it must not stand for "same"."""
    assert "不同" not in glosses().whole(("same",))


def test_translation_keeps_only_words_the_index_knows():
    vocab = {"处理", "群众", "上访"}
    sets, share = translate("How do we handle the masses who petition?", vocab.__contains__)
    found = {s.source: set(s.terms) for s in sets}
    assert found["handle"] == {"处理"} and found["masses"] == {"群众"} and "上访" in found["petition"]
    assert share == 1.0
    assert translate("Zorblax quindle", vocab.__contains__) == ([], 0.0)


def test_the_fields_english_names_come_with_a_source_and_name_domain_terms():
    """data/domain_english.tsv: each row a domain term, its English names and a source."""
    from importlib import resources

    text = resources.files("index").joinpath("data", "domain_english.tsv").read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert rows and all(len(r) == 3 and all(x.strip() for x in r) for r in rows)
    assert {r[0] for r in rows} <= set(DOMAIN_TERMS)
    assert "信访人" in domain_glosses()[tuple(content_words("petitioner"))]


def test_an_english_name_of_the_field_reaches_its_chinese_term():
    """"petitioner" is not a CC-CEDICT gloss of 信访人; the field's English usage makes it one,
    beside what the dictionary gives (诉求: to petition)."""
    vocab = {"信访人", "诉求", "接待"}
    sets, _ = translate("How should a petitioner be received?", vocab.__contains__)
    assert {"信访人"} <= set(next(s.terms for s in sets if s.source == "petitioner"))
    sets, _ = translate("How should a petitioner be received?", {"诉求"}.__contains__)
    assert next(s.terms for s in sets if s.source == "petitioner") == ("诉求",)


def test_phrases_translate_before_words():
    g = glosses()
    phrase = next(k for k in g.keys() if len(k) == 2 and k[0] != k[1])
    words = " ".join(phrase)
    sets, _ = translate(words, lambda t: True)
    assert sets[0].source.count(" ") == 1 and set(sets[0].terms) == set(g.whole(phrase))


def test_a_phrase_the_found_passages_never_use_is_read_word_by_word():
    """"solving problems" is a CC-CEDICT gloss of an idiom (解疑释惑); when the passages the
    question finds first use none of the phrase's translations but do use 解决 and 问题, the
    phrase gives way to its words. Without that evidence the longest match stands."""
    g = glosses()
    phrase = tuple(content_words("solving problems"))
    assert g.whole(phrase) and not {"解决", "问题"} & set(g.whole(phrase))
    def everything(term):
        return True

    sets, _ = translate("solving problems", everything)
    assert [s.source for s in sets] == ["solving problems"]
    used = {"解决", "问题"}
    sets, share = translate("solving problems", everything, used.__contains__)
    assert [s.source for s in sets] == ["solving", "problems"] and share == 1.0
    assert "解决" in sets[0].terms and "问题" in sets[1].terms


def test_a_verb_and_its_particle_translate_as_one_gloss():
    """"carry out" is CC-CEDICT's gloss of 执行 and 实施, "comply with" of 遵守, "locked up" of
    关押: the particle is a function word on its own, but after a verb it is part of the gloss.
    Without the particle "carry" would be 带 or 携带; a particle that makes no gloss with its verb
    changes nothing, and, like any phrase, one the found passages never use gives way."""
    g = glosses()
    assert {"执行", "实施"} <= set(g.whole(("carri", "out"))) and "执行" not in g.whole(("carri",))[:3]
    everything = lambda term: True  # noqa: E731
    for question, source, term in [("Who must carry out the inspection?", "carry out", "执行"),
                                   ("What if they do not comply with the order?", "comply with", "遵守"),
                                   ("Can the managers be locked up?", "locked up", "关押")]:
        sets, share = translate(question, everything)
        found = {s.source: s.terms for s in sets}
        assert term in found[source] and share == 1.0, (question, found)
    sets, _ = translate("Who inspects the mines up north?", everything)
    assert "up" not in " ".join(s.source for s in sets)
    sets, _ = translate("Who must carry out the inspection?", everything, {"检查"}.__contains__)
    assert [s.source for s in sets] == ["carry", "inspection"]


def test_the_thesaurus_holds_cilins_synonym_groups_only():
    """HIT's Cilin: 拘留 and 关押 share a synonym group ("="); 信访 and 来访 only a related-word
    group ("#"), which is not read; single characters are left out."""
    table = thesaurus()
    assert "拘留" in table["关押"] and "关押" in table["拘留"]
    assert "来访" not in table.get("信访", ())
    assert all(len(w) >= 2 for w in table) and all(len(w) >= 2 for syn in table.values() for w in syn)


def test_a_translation_the_found_passages_never_use_gives_way_to_a_synonym_they_use():
    """"locked up" is 关押 in CC-CEDICT; a law says 拘留. When the passages the question finds
    use none of a word's translations but use a Cilin synonym of one, the synonym joins the
    set and the pseudo-question. A translation they do use is kept as it is."""
    known = {"关押", "拘留", "经理"}.__contains__
    found = {"拘留": 1.0, "经理": 1.0}
    out = QueryTranslator(known).translate("Can the managers be locked up?", lambda t: found.get(t, 0.0))
    assert "拘留" in out.pseudo and "关押" not in out.pseudo
    assert any(s.terms == ("关押", "拘留") for s in out.sets)
    off = QueryTranslator(known, use_thesaurus=False).translate("Can the managers be locked up?",
                                                                lambda t: found.get(t, 0.0))
    assert "拘留" not in off.pseudo
    used = QueryTranslator(known).translate("Can the managers be locked up?", lambda t: 1.0 if t == "关押" else 0.0)
    assert "拘留" not in used.pseudo and all("拘留" not in s.terms for s in used.sets)
    # A single character the passages use (关: to close, to shut in, to concern ...) is not
    # the documents' word for it: the synonyms are still sought.
    with_char = {"关", "关押", "拘留", "经理"}.__contains__
    out = QueryTranslator(with_char).translate("Can the managers be locked up?", lambda t: {**found, "关": 1.0}.get(t, 0.0))
    assert "拘留" in out.pseudo


def test_a_glosss_headwords_come_primary_sense_first():
    """CC-CEDICT lists a word's senses most common first: 保持 ("to keep", its first sense)
    comes before 不合 (whose "out of keeping with" is a later one), so a tie among translations
    the passages support alike is broken toward the primary sense."""
    keep = glosses().whole(("keep",))
    assert keep.index("保持") < keep.index("不合")


def test_a_synonym_set_counts_as_one_term():
    """Pirkola's structured query: two synonyms once each weigh as one synonym twice, and a
    set never adds up to more than its best single term would over the union."""
    texts = ["信访 上访 接待", "信访 信访 接待", "天气 晴朗 温度", "农业 种植 收成"]
    bm = BM25(texts, tokenizer=tokenize)
    scores = bm.set_scores([(("信访", "上访"), 1.0)])
    assert scores[0] == pytest.approx(scores[1]) and scores[0] > 0 and scores[2] == scores[3] == 0
    half = bm.set_scores([(("信访", "上访"), 0.5)])
    assert half[0] == pytest.approx(scores[0] / 2)


def test_is_english():
    assert is_english("How do I calm an angry petitioner?")
    assert not is_english("遇到情绪激动的上访群众应该怎么接待?")
    assert not is_english("信访工作条例 (Regulations on Letters and Visits) 第三十四条怎么规定")


@pytest.fixture(scope="module")
def mixed_index(tmp_path_factory, e5):
    """Chinese reception rules beside an English page on another subject."""
    root = tmp_path_factory.mktemp("mixed")
    texts = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "tests" / "resources" / "ui").glob("*.txt")}
    texts["english_page.txt"] = (ROOT / "tests" / "resources" / "cleaning" / "english_page.txt").read_text()
    return index_texts(root, texts, e5)


@pytest.fixture(scope="module")
def mixed(mixed_index, e5):
    from assistant.retrieval import Retriever
    from index.store import load_index

    return Retriever(load_index(mixed_index), e5)


def test_an_english_question_finds_the_chinese_answer(mixed):
    hits = mixed.retrieve("How should I receive a petitioner who is very emotional and agitated?", k=3)
    assert hits and "情绪激动" in hits[0].passage.text, [h.passage.text[:40] for h in hits]


def test_english_text_does_not_win_because_the_question_is_english(mixed):
    """The English page (community engagement) is nearer in language, not in meaning."""
    hits = mixed.retrieve("How should I receive a petitioner who is very emotional and agitated?", k=5)
    english = [h.rank for h in hits if is_english(h.passage.text)]
    assert not english or min(english) > 2, [h.passage.text[:40] for h in hits]


def test_the_language_shift_moves_english_toward_its_chinese_counterpart(e5):
    from index.crosslingual import language_shift

    shift_q, _ = language_shift(e5)
    zh, en = e5.embed_queries(["信访接待工作"])[0], e5.embed_queries(["petition reception work"])[0]
    moved = (en - shift_q) / np.linalg.norm(en - shift_q)
    assert float(moved @ zh) > float(en @ zh)


# Two short regulations written for this test: one says 拘留 for detention, the other uses 关押
# (CC-CEDICT's "to lock up") for holding people in a detention house.
WATER_RULES = """示例市水污染防治条例

第一条 为了防治水污染，保护和改善环境，制定本条例。
第二条 排放工业废水的企业应当采取有效措施，收集和处理产生的全部废水，防止污染环境。
第三条 企业应当按照规定设置排污口，并在排污口安装水污染物排放自动监测设备。
第四条 违反本条例规定，超过水污染物排放标准排放水污染物的，由生态环境主管部门责令改正，处十万元以上一百万元以下的罚款。
第五条 企业未按照规定对所排放的工业废水进行监测并保存原始监测记录的，责令限期改正，处二万元以上二十万元以下的罚款。
第六条 企业事业单位通过暗管、渗井、渗坑或者篡改监测数据等逃避监管的方式违法排放水污染物，尚不构成犯罪的，由公安机关对其直接负责的主管人员和其他直接责任人员处十日以上十五日以下拘留；情节较轻的，处五日以上十日以下拘留。
第七条 生态环境主管部门应当定期公布重点排污单位名录。
第八条 本条例自发布之日起施行。
"""
DETENTION_RULES = """示例市看守所管理办法

第一条 看守所是依法关押犯罪嫌疑人、被告人的场所。
第二条 看守所应当建立健全安全管理制度，配备必要的警力和设施。
第三条 看守所对关押的人员应当进行健康检查，发现患有疾病的应当及时治疗。
第四条 看守所应当保障被关押人员的饮食、卫生和休息。
"""


@pytest.fixture(scope="module")
def two_rules(tmp_path_factory, e5):
    from index.store import load_index

    root = tmp_path_factory.mktemp("rules")
    return load_index(index_texts(root, {"water.txt": WATER_RULES, "detention.txt": DETENTION_RULES}, e5))


def test_an_english_question_reaches_the_word_the_law_uses_through_a_synonym(two_rules, e5):
    """"locked up" translates to 关押, which only the detention rules use; the article that
    answers says 拘留. The passages the question finds first (3 of this small index's 14, as 20 of
    a library) do not use 关押 but do use its Cilin synonym 拘留, so the question reaches the
    answering article; without the thesaurus the detention rules come first."""
    from assistant.retrieval import Retriever
    from index.settings import Settings

    question = "Can the people in charge be locked up for secretly dumping wastewater?"
    def first(thesaurus):
        settings = Settings.for_index(two_rules.manifest.get("settings"), thesaurus=thesaurus, feedback_passages=3)
        retriever = Retriever(two_rules, e5, settings)
        return retriever.translation(question), retriever.retrieve(question, k=3)

    translation, hits = first(True)
    assert "拘留" in translation.pseudo and hits[0].passage.text.startswith("第六条"), [h.passage.text[:8] for h in hits]
    translation, hits = first(False)
    assert "拘留" not in translation.pseudo and "看守所" in hits[0].passage.text


def test_without_its_thesaurus_data_an_english_question_is_still_translated(monkeypatch, caplog):
    """A broken install of the `cilin` package (its data file missing) costs the synonyms, with
    a warning, not the question."""
    import types

    broken = types.ModuleType("cilin")

    def missing(trad=False):
        raise FileNotFoundError("cilin_tree.json")

    broken.Cilin = missing
    monkeypatch.setitem(__import__("sys").modules, "cilin", broken)
    thesaurus.cache_clear()
    try:
        assert thesaurus() == {} and "Cilin thesaurus cannot be read" in caplog.text
        known = {"关押", "拘留", "经理"}.__contains__
        out = QueryTranslator(known).translate("Can the managers be locked up?", lambda t: 1.0 if t == "拘留" else 0.0)
        assert "经理" in out.pseudo and "拘留" not in out.pseudo
    finally:
        thesaurus.cache_clear()


TIME_LIMITS = """示例市信访条例
（2020年5月1日示例市人民代表大会常务委员会通过）
第一条 为了规范信访工作，保护信访人的合法权益，制定本条例。
第二条 信访工作机构收到信访事项，应当自收到之日起十五日内告知信访人是否受理。
第三条 信访工作机构应当自受理之日起六十日内办结信访事项，并书面答复信访人。
第四条 信访人对处理意见不服的，可以自收到书面答复之日起30日内请求复查。
第五条 复查机关应当自收到复查请求之日起三十日内提出复查意见。
"""


def test_a_number_in_digits_is_a_unit_of_its_own_in_both_notations():
    from index.crosslingual import number_sets

    sets = number_sets("Within 30 days, or 15? Article 105, and 2.5 or 12345 are not whole small numbers", lambda t: True)
    assert [(s.source, s.terms) for s in sets] == [("article 105", ("第一百零五条", "第105条")), ("30", ("30", "三十")),
                                                   ("15", ("15", "十五"))]
    sets = number_sets("Do Articles 12 to 13 or Article 10-1 allow 12 people?", lambda t: True)
    assert [(s.source, s.terms) for s in sets] == [("article 12", ("第十二条", "第12条")), ("article 13", ("第十三条", "第13条")),
                                                   ("article 10-1", ("第十条之一",)), ("12", ("12", "十二"))]
    assert [s.terms for s in number_sets("within 30 days", lambda t: t == "三十")] == [("三十",)]


@pytest.fixture(scope="module")
def time_limits(tmp_path_factory, e5):
    from assistant.retrieval import Retriever
    from index.store import load_index

    return Retriever(load_index(index_texts(tmp_path_factory.mktemp("limits"), {"law.txt": TIME_LIMITS}, e5)), e5)


@pytest.mark.parametrize("question, article", [
    ("How many days does the office have once it has accepted a petition: 60?", "第三条"),
    ("Does the office have to say within 15 days whether it takes up a petition?", "第二条"),
    ("Within 30 days of getting the written reply, can I ask for a review?", "第四条"),
    ("I asked for a review. The review body has 30 days to give its opinion?", "第五条"),
])
def test_an_english_question_finds_the_time_limit_it_names(time_limits, question, article):
    """Four articles alike but for their time limits, written in Chinese numerals or digits: the
    number an English question gives decides (without it, two of the four come first)."""
    first = time_limits.retrieve(question, k=3)[0].passage
    assert first.headings[-1:] == [article], first.citation


def test_a_phrase_never_runs_across_punctuation_or_a_number():
    """"days or 15 days" must not be read as the gloss "days days" (日复一日 "day after day"), nor
    "petition. Office" as one unit."""
    sources = [s.source for s in translate("Within 30 days or 15 days? Petition. Office hours", lambda t: True)[0]]
    assert "days days" not in sources and sources.count("days") == 2
    assert not any("petition" in s and "office" in s for s in sources), sources


def test_an_english_questions_translation_gets_credit_for_a_shared_character(two_rules, e5):
    """A dictionary translation that names a near-synonym of the documents' word (关押 for the
    law's 拘留, 拘押 ...) shares only a morpheme with it: the character side gives partial credit
    there, the word side none. Chinese questions do not use it (measured: it costs them)."""
    from assistant.retrieval import Retriever
    from index.lexical import character_tokenize
    from index.settings import Settings

    retriever = Retriever(two_rules, e5)
    question = "Can the people in charge be locked up for secretly dumping wastewater?"
    sig, pseudo = retriever.signals(question), retriever.translation(question).pseudo
    chars = set(character_tokenize(pseudo))
    shares = np.array([bool(chars & set(character_tokenize(p.context))) for p in retriever.passages])
    assert sig.characters is not None and ((sig.characters > 0) == shares).all()
    partial = (sig.characters > 0) & (sig.words == 0)
    assert partial.any(), pseudo  # passages only the character side reaches
    fused = retriever.fuse(sig)
    off = Retriever(two_rules, e5, Settings.for_index(two_rules.manifest.get("settings"), character_weight=0.0))
    assert (fused[partial] > off.fuse(off.signals(question))[partial]).all()
    assert retriever.signals("违法排放废水的责任人会被拘留吗？").characters is None


def test_an_index_stored_without_character_counts_is_counted_at_load(two_rules, e5):
    """An index written before the character side has no such term counts: the retriever counts
    them from the passages, the same as ingest stores them now."""
    from assistant.retrieval import Retriever
    from index.lexical import TOKENIZERS, TermCounts

    stored = two_rules.lexicon()
    assert "characters" in stored
    fresh = TermCounts.of([p.context for p in two_rules.passages], TOKENIZERS["characters"])
    old = {k: v for k, v in stored.items() if k != "characters"}
    class Older:  # the same index data, its lexicon as an older version stored it
        def __getattr__(self, name):
            return getattr(two_rules, name)
        def lexicon(self):
            return dict(old)
    retriever = Retriever(Older(), e5)
    question = "Can the people in charge be locked up for secretly dumping wastewater?"
    counted = retriever.signals(question).characters
    assert np.allclose(counted, Retriever(two_rules, e5).signals(question).characters)
    assert sorted(fresh.terms.tolist()) == sorted(stored["characters"].terms.tolist())
