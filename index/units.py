"""The unit contract: what text is embedded for a passage, and how texts are compared.

Ingest embeds `match_units(passage)` for every passage; query time reads the same rules
(`unit_sentences` to pick the sentence behind a card, `normalise`/`norm_windows` to spot
repeats). Both sides must agree, so the rules live here, in the layer both import.
Bump `UNITS_VERSION` whenever any function below changes what it returns: an index
embedded under other rules no longer matches them.
"""
from __future__ import annotations

import re
import unicodedata

from index.schema import Passage

UNITS_VERSION = 2

# The dup metric's window (shared/eval README): two passages sharing one normalised 30-character
# window count as repeats. A definition of what the eval measures, not a tunable: it stays a
# constant, outside `Settings`, so a setting can never change how results are scored.
WINDOW = 30

# A sentence: up to its end marks and one closing quote or bracket. The cleaner and the answer
# check split by it too, so a sentence is the same thing everywhere.
SENTENCE_END = "。！？!?；;…"
SENTENCE = re.compile(rf"[^{SENTENCE_END}\n]+[{SENTENCE_END}]*[”’」』)）]?")


def normalise(s: str) -> str:
    """The metric's normalisation: NFKC, then letters and digits only."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", s) if unicodedata.category(ch)[0] in "LN")


def sentences(text: str) -> list[str]:
    """Sentences of `text` (ends kept), dropping fragments with fewer than 6 letters/digits."""
    return [s.strip() for s in SENTENCE.findall(text) if sum(ch.isalnum() for ch in s) >= 6]


def unit_sentences(text: str, section: str) -> list[str]:
    """The sentences of a passage that get their own vector: all but a repeat of its own heading."""
    head = section.split(" / ")[-1] if section else ""
    return [s for s in sentences(text) if s.rstrip("。；;：: ") != head] or [text]


def match_units(p: Passage) -> list[str]:
    """The texts the embedder sees for a passage: each sentence, led by its section path.

    A passage is scored by its best unit, so one sentence that answers the question is
    not diluted by the rest of the passage, while the headings above it say what it is about."""
    path = p.section.replace(" / ", " ")
    return [f"{path}\n{u}" if path else u for u in unit_sentences(p.text, p.section)]


def windows(text: str) -> set[str]:
    """The normalised 30-character windows of `text` (the whole text if shorter)."""
    return norm_windows(normalise(text))


def norm_windows(norm: str) -> set[str]:
    """The 30-character windows of an already normalised text."""
    if len(norm) <= WINDOW:
        return {norm} if norm else set()
    return {norm[i:i + WINDOW] for i in range(len(norm) - WINDOW + 1)}


def has_content(s: str) -> bool:
    return len(normalise(s)) >= 4
