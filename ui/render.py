"""HTML for the web UI. Every text from documents or users goes through `esc` first.

Clickable elements carry `data-open="KIND:INT[:INT]"`; `ui/client.js` sends that
string to the server, which parses it strictly (`ui.viewer.parse_target`).
Only integers built here ever reach those attributes.
"""
from __future__ import annotations

import html
import re
from typing import Sequence

from assistant.answer import Answer, Citation
from index.lexical import tokenize

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~$-])")


def esc(text: str) -> str:
    return html.escape(text or "", quote=True)


# A web or mail address: the chat's Markdown would make it a link and show the backslashes that
# make its "-" and "_" literal. The characters of RFC 3986 (no quotes: an address ends at one, at
# a space or at any other character); closing ASCII punctuation after it ends a sentence.
_ADDRESS = re.compile(r"(?:(?:https?|ftp)://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=%]+"
                      r"|[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_ADDRESS_TAIL = ".,;:!?)]}"


def md_text(text: str) -> str:
    """Text shown inside Markdown (the chat bubbles): HTML-escaped, Markdown syntax made literal.
    A web or mail address is shown exactly as written, as code: not a link, no escapes."""
    out, pos = [], 0
    for m in _ADDRESS.finditer(text or ""):
        address = m.group().rstrip(_ADDRESS_TAIL)
        if address.count("(") > address.count(")") and m.group()[len(address):].startswith(")"):
            address += ")"  # "…/wiki/X_(y)": a bracket the address opened is its own
        out.append(esc(_MD_SPECIAL.sub(r"\\\1", text[pos:m.start()])))
        out.append(f"`{address}`")
        pos = m.start() + len(address)
    out.append(esc(_MD_SPECIAL.sub(r"\\\1", (text or "")[pos:])))
    return "".join(out)


def empty(text: str) -> str:
    return f'<div class="qz-empty">{esc(text)}</div>'


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
    """The chat bubble: the answer's points, each ending in its [n] marker."""
    if not ans.found:
        return md_text(ans.text)
    head = md_text(ans.text.split("\n\n")[len(ans.notes)])
    lines = [f"{i}. {md_text(text)} **\\[{n}\\]**" for i, (text, n) in enumerate(ans.points, 1)]
    return "\n\n".join([*map(md_text, ans.notes), head + "\n\n" + "\n".join(lines)])


def citation_cards(ans: Answer) -> str:
    if not ans.found:
        return empty("未找到相关内容,没有可引用的段落。")
    return "".join(citation_card(c, ans.query) for c in ans.citations)


def citation_card(c: Citation, query: str) -> str:
    p = c.hit.passage
    path = " · ".join(x for x in p.section.split(" / ") if x)
    date = f'<span class="qz-date">{esc(p.date)}</span>' if p.date else ""
    section = f'<div class="qz-section">{esc(path)}{date}</div>' if path or date else ""
    also = f'<div class="qz-also">该段在资料中重复出现 {len(p.also) + 1} 次</div>' if p.also else ""
    label_kind = {"高度相关": "high", "相关": "mid"}.get(c.label, "low")
    return (f'<div class="qz-card" data-pid="{int(p.id)}" data-open="p:{int(p.id)}" role="button" tabindex="0" '
            f'aria-label="在原文中核对第 {c.n} 条引用">'
            f'<div class="qz-head"><span class="qz-n">[{c.n}]</span><b class="qz-title">{esc(p.title)}</b>'
            f'<span class="qz-label qz-{label_kind}">{esc(c.label)}</span></div>{section}'
            f'<div class="qz-text">{highlight_terms(p.text, query)}</div>{also}'
            f'<div class="qz-src"><span>{esc(p.doc)} · 原文第 {p.start}–{p.end} 字</span>'
            f'<span class="qz-go">核对原文 ›</span></div></div>')


def built_time(stamp) -> str:
    """An index's build time as people read it: "2026-12-04 21:40 (UTC+8)" for
    "2026-12-04T21:40:55+0800" (anything unreadable as it is)."""
    import datetime as dt

    try:
        t = dt.datetime.strptime(str(stamp), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return str(stamp or "").replace("T", " ")
    minutes = int(t.utcoffset().total_seconds()) // 60
    hours, rest = divmod(abs(minutes), 60)
    zone = "UTC" + (("+" if minutes > 0 else "-") + f"{hours}" + (f":{rest:02d}" if rest else "") if minutes else "")
    return f"{t:%Y-%m-%d %H:%M} ({zone})"


def status_line(status: dict) -> str:
    built = built_time(status.get("built_at"))
    return (f'<div class="qz-status">资料库 <b>{status["documents"]}</b> 份文档、<b>{status["passages"]}</b> 个段落'
            f'<span class="qz-dot">·</span>建于 {esc(built)}<span class="qz-dot">·</span>'
            f'<span class="qz-hide-phone">索引 <code>{esc(status["index"])}</code></span>'
            f'(版本 {esc(status["version"])})<span class="qz-hide-phone"><span class="qz-dot">·</span>'
            f'向量模型 {esc(status["embedder"])}</span></div>')


LIBRARY_PAGE = 20  # rows per page of the library; ui/client.js pages, searches and sorts them


def _library_row(i: int, r: dict) -> str:
    share = r["removed_chars"] / r["chars"] if r["chars"] else 0.0
    date, issuer = r.get("date") or "", r.get("issuer") or ""
    find = " ".join((r["title"], r["doc"], issuer)).lower()
    return (f'<tr data-find="{esc(find)}" data-date="{esc(date)}" data-chars="{int(r["chars"])}" data-n="{i}">'
            f'<td class="qz-lt" data-label="标题"><b>{esc(r["title"])}</b>'
            f'<div class="qz-lid">{esc(r["doc"])}</div>'
            + (f'<div class="qz-lmeta">{esc(issuer)}</div>' if issuer else "") +
            f'</td><td data-label="日期">{esc(date) or "—"}</td>'
            f'<td data-label="原文字数">{r["chars"]:,}</td><td data-label="段落数">{r["passages"]}</td>'
            f'<td data-label="清洗删除">{r["removed_chars"]:,} 字({share:.0%})</td>'
            f'<td class="qz-actions"><button class="qz-btn" data-open="d:{i}">原文核对</button>'
            f'<button class="qz-btn qz-btn2" data-open="r:{i}">清洗报告</button></td></tr>')


def library_table(rows: Sequence[dict]) -> str:
    """The document list; row i opens the session's i-th document (`d:i`), its report (`r:i`).

    A search box, a sort menu and a pager sit around it; ui/client.js applies
    them in the page (every row is in the HTML, so without script all show).
    """
    if not rows:
        return empty("资料库为空:请先运行 qunzhong ingest 建立索引。")
    body = "".join(_library_row(i, r) for i, r in enumerate(rows))
    bar = ('<div class="qz-libbar"><input type="search" class="qz-libq" placeholder="按标题、文件名或发布机关搜索"'
           ' aria-label="搜索资料库">'
           '<select class="qz-libsort" aria-label="排序"><option value="n">默认顺序</option>'
           '<option value="title">按标题</option><option value="date">按日期(新→旧)</option>'
           '<option value="size">按字数(多→少)</option></select>'
           f'<span class="qz-libcount">共 {len(rows)} 份</span></div>')
    head = "<tr><th>标题 / 文档</th><th>日期</th><th>原文字数</th><th>段落数</th><th>清洗删除</th><th>操作</th></tr>"
    pager = ('<div class="qz-pager"><button class="qz-btn qz-btn2" data-page="-1">上一页</button>'
             '<span class="qz-pageinfo"></span><button class="qz-btn qz-btn2" data-page="1">下一页</button></div>')
    return (f'<div class="qz-libwrap" data-size="{LIBRARY_PAGE}">{bar}<table class="qz-lib"><thead>{head}</thead>'
            f'<tbody>{body}</tbody></table><div class="qz-libnone" hidden></div>{pager}</div>')


def report_html(rep: dict, label) -> str:
    """The cleaning report of one document: each rule with its removed spans."""
    rows = []
    for rule, spans in rep["removed"].items():
        items = "".join(f'<li><code>{s["start"]}–{s["end"]}</code> <del>{esc(_visible(s["text"])[:200])}</del></li>'
                        for s in spans[:200])
        more = f"<li>……另有 {len(spans) - 200} 处</li>" if len(spans) > 200 else ""
        rows.append(f'<details><summary><b>{esc(label(rule))}</b> <code>{esc(rule)}</code>:'
                    f'{len(spans)} 处,{rep["rules"][rule]["chars"]} 字</summary><ul>{items}{more}</ul></details>')
    return (f'<div class="qz-report" id="qz-report-top"><h4>清洗报告:{esc(rep["title"])}</h4>'
            f'<p>原文 {rep["chars"]:,} 字,保留 {rep["kept"]:,} 字,删除 {rep["removed_chars"]:,} 字;'
            f'切分为 {rep["passages"]} 个段落。</p>' + ("".join(rows) or "<p>清洗未删除任何内容。</p>") + "</div>")


def _visible(text: str) -> str:
    """Whitespace made visible, so a removed line break or space can be seen in a report."""
    return text.replace("\n", "↵").replace("\t", "⇥").replace(" ", "␣").replace("\u3000", "␣")
