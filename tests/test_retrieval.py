"""Retrieval on the real corpus index: quality on the dev sets, English, follow-ups, no repeats,
and the relevance floor (issue 4)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.answer import answer, is_relevant
from assistant.evaluation import evaluate, read_markers, read_questions
from conftest import LOCAL_EVAL, eval_file
from index.units import normalise, windows

pytestmark = pytest.mark.slow
QUESTION = "遇到情绪激动的上访群众应该怎么接待?"


@pytest.fixture(scope="module")
def retriever(corpus_assistant):
    return corpus_assistant.retriever()


def _search(retriever):
    return lambda q, history, k: [h.passage.text for h in retriever.retrieve(q, k=k, history=history)]


def test_dev_questions_stay_in_band(retriever):
    """A tolerance band around today's figures (0.84 / 0.96 / 0.873 on 25 questions, 446 characters
    read to the answer): about one question of slack, so noise passes and a real regression fails."""
    markers = read_markers(eval_file("dev_junk_markers.txt"))
    m = evaluate("dev", read_questions(eval_file("dev_questions.jsonl")), _search(retriever), markers).metrics
    assert m["hit@1"] >= 0.76 and m["hit@5"] >= 0.92 and m["mrr@10"] >= 0.84, m
    assert m["chars_to_answer"] <= 480 and m["junk_in_top5"] == 0 and m["dup_in_top5"] == 0, m


def test_dev_follow_ups_are_found(retriever):
    """Both follow-ups today; a band of one slip (two questions)."""
    m = evaluate("mt", read_questions(eval_file("dev_multiturn.jsonl")), _search(retriever)).metrics
    assert m["hit@5"] >= 0.5 and m["mrr@10"] >= 0.5, m


def test_english_translations_of_the_dev_questions_stay_in_band(retriever):
    """The 23 Chinese dev questions asked in English (tests/resources/eval/tuning): a tolerance
    band around what the dictionary translation, the language shift and the hub correction reach
    (0.87 / 0.732; 0.74 / 0.70 without the correction), so a change that breaks the cross-lingual
    path fails here."""
    qs = read_questions(LOCAL_EVAL / "tuning" / "dev_questions_en.jsonl")
    m = evaluate("en", qs, _search(retriever)).metrics
    assert m["hit@5"] >= 0.78 and m["mrr@10"] >= 0.62, m


def test_the_follow_up_tuning_set_stays_in_band(retriever):
    """14 follow-ups written from the cleaned passages (tests/resources/eval/tuning): a band
    around today's figures (zh 0.86 / 1.00 / 0.929, en 0.71 / 0.86 / 0.743; with the stop-15
    settings, no hub correction, zh mrr was 0.750), about one question of slack per language."""
    rep = evaluate("ft", read_questions(LOCAL_EVAL / "tuning" / "followups_tuning.jsonl"), _search(retriever))
    zh, en = rep.by_lang["zh"].metrics, rep.by_lang["en"].metrics
    assert zh["hit@5"] >= 0.85 and zh["mrr@10"] >= 0.80, zh
    assert en["hit@5"] >= 0.71 and en["mrr@10"] >= 0.60, en


def test_english_questions_found_like_chinese(retriever):
    qs = read_questions(eval_file("dev_questions.jsonl"))
    en = [q for q in qs if q.lang == "en"]
    assert en
    m = evaluate("en", en, _search(retriever)).metrics
    assert m["hit@5"] == 1.0


def test_english_the_dictionary_cannot_translate_is_ranked_by_meaning(retriever):
    """With nothing for the lexical side to match, fusion must follow the dense ranking."""
    q = "Which zorblaxes quindle the frumptious vexillology?"
    sig = retriever.signals(q)
    assert sig.coverage == 0
    fused = retriever.fuse(sig)
    top = np.argsort(-fused)[:5]
    assert list(top) == list(np.argsort(-sig.dense)[:5])


def test_lexical_side_helps_exact_terms(retriever):
    """A rare exact phrase is found by the lexical side even where meaning alone is unsure."""
    hits = retriever.retrieve("804个村地下水高氟", k=3)
    assert "804个村" in hits[0].passage.text


def test_followups_are_read_in_their_conversation(retriever):
    alone = retriever.retrieve("要是对方火气很大呢?", k=5)
    followed = retriever.retrieve("要是对方火气很大呢?", k=5, history=[QUESTION])
    def about_visitors(hits):
        return sum(any(w in h.passage.text for w in ("来访", "上访", "接待")) for h in hits)
    assert about_visitors(followed) >= 2 and about_visitors(followed) > about_visitors(alone)
    later = retriever.retrieve("那以后再出这种事,应该怎么应对?", k=5, history=[QUESTION])
    assert about_visitors(later) >= 2



def test_an_english_elliptical_follow_up_leans_on_its_conversation(retriever):
    """"What if ...?" is the English of 要是...呢: read with the turn before it."""
    from assistant.query import followup_strength

    q = "What if the person is very angry?"
    assert followup_strength(q) == 1.0 and followup_strength("What is the person's duty?") < 1.0
    def about_visitors(hits):
        return sum(any(w in h.passage.text for w in ("来访", "上访", "接待")) for h in hits)
    alone, followed = retriever.retrieve(q, k=5), retriever.retrieve(q, k=5, history=[QUESTION])
    assert about_visitors(followed) >= 3 and about_visitors(followed) > about_visitors(alone)


def test_temporal_and_other_pro_forms_point_back_in_both_languages(retriever):
    """Pro-forms beyond pronouns (当时 / "at the time", 上述 / "the above", "the former",
    "if so") refer to the conversation; an existential "there" or a plain question does not."""
    from assistant.query import followup_strength

    for q in ("当时接待人员应该怎么说?", "上述做法有什么好处?", "What should the staff say at the time?",
              "Does the above apply to villagers?", "If so, who receives them?", "And the former?"):
        assert followup_strength(q) == 1.0, q
    for q in ("Is there a deadline for a petition?", "接待上访群众有哪些要求?", "What should the staff say?"):
        assert followup_strength(q) < 1.0, q
    q = "What should the staff say at the time?"
    def about_visitors(hits):
        return sum(any(w in h.passage.text for w in ("来访", "上访", "接待")) for h in hits)
    alone, followed = retriever.retrieve(q, k=5), retriever.retrieve(q, k=5, history=[QUESTION])
    assert about_visitors(followed) >= max(3, about_visitors(alone))
    vec, pull = retriever.query_vector(q, [QUESTION])
    own, past = retriever.turn_vector(q), retriever.turn_vector(QUESTION)
    assert pull == retriever.settings.history_weight and float(vec @ past) > float(own @ past)


def test_a_long_conversation_costs_one_embedding_per_question(retriever):
    """The third turn reads the first two through their own vectors, embedded when they were
    asked: one new embedding, and close to what embedding the joined turns would give."""
    from assistant.query import embedding_text
    from assistant.retrieval import Retriever

    Retriever.clear_caches()
    first, second, third = QUESTION, "要是对方火气很大呢?", "那以后再出这种事,应该怎么应对?"
    retriever.retrieve(first, k=5)
    retriever.retrieve(second, k=5, history=[first])
    calls = retriever.embedder.calls
    hits = retriever.retrieve(third, k=5, history=[first, second])
    assert retriever.embedder.calls == calls + 1
    assert sum(any(w in h.passage.text for w in ("来访", "上访", "接待")) for h in hits) >= 2
    vec, weight = retriever.query_vector(third, [first, second])
    joined = retriever.embedder.embed_queries([embedding_text(f"{first} {second}")])[0]
    own = retriever.embedder.embed_queries([embedding_text(third)])[0]
    expected = own + weight * joined
    assert weight > 0 and float(vec @ (expected / np.linalg.norm(expected))) > 0.99

def test_no_passage_repeats_text_of_a_higher_one(retriever):
    for q in read_questions(eval_file("dev_questions.jsonl")):
        seen: set[str] = set()
        for h in retriever.retrieve(q.q, k=10):
            ws = windows(h.passage.text)
            assert not ws & seen, (q.id, h.rank)
            seen |= ws


def test_passages_sharing_a_window_share_a_fingerprint(retriever):
    """Repeats are checked window by window only where fingerprints meet, so every pair of
    corpus passages with a window in common must have a fingerprint in common."""
    from assistant.retrieval import fingerprints

    texts = [p.text for p in retriever.passages]
    fps = [fingerprints(normalise(t)) for t in texts]
    ws = [windows(t) for t in texts]
    pairs = [(i, j) for i in range(len(texts)) for j in range(i) if not ws[i].isdisjoint(ws[j])]
    assert pairs  # the corpus has overlapping passages, so this checks something
    assert [(i, j) for i, j in pairs if fps[i] is not None and fps[j] is not None
            and fps[i].isdisjoint(fps[j])] == []


@pytest.mark.parametrize("shared", [30, 31, 45])
def test_any_shared_stretch_of_a_window_meets_a_fingerprint(shared):
    from assistant.retrieval import fingerprints

    rng = np.random.default_rng(shared)
    chars = lambda n: "".join(map(chr, rng.integers(0x4E00, 0x9FA5, n)))  # noqa: E731
    for _ in range(200):
        stretch = chars(shared)
        a = chars(int(rng.integers(0, 300))) + stretch + chars(int(rng.integers(0, 300)))
        b = chars(int(rng.integers(1, 300))) + stretch + chars(int(rng.integers(0, 300)))
        fa, fb = fingerprints(a), fingerprints(b)
        assert fa is None or fb is None or not fa.isdisjoint(fb)
    assert fingerprints(chars(30)) is None and len(fingerprints(chars(300))) < 300 / 3


def _with(retriever, **settings):
    from assistant.retrieval import Retriever
    from index.settings import Settings

    return Retriever(retriever.data, retriever.embedder,
                     Settings.for_index(retriever.data.manifest.get("settings"), **settings))


def test_the_hub_correction_is_centred_and_only_a_correction(retriever):
    """Each unit loses hub_weight times its centred nearness to general questions; at weight 0
    the dense side is the plain best-unit cosine again."""
    hub = retriever.hubness()
    assert len(hub) == len(retriever._units) and abs(float(hub.mean())) < 1e-4 and float(hub.std()) > 1e-3
    plain = _with(retriever, hub_weight=0.0)
    assert not plain.hubness().any()
    vec = retriever.query_vector(QUESTION)[0]
    raw = plain._units @ vec
    bounds = retriever._bounds[:-1]
    np.testing.assert_allclose(plain.dense_scores(vec), np.maximum.reduceat(raw, bounds), rtol=1e-5)
    np.testing.assert_allclose(retriever.dense_scores(vec), np.maximum.reduceat(raw - hub, bounds), rtol=1e-5, atol=1e-6)
    double = _with(retriever, hub_weight=2.0)
    np.testing.assert_allclose(double.hubness(), 2 * hub, rtol=1e-4, atol=1e-7)


def test_the_hub_correction_spreads_general_questions_over_more_passages(retriever):
    """Hubs are measured on probes the correction was not computed from: the English half of
    the dictionary sample, moved into the Chinese frame. Without the correction a few passages
    sit in the top 5 of most of them; with it, the most frequent one sits in fewer."""
    from index.crosslingual import dictionary_sample, language_shift

    sample = dictionary_sample(retriever.embedder)
    probes = sample.en_query - language_shift(retriever.embedder)[0]
    probes /= np.linalg.norm(probes, axis=1, keepdims=True)
    plain = _with(retriever, hub_weight=0.0)

    def most_frequent(r):
        counts = np.zeros(len(r.passages), dtype=int)
        for v in probes:
            counts[np.argsort(-r.dense_scores(v))[:5]] += 1
        return int(counts.max()), int((counts > 0).sum())

    (before, spread_before), (after, spread_after) = most_frequent(plain), most_frequent(retriever)
    assert after < before and spread_after > spread_before, (before, after, spread_before, spread_after)


def test_the_english_frame_is_the_units_centred_without_their_top_direction(retriever):
    """The frame (opt-in, `english_components`): its scores, computed without a second copy of
    the units, equal the cosines of explicitly centred and projected units and question, less
    the hub correction measured the same way; switched off, an English question is scored like
    any other."""
    off, retriever = retriever, _with(retriever, english_components=1)
    frame = retriever.english_frame()
    units = retriever._units
    assert frame.top.shape == (1, units.shape[1])
    np.testing.assert_allclose(frame.top @ frame.top.T, np.eye(1), atol=1e-5)
    moved = units - units.mean(axis=0)
    assert abs(float(np.linalg.svd(moved, full_matrices=False)[2][0] @ frame.top[0])) > 0.999
    vec = retriever.query_vector("How should I handle an emotionally agitated petitioner?")[0]
    placed = moved - np.outer(moved @ frame.top[0], frame.top[0])
    placed /= np.linalg.norm(placed, axis=1, keepdims=True)
    q = frame.question(vec)
    assert abs(float(q @ frame.top[0])) < 1e-5 and abs(float(np.linalg.norm(q)) - 1) < 1e-5
    expected = np.maximum.reduceat(placed @ q - frame.hub, retriever._bounds[:-1])
    np.testing.assert_allclose(retriever.dense_scores(vec, english=True), expected, rtol=1e-4, atol=1e-5)
    assert abs(float(frame.hub.mean())) < 1e-4 and float(frame.hub.std()) > 1e-3
    assert off.settings.english_components == 0 and off.english_frame() is None
    np.testing.assert_array_equal(off.dense_scores(vec, english=True), off.dense_scores(vec))


def test_the_english_frame_ranks_and_the_floor_reads_the_plain_cosine(retriever):
    """The frame orders an English question's passages; the relevance floor and the cards read
    the same plain cosine as without it."""
    off, retriever = retriever, _with(retriever, english_components=1)
    question = "What should I do if a villager keeps coming back with the same complaint?"
    found = retriever.search(question, k=5)
    plain = off.dense_scores(found.vector)
    assert [h.dense for h in found.hits] == pytest.approx(
        [float(plain[retriever.passages.index(h.passage)]) for h in found.hits], abs=1e-5)
    zh = retriever.search(QUESTION, k=5)
    assert [h.passage.id for h in zh.hits] == [h.passage.id for h in off.search(QUESTION, k=5).hits]


def test_the_english_frame_helps_english_questions_on_the_tuning_set(retriever):
    """What the frame was measured to do on the tuning sets (dev_questions_en mrr 0.732 -> 0.764,
    corpus_questions en 0.662 -> 0.733; off by default, see docs/retrieval.md): with it the
    English dev translations must not rank worse than without."""
    qs = read_questions(LOCAL_EVAL / "tuning" / "dev_questions_en.jsonl")
    with_frame = evaluate("en", qs, _search(_with(retriever, english_components=1))).metrics
    without = evaluate("en", qs, _search(retriever)).metrics
    assert with_frame["mrr@10"] >= without["mrr@10"] and with_frame["hit@5"] >= without["hit@5"], (with_frame, without)


def test_the_ann_path_ranks_like_the_exact_scan(retriever):
    """Above exact_units the corrected cosines come from the FAISS candidates; on the questions
    here the top 5 is the same as the exact scan's."""
    ann = _with(retriever, exact_units=0)
    for q in read_questions(eval_file("dev_questions.jsonl"))[:8]:
        exact = [h.passage.id for h in retriever.retrieve(q.q, k=5)]
        assert [h.passage.id for h in ann.retrieve(q.q, k=5)] == exact, q.id


def test_relevance_floor_separates_on_and_off_topic(retriever):
    """The floor was calibrated on other off-topic questions (heldout/offtopic_calibration.jsonl,
    benchmarks/calibrate_floor.py); these two off-topic sets were not used, so a band, not zero."""
    for name in ("offtopic.jsonl", "heldout/offtopic_heldout.jsonl"):
        off = [json.loads(line)["q"] for line in (LOCAL_EVAL / name).read_text().splitlines()]
        passed = [q for q in off if is_relevant(retriever, q)]
        assert len(passed) <= 2, (name, passed)
    on = read_questions(eval_file("dev_questions.jsonl")) + read_questions(eval_file("dev_multiturn.jsonl"))
    refused = [q.id for q in on if not is_relevant(retriever, q.q, q.history)]
    assert len(refused) <= 1, refused
    assert not answer(retriever, "明天北京的天气怎么样?").found and answer(retriever, on[0].q).found


def test_an_off_topic_question_in_a_conversation_is_still_off_topic(retriever):
    """Only a follow-up that points back (or is too short to stand alone) is judged in its
    conversation; any other question is judged by the vector that ranks it. Check sets not used
    to choose this (benchmarks/calibrate_floor.py; measured 8 of 40 off-topic questions pass after
    a held-out question, 28 of 40 when every question was judged in its conversation; 1 of 6
    held-out follow-ups refused either way), so bands, not zero."""
    held = [json.loads(line)["q"] for line in (LOCAL_EVAL / "heldout" / "corpus_heldout.jsonl").read_text().splitlines()]
    off = [json.loads(line)["q"] for name in ("offtopic.jsonl", "heldout/offtopic_heldout.jsonl")
           for line in (LOCAL_EVAL / name).read_text().splitlines()]
    passed = [q for i, q in enumerate(off) if is_relevant(retriever, q, [held[i % len(held)]])]
    assert len(passed) <= 12, passed
    followups = read_questions(LOCAL_EVAL / "heldout" / "corpus_multiturn_heldout.jsonl")
    refused = [q.id for q in followups if not is_relevant(retriever, q.q, q.history)]
    assert len(refused) <= 2, refused
    assert not answer(retriever, "明天北京的天气怎么样?", [QUESTION]).found
    assert answer(retriever, "要是对方火气很大呢?", [QUESTION]).found


@pytest.mark.parametrize("followup", ["然后呢?", "为什么?", "Why?", "And then?"])
def test_a_follow_up_that_says_nothing_of_its_own_is_as_relevant_as_its_conversation(retriever, followup):
    """"然后呢?" / "Why?" after an answered question were refused: their own vector, near any
    generic question, pulled the conversation toward the general vocabulary the floor compares
    against. A question of function words only (stopwords-iso) is judged by its conversation;
    one with words of its own is not (an off-topic one stays off-topic, test above)."""
    from assistant.query import content_free

    assert content_free(followup) and not content_free("明天北京的天气怎么样?") and not content_free("举个例子")
    english = "How should I receive a petitioner who is very agitated?"
    for first in (QUESTION, english):
        assert answer(retriever, first).found
        ans = answer(retriever, followup, [first])
        assert ans.found, (first, followup, ans.text)
    assert not answer(retriever, followup, ["明天北京的天气怎么样?"]).found  # nothing to continue


def test_an_answer_point_is_never_a_title_or_heading(retriever):
    """The title line of a passage ("当前开展群众工作面临的挑战及 / 对策建议思考", broken over two
    lines) says what the passage is about; the point is a sentence of what it says."""
    for q in ("群众工作面临哪些挑战?", "乡镇干部如何做群众工作?", "如何做好新时期的群众工作?"):
        ans = answer(retriever, q)
        assert ans.found, q
        for (text, n), c in zip(ans.points, ans.citations):
            p = c.hit.passage
            bare = "".join(text.split()).rstrip("…")
            assert bare not in "".join(p.title.split()), (q, text)
            assert not text.startswith(p.title), (q, text)


def test_answer_points_cite_their_passages(retriever):
    ans = answer(retriever, QUESTION)
    assert ans.found and ans.citations and "[1]" in ans.text
    for text, n in ans.points:
        cited = ans.citations[n - 1].hit.passage.text
        assert text.rstrip("…") in cited or text.rstrip("…")[:40] in cited
    assert all(f"[{c.n}]" in ans.text for c in ans.citations)


@pytest.mark.parametrize("typed, seen", [
    ("遇到情绪激动的上访群众怎么接待?", "遇到情绪激动的上访群众怎么接待"),
    ("How do I calm an angry petitioner?!  ", "How do I calm an angry petitioner"),
    ("信访事项怎么办理……", "信访事项怎么办理"),
    ("一、接待;二、登记。", "一、接待;二、登记"),  # only the closing marks go
    ("U.S.", "U.S"),
    ("???", "???"),  # nothing but marks: left as typed
])
def test_the_embedder_reads_questions_without_closing_marks(typed, seen):
    from assistant.query import embedding_text

    assert embedding_text(typed) == seen


def test_a_closing_mark_does_not_change_the_question_vector(retriever, e5):
    """The mark costs the engine a token and says nothing about which passage answers."""
    retriever.clear_caches()
    plain, _ = retriever.query_vector(QUESTION.rstrip("?"))
    marked, _ = retriever.query_vector(QUESTION)
    assert np.array_equal(plain, marked)
    assert not np.allclose(marked, e5.embed_queries([QUESTION])[0], atol=1e-4)  # the engine does read it
