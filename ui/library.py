"""资料库: the indexed documents, each openable in the source viewer, with its cleaning report."""
from __future__ import annotations

import gradio as gr

from assistant.reports import cleaning_report, document_summary, rule_label
from assistant.retrieval import Retriever
from assistant.service import Assistant
from ui import render
from ui.notify import warn


def library_page() -> dict:
    gr.HTML('<p class="qz-intro">资料库中已建立索引的文档。“原文核对”打开全文;“清洗报告”列出清洗时删除的内容及原因,'
            "供培训老师核查。</p>", js_on_load=None)
    table = gr.HTML(render.empty("正在读取资料库……"), elem_id="qz-library", js_on_load=None)
    refresh = gr.Button("刷新", size="sm", elem_id="qz-refresh")
    report = gr.HTML("", elem_id="qz-report", js_on_load=None)
    return {"table": table, "refresh": refresh, "report": report}


def library_view(r: Retriever) -> tuple[dict, str, list[tuple[str, int]]]:
    """What one browser session is shown: (state, table, dropdown choices), all from one snapshot.

    The page refers to documents by row number only; rows map back to documents through
    the state, which stays on the server."""
    ids = sorted(r.data.documents)
    recs = [r.data.documents[d] for d in ids]
    shown = {"version": r.data.version, "docs": ids}
    choices = [(f"{rec.title}({rec.doc})", i) for i, rec in enumerate(recs)]
    return shown, render.library_table([document_summary(rec) for rec in recs]), choices


def report_for(assistant: Assistant, shown: dict, i: int) -> str:
    docs = (shown or {}).get("docs", [])
    rec = assistant.documents().get(docs[i]) if 0 <= i < len(docs) else None
    if rec is None:
        warn("该文档不在当前资料库中,请点“刷新”。")
        return ""
    return render.report_html(cleaning_report(rec), rule_label)
