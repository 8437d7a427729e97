"""问答: multi-turn chat, citation cards that open the source viewer, 👍/👎 feedback per answer."""
from __future__ import annotations

import logging

import gradio as gr

from assistant import paths
from assistant.feedback import MAX_TEXT, new_answer_id, record_feedback, withdraw_feedback
from assistant.generate import Reply, stream_reply
from assistant.service import Assistant, redact_paths
from index.errors import QunzhongError
from ui import render
from ui.notify import info, warn
from ui.viewer import EXPIRED

log = logging.getLogger(__name__)

EXAMPLES = [
    "遇到情绪激动的上访群众应该怎么接待?",
    "怎样才能把上访问题解决在萌芽阶段、解决在基层?",
    "干部的工作作风和群众工作成效有什么关系?",
    "How should I handle an emotionally agitated petitioner?",
]
WAITING = "正在检索资料……"
PLACEHOLDER = ("**请在下方输入问题**,或点击下方的示例问题。\n\n回答的每一点都以 [1]、[2] 标出出处,"
               "对应“引用来源”中的卡片;点击卡片即可在原文中核对。")
SOURCES_EMPTY = render.empty("提问后,这里列出回答引用的原文段落;点击卡片可在原文中核对。")
MAX_INPUT = MAX_TEXT  # characters the question and comment boxes take; the browser drops the rest of a paste
# A question asked under a chat the server no longer holds (see ui.viewer.EXPIRED).
FORGOTTEN = "会话已过期(服务器已重启或本页闲置太久):这个问题按新对话回答,不接着上面的对话;之前的回答已无法核对或评价。"
NOT_SAVED = "反馈未能保存:服务器无法写入反馈记录,请告知管理员(详情已记入服务器日志)。"


def chat_page() -> dict:
    status = gr.HTML("", elem_id="qz-status", js_on_load=None)
    with gr.Row(equal_height=False, elem_id="qz-chat-row"):
        with gr.Column(scale=3, min_width=320):
            chatbot = gr.Chatbot(label="对话", height=None, min_height=220, max_height="68vh", elem_id="qz-chat",
                                 sanitize_html=True, latex_delimiters=[], allow_tags=False, buttons=[],
                                 feedback_options=("Like", "Dislike"), placeholder=PLACEHOLDER)
            with gr.Row(elem_id="qz-ask-row"):
                msg = gr.Textbox(placeholder=f"请输入问题(最多 {MAX_INPUT} 字),例如:遇到情绪激动的上访群众应该怎么接待?",
                                 show_label=False, scale=5, min_width=180, elem_id="qz-input", max_length=MAX_INPUT,
                                 submit_btn=False)
                send = gr.Button("发送", variant="primary", scale=1, min_width=72, elem_id="qz-send")
            with gr.Row(elem_id="qz-tools-row"):
                comment = gr.Textbox(placeholder=f"意见(可选,最多 {MAX_INPUT} 字),点回答下的“赞/踩”时提交",
                                     show_label=False, scale=4, min_width=180, elem_id="qz-comment",
                                     max_length=MAX_INPUT)
                new = gr.Button("新对话", size="sm", scale=1, min_width=72, elem_id="qz-new")
        with gr.Column(scale=2, min_width=300, elem_id="qz-sources-col"):
            gr.HTML('<h3 class="qz-h">引用来源</h3><div class="qz-hint">点击卡片,在“原文核对”中查看该段落在原文中的位置。'
                    "</div>", js_on_load=None, elem_id="qz-sources-head")
            sources = gr.HTML(SOURCES_EMPTY, elem_id="qz-sources", js_on_load=None)
    gr.Examples(EXAMPLES, inputs=msg, label="示例问题(点击填入输入框)", examples_per_page=8)
    return {"status": status, "chatbot": chatbot, "msg": msg, "send": send, "comment": comment, "new": new,
            "sources": sources, "turns": gr.State([]), "records": gr.State({}),
            "cited": gr.State("")}  # the index version the shown citation cards come from


def wire_chat(assistant: Assistant, c: dict, llm=None):
    """Wire the chat page; returns the answer events so the app can chain a refresh after them.
    With `llm` (an assistant.generate.LLMConfig) answers are written by the model and checked."""

    def respond(message, history, turns, records):
        history = list(history or [])
        if not (message or "").strip():
            warn("请输入问题。")
            yield gr.update(), history, gr.update(), turns, records, gr.update(), gr.update()
            return
        if history and not records:  # every answer shown has a record: the server lost this session
            info(FORGOTTEN)
        chat = history + [{"role": "user", "content": render.md_text(message)},
                          {"role": "assistant", "content": WAITING}]
        yield "", chat, render.empty(WAITING), turns, records, gr.update(), ""
        try:
            r = assistant.retriever()
            long_question_notice(message, r.settings.max_query_chars)
            if llm is None:
                shown = extractive(assistant.ask(message, history=turns, retriever=r))
            else:
                for event in stream_reply(r, llm, message, turns):
                    if isinstance(event, Reply):
                        shown = generated(event)
                        break
                    chat[-1] = {"role": "assistant", "content": streaming_markdown(event.text)}
                    yield gr.update(), chat, gr.update(), turns, records, gr.update(), gr.update()
            status = render.status_line(assistant.status(r))
        except Exception as exc:  # the edge: a one-line warning, the page stays usable
            if not isinstance(exc, QunzhongError):
                log.exception("answering %r failed", message)
            warn(redact_paths(str(exc)) if isinstance(exc, QunzhongError)
                 else "出错了,未能回答这个问题;详情已记入服务器日志。")
            yield message, history, SOURCES_EMPTY, turns, records, gr.update(), ""
            return
        markdown, cards, record = shown
        chat[-1] = {"role": "assistant", "content": markdown}
        # Its own answer id: another trainee who gets the same text votes on another answer.
        record = {**record, "history": list(turns), "index_version": r.data.version, "answer_key": new_answer_id()}
        records = {**records, str(len(chat) - 1): record}
        # Only a question that found something is context for the next: after "今天天气怎么样"
        # (not found), "接待群众" is judged on its own, as in a new chat.
        turns = turns + [record["question"]] if record["passage_ids"] else turns
        yield "", chat, cards, turns, records, status, r.data.version

    def vote(records, comment, evt: gr.LikeData):
        """👍/👎 on an answer; the same button clicked again takes the vote back (Gradio then sends
        `liked` as neither True nor False), which is recorded too."""
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        record = (records or {}).get(str(index))
        withdrawn = evt.liked not in (True, False)
        if record is None and withdrawn:
            info("已取消评价。")
            return gr.update()
        if record is None:
            warn(EXPIRED if not records else "这条消息无法评价:请评价资料库给出的回答。")
            return gr.update()
        try:
            if withdrawn:
                withdraw_feedback(paths.feedback_path(), **record)
            else:
                record_feedback(paths.feedback_path(), rating="up" if evt.liked else "down",
                                comment=comment or "", keep_comment=True, **record)
        except QunzhongError as exc:
            log.warning("feedback not saved: %s", exc)
            warn(f"反馈未能保存:{redact_paths(str(exc))}")
            return gr.update()
        except OSError:
            log.exception("feedback not saved")
            warn(NOT_SAVED)
            return gr.update()
        if withdrawn:
            info("已取消评价。")
            return gr.update()
        info("已记录反馈,谢谢!" if len(comment or "") < MAX_INPUT else
             f"已记录反馈,谢谢!意见框最多接收 {MAX_INPUT} 字,超出部分未能输入。")
        return ""

    def clear():
        return [], [], {}, render.empty("新对话已开始。"), "", ""

    inputs = [c["msg"], c["chatbot"], c["turns"], c["records"]]
    outputs = [c["msg"], c["chatbot"], c["sources"], c["turns"], c["records"], c["status"], c["cited"]]
    asked = [c["msg"].submit(respond, inputs, outputs, api_visibility="private"),
             c["send"].click(respond, inputs, outputs, api_visibility="private")]
    resets = [c["chatbot"], c["turns"], c["records"], c["sources"], c["comment"], c["cited"]]
    c["new"].click(clear, None, resets, api_visibility="private")
    c["chatbot"].clear(clear, None, resets, api_visibility="private")
    c["chatbot"].like(vote, [c["records"], c["comment"]], c["comment"], api_visibility="private")
    return asked


STREAMING = "*正在生成回答(尚未核对出处)……*"


def long_question_notice(message: str, used: int) -> None:
    """Say so when a question was cut: by the input box (a paste beyond MAX_INPUT arrives cut to
    it, silently) or by retrieval, which reads its first and last `used // 2` characters
    (max_query_chars)."""
    part = f"开头和结尾各 {used // 2} 字" if used > 1 else f"前 {used} 字"
    if len(message) >= MAX_INPUT:
        info(f"输入框最多接收 {MAX_INPUT} 字,超出部分未能输入;检索只使用问题的{part}。")
    elif len(message.strip()) > used:
        info(f"问题较长:检索只使用{part}。")


def extractive(ans) -> tuple[str, str, dict]:
    """(chat markdown, citation cards, feedback record) of an extractive answer."""
    record = {"question": ans.query, "answer": ans.text, "passage_ids": [c.hit.passage.id for c in ans.citations]}
    return render.answer_markdown(ans), render.citation_cards(ans), record


def generated(reply: Reply) -> tuple[str, str, dict]:
    """The same for a generated answer, with what the citation check struck."""
    ans = reply.base
    record = {"question": ans.query, "answer": reply.text, "passage_ids": [c.hit.passage.id for c in ans.citations],
              "generated": reply.generated, "model": reply.model, "struck": [s.claim for s in reply.struck]}
    return reply_markdown(reply), reply_cards(reply), record


def streaming_markdown(text: str) -> str:
    """The bubble while the model writes: its text so far, marked as not yet checked."""
    return f"{STREAMING}\n\n{render.md_text(text)}"


def reply_markdown(reply: Reply) -> str:
    """The checked bubble: supported sentences with their [n]; the rest struck and marked 未核实."""
    if not reply.generated:
        body = render.answer_markdown(reply.base)
        return f"{render.md_text(reply.notice)}\n\n{body}" if reply.notice else body
    parts = []
    for s in reply.sentences:
        if s.ok:
            parts.append(render.md_text(s.claim) + "".join(f" **\\[{n}\\]**" for n in s.supported_by))
        else:
            parts.append(f"~~{render.md_text(s.claim)}~~ *(未核实:{render.md_text(s.reason)})*")
    head = f"*由语言模型 {render.md_text(reply.model)} 根据资料生成,每句已与所引段落核对。*"
    return "\n\n".join([head, *map(render.md_text, reply.base.notes), *parts])


def reply_cards(reply: Reply) -> str:
    """Citation cards; for a generated answer each card lists the sentences its passage supports."""
    if not reply.generated:
        return render.citation_cards(reply.base)
    out = []
    for c in reply.base.citations:
        claims = reply.supports(c.n)
        items = "".join(f"<li>{render.esc(t)}</li>" for t in claims) or "<li>(回答中没有句子以此段为依据)</li>"
        out.append(render.citation_card(c, reply.base.query)
                   + f'<div class="qz-supports" data-n="{int(c.n)}"><b>[{int(c.n)}] 支持的句子:</b><ul>{items}</ul></div>')
    return "".join(out)
