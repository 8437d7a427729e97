"""The Gradio web UI (Chinese): chat with cited answers, source viewer, library, feedback."""
from __future__ import annotations

import logging
import os
from pathlib import Path

import gradio as gr

from assistant import paths
from assistant.feedback import record_feedback
from assistant.reports import cleaning_report, rule_label
from assistant.service import Assistant
from index.errors import QunzhongError
from ui import render

log = logging.getLogger(__name__)

EXAMPLES = [
    "遇到情绪激动的上访群众应该怎么接待?",
    "怎样才能把上访问题解决在萌芽阶段、解决在基层?",
    "干部的工作作风和群众工作成效有什么关系?",
    "How should I handle an emotionally agitated petitioner?",
]
CSS = (Path(__file__).parent / "style.css").read_text(encoding="utf-8")
SCROLL_JS = "() => { const el = document.getElementById('qz-focus'); if (el) el.scrollIntoView({block: 'center'}); }"


def _status(assistant: Assistant) -> str:
    try:
        return render.status_line(assistant.status())
    except QunzhongError as exc:
        return f"⚠️ {render.esc(str(exc))}"


def build_app(assistant: Assistant) -> gr.Blocks:
    with gr.Blocks(title="群众工作助手") as app:
        gr.Markdown("# 群众工作助手\n面向群众工作与信访工作培训:回答均摘自资料原文,每一点都标注出处,可点开核对。")
        with gr.Tabs() as tabs:
            with gr.Tab("问答", id="chat"):
                chat = _chat_page(assistant)
            with gr.Tab("原文核对", id="viewer"):
                viewer = _viewer_page(assistant)
            with gr.Tab("资料库", id="library"):
                _library_page(assistant)
        _wire_open_source(assistant, chat, viewer, tabs)
        _api(assistant)
    return app


def _chat_page(assistant: Assistant) -> dict:
    status = gr.Markdown(_status(assistant), elem_id="qz-status")
    chatbot = gr.Chatbot(label="对话", height=460, elem_id="qz-chat", sanitize_html=True,
                         buttons=["copy"], feedback_options=None)
    turns = gr.State([])
    last = gr.State({})
    with gr.Row():
        msg = gr.Textbox(placeholder="请输入问题,例如:遇到情绪激动的上访群众应该怎么接待?", show_label=False,
                         scale=5, elem_id="qz-input", max_length=2000)
        send = gr.Button("发送", variant="primary", scale=1, elem_id="qz-send")
    gr.Examples(EXAMPLES, inputs=msg, label="示例问题")
    with gr.Row():
        new = gr.Button("新对话", size="sm", elem_id="qz-new")
        up = gr.Button("👍 有帮助", size="sm", elem_id="qz-up")
        down = gr.Button("👎 没帮助", size="sm", elem_id="qz-down")
        comment = gr.Textbox(placeholder="意见(可选)", show_label=False, scale=3, elem_id="qz-comment")
    thanks = gr.Markdown("")
    gr.Markdown("### 引用来源")
    sources = gr.HTML('<div class="qz-empty">提问后,这里列出回答引用的原文段落。</div>', elem_id="qz-sources")
    pick = gr.Dropdown(label="在原文中核对第几条引用", choices=[], interactive=True, elem_id="qz-pick")

    def respond(message, history, turns):
        history = list(history or [])
        try:
            ans = assistant.ask(message, history=turns)
        except QunzhongError as exc:
            gr.Warning(str(exc))
            return gr.update(), history, gr.update(), turns, gr.update(), gr.update(), _status(assistant)
        history += [{"role": "user", "content": render.esc(message)},
                    {"role": "assistant", "content": render.answer_markdown(ans)}]
        choices = [(f"[{c.n}] {c.hit.passage.title[:24]} · {c.hit.passage.section[:24]}", c.hit.passage.id)
                   for c in ans.citations]
        record = {"question": ans.query, "history": list(turns), "answer": ans.text,
                  "passage_ids": [c.hit.passage.id for c in ans.citations]}
        return ("", history, render.citation_cards(ans), turns + [ans.query], record,
                gr.update(choices=choices, value=None), _status(assistant))

    outputs = [msg, chatbot, sources, turns, last, pick, status]
    msg.submit(respond, [msg, chatbot, turns], outputs, api_visibility="private")
    send.click(respond, [msg, chatbot, turns], outputs, api_visibility="private")
    new.click(lambda: ([], [], {}, '<div class="qz-empty">新对话已开始。</div>', gr.update(choices=[], value=None), ""),
              None, [chatbot, turns, last, sources, pick, thanks], api_visibility="private")

    def vote(rating):
        def fn(record, text):
            if not record:
                gr.Warning("请先提问,再评价回答。")
                return gr.update(), text
            record_feedback(paths.feedback_path(), rating=rating, comment=text, **record,
                            index_version=_version(assistant))
            return "已记录反馈,谢谢!", ""
        return fn

    up.click(vote("up"), [last, comment], [thanks, comment], api_visibility="private")
    down.click(vote("down"), [last, comment], [thanks, comment], api_visibility="private")
    return {"pick": pick}


def _version(assistant: Assistant) -> str:
    try:
        return assistant.status()["version"]
    except QunzhongError:
        return ""


def _viewer_page(assistant: Assistant) -> dict:
    gr.Markdown("选择一条引用或一份文档:左侧高亮显示被引用的段落;切换到“原文”可看到清洗前的文件内容,"
                "被删除的部分以删除线标出并注明原因。")
    with gr.Row():
        doc = gr.Dropdown(label="文档", choices=_doc_choices(assistant), elem_id="qz-doc")
        mode = gr.Radio(["清洗后文本", "原文"], value="清洗后文本", label="显示", elem_id="qz-mode")
    info = gr.Markdown("")
    body = gr.HTML('<div class="qz-empty">尚未选择文档。</div>', elem_id="qz-viewer")
    focus = gr.State(None)

    def show(doc_id, mode, focus):
        return _render_doc(assistant, doc_id, mode, focus)

    doc.change(lambda d, m: _render_doc(assistant, d, m, None) + (None,), [doc, mode], [info, body, focus],
               api_visibility="private").then(None, js=SCROLL_JS)
    mode.change(show, [doc, mode, focus], [info, body], api_visibility="private").then(None, js=SCROLL_JS)
    return {"doc": doc, "mode": mode, "info": info, "body": body, "focus": focus}


def _doc_choices(assistant: Assistant) -> list[tuple[str, str]]:
    try:
        return [(f"{rec.title} ({doc})", doc) for doc, rec in sorted(assistant.documents().items())]
    except QunzhongError:
        return []


def _render_doc(assistant: Assistant, doc_id, mode, focus) -> tuple[str, str]:
    if not doc_id:
        return "", '<div class="qz-empty">尚未选择文档。</div>'
    docs = assistant.documents()
    rec = docs.get(doc_id)
    if rec is None:  # only indexed documents can be opened; nothing from the browser is a path
        return "", '<div class="qz-empty">该文档不在当前索引中。</div>'
    passages = [p for p in assistant.retriever().passages if p.doc == doc_id]
    info = f"**{render.esc(rec.title)}** · {len(passages)} 个段落 · 原文 {len(rec.original)} 字,清洗删除 " \
           f"{len(rec.original) - len(rec.cleaned)} 字"
    if focus and focus.get("also"):
        info += f" · 该段另在 {len(focus['also'])} 处重复出现"
    if mode == "原文":
        span = (focus["start"], focus["end"]) if focus else None
        return info, render.original_view(rec.original, rec.removals, span, rule_label)
    span = (focus["clean_start"], focus["clean_end"]) if focus else None
    extra = [(a["clean_start"], a["clean_end"]) for a in (focus or {}).get("also", []) if a["doc"] == doc_id]
    return info, render.document_view(rec.cleaned, extra, span)


def _wire_open_source(assistant: Assistant, chat: dict, viewer: dict, tabs) -> None:
    def open_passage(pid, mode):
        if pid is None:
            return gr.update(), gr.update(), gr.update(), gr.update(), gr.update()
        passages = assistant.retriever().passages
        if not isinstance(pid, int) or not 0 <= pid < len(passages):
            gr.Warning("该引用已不在当前索引中,请重新提问。")
            return gr.update(), gr.update(), gr.update(), gr.update(), gr.update()
        p = passages[pid]
        focus = {"start": p.start, "end": p.end, "clean_start": p.clean_start, "clean_end": p.clean_end,
                 "also": [loc.__dict__ for loc in p.also]}
        info, body = _render_doc(assistant, p.doc, mode, focus)
        return gr.update(value=p.doc), info, body, focus, gr.Tabs(selected="viewer")

    chat["pick"].change(open_passage, [chat["pick"], viewer["mode"]],
                        [viewer["doc"], viewer["info"], viewer["body"], viewer["focus"], tabs],
                        api_visibility="private").then(None, js=SCROLL_JS)


def _library_page(assistant: Assistant) -> None:
    gr.Markdown("资料库中已索引的文档。“清洗报告”列出清洗时删除的内容及原因,供培训老师核查。")
    table = gr.Dataframe(headers=["文档", "标题", "原文字数", "段落数", "清洗删除字数"], interactive=False,
                         value=_library_rows(assistant), elem_id="qz-library")
    doc = gr.Dropdown(label="查看清洗报告", choices=_doc_choices(assistant), elem_id="qz-report-doc")
    report = gr.HTML("", elem_id="qz-report")
    refresh = gr.Button("刷新", size="sm")
    doc.change(lambda d: _report_html(assistant, d), doc, report, api_visibility="private")
    refresh.click(lambda: (_library_rows(assistant), gr.update(choices=_doc_choices(assistant))), None,
                  [table, doc], api_visibility="private")


def _library_rows(assistant: Assistant) -> list[list]:
    try:
        docs = assistant.documents()
    except QunzhongError:
        return []
    return [[doc, rec.title, len(rec.original), rec.passages, len(rec.original) - len(rec.cleaned)]
            for doc, rec in sorted(docs.items())]


def _report_html(assistant: Assistant, doc_id) -> str:
    rec = assistant.documents().get(doc_id or "")
    if rec is None:
        return ""
    rep = cleaning_report(rec)
    rows = []
    for rule, spans in rep["removed"].items():
        items = "".join(f"<li><code>{s['start']}–{s['end']}</code> {render.esc(s['text'][:200])}</li>" for s in spans)
        rows.append(f"<details><summary>{render.esc(rule_label(rule))}({render.esc(rule)}):"
                    f"{len(spans)} 处,{rep['rules'][rule]['chars']} 字</summary><ul>{items}</ul></details>")
    return (f'<div class="qz-report"><p>保留 {rep["kept"]} / {rep["chars"]} 字,删除 {rep["removed_chars"]} 字。</p>'
            + "".join(rows) + "</div>")


def _api(assistant: Assistant) -> None:
    """Endpoints for scripts and gradio_client (no browser state needed)."""

    def chat(question: str, history: list[str] | None = None) -> dict:
        """Ask a question; `history` lists the earlier user turns. Returns the answer and citations."""
        try:
            return assistant.ask(question, history=history or []).to_dict()
        except QunzhongError as exc:
            return {"error": str(exc)}

    def feedback(question: str, answer: str, rating: str, passage_ids: list[int] | None = None,
                 history: list[str] | None = None, comment: str = "") -> dict:
        """Record 👍 ("up") or 👎 ("down") on an answer."""
        try:
            return record_feedback(paths.feedback_path(), rating=rating, question=question, history=history or [],
                                   answer=answer, passage_ids=passage_ids or [], comment=comment,
                                   index_version=_version(assistant))
        except QunzhongError as exc:
            return {"error": str(exc)}

    gr.api(chat, api_name="chat")
    gr.api(feedback, api_name="feedback")


def _auth(auth: str | None):
    auth = auth or os.environ.get("QUNZHONG_AUTH")
    if not auth:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise QunzhongError("--auth must look like USER:PASS")
    return [(user, password)]


def serve(index_dir, host: str = "127.0.0.1", port: int = 7860, auth: str | None = None,
          prevent_thread_lock: bool = False):
    assistant = Assistant(index_dir)
    assistant.retriever()  # load model and index before the first visitor; fails loudly here
    app = build_app(assistant)
    app.queue(default_concurrency_limit=8)
    app.launch(server_name=host, server_port=port, auth=_auth(auth), css=CSS, show_error=False,
               prevent_thread_lock=prevent_thread_lock, footer_links=["api"], theme=gr.themes.Soft())
    return app
