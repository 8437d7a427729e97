"""Turning what a user typed into something safe to retrieve with."""
from __future__ import annotations

import re
import unicodedata
from functools import cache

from index.errors import QueryError
from index.settings import Settings

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff\ud800-\udfff]")
_SPACE = re.compile(r"\s+")

# A follow-up leans on the conversation when it points back: a demonstrative or third-person
# pronoun, another pro-form (temporal 当时/届时 "then, at the time", 上述/前述 "the above", "the
# former/latter", "if so"; these are closed grammatical classes in both languages; existential
# "there" is left out, it opens standalone questions: "Is there a deadline?"), or an elliptical
# question: ending in the particle 呢 in Chinese ("要是对方火气很大呢?"), "what if / what about /
# how about ...?" or a question opened by "and" in English. The classes are grammar, not words
# of any question set (a tuning follow-up's "at the time" showed the temporal pro-forms missing).
_POINTS_BACK = re.compile(
    r"[这那此](?:一|[个些种样么里儿边位件条项点]|$)|(?<!其)[他她它]|(?<![尤极])其(?![他余它实次])|"
    r"该(?=[项条事人])|当时|届时|上述|前述|呢[?？]?$|"
    r"\b(?:it|its|they|them|their|this|that|these|those|he|she|him|her|such|then|former|latter)\b|"
    r"\bat\s+the\s+time\b|\bthe\s+above\b|\b(?:if|say|says|said)\s+so\b|"
    r"^\s*(?:and\b|what\s+if\b|(?:what|how)\s+about\b)", re.IGNORECASE)

def clean_query(text: str | None, max_chars: int = Settings.max_query_chars) -> str:
    """Strip control characters and excess space; refuse an empty query; clip a huge one to
    its beginning and its end (`clip`)."""
    if text is not None and not isinstance(text, str):
        raise QueryError("问题必须是文字 (the query must be text)")
    text = unicodedata.normalize("NFC", text or "")
    text = _SPACE.sub(" ", _CONTROL.sub(" ", text)).strip()
    if not any(ch.isalnum() for ch in text):
        raise QueryError("问题为空:请输入要查询的问题。")
    return clip(text, max_chars)


CLIP_MARK = " … "


def clip(text: str, max_chars: int) -> str:
    """A text over `max_chars` as its first and its last `max_chars // 2` characters: a long
    question is a case described at length and the question asked at its end."""
    if len(text) <= max_chars:
        return text
    tail = max_chars // 2
    return text[: max_chars - tail].rstrip() + CLIP_MARK + text[len(text) - tail:].lstrip()


# Closing punctuation of a question ("?", "。", "!", "...") and what follows it.
_CLOSING = re.compile(r"[\s?？!！。.．…,，;；:：、~～]+$")


def embedding_text(query: str) -> str:
    """What the embedder reads for a question: without its closing punctuation. The mark tells
    the model nothing about which passage answers, and each token costs the engine about half
    a millisecond (a question is about 20 tokens)."""
    return _CLOSING.sub("", query) or query


def clean_history(history, turns: int = Settings.history_turns, max_chars: int = Settings.max_query_chars) -> list[str]:
    """The last `turns` usable earlier turns, each cleaned like a question."""
    out = []
    for turn in history or ():
        try:
            out.append(clean_query(turn, max_chars))
        except QueryError:
            continue
    return out[-turns:] if turns > 0 else []


_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?|\d+")


def content_free(query: str) -> bool:
    """Whether a question says nothing of its own, only asks the conversation on: every word of
    it is a function word ("然后呢?", "为什么?", "怎么办?", "Why?", "And then?"). The function
    words are the general stopword lists of stopwords-iso (Chinese and English), not words of
    any question set; Chinese is cut into words as the lexical index cuts it."""
    from index.segment import cut_for_search

    stop = _stopwords()
    han = re.sub(r"[A-Za-z0-9'\s\W_]+", " ", query)
    words = [w for part in han.split() for w in cut_for_search(part)] + [w.lower() for w in _WORD.findall(query)]
    return bool(words) and all(w in stop for w in words)


@cache
def _stopwords() -> frozenset[str]:
    import stopwordsiso

    return frozenset(stopwordsiso.stopwords("zh")) | frozenset(stopwordsiso.stopwords("en"))


def followup_strength(query: str, short: int = Settings.followup_short, weak: float = Settings.followup_weak) -> float:
    """1.0 for a question that points back or is too short to stand alone (fewer than `short`
    letters), `weak` for one that may merely continue the topic."""
    letters = sum(1 for ch in query if ch.isalnum())
    if _POINTS_BACK.search(query) or letters < short:
        return 1.0
    return weak
