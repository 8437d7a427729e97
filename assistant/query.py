"""Turning what a user typed into something safe to retrieve with."""
from __future__ import annotations

import re
import unicodedata

from index.errors import QueryError

MAX_QUERY_CHARS = 500
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff\ud800-\udfff]")
_SPACE = re.compile(r"\s+")

# A follow-up leans on the conversation: it points back (那/这/其中/对方/当时...),
# asks "what about..." (呢?), or is too short to stand alone.
_FOLLOWUP = re.compile(
    r"^(那|那么|那以后|这|这个|这种|这样|这些|那些|其中|它|他|她|他们|对方|当时|此时|如果|要是|假如|万一|还有|另外|然后|再|又|"
    r"and |but |what about|how about|then |what if|if )|"
    r"(呢|吗)[??]?$|(其中|这一条|那一条|上面|前面|刚才|这件事|那件事|这种情况|对方|他们|当时)", re.IGNORECASE)


def clean_query(text: str | None) -> str:
    """Strip control characters and excess space; refuse an empty query; clip a huge one."""
    if text is not None and not isinstance(text, str):
        raise QueryError("问题必须是文字 (the query must be text)")
    text = unicodedata.normalize("NFC", text or "")
    text = _SPACE.sub(" ", _CONTROL.sub(" ", text)).strip()
    if not any(ch.isalnum() for ch in text):
        raise QueryError("问题为空:请输入要查询的问题 (empty query)")
    return text[:MAX_QUERY_CHARS]


# Closing punctuation of a question ("?", "。", "!", "...") and what follows it.
_CLOSING = re.compile(r"[\s?？!！。.．…,，;；:：、~～]+$")


def embedding_text(query: str) -> str:
    """What the embedder reads for a question: without its closing punctuation. The mark tells
    the model nothing about which passage answers, and each token costs the engine about half
    a millisecond (a question is about 20 tokens)."""
    return _CLOSING.sub("", query) or query


def clean_history(history) -> list[str]:
    out = []
    for turn in history or ():
        try:
            out.append(clean_query(turn))
        except QueryError:
            continue
    return out[-2:]


def followup_strength(query: str) -> float:
    """1.0 for a question that clearly depends on earlier turns, 0.4 for one that may."""
    letters = sum(1 for ch in query if ch.isalnum())
    if _FOLLOWUP.search(query) or letters < 10:
        return 1.0
    return 0.4
