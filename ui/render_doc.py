"""HTML for the source viewer: a whole document with marked spans and, for the original
file's text, what the cleaner removed struck through and labelled with its rule."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from ui.render import esc


@dataclass(frozen=True)
class Mark:
    """A highlighted span; `ident` (an HTML id built from integers) lets the page scroll to it."""

    start: int
    end: int
    ident: str = ""
    focus: bool = False


def document_view(text: str, marks: Sequence[Mark], removals: Sequence[dict] = (),
                  label: Callable[[str], str] = str) -> str:
    """`text` with `marks` highlighted; `removals` (original view only) struck through."""
    cuts = _non_overlapping(sorted((int(r["start"]), int(r["end"]), r["rule"]) for r in removals))
    spans = sorted(marks, key=lambda m: (not m.focus, m.start))
    bounds = {0, len(text)}
    for a, b, _ in cuts:
        bounds |= {a, b}
    for m in spans:
        bounds |= {m.start, m.end}
    edges = sorted(x for x in bounds if 0 <= x <= len(text))
    out, started, ci = [], set(), 0
    for a, b in zip(edges, edges[1:]):
        while ci < len(cuts) and cuts[ci][1] <= a:
            ci += 1
        cut = cuts[ci] if ci < len(cuts) and cuts[ci][0] <= a < cuts[ci][1] else None
        piece = _removed(text[a:b], cut, b == cut[1], label) if cut else esc(text[a:b])
        mark = next((m for m in spans if m.start <= a < m.end), None)
        if mark is not None:
            ident = f' id="{mark.ident}"' if mark.ident and mark not in started else ""
            started.add(mark)
            css = "qz-hl qz-focus" if mark.focus else "qz-hl qz-other"
            piece = f'<mark class="{css}"{ident}>{piece}</mark>'
        out.append(piece)
    return f'<div class="qz-doc">{"".join(out)}</div>'


def _non_overlapping(cuts: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    for a, b, rule in cuts:
        if b <= a or (out and a < out[-1][1]):
            continue
        out.append((a, b, rule))
    return out


def _removed(piece: str, cut: tuple[int, int, str], last: bool, label: Callable[[str], str]) -> str:
    name = esc(label(cut[2]))
    if piece.strip():
        body = piece.rstrip("\n")  # the label goes before a removed line break, not on the next line
        tag = f'<sup class="qz-rule">{name}</sup>' if last else ""
        tail = f'<del class="qz-del">{piece[len(body):]}</del>' if len(body) < len(piece) else ""
        return f'<del class="qz-del" title="{name}">{esc(body)}</del>{tag}{tail}'
    # Removed whitespace is invisible as it is: show a symbol, keep the line breaks.
    symbol = "↵" if "\n" in piece else "␣"
    breaks = "\n" * min(piece.count("\n"), 2)
    return f'<del class="qz-del qz-ws" title="{name}">{symbol}</del>{breaks}'


def legend(removals: Sequence[dict], label: Callable[[str], str]) -> str:
    """What the marks in the original view mean, with a count per rule."""
    counts: dict[str, int] = {}
    for r in removals:
        counts[r["rule"]] = counts.get(r["rule"], 0) + 1
    chips = "".join(f'<span class="qz-chip">{esc(label(rule))} × {n}</span>' for rule, n in sorted(counts.items()))
    return (f'<div class="qz-legend"><del class="qz-del">删除线</del> 为清洗时删除的内容,'
            f'<sup class="qz-rule">标签</sup> 注明删除原因;<del class="qz-del qz-ws">↵</del>'
            f'<del class="qz-del qz-ws">␣</del> 表示删除的换行/空格。{chips}</div>')
