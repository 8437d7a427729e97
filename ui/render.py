"""HTML for the web UI. Every text from documents or users goes through `esc` first."""
from __future__ import annotations

import html
import re
from typing import Sequence

from assistant.answer import Answer, Citation
from index.lexical import tokenize


def esc(text: str) -> str:
    return html.escape(text or "", quote=True)


def highlight_terms(text: str, query: str) -> str:
    """Escape `text` and wrap the question's words in <mark>."""
    terms = sorted({t for t in tokenize(query) if len(t) >= 2}, key=len, reverse=True)
    if not terms:
        return esc(text)
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    out, pos = [], 0
    for m in pattern.finditer(text):
        out.append(esc(text[pos:m.start()]))
        out.append(f"<mark>{esc(m.group())}</mark>")
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def answer_markdown(ans: Answer) -> str:
    """The chat bubble: answer text (escaped) with [n] markers."""
    return esc(ans.text).replace("\n", "  \n")


def citation_cards(ans: Answer) -> str:
    if not ans.found:
        return '<div class="qz-empty">未找到相关内容,没有可引用的段落。</div>'
    return "".join(citation_card(c, ans.query) for c in ans.citations)


def citation_card(c: Citation, query: str) -> str:
    p = c.hit.passage
    section = f'<div class="qz-section">{esc(p.section)}</div>' if p.section else ""
    also = f'<div class="qz-also">该段在文档中重复出现 {len(p.also) + 1} 次</div>' if p.also else ""
    return (f'<div class="qz-card" data-pid="{p.id}">'
            f'<div class="qz-head"><span class="qz-n">[{c.n}]</span> <b>{esc(p.title)}</b> '
            f'<span class="qz-label">{esc(c.label)}</span></div>{section}'
            f'<div class="qz-text">{highlight_terms(p.text, query)}</div>{also}'
            f'<div class="qz-src">{esc(p.doc)} · 原文第 {p.start}–{p.end} 字</div></div>')


def status_line(status: dict) -> str:
    return (f"资料库:{status['documents']} 份文档,{status['passages']} 个段落 · "
            f"索引版本 {esc(status['version'])} · 建于 {esc(str(status['built_at']))} · "
            f"向量模型 {esc(status['embedder'])}")


def document_view(cleaned: str, spans: Sequence[tuple[int, int]], focus: tuple[int, int] | None) -> str:
    """The cleaned document with the cited span(s) highlighted; the focused one gets an id to scroll to."""
    marks = sorted(set(spans) | ({focus} if focus else set()))
    out, pos = [], 0
    for a, b in marks:
        if a < pos:
            continue
        out.append(esc(cleaned[pos:a]))
        ident = ' id="qz-focus"' if focus == (a, b) else ""
        out.append(f'<mark class="qz-hl"{ident}>{esc(cleaned[a:b])}</mark>')
        pos = b
    out.append(esc(cleaned[pos:]))
    return f'<div class="qz-doc">{"".join(out)}</div>'


def original_view(original: str, removals: Sequence[dict], focus: tuple[int, int] | None, label) -> str:
    """The original file's text: removed spans struck through and labelled with their rule."""
    out, pos = [], 0
    cuts = sorted(removals, key=lambda r: r["start"])
    events = [(r["start"], r["end"], r["rule"]) for r in cuts]
    fa, fb = focus or (-1, -1)
    for a, b, rule in events:
        if a < pos:
            continue
        out.append(_focus_piece(original, pos, a, fa, fb))
        out.append(f'<del class="qz-del" title="{esc(label(rule))}">{esc(original[a:b])}'
                   f'<sup>{esc(label(rule))}</sup></del>')
        pos = b
    out.append(_focus_piece(original, pos, len(original), fa, fb))
    return f'<div class="qz-doc">{"".join(out)}</div>'


def _focus_piece(text: str, a: int, b: int, fa: int, fb: int) -> str:
    lo, hi = max(a, fa), min(b, fb)
    if lo >= hi:
        return esc(text[a:b])
    ident = ' id="qz-focus"' if lo == fa else ""
    return f'{esc(text[a:lo])}<mark class="qz-hl"{ident}>{esc(text[lo:hi])}</mark>{esc(text[hi:b])}'
