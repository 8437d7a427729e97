"""Extractive answers: the most relevant sentences of the top passages, each with its citation."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from assistant.retrieval import Retrieval, Retriever
from index.schema import Hit
from index.units import (
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


@dataclass(frozen=True)
class Citation:
    n: int
    hit: Hit
    margin: float = 0.0  # how far the passage beats the general-vocabulary background
    high: float = 0.07   # Settings.label_high / label_mid
    mid: float = 0.035

    @property
    def label(self) -> str:
        """A plain-language relevance label for trainees."""
        return "高度相关" if self.margin >= self.high else "相关" if self.margin >= self.mid else "可能相关"

    def to_dict(self) -> dict:
        return {"n": self.n, "label": self.label, **self.hit.public(), "id": self.hit.passage.id,
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
        return Answer(found.query, NOT_FOUND, False)
    if found.cited:  # "第十二条是怎么规定的？": what the cited articles say, each as written
        cited = found.hits[: min(found.cited, s.answer_points)]
        points = [(_clip("".join(unit_sentences(h.passage.text, h.passage.section)), ARTICLE_BUDGET), n)
                  for n, h in enumerate(cited, 1)]
    else:
        cited = [h for h in found.hits[: s.answer_points] if h.dense - found.background >= s.relevance_floor - s.citation_slack]
        points = [(_best_sentences(retriever, h.passage, found.vector), n) for n, h in enumerate(cited, 1)]
    lines = [f"{i}. {text} [{n}]" for i, (text, n) in enumerate(points, 1)]
    notes = _notes(retriever, found, cited)
    body = "\n\n".join([*notes, "根据资料库中的相关内容,要点如下:\n\n" + "\n".join(lines)])
    citations = tuple(Citation(n, h, h.dense - found.background, s.label_high, s.label_mid)
                      for n, h in enumerate(cited, 1))
    return Answer(found.query, body, True, citations, tuple(points), notes)


def _notes(retriever: Retriever, found: Retrieval, cited: Sequence[Hit]) -> tuple[str, ...]:
    """What the documents lack that the question asks for, or what it leaves open, said before
    the answer (and kept above a generated one)."""
    notes = []
    if found.cited and not any(names_a_law(t) for t in (found.query, *found.history)):
        # "第十二条是怎么规定的?" names no law: the article is of the nearest one; say which
        # other laws have it too
        doc, keys = found.hits[0].passage.doc, set(cited_articles(found.query))
        having = {d for d, articles in retriever.articles().items() if d != doc and keys & articles.keys()}
        shown = list(dict.fromkeys(h.passage.doc for h in found.hits if h.passage.doc in having))
        others = [retriever.data.documents[d].title for d in shown + sorted(having - set(shown))]
        if others:  # those the retrieval found first, then the rest
            names = "、".join(article_name(key) for key in sorted(keys))
            listed = "、".join(f"《{t}》" for t in others[:3]) + ("等" if len(others) > 3 else "")
            notes.append(f"问题没有指明是哪部法规;以下是《{found.hits[0].passage.title}》的{names},"
                         f"资料库中{listed}也有{names}。")
    if found.absent and found.hits:  # "第九十九条" of a law with fifty
        names = "、".join(article_name(key) for key in found.absent)
        notes.append(f"《{found.hits[0].passage.title}》中没有{names}。")
    if found.cited and names_another_law(found.query, found.hits[0].passage.title):
        # the article is of the nearest law the documents hold, which is not the one named
        notes.append(f"资料库中没有问题所说的法规;以下是《{found.hits[0].passage.title}》的相应条文。")
    if not found.cited and cites_a_law(found.query) and not any(is_article(h.passage) for h in cited):
        # "信访条例第十二条…" over documents that hold no such law: say so, then what is related
        names = "、".join(article_name(key) for key in sorted(cited_articles(found.query)))
        lacking = "资料库中没有法规条文,找不到" if not retriever.articles() else "资料库中没有找到"
        notes.append(f"{lacking}问题所引的条文({names}),以下内容可能相关。")
    return tuple(notes)


def _best_sentences(retriever: Retriever, passage, vec: np.ndarray, budget: int = 160) -> str:
    """The passage's sentence closest in meaning to the question (scored with the vectors stored
    for its match units, so answering embeds nothing new), plus the next one if it is short. A
    line that is the document's title or one of the passage's headings is not a point: it says
    what the passage is about, not what it says."""
    sents = unit_sentences(passage.text, passage.section)
    vectors = retriever.unit_vectors(passage.id)
    if len(sents) != len(vectors):  # an index built by other rules: fall back to the model
        vectors = retriever.embedder.embed_passages(sents)
    labels = {normalise(x) for x in (passage.title, *passage.section.split(" / ")) if normalise(x)}
    title = normalise(passage.title)

    def label(sent: str) -> bool:  # a heading, the title, or a line of a title broken over two
        bare = normalise(sent)
        return bare in labels or (len(bare) >= 4 and bare in title)

    said = [i for i, sent in enumerate(sents) if not label(sent)] or list(range(len(sents)))
    scores = vectors @ vec
    best = max(said, key=lambda i: scores[i])
    text = sents[best]
    after = [i for i in said if i > best]
    if len(text) < 40 and after:  # a short sentence rarely stands alone
        text += sents[after[0]]
    return _clip(text, budget)


def _clip(s: str, budget: int) -> str:
    return s if len(s) <= budget else s[: budget - 1] + "…"
