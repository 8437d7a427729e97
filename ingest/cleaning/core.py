"""The value objects of cleaning and the driver that runs rules and composes offset maps.

Cleaning only *deletes* characters: the cleaned text is a subsequence of the
original and ``CleanText.offsets[i]`` is the original index of cleaned
character ``i``.  Each rule returns ``(start, end)`` spans to delete in the
*current* text; ``run_rules`` applies them one rule at a time and maps every
span back to the original.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ingest.structure import fold_width

if TYPE_CHECKING:
    import numpy as np

Span = tuple[int, int]
Embed = Callable[[list[str]], "np.ndarray"]


@dataclass(frozen=True)
class Removal:
    start: int  # span in the ORIGINAL text, end exclusive
    end: int
    rule: str
    text: str  # original[start:end]


@dataclass(frozen=True)
class CleanText:
    text: str
    offsets: tuple[int, ...]  # offsets[i] = index in the original of cleaned char i
    removals: tuple[Removal, ...]  # sorted by start

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a cleaned span [start, end) to the original span it covers."""
        n = len(self.offsets)
        start, end = max(0, min(start, n)), max(0, min(end, n))
        if end <= start:
            if n == 0:
                return 0, 0
            at = self.offsets[start] if start < n else self.offsets[-1] + 1
            return at, at
        return self.offsets[start], self.offsets[end - 1] + 1

    def removed_chars(self) -> int:
        return sum(r.end - r.start for r in self.removals)

    def by_rule(self) -> dict[str, list[Removal]]:
        out: dict[str, list[Removal]] = {}
        for r in self.removals:
            out.setdefault(r.rule, []).append(r)
        return out


@dataclass(frozen=True)
class Rule:
    name: str
    find: Callable[..., list[Span]]
    doc: str
    needs_embed: bool = False


def _normalise(spans: list[Span], n: int) -> list[Span]:
    """Clamp, sort and merge overlapping or touching spans."""
    out: list[list[int]] = []
    for a, b in sorted((max(0, a), min(n, b)) for a, b in spans):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _record(spans: list[Span], offsets: list[int], original: str, rule: str) -> list[Removal]:
    """Removals in original coordinates: one per run of contiguous original indices."""
    out = []
    for a, b in spans:
        run_start = prev = offsets[a]
        for i in range(a + 1, b):
            if offsets[i] != prev + 1:
                out.append(Removal(run_start, prev + 1, rule, original[run_start:prev + 1]))
                run_start = offsets[i]
            prev = offsets[i]
        out.append(Removal(run_start, prev + 1, rule, original[run_start:prev + 1]))
    return out


def _merge_removals(removals: list[Removal], original: str) -> tuple[Removal, ...]:
    out: list[Removal] = []
    for r in sorted(removals, key=lambda r: r.start):
        if out and out[-1].rule == r.rule and out[-1].end == r.start:
            last = out.pop()
            r = Removal(last.start, r.end, r.rule, original[last.start:r.end])
        out.append(r)
    return tuple(out)


def _delete(text: str, offsets: list[int], spans: list[Span]) -> tuple[str, list[int]]:
    """The text and its offset map without the (normalised) spans."""
    keep = [True] * len(text)
    for a, b in spans:
        keep[a:b] = [False] * (b - a)
    return "".join(ch for ch, k in zip(text, keep) if k), [o for o, k in zip(offsets, keep) if k]


MARKED = "page_chrome"  # the rule name of spans the loader marked as page furniture


def run_rules(original: str, rules: tuple[Rule, ...], embed: Embed | None = None,
              marked: tuple[Span, ...] = ()) -> CleanText:
    """Run the rules in order, each on the text the previous ones left; compose the offset map.

    ``marked`` spans (page furniture the file's own structure shows, such as an
    HTML page's navigation) go first, recorded as the rule ``page_chrome``.
    """
    text, offsets = original, list(range(len(original)))
    removals: list[Removal] = []
    first = Rule(MARKED, lambda _text: list(marked), "page furniture marked by the loader")
    for rule in ((first,) if marked else ()) + rules:
        seen = fold_width(text)  # one character for one: spans index `text`
        found = rule.find(seen, embed=embed) if rule.needs_embed else rule.find(seen)
        spans = _normalise(found, len(text))
        if not spans:
            continue
        removals += _record(spans, offsets, original, rule.name)
        text, offsets = _delete(text, offsets, spans)
    return CleanText(text, tuple(offsets), _merge_removals(removals, original))
