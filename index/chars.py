"""Character classes that ingest, index and assistant share (one spelling of each range)."""
from __future__ import annotations

# CJK Unified Ideographs: what counts as a Chinese character in tokens, counts and patterns.
HAN = "\u4e00-\u9fff"
# With the rarer Han blocks (Extension A, compatibility ideographs): the cleaner's class.
HAN_ALL = f"\u3400-\u4dbf{HAN}\uf900-\ufaff"
# CJK punctuation, kana and Han, and the full-width forms: text that runs on without spaces.
EAST_ASIAN = "\u3000-\u9fff\uff00-\uffef"


def is_han(ch: str) -> bool:
    """Is the character a CJK unified ideograph (the HAN range)?"""
    return "\u4e00" <= ch <= "\u9fff"


def han_count(text: str) -> int:
    """How many characters of `text` are in the HAN range."""
    return sum(map(is_han, text))
