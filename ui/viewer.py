"""原文核对: one indexed document, the cited passage highlighted, cleaned text or original file.

Nothing from the browser names a file: the page sends small integers (a passage id,
a location number, a row of the document list this session was shown), and each is
checked against the index the server has loaded.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import gradio as gr

from assistant.reports import rule_label
from assistant.service import Assistant
from index.schema import Location, Passage
from ui import render
from ui.notify import warn
from ui.render import esc
from ui.render_doc import Mark, document_view, legend

CLEANED, ORIGINAL = "清洗后文本", "原文(标出清洗删除的内容)"
_TARGET = re.compile(r"([pard]):([0-9]{1,9})(?::([0-9]{1,4}))?(?:#[0-9]{0,20})?")
SCROLL_JS = "(what) => { if (window.qzScroll) window.qzScroll(what || ''); }"
FOCUS_INPUT_JS = "() => { setTimeout(() => { const box = document.querySelector('#qz-input textarea'); if (box) box.focus(); }, 50); }"
NOTHING = render.empty("尚未选择文档:在“问答”中点击一条引用,或在上方选择一份文档。")


@dataclass(frozen=True)
class Target:
    kind: str  # p: passage, a: another location of a passage, d: document row, r: report of a row
    num: int
    sub: int = 0


def parse_target(raw) -> Target | None:
    """`p:12`, `a:12:1`, `d:3`, `r:3`, optionally followed by `#nonce`; anything else is None."""
    m = _TARGET.fullmatch(raw) if isinstance(raw, str) else None
    if not m:
        return None
    return Target(m.group(1), int(m.group(2)), int(m.group(3) or 0))


def locations(p: Passage) -> list[Location]:
    """Where the passage's text occurs: its own place first, then the repeats."""
    return [Location(p.doc, p.clean_start, p.clean_end, p.start, p.end, p.section), *p.also]


def viewer_page() -> dict:
    with gr.Row(elem_id="qz-viewer-top"):
        doc = gr.Dropdown(label="文档", choices=[], elem_id="qz-doc", scale=3, min_width=240)
        mode = gr.Radio([CLEANED, ORIGINAL], value=CLEANED, label="显示", elem_id="qz-mode", scale=2,
                        min_width=240)
    info = gr.HTML("", elem_id="qz-info", js_on_load=None)
    body = gr.HTML(NOTHING, elem_id="qz-viewer", js_on_load=None)
    back = gr.Button("← 返回问答", size="sm", elem_id="qz-back")
    focus = gr.State({})
    return {"doc": doc, "mode": mode, "info": info, "body": body, "focus": focus, "back": back}


def wire_viewer(assistant: Assistant, viewer: dict, shown: gr.State, tabs) -> None:
    def pick(i, mode, shown):
        focus = doc_focus(assistant, shown, i)
        return (*render_focus(assistant, focus, mode), focus)

    def remode(mode, focus):
        return render_focus(assistant, focus, mode)

    v = viewer
    v["doc"].input(pick, [v["doc"], v["mode"], shown], [v["info"], v["body"], v["focus"]],
                   api_visibility="private").then(None, js=SCROLL_JS)
    v["mode"].change(remode, [v["mode"], v["focus"]], [v["info"], v["body"]],
                     api_visibility="private").then(None, js=SCROLL_JS)
    v["back"].click(lambda: gr.Tabs(selected="chat"), None, tabs, api_visibility="private").then(
        None, js=FOCUS_INPUT_JS)  # a keyboard user goes on typing where they left off


UPDATED = "资料库已更新,请重新提问。"
# The page still shows a chat the server no longer holds: it restarted, or dropped the session
# after 200 newer ones (ui.app.SESSIONS).
EXPIRED = "会话已过期(服务器已重启或本页闲置太久),页面上的回答已无法核对或评价:请重新提问。"


def passage_focus(assistant: Assistant, pid: int, loc: int = 0, version: str | None = None) -> dict:
    """The viewer's focus on passage `pid` of index `version` (the version the clicked card or
    button was shown from): a passage id means nothing in another version, so none is opened."""
    r = assistant.retriever()
    if not version:
        warn(EXPIRED)
        return {}
    if version != r.data.version:
        warn(UPDATED)
        return {}
    p = Assistant.passage(r, pid)
    if p is None or not 0 <= loc < len(locations(p)):
        warn("该引用不在当前资料库中,请重新提问。")
        return {}
    return {"pid": pid, "loc": loc, "doc": locations(p)[loc].doc, "version": r.data.version}


def doc_focus(assistant: Assistant, shown: dict, i) -> dict:
    docs = (shown or {}).get("docs", [])
    if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(docs):
        warn("请选择资料库中的文档。")
        return {}
    return {"doc": docs[i], "version": assistant.retriever().data.version}


def render_focus(assistant: Assistant, focus: dict, mode: str) -> tuple[str, str]:
    """The viewer's header and body for `focus`, from the index as loaded now."""
    if not focus:
        return "", NOTHING
    r = assistant.retriever()
    rec = r.data.documents.get(focus["doc"])
    if rec is None:  # only indexed documents can be opened
        warn("该文档已不在当前资料库中。")
        return "", render.empty("该文档不在当前资料库中。")
    notice, p = "", None
    if focus.get("pid") is not None:
        if focus.get("version") == r.data.version:
            p = Assistant.passage(r, focus["pid"])
        else:
            notice = '<div class="qz-notice">资料库已更新,原引用位置可能已变化:请重新提问后再核对。</div>'
    locs = locations(p) if p else []
    here = [(k, loc) for k, loc in enumerate(locs) if loc.doc == rec.doc]
    original = mode == ORIGINAL
    marks = [Mark(loc.start if original else loc.clean_start, loc.end if original else loc.clean_end,
                  "qz-focus" if k == focus.get("loc", 0) else f"qz-loc-{k}", k == focus.get("loc", 0))
             for k, loc in here]
    if original:
        body = legend(rec.removals, rule_label) + document_view(rec.original, marks, rec.removals, rule_label)
    else:
        body = document_view(rec.cleaned, marks)
    return _header(rec, p, locs, focus.get("loc", 0), original) + notice, body


def _header(rec, p: Passage | None, locs: list[Location], current: int, original: bool) -> str:
    removed = sum(r["end"] - r["start"] for r in rec.removals)
    out = [f'<div class="qz-vhead"><h3>{esc(rec.title)}</h3>',
           f'<div class="qz-meta">{esc(rec.doc)} · 原文 {len(rec.original):,} 字 · 清洗删除 {removed:,} 字 · '
           f'{rec.passages} 个段落</div>']
    if p is not None:
        loc = locs[current]
        where = f"原文第 {loc.start}–{loc.end} 字" if original else f"清洗后第 {loc.clean_start}–{loc.clean_end} 字"
        section = f"{esc(loc.section)} · " if loc.section else ""
        out.append(f'<div class="qz-cited">引用段落:{section}{where}(黄色高亮)</div>')
    if len(locs) > 1:
        buttons = "".join(
            f'<button class="qz-btn{" qz-on" if k == current else ""}" data-open="a:{int(p.id)}:{k}">'
            f'第 {k + 1} 处{"" if loc.doc == rec.doc else " · " + esc(loc.doc)}</button>'
            for k, loc in enumerate(locs))
        out.append(f'<div class="qz-locs">该段在资料中重复出现 {len(locs)} 处:{buttons}</div>')
    return "".join(out) + "</div>"
