"""Extractive answers: the most relevant sentences of the top passages, each with its citation."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from assistant.retrieval import Retrieval, Retriever
from index.crosslingual import is_english
from index.schema import Hit
from index.units import (
    article_key,
    article_name,
    cited_articles,
    cites_a_law,
    is_article,
    names_a_law,
    names_another_law,
    normalise,
    unit_sentences,
)

ARTICLE_BUDGET = 300  # characters of a cited article quoted as one point (the card has all of it)
NOT_FOUND = "未找到相关内容。资料库中没有与这个问题足够相关的段落,请换个说法或补充细节再问。"
LEAD = "根据资料库中的相关内容,要点如下:"
NO_LAW = "资料库中没有法规条文,找不到问题所引的条文"  # documents with no law at all
# An English question is answered from Chinese documents: one English line says what follows.
NOT_FOUND_EN = NOT_FOUND + "\n\nNothing in the documents is relevant enough to this question: try other words or add details."
LEAD_EN = LEAD + "\n(The documents are in Chinese: each point below quotes them, with its source [n].)"


@dataclass(frozen=True)
class Citation:
    n: int
    hit: Hit
    margin: float = 0.0  # how far the passage beats the general-vocabulary background
    high: float = 0.07   # Settings.label_high / label_mid
    mid: float = 0.035
    cited: bool = False  # an article the question cites by number

    @property
    def label(self) -> str:
        """A plain-language relevance label for trainees."""
        return "高度相关" if self.margin >= self.high else "相关" if self.margin >= self.mid else "可能相关"

    def to_dict(self) -> dict:
        return {"n": self.n, "label": self.label, **self.hit.public(), "cited": self.cited, "id": self.hit.passage.id,
                "clean_start": self.hit.passage.clean_start, "clean_end": self.hit.passage.clean_end}


@dataclass(frozen=True)
class Answer:
    query: str
    text: str
    found: bool
    citations: tuple[Citation, ...] = field(default=())
    points: tuple[tuple[str, int], ...] = ()
    notes: tuple[str, ...] = ()  # what the documents lack that the question asks for (shown first)

    def to_dict(self) -> dict:
        return {"query": self.query, "found": self.found, "answer": self.text,
                "points": [{"text": t, "citation": n} for t, n in self.points], "notes": list(self.notes),
                "citations": [c.to_dict() for c in self.citations]}


def is_relevant(retriever: Retriever, query: str, history: Sequence[str] = ()) -> bool:
    return retriever.search(query, k=5, history=history).relevant(retriever.settings.relevance_floor)


def answer(retriever: Retriever, query: str, history: Sequence[str] = (), k: int = 5) -> Answer:
    return answer_from(retriever, retriever.search(query, k=k, history=history))


def answer_from(retriever: Retriever, found: Retrieval) -> Answer:
    """The extractive answer for a retrieval already made (nothing is retrieved again)."""
    s = retriever.settings
    if not found.relevant(s.relevance_floor):
        refusal = NOT_FOUND_EN if is_english(found.query) else NOT_FOUND
        keys = cited_articles(found.query) if cites_a_law(found.query) else set()
        if keys and not retriever.articles():  # "信访条例第十二条…", "Article 10" over documents with no law
            note = f"{NO_LAW}({_names(keys)})。"
            if is_english(found.query):
                note += f"\n(The documents hold no articles of any law, so not {_names_en(keys)}.)"
            return Answer(found.query, f"{note}\n\n{refusal}", False, notes=(note,))
        return Answer(found.query, refusal, False)
    if found.cited:  # "第十二条是怎么规定的？": what the cited articles say, each as written
        cited = found.hits[: min(found.cited, s.answer_points)]
        points = [(_article_text(h.passage), n) for n, h in enumerate(cited, 1)]
    else:
        cited = [h for h in found.hits[: s.answer_points] if h.dense - found.background >= s.relevance_floor - s.citation_slack]
        points = [(_point(retriever, h.passage, found.vector), n) for n, h in enumerate(cited, 1)]
    lines = [f"{i}. {text} [{n}]" for i, (text, n) in enumerate(points, 1)]
    notes = _notes(retriever, found, cited)
    lead = LEAD_EN if is_english(found.query) else LEAD
    body = "\n\n".join([*notes, lead + "\n\n" + "\n".join(lines)])
    citations = tuple(Citation(n, h, h.dense - found.background, s.label_high, s.label_mid, bool(found.cited))
                      for n, h in enumerate(cited, 1))
    return Answer(found.query, body, True, citations, tuple(points), notes)


def _notes(retriever: Retriever, found: Retrieval, cited: Sequence[Hit]) -> tuple[str, ...]:
    """What the documents lack that the question asks for, or what it leaves open, said before
    the answer (and kept above a generated one); for an English question each note in English too."""
    return tuple(zh + (f"\n({en})" if is_english(found.query) else "") for zh, en in _note_pairs(retriever, found, cited))


def _note_pairs(retriever: Retriever, found: Retrieval, cited: Sequence[Hit]) -> list[tuple[str, str]]:
    notes = []
    title = found.hits[0].passage.title if found.hits else ""
    if found.cited and not any(names_a_law(t) for t in (found.query, *found.history)):
        # "第十二条是怎么规定的?" names no law: the article is of the nearest one; say which
        # other laws have it too
        doc, keys = found.hits[0].passage.doc, set(cited_articles(found.query))
        having = {d for d, articles in retriever.articles().items() if d != doc and keys & articles.keys()}
        shown = list(dict.fromkeys(h.passage.doc for h in found.hits if h.passage.doc in having))
        others = [retriever.data.documents[d].title for d in shown + sorted(having - set(shown))]
        if others:  # those the retrieval found first, then the rest
            names = _names(keys)
            listed = "、".join(f"《{t}》" for t in others[:3]) + ("等" if len(others) > 3 else "")
            also = ", ".join(f"《{t}》" for t in others[:3]) + (" and others" if len(others) > 3 else "")
            notes.append((f"问题没有指明是哪部法规;以下是《{title}》的{names},资料库中{listed}也有{names}。",
                          f"The question names no law: below is {_names_en(keys)} of 《{title}》; "
                          f"{also} in the documents have {_names_en(keys)} too."))
    if found.absent and found.hits:  # "第九十九条" of a law with fifty
        notes.append((f"《{title}》中没有{_names(found.absent)}。", f"《{title}》 has no {_names_en(found.absent)}."))
    named = next((t for t in (found.query, *reversed(found.history)) if names_a_law(t)), "")
    if found.cited and named and names_another_law(named, title):
        # the article is of the nearest law the documents hold, which is not the one named
        notes.append((f"资料库中没有问题所说的法规;以下是《{title}》的相应条文。",
                      f"The documents hold no law of the name asked about; below is the same article of 《{title}》."))
    if not found.cited and cites_a_law(found.query) and not any(is_article(h.passage) for h in cited):
        # "信访条例第十二条…" over documents that hold no such law: say so, then what is related
        keys = cited_articles(found.query)
        if not retriever.articles():
            pair = (NO_LAW, f"The documents hold no articles of any law, so not {_names_en(keys)}")
        else:
            pair = ("资料库中没有找到问题所引的条文", f"{_names_en(keys)} as cited was not found in the documents")
        notes.append((f"{pair[0]}({_names(keys)}),以下内容可能相关。", f"{pair[1]}; what follows may be related."))
    return notes


def _names(keys) -> str:
    """Cited articles as a law writes them: 第十二条、第十五条."""
    return "、".join(article_name(key) for key in sorted(keys))


def _names_en(keys) -> str:
    """The same in English: "Article 12", "Articles 12 and 15", "Article 10-1" (第十条之一)."""
    names = [f"{n}-{sub}" if sub else str(n) for n, sub in sorted(keys)]
    return ("Article " if len(names) == 1 else "Articles ") + (
        names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1])


# How a sentence leans on its neighbours. A lead-in ends with a colon and introduces the items
# after it; an item ("（三）…", "二、…", "3.…", "①…") belongs to the lead-in before it; a clause
# opening with a contrast or condition ("但是…除外", "否则…") qualifies the sentence before it.
# Shown alone, each says less than the document does (an exception without its rule reads as
# the opposite of the rule).
_LEAD_IN = re.compile(r"[：:]\s*$")
_ITEM = re.compile(r"\s*(?:[(（][一二三四五六七八九十\d]{1,3}[)）]|[一二三四五六七八九十]{1,3}、|\d{1,2}[、.．)）](?!\d)|[①-⑳])")
_LEANS_BACK = re.compile(r"\s*(?:但是|但(?=[，,])|然而|否则|不过)")
_SENTENCE_CUT = re.compile(r"[。！？!?；;]")


def _best_sentences(retriever: Retriever, passage, vec: np.ndarray, budget: int = 160) -> str:
    """The passage's sentence closest in meaning to the question (scored with the vectors stored
    for its match units, so answering embeds nothing new), with what it leans on (`_around`),
    and, when short, with whichever of the sentences before and after it is nearer the question.
    A line that is the document's title or one of the passage's headings is not a point: it says
    what the passage is about, not what it says."""
    sents = unit_sentences(passage.text, passage.section)
    vectors = retriever.unit_vectors(passage.id)
    if len(sents) != len(vectors):  # an index built by other rules: fall back to the model
        vectors = retriever.embedder.embed_passages(sents)
    said = _said(passage, sents) or list(range(len(sents)))
    scores = vectors @ vec
    best = max(said, key=lambda i: scores[i])
    text, first, last = _around(sents, best, set(said), budget)
    if len(text) < 40:  # a short sentence rarely stands alone: with the nearer of its neighbours
        near = [i for i in (first - 1, last + 1) if i in said]
        if near:
            k = max(near, key=lambda i: scores[i])
            text = _join([sents[k], text] if k < first else [text, sents[k]])
    return _clip(_unlabelled(passage, text), budget)


def _point(retriever: Retriever, passage, vec: np.ndarray) -> str:
    """What a found passage says to the question: an article of a law that fits a point whole,
    whole (its sentences lean on each other: a 复查 deadline and the 复核 one after it, a time
    limit and its extension; the sentence nearest the question alone was often the wrong half);
    any other passage, its sentences nearest the question (`_best_sentences`)."""
    head, text = _article_parts(passage)
    if head and len(head) + len(text) <= ARTICLE_BUDGET:  # a head: an article of a law
        return head + text
    return _best_sentences(retriever, passage, vec)


def _article_parts(passage) -> tuple[str, str]:
    """(the law's name and article number to lead with, what the article says) of a passage of
    a law, without the chapter and section lines above it; ("", its text) for any other passage."""
    sents = unit_sentences(passage.text, passage.section)
    text = _join([sents[i] for i in _said(passage, sents)] or sents)
    if not (passage.title and is_article(passage)):
        return "", text
    article = passage.headings[-1]  # a passage that continues an article names it: 《…》第十一条:（十一）…
    return f"《{passage.title}》" + ("" if text.startswith(article) else f"{article}:"), text


def _article_text(passage) -> str:
    """A cited article as a point, under the law's name (《北京市信访条例》第十二条 …: which law
    it is of shows in the answer itself, not only on its card)."""
    head, text = _article_parts(passage)
    return head + _clip(text, ARTICLE_BUDGET - len(head))


# A law's record line under its title (题注): "（1988年6月25日国务院第十次常务会议通过 1988年7月3日
# 国务院令第7号发布）", what was adopted when, not what the law says.
_RECORD = re.compile(r"[（(]?\s*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日[^。；;，,]*?"
                     r"(?:通过|发布|公布|施行|修订|修正|批准)[^。；;，,]*?[）)]?[。]?\s*")  # no comma: not a sentence


def _said(passage, sents: Sequence[str]) -> list[int]:
    """The indexes of the sentences that say something: not a heading of the passage, the title,
    a line of a title broken over two, or a law's record line (题注)."""
    title = normalise(passage.title)
    labels = {normalise(x) for x in (passage.title, *passage.section.split(" / "))}

    def label(sent: str) -> bool:
        bare = normalise(sent)
        return bool(_RECORD.fullmatch(sent)) or (bool(bare) and (bare in labels or (len(bare) >= 4 and bare in title)))

    return [i for i, sent in enumerate(sents) if not label(sent)]


def _is_label(passage, sent: str) -> bool:
    """Whether one line is such a label (`_said`)."""
    return not _said(passage, [sent])


def _unlabelled(passage, text: str) -> str:
    """`text` without a heading that opens it on the same line, set off by a space ("二、突出问题
    建国以来…"). An article's number stays: it is how a law's sentence is cited."""
    for label in sorted(passage.section.split(" / "), key=len, reverse=True):
        if (len(label) >= 4 and article_key(label) is None and text.startswith(label)
                and text[len(label):len(label) + 1] in (" ", "\u3000") and len(text) - len(label) >= 12):
            return text[len(label):].lstrip(" \u3000")
    return text


def _around(sents: list[str], best: int, said: set[int], budget: int) -> tuple[str, int, int]:
    """Sentence `best` with what it leans on, and the indexes of the first and last sentence used: the
    sentence a contrast or condition qualifies; the lead-in of a list item, with the whole list
    when it fits the budget, else with "……" for the items that come between; the items after a
    lead-in, as many as the budget holds (one at least)."""
    lo = hi = best
    while lo - 1 in said and _LEANS_BACK.match(sents[lo]):
        lo -= 1
    head, start = "", lo
    if _ITEM.match(sents[lo]):
        lead = next((k for k in range(lo - 1, -1, -1) if not _ITEM.match(sents[k])), None)
        if lead is not None and lead in said and _LEAD_IN.search(sents[lead]):
            first = lead  # the lead-in's whole sentence: its clauses before a "；" too
            while first - 1 in said and sents[first - 1].endswith(("；", ";")) and not _ITEM.match(sents[first - 1]):
                first -= 1
            last = lo
            while last + 1 < len(sents) and _ITEM.match(sents[last + 1]):
                last += 1
            whole = _join(sents[first:last + 1])
            if len(whole) <= budget:  # the whole list fits: all of it ("有哪些权利?" asks for the list)
                return whole, first, last
            head, start = _join(sents[first:lead + 1]) + ("……" if lead < lo - 1 else ""), first
    text = _join([head, *sents[lo:hi + 1]]) if head else _join(sents[lo:hi + 1])
    if _LEAD_IN.search(sents[hi]):
        while hi + 1 < len(sents) and _ITEM.match(sents[hi + 1]) and (
                hi == best or len(text) + len(sents[hi + 1]) <= budget):
            hi += 1
            text = _join([text, sents[hi]])
    return text, start, hi


_ENDED = re.compile(r"[。！？!?；;：:…”’」』)）,，、]$")


def _join(parts: Sequence[str]) -> str:
    """Sentences as one point: a line that ends without punctuation (a table row "区信访办 |
    周二全天 | 65432100", a heading) is set off from the next by a space, not glued to it."""
    out = ""
    for part in parts:
        out += (" " if out and not _ENDED.search(out) else "") + part
    return out


def _clip(s: str, budget: int) -> str:
    """`s` within `budget` characters: cut after its last sentence end that keeps at least half
    of it, else at the budget, marked "…"."""
    if len(s) <= budget:
        return s
    ends = [m.end() for m in _SENTENCE_CUT.finditer(s, 0, budget - 1)]
    if ends and ends[-1] >= budget // 2:
        return s[:ends[-1]] + "…"
    return s[: budget - 1] + "…"
